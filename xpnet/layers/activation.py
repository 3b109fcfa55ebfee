"""ReLU and sigmoid layers (chapter 5)."""
from ..functions import sigmoid
from ..kernels import relu_backward, relu_forward
from .base import Layer


class Relu(Layer):
    """max(0, x); backward lets the gradient through where x > 0.

    Unlike the book, backward returns a new array instead of zeroing the
    caller's ``dout`` in place. It keeps the output rather than a mask
    (out <= 0 exactly where x <= 0), which saves a pass over the data; large
    arrays take one parallel pass on the CPU (xpnet.kernels.relu_forward).
    """

    def __init__(self):
        self.out = None

    @property
    def mask(self):
        """Where the gradient is blocked: x <= 0, as the book's ``mask``."""
        return self.out <= 0

    def forward(self, x):
        self._xp(x)
        self.out = relu_forward(x)
        return self.out

    def backward(self, dout):
        return relu_backward(dout, self.out)


class Sigmoid(Layer):
    """1 / (1 + exp(-x)); backward uses the saved output: dout * (1 - y) * y."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        self._xp(x)
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        dx = dout * (1.0 - self.out)
        dx *= self.out  # dout * (1 - y) * y, bit for bit, without a third array
        return dx
