"""CIFAR-10 from its official Python-version archive, returned as ``load_mnist`` returns MNIST.

The archive (cifar-10-python.tar.gz, 170 MB) is found in the data directory or the
cache, or downloaded into the cache, and checked by its SHA-256 before use. Its six
batches are Python 2 pickles of a dict: they are read straight from the archive,
nothing extracted, through xpnet's restricted unpickler, which builds arrays and
plain containers and refuses anything else a pickle could name.
"""
import pickle

import numpy as np

from .. import safe_pickle
from ..errors import DataError
from .sources import DataFile, Dataset, DownloadError, download, find_local

CIFAR10 = Dataset(
    name="cifar-10",
    files={"archive": DataFile(
        "cifar-10-python.tar.gz",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce", raw=True)},
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
    hint="Download cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) and "
         "put it in a folder named with --data-dir or XPNET_DATA_DIR",
)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")
_FOLDER = "cifar-10-batches-py/"
TRAIN_BATCHES = tuple(f"{_FOLDER}data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = (f"{_FOLDER}test_batch",)


def archive_path(data_dir=None, download_ok=True):
    """The verified archive: a local copy, else a download into the cache."""
    path = find_local(CIFAR10, "archive", data_dir)
    if path is not None:
        return path
    reason = ("cifar-10-python.tar.gz is not in the data directory or the cache, and downloads "
              "are off")
    if download_ok:
        try:
            return download(CIFAR10, "archive")
        except DownloadError as e:
            reason = str(e)
    raise DataError(f"cifar-10 is not available: {reason}. {CIFAR10.hint}")


def read_batches(path, members):
    """(images uint8 (N, 3, 32, 32), labels int64 (N,)) of the archive's ``members``, joined."""
    import tarfile  # here: importing xpnet.datasets stays cheap for MNIST's users
    images, labels = [], []
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in members:
                x, t = _batch(archive, path, member)
                images.append(x)
                labels.append(t)
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable CIFAR-10 archive ({e})") from None
    return np.concatenate(images), np.concatenate(labels)


def _batch(archive, path, member):
    where = f"{path}, {member}"
    try:
        content = archive.extractfile(member)
    except KeyError:
        raise DataError(f"{path}: no {member} in the archive") from None
    try:
        batch = safe_pickle.loads(content.read(), encoding="latin1")
    except (pickle.UnpicklingError, ValueError, EOFError) as e:
        raise DataError(f"{where}: {e}") from None
    if not isinstance(batch, dict) or "data" not in batch or "labels" not in batch:
        raise DataError(f"{where}: expected a dict with 'data' and 'labels'")
    x, t = batch["data"], np.asarray(batch["labels"])
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3072:
        raise DataError(f"{where}: 'data' must be uint8 rows of 3,072 pixels, got "
                        f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}")
    if t.shape != (len(x),) or t.dtype.kind not in "iu":
        raise DataError(f"{where}: 'labels' must be {len(x)} integers, got {t.dtype} {t.shape}")
    bad = np.flatnonzero((t < 0) | (t > 9))
    if bad.size:
        raise DataError(f"{where}: label {t[bad[0]]} at index {bad[0]} is not a class 0-9")
    return x.reshape(-1, 3, 32, 32), t.astype(np.int64)


def load_cifar10(normalize=True, flatten=False, one_hot_label=False, *, data_dir=None,
                 download=True):
    """((x_train, t_train), (x_test, t_test)): 50,000 and 10,000 images of 10 classes (CLASSES).

    normalize: pixels as float32 in [0, 1] (else uint8 0-255); flatten: images as
    3,072-vectors (else 3x32x32, channels first, as the book's convolutions take
    them); one_hot_label: labels as one-hot rows (else integers).
    """
    path = archive_path(data_dir, download)
    splits = []
    for members in (TRAIN_BATCHES, TEST_BATCHES):
        x, t = read_batches(path, members)
        x = x.astype(np.float32) / 255.0 if normalize else x
        x = x.reshape(len(x), -1) if flatten else x
        splits.append((x, np.eye(10, dtype=np.float32)[t] if one_hot_label else t))
    return tuple(splits)
