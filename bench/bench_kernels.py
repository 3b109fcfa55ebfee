"""im2col, col2im and max pooling on the layer shapes of SimpleConvNet and DeepConvNet (float32, batch 100).

Rows: xpnet's kernels, the book's own code (bench/book_code.py: from a checkout, with
CuPy as its ``np`` on a GPU; it returns float64 whatever it is given), and PyTorch
(unfold/fold, max_pool2d) when installed.
"""
import functools

import pytest

import book_code
from conftest import torch_device
from xpnet.kernels import col2im, im2col, maxpool_backward, maxpool_forward

# name: (input shape (N, C, H, W), filter, stride, pad)
CONV_SHAPES = {
    "simple_conv1 1x28x28 f5": ((100, 1, 28, 28), 5, 1, 0),
    "deep 16x28x28 f3p1": ((100, 16, 28, 28), 3, 1, 1),
    "deep 32x14x14 f3p1": ((100, 32, 14, 14), 3, 1, 1),
    "deep 64x7x7 f3p1": ((100, 64, 7, 7), 3, 1, 1),
    "pool geometry 30x24x24 f2s2": ((100, 30, 24, 24), 2, 2, 0),  # the book's Pooling's im2col
}
POOL_SHAPES = {
    "simple_pool 30x24x24": (100, 30, 24, 24),
    "deep_pool 16x28x28": (100, 16, 28, 28),
    "deep_pool 32x14x14": (100, 32, 14, 14),
    "deep_pool 64x8x8": (100, 64, 8, 8),
}


@pytest.fixture
def measure(measure):
    """25 rounds: a kernel call takes milliseconds, and fresh 45 MB outputs ran 3-5x slower
    for the first few calls of a process here (the OS's first touch of new memory)."""
    return functools.partial(measure, rounds=25)


def _shape(shape, smoke):
    return (min(shape[0], 4),) + shape[1:] if smoke else shape


def _x(device, rng, shape):
    return device.send(rng.random(shape, dtype="float32"))


@pytest.mark.parametrize("impl", ["xpnet", "book"])
@pytest.mark.parametrize("name", CONV_SHAPES)
def bench_im2col(measure, device, rng, smoke, name, impl):
    shape, f, stride, pad = CONV_SHAPES[name]
    x = _x(device, rng, _shape(shape, smoke))
    fn = im2col if impl == "xpnet" else book_code.kernels(device.xp).im2col
    measure(lambda: fn(x, f, f, stride, pad), f"im2col {name}", device, impl)


@pytest.mark.parametrize("impl", ["xpnet", "xpnet row-major col", "book"])
@pytest.mark.parametrize("name", CONV_SHAPES)
def bench_col2im(measure, device, rng, smoke, name, impl):
    """Each implementation folds the layout its own convolution's backward produces.

    The values are the same; the memory order is not: xpnet's product is the
    transpose of a C-contiguous array (as im2col returns), the book's a
    C-contiguous one. "xpnet row-major col" times xpnet on the book's layout.
    """
    shape, f, stride, pad = CONV_SHAPES[name]
    shape = _shape(shape, smoke)
    col = im2col(_x(device, rng, shape), f, f, stride, pad)
    if impl != "xpnet":
        col = device.xp.ascontiguousarray(col)
    fn = book_code.kernels(device.xp).col2im if impl == "book" else col2im
    measure(lambda: fn(col, shape, f, f, stride, pad), f"col2im {name}", device, impl)


@pytest.mark.parametrize("name", CONV_SHAPES)
def bench_im2col_torch(measure, device, rng, smoke, torch, name):
    shape, f, stride, pad = CONV_SHAPES[name]
    where, _ = torch_device(torch, device)
    x = torch.from_numpy(rng.random(_shape(shape, smoke), dtype="float32")).to(where)
    unfold = lambda: torch.nn.functional.unfold(x, f, padding=pad, stride=stride)  # noqa: E731
    measure(unfold, f"im2col {name}", device, "torch")


@pytest.mark.parametrize("name", CONV_SHAPES)
def bench_col2im_torch(measure, device, rng, smoke, torch, name):
    shape, f, stride, pad = CONV_SHAPES[name]
    where, _ = torch_device(torch, device)
    shape = _shape(shape, smoke)
    x = torch.from_numpy(rng.random(shape, dtype="float32")).to(where)
    cols = torch.nn.functional.unfold(x, f, padding=pad, stride=stride)
    fold = lambda: torch.nn.functional.fold(cols, shape[2:], f, padding=pad, stride=stride)  # noqa: E731
    measure(fold, f"col2im {name}", device, "torch")


@pytest.mark.parametrize("impl", ["xpnet", "book"])
@pytest.mark.parametrize("name", POOL_SHAPES)
def bench_pool_forward(measure, device, rng, smoke, name, impl):
    x = _x(device, rng, _shape(POOL_SHAPES[name], smoke))
    if impl == "xpnet":
        fn = lambda: maxpool_forward(x, 2, 2, 2, 0)  # noqa: E731
    else:
        fn = functools.partial(book_code.kernels(device.xp).Pooling(2, 2, 2, 0).forward, x)
    measure(fn, f"pool forward {name}", device, impl)


@pytest.mark.parametrize("impl", ["xpnet", "book"])
@pytest.mark.parametrize("name", POOL_SHAPES)
def bench_pool_backward(measure, device, rng, smoke, name, impl):
    shape = _shape(POOL_SHAPES[name], smoke)
    x = _x(device, rng, shape)
    if impl == "xpnet":
        out, arg = maxpool_forward(x, 2, 2, 2, 0)
        fn = lambda: maxpool_backward(out, arg, shape, 2, 2, 2, 0)  # noqa: E731
    else:
        pool = book_code.kernels(device.xp).Pooling(2, 2, 2, 0)
        fn = functools.partial(pool.backward, pool.forward(x))
    measure(fn, f"pool backward {name}", device, impl)


@pytest.mark.parametrize("name", POOL_SHAPES)
def bench_pool_torch(measure, device, rng, smoke, torch, name):
    where, _ = torch_device(torch, device)
    x = torch.from_numpy(rng.random(_shape(POOL_SHAPES[name], smoke), dtype="float32")).to(where)
    x.requires_grad_(True)
    with torch.no_grad():
        measure(lambda: torch.nn.functional.max_pool2d(x, 2, 2), f"pool forward {name}", device,
                "torch")


@pytest.mark.parametrize("name", POOL_SHAPES)
def bench_pool_backward_torch(measure, device, rng, smoke, torch, name):
    where, _ = torch_device(torch, device)
    x = torch.from_numpy(rng.random(_shape(POOL_SHAPES[name], smoke), dtype="float32")).to(where)
    x.requires_grad_(True)
    out = torch.nn.functional.max_pool2d(x, 2, 2)
    grad = torch.ones_like(out)
    measure(lambda: torch.autograd.grad(out, x, grad, retain_graph=True), f"pool backward {name}",
            device, "torch")
