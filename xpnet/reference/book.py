"""The book's im2col, col2im, pooling and numerical gradient (reference only)."""
import numpy as np

from ..backend import get_array_module


def book_im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """The book's strided im2col: (N, C, H, W) -> (N*out_h*out_w, C*filter_h*filter_w)."""
    xp = get_array_module(input_data)
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = xp.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = xp.zeros((N, C, filter_h, filter_w, out_h, out_w), dtype=input_data.dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def book_col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The book's col2im: adds the columns back into an (N, C, H, W) image."""
    xp = get_array_module(col)
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = xp.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), dtype=col.dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]


def book_pool_forward(x, pool_h, pool_w, stride=1, pad=0):
    """The book's Pooling.forward: returns (out, arg_max) through im2col."""
    xp = get_array_module(x)
    N, C, H, W = x.shape
    out_h = (H + 2 * pad - pool_h) // stride + 1
    out_w = (W + 2 * pad - pool_w) // stride + 1
    col = book_im2col(x, pool_h, pool_w, stride, pad).reshape(-1, pool_h * pool_w)
    arg_max = xp.argmax(col, axis=1)
    out = xp.max(col, axis=1).reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
    return out, arg_max


def book_pool_backward(dout, arg_max, x_shape, pool_h, pool_w, stride=1, pad=0):
    """The book's Pooling.backward: scatters dout to the arg-max positions via col2im."""
    xp = get_array_module(dout)
    dout = dout.transpose(0, 2, 3, 1)
    pool_size = pool_h * pool_w
    dmax = xp.zeros((dout.size, pool_size), dtype=dout.dtype)
    dmax[xp.arange(arg_max.size), arg_max.flatten()] = dout.flatten()
    dmax = dmax.reshape(dout.shape + (pool_size,))
    dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
    return book_col2im(dcol, x_shape, pool_h, pool_w, stride, pad)


def book_numerical_gradient(f, x):
    """The book's nditer loop: central differences, h = 1e-4, one element at a time."""
    h = 1e-4
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        idx = it.multi_index
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
        it.iternext()
    return grad
