"""Print an uncaught XpnetError as one line instead of a traceback wall.

Set XPNET_TRACEBACK=1 to see the full traceback. Other exceptions are left to
the previous hook untouched.
"""
import os
import sys

from .errors import XpnetError

_previous = sys.excepthook


def _hook(kind, value, tb):
    if issubclass(kind, XpnetError) and not os.environ.get("XPNET_TRACEBACK"):
        print(f"xpnet: error: {value}", file=sys.stderr)
        return
    _previous(kind, value, tb)


def install():
    """Chain the hook in front of the current ``sys.excepthook`` (once)."""
    if sys.excepthook is not _hook:
        sys.excepthook = _hook
