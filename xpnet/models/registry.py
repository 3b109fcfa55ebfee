"""The networks by name, with the options each one takes: what ``xpnet-train`` builds.

The book's five, sized for the data (input shape and class count), the VGG-style
network, and ``FILE.py``: a network of one's own (``model_file``).
"""
import math

from .convnets import DeepConvNet, SimpleConvNet
from .multi_layer_net import MultiLayerNet, MultiLayerNetExtend
from .two_layer_net import TwoLayerNet
from .vgg import VGG

# name -> (class, the options it takes beyond the defaults, whether it reads images (C, H, W))
MODELS = {
    "two_layer": (TwoLayerNet, ("hidden",), False),
    "multi_layer": (MultiLayerNet, ("hidden", "weight_decay"), False),
    "multi_layer_extend": (MultiLayerNetExtend, ("hidden", "weight_decay", "dropout",
                                                 "batchnorm"), False),
    "simple_convnet": (SimpleConvNet, (), True),
    "deep_convnet": (DeepConvNet, (), True),
    "vgg": (VGG, (), True),
}
OPTION_DEFAULTS = {"hidden": None, "weight_decay": 0.0, "dropout": 0.0, "batchnorm": False}


def is_model_file(name):
    """True for ``--model FILE.py``."""
    return name.endswith(".py")


def model_options(name):
    """The options (of OPTION_DEFAULTS) that model ``name`` takes (a model file: none)."""
    return () if is_model_file(name) else MODELS[name][1]


def takes_images(name):
    """True when the model reads images (N, C, H, W), False when it reads flat vectors."""
    return is_model_file(name) or MODELS[name][2]


def build_model(name, hidden=None, weight_decay=0.0, dropout=0.0, batchnorm=False,
                input_shape=(1, 28, 28), num_classes=10):
    """A freshly initialised network for samples of ``input_shape`` and ``num_classes``
    classes, on the current device (a model file: what its ``build`` returns).

    ``hidden``: hidden layer sizes (two_layer takes one); ``weight_decay``:
    L2 lambda; ``dropout``: ratio (0: none); ``batchnorm``: on or off. An
    option the model does not take must be left at its default.
    """
    if is_model_file(name):
        from .model_file import build_from_file
        return build_from_file(name, input_shape, num_classes)
    given = {"hidden": hidden, "weight_decay": weight_decay, "dropout": dropout,
             "batchnorm": batchnorm}
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    cls, takes, _ = MODELS[name]
    for option, value in given.items():
        if option not in takes and value != OPTION_DEFAULTS[option]:
            raise ValueError(f"{name} does not take {option}")
    if not takes_images(name):
        size = math.prod(input_shape)
        if name == "two_layer":
            return cls(size, (hidden or [50])[0], num_classes)
        if name == "multi_layer":
            return cls(size, hidden or [100, 100], num_classes, weight_decay_lambda=weight_decay)
        return cls(size, hidden or [100, 100], num_classes, weight_decay_lambda=weight_decay,
                   use_dropout=dropout > 0, dropout_ration=dropout, use_batchnorm=batchnorm)
    if len(input_shape) != 3:
        raise ValueError(f"{name} reads images (C, H, W); the samples are {tuple(input_shape)}")
    if name == "vgg":
        return cls(tuple(input_shape), num_classes)
    return cls(input_dim=tuple(input_shape), output_size=num_classes)
