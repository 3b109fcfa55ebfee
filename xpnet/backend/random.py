"""Random numbers for xpnet, reproducible with one call to ``seed``.

Parameters and shuffles are drawn on the host from one NumPy generator, so a
model starts with the same weights on CPU and GPU. Dropout masks are drawn on
the array's own device (no host-device copy per step), from a generator that
``seed`` also resets.
"""
import numpy

from .device import cupy_if_loaded

_seed = None
_host = numpy.random.default_rng()
_gpu = {}


def seed(value):
    """Seed every generator xpnet uses, on every device, so runs repeat."""
    global _seed, _host
    _seed = int(value)
    _host = numpy.random.default_rng(_seed)
    _gpu.clear()


def host_rng():
    """The NumPy Generator behind weights, shuffling and CPU dropout masks."""
    return _host


def get_state():
    """The host generator's state, as plain data a checkpoint can store."""
    return _host.bit_generator.state


def set_state(state):
    """Restore a state returned by ``get_state``."""
    _host.bit_generator.state = state


def rand_like(x):
    """Uniform numbers in [0, 1) with the shape, dtype and device of ``x``."""
    cupy = cupy_if_loaded()
    if cupy is not None and isinstance(x, cupy.ndarray):
        device = x.device.id
        if device not in _gpu:
            _gpu[device] = cupy.random.RandomState(None if _seed is None else _seed + device)
        with x.device:
            return _gpu[device].random_sample(x.shape, dtype=x.dtype)
    return _host.random(x.shape, dtype=x.dtype if x.dtype.kind == "f" else numpy.float64)
