"""Numerical differentiation (chapter 4), and a fast engine for whole networks.

``numerical_diff``, ``numerical_gradient`` and ``gradient_descent`` keep the
book's semantics: central differences with h = 1e-4, one element at a time,
the element restored after each. A Numba-compiled ``f`` runs the whole loop in
Numba; any other callable runs a plain loop (no ``nditer``).

``network_numerical_gradient`` gives the numbers the element-by-element loop
gives for a network's loss, much faster, using forward computations only:

* activations before the perturbed layer are computed once and reused;
* many perturbations are evaluated together, as one batch of copies of the
  input (BatchNormalization normalizes each copy on its own, Dropout applies
  the same mask to every copy, the loss is taken per copy);
* a perturbed weight of an Affine layer changes one output column; that column
  alone is carried through the element-wise layers that follow (ReLU, sigmoid,
  Dropout, BatchNormalization) to the next Affine layer;
* perturbations that provably leave the loss bit-identical (a weight that
  multiplies only zeros, a column unchanged after ReLU) get exactly 0, as the
  loop gives them, without being evaluated;
* in ReLU networks (Affine, ReLU, ..., Affine, softmax loss) on the CPU, a
  weight's loss change comes from a power series per (unit, sample) instead
  (xpnet.numerical_relu); what the series does not cover takes the ways above.
"""
import sys

import numpy as np

from .backend import get_array_module
from .functions import label_indices
from .labels import values_checked
from .kernels import im2col
from .layers import Affine, BatchNormalization, Convolution, Dropout, Relu, Sigmoid
from .moves import moving
from . import numerical_relu

H = 1e-4


def numerical_diff(f, x):
    """Derivative of a scalar function at x by central difference."""
    return (f(x + H) - f(x - H)) / (2 * H)


def numerical_gradient(f, x):
    """Gradient of ``f`` at array ``x`` (changed in place element by element, then restored).

    While it runs, layers that hold ``x`` can tell which element is moved
    (xpnet.moves) and skip products it cannot change, to the bit.
    """
    if _is_numba_function(f):
        return _numba_gradient(f, x)
    if not x.flags.c_contiguous:  # the loop changes x through a flat view
        raise ValueError(f"numerical_gradient needs a C-contiguous array, got strides {x.strides}")
    xp = get_array_module(x)
    grad = xp.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)

    def central_difference(moves, i):
        moves.index = i  # layers that hold x may skip what this element cannot change
        tmp = flat_x[i].copy()
        flat_x[i] = tmp + H
        fxh1 = f(x)
        flat_x[i] = tmp - H
        fxh2 = f(x)
        flat_grad[i] = (fxh1 - fxh2) / (2 * H)
        flat_x[i] = tmp

    if flat_x.size:
        with moving(x) as moves:
            central_difference(moves, 0)  # the first two evaluations check f's labels, if any;
            with values_checked():  # the others change only x: no need to look at them again
                for i in range(1, flat_x.size):
                    central_difference(moves, i)
    return grad


def _is_numba_function(f):
    if "numba" not in sys.modules:  # nothing can have compiled f with Numba: no need to load it
        return False
    from numba.core.registry import CPUDispatcher
    return isinstance(f, CPUDispatcher)


def _numba_gradient(f, x):
    """The book's loop compiled together with a Numba-compiled ``f``."""
    from .kernels.cpu import numerical_gradient_loop
    x = np.asarray(x)
    grad = np.zeros_like(x)
    numerical_gradient_loop(f, x, x.reshape(-1), grad.reshape(-1), H)
    return grad


def _numerical_gradient_1d(f, x):
    """The book's name for the loop on a 1-D array."""
    return numerical_gradient(f, x)


def numerical_gradient_2d(f, X):
    """The book's row-by-row variant: for 2-D ``X``, f's gradient at each row (f is given the row)."""
    if X.ndim == 1:
        return _numerical_gradient_1d(f, X)
    grad = get_array_module(X).zeros_like(X)
    for idx, x in enumerate(X):
        grad[idx] = _numerical_gradient_1d(f, x)
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100, history=False):
    """Follow the numerical gradient downhill ``step_num`` times; returns x (and the path if asked)."""
    x = init_x
    path = []
    for _ in range(step_num):
        path.append(x.copy())
        x -= lr * numerical_gradient(f, x)
    return (x, np.array(path)) if history else x


# --- the network engine ------------------------------------------------------------

_COLUMN_LOCAL = (Relu, Sigmoid, Dropout, BatchNormalization)


