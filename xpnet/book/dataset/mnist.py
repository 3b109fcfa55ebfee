"""The book's ``dataset.mnist``, served by xpnet: the same names, return types and dtypes.

``load_mnist(normalize=True, flatten=True, one_hot_label=False)`` returns
((x_train, t_train), (x_test, t_test)) as the book's does: images uint8, or
float32 in [0, 1] when normalized; labels uint8, or float64 one-hot rows.

Where the data come from: the reader's own files where the book's loader
looks for them (``dataset/mnist.pkl``, else the four .gz files in the
reader's ``dataset/`` folder), each checked against the known MNIST files
(the official ones, or the 5,000-image training subset xpnet's reference data
and sample hold) and never silently replaced: a file that fails is an error
naming it. Without them, xpnet's own loader: the data directory, the cache, a
verified download, or offline the built-in sample. ``init_mnist`` and
``download_mnist`` fetch through xpnet's verified download into xpnet's
cache; nothing is written into the reader's folder.
"""
import hashlib
import os
import struct

import numpy as np

from xpnet.datasets import load_mnist as _xpnet_load_mnist
from xpnet.datasets import read_idx
from xpnet.datasets.mnist import MNIST
from xpnet.datasets.sources import DataFile, cache_dir, download, find_local, verified
from xpnet.errors import DataError
from xpnet.book.importer import readers_folders
from xpnet.serialization import load_pickle

url_base = MNIST.mirrors[0]
key_file = {role: datafile.name for role, datafile in MNIST.files.items()}
train_num = 60000
test_num = 10000
img_dim = (1, 28, 28)
img_size = 784

# The 5,000-image training subset, in the digit order of the reference data or xpnet's sample.
_SUBSET = {"train_img": ("a4a9358b9ba319305e7cd69b2c7410e463401e152d7e9e60189b94a3f159d012",
                         "abad1c6d1f7cec2bdeb600e32c03c52873e31d7821cba5eebe3fbae513633f8f"),
           "train_label": ("704256e87519240fd1d7ecdf681fe209864691e252c6642aeadc21f3c4d44b41",
                           "04846d39e0ddc4e14f5e38023a823603df78a204303c74b288a8d5c68a06935d")}
_KNOWN = {role: DataFile(f.name, f.sha256, _SUBSET.get(role, ())) for role, f in MNIST.files.items()}
_REMEDY = "remove it, and xpnet-book uses xpnet's verified copy of MNIST instead"

_readers = readers_folders("dataset")
dataset_dir = _readers[0] if _readers else os.path.join(cache_dir(), MNIST.name)
save_file = dataset_dir + "/mnist.pkl"


def download_mnist():
    """Make the four MNIST files available, verified, in xpnet's cache (as the book downloads)."""
    for role in MNIST.files:
        if find_local(MNIST, role) is None:
            download(MNIST, role)


def init_mnist():
    """The book's first-time setup: here, the verified download (no pickle is written)."""
    download_mnist()


def _idx_sha256(array, shape):
    """SHA-256 of ``array`` written as an IDX file of ``shape``: the checksum of its .gz's content."""
    sha = hashlib.sha256(struct.pack(">HBB", 0, 0x08, len(shape)))
    sha.update(struct.pack(f">{len(shape)}I", *shape))
    sha.update(np.ascontiguousarray(array, dtype=np.uint8))  # the array's memory, not a copy
    return sha.hexdigest()


def _from_pickle():
    """The reader's mnist.pkl (the book's cache of the four files), checked array by array."""
    dataset = load_pickle(save_file)
    for role in _KNOWN:
        array = dataset.get(role)
        if array is None or array.dtype != np.uint8:
            raise DataError(f"{save_file}: no uint8 array {role!r}; {_REMEDY}")
        shape = (len(array), 28, 28) if role.endswith("img") else (len(array),)
        if array.size != np.prod(shape) or not _KNOWN[role].accepts(_idx_sha256(array, shape)):
            raise DataError(f"{save_file}: {role} is not MNIST's (checksum); {_REMEDY}")
    return {role: dataset[role] for role in _KNOWN}


def _from_gz_files():
    """The four .gz files in the reader's dataset folder, each verified; None if not all are there."""
    paths = {role: os.path.join(dataset_dir, name) for role, name in key_file.items()}
    if not _readers or not all(os.path.isfile(p) for p in paths.values()):
        return None
    return {role: read_idx(verified(path, _KNOWN[role], _REMEDY)).copy()
            for role, path in paths.items()}


def _raw_dataset():
    """uint8 images and labels, from the reader's files or xpnet's loader."""
    if _readers and os.path.isfile(save_file):
        dataset = _from_pickle()
    else:
        dataset = _from_gz_files()
    if dataset is None:
        (x_train, t_train), (x_test, t_test) = _xpnet_load_mnist(normalize=False)
        dataset = {"train_img": x_train, "train_label": t_train, "test_img": x_test,
                   "test_label": t_test}
    return {role: array.reshape(len(array), -1) if role.endswith("img") else
            array.astype(np.uint8) for role, array in dataset.items()}


def _change_one_hot_label(X):
    T = np.zeros((X.size, 10))
    T[np.arange(X.size), X] = 1
    return T


def load_mnist(normalize=True, flatten=True, one_hot_label=False):
    """MNIST as the book's ``load_mnist`` returns it (see the module)."""
    dataset = _raw_dataset()
    if normalize:
        for key in ("train_img", "test_img"):
            dataset[key] = dataset[key].astype(np.float32)
            dataset[key] /= 255.0
    if one_hot_label:
        dataset["train_label"] = _change_one_hot_label(dataset["train_label"])
        dataset["test_label"] = _change_one_hot_label(dataset["test_label"])
    if not flatten:
        for key in ("train_img", "test_img"):
            dataset[key] = dataset[key].reshape(-1, 1, 28, 28)
    return (dataset["train_img"], dataset["train_label"]), (dataset["test_img"],
                                                            dataset["test_label"])
