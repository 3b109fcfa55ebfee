"""Parameters on disk: a safe native format, and the book's pickles read safely.

xpnet saves parameters as ``.npz`` (NumPy's zip of arrays, never unpickled),
written atomically. The book's ``.pkl`` files are read by
``safe_pickle.RestrictedUnpickler``, which builds only NumPy arrays and plain
containers: a pickle that names anything else is refused before anything in it
runs.
"""
import io
import math
import os
import pickle
import zlib

import numpy as np

from .errors import DataError
from .files import atomic_write
from .safe_pickle import loads as safe_loads


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
            data = safe_loads(f.read())
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a parameter file") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, LookupError, MemoryError, OverflowError, RecursionError, SystemError,
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
    import zipfile  # here, not above: runs that read only pickles skip its import
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
    import zipfile
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else None
            if not name:
                raise ValueError(f"member {info.filename!r} is not an .npy array")
            limit = info.file_size
            if info.compress_type != zipfile.ZIP_STORED:
                limit = min(limit, _MAX_DEFLATE_RATIO * info.compress_size + 4096)
            try:
                with archive.open(info) as member:
                    data = member.read(limit + 1)
            except (RuntimeError, NotImplementedError) as e:  # encrypted, unknown compression
                raise ValueError(f"member {info.filename!r} cannot be read ({e})") from None
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
