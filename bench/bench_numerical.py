"""Numerical gradients against backprop (float64): the engine, backprop, and the book's loop.

The numeric/backprop ratio is the report's "÷ backprop" column. The book's own
networks' ``numerical_gradient`` (its nditer loop; bench/book_code.py) is the
reference row at batch 3, the book's own example (it takes seconds per call, so
it runs one round). Inputs: MNIST test images (about 80% of the pixels are 0,
which the engine skips) and dense random ones, where every weight of the first
layer matters.
"""
import pytest

import book_code
import xpnet
from xpnet.gradcheck import gradient_check
from xpnet.models import MultiLayerNet, SimpleConvNet, TwoLayerNet
from xpnet.numerical import network_numerical_gradient


@pytest.fixture(autouse=True)
def float64():
    xpnet.set_dtype("float64")
    yield
    xpnet.set_dtype("float32")


def _two_layer(smoke):
    return TwoLayerNet(784 if not smoke else 49, 50, 10)


def _multi_layer(smoke):
    return MultiLayerNet(784 if not smoke else 49, [100, 100], 10)


CASES = {  # name: (network factory, batch, inputs)
    "TwoLayerNet 784-50-10 b3": (_two_layer, 3, "mnist"),
    "TwoLayerNet 784-50-10 b3 dense": (_two_layer, 3, "dense"),
    "TwoLayerNet 784-50-10 b100": (_two_layer, 100, "mnist"),
    "MultiLayerNet 784-100-100-10 b3": (_multi_layer, 3, "mnist"),
    "MultiLayerNet 784-100-100-10 b3 dense": (_multi_layer, 3, "dense"),
}
BOOK_CASES = [case for case in CASES if CASES[case][1] == 3]
# The book's network of each case: (model in book_code.NETWORKS, changed arguments)
BOOK_NETWORKS = {"TwoLayerNet": ("two_layer", {}),
                 "MultiLayerNet": ("multi_layer", {"hidden_size_list": [100, 100]})}


def _data(device, rng, n, inputs, smoke):
    """MNIST test images (as in the book) or uniform random values in [0, 1), with labels."""
    if inputs == "mnist" and not smoke:
        from xpnet.datasets import load_mnist
        _, (x, t) = load_mnist(download=False)
        return device.send(x[:n].astype("float64")), device.send(t[:n])
    return device.send(rng.random((n, 784 if not smoke else 49))), device.send(rng.integers(0, 10, n))


@pytest.mark.parametrize("impl", ["xpnet", "backprop"])
@pytest.mark.parametrize("case", CASES)
def bench_numerical_gradient(measure, device, rng, smoke, case, impl):
    factory, n, inputs = CASES[case]
    net = factory(smoke)
    x, t = _data(device, rng, n, inputs, smoke)
    fn = (lambda: network_numerical_gradient(net, x, t)) if impl == "xpnet" else \
        (lambda: net.gradient(x, t))
    measure(fn, f"gradient {case}", device, impl, rounds=5 if impl == "xpnet" else 20)


@pytest.mark.parametrize("case", BOOK_CASES)
def bench_numerical_gradient_book(measure, rng, smoke, case):
    """The book's own network's numerical_gradient method: its nditer loop over every parameter."""
    _, n, inputs = CASES[case]
    model, changes = BOOK_NETWORKS[case.split()[0]]
    net = book_code.network(model, input_size=784 if not smoke else 49, **changes)
    x, t = _data(xpnet.get_device(), rng, n, inputs, smoke)
    measure(lambda: net.numerical_gradient(x, t), f"gradient {case}", xpnet.get_device(), "book",
            rounds=1, warmup=0)  # 3 to 50 s a round, and nothing to warm up


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
