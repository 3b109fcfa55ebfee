"""The device backend: selection, errors a user can act on, dtype, seeding, moves."""
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import xpnet
from xpnet import backend
from xpnet.backend import device as device_module
from xpnet.errors import DeviceError, DeviceMismatchError, DTypeError


def run_python(code, **env):
    import os
    full_env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, timeout=120)


def test_default_device_is_cpu():
    assert backend.get_device().name == "cpu"
    assert xpnet.xp.zeros(3).__class__ is np.ndarray


@pytest.mark.parametrize("value, expected", [("cpu", "cpu"), ("CPU", "cpu"), ("", "cpu")])
def test_device_from_environment(value, expected):
    result = run_python("import xpnet; print(xpnet.get_device().name)", XPNET_DEVICE=value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_gpu_without_cupy_is_one_line_from_a_command():
    # a 'cupy' that cannot be imported, whatever this machine has installed
    code = ("import sys; sys.modules['cupy'] = None; from xpnet.cli.train import main; "
            "sys.exit(main(['--epochs', '0', '--out', 'unused']))")
    result = run_python(code, XPNET_DEVICE="gpu")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "pip install cupy-cuda12x" in lines[0] and "Traceback" not in result.stderr


def test_unknown_device_lists_valid_ones():
    with pytest.raises(DeviceError, match="unknown device 'tpu'.*cpu, gpu, gpu:N, auto"):
        xpnet.set_device("tpu")
    result = run_python("import xpnet; xpnet.get_device()", XPNET_DEVICE="tpu")
    assert result.returncode == 1 and "valid devices are" in result.stderr


def test_importing_xpnet_leaves_the_programs_error_handling_alone():
    """A user's program keeps its tracebacks: only xpnet's commands print one-line errors."""
    code = ("import sys; hook = sys.excepthook; import xpnet; assert sys.excepthook is hook; "
            "raise xpnet.DataError('params.pkl: no such file')")
    result = run_python(code)
    assert "Traceback" in result.stderr and "DataError: params.pkl: no such file" in result.stderr


def test_missing_cupy_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(DeviceError, match="pip install cupy-cuda12x"):
        xpnet.set_device("gpu")
    assert backend.get_device().name == "cpu"  # a failed switch changes nothing


def fake_cupy(device_count=None, error=None):
    """A stand-in CuPy module whose CUDA runtime reports ``device_count`` or raises ``error``."""
    def get_count():
        if error:
            raise error
        return device_count

    class ndarray:
        def __init__(self, shape, device_id=0):
            self.shape = shape
            self.device = types.SimpleNamespace(id=device_id)

    runtime = types.SimpleNamespace(getDeviceCount=get_count)
    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime), ndarray=ndarray)


def test_cupy_without_cuda_device(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(error=RuntimeError("no CUDA driver")))
    with pytest.raises(DeviceError, match="no usable CUDA device.*no CUDA driver"):
        xpnet.set_device("gpu")
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(device_count=0))
    with pytest.raises(DeviceError, match="no CUDA device is visible"):
        xpnet.set_device("gpu")


def test_gpu_index_out_of_range(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(device_count=2))
    with pytest.raises(DeviceError, match="gpu:5 does not exist.*gpu:0 .. gpu:1"):
        xpnet.set_device("gpu:5")


def test_auto_falls_back_to_cpu_with_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "cupy", None)
    assert xpnet.set_device("auto").name == "cpu"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("xpnet: using cpu")


def test_mixing_devices_names_both(monkeypatch):
    cupy = fake_cupy(device_count=1)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    with pytest.raises(DeviceMismatchError, match=r"cpu \(shape \(2, 3\)\) and gpu:0 \(shape \(4,\)\)"):
        backend.get_array_module(np.zeros((2, 3)), cupy.ndarray((4,)))
    with pytest.raises(DeviceMismatchError, match="gpu:0 .* and gpu:1"):
        backend.get_array_module(cupy.ndarray((1,), 0), cupy.ndarray((1,), 1))


def test_using_device_restores_previous():
    with xpnet.using_device("cpu") as dev:
        assert dev.name == "cpu"
    assert backend.get_device().name == "cpu"


def test_dtype_setting():
    assert xpnet.get_dtype() == np.float32
    xpnet.set_dtype("float64")
    assert xpnet.get_dtype() == np.float64
    with pytest.raises(DTypeError, match="valid dtypes are: float32, float64"):
        xpnet.set_dtype("float16")
    result = run_python("import xpnet; print(xpnet.get_dtype())", XPNET_DTYPE="float64")
    assert result.stdout.strip() == "float64"


def test_models_follow_dtype():
    from xpnet.models import TwoLayerNet
    assert TwoLayerNet(4, 3, 2).params["W1"].dtype == np.float32
    xpnet.set_dtype("float64")
    assert TwoLayerNet(4, 3, 2).params["W1"].dtype == np.float64


