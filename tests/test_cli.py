"""train.py end to end: outputs, resume, Ctrl-C, divergence, bad arguments."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from xpnet.serialization import load_arrays

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = ["--model", "two_layer", "--eval-samples", "500", "--no-progress", "--batch-size", "250"]


def train(*args, timeout=300, data_dir=None):
    env = dict(os.environ, XPNET_DEVICE="cpu")
    if data_dir:
        env["XPNET_DATA_DIR"] = data_dir
    return subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_one_epoch_end_to_end(tmp_path, data_dir):
    out = tmp_path / "run"
    result = train(*FAST, "--epochs", "1", "--out", str(out), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and "images/s" in result.stdout
    for name in ("metrics.json", "metrics.csv", "loss.png", "accuracy.png", "checkpoint.npz"):
        assert (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.3 and metrics["device"] == "cpu"  # chance: 0.1
    assert len(metrics["history"]["train_loss"]) == 20
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_equals_uninterrupted(tmp_path, data_dir):
    straight, split = tmp_path / "straight", tmp_path / "split"
    args = [*FAST, "--model", "multi_layer_extend", "--hidden", "30", "--dropout", "0.2",
            "--batchnorm", "--weight-decay", "0.001"]
    assert train(*args, "--epochs", "2", "--out", str(straight), data_dir=data_dir).returncode == 0
    assert train(*args, "--epochs", "1", "--out", str(split), data_dir=data_dir).returncode == 0
    resumed = train(*args, "--epochs", "2", "--out", str(split), "--resume", data_dir=data_dir)
    assert resumed.returncode == 0, resumed.stderr
    a = load_arrays(straight / "checkpoint.npz")
    b = load_arrays(split / "checkpoint.npz")
    for key in a:
        if key.startswith(("param/", "opt/")):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_ctrl_c_saves_and_exits_cleanly(tmp_path, data_dir):
    out = tmp_path / "run"
    env = dict(os.environ, XPNET_DEVICE="cpu", XPNET_DATA_DIR=data_dir)
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), "--model",
                             "simple_convnet", "--epochs", "50", "--no-progress", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 240  # a cold Numba cache compiles the kernels first
    while not (out / "checkpoint.npz").exists() and time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    time.sleep(1)  # into the second epoch
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "at epoch 2" in err
    assert "interrupted: saved" in err and "--resume" in err
    assert "Traceback" not in err
    assert (out / "checkpoint.npz").exists()


def test_ctrl_c_before_training_exits_cleanly(tmp_path):
    """Ctrl-C while the data loads (or kernels compile): exit 130, one line, nothing saved."""
    result = subprocess.run([sys.executable, "-c", "import os, signal, sys, xpnet.cli as c; "
                             "c.load_data = lambda *a: os.kill(os.getpid(), signal.SIGINT); "
                             f"sys.exit(c.main(['--out', {str(tmp_path / 'o')!r}]))"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "xpnet-train: interrupted before training started"
    assert "Traceback" not in result.stderr


def test_divergence_stops_with_a_message(tmp_path, data_dir):
    result = train(*FAST, "--optimizer", "sgd", "--lr", "1e30", "--epochs", "3", "--out",
                   str(tmp_path / "run"), data_dir=data_dir)
    assert result.returncode == 1
    assert "the loss became" in result.stderr and "last good checkpoint" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["--epochs", "-1"], "--epochs must be >= 0, got -1"),
    (["--lr", "0"], "--lr must be > 0"),
    (["--device", "gpu"], "pip install cupy-cuda12x"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--resume"], "--resume: no checkpoint at"),
])
def test_bad_arguments_one_line(tmp_path, args, message):
    env_code = "import sys; sys.modules['cupy'] = None; sys.argv[0] = 'train.py'; " \
               "from xpnet.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", env_code, *args, "--out", str(tmp_path / "o")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a directory")
    result = train("--out", str(blocker / "run"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"xpnet-train: error: output directory {blocker / 'run'} is not writable (Not a directory)"]


def test_help_explains_every_option():
    result = train("--help")
    for option in ("--model", "--dataset", "--optimizer", "--lr", "--epochs", "--batch-size",
                   "--weight-decay", "--dropout", "--batchnorm", "--seed", "--device", "--out",
                   "--resume"):
        assert option in result.stdout
