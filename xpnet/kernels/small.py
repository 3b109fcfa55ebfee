"""The CPU kernels as NumPy array code, for small inputs: nothing to compile or load.

A script that convolves a few tiny images (the book's ch07 gradient check)
would spend most of its time loading Numba and its cached kernels (~1.3 s);
below ``PARALLEL_MIN_SIZE`` elements these loops over filter positions are as quick.
Same results as cpu.py, bit for bit: copies are copies, and col2im and the
pooling backward add each pixel's contributions in the book's (row, column)
order, starting from 0. The column matrix has cpu.py's layout.
"""
import numpy as np

from . import expressions


def _windows(img, ky, kx, stride, out_h, out_w):
    """img[:, :, oy*stride + ky, ox*stride + kx] for every output position: a strided view."""
    return img[:, :, ky:ky + stride * out_h:stride, kx:kx + stride * out_w:stride]


def padded(x, pad):
    """``x`` with ``pad`` zeros around each image, as a C-contiguous array (cpu.py's too)."""
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else np.ascontiguousarray(x)


def _fold(parts, shape, stride, pad, out_h, out_w, dtype):
    """Images of ``shape`` summing ``(ky, kx, values)`` parts, in their order, through the windows.

    col2im's fold and the pooling backward's routing: each part adds a value
    at every output position to the pixel its window reaches at (ky, kx).
    """
    N, C, H, W = shape
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), dtype=dtype)
    for ky, kx, values in parts:
        _windows(img, ky, kx, stride, out_h, out_w)[...] += values
    return np.ascontiguousarray(img[:, :, pad:pad + H, pad:pad + W])


def im2col(x, filter_h, filter_w, stride, pad, out_h, out_w, cols=None):
    N, C = x.shape[:2]
    img = padded(x, pad)
    shape = (C, filter_h, filter_w, N, out_h, out_w)
    cols = np.empty(shape, dtype=x.dtype) if cols is None else cols.reshape(shape)
    for ky in range(filter_h):
        for kx in range(filter_w):
            cols[:, ky, kx] = _windows(img, ky, kx, stride, out_h, out_w).transpose(1, 0, 2, 3)
    return cols.reshape(C * filter_h * filter_w, N * out_h * out_w).T


def col2im(col, shape, filter_h, filter_w, stride, pad, out_h, out_w):
    N, C = shape[:2]
    cols = col.T.reshape(C, filter_h, filter_w, N, out_h, out_w)
    parts = ((ky, kx, cols[:, ky, kx].transpose(1, 0, 2, 3))
             for ky in range(filter_h) for kx in range(filter_w))
    return _fold(parts, shape, stride, pad, out_h, out_w, col.dtype)


def conv_input_grad(col_W, dout, shape, filter_h, filter_w, stride, pad, out_h, out_w):
    return col2im(np.dot(col_W, dout).T, shape, filter_h, filter_w, stride, pad, out_h, out_w)


def maxpool_forward(x, pool_h, pool_w, stride, pad, out_h, out_w):
    img = padded(x, pad)
    windows = np.stack([_windows(img, k // pool_w, k % pool_w, stride, out_h, out_w)
                        for k in range(pool_h * pool_w)])
    arg = windows.argmax(axis=0)  # the first maximum, or the first NaN, as the book picks
    out = np.take_along_axis(windows, arg[None], axis=0)[0]
    return np.ascontiguousarray(out), arg.astype(np.int32)


def maxpool_backward(dout, arg, shape, pool_h, pool_w, stride, pad):
    zero = dout.dtype.type(0)
    parts = ((k // pool_w, k % pool_w, np.where(arg == k, dout, zero))
             for k in range(pool_h * pool_w))
    return _fold(parts, shape, stride, pad, *dout.shape[2:], dout.dtype)


def channels_to_nchw(cols, bias, shape):
    return expressions.channels_to_nchw(np, cols, bias, shape)


def nchw_to_channels(x):
    return expressions.nchw_to_channels(np, x)


def crop_flip(x, offset_y, offset_x, flip, pad):
    """Each image n of ``x`` zero-padded by ``pad``, cut at (offset_y[n], offset_x[n]) to its
    own size, and mirrored left-right where ``flip[n]``: one gather with index arrays."""
    N, C, H, W = x.shape
    rows = offset_y[:, None] + np.arange(H)  # (N, H), in the padded image
    columns = np.where(flip[:, None], np.arange(W - 1, -1, -1), np.arange(W)) + offset_x[:, None]
    return padded(x, pad)[np.arange(N)[:, None, None, None], np.arange(C)[None, :, None, None],
                          rows[:, None, :, None], columns[:, None, None, :]]


def batch_norm_forward(x, gamma, beta, eps):
    return expressions.batch_norm_forward(np, x, gamma, beta, eps)


def batch_norm_backward(dout, x, mean, inv_std, gamma):
    return expressions.batch_norm_backward(np, dout, x, mean, inv_std, gamma)
