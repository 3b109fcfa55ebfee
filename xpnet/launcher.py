"""Whether this process is one rank of an MPI job, read from what the launcher set.

``mpiexec`` (MPICH's Hydra, Intel MPI, Open MPI) tells each process its rank
and how many ranks share its machine through environment variables. Reading
them needs no MPI library, so xpnet can size its thread pools before NumPy
loads (``xpnet._threads``) and decide whether to train distributed
before importing mpi4py.
"""
import os

# (rank, size, rank on this machine, ranks on this machine) as each launcher names them.
_LAUNCHERS = (
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),  # MPICH Hydra, Intel MPI
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
     "OMPI_COMM_WORLD_LOCAL_SIZE"),  # Open MPI
)


def mpi_launch(environ=None):
    """(rank, size, local_rank, local_size) when started by mpiexec with several ranks, else None."""
    environ = os.environ if environ is None else environ
    for names in _LAUNCHERS:
        try:
            rank, size = int(environ[names[0]]), int(environ[names[1]])
        except (KeyError, ValueError):
            continue
        if size < 2:
            return None
        local_rank = int(environ.get(names[2], rank))
        local_size = int(environ.get(names[3], size))
        return rank, size, local_rank, local_size
    return None


def cores_per_rank(environ=None):
    """This rank's share of the cores it may use: all of them unless ranks share the machine."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    launch = mpi_launch(environ)
    return max(1, (cores or 1) // (launch[3] if launch else 1))
