"""A network of one's own from a list of layers, every size inferred from the input's shape.

    from xpnet.models.sequential import Sequential, affine, batch_norm, conv, flatten, pool, relu

    net = Sequential([conv(16, 3, pad=1), batch_norm(), relu(), pool(2),
                      flatten(), affine(100), relu(), affine(10)], input_shape=(1, 28, 28))

Each entry describes a layer without its weights (``conv(filters, size)``,
``affine(units)``, ...); ``Sequential`` walks the list with the input's shape,
creates each layer's parameters at the size its input needs and the book's
layer for it, and names both as the book does: ``W1, b1, W2, ...`` over the
convolutions and affine layers in order, ``gamma1, beta1, ...`` over the batch
normalizations; layers ``Conv1, Relu1, Pool1, Affine1, ...``. Weights start as
the book's networks start them, scaled for the activation that follows (He,
sqrt(2 / fan-in), before ReLU; Xavier, sqrt(1 / fan-in), before sigmoid; the
last layer takes the activation before it) unless ``weight_init_std`` says
otherwise. The result is a ``Network``: the book's ``params`` dict, so the
optimizers, Trainer, gradient checks, the numerical-gradient engine, save and
load, checkpoints, MPI and the GPU work on it unchanged.
"""
import math
from collections import OrderedDict

import numpy as np

from ..errors import ShapeError
from ..kernels import output_size
from ..layers import (Affine, BatchNormalization, Convolution, Dropout, Flatten,
                      GlobalAveragePooling, Pooling, Relu, Sigmoid, SoftmaxWithLoss)
from .network import Network, book_weight_init, init_weights


class Spec:
    """One entry of the list: a layer's kind and settings, built once the input shape is known."""

    kind = None  # the layer's name in the network: Conv, Affine, Relu, ...
    weighted = False  # holds W and b
    activation = None  # "relu" or "sigmoid" for the activations

    def output_shape(self, shape):
        return shape

    def build(self, params):
        """The layer, holding ``params`` (its new arrays, by attribute: W, b, gamma, beta)."""
        raise NotImplementedError


def _window_output(shape, size, stride, pad, misfit):
    """(H, W) out of a size x size window moved over images ``shape`` (C, H, W); where nothing
    is left, ValueError saying ``misfit`` with the images' HxW in its ``{}``."""
    if len(shape) != 3:
        raise ValueError(f"expects images (C, H, W), gets {shape}")
    h, w = (output_size(n, size, stride, pad) for n in shape[1:])
    if h < 1 or w < 1:
        raise ValueError(misfit.format(f"{shape[1]}x{shape[2]}"))
    return h, w


class _Conv(Spec):
    kind, weighted = "Conv", True

    def __init__(self, filters, size, stride=1, pad=0):
        self.filters, self.size, self.stride, self.pad = filters, size, stride, pad

    def output_shape(self, shape):
        h, w = _window_output(shape, self.size, self.stride, self.pad,
                              f"a {self.size}x{self.size} filter with pad {self.pad} does not fit "
                              "{} images")
        return (self.filters, h, w)

    def fan_in(self, shape):
        return shape[0] * self.size * self.size

    def weight_shape(self, shape):
        return (self.filters, shape[0], self.size, self.size), self.filters

    def build(self, params):
        return Convolution(params["W"], params["b"], self.stride, self.pad)


class _Affine(Spec):
    kind, weighted = "Affine", True

    def __init__(self, units):
        self.units = units

    def output_shape(self, shape):
        return (self.units,)

    def fan_in(self, shape):
        return math.prod(shape)

    def weight_shape(self, shape):
        return (math.prod(shape), self.units), self.units

    def build(self, params):
        return Affine(params["W"], params["b"])


class _Activation(Spec):
    def __init__(self, kind, layer):
        self.kind, self.activation, self._layer = kind, kind.lower(), layer

    def build(self, params):
        return self._layer()


class _Pool(Spec):
    kind = "Pool"

    def __init__(self, size, stride=None, pad=0):
        self.size, self.stride, self.pad = size, stride or size, pad

    def output_shape(self, shape):
        h, w = _window_output(shape, self.size, self.stride, self.pad,
                              f"a {self.size}x{self.size} window does not fit {{}} maps")
        return (shape[0], h, w)

    def build(self, params):
        return Pooling(self.size, self.size, self.stride, self.pad)


class _BatchNorm(Spec):
    kind = "BatchNorm"

    def build(self, params):
        return BatchNormalization(params["gamma"], params["beta"])


class _Dropout(Spec):
    kind = "Dropout"

    def __init__(self, ratio, inverted):
        self.ratio, self.inverted = ratio, inverted

    def build(self, params):
        return Dropout(self.ratio, inverted=self.inverted)


