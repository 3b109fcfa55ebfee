"""What the commands share: one-line argument errors, and one-line xpnet errors."""
import argparse
import os
import sys

from ..errors import XpnetError


class Parser(argparse.ArgumentParser):
    """An ArgumentParser with one-line errors (not usage + error) and defaults in its help."""

    def __init__(self, **kwargs):
        super().__init__(formatter_class=argparse.ArgumentDefaultsHelpFormatter, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


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
