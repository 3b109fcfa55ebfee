"""Numba kernels for the CPU: im2col, col2im and max pooling.

Each loop runs in parallel over independent output rows or (image, channel)
pairs, so no two threads write the same element. col2im gathers: every image
pixel sums its contributions in the book's order (filter row, then column), so
it equals the book's result bit for bit.
"""
import numpy as np
from numba import prange

from .jit import njit_cached


@njit_cached(parallel=True)
def _im2col(img, filter_h, filter_w, stride, pad, out_h, out_w):
    N, C, H, W = img.shape
    col = np.empty((N * out_h * out_w, C * filter_h * filter_w), dtype=img.dtype)
    for row in prange(N * out_h):
        n, oy = row // out_h, row % out_h
        for ox in range(out_w):
            r = row * out_w + ox
            k = 0
            for c in range(C):
                for ky in range(filter_h):
                    iy = oy * stride + ky - pad
                    for kx in range(filter_w):
                        ix = ox * stride + kx - pad
                        if 0 <= iy < H and 0 <= ix < W:
                            col[r, k] = img[n, c, iy, ix]
                        else:
                            col[r, k] = 0
                        k += 1
    return col


@njit_cached(parallel=True)
def _col2im(col, N, C, H, W, filter_h, filter_w, stride, pad, out_h, out_w, zero):
    img = np.empty((N, C, H, W), dtype=col.dtype)
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for iy in range(H):
            for ix in range(W):
                acc = zero
                for ky in range(filter_h):
                    dy = iy + pad - ky
                    if dy < 0 or dy % stride != 0 or dy // stride >= out_h:
                        continue
                    for kx in range(filter_w):
                        dx = ix + pad - kx
                        if dx < 0 or dx % stride != 0 or dx // stride >= out_w:
                            continue
                        r = (n * out_h + dy // stride) * out_w + dx // stride
                        acc += col[r, (c * filter_h + ky) * filter_w + kx]
                img[n, c, iy, ix] = acc
    return img


@njit_cached(parallel=True)
def _maxpool_forward(x, pool_h, pool_w, stride, pad, out_h, out_w, zero):
    N, C, H, W = x.shape
    out = np.empty((N, C, out_h, out_w), dtype=x.dtype)
    arg = np.empty((N, C, out_h, out_w), dtype=np.int32)
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for oy in range(out_h):
            for ox in range(out_w):
                best = zero
                best_k = -1
                for ky in range(pool_h):
                    iy = oy * stride + ky - pad
                    for kx in range(pool_w):
                        ix = ox * stride + kx - pad
                        v = x[n, c, iy, ix] if (0 <= iy < H and 0 <= ix < W) else zero
                        # first maximum wins, a NaN wins and stays (as numpy's argmax)
                        if best_k < 0 or (v > best and best == best) or (v != v and best == best):
                            best, best_k = v, ky * pool_w + kx
                out[n, c, oy, ox] = best
                arg[n, c, oy, ox] = best_k
    return out, arg


@njit_cached(parallel=True)
def _maxpool_backward(dout, arg, H, W, pool_w, stride, pad):
    N, C, out_h, out_w = dout.shape
    dx = np.zeros((N, C, H, W), dtype=dout.dtype)
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for oy in range(out_h):
            for ox in range(out_w):
                k = arg[n, c, oy, ox]
                iy = oy * stride + k // pool_w - pad
                ix = ox * stride + k % pool_w - pad
                if 0 <= iy < H and 0 <= ix < W:
                    dx[n, c, iy, ix] += dout[n, c, oy, ox]
    return dx


def im2col(x, filter_h, filter_w, stride, pad, out_h, out_w):
    return _im2col(np.ascontiguousarray(x), filter_h, filter_w, stride, pad, out_h, out_w)


def col2im(col, shape, filter_h, filter_w, stride, pad, out_h, out_w):
    N, C, H, W = shape
    return _col2im(np.ascontiguousarray(col), N, C, H, W, filter_h, filter_w, stride, pad,
                   out_h, out_w, col.dtype.type(0))


def maxpool_forward(x, pool_h, pool_w, stride, pad, out_h, out_w):
    return _maxpool_forward(np.ascontiguousarray(x), pool_h, pool_w, stride, pad, out_h, out_w,
                            x.dtype.type(0))


def maxpool_backward(dout, arg, shape, pool_h, pool_w, stride, pad):
    return _maxpool_backward(np.ascontiguousarray(dout), arg, shape[2], shape[3], pool_w,
                             stride, pad)
