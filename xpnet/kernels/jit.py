"""``njit`` with an on-disk cache that never breaks an install.

Numba caches compiled kernels beside the source, or in the user's cache
directory when that is read-only. If neither is writable the kernels still work,
compiled afresh in each process. ``NUMBA_CACHE_DIR`` moves the cache.

How the kernels' threads share the cores with NumPy's is set in xpnet._threads.
"""
import contextlib

import numba
from numba.core import event


def njit_cached(**options):
    """``numba.njit(cache=True, **options)``, without the cache if it cannot be written."""
    def decorate(func):
        try:
            return numba.njit(cache=True, **options)(func)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(cache=False, **options)(func)
    return decorate


class _FirstCompile(event.Listener):
    def __init__(self, callback):
        self.callback = callback

    def on_start(self, event):
        if self.callback:
            self.callback()
            self.callback = None

    def on_end(self, event):
        pass


@contextlib.contextmanager
def on_first_compile(callback):
    """Call ``callback()`` once, when Numba starts compiling a kernel inside the block.

    Kernels loaded from the on-disk cache are not compiled, so on later runs
    the callback is not called: a command can say "compiling" exactly when it is.
    """
    listener = _FirstCompile(callback)
    event.register("numba:compile", listener)
    try:
        yield
    finally:
        event.unregister("numba:compile", listener)
