"""``gradient_check``: backprop against numerical gradients, per parameter.

Three modes:

* ``full``: every element, by the network engine of ``xpnet.numerical``;
* ``sample``: ``samples`` random elements of each parameter;
* ``directional``: one random direction v over all parameters; compares
  (L(theta + h v) - L(theta - h v)) / 2h with grad . v (two forward passes,
  like PyTorch's fast gradcheck and Chainer's check_backward).

What makes the comparison meaningful whatever the network:

* it runs in float64, where central differences with h = 1e-4 are accurate
  (a float32 network is checked as a float64 copy; a float64 network gets
  its parameters back after every perturbation);
* the numerical side differentiates exact -log softmax, the function backprop
  differentiates, not the book's -log(y + 1e-7), whose 1e-7 makes the two
  disagree wherever a sample's right class gets probability near 1e-7;
* an element whose difference L(+h) - L(-h) may cross a kink (a ReLU input
  or a max-pooling tie within h of switching) is measured again with
  h = 1e-5, 1e-6 and 1e-7, and the best agreement is kept: every element
  whose error is above 1% of the tolerance. A wrong backward stays wrong at
  any step; an error that a smaller step removes came from a kink.

Backprop runs first, so the numerical side sees the same Dropout masks. The
error reported per parameter is max |a - n| / max(|a|, |n|, floor), a
relative error that does not explode where both gradients are ~0 (floor 1e-6).
"""
import copy
from dataclasses import dataclass, field

import numpy as np

from .backend import asnumpy
from .numerical import H, _Evaluator, network_numerical_gradient

MODES = ("full", "sample", "directional")
TOLERANCE = 1e-4
SMALLER_STEPS = (1e-5, 1e-6, 1e-7)


@dataclass
class CheckResult:
    """Per parameter (or 'direction'): the largest relative error, and the elements at a kink."""
    errors: dict
    kinks: dict = field(default_factory=dict)
    checked: dict = field(default_factory=dict)
    tolerance: float = TOLERANCE

    @property
    def passed(self):
        return max(self.errors.values()) < self.tolerance


def relative_error(a, n, floor=1e-6):
    """max |a - n| / max(|a|, |n|, floor), over all elements (NumPy or CuPy arrays)."""
    errors = _elementwise_error(a, n, floor)
    return float(errors.max()) if errors.size else 0.0


def _elementwise_error(a, n, floor=1e-6):
    a, n = asnumpy(a).astype(np.float64), asnumpy(n).astype(np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


def gradient_check(network, x, t, mode="full", samples=20, seed=0):
    """{param key (or 'direction'): max relative error} comparing backprop with numerics."""
    return check_gradients(network, x, t, mode, samples, seed).errors


def check_gradients(network, x, t, mode="full", samples=20, seed=0, tolerance=TOLERANCE):
    """The whole comparison as a CheckResult (errors, kink counts, elements checked)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    net = network if network.dtype == np.float64 else copy.deepcopy(network).astype("float64")
    x = net.device.send(x).astype(np.float64)
    t = net.device.send(t)
    analytic = net.gradient(x, t)
    ev = _Evaluator(net, x, t, eps=0)
    if mode == "directional":
        return _directional(net, ev, analytic, seed, tolerance)
    indices = None
    if mode == "sample":
        rng = np.random.default_rng(seed)
        indices = {k: np.sort(rng.choice(p.size, min(samples, p.size), replace=False))
                   for k, p in net.params.items()}
    numeric = network_numerical_gradient(net, x, t, indices=indices, eps=0)
    result = CheckResult({}, tolerance=tolerance)
    for key, n in numeric.items():
        where = np.arange(n.size) if indices is None else indices[key]
        a = asnumpy(analytic[key]).reshape(-1)[where]
        errors = _elementwise_error(a, asnumpy(n).reshape(-1)[where])
        kinks = 0
        for i in np.nonzero(errors >= tolerance / 100)[0]:
            smaller_h = _remeasured(net, ev, key, int(where[i]), a[i])
            if smaller_h < errors[i]:
                errors[i], kinks = smaller_h, kinks + 1
        result.errors[key] = float(errors.max()) if errors.size else 0.0
        result.kinks[key], result.checked[key] = kinks, int(errors.size)
    return result


def _loss_along(net, ev, step):
    """(L(theta + step) - L(theta - step)) / 2 for ``step`` (a dict of arrays), theta restored."""
    saved = {k: p.copy() for k, p in net.params.items()}
    losses = []
    for sign in (1, -1):
        for k, s in step.items():
            net.params[k][...] = saved[k] + sign * s
        losses.append(float(ev.loss()))
    for k, p in net.params.items():
        p[...] = saved[k]
    return (losses[0] - losses[1]) / 2


def _remeasured(net, ev, key, index, analytic):
    """The smallest error of one element's central difference with the smaller steps."""
    xp = net.device.xp
    errors = []
    for h in SMALLER_STEPS:
        step = xp.zeros(net.params[key].size, dtype=np.float64)
        step[index] = h
        numeric = _loss_along(net, ev, {key: step.reshape(net.params[key].shape)}) / h
        errors.append(relative_error(np.array(analytic), np.array(numeric)))
    return min(errors)


def _directional(net, ev, analytic, seed, tolerance):
    rng = np.random.default_rng(seed)
    direction = {k: net.device.send(rng.standard_normal(p.shape)) for k, p in net.params.items()}
    norm = np.sqrt(sum(float((d ** 2).sum()) for d in direction.values()))
    unit = {k: d / norm for k, d in direction.items()}
    predicted = sum(float((analytic[k] * unit[k]).sum()) for k in unit)
    for h in (H,) + SMALLER_STEPS:
        measured = _loss_along(net, ev, {k: h * u for k, u in unit.items()}) / h
        error = relative_error(np.array(predicted), np.array(measured))
        if error < tolerance:
            break
    kinks = int(error < tolerance and h != H)
    return CheckResult({"direction": error}, {"direction": kinks}, {"direction": 1}, tolerance)
