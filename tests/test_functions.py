"""Activation and loss functions, and the perceptron gates of chapter 2."""
import numpy as np
import pytest

from xpnet import asnumpy, to_device
from xpnet.errors import LabelError
from xpnet.functions import (cross_entropy_error, identity_function, mean_squared_error, relu,
                             relu_grad, sigmoid, sigmoid_grad, softmax, softmax_loss,
                             step_function)
from xpnet.gates import AND, NAND, OR, XOR, truth_table


@pytest.mark.parametrize("gate, outputs", [(AND, [0, 0, 0, 1]), (NAND, [1, 1, 1, 0]),
                                           (OR, [0, 1, 1, 1]), (XOR, [0, 1, 1, 0])])
def test_gates(gate, outputs):
    assert [out for _, _, out in truth_table(gate)] == outputs


def test_activations(device):
    x = to_device(np.array([-2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(asnumpy(step_function(x)), [0, 0, 1])
    np.testing.assert_array_equal(asnumpy(relu(x)), [0, 0, 3])
    np.testing.assert_array_equal(asnumpy(relu_grad(x)), [0, 1, 1])
    np.testing.assert_allclose(asnumpy(sigmoid(x)), 1 / (1 + np.exp([2.0, 0.0, -3.0])))
    s = 1 / (1 + np.exp([2.0, 0.0, -3.0]))
    np.testing.assert_allclose(asnumpy(sigmoid_grad(x)), s * (1 - s))
    assert identity_function(x) is x


def test_sigmoid_extremes_without_warnings():
    with np.errstate(all="raise"):
        out = sigmoid(np.array([-1000.0, 1000.0], dtype=np.float32))
    np.testing.assert_array_equal(out, [0.0, 1.0])
    assert out.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_activations_equal_their_formulas_bit_for_bit(dtype, rng):
    """sigmoid, sigmoid_grad and softmax work in place in arrays of their own: the values of
    the formulas written out, in the same dtype, and the caller's array untouched."""
    x = (rng.normal(size=(7, 13)) * 40).astype(dtype)
    before = x.copy()
    with np.errstate(over="ignore", under="ignore"):
        s = 1 / (1 + np.exp(-x))
        shifted = x - x.max(axis=-1, keepdims=True)
        soft = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    for got, expected in [(sigmoid(x), s), (sigmoid_grad(x), (1.0 - s) * s), (softmax(x), soft),
                          (softmax(x[3]), soft[3])]:
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype
    np.testing.assert_array_equal(x, before)


def test_softmax_is_stable_and_batched(device):
    x = to_device(np.array([[1010.0, 1000.0, 990.0], [0.0, 0.0, 0.0]]))
    y = asnumpy(softmax(x))
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y.sum(axis=1), 1.0)
    np.testing.assert_allclose(y[1], 1 / 3)
    one = asnumpy(softmax(to_device(np.array([0.3, 2.9, 4.0]))))  # the book's example
    np.testing.assert_allclose(one, [0.01821127, 0.24519181, 0.73659691], rtol=1e-6)


def test_cross_entropy_labels(device):
    y = to_device(np.array([[0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]]))
    one_hot = to_device(np.eye(10)[[2]])
    # the book's example: 0.510825457099338
    assert float(cross_entropy_error(y, one_hot)) == pytest.approx(0.510825457099338)
    assert float(cross_entropy_error(y, to_device(np.array([2])))) == pytest.approx(0.510825457099338)
    assert float(cross_entropy_error(y[0], one_hot[0])) == pytest.approx(0.510825457099338)
    assert float(cross_entropy_error(y[0], to_device(np.array(2)))) == pytest.approx(0.510825457099338)


def test_cross_entropy_rejects_mismatched_labels():
    with pytest.raises(LabelError, match=r"labels: 3 labels for 2 samples"):
        cross_entropy_error(np.full((2, 10), 0.1), np.array([1, 2, 3]))


def test_mse_and_softmax_loss():
    t = np.eye(10)[2]
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    assert mean_squared_error(y, t) == pytest.approx(0.097500000000000031)
    x = np.array([[2.0, 1.0, 0.1]])
    assert softmax_loss(x, np.array([0])) == pytest.approx(-np.log(softmax(x)[0, 0] + 1e-7))
