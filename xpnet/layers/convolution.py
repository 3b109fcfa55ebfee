"""Convolution and max pooling layers (chapter 7), on the kernels of xpnet.kernels."""
from ..kernels import (conv_filter_grad, conv_forward, conv_input_grad, maxpool_backward,
                       maxpool_forward, nchw_to_channels)
from .base import Layer


class Convolution(Layer):
    """2-D convolution of (N, C, H, W) input with filters W (FN, C, FH, FW) and bias b (FN,).

    As in the book: unfold the input with im2col, multiply by the filters as a
    matrix, and fold the input gradient back with col2im (``conv_input_grad``).
    The products are written transposed (filters times ``col.T``), which is how
    ``col`` lies in memory: they come out one row per output channel, whole
    images away from NCHW. Unlike the book's layer it keeps the input ``x``,
    not the column matrix (9x larger for 3x3 filters): backward rebuilds the
    columns a few images at a time (``conv_forward``, ``conv_filter_grad``).
    """

    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.x = None
        self.col_W = None
        self.dW = None
        self.db = None

    def forward(self, x):
        xp = self._xp(x, self.W, self.b)
        FN, C, FH, FW = self.W.shape
        if x.ndim != 4 or x.shape[1] != C:
            raise self._shape_error(f"input of shape {tuple(x.shape)} does not fit filters of "
                                    f"shape {tuple(self.W.shape)}: expected (N, {C}, H, W)")
        self.x, self.col_W = x, self.W.reshape(FN, -1).T
        dtype = xp.result_type(x, self.W)  # float32 images and the book's float64 filters: float64
        bias = xp.broadcast_to(xp.asarray(self.b, dtype=dtype), (FN,))  # a number, as (FN,)
        return conv_forward(x, self.W, bias, self.stride, self.pad)

    def backward(self, dout, need_dx=True):
        """Set dW and db; return dx unless ``need_dx`` is False (the network's input needs none)."""
        xp = self._xp(dout, self.W)
        FN, C, FH, FW = self.W.shape
        dout = nchw_to_channels(dout)  # (FN, N*out_h*out_w)
        self.db = xp.sum(dout, axis=1)
        self.dW = conv_filter_grad(self.x, dout, self.W.shape, self.stride, self.pad)
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
