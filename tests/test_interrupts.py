"""A run stopped at any moment resumes into exactly the run that was never stopped.

Two levels: the Trainer stopped at every point where a stop can take effect
(in process, deterministic), and the command killed at random moments with
Ctrl-C (SIGINT) and kill -9 (SIGKILL). Either way the parameters, optimizer
state and whole history at the end are bit-identical to an uninterrupted run.
"""
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import xpnet
from helpers import ROOT, assert_same_run
from xpnet.checkpoint import read_checkpoint, save_checkpoint
from xpnet.models import MultiLayerNetExtend
from xpnet.trainer import Trainer

KILL_TRIALS = int(os.environ.get("XPNET_KILL_TRIALS", "6"))


def _trainer(data, seed=5):
    xpnet.seed(seed)
    net = MultiLayerNetExtend(20, [16], 3, use_dropout=True, dropout_ration=0.2,
                              use_batchnorm=True, weight_decay_lambda=0.01)
    x, t = data
    return Trainer(net, x, t, x[:40], t[:40], epochs=3, mini_batch_size=16, optimizer="Adam",
                   optimizer_param={"lr": 0.01}, evaluate_sample_num_per_epoch=30,
                   verbose=False, schedule="epochs", sync_every=4)


def _stop_at(n):
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) == n
    return should_stop, calls


def test_stopped_at_every_possible_moment_the_run_resumes_exactly(tmp_path, rng):
    data = rng.random((100, 20)).astype(np.float32), rng.integers(0, 3, 100)
    straight = _trainer(data)
    should_stop, calls = _stop_at(0)
    assert straight.fit(should_stop=should_stop)
    moments = len(calls)  # every step, every evaluation chunk, every epoch boundary
    assert moments > 3 * straight.iter_per_epoch
    for n in range(1, moments + 1):
        first = _trainer(data)
        assert not first.fit(should_stop=_stop_at(n)[0])
        save_checkpoint(tmp_path / "ck.npz", first.network, first)
        resumed = _trainer(data, seed=999)  # another generator state: the checkpoint restores it
        read_checkpoint(tmp_path / "ck.npz")[2](resumed.network, resumed)
        assert resumed.fit()
        for key in straight.network.params:
            np.testing.assert_array_equal(resumed.network.params[key],
                                          straight.network.params[key], err_msg=f"{n}: {key}")
        assert resumed.train_loss_list == straight.train_loss_list, n
        assert resumed.train_acc_list == straight.train_acc_list, n
        assert resumed.test_acc_list == straight.test_acc_list, n
        assert resumed.optimizer.iter == straight.optimizer.iter


ARGS = ["--model", "simple_convnet", "--epochs", "2", "--eval-samples", "300", "--no-progress"]


def _start(out, data_dir, *extra):
    env = dict(os.environ, XPNET_DEVICE="cpu", XPNET_DATA_DIR=data_dir)
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), *ARGS, "--out",
                             str(out), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _run_to_the_end(out, data_dir, *extra):
    proc = _start(out, data_dir, *extra)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return err


@pytest.mark.slow
def test_killed_at_random_moments_the_run_resumes_exactly(tmp_path, data_dir):
    """SIGINT and SIGKILL at random moments of a real run, then --resume: the same run.

    A kill that comes after the run already finished (a busy machine made the first run
    slow) counts for nothing and narrows the window for the next ones.
    """
    straight = tmp_path / "straight"
    start = time.perf_counter()
    _run_to_the_end(straight, data_dir)
    window = time.perf_counter() - start
    chance = random.Random(os.environ.get("XPNET_KILL_SEED", "0"))
    killed, resumed, attempts = 0, 0, 0
    while killed < KILL_TRIALS and attempts < 3 * KILL_TRIALS:
        attempts += 1
        out = tmp_path / f"attempt{attempts}"
        kind = (signal.SIGINT, signal.SIGKILL)[killed % 2]
        proc = _start(out, data_dir)
        wait = chance.uniform(0.3, window)
        time.sleep(wait)
        proc.send_signal(kind)
        _, err = proc.communicate(timeout=120)
        if proc.returncode == 0:  # it finished first: nothing to resume
            window = max(0.6, 0.8 * wait)
            continue
        assert "Traceback" not in err, err
        if kind == signal.SIGINT:
            assert proc.returncode == 130, err
            assert "stopped: saved" in err or "interrupted before training started" in err, err
        if (out / "checkpoint.npz").exists():
            _run_to_the_end(out, data_dir, "--resume")
            resumed += 1
        else:  # killed before the first checkpoint: a fresh start is the whole run
            _run_to_the_end(out, data_dir, "--overwrite")
        assert_same_run(straight, out)
        assert (straight / "loss.png").read_bytes() == (out / "loss.png").read_bytes()
        assert not [f for f in os.listdir(out) if f.endswith(".tmp")]
        killed += 1
    print(f"{attempts} attempts: {killed} kills before the end, {resumed} of them resumed from a "
          f"checkpoint; all bit-identical to the uninterrupted run")
    assert killed == KILL_TRIALS and resumed >= 1


def test_ctrl_c_after_the_run_finished_leaves_it_finished(tmp_path, data_dir):
    """Once the last line is out the run is saved: a Ctrl-C then must not kill the process
    by the signal (it did, while Python shut down for 0.5-0.9 s, exit status -2)."""
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), "--model", "two_layer",
                             "--epochs", "1", "--no-progress", "--out", str(tmp_path / "run")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, XPNET_DEVICE="cpu", XPNET_DATA_DIR=data_dir))
    assert proc.stdout.readline().startswith("test accuracy")
    time.sleep(0.05)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 0
