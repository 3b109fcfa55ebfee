"""Data-parallel training over MPI: 2 ranks agree with 1 process; failures end the job.

The multi-process tests start ``mpiexec -n 2`` (MPICH's, installed with the
test extra); they are skipped, saying why, where mpiexec or mpi4py is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from helpers import ROOT, STANDIN_CUPY, assert_same_run, ctrl_c_after
from mpi_programs import one_step, own_loop
from xpnet.backend import gpu_report, random
from xpnet.launcher import cores_per_rank, mpi_launch

MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
FAST = ["--model", "two_layer", "--dtype", "float64", "--eval-samples", "500", "--no-progress",
        "--batch-size", "250"]


def _mpi_missing():
    if MPIEXEC is None:
        return "mpiexec not found: pip install 'xpnet[mpi]'"
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py not installed: pip install 'xpnet[mpi]'"
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


def mpiexec(*args, ranks=2, timeout=240, env=None, **kwargs):
    path = os.pathsep.join(p for p in (os.path.join(ROOT, "tests"), os.environ.get("PYTHONPATH"))
                           if p)  # and the CuPy stand-in's, where the tests use it
    full_env = dict(os.environ, XPNET_DEVICE="cpu", PYTHONPATH=path)
    full_env.update(env or {})
    return subprocess.run([MPIEXEC, "-n", str(ranks), sys.executable, *args], capture_output=True,
                          text=True, timeout=timeout, env=full_env, **kwargs)


def train_py(*args, data_dir, cwd, device="cpu"):
    return mpiexec(os.path.join(ROOT, "train.py"), *args, cwd=cwd,
                   env={"XPNET_DATA_DIR": data_dir, "XPNET_DEVICE": device})


# -- one process, no MPI needed --------------------------------------------------------------
def test_launcher_is_read_from_mpiexec_environment():
    assert mpi_launch({}) is None
    assert mpi_launch({"PMI_RANK": "0", "PMI_SIZE": "1"}) is None  # mpiexec -n 1: one process
    hydra = {"PMI_RANK": "1", "PMI_SIZE": "4", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "2"}
    assert mpi_launch(hydra) == (1, 4, 1, 2)
    open_mpi = {"OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "4",
                "OMPI_COMM_WORLD_LOCAL_RANK": "1", "OMPI_COMM_WORLD_LOCAL_SIZE": "2"}
    assert mpi_launch(open_mpi) == (3, 4, 1, 2)
    cores = len(os.sched_getaffinity(0))
    assert cores_per_rank(hydra) == max(1, cores // 2)
    assert cores_per_rank({}) == cores


def test_ranks_draw_their_own_random_numbers_and_rank_0_a_single_process_s():
    draws = {}
    for rank in (0, 1, 0, 1):
        random.seed(3, rank=rank)
        draws.setdefault(rank, []).append(random.host_rng().random(5))
    random.seed(3)
    single = random.host_rng().random(5)
    np.testing.assert_array_equal(draws[0][0], draws[0][1])  # reproducible
    np.testing.assert_array_equal(draws[1][0], draws[1][1])
    assert not np.array_equal(draws[0][0], draws[1][0])  # dropout masks differ across ranks
    np.testing.assert_array_equal(draws[0][0], single)


def test_distributed_without_mpi4py_says_what_to_install(tmp_path):
    code = ("import sys; sys.modules['mpi4py'] = None; import xpnet.cli.train as c; "
            f"sys.exit(c.main(['--distributed', '--out', {str(tmp_path / 'o')!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "pip install 'xpnet[mpi]'" in result.stderr and "mpiexec -n N" in result.stderr


# -- two ranks -------------------------------------------------------------------------------
def arrays_from_two_ranks(program, tmp_path, device="cpu"):
    """Run tests/mpi_programs/PROGRAM on 2 ranks; the arrays rank 0 wrote."""
    out = tmp_path / "rank0.npz"
    result = mpiexec(os.path.join(ROOT, "tests", "mpi_programs", program), str(out),
                     env={"XPNET_DEVICE": device})
    assert result.returncode == 0, result.stderr
    return np.load(out)


def _two_gpus_or_skip(device, request):
    """On the GPU: a clean skip, saying why, unless there are two GPUs (one per rank)."""
    if device == "gpu":
        request.getfixturevalue("gpu")  # no GPU at all
        if len(gpu_report()["devices"]) < 2:
            pytest.skip("two ranks on GPUs need two GPUs, one per rank")


@needs_mpi
@pytest.mark.parametrize("device", ["cpu", pytest.param("gpu", marks=pytest.mark.gpu)])
def test_one_step_of_two_ranks_equals_one_process(tmp_path, device, request):
    """On GPUs each rank takes the GPU of its local rank and the sums go through NCCL (on the
    stand-in, its NCCL over MPI); the step copies only the epoch's order to the device and
    waits for nothing."""
    _two_gpus_or_skip(device, request)
    two = arrays_from_two_ranks("one_step.py", tmp_path, device)
    if device == "gpu" and STANDIN_CUPY:
        for rank in (0, 1):
            seen = json.loads((tmp_path / f"rank0.npz.rank{rank}.json").read_text())
            assert seen["device"] == f"gpu:{rank}"
            for model, record in seen["records"].items():
                assert record == {"to_device": ["asarray"], "to_host": [], "syncs": []}, model
    for model in one_step.MODELS:
        params, loss, _ = one_step.step(model)
        np.testing.assert_allclose(two[f"{model}/loss"], loss, rtol=1e-10, err_msg=model)
        for key, value in params.items():
            np.testing.assert_allclose(two[f"{model}/{key}"], value, rtol=1e-10, atol=1e-14,
                                       err_msg=f"{model} {key}")


@needs_mpi
def test_a_loop_of_ones_own_with_distributed_optimizer(tmp_path):
    two = arrays_from_two_ranks("own_loop.py", tmp_path)
    for key, value in own_loop.reference().items():
        np.testing.assert_allclose(two[key], value, rtol=1e-10, atol=1e-14, err_msg=key)


@needs_mpi
def test_training_on_two_ranks_matches_one_process_and_repeats(tmp_path, data_dir):
    one = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), *FAST, "--epochs", "2",
                          "--out", "one"], capture_output=True, text=True, timeout=240,
                         cwd=tmp_path, env=dict(os.environ, XPNET_DATA_DIR=data_dir))
    assert one.returncode == 0, one.stderr
    for name in ("a", "b"):
        result = train_py(*FAST, "--epochs", "2", "--out", name, data_dir=data_dir, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "on 2 ranks" in result.stderr
        assert result.stdout.count("test accuracy") == 1  # rank 0 alone reports
    assert_same_run(tmp_path / "a", tmp_path / "b")  # same seed and ranks: bit-identical
    single, double = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("one", "a"))
    assert double["test_accuracy"] == single["test_accuracy"]
    assert double["history"]["test_acc"] == single["history"]["test_acc"]
    np.testing.assert_allclose(double["history"]["train_loss"], single["history"]["train_loss"],
                               rtol=1e-10)


@needs_mpi
@pytest.mark.parametrize("device", ["cpu", pytest.param("gpu", marks=pytest.mark.gpu)])
def test_ctrl_c_on_two_ranks_saves_and_resume_continues_exactly(tmp_path, data_dir, device,
                                                                 request):
    """On GPUs too, where the ranks read their vote to stop with the losses, every few steps."""
    _two_gpus_or_skip(device, request)
    full_env = dict(os.environ, XPNET_DEVICE=device, XPNET_DATA_DIR=data_dir)
    args = [MPIEXEC, "-n", "2", sys.executable, os.path.join(ROOT, "train.py"), *FAST,
            "--batch-size", "50", "--epochs", "3"]
    # Ctrl-C (mpiexec passes it to every rank) once epoch 1 is done
    code, rest = ctrl_c_after([*args, "--out", "stopped"], "epoch 1/3", 120, cwd=tmp_path,
                              env=full_env)
    assert code == 130, rest
    assert "stopped: saved" in rest and rest.count("stopping after this step") == 1
    resumed = train_py("--resume", "--out", "stopped", data_dir=data_dir, cwd=tmp_path,
                       device=device)
    assert resumed.returncode == 0, resumed.stderr
    whole = train_py(*FAST, "--batch-size", "50", "--epochs", "3", "--out", "whole",
                     data_dir=data_dir, cwd=tmp_path, device=device)
    assert whole.returncode == 0, whole.stderr
    assert_same_run(tmp_path / "stopped", tmp_path / "whole")
    alone = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--resume", "--epochs",
                            "4", "--out", "whole"], capture_output=True, text=True, timeout=240,
                           cwd=tmp_path, env=full_env)
    assert alone.returncode == 0, alone.stderr  # a 2-rank run continues in one process


@needs_mpi
@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_failing_rank_ends_the_whole_job_quickly(tmp_path, data_dir, how):
    start = time.perf_counter()
    result = mpiexec(os.path.join(ROOT, "tests", "mpi_programs", "fail.py"), how, *FAST, "--out", "r",
                     env={"XPNET_DATA_DIR": data_dir}, cwd=tmp_path, timeout=120)
    assert result.returncode != 0
    assert time.perf_counter() - start < 60
    assert "test accuracy" not in result.stdout
    if how == "raise":
        assert "rank 1 ran out of something" in result.stderr
        assert "(rank 1)" in result.stderr or "rank 1" in result.stderr


@needs_mpi
def test_ranks_on_one_machine_share_its_cores():
    code = ("import xpnet, os; os.write(1, (os.environ['NUMBA_NUM_THREADS'] + ' ' + "
            "os.environ['OMP_NUM_THREADS'] + '\\n').encode())")  # one write: ranks never interleave
    result = mpiexec("-c", code)
    assert result.returncode == 0, result.stderr
    share = str(max(1, len(os.sched_getaffinity(0)) // 2))
    assert result.stdout.split() == [share, share] * 2
    mine = mpiexec("-c", code, env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    assert mine.stdout.split() == ["1", "1"] * 2  # what the user set wins
