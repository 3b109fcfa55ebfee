"""``njit`` with an on-disk cache that never breaks an install.

Numba caches compiled kernels beside the source, or in the user's cache
directory when that is read-only. If neither is writable the kernels still work,
compiled afresh in each process. ``NUMBA_CACHE_DIR`` moves the cache.

Numba's OpenMP threads and OpenBLAS's threads take turns on the same cores
(im2col, then a matrix product, then pooling...). OpenMP's default is to keep
its threads spinning after a parallel loop, which on a 2-core machine steals
the cores BLAS needs next: a SimpleConvNet step measured 76 ms that way, 57 ms
with passive waiting. So xpnet asks for passive waiting unless the user set
OMP_WAIT_POLICY; it must be set before Numba loads its OpenMP runtime.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402


def njit_cached(**options):
    """Decorator: ``numba.njit(cache=True, **options)``, without the cache if it cannot be written."""
    def decorate(func):
        try:
            return numba.njit(cache=True, **options)(func)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(cache=False, **options)(func)
    return decorate
