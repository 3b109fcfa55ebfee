"""The device backend: the only part of xpnet that knows CuPy exists.

Everything else asks it for ``xp`` (numpy or cupy), for the module of given
arrays (``get_array_module``), and for moving arrays (``to_device``, ``asnumpy``).
In xpnet-book's processes it starts on the book's terms (xpnet.book.runner.book_terms).
"""
from .._threads import runs_the_books_code
from .arrays import asnumpy, device_of, get_array_module, to_device
from .device import (VALID_DEVICES, Device, get_device, gpu_report, gpu_unavailable_reason,
                     parse_device, set_device, using_device, xp)
from .dtype import VALID_DTYPES, get_dtype, set_dtype
from .random import seed

__all__ = ["Device", "VALID_DEVICES", "VALID_DTYPES", "asnumpy", "device_of",
           "get_array_module", "get_device", "get_dtype", "gpu_report", "gpu_unavailable_reason",
           "parse_device", "seed", "set_device", "set_dtype", "to_device", "using_device", "xp"]

if runs_the_books_code():
    from ..book.runner import book_terms
    book_terms()
