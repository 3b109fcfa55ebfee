"""The book's networks (chapters 4-8), each on any device, and ``Sequential``: one's own."""
from .convnets import DeepConvNet, SimpleConvNet
from .multi_layer_net import MultiLayerNet, MultiLayerNetExtend
from .network import Network
from .registry import MODELS, build_model
from .sequential import Sequential
from .simple_net import SimpleNet
from .two_layer_net import TwoLayerNet

__all__ = ["MODELS", "build_model", "DeepConvNet", "MultiLayerNet", "MultiLayerNetExtend",
           "Network", "Sequential", "SimpleConvNet", "SimpleNet", "TwoLayerNet"]
