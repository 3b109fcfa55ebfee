"""im2col, col2im, max pooling and central differences as their definitions say, one window
(or one element) at a time: the slow, plain references that xpnet's kernels are tested against.

Written from the definitions, not from any fast implementation (the book's own code is
never copied into this project; tests/book compares with numbers recorded from it). Each
sums in the order the book's code does, so that equality can be asserted bit for bit:
col2im adds every value into a zeroed image, filter position by filter position.
"""
import itertools

import numpy as np

H = 1e-4


def output_size(size, f, stride, pad):
    return (size + 2 * pad - f) // stride + 1


def _padded(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def _geometry(shape, fh, fw, stride, pad):
    """Output height and width, and every window's (out y, out x, top, left) in the padded image."""
    oh, ow = output_size(shape[2], fh, stride, pad), output_size(shape[3], fw, stride, pad)
    windows = [(oy, ox, oy * stride, ox * stride) for oy in range(oh) for ox in range(ow)]
    return oh, ow, windows


def im2col(x, fh, fw, stride=1, pad=0):
    """Row (n, out y, out x): the window there in image n, channel by channel, row by row."""
    n_images = x.shape[0]
    oh, ow, windows = _geometry(x.shape, fh, fw, stride, pad)
    img = _padded(x, pad)
    rows = [img[n, :, top:top + fh, left:left + fw].reshape(-1)
            for n in range(n_images) for _, _, top, left in windows]
    return np.array(rows).reshape(n_images * oh * ow, -1)


def col2im(col, shape, fh, fw, stride=1, pad=0):
    """The adjoint of im2col: each value added back where it came from, into zeros, filter
    position (ky, kx) by filter position; the padding cropped off."""
    N, C, Hgt, Wid = shape
    oh, ow, windows = _geometry(shape, fh, fw, stride, pad)
    values = col.reshape(N, oh, ow, C, fh, fw)
    img = np.zeros((N, C, Hgt + 2 * pad, Wid + 2 * pad), dtype=col.dtype)
    for ky, kx in itertools.product(range(fh), range(fw)):
        for oy, ox, top, left in windows:
            img[:, :, top + ky, left + kx] += values[:, oy, ox, :, ky, kx]
    return img[:, :, pad:pad + Hgt, pad:pad + Wid]


def maxpool_forward(x, ph, pw, stride=1, pad=0):
    """(out, arg), both (N, C, out h, out w): each window's maximum (zero padding takes part;
    NaN wins) and its first position in the window, row by row."""
    N, C = x.shape[:2]
    oh, ow, windows = _geometry(x.shape, ph, pw, stride, pad)
    img = _padded(x, pad)
    out = np.empty((N, C, oh, ow), dtype=x.dtype)
    arg = np.empty((N, C, oh, ow), dtype=np.int64)
    for oy, ox, top, left in windows:
        window = img[:, :, top:top + ph, left:left + pw].reshape(N, C, -1)
        out[:, :, oy, ox] = window.max(axis=2)
        arg[:, :, oy, ox] = window.argmax(axis=2)
    return out, arg


def maxpool_backward(dout, arg, shape, ph, pw, stride=1, pad=0):
    """Each window's gradient added at its maximum's position; the padding cropped off."""
    N, C, Hgt, Wid = shape
    _, _, windows = _geometry(shape, ph, pw, stride, pad)
    dx = np.zeros((N, C, Hgt + 2 * pad, Wid + 2 * pad), dtype=dout.dtype)
    images, channels = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for oy, ox, top, left in windows:
        ky, kx = np.divmod(arg[:, :, oy, ox], pw)
        dx[images, channels, top + ky, left + kx] += dout[:, :, oy, ox]
    return dx[:, :, pad:pad + Hgt, pad:pad + Wid]


def central_differences(f, x):
    """(f(x + h e_i) - f(x - h e_i)) / 2h for every element i, each on a fresh copy of x."""
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += H
        down[index] -= H
        grad[index] = (f(up) - f(down)) / (2 * H)
    return grad
