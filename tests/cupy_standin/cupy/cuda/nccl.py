"""cupy.cuda.nccl of the stand-in: NCCL's calls, carried out by MPI on the buffers' host memory.

Enough for xpnet's NcclReducer: a unique id that rank 0 makes and MPI carries,
a communicator per rank, and in-place allReduce (sum) and broadcast of one
flat float buffer, addressed by pointer as NCCL addresses device memory.
What it cannot check: NCCL itself (its transports, its ordering on streams).
"""
import ctypes
import os

import numpy

NCCL_FLOAT32, NCCL_FLOAT64 = 7, 8
NCCL_SUM = 0
_DTYPES = {NCCL_FLOAT32: numpy.float32, NCCL_FLOAT64: numpy.float64}


def get_unique_id():
    return tuple(os.urandom(16))


class NcclCommunicator:
    def __init__(self, ndev, commId, rank):  # noqa: N803 (CuPy's names)
        from mpi4py import MPI
        self.mpi = MPI.COMM_WORLD
        if (self.mpi.Get_size(), self.mpi.Get_rank()) != (ndev, rank):
            raise RuntimeError(f"stand-in NCCL: rank {rank} of {ndev} does not match MPI's "
                               f"{self.mpi.Get_rank()} of {self.mpi.Get_size()}")
        if self.mpi.allgather(tuple(commId)) != [tuple(commId)] * ndev:
            raise RuntimeError("stand-in NCCL: the ranks were given different unique ids")

    @staticmethod
    def _buffer(ptr, count, datatype):
        dtype = _DTYPES[datatype]
        raw = (ctypes.c_char * (count * numpy.dtype(dtype).itemsize)).from_address(ptr)
        return numpy.frombuffer(raw, dtype=dtype)

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):  # noqa: N802
        if sendbuf != recvbuf or op != NCCL_SUM:
            raise NotImplementedError("stand-in NCCL: in-place sums only")
        from mpi4py import MPI
        self.mpi.Allreduce(MPI.IN_PLACE, self._buffer(recvbuf, count, datatype))

    def broadcast(self, sendbuf, recvbuf, count, datatype, root, stream):
        if sendbuf != recvbuf:
            raise NotImplementedError("stand-in NCCL: in-place broadcasts only")
        self.mpi.Bcast(self._buffer(recvbuf, count, datatype), root=root)
