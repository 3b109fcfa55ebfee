"""Chapter 5's TwoLayerNet: Affine - ReLU - Affine, with softmax cross-entropy."""
from collections import OrderedDict

import numpy as np

from ..layers import Affine, Relu, SoftmaxWithLoss
from .network import Network, init_weights


class TwoLayerNet(Network):
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            "W1": init_weights(weight_init_std, input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": init_weights(weight_init_std, hidden_size, output_size),
            "b2": np.zeros(output_size),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.last_layer = SoftmaxWithLoss()
        self._setup({"W1": ("Affine1", "W"), "b1": ("Affine1", "b"),
                     "W2": ("Affine2", "W"), "b2": ("Affine2", "b")})
