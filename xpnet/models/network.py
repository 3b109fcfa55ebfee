"""What the book's layered networks share: predict, loss, accuracy, gradient, and their params.

A network keeps its parameters in ``params`` (the book's dict: 'W1', 'b1', ...)
and its layers hold the very same arrays, so an optimizer that updates
``params`` in place updates the layers too. Whenever the arrays are replaced
(moving to another device, casting, loading), ``_bind`` points every layer at
the new ones: that is the one place where references are kept in step.
"""
from collections import OrderedDict

import numpy as np

from ..backend import asnumpy, device_of, get_device, get_dtype, parse_device
from ..backend.random import host_rng
from ..errors import DataError, DeviceMismatchError, DTypeError, ShapeError
from ..labels import check_labels
from ..layers import Affine, BatchNormalization, Convolution, Dropout
from ..serialization import load_arrays, save_arrays, save_pickle

_GRAD_ATTR = {"W": "dW", "b": "db", "gamma": "dgamma", "beta": "dbeta"}
_BUFFERS = ("running_mean", "running_var")


def init_weights(scale, *shape):
    """scale * standard normal numbers of ``shape``, drawn on the host (same on every device)."""
    return scale * host_rng().standard_normal(shape)


class Network:
    """Base of the layered networks. Subclasses fill ``params`` and ``layers``, then call ``_setup``."""

    weight_decay_lambda = 0
    last_loss = None

    def _setup(self, slots, decayed=()):
        """Finish construction: ``slots`` maps each param key to (layer name, attribute).

        Parameters are cast to the default dtype and sent to the current
        device; ``decayed`` lists the keys that weight decay applies to.
        """
        self._slots = OrderedDict(slots)
        self._decayed = tuple(decayed)
        for name, layer in self.layers.items():
            layer.name = name
        self.last_layer.name = "SoftmaxWithLoss"
        self._move(get_device(), get_dtype())

    @property
    def lastLayer(self):  # the book's spelling, for ported code
        return self.last_layer

    # -- the book's API -----------------------------------------------------------
    def predict(self, x, train_flg=False):
        x = self._prepare(x)
        for layer in self.layers.values():
            if isinstance(layer, (Dropout, BatchNormalization)):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=False):
        """Cross-entropy of the prediction, plus weight decay 0.5 * lambda * sum(W**2)."""
        y = self.predict(x, train_flg)
        return self.last_layer.forward(y, self._prepare_labels(t)) + self.weight_decay()

    def weight_decay(self):
        if not self.weight_decay_lambda:
            return 0
        xp = self.device.xp
        return 0.5 * self.weight_decay_lambda * sum(xp.sum(self.params[k] ** 2)
                                                    for k in self._decayed)

    def accuracy(self, x, t, batch_size=100):
        """Fraction of samples whose largest score is the label (one-hot or integer labels)."""
        xp = self.device.xp
        x = self._prepare(x)
        t = check_labels(self._prepare_labels(t), x.shape[0], self.num_classes,
                         f"{type(self).__name__}.accuracy")
        if t.ndim != 1:
            t = xp.argmax(t, axis=1)
        correct = 0
        for i in range(0, x.shape[0], batch_size):
            y = self.predict(x[i:i + batch_size], train_flg=False)
            correct += xp.sum(xp.argmax(y, axis=1) == t[i:i + batch_size])
        return np.float64(float(correct) / x.shape[0])  # a NumPy float, as the book's

    def gradient(self, x, t):
        """Gradients of the loss by backpropagation, keyed like ``params``.

        The loss of this forward pass is kept in ``last_loss`` (on the device,
        so reading it is the caller's choice of when to synchronize).
        """
        self.last_loss = self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1)
        first, *rest = self.layers.values()
        for layer in reversed(rest):
            dout = layer.backward(dout)
        if isinstance(first, (Affine, Convolution)):  # nothing needs the input's gradient
            first.backward(dout, need_dx=False)
        else:
            first.backward(dout)
        grads = {}
        for key, (name, attr) in self._slots.items():
            grads[key] = getattr(self.layers[name], _GRAD_ATTR[attr])
            if key in self._decayed and self.weight_decay_lambda:
                grads[key] = grads[key] + self.weight_decay_lambda * self.params[key]
        return grads

    def numerical_gradient(self, x, t):
        """Gradients by central differences (h = 1e-4): the independent check of ``gradient``."""
        from ..numerical import network_numerical_gradient
        return network_numerical_gradient(self, x, t)

    # -- where the arrays live ----------------------------------------------------
    @property
    def device(self):
        return device_of(next(iter(self.params.values())))

    @property
    def num_classes(self):
        """The number of classes: the length of the last layer's bias."""
        return self.params[next(reversed(self._slots))].shape[-1]

    @property
    def dtype(self):
        return next(iter(self.params.values())).dtype

    def to(self, device):
        """Move every parameter and running statistic to ``device``; returns self."""
        self._move(parse_device(device), self.dtype)
        return self

    def astype(self, dtype):
        """Cast every parameter and running statistic to ``dtype``; returns self."""
        self._move(self.device, dtype)
        return self

    def _move(self, device, dtype):
        state = {key: device.send(value.astype(dtype, copy=False))
                 for key, value in self._state_items()}
        self._assign(state)

    def _state_items(self):
        yield from self.params.items()
        for name, layer in self.layers.items():
            for attr in _BUFFERS:
                if getattr(layer, attr, None) is not None:
                    yield f"{name}.{attr}", getattr(layer, attr)

    def buffers(self):
        """The running statistics (BatchNormalization's), keyed 'layer.attr'; the arrays themselves."""
        return {key: value for key, value in self._state_items() if key not in self.params}

    def _assign(self, state):
        """Take new arrays for params and buffers, and point every layer at them."""
        for key, value in state.items():
            if "." in key:
                name, attr = key.split(".")
                setattr(self.layers[name], attr, value)
            else:
                self.params[key] = value
        self._bind()

    def _bind(self):
        for key, (name, attr) in self._slots.items():
            setattr(self.layers[name], attr, self.params[key])

    # -- input checks --------------------------------------------------------------
    def _prepare(self, x):
        """x on this network's device with its dtype, or a clear error naming what is wrong."""
        x = self._on_device(x, "input of shape {} is")
        if x.dtype.kind not in "fiub":
            raise DTypeError(f"{type(self).__name__}: input must be numeric, got dtype {x.dtype}")
        if x.ndim < 2 or x.shape[0] == 0:
            raise ShapeError(f"{type(self).__name__}: input of shape {tuple(x.shape)} holds no "
                             f"samples; expected a batch (N, ...) with N >= 1")
        return x.astype(self.dtype, copy=False)

    def _prepare_labels(self, t):
        return self._on_device(t, "labels of shape {} are")

    def _on_device(self, a, what):
        """``a`` as an array on this network's device; DeviceMismatchError naming both devices."""
        here = self.device
        if not hasattr(a, "shape"):
            a = here.xp.asarray(a)
        if device_of(a) != here:
            raise DeviceMismatchError(f"{type(self).__name__}: {what.format(tuple(a.shape))} on "
                                      f"{device_of(a).name} but the parameters are on {here.name}; "
                                      f"use xpnet.to_device(...) or network.to(...)")
        return a

    # -- files -----------------------------------------------------------------------
    def state_dict(self):
        """Parameters and running statistics as a dict of NumPy arrays."""
        return {key: asnumpy(value) for key, value in self._state_items()}

    def load_state_dict(self, state, source="state"):
        """Replace parameters (and running statistics, where given) after checking names and shapes."""
        missing = [k for k in self.params if k not in state]
        if missing:
            raise DataError(f"{source}: missing parameters {missing} for {type(self).__name__}")
        current = dict(self._state_items())
        new = {}
        for key, value in state.items():
            if key not in current and "." not in key:
                raise DataError(f"{source}: unexpected parameter {key!r} for {type(self).__name__}")
            if key in current and tuple(value.shape) != tuple(current[key].shape):
                raise DataError(f"{source}: parameter {key!r} has shape {tuple(value.shape)}, "
                                f"{type(self).__name__} needs {tuple(current[key].shape)}")
            if "." in key and key.split(".")[0] not in self.layers:
                raise DataError(f"{source}: unexpected entry {key!r} for {type(self).__name__}")
            new[key] = self.device.send(value.astype(self.dtype, copy=False))
        self._assign(new)

    def save_params(self, file_name="params.npz"):
        """Save the parameters, atomically, in the format the file name's extension says.

        ``.pkl``: the book's format, a pickled dict of the ``params`` arrays,
        which the book's code and ``load_params`` read back (no running
        statistics, as in the book). Any other name: xpnet's ``.npz`` of
        parameters and running statistics, which never needs unpickling.
        """
        if str(file_name).endswith(".pkl"):
            save_pickle(file_name, self.params)
        else:
            save_arrays(file_name, self.state_dict())

    def load_params(self, file_name="params.npz"):
        """Load parameters from .npz, or from the book's .pkl through a restricted unpickler."""
        self.load_state_dict(load_arrays(file_name), source=str(file_name))


def book_weight_init(weight_init_std, node_num):
    """The book's weight scales: 'relu'/'he' -> sqrt(2/n), 'sigmoid'/'xavier' -> sqrt(1/n), or a number."""
    text = str(weight_init_std).lower()
    if text in ("relu", "he"):
        return (2.0 / node_num) ** 0.5
    if text in ("sigmoid", "xavier"):
        return (1.0 / node_num) ** 0.5
    return float(weight_init_std)


__all__ = ["Network", "init_weights", "book_weight_init"]
