"""Chapter 4's SimpleNet: one 2x3 weight matrix, to show numerical gradients."""
from ..backend import get_device, get_dtype
from ..functions import cross_entropy_error, softmax
from .network import init_weights


class SimpleNet:
    def __init__(self):
        self.W = get_device().send(init_weights(1.0, 2, 3).astype(get_dtype()))

    def predict(self, x):
        return x @ self.W

    def loss(self, x, t):
        return cross_entropy_error(softmax(self.predict(x)), t)
