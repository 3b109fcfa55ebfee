"""The ranks of an MPI job, and what data-parallel training asks of them.

Every rank holds the whole network. Each step, each rank computes the
gradient of its share of the mini-batch; ``reduce_gradients`` turns those into
the gradient of the whole mini-batch on every rank with one Allreduce over a
single flat buffer (one call per step, not one per parameter), so that every
rank applies the same update. Arrays on the CPU go through MPI; arrays on a
GPU through NCCL, whose communicator is set up over MPI (as ChainerMN does).
"""
import numpy as np

from ..backend import get_array_module
from ..errors import XpnetError

MPI_HINT = ("distributed training needs mpi4py and an MPI library: pip install 'xpnet[mpi]' "
            "(mpi4py with MPICH's wheel), then start it with mpiexec -n N")


class DistributedError(XpnetError):
    """Distributed training cannot start: no mpi4py, or no MPI library behind it."""


def _mpi():
    """mpi4py's MPI module, or DistributedError saying what to install."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise DistributedError(f"{MPI_HINT} ({e})") from None
    return MPI


def create_communicator():
    """The communicator of all the ranks this job was started with (MPI's COMM_WORLD)."""
    return Communicator(_mpi().COMM_WORLD)


class Communicator:
    """One MPI communicator: rank and size, and the collective operations training needs."""

    def __init__(self, mpi_comm):
        MPI = _mpi()
        self.mpi = mpi_comm
        self.rank, self.size = mpi_comm.Get_rank(), mpi_comm.Get_size()
        node = mpi_comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank, self.local_size = node.Get_rank(), node.Get_size()
        node.Free()
        self._buffer = None
        self._nccl = None

    @property
    def is_lead(self):
        """True on rank 0, the rank that prints and writes files."""
        return self.rank == 0

    # -- splitting work ---------------------------------------------------------------
    def share(self, n):
        """This rank's slice of ``n`` items: contiguous, sizes differing by at most one."""
        return slice(self.rank * n // self.size, (self.rank + 1) * n // self.size)

    # -- collectives ------------------------------------------------------------------
    def bcast_params(self, params):
        """Overwrite every rank's parameters (a dict of arrays) with rank 0's, in place."""
        flat = self._flatten(params.values(), extra=0)
        self._allreduce(flat, bcast=True)
        for key, part in self._parts(flat, params):
            params[key][...] = part  # in place: the layers hold these very arrays

    def reduce_gradients(self, grads, weight, extras=()):
        """Every rank's ``weight * grads``, summed over the ranks; also sums ``extras``.

        ``weight`` is this rank's share of the mini-batch (its samples / all
        samples), so the result is the gradient of the whole mini-batch.
        ``extras`` (numbers, or 0-d arrays on the grads' device) ride in the
        same buffer: the step's loss, a vote to stop. Returns (grads, sums);
        the grads are views of the buffer, valid until the next call.
        """
        flat = self._flatten(grads.values(), extra=len(extras))
        flat[:len(flat) - len(extras)] *= weight
        for i, value in enumerate(extras, start=len(flat) - len(extras)):
            flat[i] = value
        self._allreduce(flat)
        return dict(self._parts(flat, grads)), flat[len(flat) - len(extras):]

    def sum(self, values):
        """Elementwise sum over the ranks of a few host numbers (float64)."""
        mine = np.asarray(values, dtype=np.float64)
        total = np.empty_like(mine)
        self.mpi.Allreduce(mine, total)
        return total

    def any(self, flag):
        """True on every rank when ``flag`` is true on any rank."""
        return bool(self.sum([1.0 if flag else 0.0])[0])

    def bcast(self, value):
        """Rank 0's ``value`` (any picklable object made by xpnet) on every rank."""
        return self.mpi.bcast(value, root=0)

    def gather(self, value):
        """Every rank's ``value`` as a list on rank 0 (in rank order); None on the others."""
        return self.mpi.gather(value, root=0)

    def bcast_array(self, array):
        """Rank 0's host array on every rank (same shape and dtype expected on every rank)."""
        array = np.ascontiguousarray(array)
        self.mpi.Bcast(array, root=0)
        return array

    def barrier(self):
        self.mpi.Barrier()

    def abort(self, code=1):
        """End every rank of the job at once (after one rank failed)."""
        self.mpi.Abort(code)

    # -- the flat buffer --------------------------------------------------------------
    def _flatten(self, arrays, extra):
        """Copy ``arrays`` into the reusable flat buffer, leaving ``extra`` slots after them."""
        arrays = list(arrays)
        xp = get_array_module(arrays[0])
        size = sum(a.size for a in arrays) + extra
        buffer = self._buffer
        if (buffer is None or buffer.size != size or buffer.dtype != arrays[0].dtype
                or get_array_module(buffer) is not xp):
            buffer = self._buffer = xp.empty(size, dtype=arrays[0].dtype)
        offset = 0
        for a in arrays:
            buffer[offset:offset + a.size] = a.reshape(-1)
            offset += a.size
        return buffer

    @staticmethod
    def _parts(flat, arrays):
        """(key, the view of ``flat`` that holds ``arrays[key]``) for each entry, in order."""
        offset = 0
        for key, a in arrays.items():
            yield key, flat[offset:offset + a.size].reshape(a.shape)
            offset += a.size

    def _allreduce(self, flat, bcast=False):
        """Sum (or with ``bcast``, rank 0's) ``flat`` on every rank, in place."""
        if get_array_module(flat) is not np:
            return self._nccl_comm().reduce(flat, bcast)
        if bcast:
            self.mpi.Bcast(flat, root=0)
        else:
            self.mpi.Allreduce(_in_place(), flat)

    def _nccl_comm(self):
        if self._nccl is None:
            from ..backend.nccl import NcclReducer  # the backend alone touches CuPy
            self._nccl = NcclReducer(self)
        return self._nccl


def _in_place():
    return _mpi().IN_PLACE
