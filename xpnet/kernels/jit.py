"""``njit`` with an on-disk cache that never breaks an install.

Numba caches compiled kernels beside the source, or in the user's cache
directory when that is read-only. If neither is writable the kernels still work,
compiled afresh in each process. ``NUMBA_CACHE_DIR`` moves the cache.

How the kernels' threads share the cores with NumPy's is set in xpnet._threads.
"""
import contextlib
import os
import sys

import llvmlite.binding as llvm
import numba
from numba.core import config, event

from .. import _threads


def prefer_wide_vectors():
    """Let LLVM vectorize Numba's loops with 512-bit registers on CPUs with AVX-512.

    LLVM's models of Intel's AVX-512 CPUs prefer 256-bit vectors (older ones slowed
    their clock for wide instructions), so the convolutions' loops used half of each
    register. VGG's six convolution layers, forward and backward at batch 128 (2-core
    Xeon, fresh processes, alternated, 4 rounds): 420-463 ms with 512-bit vectors,
    566-586 ms with 256-bit ones.

    This asks for the host's own features without that preference, before xpnet's
    first kernel creates Numba's code generator (the setting is the process's; Numba's
    on-disk cache keys kernels by it), and not through the environment, which MPI
    launchers pass on to ranks on other machines. Nothing changes when the user set
    NUMBA_CPU_NAME or NUMBA_CPU_FEATURES, or without AVX-512. Returns the features
    asked for, or None.
    """
    if config.CPU_NAME is not None or config.CPU_FEATURES is not None:
        return None
    features = llvm.get_host_cpu_features()
    if not features.get("avx512f"):
        return None
    config.CPU_FEATURES = features.flatten() + ",-prefer-256-bit"
    return config.CPU_FEATURES


WIDE_VECTORS = prefer_wide_vectors()
_threads.warn_if_numpy_came_first()  # the kernels are about to share the cores with OpenBLAS

_OPENMP_RUNTIMES = ("libgomp", "libiomp", "libomp")


def _openmp_runtime_loaded():
    """True when this process already holds an OpenMP runtime (e.g. PyTorch's own libgomp)."""
    try:
        with open("/proc/self/maps") as maps:
            return any(name in line for line in maps for name in _OPENMP_RUNTIMES)
    except OSError:
        return False


def load_openmp_layer_privately():
    """Bind Numba's OpenMP threading layer to its own libgomp, not to one loaded before it.

    PyTorch loads its bundled libgomp into the global symbol scope. Imported
    before xpnet, it would then serve Numba's parallel regions too, with the
    settings it read at its own load (its threads spin after each region,
    as xpnet._threads asks OpenMP not to): a DeepConvNet step took 7.7x its
    solo time. Loaded with RTLD_DEEPBIND, Numba's layer calls the libgomp it
    was linked with, initialised after xpnet._threads: 1.15x (median of 4).
    Nothing changes when no OpenMP runtime was loaded first, or when the user
    chose a threading layer. Returns True when it loaded the layer so.
    """
    if (not hasattr(os, "RTLD_DEEPBIND") or "numba.np.ufunc.omppool" in sys.modules
            or os.environ.get("NUMBA_THREADING_LAYER", "default") not in ("default", "omp")
            or not _openmp_runtime_loaded()):
        return False
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
    try:
        import numba.np.ufunc.omppool  # noqa: F401
    except ImportError:  # no OpenMP layer in this Numba build: it picks another
        return False
    finally:
        sys.setdlopenflags(flags)
    return True


OPENMP_LOADED_PRIVATELY = load_openmp_layer_privately()


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
