"""The training recipe past the book: learning-rate schedules, decoupled weight decay, augmentation.

Each is checked against its formula, on the GPU stand-in against the CPU, and
through a stopped and resumed run, which must equal the run never stopped.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import xpnet
from helpers import ROOT, STANDIN_CUPY, assert_same_run, ctrl_c_after
from test_cli import one_line_error
from xpnet import asnumpy
from xpnet.augment import Augment
from xpnet.checkpoint import read_checkpoint, save_checkpoint
from xpnet.errors import ShapeError
from xpnet.kernels import cpu, crop_flip, small
from xpnet.models.sequential import Sequential, affine, batch_norm, conv, flatten, pool, relu
from xpnet.optimizers import OPTIMIZERS, Adam, AdamW, Momentum, get_optimizer
from xpnet.schedules import Schedule, make_schedule
from xpnet.trainer import Trainer


# -- schedules --------------------------------------------------------------------------
def test_cosine_warms_up_then_falls_to_zero():
    s = Schedule("cosine", total_steps=110, warmup_steps=10)
    assert [s(k) for k in range(3)] == [0.1, 0.2, pytest.approx(0.3)]
    assert s(9) == 1.0 and s(10) == 1.0
    assert s(60) == pytest.approx(0.5)  # half-way through the cosine
    assert s(109) == pytest.approx(0.5 * (1 + math.cos(math.pi * 99 / 100)))
    assert all(s(k) >= s(k + 1) for k in range(10, 109))


def test_step_divides_by_ten_at_half_and_three_quarters():
    s = Schedule("step", total_steps=100)
    assert (s(0), s(49), s(50), s(74)) == (1.0, 1.0, pytest.approx(0.1), pytest.approx(0.1))
    assert s(75) == pytest.approx(0.01) and s(99) == pytest.approx(0.01)


def test_one_cycle_rises_from_a_25th_to_the_peak_then_falls_to_zero():
    s = Schedule("one_cycle", total_steps=100)  # warm-up: 30% of the run
    assert s(0) == pytest.approx(1 / 25) and s(30) == 1.0 and s(15) == pytest.approx(0.52)
    assert s(65) == pytest.approx(0.5) and s(99) == pytest.approx(1 / 70)
    assert Schedule("one_cycle", total_steps=100, warmup_steps=10)(10) == 1.0


def test_no_schedule_is_none_and_bad_ones_say_why():
    assert make_schedule(None, 10) is None and make_schedule("constant", 10) is None
    assert make_schedule("constant", 10, 5)(2) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="unknown schedule 'linear'; choose one of: constant"):
        Schedule("linear", 10)
    with pytest.raises(ValueError, match=r"warmup_steps must be in \[0, 10\)"):
        Schedule("cosine", 10, warmup_steps=10)


def test_an_optimizer_follows_its_schedule_and_resumes_on_it():
    params = {"W1": np.ones(3)}
    schedule = Schedule("cosine", total_steps=8, warmup_steps=2)
    opt = Momentum(lr=0.5, schedule=schedule)
    seen = []
    for _ in range(4):
        opt.update(params, {"W1": np.ones(3)})
        seen.append(opt.lr)
    assert seen == [0.5 * schedule(k) for k in range(4)]
    resumed = Momentum(lr=0.5, schedule=schedule)
    resumed.load_state_dict(opt.state_dict(), params)
    resumed.update(dict(params), {"W1": np.ones(3)})
    assert resumed.lr == 0.5 * schedule(4) and resumed.iter == 5


# -- decoupled weight decay -----------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_decoupled_decay_shrinks_the_weights_of_every_optimizer_and_nothing_else(name):
    """With zero gradients only the decay moves anything: W by (1 - lr wd) a step."""
    params = {"W1": np.full(4, 2.0), "b1": np.full(4, 2.0), "gamma1": np.full(4, 2.0)}
    opt = get_optimizer(name, lr=0.1, weight_decay=0.5)
    for _ in range(3):
        opt.update(params, {k: np.zeros(4) for k in params})
    np.testing.assert_allclose(params["W1"], 2.0 * 0.95 ** 3, rtol=1e-15)
    assert (params["b1"] == 2.0).all() and (params["gamma1"] == 2.0).all()


def test_adamw_is_adam_after_the_decay_step(rng):
    """PyTorch's AdamW order: W *= 1 - lr*wd, then the Adam step (xpnet's book-form Adam)."""
    w = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(5)]
    ours, reference = {"W1": w.copy()}, {"W1": w.copy()}
    adamw, adam = AdamW(lr=0.01), Adam(lr=0.01)
    assert adamw.weight_decay == 0.01
    for g in grads:
        adamw.update(ours, {"W1": g})
        reference["W1"] *= 1 - 0.01 * 0.01
        adam.update(reference, {"W1": g})
    np.testing.assert_array_equal(ours["W1"], reference["W1"])


def test_a_decay_that_would_flip_the_weights_is_refused():
    with pytest.raises(ValueError, match=r"weight_decay must be in \[0, 1/lr\), got 20"):
        Momentum(lr=0.1, weight_decay=20)


# -- augmentation ---------------------------------------------------------------------
def _reference_crop_flip(x, oy, ox, flip, pad):
    out = np.empty_like(x)
    for n in range(len(x)):
        padded = np.pad(x[n], ((0, 0), (pad, pad), (pad, pad)))
        crop = padded[:, oy[n]:oy[n] + x.shape[2], ox[n]:ox[n] + x.shape[3]]
        out[n] = crop[:, :, ::-1] if flip[n] else crop
    return out


CROPS = [((6, 3, 8, 8), 4), ((5, 1, 7, 9), 2), ((3, 2, 4, 5), 0)]


@pytest.mark.parametrize("shape, pad", CROPS)
def test_crop_flip_kernels_equal_the_definition(rng, shape, pad):
    x = rng.random(shape).astype(np.float32)
    oy, ox = (rng.integers(0, 2 * pad + 1, shape[0]).astype(np.int32) for _ in range(2))
    flip = rng.integers(0, 2, shape[0]).astype(np.int32)
    expected = _reference_crop_flip(x, oy, ox, flip, pad)
    for kernel in (small, cpu):
        np.testing.assert_array_equal(kernel.crop_flip(x, oy, ox, flip, pad), expected)


@pytest.mark.parametrize("shape, pad", CROPS)
def test_crop_flip_on_the_gpu_equals_the_cpu(rng, gpu, shape, pad):
    x = rng.random(shape)
    oy, ox = (rng.integers(0, 2 * pad + 1, shape[0]).astype(np.int32) for _ in range(2))
    flip = rng.integers(0, 2, shape[0]).astype(np.int32)
    on_gpu = crop_flip(*(gpu.send(a) for a in (x, oy, ox, flip)), pad)
    np.testing.assert_array_equal(asnumpy(on_gpu), cpu.crop_flip(x, oy, ox, flip, pad))


def test_augment_draws_every_offset_and_flips_half_repeatably():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4).repeat(4000, axis=0)
    xpnet.seed(3)
    a = Augment(pad=1)(x)
    xpnet.seed(3)
    np.testing.assert_array_equal(Augment(pad=1)(x), a)
    assert Augment(pad=1)(x).tolist() != a.tolist()  # the next batch draws anew
    outcomes = {}
    for image in a:  # 3 x 3 offsets x 2 flips: 18 equally likely images
        outcomes[image.tobytes()] = outcomes.get(image.tobytes(), 0) + 1
    assert len(outcomes) == 18 and min(outcomes.values()) > 4000 / 18 * 0.7
    assert (Augment(pad=0, flip=False)(x) is x)


def test_augmenting_flat_vectors_is_a_clear_error():
    with pytest.raises(ShapeError, match=r"augmentation needs images \(N, C, H, W\); got shape "
                                         r"\(5, 784\)"):
        Augment()(np.zeros((5, 784), dtype=np.float32))


def test_the_gpu_augments_on_the_device_without_copies(gpu):
    if not STANDIN_CUPY:
        pytest.skip("counting needs the CuPy stand-in")
    from cupy import standin
    x = gpu.send(np.random.default_rng(0).random((8, 3, 6, 6), dtype=np.float32))
    xpnet.seed(0)
    with standin.counting() as record:
        out = Augment(pad=2)(x)
    assert record.to_device == [] and record.to_host == [] and out.shape == x.shape
    # each image is a crop of its padded self: its pixel sum can only fall
    assert (asnumpy(out).sum(axis=(1, 2, 3)) <= asnumpy(x).sum(axis=(1, 2, 3)) + 1e-4).all()


# -- all of it, stopped and resumed ---------------------------------------------------
def _trainer(data, seed=1):
    xpnet.seed(seed)
    net = Sequential([conv(4, 3, pad=1), batch_norm(), relu(), pool(2), flatten(), affine(3)],
                     input_shape=(2, 6, 6))
    steps = 3 * 4  # 3 epochs of 4 steps
    optimizer = AdamW(lr=0.01, weight_decay=0.1, schedule=Schedule("one_cycle", steps))
    x, t = data
    return Trainer(net, x, t, x[:20], t[:20], epochs=3, mini_batch_size=16, optimizer=optimizer,
                   evaluate_sample_num_per_epoch=20, verbose=False, schedule="epochs",
                   sync_every=3, augment=Augment(pad=2))


@pytest.mark.parametrize("stop_after", [1, 5, 9])
def test_schedule_decay_and_augmentation_resume_bit_exact(tmp_path, rng, device, stop_after):
    data = rng.random((64, 2, 6, 6)).astype(np.float32), rng.integers(0, 3, 64)
    straight = _trainer(data)
    assert straight.fit()
    first = _trainer(data)
    steps = []
    assert not first.fit(on_step=lambda: steps.append(1),
                         should_stop=lambda: len(steps) >= stop_after)
    save_checkpoint(tmp_path / "ck.npz", first.network, first)
    resumed = _trainer(data, seed=77)
    read_checkpoint(tmp_path / "ck.npz")[2](resumed.network, resumed)
    assert resumed.fit()
    for key in straight.network.params:
        np.testing.assert_array_equal(asnumpy(resumed.network.params[key]),
                                      asnumpy(straight.network.params[key]), err_msg=key)
    assert resumed.train_loss_list == straight.train_loss_list
    assert resumed.optimizer.lr == straight.optimizer.lr


# -- xpnet-train with one's own data, network and recipe ----------------------------
MODEL_FILE = '''
from xpnet.models.sequential import Sequential, affine, batch_norm, conv, flatten, pool, relu

def build(input_shape, num_classes):
    return Sequential([conv(4, 3, pad=1), batch_norm(), relu(), pool(2), flatten(),
                       affine(num_classes)], {shape})
'''


@pytest.fixture
def own(tmp_path):
    """An .npz of 4-class 3x8x8 images (class = the brightest channel) and a model file."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 400), ("test", 100)):
        t = rng.integers(0, 4, n)
        x = rng.integers(0, 120, (n, 3, 8, 8))
        x[t < 3, t[t < 3]] += 120
        arrays[f"x_{split}"], arrays[f"t_{split}"] = x.astype(np.uint8), t
    np.savez(tmp_path / "shapes.npz", **arrays)
    (tmp_path / "small_net.py").write_text(MODEL_FILE.format(shape="input_shape"))
    return tmp_path


