"""Random numbers for xpnet, reproducible with one call to ``seed``.

Parameters, shuffles and CPU dropout masks are drawn on the host, so a model
starts with the same weights on CPU and GPU. By default they come from
xpnet's own NumPy Generator; ``use_numpy_global(True)`` makes them come from
NumPy's global generator instead (``np.random.randn``, ``np.random.rand``,
``np.random.choice``), in the order the book's code draws them, so that a
script's ``np.random.seed(...)`` gives the book's numbers (xpnet-book does
this). GPU dropout masks are drawn on the device, counter-based: draw number k
of a run is a hash of (seed, rank, k) and each element's index (SplitMix64),
so the generator's whole state is a count, which checkpoints keep, and a
resumed run draws the masks the uninterrupted one would have drawn.
"""
import os

import numpy

from .device import cupy_if_loaded

_seed = None
_rank = 0
_own = None  # made on first use: numpy.random costs ~10 ms to import, and many runs never draw
_numpy_global = False
_device_draws = 0  # arrays drawn on a GPU since the last seed: the device stream's state


class _NumpyGlobal:
    """The Generator calls xpnet makes, answered by NumPy's global generator as the book calls it."""

    def standard_normal(self, shape):
        return numpy.random.randn(*shape)

    def random(self, shape):
        return numpy.random.rand(*shape)

    def permutation(self, n):
        return numpy.random.permutation(n)

    def choice(self, n, size):
        return numpy.random.choice(n, size)


def seed(value, rank=0):
    """Seed every generator xpnet uses, on every device, so runs repeat.

    ``rank`` (distributed training) gives each rank of a job its own streams
    (its own dropout masks); rank 0's are those of a single process.
    """
    global _seed, _rank, _own, _device_draws
    _seed, _rank = int(value), int(rank)
    key = _seed if _rank == 0 else [_seed, _rank]
    _own = numpy.random.default_rng(key)
    if _numpy_global:
        numpy.random.seed(key)
    _device_draws = 0


def use_numpy_global(on=True):
    """Draw host random numbers from NumPy's global generator (True) or xpnet's own (False)."""
    global _numpy_global
    _numpy_global = bool(on)


def uses_numpy_global():
    """True while host random numbers come from NumPy's global generator."""
    return _numpy_global


def host_rng():
    """The generator behind weights, shuffling and CPU dropout masks."""
    return _NumpyGlobal() if _numpy_global else _own_rng()


def _own_rng():
    """xpnet's own Generator, unseeded until ``seed`` is called."""
    global _own
    if _own is None:
        _own = numpy.random.default_rng()
    return _own


def get_state():
    """The generators' state, as plain data a checkpoint can store.

    The host generator's state; with ``{"host": ..., "device_seed": s,
    "device_draws": n}`` around it once the GPU has drawn (a CPU run's
    checkpoints are as they always were).
    """
    if _numpy_global:
        kind, keys, pos, has_gauss, gauss = numpy.random.get_state()
        host = {"numpy_global": [kind, keys.tolist(), pos, has_gauss, gauss]}
    else:
        host = _own_rng().bit_generator.state
    if not _device_draws:
        return host
    return {"host": host, "device_seed": _seed, "device_draws": _device_draws}


def set_state(state):
    """Restore a state returned by ``get_state``."""
    global _device_draws, _seed
    _device_draws = state.get("device_draws", 0)
    _seed = state.get("device_seed", _seed)
    state = state.get("host", state)
    if "numpy_global" in state:
        kind, keys, pos, has_gauss, gauss = state["numpy_global"]
        numpy.random.set_state((kind, numpy.array(keys, dtype=numpy.uint32), pos, has_gauss,
                                gauss))
    else:
        _own_rng().bit_generator.state = state


def rand_like(x):
    """Uniform numbers in [0, 1) with the shape and device of ``x``.

    On the CPU they are float64 draws, as the book's ``np.random.rand``; on
    a GPU, draws of ``x``'s float dtype from the device's counter-based stream.
    """
    global _device_draws
    cupy = cupy_if_loaded()
    if cupy is not None and isinstance(x, cupy.ndarray):
        _device_draws += 1
        with x.device:
            return counter_uniform(cupy, x.shape, x.dtype, _stream_key(_device_draws))
    return host_rng().random(x.shape)


_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix(z, xp=None):
    """SplitMix64's finalizer, on a Python int or (``xp``) an array of uint64."""
    c = (lambda v: v) if xp is None else xp.uint64
    z = (z ^ (z >> c(30))) * c(0xBF58476D1CE4E5B9)
    z = z & _MASK if xp is None else z
    z = (z ^ (z >> c(27))) * c(0x94D049BB133111EB)
    z = z & _MASK if xp is None else z
    return z ^ (z >> c(31))


def _stream_key(draw):
    """The 64-bit key of draw number ``draw`` of this seed and rank (unseeded: a random seed)."""
    global _seed
    if _seed is None:
        _seed = int.from_bytes(os.urandom(8), "little")
    key = 0
    for part in (_seed, _rank, draw):
        key = _mix((key + _GOLDEN + part) & _MASK)
    return key


def counter_uniform(xp, shape, dtype, key):
    """Uniform numbers in [0, 1): element i is SplitMix64(key + (i + 1) * golden), its top
    24 (float32) or 53 (float64) bits; the same numbers from NumPy and CuPy."""
    dtype = numpy.dtype(dtype if numpy.dtype(dtype).kind == "f" else numpy.float32)
    size = int(numpy.prod(shape))
    index = xp.arange(1, size + 1, dtype=xp.uint64)
    z = _mix(index * xp.uint64(_GOLDEN) + xp.uint64(key), xp)
    bits = 24 if dtype == numpy.float32 else 53
    return ((z >> xp.uint64(64 - bits)).astype(dtype) * dtype.type(2.0 ** -bits)).reshape(shape)
