"""A network of one's own for ``xpnet-train --model FILE.py``.

The file defines ``build(input_shape, num_classes)`` and returns a network:
a ``Sequential`` (or any object with the book's interface: ``params``,
``gradient``, ``loss``, ``accuracy``, ``predict``). It is called with the shape
of one sample of the data, (C, H, W) for images, and the number of classes:

    # my_net.py
    from xpnet.models.sequential import Sequential, affine, batch_norm, conv, flatten, pool, relu

    def build(input_shape, num_classes):
        return Sequential([conv(32, 3, pad=1), batch_norm(), relu(), pool(2),
                           flatten(), affine(num_classes)], input_shape)
"""
import os
import runpy

from ..backend import device_of
from ..errors import ShapeError, XpnetError

NETWORK_METHODS = ("gradient", "loss", "accuracy", "predict")


def build_from_file(path, input_shape, num_classes):
    """The network that ``build(input_shape, num_classes)`` of the Python file ``path`` returns."""
    if not os.path.isfile(path):
        raise XpnetError(f"--model {path}: no such file")
    namespace = runpy.run_path(path, run_name="xpnet_model")
    build = namespace.get("build")
    if not callable(build):
        raise XpnetError(f"--model {path}: the file defines no function build(input_shape, "
                         f"num_classes) that returns the network")
    network = build(tuple(input_shape), num_classes)
    missing = [m for m in NETWORK_METHODS if not callable(getattr(network, m, None))]
    if not isinstance(getattr(network, "params", None), dict) or missing:
        raise XpnetError(f"--model {path}: build() returned {type(network).__name__}, not a "
                         f"network (it needs a params dict and "
                         f"{', '.join(missing or NETWORK_METHODS)})")
    return network


def check_fits(network, x, model, dataset):
    """ShapeError naming the first layer and both shapes when ``network`` cannot read ``x``."""
    expected = getattr(network, "input_shape", None)
    first = next(iter(getattr(network, "layers", {})), "its first layer")
    if expected is not None and tuple(expected) != tuple(x.shape[1:]):
        raise ShapeError(f"--model {model} takes input {tuple(expected)} at its first layer "
                         f"({first}), but {dataset}'s samples are {tuple(x.shape[1:])}")
    sample = device_of(next(iter(network.params.values()))).send(x[:2])
    try:
        network.predict(sample)
    except (ShapeError, ValueError) as e:
        raise ShapeError(f"--model {model} cannot read {dataset}'s samples "
                         f"{tuple(x.shape[1:])}: {e}") from None
