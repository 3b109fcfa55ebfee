"""A strict CuPy stand-in for machines without a GPU: CuPy's behaviour where bugs hide, on the host.

The test suite installs this package as ``cupy`` when no real CuPy with a
CUDA device is present (the root conftest.py), so every GPU line of xpnet
runs in CI. Its arrays (``cupy.ndarray``) hold NumPy arrays but are a type
of their own, and behave as CuPy's do where a first run on a real GPU breaks:

* implicit conversion to NumPy raises CuPy's TypeError (``numpy.asarray(x)``,
  ``numpy.savez``, a NumPy array built from a list of them);
* a NumPy array meeting one of them in an operation raises TypeError
  ("Unsupported type"), also inside ``numpy`` functions and ufuncs; only
  Python and NumPy scalars mix, as in CuPy; ``x[...] = numpy_array`` raises
  CuPy's ValueError; indexing with a NumPy array or list is a transfer;
* reductions return 0-d arrays, never Python or NumPy scalars, so that
  ``float()``, ``int()``, ``bool()``, ``.item()``, ``.tolist()``, printing,
  ``nonzero`` and boolean masks are seen as what they are on a GPU: a copy to
  the host and a synchronization, recorded by ``cupy.standin``;
* arrays of different devices in one operation raise ValueError;
* ``ElementwiseKernel`` runs the same CUDA source, compiled as C++ with the
  system's compiler (``_elementwise.py``); its arguments are checked as CuPy
  checks them (arrays of this type, integer scalars for int32 parameters);
* ``cupy.random`` draws from a stream of its own, not NumPy's.

What it cannot check: CUDA itself (NVRTC compiling the kernels, launch
configurations, shared memory, races between threads), asynchrony (work is
done when called: a clock read without a synchronize still looks right, though
the synchronizations are counted), device memory limits, speed, NCCL (the
stand-in's ``cuda.nccl`` sums over MPI on the host), and dtype rules where
CuPy's differ from NumPy's. ``RawKernel`` and ``fuse`` are not provided,
since xpnet uses neither.
"""
import importlib
import numbers

import numpy

from . import cuda, standin
from .cuda import _pool, current_device_id

__version__ = "13.0.0+standin"


