"""The book's networks by name, with the options each one takes: what ``xpnet-train`` builds."""
from .convnets import DeepConvNet, SimpleConvNet
from .multi_layer_net import MultiLayerNet, MultiLayerNetExtend
from .two_layer_net import TwoLayerNet

# name -> (class, the options it takes beyond the defaults, whether it takes images as 1x28x28)
MODELS = {
    "two_layer": (TwoLayerNet, ("hidden",), False),
    "multi_layer": (MultiLayerNet, ("hidden", "weight_decay"), False),
    "multi_layer_extend": (MultiLayerNetExtend, ("hidden", "weight_decay", "dropout",
                                                 "batchnorm"), False),
    "simple_convnet": (SimpleConvNet, (), True),
    "deep_convnet": (DeepConvNet, (), True),
}
OPTION_DEFAULTS = {"hidden": None, "weight_decay": 0.0, "dropout": 0.0, "batchnorm": False}


def model_options(name):
    """The options (of OPTION_DEFAULTS) that model ``name`` takes."""
    return MODELS[name][1]


def takes_images(name):
    """True when the model reads (N, 1, 28, 28) images, False when it reads flat 784-vectors."""
    return MODELS[name][2]


def build_model(name, hidden=None, weight_decay=0.0, dropout=0.0, batchnorm=False):
    """A freshly initialised network for 28x28 images and 10 classes, on the current device.

    ``hidden``: hidden layer sizes (two_layer takes one); ``weight_decay``:
    L2 lambda; ``dropout``: ratio (0: none); ``batchnorm``: on or off. An
    option the model does not take must be left at its default.
    """
    given = {"hidden": hidden, "weight_decay": weight_decay, "dropout": dropout,
             "batchnorm": batchnorm}
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    cls, takes, _ = MODELS[name]
    for option, value in given.items():
        if option not in takes and value != OPTION_DEFAULTS[option]:
            raise ValueError(f"{name} does not take {option}")
    if name == "two_layer":
        return cls(784, (hidden or [50])[0], 10)
    if name == "multi_layer":
        return cls(784, hidden or [100, 100], 10, weight_decay_lambda=weight_decay)
    if name == "multi_layer_extend":
        return cls(784, hidden or [100, 100], 10, weight_decay_lambda=weight_decay,
                   use_dropout=dropout > 0, dropout_ration=dropout, use_batchnorm=batchnorm)
    return cls()
