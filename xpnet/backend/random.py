"""Random numbers for xpnet, reproducible with one call to ``seed``.

Parameters, shuffles and CPU dropout masks are drawn on the host, so a model
starts with the same weights on CPU and GPU. By default they come from
xpnet's own NumPy Generator; ``use_numpy_global(True)`` makes them come from
NumPy's global generator instead (``np.random.randn``, ``np.random.rand``,
``np.random.choice``), in the order the book's code draws them, so that a
script's ``np.random.seed(...)`` gives the book's numbers (xpnet-book does
this). GPU dropout masks are drawn on the device from a generator that
``seed`` also resets.
"""
import numpy

from .device import cupy_if_loaded

_seed = None
_rank = 0
_own = None  # made on first use: numpy.random costs ~10 ms to import, and many runs never draw
_numpy_global = False
_gpu = {}


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
    global _seed, _rank, _own
    _seed, _rank = int(value), int(rank)
    key = _seed if _rank == 0 else [_seed, _rank]
    _own = numpy.random.default_rng(key)
    if _numpy_global:
        numpy.random.seed(key)
    _gpu.clear()


def use_numpy_global(on=True):
    """Draw host random numbers from NumPy's global generator (True) or xpnet's own (False)."""
    global _numpy_global
    _numpy_global = bool(on)


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
    """The host generator's state, as plain data a checkpoint can store."""
    if _numpy_global:
        kind, keys, pos, has_gauss, gauss = numpy.random.get_state()
        return {"numpy_global": [kind, keys.tolist(), pos, has_gauss, gauss]}
    return _own_rng().bit_generator.state


def set_state(state):
    """Restore a state returned by ``get_state``."""
    if "numpy_global" in state:
        kind, keys, pos, has_gauss, gauss = state["numpy_global"]
        numpy.random.set_state((kind, numpy.array(keys, dtype=numpy.uint32), pos, has_gauss,
                                gauss))
    else:
        _own_rng().bit_generator.state = state


def rand_like(x):
    """Uniform numbers in [0, 1) with the shape and device of ``x``.

    On the CPU they are float64 draws, as the book's ``np.random.rand``; on
    a GPU, draws of ``x``'s float dtype from the device's own generator.
    """
    cupy = cupy_if_loaded()
    if cupy is not None and isinstance(x, cupy.ndarray):
        device = x.device.id
        if device not in _gpu:
            _gpu[device] = cupy.random.RandomState(
                None if _seed is None else _seed + device + 1_000_003 * _rank)
        dtype = x.dtype if x.dtype.kind == "f" else numpy.float32
        with x.device:
            return _gpu[device].random_sample(x.shape, dtype=dtype)
    return host_rng().random(x.shape)
