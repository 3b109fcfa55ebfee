"""Run by tests/test_distributed.py under ``mpiexec -n 2``: train.py where one rank fails.

``python fail.py raise|kill TRAIN_ARGS...``: at its 5th step rank 1 raises an
error (or kills itself with SIGKILL) while rank 0 waits for it in the Allreduce.
"""
import os
import signal
import sys

import xpnet.cli.train as cli
from xpnet.trainer import Trainer

how, args = sys.argv[1], sys.argv[2:]
step = Trainer._distributed_step


def failing_step(self, index, should_stop):
    if self.comm.rank == 1 and self.current_iter == 4:
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("rank 1 ran out of something")
    return step(self, index, should_stop)


Trainer._distributed_step = failing_step
sys.exit(cli.main(args))
