"""The book's ``common.layers``: xpnet's layer classes, with what the book's star import brings."""
import numpy as np  # noqa: F401

from xpnet.layers import (Affine, BatchNormalization, Convolution, Dropout, Pooling,  # noqa: F401
                          Relu, Sigmoid, SoftmaxWithLoss)

from .functions import *  # noqa: F401,F403
from .util import col2im, im2col  # noqa: F401
