"""The benchmark harness: devices, correct GPU timing, smoke mode, optional PyTorch rows.

Every benchmark records ``case`` (its group: one comparison, one table),
``device`` and ``impl`` (xpnet, book, torch) in ``extra_info``; the report
(``python -m xpnet.bench_report``) reads them back from the JSON file.

GPU timing: the timed function ends with a device synchronize, so the clock
measures the work, not the kernel launches. Three warm-up rounds are never
timed: compilation, CuPy's kernel cache and memory pool, and the operating
system's first huge-page faults (the first three 45 MB im2col outputs took
44 ms each here, every later one 8-11 ms; the book's NumPy code has no such
ramp).

Smoke mode (``--benchmark-disable``, as in the test command): every benchmark
runs once on smaller inputs, proving it still executes.
"""
import xpnet  # noqa: I001  (first: its thread settings must precede NumPy's import)
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import xpnet.kernels
from xpnet.backend import gpu_unavailable_reason

# Time the kernels themselves: a process's first 50 M elements of kernel work would otherwise
# run on NumPy, before Numba is loaded (see xpnet.kernels.NUMPY_WORK_BEFORE_JIT).
xpnet.kernels.NUMPY_WORK_BEFORE_JIT = 0


def _standin_cupy():
    """True when ``cupy`` is the tests' CPU stand-in (the root conftest.py installs it)."""
    return hasattr(sys.modules.get("cupy"), "standin")


@pytest.fixture(params=["cpu", pytest.param("gpu", marks=pytest.mark.gpu)])
def device(request, smoke):
    """The device, on a GPU only when one is usable. The tests' CuPy stand-in runs the GPU
    cases in smoke mode (they still execute) and is never timed: it is not a GPU."""
    if request.param == "gpu" and gpu_unavailable_reason():
        pytest.skip(f"no GPU: {gpu_unavailable_reason()}")
    if request.param == "gpu" and not smoke and _standin_cupy():
        pytest.skip("no GPU: CuPy is the tests' CPU stand-in, whose times mean nothing")
    with xpnet.using_device(request.param) as dev:
        xpnet.seed(0)
        yield dev


@pytest.fixture
def smoke(benchmark):
    """True when benchmarks are disabled (--benchmark-enable not given): run once, on small inputs."""
    return benchmark.disabled


@pytest.fixture
def torch():
    """PyTorch, for the optional comparison rows; a clean skip when it is not installed.

    Imported without the thread settings that ``import xpnet`` chose for xpnet's own
    pools (xpnet._threads.CHOSEN): PyTorch's OpenMP runtime reads them when it loads,
    and its rows must time what a PyTorch process does. With xpnet's
    OMP_WAIT_POLICY=PASSIVE its max-pool backward took 1.1-1.7x as long."""
    chosen = {name: os.environ.pop(name) for name in os.environ.keys() - users_environment()}
    try:
        torch = pytest.importorskip("torch", reason="PyTorch rows need torch (never a dependency)")
    finally:
        os.environ.update(chosen)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    return torch


@pytest.fixture
def measure(benchmark, request):
    """measure(fn, case=..., device=..., impl=..., **info): time fn() the right way."""
    def run(fn, case, device, impl, rounds=10, warmup=3, **info):
        benchmark.group = case
        benchmark.extra_info.update(case=case, device=device.name if hasattr(device, "name")
                                    else str(device), impl=impl, **info)
        sync = getattr(device, "synchronize", None) or (lambda: None)

        def timed():
            result = fn()
            sync()
            return result

        return benchmark.pedantic(timed, rounds=rounds, warmup_rounds=warmup, iterations=1)
    return run


def torch_device(torch, device):
    """The torch device matching an xpnet device, or a skip when torch cannot use it."""
    if device.name == "cpu":
        return torch.device("cpu"), (lambda: None)
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    return torch.device("cuda", device.index), torch.cuda.synchronize


ROOT = pathlib.Path(__file__).resolve().parent.parent


def users_environment():
    """The environment without the thread settings ``import xpnet`` chose for its own pools
    (xpnet._threads.CHOSEN): a PyTorch process must run as the user's would, and an xpnet
    process chooses them again itself."""
    chosen = xpnet._threads.CHOSEN
    return {k: v for k, v in os.environ.items() if k not in chosen or chosen[k] != v}


def probe(*args):
    """The JSON result of ``bench/probe.py ARGS`` run in a fresh process (see that file),
    in the user's environment (``users_environment``)."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "probe.py"), *map(str, args)],
                          capture_output=True, text=True, env=users_environment())
    if done.returncode:
        raise RuntimeError(f"bench/probe.py {' '.join(map(str, args))} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture
def rng():
    return np.random.default_rng(0)
