"""Fixtures shared by the tests: devices, backend state, reference data; the skip summary."""
import os
import signal
from collections import Counter

import xpnet  # noqa: I001  (first: its thread settings must precede NumPy's import)
import xpnet.kernels
import numpy as np
import pytest

from xpnet.backend import Device, gpu_unavailable_reason

DEVICES = [pytest.param("cpu", id="cpu"), pytest.param("gpu", id="gpu", marks=pytest.mark.gpu)]

# The tests press Ctrl-C (SIGINT) on the commands they start. A test run started in the
# background by a shell without job control (`pytest &`, as some CI runners and scripts
# do) ignores SIGINT, its children inherit that, and Python then installs no handler: the
# commands would never see a Ctrl-C (test_ctrl_c_before_training_exits_cleanly hung 60 s).
# A handled SIGINT is reset to the default in a child, so the commands get theirs.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(params=DEVICES)
def device(request):
    """Run the test on the CPU always, and on the GPU when CuPy and a CUDA device exist."""
    if request.param == "gpu":
        reason = gpu_unavailable_reason()
        if reason:
            pytest.skip(f"no GPU: {reason}")
    with xpnet.using_device(request.param) as dev:
        yield dev


@pytest.fixture
def gpu():
    """The GPU device, or a clean skip saying why there is none."""
    reason = gpu_unavailable_reason()
    if reason:
        pytest.skip(f"no GPU: {reason}")
    return Device("gpu", 0)


@pytest.fixture(autouse=True)
def numba_when_large(monkeypatch):
    """Large CPU work goes to the Numba kernels at once, as after a process's first steps
    (test_kernels runs NumPy's code on purpose; its own test checks the switch)."""
    monkeypatch.setattr(xpnet.kernels, "NUMPY_WORK_BEFORE_JIT", 0)


@pytest.fixture(autouse=True)
def clean_backend():
    """Every test starts on cpu, float32, seed 0, and leaves no state behind."""
    xpnet.set_device("cpu")
    xpnet.set_dtype("float32")
    xpnet.seed(0)
    yield
    xpnet.set_device("cpu")
    xpnet.set_dtype("float32")


@pytest.fixture
def float64():
    xpnet.set_dtype("float64")


def _shared_data():
    here = os.environ.get("XPNET_DATA_DIR") or os.path.join(os.path.dirname(__file__), "..", "..",
                                                           "shared", "data")
    return here if os.path.isdir(os.path.join(here, "mnist")) else None


@pytest.fixture
def data_dir():
    """The reference data directory (XPNET_DATA_DIR, or ../shared/data beside the checkout)."""
    path = _shared_data()
    if path is None:
        pytest.skip("reference data not found: set XPNET_DATA_DIR to the shared data directory")
    return path


@pytest.fixture
def mnist_test(data_dir):
    """The official MNIST test set (x float32 (10000, 784) in [0, 1], t int64)."""
    from xpnet.datasets import read_idx
    x = read_idx(os.path.join(data_dir, "mnist", "t10k-images-idx3-ubyte.gz"))
    t = read_idx(os.path.join(data_dir, "mnist", "t10k-labels-idx1-ubyte.gz"))
    return x.reshape(len(x), -1).astype(np.float32) / 255.0, t.astype(np.int64)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_terminal_summary(terminalreporter):
    """Skipped tests, one line per reason with a count (not one line per test file)."""
    reasons = Counter(report.longrepr[2] for report in terminalreporter.stats.get("skipped", [])
                      if isinstance(report.longrepr, tuple))
    if reasons:
        terminalreporter.section("skipped, by reason")
        for reason, count in reasons.most_common():
            terminalreporter.line(f"{count:5d}  {reason.removeprefix('Skipped: ')}")