class ndarray:  # noqa: N801 (CuPy's name)
    """An array 'on a device': a NumPy array that refuses to be used as one."""

    __slots__ = ("_a", "_device", "__weakref__")
    __hash__ = None

    def __init__(self, shape, dtype=float, order="C"):
        self._a = numpy.empty(shape, dtype=dtype, order=order)
        self._device = current_device_id()
        _pool._allocated(self, self._a.nbytes)

    @classmethod
    def _wrap(cls, array, device):
        out = object.__new__(cls)
        out._a, out._device = array, device
        if array.base is None:
            _pool._allocated(out, array.nbytes)
        return out

    # -- what CuPy's arrays have ----------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    size = property(lambda self: self._a.size)
    ndim = property(lambda self: self._a.ndim)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: self._wrap(self._a.T, self._device))
    device = property(lambda self: cuda.Device(self._device))

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    @property
    def data(self):
        """The memory pointer: ``.ptr`` is the address NCCL reads and writes."""
        return _MemoryPointer(self._a.ctypes.data, self._device)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (self._wrap(a, self._device) for a in self._a)

    # -- crossing to the host: counted, and each one waits for the device -------------
    def get(self, stream=None, out=None):
        standin.to_host("get")
        if out is not None:
            out[...] = self._a
            return out
        return self._a.copy()

    def item(self):
        standin.to_host("item")
        return self._a.item()

    def tolist(self):
        standin.to_host("tolist")
        return self._a.tolist()

    def __float__(self):
        standin.to_host("float()")
        return float(self._a)

    def __int__(self):
        standin.to_host("int()")
        return int(self._a)

    def __complex__(self):
        standin.to_host("complex()")
        return complex(self._a)

    def __bool__(self):
        standin.to_host("bool()")
        return bool(self._a)

    def __format__(self, spec):
        standin.to_host("format")
        return format(self._a if self._a.ndim else self._a.item(), spec)

    def __repr__(self):
        standin.to_host("repr")
        return repr(self._a).replace("array", "standin_array", 1)

    def __str__(self):
        standin.to_host("str")
        return str(self._a)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use "
                        "`.get()` to construct a NumPy array explicitly.")

    def __reduce__(self):
        standin.to_host("pickle")
        return _from_pickle, (self._a,)

    # -- NumPy's protocols: CuPy's functions on CuPy arrays, never with NumPy arrays ---
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _call(getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _call(func, args, kwargs)

    # -- indexing ------------------------------------------------------------------
    def __getitem__(self, key):
        return _call(_getitem, (self, _index(key)), {})

    def __setitem__(self, key, value):
        _call(_setitem, (self, _index(key), _fill_value(value)), {})

    def fill(self, value):
        self._a.fill(_fill_value(value))


def _fill_value(value):
    """What CuPy fills with: a device array, a scalar, or a 0-d NumPy array's scalar; a
    larger NumPy array is CuPy's ValueError (``x[...] = numpy_array`` fills with it)."""
    if isinstance(value, numpy.ndarray):
        if value.ndim:
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        return value[()]
    return value


def _from_pickle(array):
    """Unpickling an array of the stand-in puts it on the current device."""
    return ndarray._wrap(array, current_device_id())


class _MemoryPointer:
    def __init__(self, ptr, device_id):
        self.ptr, self.device_id = ptr, device_id


def _getitem(a, key):
    return a[key]


def _setitem(a, key, value):
    a[key] = value


def _index(key):
    """An index as CuPy takes it: NumPy arrays and lists in it are copied to the device."""
    parts = key if isinstance(key, tuple) else (key,)
    out = []
    for part in parts:
        if isinstance(part, (list, numpy.ndarray)):
            standin.to_device("index")
            part = ndarray._wrap(numpy.asarray(part), current_device_id())
        if isinstance(part, ndarray) and part.dtype == numpy.bool_:
            standin.to_host("boolean mask")  # the result's size is read back first
        out.append(part)
    return tuple(out) if isinstance(key, tuple) else out[0]


# -- operators: each a NumPy ufunc on the held arrays ------------------------------------
def _operator(ufunc, reflected=False, inplace=False):
    if inplace:
        def op(self, other):
            _call(ufunc, (self, other), {"out": (self,)})
            return self
    elif reflected:
        def op(self, other):
            return _call(ufunc, (other, self), {})
    else:
        def op(self, other):
            return _call(ufunc, (self, other), {})
    return op


for _name, _ufunc in [("add", numpy.add), ("sub", numpy.subtract), ("mul", numpy.multiply),
                      ("truediv", numpy.true_divide), ("floordiv", numpy.floor_divide),
                      ("mod", numpy.remainder), ("pow", numpy.power), ("matmul", numpy.matmul),
                      ("and", numpy.bitwise_and), ("or", numpy.bitwise_or),
                      ("xor", numpy.bitwise_xor), ("lshift", numpy.left_shift),
                      ("rshift", numpy.right_shift)]:
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
    setattr(ndarray, f"__r{_name}__", _operator(_ufunc, reflected=True))
    setattr(ndarray, f"__i{_name}__", _operator(_ufunc, inplace=True))
for _name, _ufunc in [("eq", numpy.equal), ("ne", numpy.not_equal), ("lt", numpy.less),
                      ("le", numpy.less_equal), ("gt", numpy.greater),
                      ("ge", numpy.greater_equal)]:
    setattr(ndarray, f"__{_name}__", _operator(_ufunc))
for _name, _ufunc in [("neg", numpy.negative), ("pos", numpy.positive), ("abs", numpy.absolute),
                      ("invert", numpy.invert)]:
    setattr(ndarray, f"__{_name}__", lambda self, _u=_ufunc: _call(_u, (self,), {}))


# -- methods: NumPy's, on the held array, with the arguments checked ------------------------
def _method(name):
    def method(self, *args, **kwargs):
        return _call(lambda a, *rest, **kw: getattr(a, name)(*rest, **kw), (self,) + args, kwargs)
    method.__name__ = name
    return method


for _name in ("all", "any", "argmax", "argmin", "argsort", "astype", "clip", "conj",
              "cumsum", "diagonal", "dot", "flatten", "max", "mean", "min", "prod", "ravel",
              "repeat", "reshape", "round", "sort", "squeeze", "std", "sum", "swapaxes", "take",
              "trace", "transpose", "var", "view"):
    setattr(ndarray, _name, _method(_name))


def _copy(self, order="C"):
    """A copy on the current device, as CuPy's (which may be another than the array's)."""
    return ndarray._wrap(self._a.copy(order=order), current_device_id())


ndarray.copy = _copy


def _nonzero(self):
    standin.to_host("nonzero")  # CuPy reads the count back before it allocates the result
    return _call(numpy.nonzero, (self,), {})


ndarray.nonzero = _nonzero


# -- calling NumPy on held arrays -----------------------------------------------------------
def _unwrap(value, devices):
    """The NumPy array inside ``value`` (recursing into lists and tuples); TypeError for a
    NumPy array, which CuPy refuses in every operation."""
    if isinstance(value, ndarray):
        devices.add(value._device)
        return value._a
    if isinstance(value, numpy.ndarray):
        raise TypeError(f"Unsupported type {type(value)}")
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, devices) for v in value)
    return value


