"""The fully connected layer (chapter 5)."""
import math

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
        return xp.dot(self.x, self.W) + self.b

    def backward(self, dout):
        xp = self._xp(dout, self.W)
        dx = xp.dot(dout, self.W.T)
        self.dW = xp.dot(self.x.T, dout)
        self.db = xp.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)
