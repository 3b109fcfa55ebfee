"""Numba kernels for the CPU: im2col, col2im, max pooling, and the NCHW/rows reshuffles.

Each loop runs in parallel over independent images, output rows or (image,
channel) pairs, so no two threads write the same element. col2im adds every
pixel's contributions in the book's order (filter row, then column), so it
equals the book's result bit for bit. Padding is applied once (np.pad, or a
padded output cropped at the end), which keeps the inner loops free of bounds
checks.
"""
import numpy as np
from numba import prange

from .jit import njit_cached


def _padded(x, pad):
    x = np.ascontiguousarray(x)
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x


@njit_cached(parallel=True)
def _im2col(img, filter_h, filter_w, stride, out_h, out_w):
    N, C, Hp, Wp = img.shape
    K = C * filter_h * filter_w
    col = np.empty((N * out_h * out_w, K), dtype=img.dtype)
    src, dst = img.reshape(-1), col.reshape(-1)  # flat offsets: no per-element 4-D index math
    for row in prange(N * out_h):
        n, oy = row // out_h, row % out_h
        for ox in range(out_w):
            d = (row * out_w + ox) * K
            for c in range(C):
                for ky in range(filter_h):
                    s = ((n * C + c) * Hp + oy * stride + ky) * Wp + ox * stride
                    for kx in range(filter_w):
                        dst[d] = src[s + kx]
                        d += 1
    return col


@njit_cached(parallel=True)
def _col2im(col, N, C, H, W, filter_h, filter_w, stride, out_h, out_w):
    """Into a padded image: one thread per image, columns added in the book's (ky, kx) order."""
    img = np.zeros((N, C, H, W), dtype=col.dtype)
    for n in prange(N):
        for c in range(C):
            for ky in range(filter_h):
                for kx in range(filter_w):
                    k = (c * filter_h + ky) * filter_w + kx
                    for oy in range(out_h):
                        r = (n * out_h + oy) * out_w
                        for ox in range(out_w):
                            img[n, c, oy * stride + ky, ox * stride + kx] += col[r + ox, k]
    return img


@njit_cached(parallel=True)
def _maxpool_forward(x, pool_h, pool_w, stride, out_h, out_w):
    N, C = x.shape[:2]
    out = np.empty((N, C, out_h, out_w), dtype=x.dtype)
    arg = np.empty((N, C, out_h, out_w), dtype=np.int32)
    for nc in prange(N * C):
        plane, o, a = x[nc // C, nc % C], out[nc // C, nc % C], arg[nc // C, nc % C]
        for oy in range(out_h):
            for ox in range(out_w):
                best = plane[oy * stride, ox * stride]
                best_k = 0
                nan = False
                for ky in range(pool_h):
                    for kx in range(pool_w):
                        v = plane[oy * stride + ky, ox * stride + kx]
                        nan |= v != v  # a flag, not a branch: 3x faster than testing in the if
                        if v > best:  # the first maximum wins, as np.argmax picks it
                            best, best_k = v, ky * pool_w + kx
                o[oy, ox] = np.nan if nan else best  # a NaN in the window wins, as in np.max
                a[oy, ox] = best_k
    return out, arg


@njit_cached(parallel=True)
def _maxpool_backward(dout, arg, H, W, pool_w, stride, pad):
    N, C, out_h, out_w = dout.shape
    dx = np.zeros((N, C, H, W), dtype=dout.dtype)
    for nc in prange(N * C):
        d, a, g = dout[nc // C, nc % C], arg[nc // C, nc % C], dx[nc // C, nc % C]
        for oy in range(out_h):
            for ox in range(out_w):
                iy = oy * stride + a[oy, ox] // pool_w - pad
                ix = ox * stride + a[oy, ox] % pool_w - pad
                if 0 <= iy < H and 0 <= ix < W:
                    g[iy, ix] += d[oy, ox]
    return dx


@njit_cached(parallel=True)
def _rows_to_nchw(rows, bias, N, H, W):
    C, P = rows.shape[1], H * W
    out = np.empty((N, C, P), dtype=rows.dtype)
    for n in prange(N):
        for p in range(P):
            for c in range(C):
                out[n, c, p] = rows[n * P + p, c] + bias[c]
    return out.reshape(N, C, H, W)


@njit_cached(parallel=True)
def _nchw_to_rows(x):
    N, C, H, W = x.shape
    rows = np.empty((N * H * W, C), dtype=x.dtype)
    for r in prange(N * H):
        n, y = r // H, r % H
        for xx in range(W):
            for c in range(C):
                rows[r * W + xx, c] = x[n, c, y, xx]
    return rows


def im2col(x, filter_h, filter_w, stride, pad, out_h, out_w):
    return _im2col(_padded(x, pad), filter_h, filter_w, stride, out_h, out_w)


def col2im(col, shape, filter_h, filter_w, stride, pad, out_h, out_w):
    N, C, H, W = shape
    img = _col2im(np.ascontiguousarray(col), N, C, H + 2 * pad, W + 2 * pad, filter_h, filter_w,
                  stride, out_h, out_w)
    return np.ascontiguousarray(img[:, :, pad:H + pad, pad:W + pad]) if pad else img


def maxpool_forward(x, pool_h, pool_w, stride, pad, out_h, out_w):
    return _maxpool_forward(_padded(x, pad), pool_h, pool_w, stride, out_h, out_w)


def maxpool_backward(dout, arg, shape, pool_h, pool_w, stride, pad):
    return _maxpool_backward(np.ascontiguousarray(dout), arg, shape[2], shape[3], pool_w,
                             stride, pad)


def rows_to_nchw(rows, bias, shape):
    N, _, H, W = shape
    return _rows_to_nchw(np.ascontiguousarray(rows), np.ascontiguousarray(bias), N, H, W)


def nchw_to_rows(x):
    return _nchw_to_rows(np.ascontiguousarray(x))


@njit_cached(parallel=True)
def _cross_entropy_rows(scores, labels):
    n, classes = scores.shape
    out = np.empty(n, dtype=scores.dtype)
    for r in prange(n):
        top = scores[r, 0]
        for c in range(1, classes):
            top = max(top, scores[r, c])
        total = scores[r, 0] * 0
        for c in range(classes):
            total += np.exp(scores[r, c] - top)
        out[r] = -np.log(np.exp(scores[r, labels[r]] - top) / total + 1e-7)
    return out


def cross_entropy_rows(scores, labels):
    return _cross_entropy_rows(np.ascontiguousarray(scores), np.ascontiguousarray(labels))