def _wrap_result(result, held, device):
    """Held arrays back in their wrappers; new NumPy arrays and scalars as new device arrays."""
    if isinstance(result, numpy.ndarray):
        known = held.get(id(result))
        return ndarray._wrap(result, device) if known is None else known
    if isinstance(result, numpy.generic):
        return ndarray._wrap(numpy.asarray(result), device)
    if isinstance(result, tuple):
        return tuple(_wrap_result(r, held, device) for r in result)
    if isinstance(result, list):
        return [_wrap_result(r, held, device) for r in result]
    return result


def _held(values, out):
    for value in values:
        if isinstance(value, ndarray):
            out[id(value._a)] = value
        elif isinstance(value, (list, tuple)):
            _held(value, out)
    return out


def _call(func, args, kwargs):
    """``func`` on the held arrays of ``args`` and ``kwargs``; the result on their device."""
    devices = set()
    plain_args = _unwrap(tuple(args), devices)
    plain_kwargs = {k: _unwrap(v, devices) for k, v in kwargs.items()}
    if len(devices) > 1:
        raise ValueError(f"arrays on different devices ({sorted(devices)}) in one operation")
    device = devices.pop() if devices else current_device_id()
    held = _held(list(args) + list(kwargs.values()), {})
    return _wrap_result(func(*plain_args, **plain_kwargs), held, device)


def _function(name, target):
    def function(*args, **kwargs):
        return _call(target, args, kwargs)
    function.__name__ = name
    function.__doc__ = f"numpy.{name} on the stand-in's arrays"
    return function


# -- crossing between host and device ---------------------------------------------------------
def asarray(a, dtype=None, order=None):
    """``a`` as a device array: a copy of host data on the current device; a device array
    as it is, on its own device even when another is current (as CuPy's, which copies
    between devices only in ``array`` and ``copy``)."""
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    standin.to_device("asarray")
    return ndarray._wrap(numpy.array(a, dtype=dtype, order=order or "K"), current_device_id())


def array(obj, dtype=None, copy=True, order="K", ndmin=0):
    """A device array of ``obj`` on the current device (from host data: a transfer)."""
    if isinstance(obj, ndarray):
        if obj._device != current_device_id():  # a copy between devices
            return ndarray._wrap(numpy.array(obj._a, dtype=dtype, order=order, ndmin=ndmin),
                                 current_device_id())
        return _call(numpy.array, (obj,), {"dtype": dtype, "copy": copy, "order": order,
                                           "ndmin": ndmin})
    standin.to_device("array")
    return ndarray._wrap(numpy.array(_host(obj), dtype=dtype, order=order, ndmin=ndmin),
                         current_device_id())


def _host(obj):
    return obj._a if isinstance(obj, ndarray) else obj


def asnumpy(a, stream=None, order="C", out=None):
    """``a`` on the host: a copy when it is on the device (counted), else numpy.asarray."""
    if isinstance(a, ndarray):
        return a.get(out=out)
    return numpy.asarray(a, order=order)


def ascontiguousarray(a, dtype=None):
    if not isinstance(a, ndarray):
        raise TypeError(f"Argument 'a' has incorrect type (expected cupy.ndarray, got "
                        f"{type(a).__name__})")
    return _call(numpy.ascontiguousarray, (a,), {"dtype": dtype})


def get_array_module(*args):
    """This module when any argument is one of its arrays, else numpy."""
    return __import__(__name__) if any(isinstance(a, ndarray) for a in args) else numpy


def get_default_memory_pool():
    return _pool


def __getattr__(name):
    """NumPy's types and constants as they are; its functions on the stand-in's arrays."""
    target = getattr(numpy, name)  # AttributeError for what NumPy lacks too
    if isinstance(target, (type, numbers.Number, str)) or not callable(target):
        return target
    function = _function(name, target)
    globals()[name] = function
    return function


random = importlib.import_module(".random", __name__)  # noqa: E402  (these two need ndarray)
from ._elementwise import ElementwiseKernel  # noqa: E402
