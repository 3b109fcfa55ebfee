"""The book's layers (chapters 5-7): ``from xpnet.layers import *`` replaces ``from common.layers import *``.

Flatten and GlobalAveragePooling (``reshape``) are xpnet's additions, for networks of
one's own (``xpnet.models.Sequential``); the book face's ``common.layers`` has the
book's names only.
"""
from .activation import Relu, Sigmoid
from .affine import Affine
from .arithmetic import AddLayer, MulLayer
from .base import Layer
from .batch_norm import BatchNormalization
from .convolution import Convolution, Pooling
from .dropout import Dropout
from .loss import SoftmaxWithLoss
from .reshape import Flatten, GlobalAveragePooling

__all__ = ["AddLayer", "Affine", "BatchNormalization", "Convolution", "Dropout", "Flatten",
           "GlobalAveragePooling", "Layer", "MulLayer", "Pooling", "Relu", "Sigmoid",
           "SoftmaxWithLoss"]
