"""Dropout (chapter 6), as inverted dropout.

In training each unit is kept with probability 1 - dropout_ratio and the kept
ones are scaled by 1 / (1 - dropout_ratio); at test time the layer is the
identity. The expected output is the same as the book's convention (scale by
1 - ratio at test time), but inference needs no knowledge of the ratio.
"""
from ..backend.random import rand_like
from .base import Layer


class Dropout(Layer):
    def __init__(self, dropout_ratio=0.5):
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"Dropout: dropout_ratio must be in [0, 1), got {dropout_ratio}")
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        self._xp(x)
        if not train_flg:
            return x
        keep = 1.0 - self.dropout_ratio
        self.mask = (rand_like(x) >= self.dropout_ratio).astype(x.dtype) / x.dtype.type(keep)
        return self.apply_mask(x)

    def apply_mask(self, x):
        """x times the mask drawn by the last training forward (also on a stack of copies of x)."""
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask
