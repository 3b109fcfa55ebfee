"""``python -m xpnet.doctor``: the same as ``xpnet doctor`` (see xpnet/cli/doctor.py)."""
import sys

from .cli.doctor import main

if __name__ == "__main__":
    sys.exit(main())
