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
"""
import os

from .launcher import cores_per_rank, mpi_launch

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

# Ranks of an MPI job on one machine share its cores: each rank's pools take its share
# (mpiexec -n 2 on 2 cores: one thread each) instead of every rank taking every core.
if mpi_launch() is not None:
    _share = str(cores_per_rank())
    for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(_pool, _share)