class _Evaluator:
    """Training-mode loss of a network at one batch, with state frozen.

    Dropout masks are the ones the last training forward drew (drawn now if
    there are none), BatchNormalization uses batch statistics and its running
    statistics are not touched, so every evaluation sees the same function.
    ``eps`` is the loss's: the book's -log(y + 1e-7), or exact -log y with 0.
    """

    def __init__(self, net, x, t, eps=1e-7):
        self.net = net
        self.eps = eps
        self.xp = net.device.xp
        self.t = net._prepare_labels(t)
        self.names = list(net.layers)
        self.layers = list(net.layers.values())
        self.inputs = [net._prepare(x)]  # inputs[k]: the input of layer k; inputs[-1]: scores
        for layer in self.layers:
            self.inputs.append(self._step(layer, self.inputs[-1], 1, fresh=True))
        self.n = self.inputs[0].shape[0]
        self._cols = {}
        self._series = {}
        self._sample_losses = None
        self._base_loss = None
        self._decay_total = None

    def im2col(self, k):
        """The column matrix of convolution layer k's input (its own ``col`` may be overwritten)."""
        if k not in self._cols:
            layer = self.layers[k]
            _, _, FH, FW = layer.W.shape
            self._cols[k] = im2col(self.inputs[k], FH, FW, layer.stride, layer.pad)
        return self._cols[k]

    def unit_series(self, k):
        """numerical_relu's table for Affine layer k's units (computed once)."""
        if k not in self._series:
            self._series[k] = numerical_relu.UnitSeries(self, k)
        return self._series[k]

    def _step(self, layer, h, groups, fresh=False):
        if isinstance(layer, BatchNormalization):
            return layer.evaluate(h, groups)
        if isinstance(layer, Dropout):
            if fresh and (layer.mask is None or layer.mask.shape != h.shape):
                return layer.forward(h, train_flg=True)
            return layer.apply_mask(h.reshape((groups, -1) + h.shape[1:])).reshape(h.shape)
        return layer.forward(h)

    def losses_from(self, k, h, groups):
        """Per-group loss when layers k.. get ``h`` (``groups`` copies of the batch stacked)."""
        for layer in self.layers[k:]:
            h = self._step(layer, h, groups)
        return self.net.last_layer.evaluate(h, self.t, groups, self.eps)

    def decay_total(self):
        """sum(W**2) over the decayed weights at the unperturbed point (computed once)."""
        if self._decay_total is None:
            self._decay_total = sum(self.xp.sum(self.net.params[k] ** 2) for k in self.net._decayed)
        return self._decay_total

    def base_loss(self):
        """The unperturbed loss, without weight decay (computed once)."""
        if self._base_loss is None:
            self._base_loss = self.losses_from(len(self.layers), self.inputs[-1], 1)[0]
        return self._base_loss

    def sample_losses(self):
        """The unperturbed loss term of each sample (computed once)."""
        if self._sample_losses is None:
            labels = label_indices(self.inputs[-1], self.t)
            self._sample_losses = self.net.last_layer.sample_losses(self.inputs[-1], labels,
                                                                    self.eps)
        return self._sample_losses

    def loss(self):
        """The loss at the current parameters (a full forward pass)."""
        return self.losses_from(0, self.inputs[0], 1)[0] + self.net.weight_decay()


def loop_numerical_gradient(net, x, t, keys=None):
    """The element-by-element loop on the same frozen loss: the engine's reference."""
    ev = _Evaluator(net, x, t)
    return {key: numerical_gradient(lambda _: ev.loss(), net.params[key])
            for key in keys or list(net.params)}


