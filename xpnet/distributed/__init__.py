"""Data-parallel training over the ranks of an MPI job (mpi4py; NCCL between GPUs).

Start N copies of a program with ``mpiexec -n N``; each copy (a rank) holds
the whole network and trains on its share of every mini-batch, and the
gradients are averaged over the ranks each step. ``xpnet-train`` and
``train.py`` do this by themselves under mpiexec. In a loop of your own::

    from xpnet import distributed
    comm = distributed.create_communicator()
    comm.bcast_params(net.params)                 # every rank starts from rank 0's weights
    optimizer = distributed.DistributedOptimizer(Adam(lr=0.001), comm)
    x_mine, t_mine = distributed.scatter_dataset(x_train, t_train, comm)
    ...                                           # mini-batches from x_mine, t_mine
    optimizer.update(net.params, net.gradient(x_batch, t_batch))

BatchNormalization keeps per-rank batch statistics (as PyTorch's DDP and
ChainerMN do); ``Trainer`` scores accuracies with rank 0's running statistics.
"""
from .communicator import Communicator, DistributedError, create_communicator
from .optimizer import DistributedOptimizer


def scatter_dataset(x, t, comm):
    """This rank's contiguous share of (x, t): the ranks' shares cover the data once."""
    if len(x) != len(t):
        raise ValueError(f"scatter_dataset: {len(x)} samples but {len(t)} labels")
    mine = comm.share(len(x))
    return x[mine], t[mine]


__all__ = ["Communicator", "DistributedError", "DistributedOptimizer", "create_communicator",
           "scatter_dataset"]
