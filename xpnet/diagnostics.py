"""Checks of the machine xpnet runs on: versions, devices, kernels, a short training run.

``xpnet doctor`` prints them (xpnet/cli/doctor.py); each is a function of its
own, for a notebook cell or a cluster job's first step. The kernels of each
device are checked against xpnet's NumPy code for them (``kernels/small.py``,
which the test suite checks against the kernels' definitions), on small
inputs; training is checked by 20 steps of SimpleConvNet from the same
weights on the same images on every device, whose results must agree.
"""
import importlib.metadata
import importlib.util
import platform
import sys
import time

import numpy as np

from .backend import asnumpy, gpu_report, parse_device, using_device
from .backend.random import seed
from .errors import DeviceError

KERNEL_RTOL = 1e-12  # float64 inputs: sums in another order differ by rounding alone
TRAINING_RTOL = 1e-9  # float64, 20 steps: rounding alone, even where a ReLU's input is near 0


def versions():
    """{package: version or None} for xpnet and what it runs on (CuPy and CUDA: see ``gpus``)."""
    from . import __version__
    found = {"python": platform.python_version(), "xpnet": __version__}
    for package in ("numpy", "numba", "scipy", "mpi4py"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return found


def gpus():
    """(report, None): CuPy's view of the GPUs (``backend.gpu_report``); or (None, why not)."""
    try:
        return gpu_report(), None
    except DeviceError as e:
        return None, str(e)


def cupy_installed():
    """True when a CuPy package is installed, working or not (its owner wants a GPU)."""
    try:
        return importlib.util.find_spec("cupy") is not None
    except ValueError:  # already imported without a spec (or hidden, as None)
        return sys.modules.get("cupy") is not None


def _kernel_cases(rng):
    """(name, function of a kernels module, inputs): every kernel, on small float64 inputs."""
    x = rng.standard_normal((3, 4, 9, 8))
    shape, (fh, fw, stride, pad), (oh, ow) = x.shape, (3, 3, 2, 1), (5, 4)
    col = rng.standard_normal((3 * oh * ow, 4 * fh * fw))
    col_W, dout = rng.standard_normal((4 * fh * fw, 5)), rng.standard_normal((5, 3 * oh * ow))
    pooled = rng.standard_normal((3, 4, 5, 4))
    arg = rng.integers(0, 9, (3, 4, 5, 4)).astype(np.int32)
    scores, labels = rng.standard_normal((6, 10)), rng.integers(0, 10, 6)
    adam = [rng.standard_normal(70_000) for _ in range(3)] + [rng.random(70_000)]
    big = rng.standard_normal(70_000)  # past PARALLEL_MIN_SIZE: the CPU's parallel kernels
    return [
        ("im2col", lambda k, a: k.im2col(a, fh, fw, stride, pad, oh, ow), [x]),
        ("col2im", lambda k, a: k.col2im(a, shape, fh, fw, stride, pad, oh, ow), [col]),
        ("conv_input_grad", lambda k, w, d: k.conv_input_grad(w, d, shape, fh, fw, stride, pad,
                                                              oh, ow), [col_W, dout]),
        ("maxpool_forward", lambda k, a: k.maxpool_forward(a, 3, 3, 2, 1, oh, ow), [x]),
        ("maxpool_backward", lambda k, d, a: k.maxpool_backward(d, a, shape, 3, 3, 2, 1),
         [pooled, arg]),
        ("channels_to_nchw", lambda k, c, b: k.channels_to_nchw(c, b, (3, 4, 5, 4)),
         [dout[:4, :60], col_W[:4, 0]]),
        ("nchw_to_channels", lambda k, a: k.nchw_to_channels(a), [x]),
        ("cross_entropy_rows", lambda k, s, t: k.cross_entropy_rows(s, t, 1e-7), [scores, labels]),
        ("relu_forward", lambda k, a: k.relu_forward(a), [big]),
        ("relu_backward", lambda k, d, o: k.relu_backward(d, o), [big[::-1].copy(), big]),
        ("adam_update", _adam, adam),
    ]


def _adam(kernels, param, grad, m, v):
    kernels.adam_update(param, grad, m, v, 0.01, 0.9, 0.999, 1e-7)
    return param, m, v


def check_kernels(device):
    """[(kernel, largest relative difference)] of ``device``'s kernels against NumPy's code."""
    from .kernels import cpu, expressions, small
    device = parse_device(device)
    if device.is_gpu:
        from .kernels import gpu as kernels
    else:
        kernels = cpu
    reference = _NumpyKernels(small, expressions)
    results = []
    for name, call, inputs in _kernel_cases(np.random.default_rng(0)):
        want = _host(call(reference, *[a.copy() for a in inputs]))
        got = _host(call(kernels, *[device.send(a.copy()) for a in inputs]))
        results.append((name, max(_difference(g, w) for g, w in zip(got, want))))
    if not device.is_gpu:  # the CPU's 3x3 and 5x5 convolutions skip im2col
        results += _check_direct_convolution(np.random.default_rng(1), small)
    return results


def _check_direct_convolution(rng, small):
    """The direct kernels (kernels/direct.py) against im2col's convolution in NumPy."""
    from .kernels import direct_conv_backward, direct_conv_forward
    x, W = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 3))
    b, pad = rng.standard_normal(4), 1
    out, frames = direct_conv_forward(x, W, b, pad)
    dout = rng.standard_normal(out.shape)
    dW, dx = direct_conv_backward(frames, W, dout, pad)
    col = small.im2col(x, 3, 3, 1, pad, *out.shape[2:])
    rows = dout.transpose(0, 2, 3, 1).reshape(-1, 4)
    want_out = (col @ W.reshape(4, -1).T + b).reshape(2, *out.shape[2:], 4).transpose(0, 3, 1, 2)
    want_dW = (col.T @ rows).T.reshape(W.shape)
    want_dx = small.col2im(rows @ W.reshape(4, -1), x.shape, 3, 3, 1, pad, *out.shape[2:])
    return [("direct_conv_forward", _difference(out, want_out)),
            ("direct_conv_backward", max(_difference(dW, want_dW), _difference(dx, want_dx)))]


