"""docs/mpi.md's example of a loop of one's own, run by tests/test_distributed.py under mpiexec -n 2.

``python own_loop.py OUT.npz``: 3 steps of TwoLayerNet, each rank on mini-batches of 5
from its half of 40 samples; rank 0 writes the parameters. ``reference()`` is the same
in one process: mini-batches of 10, rank 0's 5 samples and rank 1's.
"""
import sys

import xpnet  # noqa: I001  (first: thread settings precede NumPy's import)
import numpy as np

from xpnet.models import TwoLayerNet
from xpnet.optimizers import Adam

STEPS, LOCAL = 3, 5  # docs/mpi.md's example takes mini-batches of 5


def data():
    rng = np.random.default_rng(3)
    return rng.random((40, 784)), rng.integers(0, 10, 40)


def reference():
    xpnet.set_dtype("float64")
    xpnet.seed(1)
    x, t = data()
    net, optimizer = TwoLayerNet(784, 50, 10), Adam(lr=0.01)
    for i in range(STEPS):
        index = np.r_[i * LOCAL:(i + 1) * LOCAL, 20 + i * LOCAL:20 + (i + 1) * LOCAL]
        optimizer.update(net.params, net.gradient(x[index], t[index]))
    return {k: np.asarray(v) for k, v in net.params.items()}


if __name__ == "__main__":
    xpnet.set_dtype("float64")
    x_train, t_train = data()
    steps = STEPS
    # docs/mpi.md's example (tests/test_readme.py checks that these lines are its lines):
    from xpnet import distributed

    comm = distributed.create_communicator()      # all ranks of mpiexec
    xpnet.seed(1, rank=comm.rank)  # (not in README) rank 0's weights are one process's
    net = TwoLayerNet(784, 50, 10)
    comm.bcast_params(net.params)                 # every rank starts from rank 0's weights
    optimizer = distributed.DistributedOptimizer(Adam(lr=0.01), comm)
    x_mine, t_mine = distributed.scatter_dataset(x_train, t_train, comm)
    for i in range(steps):
        x_batch, t_batch = x_mine[i * 5:(i + 1) * 5], t_mine[i * 5:(i + 1) * 5]
        optimizer.update(net.params, net.gradient(x_batch, t_batch))  # averaged over ranks
    # (end of README's example)
    if comm.is_lead:
        np.savez(sys.argv[1], **{k: np.asarray(v) for k, v in net.params.items()})