def test_seed_reproduces_everything():
    from xpnet.backend.random import host_rng, rand_like
    from xpnet.models import TwoLayerNet

    def draw():
        xpnet.seed(7)
        net = TwoLayerNet(5, 4, 3)
        return net.params["W1"].copy(), host_rng().permutation(10), rand_like(np.zeros((2, 2)))

    first, second = draw(), draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    xpnet.seed(8)
    assert not np.array_equal(TwoLayerNet(5, 4, 3).params["W1"], first[0])


def test_array_moves(device):
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    moved = xpnet.to_device(host)
    assert backend.device_of(moved) == device
    back = xpnet.asnumpy(moved)
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, host)
    assert xpnet.to_device(host, "cpu") is host  # nothing copied when already there


def test_xp_proxy_follows_device(device):
    assert xpnet.xp.zeros(2).__class__ is device.xp.ndarray
    assert device_module.xp.__repr__().endswith(device.name + ">")


def _without_thread_choices():
    """This environment without the variables xpnet's import decides on (nor the book face's
    mark), for a child process that starts as a user's would."""
    return {k: v for k, v in os.environ.items()
            if k not in ("OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT", "XPNET_BOOK_FACE")}


@pytest.mark.parametrize("user_env, expected, chosen", [
    ({}, "PASSIVE 4", ["OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT"]),
    ({"OPENBLAS_THREAD_TIMEOUT": "12"}, "PASSIVE 12", ["OMP_WAIT_POLICY"])])
def test_idle_threads_sleep_unless_the_user_says_otherwise(user_env, expected, chosen):
    """xpnet's defaults, and which of them it chose (_threads.CHOSEN: what the benchmarks
    take away again before PyTorch loads)."""
    env = _without_thread_choices()
    code = ("import xpnet, os; "
            "print(os.environ['OMP_WAIT_POLICY'], os.environ['OPENBLAS_THREAD_TIMEOUT']); "
            "print(*sorted(xpnet._threads.CHOSEN))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(env, **user_env), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [expected, " ".join(chosen)]


@pytest.mark.parametrize("code, user_env, warned", [
    ("import numpy, xpnet, xpnet.kernels.jit", {}, True),
    ("import numpy, xpnet", {}, False),  # no kernel yet: nothing to share the cores with
    ("import xpnet, numpy, xpnet.kernels.jit", {}, False),
    ("import numpy, xpnet, xpnet.kernels.jit", {"OPENBLAS_THREAD_TIMEOUT": "4"}, False),
    ("import numpy, xpnet.book.extension as e; e.load(); import xpnet.kernels.jit", {}, False)])
def test_importing_numpy_first_is_named_in_a_warning(code, user_env, warned):
    """NumPy's OpenBLAS read its thread timeout before xpnet could choose it: say so when
    xpnet's kernels load, except to the book face (%load_ext), which wants the default."""
    env = _without_thread_choices()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(env, **user_env), timeout=120)
    assert result.returncode == 0, result.stderr
    assert ("NumPy was imported before xpnet" in result.stderr) == warned, result.stderr


@pytest.mark.parametrize("how", ["module", "notebook kernel"])
def test_the_books_code_keeps_openblas_threads_waiting(how, tmp_path):
    """xpnet-book's processes (the book's code: matrix products back to back) leave
    OpenBLAS's thread timeout at its default; other processes that import xpnet set 4."""
    env = _without_thread_choices()
    code = "import xpnet, os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    if how == "module":
        (tmp_path / "script.py").write_text(code)
        command = [sys.executable, "-m", "xpnet.book", "script.py"]
    else:  # what xpnet-book's notebook kernels get, beside what xpnet-book itself does
        from xpnet.book.notebook import _kernel_env
        env.update({k: v for k, v in _kernel_env().items() if k == "XPNET_BOOK_FACE"})
        command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


def test_freed_arrays_stay_in_the_heap_unless_the_user_chose():
    """xpnet raises glibc's mmap threshold, so a 10 MB array freed and allocated again is
    served from the heap (no fresh pages); a MALLOC_MMAP_THRESHOLD_ the user set wins."""
    import platform
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc's malloc only")
    code = ("import resource, numpy as np, xpnet._memory as m\n"
            "a = np.ones(10 << 18, dtype=np.float32); del a\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "for _ in range(20):\n"
            "    a = np.ones(10 << 18, dtype=np.float32); del a\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    ours = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)
    theirs = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(env, MALLOC_MMAP_THRESHOLD_="131072"), check=True)
    # page faults while 20 arrays of 10 MB come and go: fresh pages each time (thousands,
    # fewer with transparent huge pages) where the user asked for it, next to none with ours
    assert int(ours.stdout) * 20 < int(theirs.stdout), (ours.stdout, theirs.stdout)
