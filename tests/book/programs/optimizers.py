"""Conformance: the six optimizers of common.optimizer, on arrays and on Python numbers."""
import numpy as np

from common.optimizer import *  # noqa: F403
from show import show

np.random.seed(5)
start = {"W1": np.random.randn(3, 4), "b1": np.random.randn(4), "W2": np.random.randn(4, 2)}
for optimizer in (SGD(lr=0.1), Momentum(lr=0.1), Nesterov(lr=0.1), AdaGrad(lr=0.5),  # noqa: F405
                  RMSprop(lr=0.01), Adam(lr=0.05)):  # noqa: F405
    params = {k: v.copy() for k, v in start.items()}
    for step in range(10):
        grads = {k: np.sin(3 * v) + 0.1 * step for k, v in params.items()}
        optimizer.update(params, grads)
    for key in sorted(params):
        show(f"{type(optimizer).__name__} {key}", params[key])
    optimizer = type(optimizer)(lr=optimizer.lr)
    xy = {"x": -7.0, "y": 2.0}  # ch06 optimizer_compare_naive keeps Python floats
    for _ in range(30):
        optimizer.update(xy, {"x": xy["x"] / 10.0, "y": 2.0 * xy["y"]})
    print(type(optimizer).__name__, "x y", repr(float(xy["x"])), repr(float(xy["y"])))
