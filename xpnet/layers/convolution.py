"""Convolution and max pooling layers (chapter 7), on the kernels of xpnet.kernels."""
from ..kernels import (channels_to_nchw, conv_input_grad, direct_conv_backward,
                       direct_conv_fits, direct_conv_forward, im2col, maxpool_backward,
                       maxpool_forward, nchw_to_channels, output_size)
from .base import Layer

# A column matrix larger than this is not kept from forward to backward: both build it a
# group of images at a time (GROUP_COL_BYTES each), from the input the layer keeps anyway.
KEEP_COL_BYTES = 64 << 20
GROUP_COL_BYTES = 2 << 20


class Convolution(Layer):
    """2-D convolution of (N, C, H, W) input with filters W (FN, C, FH, FW) and bias b (FN,).

    As in the book: unfold the input with im2col, multiply by the filters as a
    matrix, and fold the input gradient back with col2im (``conv_input_grad``).
    The products are written transposed (filters times ``col.T``), which is how
    ``col`` lies in memory: they come out one row per output channel, whole
    images away from NCHW. Each forward writes its ``col`` over the previous
    one's memory when the shapes agree (fresh pages cost the OS's zeroing),
    so copy ``layer.col`` if you need it after the next forward.

    A column matrix over KEEP_COL_BYTES is not kept (``col`` is None): forward
    and backward build it for a group of images at a time. DeepConvNet at batch
    500 would otherwise hold 554 MB of them between forward and backward.

    3x3 and 5x5 filters with stride 1 (DeepConvNet's, SimpleConvNet's) take direct
    kernels on the CPU instead (``kernels/direct.py``): no column matrix at all
    (``col`` is None), the layer keeps only its input's padded ``frames``.
    """

    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.x = None
        self.col = None
        self.col_W = None
        self.frames = None
        self.dW = None
        self.db = None

    def forward(self, x):
        xp = self._xp(x, self.W, self.b)
        FN, C, FH, FW = self.W.shape
        if x.ndim != 4 or x.shape[1] != C:
            raise self._shape_error(f"input of shape {tuple(x.shape)} does not fit filters of "
                                    f"shape {tuple(self.W.shape)}: expected (N, {C}, H, W)")
        N, _, H, W = x.shape
        out_h = output_size(H, FH, self.stride, self.pad)
        out_w = output_size(W, FW, self.stride, self.pad)
        filters = self.W.reshape(FN, -1)
        self.x, self.col_W, self.frames = x, filters.T, None
        if direct_conv_fits(x, self.W, self.stride, self.pad):
            self.col = None
            out, self.frames = direct_conv_forward(x, self.W, self.b, self.pad)
            return out
        dtype = xp.result_type(filters, x)  # the products' dtype
        bias = xp.broadcast_to(xp.asarray(self.b, dtype=dtype), (FN,))  # a number, as (FN,)
        image_bytes = out_h * out_w * filters.shape[1] * x.itemsize  # its columns
        if N * image_bytes <= KEEP_COL_BYTES:
            self.col = im2col(x, FH, FW, self.stride, self.pad, buffer=self.col)  # its memory
            return channels_to_nchw(xp.dot(filters, self.col.T), bias, (N, FN, out_h, out_w))
        self.col = None
        out = xp.empty((N, FN, out_h, out_w), dtype=dtype)
        for start, stop, col in self._columns_by_group(image_bytes):
            out[start:stop] = channels_to_nchw(xp.dot(filters, col.T), bias,
                                               (stop - start, FN, out_h, out_w))
        return out

    def _columns_by_group(self, image_bytes):
        """(start, stop, im2col of those images) for consecutive groups of the kept input,
        each with ~GROUP_COL_BYTES of columns (``image_bytes`` per image)."""
        N, FH, FW = self.x.shape[0], self.W.shape[2], self.W.shape[3]
        step = max(1, GROUP_COL_BYTES // image_bytes)
        for start in range(0, N, step):
            stop = min(N, start + step)
            yield start, stop, im2col(self.x[start:stop], FH, FW, self.stride, self.pad)

    def backward(self, dout, need_dx=True):
        """Set dW and db; return dx unless ``need_dx`` is False (the network's input needs none)."""
        xp = self._xp(dout, self.W)
        FN, C, FH, FW = self.W.shape
        if self.frames is not None:  # the direct kernels' forward
            self.db = xp.sum(dout, axis=(0, 2, 3))
            self.dW, dx = direct_conv_backward(self.frames, self.W, dout, self.pad, need_dx)
            return dx
        dout = nchw_to_channels(dout)  # (FN, N*out_h*out_w)
        self.db = xp.sum(dout, axis=1)
        if self.col is not None:
            self.dW = xp.dot(dout, self.col).reshape(FN, C, FH, FW)
        else:  # the columns again, a group of images at a time (see the class)
            P = dout.shape[1] // self.x.shape[0]
            groups = self._columns_by_group(P * C * FH * FW * self.x.itemsize)
            self.dW = sum(xp.dot(dout[:, start * P:stop * P], col)
                          for start, stop, col in groups).reshape(FN, C, FH, FW)
        if not need_dx:
            return None
        return conv_input_grad(self.col_W, dout, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling(Layer):
    """Max pooling over pool_h x pool_w windows; backward routes dout to each window's maximum.

    Same results and defaults (stride 2) as the book's im2col formulation,
    without building the column matrix.
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.x_shape = None
        self.arg_max = None

    def forward(self, x):
        self._xp(x)
        if x.ndim != 4:
            raise self._shape_error(f"expected a 4-D (N, C, H, W) input, got shape {tuple(x.shape)}")
        out, self.arg_max = maxpool_forward(x, self.pool_h, self.pool_w, self.stride, self.pad)
        self.x_shape = x.shape
        return out

    def backward(self, dout):
        return maxpool_backward(dout, self.arg_max, self.x_shape, self.pool_h, self.pool_w,
                                self.stride, self.pad)
