"""Numerical gradients against backprop (float64): the engine, backprop, and the book's loop.

The numeric/backprop ratio is the report's "÷ backprop" column. The book's
nditer loop is the reference row for TwoLayerNet at batch 3, the book's own
example (it takes seconds per call, so it runs one round).
"""
import pytest

import xpnet
from xpnet.gradcheck import gradient_check
from xpnet.models import MultiLayerNet, SimpleConvNet, TwoLayerNet
from xpnet.numerical import network_numerical_gradient
from xpnet.reference import book_numerical_gradient


@pytest.fixture(autouse=True)
def float64():
    xpnet.set_dtype("float64")
    yield
    xpnet.set_dtype("float32")


CASES = {
    "TwoLayerNet 784-50-10 b3": (lambda s: TwoLayerNet(784 if not s else 49, 50, 10), (784,), 3),
    "TwoLayerNet 784-50-10 b100": (lambda s: TwoLayerNet(784 if not s else 49, 50, 10), (784,), 100),
    "MultiLayerNet 784-100-100-10 b3": (lambda s: MultiLayerNet(784 if not s else 49, [100, 100], 10),
                                        (784,), 3),
}


def _data(device, rng, shape, n, smoke):
    """MNIST test images for 784-input networks (as in the book; about 80% of pixels are 0)."""
    if smoke and shape == (784,):
        return device.send(rng.random((n, 49))), device.send(rng.integers(0, 10, n))
    if shape == (784,):
        from xpnet.datasets import load_mnist
        _, (x, t) = load_mnist(download=False)
        return device.send(x[:n].astype("float64")), device.send(t[:n])
    return device.send(rng.random((n,) + shape)), device.send(rng.integers(0, 10, n))


@pytest.mark.parametrize("impl", ["xpnet", "backprop"])
@pytest.mark.parametrize("case", CASES)
def bench_numerical_gradient(measure, device, rng, smoke, case, impl):
    factory, shape, n = CASES[case]
    net = factory(smoke)
    x, t = _data(device, rng, shape, n, smoke)
    fn = (lambda: network_numerical_gradient(net, x, t)) if impl == "xpnet" else \
        (lambda: net.gradient(x, t))
    measure(fn, f"gradient {case}", device, impl, rounds=5 if impl == "xpnet" else 20)


def bench_numerical_gradient_book_loop(measure, rng, smoke):
    """The book's TwoLayerNet.numerical_gradient: the nditer loop over every parameter (CPU)."""
    factory, shape, n = CASES["TwoLayerNet 784-50-10 b3"]
    net = factory(smoke)
    x, t = _data(xpnet.get_device(), rng, shape, n, smoke)

    def book():
        loss_W = lambda W: net.loss(x, t)  # noqa: E731  (the book's spelling)
        return {key: book_numerical_gradient(loss_W, net.params[key]) for key in net.params}

    measure(book, "gradient TwoLayerNet 784-50-10 b3", xpnet.get_device(), "book", rounds=1,
            warmup=0)  # 16 s a round, and nothing to warm up


@pytest.mark.parametrize("impl", ["xpnet", "backprop"])
@pytest.mark.parametrize("mode", ["sample", "directional"])
def bench_gradient_check_simple_convnet(measure, device, rng, smoke, mode, impl):
    """SimpleConvNet checks: 20 sampled elements per parameter, or one direction; and backprop alone."""
    net = SimpleConvNet(hidden_size=100 if not smoke else 10)
    x, t = device.send(rng.random((3, 1, 28, 28))), device.send(rng.integers(0, 10, 3))
    fn = (lambda: gradient_check(net, x, t, mode=mode, samples=20)) if impl == "xpnet" else \
        (lambda: net.gradient(x, t))
    measure(fn, f"gradient check SimpleConvNet b3 {mode}", device, impl,
            rounds=3 if impl == "xpnet" else 20)
