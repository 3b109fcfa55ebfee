"""How xpnet's two thread pools share the cores: idle threads sleep instead of spinning.

A training step alternates Numba's parallel kernels (OpenMP threads) with
NumPy's matrix products (OpenBLAS threads). Both runtimes keep their threads
spinning for a while after each call, waiting for more work; on a small
machine those spinning threads take the cores the other pool needs next.
Measured on a 2-core machine, SimpleConvNet step at batch 100:

- OpenMP spinning after im2col/pooling: 76 ms; OMP_WAIT_POLICY=PASSIVE: 57 ms.
- OpenBLAS spinning (its default is 2**28 cycles, about 0.1 s) after each
  product: max pooling ran 6.9 ms instead of 3.4 ms; with
  OPENBLAS_THREAD_TIMEOUT=4 (the shortest) the step went from 52 to 44 ms
  (after the kernel work that followed: 33-40 ms -> 31-32 ms).

Both are defaults only: a value the user set wins. OpenMP reads its setting
when Numba first starts it; OpenBLAS reads its own when NumPy loads it, so
that one takes effect only if xpnet is imported before NumPy.

The book's own code is left OpenBLAS's default: it spends its time in NumPy's
matrix products one after another (chapters 4-6: small products, a few
element-wise passes between them), where OpenBLAS's threads still waiting
from the last product are what makes the next one fast. Measured on the 2-core
Intel machine, 1,000 steps of ch04's two-layer network (float64, batch 100)
took 1.22-1.50 s with OPENBLAS_THREAD_TIMEOUT=4 and 1.03-1.27 s without it.
"""
import os
import sys

from .launcher import cores_per_rank, mpi_launch

BOOK_FACE = "XPNET_BOOK_FACE"  # set by xpnet-book for the notebook kernels it starts


def runs_the_books_code():
    """True in a process of ``xpnet-book`` (also ``python -m xpnet.book``, and the Jupyter
    kernels it starts), which runs the book's code or a reader's."""
    argv = getattr(sys, "orig_argv", sys.argv)
    module = any(a == "-m" and b == "xpnet.book" for a, b in zip(argv, argv[1:]))
    script = bool(sys.argv) and os.path.basename(sys.argv[0]).startswith("xpnet-book")
    return module or script or os.environ.get(BOOK_FACE) == "1"


# The variables this import set (the user had set none of them), with their values.
CHOSEN = {}


def _choose(name, value):
    """Set an environment variable the user left unset, and remember it in CHOSEN."""
    if name not in os.environ:
        os.environ[name] = CHOSEN[name] = value


# NumPy (and its OpenBLAS) was loaded before xpnet could choose OpenBLAS's thread timeout.
NUMPY_CAME_FIRST = ("numpy" in sys.modules and "OPENBLAS_THREAD_TIMEOUT" not in os.environ
                    and not runs_the_books_code())


def warn_if_numpy_came_first():
    """One warning, when xpnet's Numba kernels first load, if NumPy came first.

    OpenBLAS then keeps its idle threads spinning for about 0.1 s after every product,
    on the cores xpnet's kernels need next: the Fashion-MNIST recipe's training step
    (bench/fashion_net.py, batch 100, 2 cores) took 86 ms instead of 48 ms. The book
    face (``book_face_keeps_openblas_default``) wants OpenBLAS's default and is not
    warned."""
    global NUMPY_CAME_FIRST
    if NUMPY_CAME_FIRST:
        NUMPY_CAME_FIRST = False
        import warnings
        warnings.warn("NumPy was imported before xpnet, so its OpenBLAS keeps idle threads "
                      "spinning on the cores xpnet's kernels use (training steps measured "
                      "1.8x slower): import xpnet before NumPy, or set "
                      "OPENBLAS_THREAD_TIMEOUT=4 before starting Python (docs/settings.md)",
                      RuntimeWarning, stacklevel=2)


def book_face_keeps_openblas_default():
    """The book's code (xpnet-book, %load_ext xpnet.book) runs on OpenBLAS's default on
    purpose: no warning about the order of imports."""
    global NUMPY_CAME_FIRST
    NUMPY_CAME_FIRST = False


_choose("OMP_WAIT_POLICY", "PASSIVE")
if not runs_the_books_code():
    _choose("OPENBLAS_THREAD_TIMEOUT", "4")

# Ranks of an MPI job on one machine share its cores: each rank's pools take its share
# (mpiexec -n 2 on 2 cores: one thread each) instead of every rank taking every core.
if mpi_launch() is not None:
    _share = str(cores_per_rank())
    for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        _choose(_pool, _share)
