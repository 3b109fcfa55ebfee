"""The fully connected layer (chapter 5)."""
import math

import numpy

from ..moves import moved
from .base import Layer


class Affine(Layer):
    """out = x @ W + b for x of any shape (N, ...), flattened to (N, D) and restored in backward."""

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        xp = self._xp(x, self.W, self.b)
        if x.ndim < 2 or x.shape[0] == 0 or math.prod(x.shape[1:]) != self.W.shape[0]:
            raise self._shape_error(f"input of shape {tuple(x.shape)} does not fit W of shape "
                                    f"{tuple(self.W.shape)}: expected N >= 1 samples of "
                                    f"{self.W.shape[0]} values")
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        moves = moved(self.W)
        if moves is not None and xp is numpy:
            return self._forward_while_moved(moves)
        return _dot(xp, self.x, self.W) + self.b

    def _forward_while_moved(self, moves):
        """Forward while the numerical-gradient loop moves one weight (xpnet.moves).

        Where the moved weight's row of the input is all zeros it multiplies only
        zeros, and the output is, to the bit, the output with W unmoved: kept from
        the first such call, it is returned again without a product (the book's
        gradient check on MNIST: two thirds of the first layer's weights).
        """
        row = moves.index // self.W.shape[1]
        kept = moves.kept.get(self)
        if kept is None or not kept.holds(self.x):
            kept = moves.kept[self] = _Unmoved(self.x)
        if kept.zero_rows[row] and kept.out is not None:
            return kept.out.copy()
        out = _dot(numpy, self.x, self.W) + self.b
        if kept.zero_rows[row]:
            kept.out = out.copy()
        return out

    def backward(self, dout, need_dx=True):
        """Set dW and db; return dx unless ``need_dx`` is False (the network's input needs none)."""
        xp = self._xp(dout, self.W)
        self.dW = xp.dot(_as(self.x, dout.dtype).T, dout)
        self.db = xp.sum(dout, axis=0)
        if not need_dx:
            return None
        dx = xp.dot(dout, _as(self.W, dout.dtype).T)
        return dx.reshape(*self.original_x_shape)


class _Unmoved:
    """An input seen during one loop over W (kept in its xpnet.moves.Moves), its all-zero
    rows, and the output with W unmoved once a call has computed it."""

    def __init__(self, x):
        self.bits = _bits(x)
        self.zero_rows = ~x.any(axis=0)
        self.out = None

    def holds(self, x):
        """True for an input equal to the kept one, bit for bit."""
        return self.bits == _bits(x)


def _bits(x):
    """What makes two inputs the same input: shape, dtype and every byte."""
    return x.shape, x.dtype, x.tobytes()


# Rows of the input cast at a time when its dtype differs from W's: 4 MiB in W's dtype.
CAST_BYTES = 1 << 22


def _dot(xp, x, W):
    """x @ W, with x cast to W's dtype a block of rows at a time when the two differ.

    NumPy multiplies mixed dtypes (the book's float32 images by its float64
    weights) without BLAS: 100x784 by 784x50 took 448 us, against 147 us cast
    first. A whole cast of a large x writes a new array as big as x (10,000
    test images: 9.6 ms of 24); cast by blocks of 4 MiB, 14 ms.
    """
    if x.dtype == W.dtype:  # the usual case, without the casts' bookkeeping
        return xp.dot(x, W)
    dtype = xp.result_type(x, W)
    W = _as(W, dtype)
    rows = max(1, CAST_BYTES // (x.shape[1] * dtype.itemsize))
    if x.dtype == dtype or x.shape[0] <= rows:  # one block: a plain cast
        return xp.dot(_as(x, dtype), W)
    out = xp.empty((x.shape[0], W.shape[1]), dtype=dtype)
    block = xp.empty((min(rows, x.shape[0]), x.shape[1]), dtype=dtype)
    for start in range(0, x.shape[0], rows):
        part = block[:min(rows, x.shape[0] - start)]
        part[...] = x[start:start + rows]
        xp.dot(part, W, out=out[start:start + rows])
    return out


def _as(array, dtype):
    """``array`` in ``dtype``, copied only if it differs."""
    return array.astype(dtype, copy=False)
