"""Parameters on disk: a safe native format, and the book's pickles read safely.

xpnet saves parameters as ``.npz`` (NumPy's zip of arrays, read with
``allow_pickle=False``), written atomically. The book's ``.pkl`` files are read
by ``RestrictedUnpickler``, which admits only NumPy arrays, dtypes and plain
containers: a pickle that names anything else is refused before anything in it
runs.
"""
import io
import os
import pickle
import zipfile

import numpy as np

from .errors import DataError
from .files import atomic_write

# The only globals a parameter pickle may name: what NumPy uses to rebuild arrays.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("collections", "OrderedDict"),
    ("_codecs", "encode"),  # protocol 2 stores array bytes as latin-1 text re-encoded by this
}


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that refuses every global except those NumPy arrays are made of."""

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: only NumPy arrays "
                                         f"and plain containers are allowed")
        if module.startswith("numpy.core."):  # NumPy 2 moved numpy.core to numpy._core
            module = "numpy._core." + module.split(".", 2)[2]
        return super().find_class(module, name)


def _check_arrays(arrays, path):
    """Every value a numeric ndarray, every key a string; else DataError naming the file."""
    if not isinstance(arrays, dict):
        raise DataError(f"{path}: expected a dict of arrays, found {type(arrays).__name__}")
    for key, value in arrays.items():
        if not isinstance(key, str) or not isinstance(value, np.ndarray) \
                or value.dtype.kind not in "fiub":
            raise DataError(f"{path}: entry {key!r} is not a numeric array "
                            f"({type(value).__name__} {getattr(value, 'dtype', '')})")
    return arrays


def load_pickle(path):
    """Read one of the book's parameter pickles through RestrictedUnpickler."""
    try:
        with open(path, "rb") as f:
            data = RestrictedUnpickler(f).load()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
        raise DataError(f"{path}: not a loadable parameter pickle ({e})") from None
    return _check_arrays(data, path)


def save_arrays(path, arrays):
    """Write a dict of arrays (any device) to ``path`` as .npz, atomically."""
    from .backend import asnumpy
    buffer = io.BytesIO()
    np.savez(buffer, **{key: asnumpy(value) for key, value in arrays.items()})
    with atomic_write(path) as f:
        f.write(buffer.getvalue())


def load_arrays(path):
    """Read a dict of NumPy arrays from .npz (never unpickling) or from a book .pkl."""
    path = os.fspath(path)
    if path.endswith(".pkl"):
        return load_pickle(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return _check_arrays({key: data[key] for key in data.files}, path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz parameter file ({e})") from None
