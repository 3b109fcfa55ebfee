"""A strict reader of the IDX files MNIST and Fashion-MNIST come in.

IDX: two zero bytes, a type code (0x08 = unsigned byte), the number of
dimensions, then each size as a big-endian 32-bit integer, then the data.
Everything is checked; a bad file gets a DataError that names it.
"""
import gzip
import os
import struct
import zlib

import numpy as np

from ..errors import DataError

_UBYTE = 0x08


def parse_idx(data, name="<bytes>"):
    """Decode IDX bytes (already decompressed) into a uint8 array of the declared shape."""
    if len(data) < 4:
        raise DataError(f"{name}: too short for an IDX header ({len(data)} bytes)")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or ndim == 0:
        raise DataError(f"{name}: not an IDX file (magic number {data[:4].hex()})")
    if dtype_code != _UBYTE:
        raise DataError(f"{name}: IDX type code 0x{dtype_code:02x} is not supported "
                        f"(only 0x08, unsigned byte)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{name}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "has trailing bytes"
        raise DataError(f"{name}: {kind}: shape {shape} needs {expected} bytes, "
                        f"file has {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_idx(path):
    """Read an IDX file, gzip-compressed or not (told by its first bytes, not by its name)."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"{name}: cannot read ({e.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{name}: corrupt gzip data ({e})") from None
    return parse_idx(raw, name)
