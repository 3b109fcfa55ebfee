"""cupy.random of the stand-in: its own stream (Philox), never NumPy's, as on a real GPU."""
import numpy

from . import current_device_id, ndarray


class RandomState:
    """The generator behind ``cupy.random``; ``random_sample``, ``rand``, ``randn``, ``seed``."""

    def __init__(self, seed=None):
        self.seed(seed)

    def seed(self, seed=None):
        self._rng = numpy.random.Generator(numpy.random.Philox(seed))

    def _out(self, array):
        return ndarray._wrap(array, current_device_id())

    def random_sample(self, size=None, dtype=float):
        return self._out(self._rng.random(size, dtype=numpy.dtype(dtype).type))

    def standard_normal(self, size=None, dtype=float):
        return self._out(self._rng.standard_normal(size, dtype=numpy.dtype(dtype).type))

    def rand(self, *size, dtype=float):
        return self.random_sample(size, dtype)

    def randn(self, *size, dtype=float):
        return self.standard_normal(size, dtype)


_default = RandomState()


def seed(value=None):
    _default.seed(value)


def rand(*size, dtype=float):
    return _default.rand(*size, dtype=dtype)


def randn(*size, dtype=float):
    return _default.randn(*size, dtype=dtype)


def random_sample(size=None, dtype=float):
    return _default.random_sample(size, dtype)
