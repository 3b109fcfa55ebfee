"""The book's layers (chapters 5-7): ``from xpnet.layers import *`` replaces ``from common.layers import *``."""
from .activation import Relu, Sigmoid
from .affine import Affine
from .arithmetic import AddLayer, MulLayer
from .base import Layer
from .batch_norm import BatchNormalization
from .convolution import Convolution, Pooling
from .dropout import Dropout
from .loss import SoftmaxWithLoss

__all__ = ["AddLayer", "Affine", "BatchNormalization", "Convolution", "Dropout", "Layer",
           "MulLayer", "Pooling", "Relu", "Sigmoid", "SoftmaxWithLoss"]
