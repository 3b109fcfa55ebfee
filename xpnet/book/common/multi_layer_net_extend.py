"""The book's ``common.multi_layer_net_extend``: xpnet's MultiLayerNetExtend."""
import numpy as np  # noqa: F401

from xpnet.models import MultiLayerNetExtend  # noqa: F401

from .layers import *  # noqa: F401,F403
