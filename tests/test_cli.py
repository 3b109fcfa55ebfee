"""train.py end to end: outputs, run folders, resume, Ctrl-C, divergence, bad arguments."""
import json
import os
import stat
import subprocess
import sys

import pytest

from helpers import ROOT, assert_same_run

FAST = ["--model", "two_layer", "--eval-samples", "500", "--no-progress", "--batch-size", "250"]


def train(*args, timeout=300, data_dir=None, cwd=None, env=None):
    full_env = dict(os.environ, XPNET_DEVICE="cpu", **(env or {}))
    if data_dir:
        full_env["XPNET_DATA_DIR"] = data_dir
    return subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), *args],
                          capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd)


def one_line_error(result):
    """The single stderr line of a failed command (other lines: the dataset notice)."""
    lines = [line for line in result.stderr.strip().splitlines()
             if not line.startswith(("xpnet: the full", "resuming", "training ", "epoch "))]
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_one_epoch_end_to_end(tmp_path, data_dir):
    out = tmp_path / "run"
    result = train(*FAST, "--epochs", "1", "--out", str(out), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and "on all 10,000 test images" in result.stdout
    assert "\r" not in result.stderr  # no progress bar when stderr is not a terminal
    assert "epoch 1/1: mean loss" in result.stderr
    assert "test (500 of 10,000 sampled)" in result.stderr
    for name in ("metrics.json", "metrics.csv", "loss.png", "accuracy.png", "checkpoint.npz"):
        path = out / name
        assert path.stat().st_size > 0, name
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, name  # the umask's, not 0600
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "finished" and metrics["device"] == "cpu"
    assert metrics["test_accuracy"] > 0.3 and metrics["test_images"] == 10000
    assert metrics["accuracy_samples_per_epoch"] == {"train": 500, "test": 500}
    assert len(metrics["history"]["train_loss"]) == 20
    assert set(metrics["settings"]) == {"model", "dataset", "optimizer", "lr", "batch_size",
                                        "seed", "dtype", "eval_samples", "hidden", "schedule",
                                        "warmup", "crop", "flip", "decoupled_decay"}
    csv = (out / "metrics.csv").read_text().splitlines()
    assert csv[0] == ("epoch,mean_train_loss,train_acc,test_acc,train_samples_scored,"
                      "test_samples_scored")
    assert len(csv) == 2 and csv[1].endswith(",500,500")
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_run_gets_its_own_folder_and_resume_finds_the_latest(tmp_path, data_dir):
    first = train(*FAST, "--epochs", "1", cwd=tmp_path, data_dir=data_dir)
    second = train(*FAST, "--epochs", "1", "--seed", "3", cwd=tmp_path, data_dir=data_dir)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert sorted(os.listdir(tmp_path / "runs")) == ["two_layer-mnist", "two_layer-mnist-2"]
    assert "results in runs/two_layer-mnist-2" in second.stdout
    resumed = train(*FAST, "--epochs", "2", "--resume", cwd=tmp_path, data_dir=data_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming runs/two_layer-mnist-2, the latest run" in resumed.stderr
    metrics = json.loads((tmp_path / "runs" / "two_layer-mnist-2" / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["settings"]["seed"] == 3


def test_an_earlier_run_is_never_overwritten_silently(tmp_path, data_dir):
    out = tmp_path / "run"
    assert train(*FAST, "--epochs", "1", "--out", str(out), data_dir=data_dir).returncode == 0
    again = train(*FAST, "--epochs", "1", "--out", str(out), data_dir=data_dir)
    assert one_line_error(again) == (f"xpnet-train: error: {out} holds an earlier run; continue "
                                     f"it with --resume, replace it with --overwrite, or choose "
                                     f"another --out")
    replaced = train(*FAST, "--epochs", "1", "--seed", "4", "--out", str(out), "--overwrite",
                     data_dir=data_dir)
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads((out / "metrics.json").read_text())["settings"]["seed"] == 4


def test_resume_equals_uninterrupted(tmp_path, data_dir):
    straight, split = tmp_path / "straight", tmp_path / "split"
    args = [*FAST, "--model", "multi_layer_extend", "--hidden", "30", "--dropout", "0.2",
            "--batchnorm", "--weight-decay", "0.001"]
    assert train(*args, "--epochs", "3", "--out", str(straight), data_dir=data_dir).returncode == 0
    assert train(*args, "--epochs", "1", "--out", str(split), data_dir=data_dir).returncode == 0
    resumed = train("--epochs", "3", "--out", str(split), "--resume", "--no-progress",
                    data_dir=data_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stderr and "after 1 of 3 epochs" in resumed.stderr
    assert_same_run(straight, split)


def test_resume_refuses_settings_that_contradict_the_run(tmp_path, data_dir):
    out = tmp_path / "run"
    assert train(*FAST, "--epochs", "1", "--out", str(out), data_dir=data_dir).returncode == 0
    result = train("--model", "simple_convnet", "--resume", "--out", str(out), data_dir=data_dir)
    assert one_line_error(result) == (
        f"xpnet-train: error: --resume: --model simple_convnet contradicts the run in {out}, "
        f"which has model two_layer; leave --model out to resume it, or start a new run")
    result = train("--lr", "0.5", "--resume", "--out", str(out), data_dir=data_dir)
    assert "--lr 0.5 contradicts the run" in one_line_error(result)
    result = train("--dropout", "0.5", "--resume", "--out", str(out), data_dir=data_dir)
    assert "which has model two_layer, which does not take --dropout" in one_line_error(result)


def test_a_folder_in_use_is_refused_naming_the_process(tmp_path, data_dir):
    from xpnet.files import DirectoryLock
    out = tmp_path / "run"
    with DirectoryLock(out):
        result = train(*FAST, "--epochs", "1", "--out", str(out), data_dir=data_dir)
    assert one_line_error(result) == (f"xpnet-train: error: {out} is in use by the run in process "
                                      f"{os.getpid()}; wait for it to finish or choose another "
                                      f"output directory")


def test_ctrl_c_before_training_exits_cleanly(tmp_path):
    """Ctrl-C while the data loads (or kernels compile): exit 130, one line, nothing saved."""
    # raised in the main thread (os.kill lets any thread of the process take the signal),
    # and with SIGINT handled even when the test run ignores it (see conftest.py)
    result = subprocess.run([sys.executable, "-c", "import signal, sys, time, "
                             "xpnet.cli.train as c; c.load_data = lambda *a: "
                             "(signal.raise_signal(signal.SIGINT), time.sleep(60)); "
                             f"sys.exit(c.main(['--out', {str(tmp_path / 'o')!r}]))"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "xpnet-train: interrupted before training started"
    assert "Traceback" not in result.stderr


def test_divergence_in_the_first_epoch_names_no_checkpoint(tmp_path, data_dir):
    result = train(*FAST, "--optimizer", "sgd", "--lr", "1e30", "--epochs", "3", "--out",
                   str(tmp_path / "run"), data_dir=data_dir)
    line = one_line_error(result)
    assert line.startswith("xpnet-train: error: the loss ")
    assert "the learning rate (1e+30) is likely too high; no checkpoint was saved yet" in line


def test_a_loss_stuck_at_its_ceiling_is_divergence(tmp_path, data_dir):
    """lr 1e6 kept the loss finite at 15.47 and the run 'finished' at 10% before."""
    result = train(*FAST, "--optimizer", "sgd", "--lr", "1e6", "--epochs", "3", "--out",
                   str(tmp_path / "run"), data_dir=data_dir)
    line = one_line_error(result)
    assert "(its ceiling is 16.12: the right class gets probability ~0)" in line, line
    assert "the learning rate (1000000.0) is likely too high" in line


def test_a_nan_pixel_is_reported_as_a_data_problem(tmp_path, data_dir):
    code = ("import numpy as np, sys, xpnet.cli.train as c; load = c.load_data\n"
            "def poisoned(*a):\n"
            "    (x, t), test = load(*a)\n"
            "    x[123, 5] = np.nan\n"
            "    return (x, t), test\n"
            f"c.load_data = poisoned; sys.exit(c.main({FAST + ['--out', str(tmp_path / 'o')]!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, XPNET_DATA_DIR=data_dir))
    assert one_line_error(result) == ("xpnet-train: error: x_train: 1 sample(s) hold NaN or "
                                      "infinite values, the first at index 123; clean the data "
                                      "before training")


@pytest.mark.parametrize("args, message", [
    (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["--epochs", "-1"], "--epochs must be >= 0, got -1"),
    (["--lr", "0"], "--lr must be a finite number > 0, got 0.0"),
    (["--lr", "nan"], "--lr must be a finite number > 0, got nan"),
    (["--lr", "inf"], "--lr must be a finite number > 0, got inf"),
    (["--weight-decay", "nan", "--model", "multi_layer"], "--weight-decay must be a finite"),
    (["--device", "gpu"], "pip install cupy-cuda12x"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--resume"], "--resume: no run with a checkpoint under runs/ to resume"),
    (["--hidden", "10"], "--hidden does not apply to --model simple_convnet (only to two_layer, "
                         "multi_layer, multi_layer_extend)"),
    (["--weight-decay", "0.1"], "--weight-decay does not apply to --model simple_convnet"),
    (["--model", "multi_layer", "--dropout", "0.5"],
     "--dropout does not apply to --model multi_layer (only to multi_layer_extend)"),
    (["--model", "two_layer", "--batchnorm"], "--batchnorm does not apply to --model two_layer"),
    (["--model", "two_layer", "--hidden", "10", "20"], "two_layer has one hidden layer"),
    (["--resume", "--overwrite"], "--resume and --overwrite contradict each other"),
])
def test_bad_arguments_one_line(tmp_path, args, message):
    code = ("import sys; sys.modules['cupy'] = None; from xpnet.cli.train import main; "
            "sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert message in one_line_error(result)
    assert not (tmp_path / "runs").exists()


def test_optimizer_names_in_any_case_and_the_model_named(tmp_path, data_dir):
    result = train(*FAST, "--model", "multi_layer", "--optimizer", "Adam", "--epochs", "1",
                   "--out", str(tmp_path / "run"), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "training MultiLayerNet on mnist" in result.stderr


def test_zero_epochs_scores_the_initial_network_and_draws_no_plots(tmp_path, data_dir):
    out = tmp_path / "run"
    result = train(*FAST, "--epochs", "0", "--out", str(out), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "no epoch was trained, so there are no plots" in result.stderr
    assert not (out / "loss.png").exists() and (out / "metrics.json").exists()


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a directory")
    result = train("--out", str(blocker / "run"))
    assert one_line_error(result) == (f"xpnet-train: error: output directory {blocker / 'run'} is "
                                      f"not writable (Not a directory)")


def test_help_explains_every_option_with_its_default():
    result = train("--help")
    for option in ("--model", "--dataset", "--optimizer", "--lr", "--epochs", "--batch-size",
                   "--weight-decay", "--dropout", "--batchnorm", "--seed", "--device", "--out",
                   "--resume", "--overwrite", "--eval-samples", "--data-dir"):
        assert option in result.stdout
    assert "(default: simple_convnet)" in result.stdout and "(default: 15)" in result.stdout


def test_compiling_is_announced_on_a_cold_cache_only(tmp_path, data_dir):
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    # Numba's ReLU and Adam: 3.9 M elements a step, past the NumPy budget (50 M) within the epoch
    args = [*FAST, "--hidden", "3000", "--epochs", "1", "--data-dir", data_dir]
    cold = train(*args, "--out", str(tmp_path / "a"), env=env)
    warm = train(*args, "--out", str(tmp_path / "b"), env=env)
    assert cold.returncode == warm.returncode == 0, cold.stderr + warm.stderr
    notice = "compiling kernels (first run only: they are cached for later runs)..."
    assert cold.stderr.count(notice) == 1 and notice not in warm.stderr


def test_a_dead_writers_temporary_files_are_removed(tmp_path, data_dir):
    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    leftover = out / f".checkpoint.npz.{dead}.abc123.tmp"
    leftover.write_bytes(b"half a checkpoint")
    mine = out / f".checkpoint.npz.{os.getpid()}.live.tmp"  # a live writer's: kept
    mine.write_bytes(b"")
    assert train(*FAST, "--epochs", "1", "--out", str(out), data_dir=data_dir).returncode == 0
    assert not leftover.exists() and mine.exists()


def test_plots_of_one_epoch_have_a_sensible_axis(tmp_path, monkeypatch):
    from xpnet import plots
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append((fig, path)))
    history = {"train_loss": [2.3, 1.0, 0.5, 0.4], "train_acc": [0.8], "test_acc": [0.79]}
    plots.plot_history(history, 4, str(tmp_path), ("train (2,000 of 5,000 sampled)", "test"))
    (loss, _), (accuracy, _) = figures
    assert loss.axes[0].get_xlim() == (0.0, 1.0)
    assert accuracy.axes[0].get_xlim() == (0.5, 1.5)
    assert [t for t in accuracy.axes[0].get_xticks() if 0.5 <= t <= 1.5] == [1.0]
    labels = [t.get_text() for t in accuracy.axes[0].get_legend().get_texts()]
    assert labels == ["train (2,000 of 5,000 sampled)", "test"]
