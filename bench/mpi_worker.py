"""A training job that takes one step per request: how bench_distributed.py times MPI ranks.

``[mpiexec -n N] python mpi_worker.py MODEL BATCH`` builds MODEL (float32,
random data) and waits on stdin. For each line ``step`` every rank makes one
training step of global batch BATCH and rank 0 answers ``ok``; ``stats``
answers a JSON line with the seconds spent in the gradient Allreduce and in
waiting for the slowest rank before it (a barrier), summed since the last
``stats``; ``quit`` ends the job. Without mpiexec it is one process, no MPI.
"""
import json
import sys
import time

import xpnet  # noqa: I001  (first: thread settings precede NumPy's import)
import numpy as np

from xpnet.launcher import mpi_launch
from xpnet.models.registry import build_model, takes_images
from xpnet.trainer import Trainer

STEPS_PER_EPOCH = 50


def build(model, batch, comm):
    xpnet.seed(0, rank=comm.rank if comm else 0)
    rng = np.random.default_rng(0)
    n = batch * STEPS_PER_EPOCH
    shape = (n, 1, 28, 28) if takes_images(model) else (n, 784)
    x, t = rng.random(shape, dtype=np.float32), rng.integers(0, 10, n)
    net = build_model(model)
    return Trainer(net, x, t, x[:batch], t[:batch], epochs=10**6, mini_batch_size=batch,
                   optimizer="Adam", optimizer_param={"lr": 0.001}, schedule="epochs", comm=comm)


def timed_allreduce(comm, clock):
    """Wrap the communicator's Allreduce: a barrier first (waiting), then the sum (communicating)."""
    allreduce = comm._allreduce

    def wrapped(flat, bcast=False):
        start = time.perf_counter()
        comm.barrier()
        middle = time.perf_counter()
        allreduce(flat, bcast)
        clock["wait"] += middle - start
        clock["allreduce"] += time.perf_counter() - middle
    comm._allreduce = wrapped


def main(model, batch):
    comm = None
    if mpi_launch() is not None:
        from xpnet.distributed import create_communicator
        comm = create_communicator()
    trainer = build(model, int(batch), comm)
    clock = {"allreduce": 0.0, "wait": 0.0}
    if comm:
        timed_allreduce(comm, clock)
    lead = comm is None or comm.is_lead
    steps = trainer.steps()
    while True:
        command = sys.stdin.readline().strip() if lead else None
        command = comm.bcast(command) if comm else command
        if command == "step":
            try:
                next(steps)
            except StopIteration:  # the epoch is over: the next one
                steps = trainer.steps()
                next(steps)
        elif command == "stats":
            if lead:
                print(json.dumps(clock), flush=True)
            clock.update(allreduce=0.0, wait=0.0)
            continue
        else:
            return
        if lead:
            print("ok", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
