"""``njit`` with an on-disk cache that never breaks an install.

Numba caches compiled kernels beside the source, or in the user's cache
directory when that is read-only. If neither is writable the kernels still work,
compiled afresh in each process. ``NUMBA_CACHE_DIR`` moves the cache.

How the kernels' threads share the cores with NumPy's is set in xpnet._threads.
"""
import numba


def njit_cached(**options):
    """Decorator: ``numba.njit(cache=True, **options)``, without the cache if it cannot be written."""
    def decorate(func):
        try:
            return numba.njit(cache=True, **options)(func)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(cache=False, **options)(func)
    return decorate
