"""Numba kernels of the numerical engine's series path (xpnet.numerical_relu explains it).

For one sample whose scores move by d * g (g: the scores' gradient with respect
to one unit), the loss -log(softmax(scores + d g)[label] + eps) changes by

    c1 d + c2 d**2 + c3 d**3 + c4 d**4 + c5 d**5   (+ terms below 1.4e-21 for |d g| < 1e-3)

``unit_table`` computes c1 .. c5 per (unit, sample); ``unit_gradient`` then
takes the central difference of every weight of the layer from them.
"""
import numpy as np
from numba import prange

from .jit import njit_cached

DEGREE = 5
SERIES_LIMIT = 1e-3  # largest |d g| the series is used for
FIELDS = 3 + DEGREE  # a unit's row in the table: before, after its ReLU, largest |d|, c1 .. c5
_FACTORIAL = (1.0, 1.0, 2.0, 6.0, 24.0, 120.0)


@njit_cached()
def _times(a, b, out):
    """out = a * b, for power series given by their coefficients of d**0 .. d**DEGREE."""
    for m in range(DEGREE + 1):
        total = 0.0
        for i in range(m + 1):
            total += a[i] * b[m - i]
        out[m] = total


@njit_cached()
def _loss_series(y, g, label, eps, out):
    """out[q - 1] = c_q, the loss change's coefficients (y: the softmax of the scores).

    log softmax(s + d g)[label] changes by z(d) = d g_label - K(d), with K the
    cumulant generating function of g under y: its coefficients are the
    cumulants of g, from g's central moments. The loss changes by
    -log(1 + rho (exp(z) - 1)) with rho = y_label / (y_label + eps): minus the
    cumulant generating function of a Bernoulli(rho) at z(d). (eps = 0: -z(d).)
    """
    mean = 0.0
    for c in range(y.size):
        mean += y[c] * g[c]
    mu = np.zeros(DEGREE + 1)  # central moments of g under y
    for c in range(y.size):
        power = y[c] * (g[c] - mean)
        for q in range(2, DEGREE + 1):
            power *= g[c] - mean
            mu[q] += power
    z = np.zeros(DEGREE + 1)
    z[1] = g[label] - mean
    z[2] = -mu[2] / 2
    z[3] = -mu[3] / 6
    z[4] = -(mu[4] - 3 * mu[2] ** 2) / 24
    z[5] = -(mu[5] - 10 * mu[3] * mu[2]) / 120
    rho, sigma = y[label] / (y[label] + eps), eps / (y[label] + eps)  # sigma = 1 - rho, exactly
    bernoulli = (rho, rho * sigma, rho * sigma * (1 - 2 * rho), rho * sigma * (1 - 6 * rho * sigma),
                 rho * sigma * (1 - 2 * rho) * (1 - 12 * rho * sigma))  # its cumulants 1 .. 5
    total, product = np.zeros(DEGREE + 1), np.zeros(DEGREE + 1)
    for q in range(DEGREE, 0, -1):  # Horner in z: sum_q bernoulli_q / q! * z(d)**q
        total[0] += bernoulli[q - 1] / _FACTORIAL[q]
        _times(total, z, product)
        total[:] = product
    for q in range(DEGREE):
        out[q] = -total[q + 1]


@njit_cached(parallel=True)
def _unit_table(before, after, reach, g, y, labels, eps, units):
    N, D = before.shape
    for j in prange(D):
        for n in range(N):
            unit = units[j, n]
            unit[0], unit[1] = before[n, j], after[n, j]
            largest = np.abs(g[n, j]).max()
            unit[2] = SERIES_LIMIT / largest if largest > 0 else np.inf
            if reach[n, j] > 0:  # |d| * reach < 0.5 keeps every later ReLU on its side
                unit[2] = min(unit[2], 0.5 / reach[n, j])
            _loss_series(y[n], g[n, j], labels[n], eps, unit[3:])


def unit_table(before, after, reach, g, y, labels, eps):
    """The table ``unit_gradient`` reads, (units, N, FIELDS): per unit and sample its value
    before and after its ReLU, the largest |d| the series is used for, and c1 .. c5.

    g (N, units, classes): the scores' gradients; y (N, classes): softmax of the scores;
    reach (N, units): the largest |change of a later ReLU's input| / |that input| per unit
    of d (0 where no ReLU follows).
    """
    N, D = before.shape
    units = np.empty((D, N, FIELDS))
    c = np.ascontiguousarray
    _unit_table(c(before), c(after), c(reach), c(g), c(y), c(labels), float(eps), units)
    return units


@njit_cached(parallel=True)
def _unit_gradient(flat, param, X, units, relu, h, grad, flagged):
    N, D = X.shape[0], units.shape[0]
    for p in prange(flat.size):
        i, j, w = flat[p] // D, flat[p] % D, param[flat[p]]
        change = 0.0
        for step in ((w + h) - w, (w - h) - w):  # the steps the book's loop really takes
            sign = 1.0 if step > 0 else -1.0
            for n in range(N):
                unit = units[j, n]
                d = step * X[n, i]
                if relu:
                    a = unit[0] + d
                    d = (a if a > 0 else 0.0) - unit[1]
                if d == 0:
                    continue
                if abs(d) >= unit[2]:
                    flagged[p] = True
                    continue
                change += sign * d * (unit[3] + d * (unit[4] + d * (unit[5] + d * (
                    unit[6] + d * unit[7]))))
        grad[p] = change / N / (2 * h)


def unit_gradient(flat, param, X, units, relu, h):
    """Central differences (step h) of the mean loss for the elements ``flat`` of an Affine
    layer's weights or bias ``param`` (units as its last axis): X (N, rows) is the layer's
    input (ones (N, 1) for the bias), ``units`` comes from unit_table, ``relu`` says that a
    ReLU follows the layer. Also returns ``flagged``: the elements the series does not
    cover (a |d| past its unit's limit)."""
    grad = np.zeros(flat.size)
    flagged = np.zeros(flat.size, dtype=np.bool_)
    c = np.ascontiguousarray
    _unit_gradient(c(flat), c(param).reshape(-1), c(X), units, relu, float(h), grad, flagged)
    return grad, flagged
