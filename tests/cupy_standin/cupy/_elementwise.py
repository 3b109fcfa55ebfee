"""``cupy.ElementwiseKernel`` of the stand-in: the same CUDA source, compiled as C++ for the host.

The body runs once per element of the outputs with ``i`` its index, outputs
bound by reference at ``i`` and ``raw`` inputs indexed freely, as CuPy runs
it on a GPU thread. Arguments are checked as CuPy checks them: arrays must be
the stand-in's (a NumPy array is CuPy's TypeError), on one device, with one
dtype for ``T``; int32 parameters take integers. What differs from CuPy:
outputs must be C-contiguous and given, and non-raw inputs are not supported
(xpnet's kernels use neither).
"""
import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy

from . import ndarray

C_TYPES = {numpy.dtype(numpy.float32): "float", numpy.dtype(numpy.float64): "double"}
C_SCALARS = {"int32": (ctypes.c_int32, "int"), "int64": (ctypes.c_int64, "long long")}


def _declarations(text):
    """'raw T x, int32 n' -> [(is_raw, type, name), ...]"""
    return [(words[0] == "raw", words[-2], words[-1])
            for words in (part.split() for part in text.split(","))]


def _build_dir():
    path = os.path.join(tempfile.gettempdir(), f"cupy-standin-kernels-{os.getuid()}")
    os.makedirs(path, exist_ok=True)
    return path


@functools.lru_cache(maxsize=None)
def _compiled(params, outputs, body, ctype):
    """The body inside a loop over the outputs' elements, as a shared library (cached on disk)."""
    args, binds = [], []
    for raw, typ, name in _declarations(params):
        c = "T" if typ == "T" else C_SCALARS[typ][1]
        args.append(f"const {c}* {name}" if raw else f"{c} {name}")
    for _, typ, name in _declarations(outputs):
        c = "T" if typ == "T" else C_SCALARS[typ][1]
        args.append(f"{c}* {name}_all")
        binds.append(f"{c}& {name} = {name}_all[i];")
    source = (f"#include <cmath>\ntypedef {ctype} T;\n"
              f'extern "C" void run({", ".join(args)}, long long size) {{\n'
              f"  for (long long i = 0; i < size; ++i) {{\n    {' '.join(binds)}\n{body}\n  }}\n}}\n")
    stem = os.path.join(_build_dir(), hashlib.sha256(source.encode()).hexdigest()[:24])
    if not os.path.exists(f"{stem}.so"):
        compiler = shutil.which("g++") or shutil.which("c++")
        if compiler is None:
            raise RuntimeError("the CuPy stand-in compiles kernels with g++, which is not installed")
        work = f"{stem}.{os.getpid()}"
        with open(f"{work}.cpp", "w") as f:
            f.write(source)
        result = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", f"{work}.so",
                                 f"{work}.cpp"], capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"kernel does not compile:\n{result.stderr}")
        os.replace(f"{work}.so", f"{stem}.so")  # atomic: other processes see all or nothing
        os.remove(f"{work}.cpp")
    return ctypes.CDLL(f"{stem}.so").run


class ElementwiseKernel:
    """cupy.ElementwiseKernel(in_params, out_params, operation, name): call with inputs, then outputs."""

    def __init__(self, in_params, out_params, operation, name="kernel", **options):
        self.inputs, self.outputs = _declarations(in_params), _declarations(out_params)
        self.spec = (in_params, out_params, operation)
        self.name = name

    def __call__(self, *args):
        if len(args) != len(self.inputs) + len(self.outputs):
            raise TypeError(f"{self.name}: wrong number of arguments (stand-in: pass every output)")
        arrays = [a for a in args if isinstance(a, ndarray)]
        for value in args:
            if isinstance(value, numpy.ndarray):
                raise TypeError(f"Unsupported type {type(value)}")
        if len({a._device for a in arrays}) > 1:
            raise ValueError(f"{self.name}: arrays on different devices")
        typed = [a for a, (_, typ, _) in zip(args, self.inputs + self.outputs) if typ == "T"]
        dtypes = {a.dtype for a in typed}
        if len(dtypes) != 1 or next(iter(dtypes)) not in C_TYPES:
            raise TypeError(f"{self.name}: type T must be float32 or float64, one for all, "
                            f"got {sorted(map(str, dtypes))}")
        run = _compiled(*self.spec, C_TYPES[dtypes.pop()])
        c_args = [self._argument(v, d) for v, d in zip(args, self.inputs)]
        outs = args[len(self.inputs):]
        for out, (_, typ, name) in zip(outs, self.outputs):
            if not isinstance(out, ndarray) or not out.flags.c_contiguous:
                raise TypeError(f"{self.name}: output {name} must be a C-contiguous array")
            if typ != "T" and out.dtype != numpy.dtype(typ):
                raise TypeError(f"{self.name}: output {name} must be {typ}, got {out.dtype}")
            if out.shape != outs[0].shape:
                raise ValueError(f"{self.name}: outputs of different shapes")
            c_args.append(ctypes.c_void_p(out._a.ctypes.data))
        run(*c_args, ctypes.c_longlong(outs[0].size))

    def _argument(self, value, declaration):
        raw, typ, name = declaration
        if raw:
            if not isinstance(value, ndarray):
                raise TypeError(f"{self.name}: {name} must be an array, got {type(value).__name__}")
            if typ != "T" and value.dtype != numpy.dtype(typ):
                raise TypeError(f"{self.name}: {name} must be {typ}, got {value.dtype}")
            return ctypes.c_void_p(numpy.ascontiguousarray(value._a).ctypes.data)
        if not isinstance(value, (int, numpy.integer)) or isinstance(value, bool):
            raise TypeError(f"{self.name}: {name} ({typ}) takes an integer, got {value!r}")
        return C_SCALARS[typ][0](int(value))