RECIPE = ["--dataset", "shapes.npz", "--model", "small_net.py", "--batch-size", "40",
          "--optimizer", "momentum", "--lr", "0.05", "--schedule", "cosine", "--warmup", "0.5",
          "--decoupled-decay", "0.01", "--crop", "1", "--flip", "--eval-samples", "0",
          "--no-progress"]


def test_own_data_and_network_train_and_a_stopped_run_resumes_bit_exact(own):
    command = [sys.executable, os.path.join(ROOT, "train.py"), *RECIPE, "--epochs", "6"]
    env = dict(os.environ, XPNET_DEVICE="cpu")
    whole = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=own, env=env)
    assert whole.returncode == 0, whole.stderr
    assert "training Sequential on " in whole.stderr and "runs/small_net-shapes" in whole.stderr
    metrics = json.loads((own / "runs" / "small_net-shapes" / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.9, metrics["history"]
    assert metrics["settings"]["schedule"] == "cosine" and metrics["settings"]["crop"] == 1
    code, rest = ctrl_c_after([*command, "--out", "stopped"], "epoch 2/6", 300, cwd=own, env=env)
    assert code == 130 and "stopped: saved" in rest, rest
    other = own / "elsewhere"  # the files are found from any folder: their paths were kept
    other.mkdir()
    resumed = subprocess.run([*command[:2], "--resume", "--out", str(own / "stopped"),
                              "--no-progress"], capture_output=True, text=True, timeout=300,
                             cwd=other, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(own / "stopped", own / "runs" / "small_net-shapes")


@pytest.mark.parametrize("args, message", [
    (["--model", "wrong_net.py"], "takes input (1, 28, 28) at its first layer (Conv1), but "
                                  "{own}/shapes.npz's samples are (3, 8, 8)"),
    (["--model", "empty.py"], "{own}/empty.py: the file defines no function build(input_shape, "
                              "num_classes)"),
    (["--model", "missing.py"], "--model {own}/missing.py: no such file"),
    (["--model", "two_layer", "--crop", "2"], "--crop and --flip augment images: --model "
                                              "two_layer reads flat vectors"),
    (["--warmup", "3", "--epochs", "3"], "--warmup must be >= 0 and less than --epochs (3)"),
    (["--decoupled-decay", "-1"], "--decoupled-decay must be a finite number >= 0, got -1.0"),
    (["--schedule", "linear"], "argument --schedule: invalid choice: 'linear'"),
    (["--dataset", "imagenet"], "argument --dataset: invalid choice: 'imagenet' (choose from "
                                "mnist, fashion-mnist, cifar10, or FILE.npz)"),
])
def test_a_bad_recipe_is_one_line_naming_what_is_wrong(own, args, message):
    (own / "wrong_net.py").write_text(MODEL_FILE.format(shape="(1, 28, 28)"))
    (own / "empty.py").write_text("x = 1\n")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--dataset",
                             "shapes.npz", "--epochs", "1", *args], capture_output=True,
                            text=True, timeout=120, cwd=own, env=dict(os.environ,
                                                                      XPNET_DEVICE="cpu"))
    assert message.format(own=own) in one_line_error(result)
