"""A dataset of one's own: an ``.npz`` file holding x_train, t_train, x_test and t_test.

Images may have any shape (N, ...) and any number of classes: both come from the
data. Labels are class ids 0..K-1 (or one-hot rows). Everything is checked before
training, and a bad file is an error naming the file and the key or label at
fault. The file is read without unpickling (``allow_pickle=False``).
"""
import os

import numpy as np

from ..errors import DataError

KEYS = ("x_train", "t_train", "x_test", "t_test")


def load_npz(path, normalize=True):
    """((x_train, t_train), (x_test, t_test)) from ``path``; x as float32, t as int64 ids.

    normalize: integer images (0-255) are scaled to [0, 1]; float images are kept.
    """
    arrays = _read(path)
    splits = []
    for split in ("train", "test"):
        x, t = arrays[f"x_{split}"], arrays[f"t_{split}"]
        splits.append((_images(path, f"x_{split}", x, normalize), _labels(path, split, t, len(x))))
    (x_train, _), (x_test, _) = splits
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"{path}: x_train's samples are {x_train.shape[1:]}, x_test's "
                        f"{x_test.shape[1:]}: they must have one shape")
    return tuple(splits)


def num_classes(*label_arrays):
    """The number of classes: the largest class id + 1."""
    return int(max(t.max() for t in label_arrays if t.size)) + 1


def _read(path):
    import zipfile  # here: the book face's start-up imports only what a run uses
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as f:
            names = list(f.files)
            arrays = {k: f[k] for k in KEYS if k in names}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz of arrays ({e})") from None
    missing = [k for k in KEYS if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing {', '.join(missing)} (an .npz dataset holds "
                        f"{', '.join(KEYS)}; it has {', '.join(names) or 'nothing'})")
    return arrays


def _images(path, key, x, normalize):
    if x.dtype.kind not in "fiub" or x.ndim < 2 or len(x) == 0:
        raise DataError(f"{path}: {key} must be numbers shaped (N, ...) with N >= 1, got "
                        f"{x.dtype} {x.shape}")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DataError(f"{path}: {key} holds NaN or infinity (sample "
                        f"{np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))[0]})")
    if x.dtype.kind in "iub" and normalize:
        return x.astype(np.float32) / 255.0
    return x.astype(np.float32)


def _labels(path, split, t, n):
    key = f"t_{split}"
    if t.ndim == 2 and t.shape[0] == n:  # one-hot rows
        if not ((t == 0) | (t == 1)).all() or not (t.sum(axis=1) == 1).all():
            raise DataError(f"{path}: {key} is 2-D but not one-hot rows")
        t = t.argmax(axis=1)
    if t.shape != (n,):
        raise DataError(f"{path}: {key} has shape {t.shape}; x_{split} has {n} samples, so it "
                        f"needs {n} labels")
    if t.dtype.kind == "f":
        if not np.isfinite(t).all() or (t != np.round(t)).any():
            bad = np.flatnonzero(~np.isfinite(t) | (t != np.round(t)))[0]
            raise DataError(f"{path}: {key} label {t[bad]} at index {bad} is not a class id")
    elif t.dtype.kind not in "iu":
        raise DataError(f"{path}: {key} must be integer class ids, got {t.dtype}")
    bad = np.flatnonzero(t < 0)
    if bad.size:
        raise DataError(f"{path}: {key} label {t[bad[0]]} at index {bad[0]} is negative")
    return t.astype(np.int64)
