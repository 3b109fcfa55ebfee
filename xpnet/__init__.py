"""xpnet: the networks of *Deep Learning from Scratch*, written once, fast on CPU and GPU.

Pick the device with XPNET_DEVICE (cpu, gpu, gpu:N, auto) or ``xpnet.set_device``;
pick the float dtype with XPNET_DTYPE (float32, float64) or ``xpnet.set_dtype``.
"""
import importlib
import importlib.util

from . import _threads  # noqa: F401  (first: thread settings must precede NumPy's import)
from . import _memory  # noqa: F401  (freed arrays are reused, not returned to the kernel)

__version__ = "0.1.0"

# What ``import xpnet`` offers, loaded when first used: NumPy (about 0.1 s) is imported
# only by a process that computes, not by one that only runs Python, such as one of the
# book's pure-Python scripts under xpnet-book.
_FROM = {"backend": ["asnumpy", "get_array_module", "get_device", "get_dtype", "seed",
                     "set_device", "set_dtype", "to_device", "using_device", "xp"],
         "errors": ["XpnetError", "DeviceError", "DeviceMismatchError", "ShapeError",
                    "DTypeError", "DataError"]}
_LAZY = {name: module for module, names in _FROM.items() for name in names}

__all__ = list(_LAZY)


def __getattr__(name):
    """``xpnet.xp``, ``from xpnet import set_device``...: the name from its module, or one of
    xpnet's subpackages (``xpnet.kernels``), imported on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