class _Flatten(Spec):
    kind = "Flatten"

    def output_shape(self, shape):
        return (math.prod(shape),)

    def build(self, params):
        return Flatten()


class _GlobalAvgPool(Spec):
    kind = "GlobalAvgPool"

    def output_shape(self, shape):
        if len(shape) != 3:
            raise ValueError(f"expects maps (C, H, W), gets {shape}")
        return (shape[0],)

    def build(self, params):
        return GlobalAveragePooling()


def conv(filters, size, stride=1, pad=0):
    """A convolution with ``filters`` filters of ``size`` x ``size``."""
    return _Conv(filters, size, stride, pad)


def affine(units):
    """A fully connected layer with ``units`` outputs (it flattens its input)."""
    return _Affine(units)


def relu():
    return _Activation("Relu", Relu)


def sigmoid():
    return _Activation("Sigmoid", Sigmoid)


def pool(size=2, stride=None, pad=0):
    """Max pooling over ``size`` x ``size`` windows, ``stride`` (default: ``size``) apart."""
    return _Pool(size, stride, pad)


def batch_norm():
    """Batch normalization: per feature after an affine layer, per channel after a convolution."""
    return _BatchNorm()


def dropout(ratio=0.5, inverted=False):
    """The book's Dropout (``inverted=True``: scaled in training, as frameworks do today)."""
    return _Dropout(ratio, inverted)


def flatten():
    return _Flatten()


def global_avg_pool():
    """The mean of each channel's map: (C, H, W) -> (C,)."""
    return _GlobalAvgPool()


class Sequential(Network):
    """The layers of ``specs`` in order, then softmax with cross-entropy loss."""

    def __init__(self, specs, input_shape, weight_init_std=None, weight_decay_lambda=0):
        specs = list(specs)
        if not specs or not isinstance(specs[-1], (_Affine, _GlobalAvgPool)):
            raise ValueError("Sequential: the last layer gives the class scores: end the list with "
                             "affine(classes) (or global_avg_pool() after a convolution)")
        self.input_shape = tuple(int(n) for n in input_shape)
        self.weight_decay_lambda = weight_decay_lambda
        self.params, self.layers, slots = {}, OrderedDict(), {}
        counts, shape = {}, self.input_shape
        for position, spec in enumerate(specs):
            counts[spec.kind] = counts.get(spec.kind, 0) + 1
            name = f"{spec.kind}{counts[spec.kind]}"
            try:
                out = spec.output_shape(shape)
            except ValueError as e:
                raise ShapeError(f"Sequential: layer {position + 1} ({name}) {e}") from None
            arrays = self._arrays(spec, specs, position, shape, weight_init_std, slots, name)
            self.layers[name] = spec.build(arrays)
            shape = out
        self.output_shape = shape
        self.last_layer = SoftmaxWithLoss()
        self._setup(slots, decayed=[k for k in slots if k.startswith("W")])

    def _arrays(self, spec, specs, position, shape, weight_init_std, slots, name):
        """The new parameters of the layer at ``position`` (registered in params and slots)."""
        if spec.weighted:
            n = sum(s.weighted for s in specs[:position + 1])
            w_shape, b_size = spec.weight_shape(shape)
            scale = book_weight_init(weight_init_std or _activation_after(specs, position),
                                     spec.fan_in(shape))
            arrays = {"W": init_weights(scale, *w_shape), "b": np.zeros(b_size)}
            keys = {"W": f"W{n}", "b": f"b{n}"}
        elif isinstance(spec, _BatchNorm):
            n = sum(isinstance(s, _BatchNorm) for s in specs[:position + 1])
            features = shape[0]  # per channel after a convolution, per unit after an affine
            arrays = {"gamma": np.ones(features), "beta": np.zeros(features)}
            keys = {"gamma": f"gamma{n}", "beta": f"beta{n}"}
        else:
            return {}
        for attr, key in keys.items():
            self.params[key] = arrays[attr]
            slots[key] = (name, attr)
        return arrays


def _activation_after(specs, position):
    """The book's rule for a weighted layer's scale: the activation after it ('relu' -> He,
    'sigmoid' -> Xavier); for the last layer, the one before it; He when there is none."""
    later = [s.activation for s in specs[position + 1:] if s.activation]
    earlier = [s.activation for s in specs[:position] if s.activation]
    return (later or earlier[::-1] or ["relu"])[0]


__all__ = ["Sequential", "affine", "batch_norm", "conv", "dropout", "flatten",
           "global_avg_pool", "pool", "relu", "sigmoid"]
