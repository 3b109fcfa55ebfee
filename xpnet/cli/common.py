"""What the commands share: one-line xpnet errors (their argument parser is in ``parser``)."""
import os
import sys

from ..errors import XpnetError


def run(prog, command, *args):
    """``command(*args)``'s exit code; an XpnetError is printed as one line and gives 1.

    XPNET_TRACEBACK=1 shows the full traceback instead.
    """
    try:
        return command(*args)
    except XpnetError as e:
        if os.environ.get("XPNET_TRACEBACK"):
            raise
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
