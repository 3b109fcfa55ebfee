"""The book's activation and loss functions (ch. 3-5), on any device.

Each function takes its array module from its input, so the same call works on
NumPy and CuPy arrays.
"""
import numpy

from .backend import get_array_module
from .errors import ShapeError
from .labels import check_labels


def identity_function(x):
    return x


def step_function(x):
    """1 where x > 0, else 0 (as integers, like the book's ``np.array(x > 0, dtype=np.int)``)."""
    xp = get_array_module(x)
    return xp.asarray(x > 0, dtype=xp.int64)


def sigmoid(x):
    """1 / (1 + exp(-x)), the book's formula; exp under- and overflow are harmless here and not warned about."""
    xp = get_array_module(x)
    with numpy.errstate(over="ignore", under="ignore"):
        return 1 / (1 + xp.exp(-x))


def sigmoid_grad(x):
    s = sigmoid(x)
    return (1.0 - s) * s


def relu(x):
    xp = get_array_module(x)
    return xp.maximum(0, x)


def relu_grad(x):
    """1 where x >= 0, else 0 (the book's convention; the book's ``np.zeros(x)`` bug fixed)."""
    xp = get_array_module(x)
    return (x >= 0).astype(x.dtype if x.dtype.kind == "f" else xp.float64)


def softmax(x):
    """Softmax over the last axis, stable (the row maximum is subtracted first)."""
    xp = get_array_module(x)
    x = x - x.max(axis=-1, keepdims=True)
    e = xp.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def sum_squared_error(y, t):
    """0.5 * sum((y - t)^2), the book's loss of chapter 4 (its text calls it mean_squared_error)."""
    xp = get_array_module(y, t)
    return 0.5 * xp.sum((y - t) ** 2)


mean_squared_error = sum_squared_error


def label_indices(y, t):
    """Integer class ids for each row of scores ``y``, from class ids or one-hot ``t`` (checked)."""
    t = check_labels(t, y.shape[0], y.shape[1])
    return t if t.ndim == 1 else t.argmax(axis=1)


def cross_entropy_error(y, t):
    """Mean over the batch of -log(y[label] + 1e-7); one-hot or integer labels, 1-D or batched."""
    xp = get_array_module(y, t)
    t = xp.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, y.size)
        t = t.reshape(1, t.size) if t.size == y.size else t.reshape(1)
    if y.ndim != 2 or y.shape[0] == 0:
        raise ShapeError(f"cross_entropy_error: expected scores (N, classes) with N >= 1, got "
                         f"shape {tuple(y.shape)}")
    return mean_log_loss(y, label_indices(y, t))


def mean_log_loss(y, labels):
    """Mean of -log(y[row, label] + 1e-7) over the rows, for checked integer ``labels``."""
    xp = get_array_module(y)
    return -xp.sum(xp.log(y[xp.arange(y.shape[0]), labels] + 1e-7)) / y.shape[0]


def softmax_loss(X, t):
    return cross_entropy_error(softmax(X), t)


__all__ = ["identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu",
           "relu_grad", "softmax", "mean_squared_error", "sum_squared_error", "cross_entropy_error",
           "softmax_loss"]
