"""Which device xpnet computes on: CPU (NumPy) or GPU (CuPy).

This module is the only place that imports CuPy. The current device is chosen
from ``XPNET_DEVICE`` (``cpu``, ``gpu``, ``gpu:N`` or ``auto``) when xpnet is
imported, and can be changed from code with ``set_device`` or, for a block,
``using_device``.
"""
import contextlib
import os
import sys

import numpy

from ..errors import DeviceError

VALID_DEVICES = ("cpu", "gpu", "gpu:N", "auto")
CUPY_HINT = ("install CuPy for your CUDA version, e.g. `pip install cupy-cuda12x` "
             "(CUDA 12) or `pip install cupy-cuda11x` (CUDA 11)")


def import_cupy():
    """Return the cupy module, or raise DeviceError saying how to install it."""
    try:
        import cupy
    except ImportError as e:
        raise DeviceError(f"the GPU needs CuPy, which is not importable ({e}): {CUPY_HINT}") from None
    return cupy


def cupy_if_loaded():
    """The cupy module if something already imported it, else None (never imports it)."""
    return sys.modules.get("cupy")


class Device:
    """A place where arrays live: ``Device('cpu')`` or ``Device('gpu', 0)``.

    ``xp`` is the array module (numpy or cupy) and ``send`` moves an array here.
    A GPU is checked (CuPy importable, device present) unless the caller
    passes the cupy module it already holds, as for an existing array.
    """

    def __init__(self, kind, index=None, xp=None):
        self.kind = kind
        self.index = index
        if kind == "cpu":
            self.xp = numpy
        else:
            self.xp = xp or _checked_cupy(index)

    @property
    def name(self):
        return "cpu" if self.kind == "cpu" else f"gpu:{self.index}"

    @property
    def is_gpu(self):
        return self.kind == "gpu"

    def send(self, array):
        """Return ``array`` on this device (the same object when it is already here)."""
        if self.kind == "cpu":
            cupy = cupy_if_loaded()
            if cupy is not None and isinstance(array, cupy.ndarray):
                return array.get()
            return numpy.asarray(array)
        with self.xp.cuda.Device(self.index):
            if isinstance(array, self.xp.ndarray) and array.device.id != self.index:
                return array.copy()  # asarray would leave it on its GPU; copy() makes it here
            return self.xp.asarray(array)

    def synchronize(self):
        """Wait until queued GPU work is done (no-op on CPU); needed before reading a clock."""
        if self.is_gpu:
            self.xp.cuda.Device(self.index).synchronize()

    def __eq__(self, other):
        return isinstance(other, Device) and (self.kind, self.index) == (other.kind, other.index)

    def __hash__(self):
        return hash((self.kind, self.index))

    def __repr__(self):
        return f"Device('{self.name}')"


def _checked_cupy(index):
    """CuPy, after checking that CUDA device ``index`` exists and works."""
    cupy = import_cupy()
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError, or a missing driver library
        raise DeviceError(f"CuPy is installed but no usable CUDA device was found ({e})") from None
    if count == 0:
        raise DeviceError("CuPy is installed but no CUDA device is visible")
    if not 0 <= index < count:
        raise DeviceError(f"gpu:{index} does not exist; this machine has {count} CUDA device(s): "
                          f"gpu:0 .. gpu:{count - 1}")
    return cupy


def gpu_report():
    """What CuPy sees: its version, the CUDA runtime and driver versions, and each device.

    Raises DeviceError with what to do when CuPy is missing or cannot use CUDA
    (for example a CuPy wheel built for a newer CUDA than the driver supports).
    """
    cupy = import_cupy()
    runtime = cupy.cuda.runtime
    try:
        driver, built = runtime.driverGetVersion(), runtime.runtimeGetVersion()
        count = runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError, or a missing driver library
        raise DeviceError(f"CuPy {cupy.__version__} cannot use CUDA ({e}): install the NVIDIA "
                          f"driver, or {CUPY_HINT}") from None
    if driver and driver < built:
        raise DeviceError(f"CuPy {cupy.__version__} was built for CUDA {_cuda(built)} but the "
                          f"driver supports CUDA {_cuda(driver)} at most: update the driver, or "
                          f"{CUPY_HINT}")
    devices = []
    for index in range(count):
        props = runtime.getDeviceProperties(index)
        name = props["name"]
        devices.append({"device": f"gpu:{index}",
                        "name": name.decode() if isinstance(name, bytes) else str(name),
                        "memory_gib": round(props["totalGlobalMem"] / 2**30, 1)})
    return {"cupy": cupy.__version__, "cuda_runtime": _cuda(built), "cuda_driver": _cuda(driver),
            "devices": devices}


def _cuda(version):
    """CUDA's integer version (12040) as text ('12.4')."""
    return f"{version // 1000}.{version % 1000 // 10}"


def gpu_unavailable_reason():
    """None when CuPy and a CUDA device are usable, else the reason (for skips and messages)."""
    try:
        Device("gpu", 0)
    except DeviceError as e:
        return str(e)
    return None


def parse_device(spec):
    """Turn ``'cpu'``, ``'gpu'``, ``'gpu:N'``, ``'auto'`` or a Device into a Device."""
    if isinstance(spec, Device):
        return spec
    text = str(spec).strip().lower()
    if text == "cpu":
        return Device("cpu")
    if text in ("gpu", "cuda"):
        return Device("gpu", 0)
    if text.startswith(("gpu:", "cuda:")) and text.split(":", 1)[1].isdigit():
        return Device("gpu", int(text.split(":", 1)[1]))
    if text == "auto":
        return _auto_device()
    raise DeviceError(f"unknown device {spec!r}; valid devices are: {', '.join(VALID_DEVICES)}")


def _auto_device():
    """The GPU when CuPy and a CUDA device are usable, else the CPU; says which on stderr."""
    try:
        device = Device("gpu", 0)
    except DeviceError as e:
        print(f"xpnet: using cpu ({e})", file=sys.stderr)
        return Device("cpu")
    print("xpnet: using gpu:0", file=sys.stderr)
    return device


_current = None


def get_device():
    """The current device (chosen from XPNET_DEVICE on first use, default cpu)."""
    global _current
    if _current is None:
        _current = parse_device(os.environ.get("XPNET_DEVICE", "cpu") or "cpu")
    return _current


def set_device(spec):
    """Make ``spec`` the current device for arrays and models built from now on."""
    global _current
    _current = parse_device(spec)
    if _current.is_gpu:
        _current.xp.cuda.Device(_current.index).use()
    return _current


@contextlib.contextmanager
def using_device(spec):
    """``with using_device('gpu'):`` builds and computes on ``spec`` inside the block."""
    previous = get_device()
    device = set_device(spec)
    try:
        yield device
    finally:
        set_device(previous)


class _ArrayModuleProxy:
    """``xp``: stands for numpy or cupy, whichever the current device uses."""

    def __getattr__(self, name):
        return getattr(get_device().xp, name)

    def __repr__(self):
        return f"<xp: {get_device().xp.__name__} on {get_device().name}>"


xp = _ArrayModuleProxy()
