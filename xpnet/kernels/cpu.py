"""Numba kernels for the CPU: im2col, col2im, max pooling, NCHW/channels reshuffles, ReLU, Adam.

The column matrix is stored filter-position-major: a C-contiguous
(C*FH*FW, N*OH*OW) array whose transpose is the book's matrix. In that order
both im2col and col2im move whole output rows (out_w consecutive values) at a
time, and the convolution's products come out channel-major, one transpose of
whole images away from NCHW.

Each loop runs in parallel over independent (filter position, image) or
(image, channel) pairs, so no two threads write the same element. col2im adds
every pixel's contributions in the book's order (filter row, then column), so
it equals the book's result bit for bit.
"""
import numpy as np
from numba import prange, uint64 as U

from .expressions import (PARALLEL_MIN_SIZE, adam_expressions, relu_backward_expression,
                          relu_forward_expression)
from .jit import njit_cached
from .small import padded


# Indices are cast to unsigned (U) in the inner loops: Numba checks every signed
# index for a negative value (Python's a[-1]), and that check stops LLVM from
# vectorizing the loop. Unsigned indices skip it: im2col on 16x28x28 went from
# 14.3 to 8.0 ms, col2im from 12.4 to 5.7 ms.


@njit_cached()
def _inside(k, stride, pad, size, out_size):
    """[lo, hi): the output positions o whose input position o*stride + k - pad is inside."""
    lo = min(out_size, max(0, (pad - k + stride - 1) // stride))
    return lo, max(lo, min(out_size, (size + pad - k + stride - 1) // stride))


@njit_cached(parallel=True)
def _im2col(img, filter_h, filter_w, stride, pad, out_h, out_w, cols):
    """cols[(c, ky, kx), (n, oy, ox)] = img[n, c, oy*stride+ky-pad, ox*stride+kx-pad], 0 outside.

    One (filter position, image) pair per iteration, in memory order of ``cols``:
    each writes out_h runs of out_w consecutive values.
    """
    N, C, H, W = img.shape
    for kn in prange(C * filter_h * filter_w * N):
        k, n = kn // N, kn % N
        c, ky, kx = k // (filter_h * filter_w), (k // filter_w) % filter_h, k % filter_w
        lo, hi = _inside(kx, stride, pad, W, out_w)
        row = cols[k]
        d = U(n * out_h * out_w)
        for oy in range(out_h):
            iy = oy * stride + ky - pad
            if iy < 0 or iy >= H:
                for ox in range(out_w):
                    row[d + U(ox)] = 0
            else:
                src, first = img[n, c, iy], U(lo * stride + kx - pad)
                for ox in range(lo):
                    row[d + U(ox)] = 0
                for j in range(hi - lo):
                    row[d + U(lo + j)] = src[first + U(j * stride)]
                for ox in range(hi, out_w):
                    row[d + U(ox)] = 0
            d += U(out_w)


@njit_cached()
def _fold_channel(cols, base, c, filter_h, filter_w, stride, pad, out_h, out_w, plane):
    """plane (H, W) += channel c's columns, where cols[k, base + p] is filter position k of
    output position p. Each pixel receives its contributions in the book's (ky, kx) order."""
    H, W = plane.shape
    for ky in range(filter_h):
        for kx in range(filter_w):
            row = cols[(c * filter_h + ky) * filter_w + kx]
            lo, hi = _inside(kx, stride, pad, W, out_w)
            for oy in range(out_h):
                iy = oy * stride + ky - pad
                if 0 <= iy < H:
                    dst, first = plane[iy], U(lo * stride + kx - pad)
                    r = U(base + oy * out_w + lo)
                    if stride == 1:  # a contiguous run, which LLVM vectorizes: conv1 -16%
                        for j in range(hi - lo):
                            dst[first + U(j)] += row[r + U(j)]
                    else:
                        for j in range(hi - lo):
                            dst[first + U(j * stride)] += row[r + U(j)]


@njit_cached()
def _place_channel(cols, base, c, size, out_h, out_w, plane):
    """plane = channel c's columns put in place, where size x size windows tile it exactly
    (stride = filter = size, no padding: the book's pooling). Each pixel has one value and
    takes it + 0.0, which is the book's 0 + value to the bit (-0.0 included); no zeroing
    first, no read-modify-write."""
    for oy in range(out_h):
        for ky in range(size):
            dst = plane[oy * size + ky]
            for kx in range(size):
                row, r = cols[(c * size + ky) * size + kx], U(base + oy * out_w)
                for ox in range(out_w):
                    dst[U(ox * size + kx)] = row[r + U(ox)] + 0.0


@njit_cached()
def _channel_back(cols, base, c, filter_h, filter_w, stride, pad, out_h, out_w, plane, tiles):
    """Channel c's columns back into its plane: placed where the windows tile it, else folded."""
    if tiles:
        _place_channel(cols, base, c, stride, out_h, out_w, plane)
    else:
        _fold_channel(cols, base, c, filter_h, filter_w, stride, pad, out_h, out_w, plane)


@njit_cached(parallel=True)
def _col2im(cols, filter_h, filter_w, stride, pad, out_h, out_w, img, tiles):
    """img += the columns (xpnet's layout, (C*FH*FW, N*OH*OW)) folded back (img = them
    placed, when ``tiles``); one (channel, image) per iteration, so no races. Channel-major,
    consecutive iterations read on along the same rows of columns: 64x7x7 2.35 -> 1.74 ms,
    32x14x14 2.91 -> 2.09, 16x28x28 4.77 -> 3.98 (batch 100, against image-major)."""
    N, C = img.shape[:2]
    for cn in prange(C * N):
        c, n = cn // N, cn % N
        _channel_back(cols, n * out_h * out_w, c, filter_h, filter_w, stride, pad, out_h, out_w,
                      img[n, c], tiles)


@njit_cached(parallel=True)
def _col2im_row_major(col, filter_h, filter_w, stride, pad, out_h, out_w, img, tiles):
    """img += the book's row-major columns (N*OH*OW, C*FH*FW) folded back, one image per
    iteration: its block of rows is first transposed into a buffer small enough to stay in
    cache, then folded (or placed) as _col2im does with xpnet's layout (the same additions,
    in the same order)."""
    N, C = img.shape[:2]
    P, K = out_h * out_w, col.shape[1]
    for n in prange(N):
        block, cols = col[n * P:(n + 1) * P], np.empty((K, P), dtype=col.dtype)
        for p in range(P):
            for k in range(K):
                cols[k, p] = block[p, k]
        for c in range(C):
            _channel_back(cols, 0, c, filter_h, filter_w, stride, pad, out_h, out_w, img[n, c],
                          tiles)


@njit_cached()
def _first_nan(plane, corner, pool_h, pool_w, W):
    """Position in the window (row-major) of its first NaN; the window has one."""
    for k in range(pool_h * pool_w):
        v = plane[corner + U((k // pool_w) * W + k % pool_w)]
        if v != v:
            return k
    return 0


@njit_cached(parallel=True)
def _maxpool_forward(x, pool_h, pool_w, stride, out_h, out_w, out, arg):
    """out, arg: (N, C, out_h*out_w); x is already padded."""
    N, C, H, W = x.shape
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        plane, o, a = x[n, c].reshape(-1), out[n, c], arg[n, c]
        for oy in range(out_h):
            for ox in range(out_w):
                corner = U((oy * stride) * W + ox * stride)
                best = plane[corner]
                best_k = 0
                nan = False
                for ky in range(pool_h):
                    for kx in range(pool_w):
                        v = plane[corner + U(ky * W + kx)]
                        nan |= v != v  # a flag, not a branch: 3x faster than testing in the if
                        if v > best:  # the first maximum wins, as np.argmax picks it
                            best, best_k = v, ky * pool_w + kx
                if nan:  # the first NaN wins, as in np.max and np.argmax (rare: off the hot path)
                    best, best_k = np.nan, _first_nan(plane, corner, pool_h, pool_w, W)
                o[U(oy * out_w + ox)] = best
                a[U(oy * out_w + ox)] = best_k


@njit_cached(parallel=True)
def _maxpool_forward_2x2(x, W, out_h, out_w, out, arg):
    """The book's pooling (2x2 windows, stride 2, no padding), 4-6x faster than the loop above.

    x: (planes, H*W), out and arg: (planes, out_h*out_w). The four values of a
    window are named, and the larger one is chosen with selects, not branches,
    so LLVM vectorizes a whole output row. NaNs are only flagged on that pass
    (``v > best`` is false for them); a row that held one is done again so
    that the first NaN wins, as in np.argmax.
    """
    for p in prange(x.shape[0]):
        plane, o, a = x[p], out[p], arg[p]
        for oy in range(out_h):
            top, row = U(2 * oy * W), U(oy * out_w)
            bottom = top + U(W)
            nan = False
            for ox in range(out_w):
                i = U(2 * ox)
                v0, v1 = plane[top + i], plane[top + i + U(1)]
                v2, v3 = plane[bottom + i], plane[bottom + i + U(1)]
                nan |= (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3)
                best, k = v0, 0
                better = v1 > best
                best, k = (v1 if better else best), (1 if better else k)
                better = v2 > best
                best, k = (v2 if better else best), (2 if better else k)
                better = v3 > best
                best, k = (v3 if better else best), (3 if better else k)
                o[row + U(ox)], a[row + U(ox)] = best, k
            if nan:
                for ox in range(out_w):
                    for k in range(4):
                        v = plane[(bottom if k >= 2 else top) + U(2 * ox + k % 2)]
                        if v != v:
                            o[row + U(ox)], a[row + U(ox)] = v, k
                            break


@njit_cached(parallel=True)
def _maxpool_backward_unpadded(dout, arg, out_w, pool_h, pool_w, stride, W, dx):
    """dx = dout routed to each window's maximum, windows without padding; one plane per iteration.

    All arrays are flat, (planes, ...) in C order. Every window lies inside
    its plane, so the maximum's place is the window's corner plus a small
    table's offset: no division, no bounds check. Each thread zeroes the
    plane it fills, in its own cache (np.zeros beforehand is one thread
    writing the whole array).
    """
    planes, windows = dout.shape
    size = dx.shape[1]
    out_h = windows // out_w
    offset = np.empty(pool_h * pool_w, dtype=np.uint64)  # of each place k in the window
    for k in range(offset.size):
        offset[k] = U((k // pool_w) * W + k % pool_w)
    for p in prange(planes):
        d, a, g = dout[p], arg[p], dx[p]
        for i in range(size):
            g[U(i)] = 0
        for oy in range(out_h):
            row, at = U(oy * stride * W), U(oy * out_w)
            for ox in range(out_w):
                g[row + U(ox * stride) + offset[U(a[at + U(ox)])]] += d[at + U(ox)]


@njit_cached(parallel=True)
def _maxpool_backward(dout, arg, pool_w, stride, pad, dx):
    """dx += dout routed to each window's maximum, through padding; one plane per iteration."""
    N, C, out_h, out_w = dout.shape
    H, W = dx.shape[2:]
    for nc in prange(N * C):
        d, a, g = dout[nc // C, nc % C], arg[nc // C, nc % C], dx[nc // C, nc % C]
        for oy in range(out_h):
            for ox in range(out_w):
                iy = oy * stride + a[oy, ox] // pool_w - pad
                ix = ox * stride + a[oy, ox] % pool_w - pad
                if 0 <= iy < H and 0 <= ix < W:
                    g[U(iy), U(ix)] += d[oy, ox]


@njit_cached(parallel=True)
def _channels_to_nchw(cols, bias, out):
    N, C, P = out.shape
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        src, dst, start = cols[c], out[n, c], U(n * P)
        for p in range(P):
            dst[p] = src[start + U(p)] + bias[c]


@njit_cached(parallel=True)
def _nchw_to_channels(x, cols):
    N, C, P = x.shape
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        src, dst, start = x[n, c], cols[c], U(n * P)
        for p in range(P):
            dst[start + U(p)] = src[p]


def im2col(x, filter_h, filter_w, stride, pad, out_h, out_w, cols=None):
    N, C = x.shape[:2]
    # NumPy allocates (not Numba): it asks for huge pages for large arrays, so a 45 MB
    # column matrix takes 22 page faults instead of 11,000 (measured 24 -> 13 ms, before
    # the unsigned indices).
    if cols is None:
        cols = np.empty((C * filter_h * filter_w, N * out_h * out_w), dtype=x.dtype)
    _im2col(np.ascontiguousarray(x), filter_h, filter_w, stride, pad, out_h, out_w, cols)
    return cols.T


def col2im(col, shape, filter_h, filter_w, stride, pad, out_h, out_w):
    # windows that tile the image exactly (the book's 2x2 pooling on even sides) give each
    # pixel one value: the kernels write it, with no zeroed image to add into (1.8x faster)
    tiles = (filter_h == filter_w == stride and pad == 0 and shape[2] == out_h * stride
             and shape[3] == out_w * stride)
    img = (np.empty if tiles else np.zeros)(shape, dtype=col.dtype)
    if col.T.flags.c_contiguous:  # xpnet's layout, as im2col returns it
        _col2im(col.T, filter_h, filter_w, stride, pad, out_h, out_w, img, tiles)
    else:  # the book's row-major matrix, or any other order
        _col2im_row_major(np.ascontiguousarray(col), filter_h, filter_w, stride, pad, out_h,
                          out_w, img, tiles)
    return img


# conv_input_grad folds this many bytes of column matrix at a time: they stay in cache.
CHUNK_BYTES = 1 << 21


def conv_input_grad(col_W, dout, shape, filter_h, filter_w, stride, pad, out_h, out_w):
    N, P = shape[0], out_h * out_w
    step = max(1, CHUNK_BYTES // (col_W.shape[0] * P * dout.itemsize))  # images per chunk
    dx = np.zeros(shape, dtype=dout.dtype)
    for start in range(0, N, step):
        stop = min(N, start + step)
        cols = np.dot(col_W, dout[:, start * P:stop * P])
        _col2im(cols, filter_h, filter_w, stride, pad, out_h, out_w, dx[start:stop], False)
    return dx


def maxpool_forward(x, pool_h, pool_w, stride, pad, out_h, out_w):
    N, C = x.shape[:2]
    out = np.empty((N, C, out_h * out_w), dtype=x.dtype)
    arg = np.empty((N, C, out_h * out_w), dtype=np.int32)
    if pool_h == pool_w == stride == 2 and pad == 0:
        H, W = x.shape[2:]
        _maxpool_forward_2x2(np.ascontiguousarray(x).reshape(N * C, H * W), W, out_h, out_w,
                             out.reshape(N * C, -1), arg.reshape(N * C, -1))
    else:
        _maxpool_forward(padded(x, pad), pool_h, pool_w, stride, out_h, out_w, out, arg)
    return out.reshape(N, C, out_h, out_w), arg.reshape(N, C, out_h, out_w)


def maxpool_backward(dout, arg, shape, pool_h, pool_w, stride, pad):
    dout = np.ascontiguousarray(dout)
    N, C, out_h, out_w = dout.shape
    if pad == 0:
        dx = np.empty(shape, dtype=dout.dtype)
        _maxpool_backward_unpadded(dout.reshape(N * C, -1), arg.reshape(N * C, -1), out_w,
                                   pool_h, pool_w, stride, shape[3], dx.reshape(N * C, -1))
        return dx
    dx = np.zeros(shape, dtype=dout.dtype)
    _maxpool_backward(dout, arg, pool_w, stride, pad, dx)
    return dx


def channels_to_nchw(cols, bias, shape):
    N, C, H, W = shape
    out = np.empty((N, C, H * W), dtype=cols.dtype)
    _channels_to_nchw(np.ascontiguousarray(cols), np.ascontiguousarray(bias), out)
    return out.reshape(shape)


def nchw_to_channels(x):
    N, C, H, W = x.shape
    cols = np.empty((C, N * H * W), dtype=x.dtype)
    _nchw_to_channels(np.ascontiguousarray(x).reshape(N, C, H * W), cols)
    return cols


@njit_cached()
def _row_loss(row, label, eps):
    """-log(softmax(row)[label] + eps), or exact -log softmax when eps is 0."""
    top = row[0]
    for c in range(1, row.size):
        top = max(top, row[c])
    total = mine = row[0] * 0
    for c in range(row.size):
        e = np.exp(row[c] - top)
        total += e
        mine = e if c == label else mine
    if eps == 0:
        return np.log(total) - (row[label] - top)
    return -np.log(mine / total + eps)


@njit_cached(parallel=True)
def _cross_entropy_rows(scores, labels, eps):
    out = np.empty(scores.shape[0], dtype=scores.dtype)
    for r in prange(scores.shape[0]):
        out[r] = _row_loss(scores[r], labels[r], eps)
    return out


def cross_entropy_rows(scores, labels, eps):
    return _cross_entropy_rows(np.ascontiguousarray(scores), np.ascontiguousarray(labels),
                               scores.dtype.type(eps))


@njit_cached(parallel=True)
def _sample_loss_changes(diff, cols, W, scores, labels, base, eps, out):
    """out[p] = sum over samples n with diff[p, n] != 0 of (loss of the row scores[n] +
    diff[p, n] * W[cols[p]]) - base[n], summed in n's order from 0 in float64."""
    P, N = diff.shape
    chunk = 256
    for start in prange((P + chunk - 1) // chunk):
        row = np.empty(scores.shape[1], dtype=scores.dtype)
        for p in range(start * chunk, min(P, (start + 1) * chunk)):
            w, total = W[cols[p]], 0.0
            for n in range(N):
                d = diff[p, n]
                if d != 0:
                    for c in range(row.size):
                        row[c] = scores[n, c] + d * w[c]
                    total += _row_loss(row, labels[n], eps) - base[n]
            out[p] = total


def sample_loss_changes(diff, cols, W, scores, labels, base, eps):
    """How much the summed per-sample losses change when the last Affine layer's input column
    cols[p] changes by diff[p] (P, N): the numerical engine's inner loop in one pass, without
    the (pairs, classes) temporaries. Each row's loss is cross_entropy_rows's, bit for bit."""
    out = np.empty(diff.shape[0])
    _sample_loss_changes(np.ascontiguousarray(diff), np.ascontiguousarray(cols),
                         np.ascontiguousarray(W), np.ascontiguousarray(scores),
                         np.ascontiguousarray(labels), np.ascontiguousarray(base),
                         scores.dtype.type(eps), out)
    return out


@njit_cached(parallel=True)
def _relu_forward(x, out):
    for i in prange(x.size):
        out[i] = 0 if x[i] <= 0 else x[i]  # NaN stays NaN, as in the book


@njit_cached(parallel=True)
def _relu_backward(dout, out, dx):
    for i in prange(dout.size):
        dx[i] = 0 if out[i] <= 0 else dout[i]


def relu_forward(x):
    if x.size < PARALLEL_MIN_SIZE:
        return relu_forward_expression(np, x)
    out = np.empty(x.shape, dtype=x.dtype)
    _relu_forward(np.ascontiguousarray(x).reshape(-1), out.reshape(-1))
    return out


def relu_backward(dout, out):
    if dout.size < PARALLEL_MIN_SIZE or dout.dtype != out.dtype:
        return relu_backward_expression(np, dout, out)
    dx = np.empty(dout.shape, dtype=dout.dtype)
    _relu_backward(np.ascontiguousarray(dout).reshape(-1), np.ascontiguousarray(out).reshape(-1),
                   dx.reshape(-1))
    return dx


@njit_cached(parallel=True)
def _adam_update(param, grad, m, v, lr_t, rate1, rate2, eps):
    for i in prange(param.size):
        m[i] += rate1 * (grad[i] - m[i])
        v[i] += rate2 * (grad[i] ** 2 - v[i])
        param[i] -= lr_t * m[i] / (np.sqrt(v[i]) + eps)


def adam_update(param, grad, m, v, lr_t, beta1, beta2, eps):
    same = all(a.dtype == param.dtype for a in (grad, m, v))
    if param.size < PARALLEL_MIN_SIZE or not same or not all(
            a.flags.c_contiguous for a in (param, grad, m, v)):
        return adam_expressions(np, param, grad, m, v, lr_t, beta1, beta2, eps)
    scalar = param.dtype.type  # Python floats meet arrays in the arrays' dtype, as in NumPy
    _adam_update(param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1),
                 scalar(lr_t), scalar(1 - beta1), scalar(1 - beta2), scalar(eps))


@njit_cached()
def numerical_gradient_loop(f, x, flat_x, flat_grad, h):
    """The book's central-difference loop over ``x``'s elements, for a Numba-compiled ``f``."""
    for i in range(flat_x.size):
        tmp = flat_x[i]
        flat_x[i] = tmp + h
        fxh1 = f(x)
        flat_x[i] = tmp - h
        fxh2 = f(x)
        flat_grad[i] = (fxh1 - fxh2) / (2 * h)
        flat_x[i] = tmp


@njit_cached(parallel=True)
def _crop_flip(x, offset_y, offset_x, flip, pad, out):
    N, C, H, W = x.shape
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for y in range(H):
            sy = y + offset_y[n] - pad
            for j in range(W):
                sx = (W - 1 - j if flip[n] else j) + offset_x[n] - pad
                inside = 0 <= sy < H and 0 <= sx < W
                out[n, c, y, j] = x[n, c, sy, sx] if inside else 0


def crop_flip(x, offset_y, offset_x, flip, pad):
    out = np.empty(x.shape, dtype=x.dtype)
    _crop_flip(np.ascontiguousarray(x), offset_y, offset_x, flip, pad, out)
    return out


@njit_cached(parallel=True, fastmath={"reassoc", "contract"})
def _channel_sums(x, shift, y, sums):
    """sums[c] = (sum of x[:, c] - shift[c], sum of (x[:, c] - shift[c]) (y[:, c] - shift[c])),
    in float64; each channel sums in a fixed order (vectorized), whatever the thread count."""
    N, C = x.shape[:2]
    for c in prange(C):
        s, t = 0.0, 0.0
        for n in range(N):
            a, b = x[n, c].ravel(), y[n, c].ravel()
            for i in range(a.size):
                d = a[i] - shift[c]
                s += d
                t += d * (b[i] - shift[c])
        sums[c, 0], sums[c, 1] = s, t


@njit_cached(parallel=True, fastmath={"contract"})
def _channel_affine(x, a, y, b, k, out):
    """out[n, c] = a[c] * x[n, c] + b[c] * y[n, c] + k[c], a plane at a time."""
    N, C = x.shape[:2]
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        src, other, dst = x[n, c].ravel(), y[n, c].ravel(), out[n, c].ravel()
        for i in range(src.size):
            dst[i] = a[c] * src[i] + b[c] * other[i] + k[c]


def batch_norm_forward(x, gamma, beta, eps):
    x = np.ascontiguousarray(x)
    C, m = x.shape[1], x.size // x.shape[1]
    sums = np.empty((C, 2))
    _channel_sums(x, np.zeros(C), x, sums)  # the mean, then the variance about it
    mean = sums[:, 0] / m
    _channel_sums(x, mean, x, sums)
    var = sums[:, 1] / m - (sums[:, 0] / m) ** 2  # the second term: the mean's rounding
    inv_std = 1.0 / np.sqrt(var + eps)
    scale = gamma * inv_std
    out = np.empty_like(x)
    dtype = x.dtype
    _channel_affine(x, scale.astype(dtype), x, np.zeros(C, dtype),
                    (beta - mean * scale).astype(dtype), out)
    return out, mean.astype(dtype), var.astype(dtype), inv_std.astype(dtype)


def batch_norm_backward(dout, x, mean, inv_std, gamma):
    dout, x = np.ascontiguousarray(dout, dtype=x.dtype), np.ascontiguousarray(x)
    C, m = x.shape[1], x.size // x.shape[1]
    mean, inv_std = mean.astype(np.float64), inv_std.astype(np.float64)
    sums = np.empty((C, 2))
    _channel_sums(dout, np.zeros(C), x, sums)  # sum(dout), sum(dout * x)
    dbeta = sums[:, 0]
    dgamma = (sums[:, 1] - mean * dbeta) * inv_std  # sum(dout * xn)
    scale = gamma * inv_std
    # dx = scale (dout - dbeta/m - xn dgamma/m), xn = (x - mean) inv_std: a dout + b x + k
    b = -scale * inv_std * dgamma / m
    k = -scale * dbeta / m - b * mean
    dx = np.empty_like(x)
    dtype = x.dtype
    _channel_affine(dout, scale.astype(dtype), x, b.astype(dtype), k.astype(dtype), dx)
    return dx, dgamma.astype(dtype), dbeta.astype(dtype)