def network_numerical_gradient(net, x, t, keys=None, indices=None, chunk_bytes=1 << 26,
                               eps=1e-7):
    """Numerical gradients of ``net``'s training-mode loss, keyed like ``net.params``.

    ``keys`` limits the parameters; ``indices`` maps a key to the flat element
    indices to compute (the others are left 0), for sampled checks. ``eps``:
    the book's loss -log(y + 1e-7), or with 0 the exact -log y that backprop
    differentiates.
    """
    ev = _Evaluator(net, x, t, eps)
    grads = {}
    for key in keys or list(net.params):
        param = net.params[key]
        wanted = indices.get(key) if indices and key in indices else None
        flat = ev.xp.arange(param.size) if wanted is None else ev.xp.asarray(wanted)
        flat = _drop_zero_input_weights(ev, key, flat)
        grad = ev.xp.zeros(param.size, dtype=param.dtype)
        k = ev.names.index(net._slots[key][0])
        if numerical_relu.applies(ev, k):
            grad[flat], flagged = _series_gradient(ev, key, k, flat)
            flat = flat[flagged]
        step = max(1, chunk_bytes // sum(a.nbytes for a in ev.inputs[k + 1:]))
        for start in range(0, flat.size, step):
            chunk = flat[start:start + step]
            grad[chunk] = _chunk_gradient(ev, key, chunk)
        grads[key] = grad.reshape(param.shape)
    return grads


def _drop_zero_input_weights(ev, key, flat):
    """Leave out Affine weights that multiply only zeros: the loop's loss is bit-identical for them.

    (Their gradient is then exactly 0 from the data term; weight decay is the
    exception, so decayed weights are kept.)
    """
    name, attr = ev.net._slots[key]
    layer = ev.net.layers[name]
    if not isinstance(layer, Affine) or attr != "W" or key in ev.net._decayed and \
            ev.net.weight_decay_lambda:
        return flat
    X = ev.inputs[ev.names.index(name)].reshape(ev.n, -1)
    nonzero_rows = ev.xp.any(X != 0, axis=0)
    return flat[nonzero_rows[flat // layer.W.shape[1]]]


def _chunk_gradient(ev, key, idx):
    """(loss(+h) - loss(-h)) / 2h for the flat elements ``idx`` of parameter ``key``.

    Both signs go through the engine as one batch of 2 * len(idx) perturbations.
    """
    name, attr = ev.net._slots[key]
    k = ev.names.index(name)
    w = ev.net.params[key].reshape(-1)[idx]
    delta = _steps(ev.xp, w)
    both, w2 = ev.xp.concatenate([idx, idx]), ev.xp.concatenate([w, w])
    losses = _perturbed_losses(ev, k, attr, both, delta) + _decay(ev, key, w2, delta)
    return (losses[:idx.size] - losses[idx.size:]) / (2 * H)


def _series_gradient(ev, key, k, flat):
    """The fast path of ReLU networks (xpnet.numerical_relu) for the flat elements ``flat`` of
    Affine layer k's ``key``; also says which of them need the exact path."""
    from .kernels.loss_series import unit_gradient
    param, series = ev.net.params[key], ev.unit_series(k)
    X = ev.inputs[k].reshape(ev.n, -1) if param.ndim == 2 else np.ones((ev.n, 1))  # b: x = 1
    grad, flagged = unit_gradient(flat, param, X, series.units, series.relu, H)
    if ev.net.weight_decay_lambda and key in ev.net._decayed:
        w = param.reshape(-1)[flat]
        decay = _decay(ev, key, np.concatenate([w, w]), _steps(np, w))
        grad += (decay[:flat.size] - decay[flat.size:]) / (2 * H)
    return grad, flagged


def _steps(xp, w):
    """The steps the book's loop really takes from each w: (w + h) - w, then (w - h) - w."""
    return xp.concatenate([(w + H) - w, (w - H) - w])


def _decay(ev, key, w, delta):
    """Weight decay at each perturbed point (0 where ``key`` is not decayed)."""
    net = ev.net
    if not net.weight_decay_lambda or key not in net._decayed:
        return 0
    return 0.5 * net.weight_decay_lambda * (ev.decay_total() - w ** 2 + (w + delta) ** 2)


def _perturbed_losses(ev, k, attr, idx, delta):
    """Loss for each perturbation ``param[idx[p]] += delta[p]`` of layer k's ``attr``."""
    layer, xp = ev.layers[k], ev.xp
    out = ev.inputs[k + 1]
    if isinstance(layer, Affine):
        X = ev.inputs[k].reshape(ev.n, -1)
        D = out.shape[1]
        rows, cols = (idx // D, idx % D) if attr == "W" else (None, idx)
        change = (delta[:, None] * X[:, rows].T) if attr == "W" else \
            xp.broadcast_to(delta[:, None], (idx.size, ev.n))
        return _affine_column_losses(ev, k, cols, change)
    if isinstance(layer, Convolution):
        K = layer.W[0].size
        fn, kk = (idx // K, idx % K) if attr == "W" else (idx, None)
        outs = xp.broadcast_to(out, (idx.size,) + out.shape).copy()
        if attr == "W":
            N, _, OH, OW = out.shape
            col = ev.im2col(k)
            add = col[:, kk].T.reshape(idx.size, N, OH, OW) * delta[:, None, None, None]
        else:
            add = delta[:, None, None, None]
        outs[xp.arange(idx.size), :, fn] += add
        return ev.losses_from(k + 1, outs.reshape((-1,) + out.shape[1:]), idx.size)
    return _generic_losses(ev, k, attr, idx, delta)


def _generic_losses(ev, k, attr, idx, delta):
    """Any other parameter (e.g. BatchNormalization's gamma, beta): rerun layer k per perturbation."""
    layer, xp = ev.layers[k], ev.xp
    array = getattr(layer, attr).reshape(-1)
    outs = []
    for i, d in zip(idx.tolist(), delta.tolist()):
        old = array[i].copy()
        array[i] = old + d
        outs.append(ev._step(layer, ev.inputs[k], 1))
        array[i] = old
    return ev.losses_from(k + 1, xp.concatenate(outs), idx.size)


def _affine_column_losses(ev, k, cols, change):
    """Affine layer k's output column cols[p] changed by change[p] (P, N): the losses.

    Perturbations with nothing to change (a weight that multiplies only zero
    inputs, or a column that is equal again after the element-wise layers) get
    the unperturbed loss, which is what the loop computes for them bit for bit.
    """
    xp = ev.xp
    new = ev.inputs[k + 1][:, cols].T + change  # (P, N)
    m = k + 1
    while m < len(ev.layers) and isinstance(ev.layers[m], _COLUMN_LOCAL):
        new = _column_step(ev.layers[m], new, cols)
        m += 1
    if m < len(ev.layers) and isinstance(ev.layers[m], Affine):  # carry one column into it
        old = ev.inputs[m][:, cols].T
        W = ev.layers[m].W
        if m + 1 == len(ev.layers):  # Affine m feeds the loss: samples are independent
            return ev.base_loss() + _changed_sample_terms(ev, new - old, cols, W)
        sel = xp.nonzero(xp.any(new != old, axis=1))[0]
        outs = ev.inputs[m + 1][None] + (new[sel] - old[sel])[:, :, None] * W[cols[sel]][:, None, :]
        return _fill(ev, cols.size, sel, m + 1, outs)
    # layer k is the last Affine (or followed by something not column-local): go dense
    sel = xp.nonzero(xp.any(change != 0, axis=1))[0]
    outs = xp.broadcast_to(ev.inputs[k + 1], (sel.size,) + ev.inputs[k + 1].shape).copy()
    outs[xp.arange(sel.size), :, cols[sel]] += change[sel]
    return _fill(ev, cols.size, sel, k + 1, outs)


def _fill(ev, P, sel, m, outs):
    """Losses of P perturbations: the unperturbed loss, except for ``sel`` (layers m.. get ``outs``)."""
    losses = ev.xp.full(P, ev.base_loss())
    if sel.size:
        losses[sel] = ev.losses_from(m, outs.reshape((-1,) + outs.shape[2:]), sel.size)
    return losses


def _changed_sample_terms(ev, diff, cols, W):
    """Change of the loss when the last Affine's input column cols[p] changes by diff[p] (P, N).

    Each sample's loss term depends on its own scores only, so just the
    (perturbation, sample) pairs whose input changed are scored; the loss of
    perturbation p is the unperturbed loss plus the change of those terms / N.
    """
    xp = ev.xp
    labels = label_indices(ev.inputs[-1], ev.t)
    if xp is np:  # one fused Numba pass; the expressions below build (pairs, classes) arrays
        from .kernels.cpu import sample_loss_changes
        return sample_loss_changes(diff, cols, W, ev.inputs[-1], labels, ev.sample_losses(),
                                   ev.eps) / ev.n
    p_idx, n_idx = xp.nonzero(diff)
    scores = ev.inputs[-1][n_idx] + diff[p_idx, n_idx][:, None] * W[cols[p_idx]]
    last = ev.net.last_layer
    change = last.sample_losses(scores, labels[n_idx], ev.eps) - ev.sample_losses()[n_idx]
    return xp.bincount(p_idx, weights=change, minlength=diff.shape[0]) / ev.n


def _column_step(layer, col, features):
    """One element-wise layer applied to columns ``features`` of its input, given as (P, N)."""
    if isinstance(layer, Dropout):
        return col * layer.mask[:, features].T
    if isinstance(layer, BatchNormalization):
        return layer.evaluate_rows(col.T[None], features)[0].T
    return layer.forward(col)
