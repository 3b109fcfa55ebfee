"""Helpers for tests: numerical gradients of a layer, and moving test data to a device."""
import numpy as np

from xpnet import asnumpy
from xpnet.numerical import numerical_gradient


def layer_gradients(forward, backward, arrays, out_weights):
    """Backprop vs numerical gradient of L = sum(forward() * R) for each array in ``arrays``.

    ``forward()`` reads the arrays (changed in place by the numerical loop);
    ``backward(R)`` returns the analytic gradients in the same order.
    Returns a list of (analytic, numerical) NumPy pairs.
    """
    def loss(_):
        return float((forward() * out_weights).sum())
    forward()
    analytic = backward(out_weights)
    numeric = [numerical_gradient(loss, a) for a in arrays]
    return [(asnumpy(a), asnumpy(n)) for a, n in zip(analytic, numeric)]


def assert_grads_close(pairs, rtol=1e-5, atol=1e-7):
    for i, (a, n) in enumerate(pairs):
        np.testing.assert_allclose(a, n, rtol=rtol, atol=atol, err_msg=f"gradient {i}")
