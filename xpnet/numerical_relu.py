"""The numerical engine's fast path for ReLU networks (TwoLayerNet, MultiLayerNet with ReLU).

A weight of an Affine layer moves one of its output units j, for sample n, by
d (after the ReLU that follows, if any: d is computed exactly, kink included).
Past that point the change reaches the scores through Affine layers and ReLUs
that, for a change that small, stay on their side of the kink: the scores move
by d * g, with g = g[n, j] the scores' gradient with respect to the unit. The
sample's loss change is then a power series in d whose first five
coefficients, computed once per (unit, sample), leave out less than 1e-21 of
the loss (xpnet.kernels.loss_series). Each of TwoLayerNet's 2 x 39,200
perturbations of W1 then costs a polynomial per sample instead of a softmax.

The change is computed directly rather than as the difference of two losses of
~2.3 that agree to 1e-5, as in the book's loop: it is at least as exact. Where
the assumptions do not hold the kernel flags the perturbation and the engine
takes its exact path: a later ReLU input closer to its kink than the change can
move it, or |d g| too large for the series.
"""
import numpy as np

from .functions import label_indices, softmax
from .layers import Affine, Relu, SoftmaxWithLoss


def applies(ev, k):
    """Whether layer k is an Affine layer followed by (ReLU, Affine)* and the softmax loss,
    in float64 on the CPU."""
    rest = ev.layers[k + 1:]
    return (ev.xp is np and ev.inputs[-1].dtype == np.float64 and isinstance(ev.layers[k], Affine)
            and type(ev.net.last_layer) is SoftmaxWithLoss and len(rest) % 2 == 0
            and all(type(layer) is (Relu if i % 2 == 0 else Affine) for i, layer in enumerate(rest)))


class UnitSeries:
    """The loss series of Affine layer k's units: ``units`` for loss_series.unit_gradient."""

    def __init__(self, ev, k):
        from .kernels.loss_series import unit_table
        self.relu = k + 1 < len(ev.layers)
        g, reach = _unit_score_gradients(ev, k)
        scores = ev.inputs[-1]
        before = ev.inputs[k + 1]
        after = ev.inputs[k + 2] if self.relu else before  # no ReLU: the unit is the score
        self.units = unit_table(before, after, reach, g, softmax(scores),
                                label_indices(scores, ev.t), ev.eps)


def _unit_score_gradients(ev, k):
    """g (N, units, classes) at the current point, and ``reach`` (N, units): the largest
    |change of a later ReLU's input| / |that input| per unit of d."""
    if k + 1 == len(ev.layers):  # the last Affine: its units are the scores
        classes = ev.inputs[-1].shape[1]
        return np.broadcast_to(np.eye(classes), (ev.n, classes, classes)), np.zeros((ev.n, classes))
    first = ev.layers[k + 2].W
    g = np.broadcast_to(first, (ev.n,) + first.shape)
    reach = np.zeros((ev.n, first.shape[0]))
    tiny = np.finfo(np.float64).tiny  # an input exactly at the kink gives a huge reach, not inf
    for m in range(k + 3, len(ev.layers), 2):  # the later ReLUs, each followed by an Affine
        a = ev.inputs[m]
        reach = np.maximum(reach, (np.abs(g) / np.maximum(np.abs(a), tiny)[:, None, :]).max(axis=2))
        g = (g * (a > 0)[:, None, :]) @ ev.layers[m + 1].W
    return g, reach
