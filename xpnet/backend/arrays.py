"""Finding and moving the device of arrays."""
import numpy

from ..errors import DeviceMismatchError
from .device import Device, cupy_if_loaded, get_device


def device_of(array):
    """The Device an array lives on (NumPy arrays and Python scalars: cpu)."""
    cupy = cupy_if_loaded()
    if cupy is not None and isinstance(array, cupy.ndarray):
        return Device("gpu", array.device.id, xp=cupy)
    return Device("cpu")


def get_array_module(*arrays):
    """numpy or cupy, whichever module all of ``arrays`` belong to.

    Raises DeviceMismatchError naming both devices when the arrays live on
    different devices, instead of CuPy's implicit-conversion TypeError later.
    """
    if cupy_if_loaded() is None:  # no CuPy, no GPU arrays: the common case, made cheap
        return numpy
    found = None
    for a in arrays:
        if a is None or numpy.isscalar(a):
            continue
        here = device_of(a)
        if found is None:
            found, first = here, a
        elif here != found:
            raise DeviceMismatchError(
                f"arrays on different devices met in one operation: {found.name} "
                f"(shape {getattr(first, 'shape', ())}) and {here.name} "
                f"(shape {getattr(a, 'shape', ())}); move them with xpnet.to_device")
    return (found or Device("cpu")).xp


def to_device(array, device=None):
    """Return ``array`` on ``device`` (default: the current device)."""
    from .device import parse_device
    target = get_device() if device is None else parse_device(device)
    return target.send(array)


def asnumpy(array):
    """Return ``array`` as a NumPy array on the host (a copy only when it is on a GPU)."""
    return Device("cpu").send(array)
