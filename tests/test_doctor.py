"""``xpnet doctor``: what it says on a good machine, and what it says when something is wrong."""
import subprocess
import sys
import types

import pytest

from helpers import STANDIN_CUPY
from xpnet import diagnostics
from xpnet.cli import doctor


def _run(monkeypatch, *argv, env_device=None):
    if env_device is None:
        monkeypatch.delenv("XPNET_DEVICE", raising=False)
    else:
        monkeypatch.setenv("XPNET_DEVICE", env_device)
    lines = []
    problems = doctor.doctor(doctor.build_parser().parse_args(["--steps", "4", *argv]),
                             say=lines.append)
    return problems, lines


def test_cpu_only_machine_is_ready_and_says_how_to_add_a_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setattr(diagnostics, "cupy_installed", lambda: False)
    problems, lines = _run(monkeypatch)
    assert problems == []
    assert lines[0].startswith("versions: python ") and "numba " in lines[0]
    assert lines[1].startswith("GPU: none (the GPU needs CuPy")
    assert lines[2] == "cpu: 13 kernels agree with NumPy's code"
    assert lines[-1].startswith("xpnet doctor: OK: cpu ready (no GPU: pip install cupy-cuda12x")


def test_a_gpu_asked_for_and_missing_fails_with_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    problems, lines = _run(monkeypatch, env_device="gpu")
    assert problems and lines[-1].startswith("xpnet doctor: FAILED: no GPU: the GPU needs CuPy")
    assert "pip install cupy-cuda12x" in lines[-1]


def test_cupy_for_a_newer_cuda_than_the_driver_is_named(monkeypatch):
    runtime = types.SimpleNamespace(driverGetVersion=lambda: 11080, runtimeGetVersion=lambda: 12040,
                                    getDeviceCount=lambda: 1)
    fake = types.SimpleNamespace(__version__="13.3.0", cuda=types.SimpleNamespace(runtime=runtime),
                                 ndarray=type("ndarray", (), {}))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    problems, lines = _run(monkeypatch)
    assert problems == [f"no GPU: CuPy 13.3.0 was built for CUDA 12.4 but the driver supports "
                        f"CUDA 11.8 at most: update the driver, or install CuPy for your CUDA "
                        f"version, e.g. `pip install cupy-cuda12x` (CUDA 12) or `pip install "
                        f"cupy-cuda11x` (CUDA 11)"]
    assert lines[-1].startswith("xpnet doctor: FAILED: no GPU: CuPy 13.3.0 was built for CUDA 12.4")


def test_a_wrong_kernel_is_caught(monkeypatch):
    from xpnet.kernels import cpu
    real = cpu.col2im
    monkeypatch.setattr(cpu, "col2im", lambda *a: real(*a) * 1.0000001)
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setattr(diagnostics, "cupy_installed", lambda: False)
    problems, lines = _run(monkeypatch)
    assert "cpu: 13 kernels DISAGREE: col2im" in lines
    assert lines[-1] == ("xpnet doctor: FAILED: cpu's kernels col2im disagree with NumPy's code: "
                         "report it with this output")


def test_every_gpu_is_checked_and_compared_with_the_cpu(gpu, monkeypatch):
    problems, lines = _run(monkeypatch)
    assert problems == []
    assert "gpu:0: 11 kernels agree with NumPy's code" in lines
    compared = [line for line in lines if line.startswith("gpu:0 against cpu")]
    assert compared and compared[0].endswith("(agree)")
    if STANDIN_CUPY:
        assert "gpu:1 against cpu" in " ".join(lines)  # the stand-in's second device too
    assert lines[-1].startswith("xpnet doctor: OK: cpu, gpu:0")


def test_the_commands_exit_by_the_verdict(monkeypatch, capsys):
    result = subprocess.run([sys.executable, "-m", "xpnet.doctor", "--device", "cpu", "--steps",
                             "3"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("xpnet doctor: OK: cpu ready")
    with pytest.raises(SystemExit) as stop:
        doctor.main(["--steps", "0"])
    assert stop.value.code == 2 and "--steps must be >= 1, got 0" in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", ["xpnet", "doctro"])
    assert doctor.console() == 2 and "usage: xpnet doctor" in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", ["xpnet", "doctor", "--device", "gpu", "--steps", "3"])
    monkeypatch.setitem(sys.modules, "cupy", None)
    assert doctor.console() == 1


def test_a_wrong_direct_convolution_is_caught(monkeypatch):
    import xpnet.kernels
    real = xpnet.kernels.direct_conv_backward

    def wrong(frames, W, dout, pad, need_dx=True):
        dW, dx = real(frames, W, dout, pad, need_dx)
        return dW, dx * 1.0000001
    monkeypatch.setattr(xpnet.kernels, "direct_conv_backward", wrong)
    results = dict(diagnostics.check_kernels("cpu"))
    assert results["direct_conv_forward"] <= diagnostics.KERNEL_RTOL
    assert results["direct_conv_backward"] > diagnostics.KERNEL_RTOL
