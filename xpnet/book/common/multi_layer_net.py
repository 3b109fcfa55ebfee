"""The book's ``common.multi_layer_net``: xpnet's MultiLayerNet."""
import numpy as np  # noqa: F401

from xpnet.models import MultiLayerNet  # noqa: F401

from .layers import *  # noqa: F401,F403
