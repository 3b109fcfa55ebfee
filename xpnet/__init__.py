"""xpnet: the networks of *Deep Learning from Scratch*, written once, fast on CPU and GPU.

Pick the device with XPNET_DEVICE (cpu, gpu, gpu:N, auto) or ``xpnet.set_device``;
pick the float dtype with XPNET_DTYPE (float32, float64) or ``xpnet.set_dtype``.
"""
from . import _threads  # noqa: F401  (first: thread settings must precede NumPy's import)
from . import _memory  # noqa: F401  (freed arrays are reused, not returned to the kernel)
from .backend import (asnumpy, get_array_module, get_device, get_dtype, seed, set_device,
                      set_dtype, to_device, using_device, xp)
from .errors import (DataError, DeviceError, DeviceMismatchError, DTypeError, ShapeError,
                     XpnetError)

__version__ = "0.1.0"

__all__ = ["asnumpy", "get_array_module", "get_device", "get_dtype", "seed", "set_device",
           "set_dtype", "to_device", "using_device", "xp", "XpnetError", "DeviceError",
           "DeviceMismatchError", "ShapeError", "DTypeError", "DataError"]
