"""Errors xpnet raises on purpose.

Every error a user can cause derives from ``XpnetError`` and carries a message
that names what is wrong (a shape, a dtype, a device, a file). xpnet's commands
print such an error as one line; in a user's own program it is an ordinary
exception with an ordinary traceback.
"""


class XpnetError(Exception):
    """Base class of the errors a user can act on."""


class DeviceError(XpnetError, RuntimeError):
    """A device was asked for that cannot be used (unknown name, no CuPy, no GPU)."""


class DeviceMismatchError(XpnetError, ValueError):
    """Arrays that live on different devices met in one operation."""


class ShapeError(XpnetError, ValueError):
    """An array has a shape that does not fit where it was given."""


class DTypeError(XpnetError, TypeError):
    """An array has a dtype that does not fit where it was given."""


class DataError(XpnetError, ValueError):
    """A data or parameter file is missing, corrupt or not what it claims to be."""


class LabelError(XpnetError, ValueError):
    """Class labels that do not fit the data or the network (shape, type, range)."""
