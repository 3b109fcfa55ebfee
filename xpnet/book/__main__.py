"""``python -m xpnet.book SCRIPT [ARGS...]``: the same as ``xpnet-book``."""
import sys

from .runner import main

sys.exit(main())
