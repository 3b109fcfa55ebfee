"""The GPU path around the kernels: no hidden host work per step, train.py on the GPU end to end.

Without a GPU these run on the CuPy stand-in (tests/cupy_standin), which
records every copy between host and device and every wait for the device;
the counting tests need it and skip on a real GPU, the others run on either.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import xpnet
from helpers import ROOT, STANDIN_CUPY, assert_same_run, ctrl_c_after
from xpnet.models import DeepConvNet, SimpleConvNet
from xpnet.trainer import Trainer

needs_standin = pytest.mark.skipif(not STANDIN_CUPY, reason="counting needs the CuPy stand-in")


@pytest.fixture
def standin(gpu):
    """The stand-in's recorder (cupy.standin)."""
    if not STANDIN_CUPY:
        pytest.skip("counting needs the CuPy stand-in")
    from cupy import standin
    return standin


def test_the_standin_refuses_what_cupy_refuses(standin):
    import cupy
    a = cupy.arange(6, dtype=np.float32).reshape(2, 3)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(a)
    for mixed in (lambda: a + np.ones(3), lambda: np.ones(3) * a, lambda: np.stack([a, np.ones(3)])):
        with pytest.raises(TypeError, match="Unsupported type"):
            mixed()
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray"):
        a[0] = np.zeros(3)
    with pytest.raises(ValueError, match="different devices"):
        with cupy.cuda.Device(1):
            b = cupy.zeros(3)
        a[0] + b
    assert isinstance(a.sum(), cupy.ndarray) and a.sum().ndim == 0  # never a host scalar
    with standin.counting() as record:
        float(a.sum()), a[np.array([1])], a[a > 2], cupy.asnumpy(a), a.nonzero()
    assert record.to_host == ["float()", "boolean mask", "get", "nonzero"]
    assert record.to_device == ["index"] and record.syncs == record.to_host


def _trainer(net, n, batch, sync_every, shape):
    rng = np.random.default_rng(0)
    x, t = rng.random((n, *shape), dtype=np.float32), rng.integers(0, 10, n)
    return Trainer(net, x, t, x[:batch], t[:batch], epochs=2, mini_batch_size=batch,
                   optimizer="Adam", verbose=False, schedule="epochs", sync_every=sync_every)


@pytest.mark.parametrize("model, shape, batch", [(SimpleConvNet, (1, 28, 28), 20),
                                                 (DeepConvNet, (1, 28, 28), 4)])
def test_a_training_step_copies_nothing_and_waits_once_per_flush(standin, model, shape, batch):
    """Parameters and gradients stay on the device; the host waits only where the losses
    are read (once every sync_every steps, and at the end of an epoch)."""
    with xpnet.using_device("gpu"):
        xpnet.seed(0)
        trainer = _trainer(model(), 6 * batch, batch, 3, shape)
        steps = trainer.steps()
        next(steps)  # the first step: the epoch's order goes to the device
        with standin.counting() as record:
            for _ in range(5):
                next(steps)  # steps 2-6: a flush after steps 3 and 6
    assert record.to_device == [] and record.to_host == ["get", "get"], record
    assert record.syncs == ["get", "get"], record
    assert len(trainer.train_loss_list) == 6 and trainer.current_epoch == 1


def test_train_py_on_the_gpu_ends_as_on_the_cpu(tmp_path, data_dir):
    accuracies = {}
    for device in ("cpu", "gpu"):
        result = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--epochs", "2",
                                 "--no-progress", "--out", device, "--dtype", "float64"],
                                capture_output=True, text=True, timeout=600, cwd=tmp_path,
                                env=dict(os.environ, XPNET_DEVICE=device, XPNET_DATA_DIR=data_dir))
        assert result.returncode == 0, result.stderr
        assert f", {device}{':0' if device == 'gpu' else ''}, float64" in result.stderr
        metrics = json.loads((tmp_path / device / "metrics.json").read_text())
        accuracies[device] = metrics["test_accuracy"], metrics["history"]["train_loss"]
    assert accuracies["gpu"][0] == pytest.approx(accuracies["cpu"][0], abs=2e-4)  # 2 images
    np.testing.assert_allclose(accuracies["gpu"][1], accuracies["cpu"][1], rtol=1e-6)


FAST = ["--model", "multi_layer_extend", "--dropout", "0.2", "--batchnorm", "--eval-samples",
        "500", "--no-progress", "--batch-size", "250", "--epochs", "3"]


def test_ctrl_c_and_resume_on_the_gpu_is_bit_exact_and_loads_on_a_cpu(tmp_path, data_dir):
    env = dict(os.environ, XPNET_DEVICE="gpu", XPNET_DATA_DIR=data_dir)
    command = [sys.executable, os.path.join(ROOT, "train.py"), *FAST]
    code, rest = ctrl_c_after([*command, "--out", "stopped"], "epoch 1/3", 300, cwd=tmp_path,
                              env=env)
    assert code == 130, rest
    assert "stopped: saved" in rest
    for args in ([*command, "--out", "whole"], [*command[:2], "--resume", "--out", "stopped"]):
        result = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                                env=env)
        assert result.returncode == 0, result.stderr
    assert_same_run(tmp_path / "stopped", tmp_path / "whole")
    # the GPU's checkpoint on a machine without CuPy: plain arrays, resumed on the CPU
    code = ("import sys; sys.modules['cupy'] = None; from xpnet.cli.train import main; "
            "sys.exit(main(sys.argv[1:]))")
    cpu = subprocess.run([sys.executable, "-c", code, "--resume", "--epochs", "4", "--out", "whole"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         env=dict(env, XPNET_DEVICE="cpu"))
    assert cpu.returncode == 0, cpu.stderr
    assert "resumed whole after 3 of 4 epochs" in cpu.stderr and ", cpu, " in cpu.stderr


def test_gpu_dropout_masks_continue_from_a_saved_state(gpu):
    """The device's stream is a count: restored, it draws what it would have drawn."""
    from xpnet.backend import random
    x = gpu.send(np.zeros((3, 50), dtype=np.float32))
    xpnet.seed(7)
    random.rand_like(x)
    state = random.get_state()
    assert state["device_draws"] == 1
    following = xpnet.asnumpy(random.rand_like(x))
    xpnet.seed(8)
    random.set_state(json.loads(json.dumps(state)))  # as a checkpoint keeps it
    np.testing.assert_array_equal(xpnet.asnumpy(random.rand_like(x)), following)
    host = random.counter_uniform(np, x.shape, np.float32, random._stream_key(2))
    np.testing.assert_array_equal(host, following)  # NumPy computes the same numbers
    assert 0.4 < following.mean() < 0.6 and not np.array_equal(following[0], following[1])


def test_a_network_moves_between_gpus(standin):
    """CuPy's asarray leaves an array on its own GPU: moving to another takes a copy."""
    import cupy
    with xpnet.using_device("gpu:0"):
        net = SimpleConvNet()
    before = {k: xpnet.asnumpy(v) for k, v in net.params.items()}
    net.to("gpu:1")
    assert {v.device.id for v in net.params.values()} == {1}
    assert net.layers["Conv1"].W is net.params["W1"]  # the layers follow
    for key, value in net.params.items():
        np.testing.assert_array_equal(xpnet.asnumpy(value), before[key])
    with cupy.cuda.Device(0):  # gpu:0 current, the network on gpu:1: its kernels follow it
        x = xpnet.to_device(np.ones((2, 1, 28, 28), np.float32), "gpu:1")
        assert net.predict(x).device.id == 1
