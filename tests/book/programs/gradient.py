"""Conformance: numerical differentiation of common.gradient, on functions and a small network."""
import numpy as np

from common.functions import cross_entropy_error, softmax
from common.gradient import _numerical_gradient_1d, numerical_gradient, numerical_gradient_2d
from show import show


def function_2(x):
    return np.sum(x ** 2) + 0.5 * np.sum(x ** 3)


np.random.seed(2)
for shape in ((2,), (3, 4), (2, 2, 3)):
    x = np.random.randn(*shape)
    before = x.copy()
    show(f"numerical_gradient {shape}", numerical_gradient(function_2, x))
    print("restored", np.array_equal(x, before))
show("_numerical_gradient_1d", _numerical_gradient_1d(function_2, np.array([3.0, 4.0])))
X = np.random.randn(3, 2)
show("numerical_gradient_2d rows", numerical_gradient_2d(lambda row: np.sum(row ** 2), X))
show("numerical_gradient_2d 1-D", numerical_gradient_2d(lambda row: np.sum(row ** 2), X[0]))

W = np.random.randn(2, 3)
x = np.array([0.6, 0.9])
t = np.array([0, 0, 1])


def loss(_):
    return cross_entropy_error(softmax(np.dot(x, W)), t)


show("simpleNet dW", numerical_gradient(loss, W))
