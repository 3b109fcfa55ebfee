"""Sums and broadcasts of GPU buffers between ranks through NCCL (CuPy's ``cupy.cuda.nccl``).

NCCL moves GPU memory between GPUs directly (NVLink, PCIe, InfiniBand),
without a trip through the host. Its communicator is created once: rank 0
makes a unique id, MPI carries it to the other ranks, and each rank joins
with its rank number. The operations are queued on the current CUDA stream,
after the kernels that computed the gradients. ``comm`` is an
``xpnet.distributed.Communicator``; this module lives in the backend because
the backend alone touches CuPy.
"""
from .device import import_cupy


class NcclReducer:
    """Allreduce (sum) and broadcast of one flat CuPy buffer, over all ranks of ``comm``."""

    def __init__(self, comm):
        cupy = import_cupy()
        from cupy.cuda import nccl
        self.cupy, self.nccl = cupy, nccl
        uid = comm.bcast(nccl.get_unique_id() if comm.is_lead else None)
        self.comm = nccl.NcclCommunicator(comm.size, uid, comm.rank)
        self.types = {"float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64}

    def reduce(self, flat, bcast=False):
        """Sum ``flat`` over the ranks in place (with ``bcast``: copy rank 0's into it)."""
        stream = self.cupy.cuda.get_current_stream().ptr
        kind = self.types[flat.dtype.name]
        ptr = flat.data.ptr
        if bcast:
            self.comm.broadcast(ptr, ptr, flat.size, kind, 0, stream)
        else:
            self.comm.allReduce(ptr, ptr, flat.size, kind, self.nccl.NCCL_SUM, stream)
