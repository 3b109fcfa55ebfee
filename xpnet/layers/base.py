"""What every layer shares: a name for error messages and input checks."""
from ..backend import get_array_module
from ..errors import DeviceMismatchError, DTypeError, ShapeError


class Layer:
    """Base of the book's layer classes; ``name`` is set by the network that owns the layer."""

    name = None

    def _label(self):
        return self.name or type(self).__name__

    def _xp(self, x, *params):
        """The array module of the input and parameters, with errors that name this layer."""
        if not hasattr(x, "dtype") or x.dtype.kind not in "fiub":
            raise DTypeError(f"{self._label()}: expected a numeric array, got "
                             f"{getattr(x, 'dtype', type(x).__name__)}")
        try:
            return get_array_module(x, *params)
        except DeviceMismatchError as e:
            raise DeviceMismatchError(f"{self._label()}: {e}") from None

    def _shape_error(self, message):
        return ShapeError(f"{self._label()}: {message}")
