"""The default float dtype for parameters and data: XPNET_DTYPE (float32 or float64).

float32 is the default for training; numerical-gradient checks run in float64,
where central differences with h = 1e-4 are accurate.
"""
import os

import numpy

from ..errors import DTypeError

VALID_DTYPES = ("float32", "float64")
_current = None


def _parse(name):
    text = numpy.dtype(name).name if not isinstance(name, str) else name.strip().lower()
    if text not in VALID_DTYPES:
        raise DTypeError(f"unknown dtype {name!r}; valid dtypes are: {', '.join(VALID_DTYPES)}")
    return numpy.dtype(text)


def get_dtype():
    """The default float dtype (from XPNET_DTYPE on first use, default float32)."""
    global _current
    if _current is None:
        _current = _parse(os.environ.get("XPNET_DTYPE", "float32") or "float32")
    return _current


def set_dtype(name):
    """Set the default float dtype for models and data built from now on."""
    global _current
    _current = _parse(name)
    return _current
