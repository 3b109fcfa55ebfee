"""Printing arrays so that two runs can be compared number by number (conformance programs)."""
import numpy as np


def show(label, value):
    """One line: the label, shape and dtype, sum, sum of squares and up to six values."""
    a = np.asarray(value)
    flat = a.reshape(-1).astype(np.float64) if a.dtype != bool else a.reshape(-1) * 1.0
    picks = flat[np.linspace(0, flat.size - 1, min(6, flat.size)).astype(int)] if flat.size else []
    print(label, a.shape, a.dtype.name, repr(float(flat.sum())), repr(float((flat ** 2).sum())),
          " ".join(repr(float(v)) for v in picks))
