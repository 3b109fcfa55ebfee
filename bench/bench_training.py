"""Training throughput: one step (forward + backward + Adam) of every network, float32.

Rows: xpnet; the book (its Trainer also recomputes the loss after each update,
and its Convolution/Pooling run on the book's im2col); PyTorch eager when
installed. ``images`` in extra_info turns a median into images/s. Also: time
for SimpleConvNet to reach 85% test accuracy on Fashion-MNIST.
"""
import time

import numpy as np
import pytest

from conftest import torch_device
from xpnet.models import DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, TwoLayerNet
from xpnet.optimizers import Adam
from xpnet.reference import bookify

MODELS = {
    "two_layer": (lambda: TwoLayerNet(784, 50, 10), (784,)),
    "multi_layer": (lambda: MultiLayerNet(784, [100] * 5, 10), (784,)),
    "multi_layer_extend": (lambda: MultiLayerNetExtend(784, [100] * 5, 10, use_batchnorm=True,
                                                       use_dropout=True, dropout_ration=0.2),
                           (784,)),
    "simple_convnet": (lambda: SimpleConvNet(), (1, 28, 28)),
    "deep_convnet": (lambda: DeepConvNet(), (1, 28, 28)),
}
BATCHES = (100, 500)


def _batch(device, rng, shape, n):
    return (device.send(rng.random((n,) + shape, dtype="float32")),
            device.send(rng.integers(0, 10, n)))


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("impl", ["xpnet", "book"])
@pytest.mark.parametrize("model", MODELS)
def bench_train_step(measure, device, rng, smoke, model, impl, batch):
    factory, shape = MODELS[model]
    batch = 8 if smoke else batch
    net = factory()
    if impl == "book":
        bookify(net)
    x, t = _batch(device, rng, shape, batch)
    optimizer = Adam()

    def step():
        optimizer.update(net.params, net.gradient(x, t))
        if impl == "book":
            net.loss(x, t)  # the book's Trainer.train_step recomputes the loss to log it

    rounds = 3 if model == "deep_convnet" else 10
    measure(step, f"train step {model} b{batch}", device, impl, rounds=rounds, images=batch)


def torch_model(torch, model):
    nn = torch.nn
    if model == "two_layer":
        return nn.Sequential(nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 10))
    if model in ("multi_layer", "multi_layer_extend"):
        layers, size = [], 784
        for _ in range(5):
            layers.append(nn.Linear(size, 100))
            if model == "multi_layer_extend":
                layers += [nn.BatchNorm1d(100), nn.ReLU(), nn.Dropout(0.2)]
            else:
                layers.append(nn.ReLU())
            size = 100
        return nn.Sequential(*layers, nn.Linear(100, 10))
    if model == "simple_convnet":
        return nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
                             nn.Linear(4320, 100), nn.ReLU(), nn.Linear(100, 10))
    def block(c_in, c_out, pad2):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                nn.Conv2d(c_out, c_out, 3, padding=pad2), nn.ReLU(), nn.MaxPool2d(2, 2)]
    return nn.Sequential(*block(1, 16, 1), *block(16, 32, 2), *block(32, 64, 1), nn.Flatten(),
                         nn.Linear(64 * 4 * 4, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 10),
                         nn.Dropout(0.5))


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("model", MODELS)
def bench_train_step_torch(measure, device, rng, smoke, torch, model, batch):
    where, _ = torch_device(torch, device)
    batch = 8 if smoke else batch
    net = torch_model(torch, model).to(where)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    shape = MODELS[model][1]
    x = torch.from_numpy(rng.random((batch,) + shape, dtype="float32")).to(where)
    t = torch.from_numpy(rng.integers(0, 10, batch)).to(where)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss_fn(net(x), t).backward()
        optimizer.step()

    rounds = 3 if model == "deep_convnet" else 10
    measure(step, f"train step {model} b{batch}", device, "torch", rounds=rounds, images=batch)


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
