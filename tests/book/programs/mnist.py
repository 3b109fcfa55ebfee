"""Conformance: load_mnist in all its modes (the training set by order-free statistics)."""
import numpy as np

from dataset.mnist import load_mnist
from show import show

for normalize in (True, False):
    for flatten in (True, False):
        for one_hot_label in (True, False):
            (x_train, t_train), (x_test, t_test) = load_mnist(normalize, flatten, one_hot_label)
            mode = f"normalize={normalize} flatten={flatten} one_hot={one_hot_label}"
            show(f"{mode} x_test", x_test)
            show(f"{mode} t_test", t_test)
            print(mode, "x_train", x_train.shape, x_train.dtype.name,
                  repr(float(x_train.astype(np.float64).sum())))
            print(mode, "t_train", t_train.shape, t_train.dtype.name,
                  np.bincount(t_train.argmax(axis=1) if one_hot_label else t_train).tolist())