class _NumpyKernels:
    """kernels/small.py, with the expressions it leaves to kernels/__init__.py (NumPy's)."""

    def __init__(self, small, expressions):
        self.small, self.expressions = small, expressions

    def __getattr__(self, name):
        if hasattr(self.small, name):
            return getattr(self.small, name)
        if name == "cross_entropy_rows":
            return lambda s, t, eps: self.expressions.cross_entropy_rows(np, s, t, eps)
        if name == "adam_update":
            return lambda *a: self.expressions.adam_expressions(np, *a)
        return lambda *a: getattr(self.expressions, f"{name}_expression")(np, *a)


def _host(result):
    return [asnumpy(r) for r in (result if isinstance(result, tuple) else (result,))]


def _difference(got, want):
    """Largest |got - want| relative to the largest |want| (0 when equal, NaN included)."""
    got, want = got.astype(np.float64), want.astype(np.float64)
    if got.shape != want.shape:
        return np.inf
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    if same.all():
        return 0.0
    return float(np.abs(got - want)[~same].max() / max(np.abs(want).max(), 1e-300))


def train_steps(device, steps=20, batch=100, dtype="float64"):
    """(loss after each step, parameters, median seconds a step) of SimpleConvNet on ``device``.

    The same initial weights and the same images (the MNIST sample shipped with
    xpnet) on every device, SGD with lr 0.5 (train.py's for it). Compare devices in float64: in
    float32 their different summing orders grow, through ReLUs near 0, into
    1% of a bias in 20 steps. The step time is that of the steps after the
    first two (which compile or warm up), synchronized.
    """
    from .datasets.mnist import MNIST_SAMPLE, _load
    from .models import SimpleConvNet
    from .optimizers import SGD
    (x, t), _ = _load(MNIST_SAMPLE, True, False, False, None, False)
    device = parse_device(device)
    with using_device(device):
        seed(0)
        net = SimpleConvNet().astype(dtype)
        optimizer = SGD(lr=0.5)
        x, t = device.send(x[:steps * batch].astype(dtype)), device.send(t[:steps * batch])
        losses, times = [], []
        for i in range(steps):
            start = time.perf_counter()
            grads = net.gradient(x[i * batch:(i + 1) * batch], t[i * batch:(i + 1) * batch])
            optimizer.update(net.params, grads)
            device.synchronize()
            times.append(time.perf_counter() - start)
            losses.append(net.last_loss)
        losses = [float(v) for v in asnumpy(device.xp.stack(losses))]
        return losses, net.state_dict(), float(np.median(times[2:] or times))


def compare_training(reference, other):
    """Largest relative difference between two ``train_steps`` results (losses and parameters)."""
    (losses_a, params_a, _), (losses_b, params_b, _) = reference, other
    worst = _difference(np.array(losses_b), np.array(losses_a))
    for key in params_a:
        worst = max(worst, _difference(params_b[key], params_a[key]))
    return worst
