"""Training throughput: one step (forward + backward + Adam) of every network, float32.

Rows: xpnet; the book's own networks and Adam (bench/book_code.py, from a checkout,
NumPy only; its Trainer also recomputes the loss after each update); PyTorch eager
when installed. ``images`` in extra_info turns a median into images/s. Also: time
for SimpleConvNet to reach 85% test accuracy on Fashion-MNIST.
"""
import json
import subprocess
import sys
import time

import numpy as np
import pytest

import book_code
from conftest import ROOT, probe, torch_device
from torch_nets import random_batch, torch_model, torch_step
from xpnet.models import DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, TwoLayerNet
from xpnet.models.vgg import VGG
from xpnet.optimizers import Adam

MODELS = {
    "two_layer": lambda: TwoLayerNet(784, 50, 10),
    "multi_layer": lambda: MultiLayerNet(784, [100] * 5, 10),
    "multi_layer_extend": lambda: MultiLayerNetExtend(784, [100] * 5, 10, use_batchnorm=True,
                                                      use_dropout=True, dropout_ration=0.2),
    "simple_convnet": SimpleConvNet,
    "deep_convnet": DeepConvNet,
    "vgg": VGG,  # 3x32x32 (CIFAR-10's images)
}
BATCHES = (100, 500)
# (model, batch): the book's networks at the book's batch and a large one; VGG at CIFAR's usual 128
CASES = [(m, b) for m in MODELS if m != "vgg" for b in BATCHES] + [("vgg", 128)]


def train_step(model, impl, x, t):
    """One training step (gradient, Adam's update) of xpnet's ``model``, or of the book's."""
    if impl == "book":
        return book_code.train_step(model, x, t)
    net, optimizer = MODELS[model](), Adam()
    return lambda: optimizer.update(net.params, net.gradient(x, t))


def _peak_rss(device, smoke, impl, model, batch):
    """extra_info: the peak RSS of a fresh process doing this step (CPU rows only)."""
    if device.name != "cpu":
        return {}
    return probe("memory", impl, model, 8 if smoke else batch)


@pytest.mark.parametrize("impl", ["xpnet", "book"])
@pytest.mark.parametrize("model, batch", CASES)
def bench_train_step(measure, device, smoke, model, impl, batch):
    if impl == "book" and (device.name != "cpu" or model == "vgg"):
        pytest.skip("the book's networks run on NumPy only; the book has no VGG")
    batch_size = 8 if smoke else batch
    step = train_step(model, impl, *map(device.send, random_batch(model, batch_size)))
    rounds = 3 if model in ("deep_convnet", "vgg") else 10
    measure(step, f"train step {model} b{batch}", device, impl, rounds=rounds, images=batch_size,
            **_peak_rss(device, smoke, impl, model, batch))


@pytest.mark.parametrize("model, batch", CASES)
def bench_train_step_torch(measure, device, smoke, torch, model, batch):
    where, _ = torch_device(torch, device)
    batch_size = 8 if smoke else batch
    x, t = (torch.from_numpy(a).to(where) for a in random_batch(model, batch_size))
    step = torch_step(torch, torch_model(torch, model).to(where), x, t)
    rounds = 3 if model in ("deep_convnet", "vgg") else 10
    measure(step, f"train step {model} b{batch}", device, "torch", rounds=rounds,
            images=batch_size, **_peak_rss(device, smoke, "torch", model, batch))


def bench_coexistence_torch(benchmark, device, smoke, torch):
    """xpnet's DeepConvNet step (batch 100) with PyTorch imported never / first / after, each
    in a fresh process, the three orders alternated; the report shows each one's median."""
    if device.name != "cpu":
        pytest.skip("coexistence concerns the CPU paths' OpenMP runtimes")
    model, batch, steps, rounds = (("simple_convnet", 8, 1, 1) if smoke
                                   else ("deep_convnet", 100, 9, 3))
    orders = ("never", "first", "after")

    def alternate():
        return [{order: probe("steps", order, model, batch, steps)["median_s"] for order in orders}
                for _ in range(rounds)]

    runs = benchmark.pedantic(alternate, rounds=1, iterations=1)
    benchmark.group = case = f"coexistence {model} b{batch}"
    benchmark.extra_info.update(case=case, device="cpu", impl="xpnet", table="coexistence",
                                **{order: [run[order] for run in runs] for order in orders})


def _end_to_end(benchmark, device, smoke, impl, job):
    """Time ``job()`` (a whole job in a fresh process, returning its test accuracy) once."""
    benchmark.group = case = "end to end: default train.py job"
    accuracy = benchmark.pedantic(job, rounds=1, iterations=1)
    benchmark.extra_info.update(case=case, device=device.name, impl=impl, table="end to end",
                                test_accuracy=accuracy, epochs=1 if smoke else 15)


def bench_end_to_end(benchmark, device, smoke, tmp_path):
    """Wall time of ``python train.py`` with its defaults (offline data), start to exit."""
    out = tmp_path / "run"
    command = [sys.executable, str(ROOT / "train.py"), "--out", str(out), "--no-progress",
               "--device", device.name, *(["--epochs", "1"] if smoke else [])]

    def job():
        subprocess.run(command, check=True, capture_output=True)
        with open(out / "metrics.json") as f:
            return json.load(f)["test_accuracy"]
    _end_to_end(benchmark, device, smoke, "xpnet", job)


def bench_end_to_end_torch(benchmark, device, smoke, torch, tmp_path):
    """The same job written in PyTorch (bench/torch_nets.py) in a fresh process, same data."""
    if device.name != "cpu":
        pytest.skip("the PyTorch job runs on the CPU")
    from xpnet.datasets import load_mnist
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=False)
    data = tmp_path / "mnist.npz"
    np.savez(data, x_train=x_train, t_train=t_train, x_test=x_test, t_test=t_test)
    epochs = 1 if smoke else 15
    _end_to_end(benchmark, device, smoke, "torch",
                lambda: probe("torch-train", data, epochs)["test_accuracy"])


def bench_time_to_accuracy(benchmark, device, smoke):
    """Seconds for SimpleConvNet (Adam, batch 100) to reach 85% on 2,000 Fashion-MNIST test images."""
    from xpnet.datasets import load_fashion_mnist
    from xpnet.errors import DataError
    try:
        (x_train, t_train), (x_test, t_test) = load_fashion_mnist(flatten=False, download=False)
    except DataError as e:
        pytest.skip(f"Fashion-MNIST not available offline: {e}")
    target, limit = (0.5, 200) if smoke else (0.85, 3 * 600)
    x_test, t_test = device.send(x_test[:2000]), device.send(t_test[:2000])
    x_train, t_train = device.send(x_train), device.send(t_train)

    def train_until_target():
        net, optimizer = SimpleConvNet(), Adam()
        order = np.random.default_rng(0).permutation(len(x_train))
        for step in range(1, limit + 1):
            idx = device.send(order[(step * 100) % len(order):][:100])
            optimizer.update(net.params, net.gradient(x_train[idx], t_train[idx]))
            if step % 100 == 0 and net.accuracy(x_test, t_test) >= target:
                return step
        return None

    benchmark.group = "time to 85% SimpleConvNet fashion-mnist"
    benchmark.extra_info.update(case=benchmark.group, device=device.name, impl="xpnet")
    start = time.perf_counter()
    steps = benchmark.pedantic(train_until_target, rounds=1, iterations=1)
    benchmark.extra_info.update(steps=steps, seconds=time.perf_counter() - start)
    assert steps is not None, f"did not reach {target} in {limit} steps"
