"""The book's own code, loaded from a checkout at run time, for the benchmarks' "book" rows.

xpnet holds no copy of the book's code, not even here: the "book" rows time the book's
repository itself (oreilly-japan/deep-learning-from-scratch, commit 07b1161), as it
runs — its im2col and col2im return float64 whatever they are given, its networks keep
float64 weights. Set ``XPNET_BOOK_DIR`` to a checkout (``xpnet-bench-report --run
--book DIR`` sets it); without one, those rows skip and say so. On a GPU a fresh copy of
a book module runs with CuPy as its ``np``.
"""
import functools
import importlib.util
import os
import sys
import types

import numpy
import pytest

VARIABLE = "XPNET_BOOK_DIR"

# Each benchmark model's network in the book's repository: (file, class, arguments)
NETWORKS = {
    "two_layer": ("ch05/two_layer_net.py", "TwoLayerNet", dict(input_size=784, hidden_size=50,
                                                               output_size=10)),
    "multi_layer": ("common/multi_layer_net.py", "MultiLayerNet",
                    dict(input_size=784, hidden_size_list=[100] * 5, output_size=10)),
    "multi_layer_extend": ("common/multi_layer_net_extend.py", "MultiLayerNetExtend",
                           dict(input_size=784, hidden_size_list=[100] * 5, output_size=10,
                                use_batchnorm=True, use_dropout=True, dropout_ration=0.2)),
    "simple_convnet": ("ch07/simple_convnet.py", "SimpleConvNet", {}),
    "deep_convnet": ("ch08/deep_convnet.py", "DeepConvNet", {}),
}


def book_dir():
    """The checkout named by XPNET_BOOK_DIR; a pytest skip when there is none."""
    path = os.environ.get(VARIABLE)
    if not path:
        pytest.skip(f"the book's rows time the book's own code: set {VARIABLE} to a checkout of "
                    "oreilly-japan/deep-learning-from-scratch")
    if not os.path.isfile(os.path.join(path, "common", "util.py")):
        pytest.fail(f"{VARIABLE}={path} is not a checkout of the book's repository (no "
                    "common/util.py there)", pytrace=False)
    return os.path.abspath(path)


@functools.lru_cache(maxsize=None)
def module(relative, xp=numpy):
    """A copy of the book's module at ``relative`` (e.g. "common/util.py") of its own, whose
    ``np`` is ``xp``; its ``from common... import`` lines find the checkout's packages."""
    book = book_dir()
    if book not in sys.path:
        sys.path.insert(0, book)
    name = "book." + relative[:-len(".py")].replace("/", ".") + "." + xp.__name__
    spec = importlib.util.spec_from_file_location(name, os.path.join(book, relative))
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    loaded.np = xp
    return loaded


def kernels(xp):
    """The book's im2col, col2im and Pooling (as attributes), on ``xp``'s arrays."""
    util = module("common/util.py", xp)
    layers = module("common/layers.py", xp)
    layers.im2col, layers.col2im = util.im2col, util.col2im
    return types.SimpleNamespace(im2col=util.im2col, col2im=util.col2im, Pooling=layers.Pooling)


def network(model, **changes):
    """The book's own network for a benchmark model (NumPy only: it draws its weights there)."""
    path, cls, arguments = NETWORKS[model]
    return getattr(module(path), cls)(**dict(arguments, **changes))


def train_step(model, x, t):
    """One step as the book's Trainer takes it: gradient, Adam's update, the loss again."""
    net, optimizer = network(model), module("common/optimizer.py").Adam()

    def step():
        optimizer.update(net.params, net.gradient(x, t))
        net.loss(x, t)
    return step
