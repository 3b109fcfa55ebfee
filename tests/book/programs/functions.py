"""Conformance: the activation and loss functions of common.functions."""
import numpy as np

from common.functions import (cross_entropy_error, identity_function, relu, relu_grad, sigmoid,
                              sigmoid_grad, softmax, softmax_loss, step_function,
                              sum_squared_error)
from show import show

np.random.seed(1)
x = np.random.randn(4, 10) * 3
x[0, :3] = [0.0, -0.0, 1e-9]
for f in (identity_function, step_function, sigmoid, sigmoid_grad, relu, relu_grad, softmax):
    show(f.__name__, f(x))
    show(f.__name__ + " 1-D", f(x[1]))
y = softmax(x)
labels = np.array([3, 0, 9, 5])
one_hot = np.eye(10)[labels]
show("cross_entropy_error ids", cross_entropy_error(y, labels))
show("cross_entropy_error one-hot", cross_entropy_error(y, one_hot))
show("cross_entropy_error 1-D", cross_entropy_error(y[2], one_hot[2]))
show("cross_entropy_error 1-D id", cross_entropy_error(y[2], np.array(9)))
show("softmax_loss", softmax_loss(x, labels))
show("sum_squared_error", sum_squared_error(y[0], one_hot[0]))
show("softmax large", softmax(np.array([1010.0, 1000.0, 990.0])))
