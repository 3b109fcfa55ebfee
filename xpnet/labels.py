"""Class labels, checked once where they enter: integer class ids or one-hot rows.

Accepted for n samples of ``classes`` classes:

* integer class ids in 0 .. classes-1, shaped (n,) or (n, 1); any integer
  dtype, or floats that hold whole numbers;
* one-hot rows (n, classes), or any rows of class probabilities (each
  value in [0, 1], each row summing to 1).

Anything else is a LabelError that says what is wrong, instead of an
IndexError from deep inside the loss, or worse, a silently wrong result.
"""
import contextlib
import threading

from .backend import get_array_module
from .errors import LabelError

_state = threading.local()


@contextlib.contextmanager
def values_checked():
    """Inside this block, skip the checks of label values (shapes are still checked).

    For a caller that has checked a whole dataset once, e.g. the Trainer: on
    a GPU, looking at the values of every mini-batch would stop the device
    at each step.
    """
    previous = getattr(_state, "trusted", False)
    _state.trusted = True
    try:
        yield
    finally:
        _state.trusted = previous


def check_labels(t, n, classes, where="labels"):
    """``t`` as integer class ids of shape (n,), or one-hot rows (n, classes); else LabelError."""
    xp = get_array_module(t)
    t = xp.asarray(t)
    shape = tuple(t.shape)
    if t.dtype.kind not in "iuf":
        raise LabelError(f"{where}: labels must be integer class ids or one-hot rows, got dtype "
                         f"{t.dtype}")
    if t.ndim == 2 and shape[1] == classes and classes > 1:
        if shape[0] != n:
            raise LabelError(f"{where}: {shape[0]} one-hot labels for {n} samples")
        if not getattr(_state, "trusted", False):
            _check_rows(t, where, xp)
        return t
    if t.ndim == 2 and shape[1] != 1:
        raise LabelError(f"{where}: one-hot labels of shape {shape} do not match {n} samples of "
                         f"{classes} classes; expected ({n}, {classes}) or class ids ({n},)")
    if t.ndim not in (1, 2):
        raise LabelError(f"{where}: labels of shape {shape}; expected class ids ({n},) or "
                         f"one-hot rows ({n}, {classes})")
    if shape[0] != n:
        raise LabelError(f"{where}: {shape[0]} labels for {n} samples")
    t = t.reshape(n)
    if not getattr(_state, "trusted", False):
        _check_values(t, classes, where, xp)
    return t if t.dtype.kind in "iu" else t.astype(xp.int64)


def _check_rows(t, where, xp):
    """One-hot rows hold probabilities: values >= 0 (NaN fails) summing to 1 (so each <= 1)."""
    sums = t.sum(axis=1)
    if t.size == 0 or t.min() >= 0 and float(xp.abs(sums - 1).max()) <= 1e-3:
        return  # the usual case, in three passes; find the culprit only when there is one
    bad = xp.nonzero(~(xp.isfinite(t) & (t >= 0) & (t <= 1)).all(axis=1) |
                     (xp.abs(sums - 1) > 1e-3))[0]
    i = int(bad[0])
    raise LabelError(f"{where}: one-hot row {i} is {t[i].tolist()}; each row must hold "
                     f"values in [0, 1] that sum to 1")


def _check_values(t, classes, where, xp):
    if t.dtype.kind == "f":
        bad = xp.nonzero(~xp.isfinite(t) | (t != xp.floor(t)))[0]
        if bad.size:
            i = int(bad[0])
            raise LabelError(f"{where}: class ids must be whole numbers, found {float(t[i])} at "
                             f"index {i}")
    if t.size == 0:
        return
    low, high = int(t.min()), int(t.max())
    if low < 0 or high >= classes:
        value = low if low < 0 else high
        i = int(xp.nonzero(t == value)[0][0])
        raise LabelError(f"{where}: class ids must be in 0..{classes - 1}, found {value} at "
                         f"index {i}")
