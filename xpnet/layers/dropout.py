"""Dropout (chapter 6): the book's, or inverted dropout as an option.

The book's (default): in training a unit is kept where a uniform draw
exceeds ``dropout_ratio`` (``np.random.rand(*x.shape) > ratio``, the same
draws), and dropped otherwise; at test time every output is scaled by
1 - ratio, so its expected value matches training.

``inverted=True``, today's convention: kept units are scaled by
1 / (1 - ratio) in training, and the layer is the identity at test time, so
inference needs no knowledge of the ratio. Same expected outputs.
"""
from ..backend.random import rand_like
from .base import Layer


class Dropout(Layer):
    def __init__(self, dropout_ratio=0.5, inverted=False):
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"Dropout: dropout_ratio must be in [0, 1), got {dropout_ratio}")
        self.dropout_ratio = dropout_ratio
        self.inverted = inverted
        self.mask = None

    def forward(self, x, train_flg=True):
        self._xp(x)
        if not train_flg:
            return x if self.inverted else x * (1.0 - self.dropout_ratio)
        keep = rand_like(x) > self.dropout_ratio
        self.mask = keep.astype(x.dtype) / x.dtype.type(1.0 - self.dropout_ratio) \
            if self.inverted else keep
        return self.apply_mask(x)

    def apply_mask(self, x):
        """x times the mask drawn by the last training forward (also on a stack of copies of x)."""
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask
