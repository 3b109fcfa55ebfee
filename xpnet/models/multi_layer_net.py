"""Chapter 6's fully connected networks: MultiLayerNet and MultiLayerNetExtend."""
from collections import OrderedDict

import numpy as np

from ..layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss
from .network import Network, book_weight_init, init_weights

_ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


class MultiLayerNetExtend(Network):
    """Fully connected network with the options of chapter 6.

    Per hidden size: Affine - BatchNorm (``use_batchnorm``) - activation -
    Dropout (``use_dropout``, ratio ``dropout_ration`` as the book spells it);
    then Affine and softmax loss. ``weight_init_std``: 'relu'/'he',
    'sigmoid'/'xavier', or a number. ``weight_decay_lambda`` adds
    0.5 * lambda * sum(W**2) to the loss.
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, use_dropout=False,
                 dropout_ration=0.5, use_batchnorm=False):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"{type(self).__name__}: activation must be one of "
                             f"{sorted(_ACTIVATIONS)}, got {activation!r}")
        self.input_size = input_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.output_size = output_size
        self.weight_decay_lambda = weight_decay_lambda
        self.use_dropout = use_dropout
        self.use_batchnorm = use_batchnorm
        self.params = {}
        self.layers = OrderedDict()
        slots = {}
        sizes = [input_size] + self.hidden_size_list + [output_size]
        for idx in range(1, len(sizes)):
            W, b = f"W{idx}", f"b{idx}"
            scale = book_weight_init(weight_init_std, sizes[idx - 1])
            self.params[W] = init_weights(scale, sizes[idx - 1], sizes[idx])
            self.params[b] = np.zeros(sizes[idx])
            self.layers[f"Affine{idx}"] = Affine(self.params[W], self.params[b])
            slots[W], slots[b] = (f"Affine{idx}", "W"), (f"Affine{idx}", "b")
            if idx == len(sizes) - 1:
                break
            if use_batchnorm:
                gamma, beta = f"gamma{idx}", f"beta{idx}"
                self.params[gamma] = np.ones(sizes[idx])
                self.params[beta] = np.zeros(sizes[idx])
                self.layers[f"BatchNorm{idx}"] = BatchNormalization(self.params[gamma],
                                                                    self.params[beta])
                slots[gamma], slots[beta] = (f"BatchNorm{idx}", "gamma"), (f"BatchNorm{idx}", "beta")
            self.layers[f"Activation_function{idx}"] = _ACTIVATIONS[activation]()
            if use_dropout:
                self.layers[f"Dropout{idx}"] = Dropout(dropout_ration)
        self.last_layer = SoftmaxWithLoss()
        self._setup(slots, decayed=[f"W{i}" for i in range(1, len(sizes))])


class MultiLayerNet(MultiLayerNetExtend):
    """Affine - activation, repeated for each hidden size, then Affine and softmax loss (the book's signature)."""

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0):
        super().__init__(input_size, hidden_size_list, output_size, activation, weight_init_std,
                         weight_decay_lambda)
