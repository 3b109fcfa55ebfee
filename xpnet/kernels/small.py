"""The CPU kernels as NumPy array code, for small inputs: nothing to compile or load.

A script that convolves a few tiny images (the book's ch07 gradient check)
would spend most of its time loading Numba and its cached kernels (~1.3 s);
below ``SMALL_WORK`` elements these loops over filter positions are as quick.
Same results as cpu.py, bit for bit: copies are copies, and col2im and the
pooling backward add each pixel's contributions in the book's (row, column)
order, starting from 0. The column matrix has cpu.py's layout.
"""
import numpy as np

from . import expressions


def _windows(img, ky, kx, stride, out_h, out_w):
    """img[:, :, oy*stride + ky, ox*stride + kx] for every output position: a strided view."""
    return img[:, :, ky:ky + stride * out_h:stride, kx:kx + stride * out_w:stride]


def _padded(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x


def im2col(x, filter_h, filter_w, stride, pad, out_h, out_w):
    N, C = x.shape[:2]
    img = _padded(x, pad)
    cols = np.empty((C, filter_h, filter_w, N, out_h, out_w), dtype=x.dtype)
    for ky in range(filter_h):
        for kx in range(filter_w):
            cols[:, ky, kx] = _windows(img, ky, kx, stride, out_h, out_w).transpose(1, 0, 2, 3)
    return cols.reshape(C * filter_h * filter_w, N * out_h * out_w).T


def col2im(col, shape, filter_h, filter_w, stride, pad, out_h, out_w):
    N, C, H, W = shape
    cols = col.T.reshape(C, filter_h, filter_w, N, out_h, out_w)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), dtype=col.dtype)
    for ky in range(filter_h):
        for kx in range(filter_w):
            _windows(img, ky, kx, stride, out_h, out_w)[...] += \
                cols[:, ky, kx].transpose(1, 0, 2, 3)
    return np.ascontiguousarray(img[:, :, pad:pad + H, pad:pad + W])


def conv_input_grad(col_W, dout, shape, filter_h, filter_w, stride, pad, out_h, out_w):
    return col2im(np.dot(col_W, dout).T, shape, filter_h, filter_w, stride, pad, out_h, out_w)


def maxpool_forward(x, pool_h, pool_w, stride, pad, out_h, out_w):
    img = _padded(x, pad)
    windows = np.stack([_windows(img, k // pool_w, k % pool_w, stride, out_h, out_w)
                        for k in range(pool_h * pool_w)])
    arg = windows.argmax(axis=0)  # the first maximum, or the first NaN, as the book picks
    out = np.take_along_axis(windows, arg[None], axis=0)[0]
    return np.ascontiguousarray(out), arg.astype(np.int32)


def maxpool_backward(dout, arg, shape, pool_h, pool_w, stride, pad):
    N, C, H, W = shape
    out_h, out_w = dout.shape[2:]
    dx = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), dtype=dout.dtype)
    zero = dout.dtype.type(0)
    for k in range(pool_h * pool_w):
        _windows(dx, k // pool_w, k % pool_w, stride, out_h, out_w)[...] += \
            np.where(arg == k, dout, zero)
    return np.ascontiguousarray(dx[:, :, pad:pad + H, pad:pad + W])


def channels_to_nchw(cols, bias, shape):
    return expressions.channels_to_nchw(np, cols, bias, shape)


def nchw_to_channels(x):
    return expressions.nchw_to_channels(np, x)

