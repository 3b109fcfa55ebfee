"""Reading the book's parameter pickles without letting a pickle run anything.

A pickle is a program: ``pickle.load`` calls whatever functions it names with
whatever arguments it holds. ``RestrictedUnpickler`` lets a pickle name only
the few things NumPy's own array pickles name, and none of them reaches NumPy
with the pickle's raw arguments: each is a small builder here that checks its
arguments and makes a fresh array from plain bytes. Fuzzing found that NumPy's
own ``_frombuffer`` and ``ndarray.__setstate__``, driven by a damaged pickle,
can crash the process; these builders never call them.
"""
import io
import math
import pickle
from collections import OrderedDict

import numpy as np


def _refuse(message):
    raise pickle.UnpicklingError(message)


class _DType:
    """``numpy.dtype(spec, align, copy)`` for plain numbers; its state may only set the byte order."""

    def __init__(self, spec, align=False, copy=False):
        if not isinstance(spec, str):
            _refuse(f"refused dtype {spec!r}")
        try:
            self.dtype = np.dtype(spec)
        except TypeError:
            _refuse(f"refused dtype {spec!r}")
        if self.dtype.kind not in "fiub":
            _refuse(f"refused dtype {spec!r}: only numbers")

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) < 2 or state[1] not in ("<", ">", "|", "="):
            _refuse(f"refused dtype state {state!r}")
        if any(part not in (None, -1, 0) for part in state[2:5]):
            _refuse("refused a structured or sub-array dtype")
        self.dtype = self.dtype.newbyteorder(state[1])


def _dtype_of(value):
    if not isinstance(value, _DType):
        _refuse(f"refused {type(value).__name__} where a dtype belongs")
    return value.dtype


def _array(data, dtype, shape, fortran=False):
    """A fresh array of ``shape`` from exactly the bytes it needs (bytes, or protocol 5's
    bytearray, read in place and copied once)."""
    if not isinstance(data, (bytes, bytearray)):
        _refuse(f"refused array data of type {type(data).__name__}")
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        _refuse(f"refused array shape {shape!r}")
    count = math.prod(shape)
    if count * dtype.itemsize != len(data):
        _refuse(f"array of shape {shape} and dtype {dtype} needs {count * dtype.itemsize} "
                f"bytes, the pickle holds {len(data)}")
    flat = np.frombuffer(data, dtype=dtype, count=count)
    return flat.reshape(shape, order="F" if fortran else "C").copy()


class _ArrayBuilder:
    """What NumPy's ``_reconstruct`` makes: an array whose state (shape, dtype, bytes) comes next."""

    array = None

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) != 5:
            _refuse("refused an array state that is not (version, shape, dtype, order, data)")
        _, shape, dtype, fortran, data = state
        if isinstance(data, str):  # a Python 2 pickle read with encoding="latin1" (CIFAR-10's)
            data = data.encode("latin1")
        self.array = _array(data, _dtype_of(dtype), shape, bool(fortran))


def _reconstruct(subtype, shape, dtype_code):
    """NumPy's ``_reconstruct``, limited to what NumPy's own pickles ask of it: an empty array."""
    if subtype is not np.ndarray or tuple(shape) != (0,):
        _refuse(f"refused an array of shape {shape!r} without its data")
    return _ArrayBuilder()


def _frombuffer(data, dtype, shape, order):
    """NumPy's ``_frombuffer`` (pickle protocol 5), on a copy of the bytes."""
    return _array(data, _dtype_of(dtype), shape, order == "F")


def _scalar(dtype, data):
    """NumPy's ``scalar``: one number of ``dtype`` from its bytes."""
    return _array(data, _dtype_of(dtype), ())[()]


def _encode(text, encoding):
    """``_codecs.encode`` as protocol 2 uses it: array bytes kept as latin-1 text."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        _refuse(f"refused to encode with {encoding!r}")
    return text.encode("latin1")


# The only globals a parameter pickle may name: what NumPy uses to rebuild arrays.
_ALLOWED = {("numpy", "dtype"): _DType, ("collections", "OrderedDict"): OrderedDict,
            ("_codecs", "encode"): _encode}
for _core in ("numpy.core", "numpy._core"):  # NumPy 2 moved numpy.core to numpy._core
    _ALLOWED[(f"{_core}.multiarray", "_reconstruct")] = _reconstruct
    _ALLOWED[(f"{_core}.multiarray", "scalar")] = _scalar
    _ALLOWED[(f"{_core}.numeric", "_frombuffer")] = _frombuffer


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that builds NumPy arrays and plain containers, and refuses everything else."""

    def find_class(self, module, name):
        if (module, name) == ("numpy", "ndarray"):  # only ever passed to _reconstruct
            return np.ndarray
        if (module, name) not in _ALLOWED:
            _refuse(f"refused to load {module}.{name}: only NumPy arrays and plain containers "
                    f"are allowed")
        return _ALLOWED[(module, name)]


def finished(value):
    """The unpickled value with every array builder replaced by its array."""
    if isinstance(value, _ArrayBuilder):
        if value.array is None:
            _refuse("an array without its data")
        return value.array
    if isinstance(value, dict):
        return {key: finished(item) for key, item in value.items()}
    return value


def loads(data, encoding="ASCII"):
    """Unpickle ``data`` (bytes) through RestrictedUnpickler; ``encoding="latin1"`` reads
    Python 2 pickles (their byte strings become text, their arrays' bytes stay bytes)."""
    return finished(RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load())
