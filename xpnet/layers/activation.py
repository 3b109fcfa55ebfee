"""ReLU and sigmoid layers (chapter 5)."""
from ..functions import sigmoid
from .base import Layer


class Relu(Layer):
    """max(0, x); backward lets the gradient through where x > 0.

    Unlike the book, backward returns a new array instead of zeroing the
    caller's ``dout`` in place.
    """

    def __init__(self):
        self.mask = None

    def forward(self, x):
        xp = self._xp(x)
        self.mask = x <= 0
        return xp.maximum(x, 0)

    def backward(self, dout):
        return dout * ~self.mask


class Sigmoid(Layer):
    """1 / (1 + exp(-x)); backward uses the saved output: dout * (1 - y) * y."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        self._xp(x)
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out
