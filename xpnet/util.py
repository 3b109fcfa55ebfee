"""The book's ``common.util`` helpers: smoothing a curve, shuffling a dataset, output sizes.

im2col and col2im are in ``xpnet.kernels``.
"""
import numpy as np

from .backend import get_array_module
from .backend.random import host_rng


def smooth_curve(x):
    """A loss curve smoothed with an 11-point Kaiser window (beta 2), as the book plots it."""
    window_len = 11
    s = np.r_[x[window_len - 1:0:-1], x, x[-1:-window_len:-1]]
    w = np.kaiser(window_len, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5:len(y) - 5]


def shuffle_dataset(x, t):
    """(x, t) in one random order (the book's np.random.permutation under the book face)."""
    permutation = get_array_module(x).asarray(host_rng().permutation(x.shape[0]))
    return x[permutation], t[permutation]


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """(input + 2*pad - filter) / stride + 1, a float as in the book (kernels.output_size: int)."""
    return (input_size + 2 * pad - filter_size) / stride + 1


__all__ = ["conv_output_size", "shuffle_dataset", "smooth_curve"]
