"""Data-parallel scaling over MPI: training steps of 1 process and of 2 ranks, 1 thread each.

Each job runs ``mpi_worker.py`` in its own processes (started once, outside
the timing); the timed call asks it for one training step and waits for the
answer, so a round is one step of the whole job at the same global batch.
extra_info holds the share of the step spent in the gradient Allreduce and
waiting for the slower rank.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                     "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}


class Job:
    """A worker job (1 process, or ``ranks`` under mpiexec) that steps on request."""

    def __init__(self, ranks, model, batch):
        command = [sys.executable, os.path.join(HERE, "mpi_worker.py"), model, str(batch)]
        if ranks > 1:
            command = [MPIEXEC, "-n", str(ranks), *command]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=dict(os.environ, XPNET_DEVICE="cpu",
                                                            **ONE_THREAD))

    def ask(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the worker job ended (exit {self.process.wait()})")
        return answer.strip()

    def close(self):
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.mark.parametrize("ranks", [1, 2])
def bench_data_parallel_step(benchmark, smoke, ranks):
    if ranks > 1 and MPIEXEC is None:
        pytest.skip("mpiexec not found: pip install 'xpnet[mpi]'")
    batch = 20 if smoke else 200
    job = Job(ranks, "simple_convnet", batch)
    try:
        for _ in range(1 if smoke else 5):  # compile, warm caches
            job.ask("step")
        job.ask("stats")
        rounds = 1 if smoke else 60
        benchmark.pedantic(job.ask, args=("step",), rounds=rounds, iterations=1)
        clock = json.loads(job.ask("stats"))
    finally:
        job.close()
    case = f"data-parallel SimpleConvNet b{batch}, 1 thread per rank"
    benchmark.group = case
    step = benchmark.stats.stats.median if not smoke else None
    total = benchmark.stats.stats.total if not smoke else None
    benchmark.extra_info.update(
        case=case, device="cpu", impl=f"{ranks} rank{'s' if ranks > 1 else ''}", images=batch,
        allreduce_share=clock["allreduce"] / total if total else None,
        waiting_share=clock["wait"] / total if total else None, step_median=step)
