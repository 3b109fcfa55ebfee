"""``gradient_check``: backprop against numerical gradients, per parameter.

Three modes:

* ``full``: every element, by the network engine of ``xpnet.numerical``;
* ``sample``: ``samples`` random elements of each parameter;
* ``directional``: one random direction v over all parameters; compares
  (L(theta + h v) - L(theta - h v)) / 2h with grad . v (two forward passes,
  like PyTorch's fast gradcheck and Chainer's check_backward).

Backprop runs first, so the numerical side sees the same Dropout masks. The
error reported per parameter is max |a - n| / max(|a|, |n|, floor), a
relative error that does not explode where both gradients are ~0 (floor 1e-6).
"""
import argparse
import sys
import time

import numpy as np

from .backend import asnumpy
from .backend.random import host_rng
from .numerical import H, _Evaluator, network_numerical_gradient

MODES = ("full", "sample", "directional")


def relative_error(a, n, floor=1e-6):
    """max |a - n| / max(|a|, |n|, floor), over all elements (NumPy or CuPy arrays)."""
    a, n = asnumpy(a).astype(np.float64), asnumpy(n).astype(np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)))


def gradient_check(network, x, t, mode="full", samples=20, seed=0):
    """{param key (or 'direction'): max relative error} comparing backprop with numerics."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    analytic = network.gradient(x, t)
    if mode == "directional":
        return {"direction": _directional(network, x, t, analytic, seed)}
    indices = None
    if mode == "sample":
        rng = np.random.default_rng(seed)
        indices = {k: np.sort(rng.choice(p.size, min(samples, p.size), replace=False))
                   for k, p in network.params.items()}
    numeric = network_numerical_gradient(network, x, t, indices=indices)
    errors = {}
    for key, n in numeric.items():
        a, n = analytic[key].reshape(-1), n.reshape(-1)
        where = slice(None) if indices is None else network.device.send(indices[key])
        errors[key] = relative_error(a[where], n[where])
    return errors


def _directional(network, x, t, analytic, seed):
    rng = np.random.default_rng(seed)
    params = network.params
    direction = {k: network.device.send(rng.standard_normal(p.shape).astype(p.dtype))
                 for k, p in params.items()}
    norm = np.sqrt(sum(float((d ** 2).sum()) for d in direction.values()))
    predicted = sum(float((analytic[k] * direction[k]).sum()) for k in params) / norm
    ev = _Evaluator(network, x, t)
    saved = {k: p.copy() for k, p in params.items()}
    losses = []
    for sign in (1, -1):
        for k, p in params.items():
            p[...] = saved[k] + sign * H * direction[k] / norm
        losses.append(float(ev.loss()))
    for k, p in params.items():
        p[...] = saved[k]
    measured = (losses[0] - losses[1]) / (2 * H)
    return relative_error(np.array(predicted), np.array(measured))


def main(argv=None):
    """``xpnet-gradcheck``: check a freshly initialised network on MNIST-shaped random data."""
    from . import backend
    from .cli import MODELS, build_network
    p = argparse.ArgumentParser(prog="xpnet-gradcheck", description=main.__doc__)
    p.add_argument("--model", choices=MODELS, default="two_layer")
    p.add_argument("--mode", choices=MODES, default="sample")
    p.add_argument("--batch", type=int, default=3)
    p.add_argument("--samples", type=int, default=20, help="elements per parameter (sample mode)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    backend.set_dtype("float64")
    backend.seed(args.seed)
    settings = {"model": args.model, "hidden": None, "weight_decay": 0.0, "dropout": 0.0,
                "batchnorm": False}
    network = build_network(settings)
    conv = args.model in ("simple_convnet", "deep_convnet")
    shape = (args.batch, 1, 28, 28) if conv else (args.batch, 784)
    x = host_rng().random(shape)
    t = host_rng().integers(0, 10, args.batch)
    start = time.perf_counter()
    errors = gradient_check(network, x, t, args.mode, args.samples, args.seed)
    elapsed = time.perf_counter() - start
    for key, err in errors.items():
        print(f"{key:>10}  max relative error {err:.2e}")
    print(f"{args.mode} check of {type(network).__name__} on {backend.get_device().name}: "
          f"{elapsed:.3f} s")
    return 0 if max(errors.values()) < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
