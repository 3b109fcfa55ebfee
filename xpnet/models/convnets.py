"""Chapter 7's SimpleConvNet and chapter 8's DeepConvNet."""
from collections import OrderedDict

import numpy as np

from ..kernels import output_size
from ..layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss
from .network import Network, init_weights

SIMPLE_CONV = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}


class SimpleConvNet(Network):
    """conv - relu - pool - affine - relu - affine - softmax, with the book's parameters W1..b3."""

    def __init__(self, input_dim=(1, 28, 28), conv_param=SIMPLE_CONV, hidden_size=100,
                 output_size=10, weight_init_std=0.01):
        filter_num, filter_size = conv_param["filter_num"], conv_param["filter_size"]
        pad, stride = conv_param["pad"], conv_param["stride"]
        conv_h = _out(input_dim[1], filter_size, stride, pad)
        conv_w = _out(input_dim[2], filter_size, stride, pad)
        pool_output_size = filter_num * (conv_h // 2) * (conv_w // 2)
        self.params = {
            "W1": init_weights(weight_init_std, filter_num, input_dim[0], filter_size, filter_size),
            "b1": np.zeros(filter_num),
            "W2": init_weights(weight_init_std, pool_output_size, hidden_size),
            "b2": np.zeros(hidden_size),
            "W3": init_weights(weight_init_std, hidden_size, output_size),
            "b3": np.zeros(output_size),
        }
        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(self.params["W1"], self.params["b1"], stride, pad)
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W3"], self.params["b3"])
        self.last_layer = SoftmaxWithLoss()
        self._setup(_slots(["Conv1", "Affine1", "Affine2"]))


def _out(size, filter_size, stride, pad):
    if output_size(size, filter_size, stride, pad) < 1:
        raise ValueError(f"filter {filter_size} with pad {pad} does not fit an input of size {size}")
    return output_size(size, filter_size, stride, pad)


def _slots(layer_names):
    """{'W1': (first, 'W'), 'b1': (first, 'b'), 'W2': ...} for the layers holding W_i, b_i."""
    slots = {}
    for i, name in enumerate(layer_names, start=1):
        slots[f"W{i}"], slots[f"b{i}"] = (name, "W"), (name, "b")
    return slots


DEEP_CONV = (
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 2, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
)


class DeepConvNet(Network):
    """The book's deep network for 99%+ on MNIST.

    conv-relu-conv-relu-pool, three times (16, 32, 64 channels), then
    affine-relu-dropout-affine-dropout-softmax, He initialization, the book's
    dropout (so the book's weight files load as they are). ``loss`` runs in
    training mode (dropout on), as in the book.
    """

    def __init__(self, input_dim=(1, 28, 28), conv_param_1=DEEP_CONV[0],
                 conv_param_2=DEEP_CONV[1], conv_param_3=DEEP_CONV[2], conv_param_4=DEEP_CONV[3],
                 conv_param_5=DEEP_CONV[4], conv_param_6=DEEP_CONV[5], hidden_size=50,
                 output_size=10):
        convs = [conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5,
                 conv_param_6]
        self.params = {}
        self.layers = OrderedDict()
        channels, h, w = input_dim
        for idx, conv in enumerate(convs, start=1):
            scale = np.sqrt(2.0 / (channels * 3 * 3)) if idx > 1 else np.sqrt(2.0 / 9)
            k = conv["filter_size"]
            self.params[f"W{idx}"] = init_weights(scale, conv["filter_num"], channels, k, k)
            self.params[f"b{idx}"] = np.zeros(conv["filter_num"])
            self.layers[f"Conv{idx}"] = Convolution(self.params[f"W{idx}"],
                                                    self.params[f"b{idx}"], conv["stride"],
                                                    conv["pad"])
            self.layers[f"Relu{idx}"] = Relu()
            channels = conv["filter_num"]
            h, w = _out(h, k, conv["stride"], conv["pad"]), _out(w, k, conv["stride"], conv["pad"])
            if idx % 2 == 0:
                self.layers[f"Pool{idx // 2}"] = Pooling(pool_h=2, pool_w=2, stride=2)
                h, w = h // 2, w // 2
        flat = channels * h * w
        self.params["W7"] = init_weights(np.sqrt(2.0 / flat), flat, hidden_size)
        self.params["b7"] = np.zeros(hidden_size)
        self.params["W8"] = init_weights(np.sqrt(2.0 / hidden_size), hidden_size, output_size)
        self.params["b8"] = np.zeros(output_size)
        self.layers["Affine1"] = Affine(self.params["W7"], self.params["b7"])
        self.layers["Relu7"] = Relu()
        self.layers["Dropout1"] = Dropout(0.5)
        self.layers["Affine2"] = Affine(self.params["W8"], self.params["b8"])
        self.layers["Dropout2"] = Dropout(0.5)
        self.last_layer = SoftmaxWithLoss()
        self._setup(_slots([f"Conv{i}" for i in range(1, 7)] + ["Affine1", "Affine2"]))

    def loss(self, x, t, train_flg=True):
        return super().loss(x, t, train_flg)
