"""Parameters on disk: a safe native format, and the book's pickles read safely.

xpnet saves parameters as ``.npz`` (NumPy's zip of arrays, read with
``allow_pickle=False``), written atomically. The book's ``.pkl`` files are read
by ``RestrictedUnpickler``, which admits only NumPy arrays, dtypes and plain
containers: a pickle that names anything else is refused before anything in it
runs.
"""
import io
import math
import os
import pickle
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from .errors import DataError
from .files import atomic_write

def _reconstruct(subtype, shape, dtype):
    """NumPy's ``_reconstruct``, limited to what NumPy's own pickles ask of it: an empty array.

    The data arrive afterwards, and must then fit the shape; an array may
    never be allocated from a shape alone (a few bytes could claim gigabytes).
    """
    if subtype is not np.ndarray or tuple(shape) != (0,):
        raise pickle.UnpicklingError(f"refused an array of shape {shape!r} without its data")
    return np.ndarray((0,), dtype=dtype)


def _encode(text, encoding):
    """``_codecs.encode`` as protocol 2 uses it: array bytes kept as latin-1 text."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"refused to encode with {encoding!r}")
    return text.encode("latin1")


def _numpy_core(name):
    module = getattr(np, "_core", None) or np.core
    return getattr(getattr(module, "multiarray" if name != "_frombuffer" else "numeric"), name)


# The only globals a parameter pickle may name: what NumPy uses to rebuild arrays.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("collections", "OrderedDict"): lambda: OrderedDict,
    ("_codecs", "encode"): lambda: _encode,
}
for _core in ("numpy.core", "numpy._core"):  # NumPy 2 moved numpy.core to numpy._core
    _ALLOWED_GLOBALS[(f"{_core}.multiarray", "_reconstruct")] = lambda: _reconstruct
    _ALLOWED_GLOBALS[(f"{_core}.multiarray", "scalar")] = lambda: _numpy_core("scalar")
    _ALLOWED_GLOBALS[(f"{_core}.numeric", "_frombuffer")] = lambda: _numpy_core("_frombuffer")


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that refuses every global except those NumPy arrays are made of."""

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: only NumPy arrays "
                                         f"and plain containers are allowed")
        return _ALLOWED_GLOBALS[(module, name)]()


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
        with open(path, "rb") as f:  # read whole: a length inside the pickle never sizes a read
            data = RestrictedUnpickler(io.BytesIO(f.read())).load()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a parameter file") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, LookupError, MemoryError, OverflowError, RecursionError,
            UnicodeError) as e:
        raise DataError(f"{path}: not a loadable parameter pickle ({type(e).__name__}: {e})") \
            from None
    return _check_arrays(data, path)


def save_pickle(path, arrays):
    """Write a dict of arrays (any device) as the book saves parameters: a pickled dict, atomically."""
    from .backend import asnumpy
    data = pickle.dumps({key: asnumpy(value) for key, value in arrays.items()})
    with atomic_write(path) as f:
        f.write(data)


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
        return _check_arrays(_read_npz(path), path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a parameter file") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, NotImplementedError,
            zlib.error) as e:
        raise DataError(f"{path}: not a readable .npz parameter file ({e})") from None


# Deflate packs at most about 1032 bytes into one; a member that claims to
# unpack to more than this is not a real .npz, and is not read further.
_MAX_DEFLATE_RATIO = 1032


def _read_npz(path):
    """The arrays of an .npz file, each allocated only once its bytes are known to be there."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else None
            if not name:
                raise ValueError(f"member {info.filename!r} is not an .npy array")
            limit = info.file_size
            if info.compress_type != zipfile.ZIP_STORED:
                limit = min(limit, _MAX_DEFLATE_RATIO * info.compress_size + 4096)
            with archive.open(info) as member:
                data = member.read(limit + 1)
            if len(data) > limit:
                raise ValueError(f"member {info.filename!r} unpacks to more than it declares")
            arrays[name] = _parse_npy(data, name)
    return arrays


def _parse_npy(data, name):
    """One .npy member's array; its header must describe exactly the bytes that follow it."""
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"entry {name!r}: .npy format version {version} is not supported")
    if dtype.hasobject:
        raise ValueError(f"entry {name!r} holds Python objects, which are never unpickled")
    count = math.prod(shape)
    held = len(data) - f.tell()
    if count * dtype.itemsize != held:
        raise ValueError(f"entry {name!r} claims shape {shape} of {dtype} "
                         f"({count * dtype.itemsize} bytes) but holds {held} bytes")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=f.tell())
    return flat.reshape(shape, order="F" if fortran else "C").copy()
