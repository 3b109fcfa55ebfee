"""MNIST and Fashion-MNIST, loaded as the book's ``load_mnist`` returns them."""
import os
import sys

import numpy as np

from ..errors import DataError
from .idx import read_idx
from .sources import DataFile, Dataset, DownloadError, cache_dir, download, find_local

_ROLES = ("train_img", "train_label", "test_img", "test_label")

MNIST = Dataset(
    name="mnist",
    files={
        "train_img": DataFile("train-images-idx3-ubyte.gz",
                              "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "train_label": DataFile("train-labels-idx1-ubyte.gz",
                                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "test_img": DataFile("t10k-images-idx3-ubyte.gz",
                             "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "test_label": DataFile("t10k-labels-idx1-ubyte.gz",
                               "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    },
    # The book's address (yann.lecun.com) now answers 403; these serve the same files.
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
             "https://storage.googleapis.com/cvdf-datasets/mnist/"),
)

FASHION_MNIST = Dataset(
    name="fashion-mnist",
    files={
        "train_img": DataFile("train-images-idx3-ubyte.gz",
                              "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        "train_label": DataFile("train-labels-idx1-ubyte.gz",
                                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        "test_img": DataFile("t10k-images-idx3-ubyte.gz",
                             "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        "test_label": DataFile("t10k-labels-idx1-ubyte.gz",
                               "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
             "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    hint="On Debian or Ubuntu, `apt-get install dataset-fashion-mnist` installs it; or put "
         "its four .gz files in a folder and name it with --data-dir or XPNET_DATA_DIR",
)

# The sample shipped inside the package (see sample/README.md): the official test
# set and 5,000 training images, used when the full MNIST training set is out of reach.
SAMPLE_DIR = os.path.join(os.path.dirname(__file__), "sample")
MNIST_SAMPLE = Dataset(
    name="mnist-sample",
    files={
        "train_img": DataFile("train5k-images-idx3-ubyte.gz",
                              "abad1c6d1f7cec2bdeb600e32c03c52873e31d7821cba5eebe3fbae513633f8f"),
        "train_label": DataFile("train5k-labels-idx1-ubyte.gz",
                                "04846d39e0ddc4e14f5e38023a823603df78a204303c74b288a8d5c68a06935d"),
        "test_img": MNIST.files["test_img"],
        "test_label": MNIST.files["test_label"],
    },
    mirrors=(),
    system_dirs=(SAMPLE_DIR,),
)


def _locate(dataset, data_dir, download_ok):
    """Paths of the four verified files: local copies first, then downloads.

    Every local copy is checked before anything is downloaded, so a copy that
    fails its check is a DataError naming it; files that are absent and cannot
    be downloaded are a DownloadError.
    """
    paths = {role: find_local(dataset, role, data_dir) for role in _ROLES}
    for role, path in paths.items():
        if path is None:
            if not download_ok:
                raise DownloadError(f"{dataset.files[role].name} is not in {_places(dataset)}, "
                                    f"and downloads are off", "downloads are off")
            paths[role] = download(dataset, role)
    return paths


def _places(dataset):
    places = ["the data directory (XPNET_DATA_DIR or --data-dir)", f"the cache ({cache_dir()})"]
    return ", ".join(places + list(dataset.system_dirs))


def _paths(dataset, data_dir, download_ok, fallback=None):
    """Paths of the four files, or of ``fallback``'s (saying so) when they cannot be had.

    Only absent files that cannot be downloaded lead to the fallback; a file
    that is there but corrupt is an error, never silently replaced.
    """
    try:
        return _locate(dataset, data_dir, download_ok)
    except DownloadError as e:
        if fallback is None:
            raise DataError(f"{dataset.name} is not available: {e}" +
                            (f". {dataset.hint}" if dataset.hint else "")) from None
        why = e.reason
        print(f"xpnet: the full {dataset.name} training set is not here and could not be "
              f"downloaded ({why}); using the built-in sample: 5,000 training images and the "
              f"official 10,000 test images", file=sys.stderr)
        return {role: find_local(fallback, role, data_dir) for role in _ROLES}


def _load(dataset, normalize, flatten, one_hot_label, data_dir, download_ok, fallback=None):
    paths = _paths(dataset, data_dir, download_ok, fallback)
    arrays = {role: read_idx(path) for role, path in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_img"], arrays[f"{split}_label"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{paths[split + '_img']}: {images.shape} images do not match "
                            f"{labels.shape} labels in {paths[split + '_label']}")
    return tuple(_prepare(arrays[f"{s}_img"], arrays[f"{s}_label"], normalize, flatten,
                          one_hot_label) for s in ("train", "test"))


def _prepare(images, labels, normalize, flatten, one_hot_label):
    """The book's conversions: float32 in [0, 1], (N, 784) or (N, 1, 28, 28), one-hot labels."""
    x = images.astype(np.float32) / 255.0 if normalize else images.copy()
    x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *images.shape[1:])
    t = labels.astype(np.int64)
    if one_hot_label:
        t = np.eye(10, dtype=np.float32)[t]
    return x, t


def load_mnist(normalize=True, flatten=True, one_hot_label=False, *, data_dir=None,
               download=True):
    """The book's ``load_mnist``: returns ((x_train, t_train), (x_test, t_test)) as NumPy arrays.

    normalize: pixels as float32 in [0, 1] (else uint8 0-255); flatten: images as
    784-vectors (else 1x28x28); one_hot_label: labels as one-hot rows (else
    integers). Looks in ``data_dir`` (or XPNET_DATA_DIR), the cache, then the
    mirrors; offline, falls back to the sample shipped with xpnet and says so.
    """
    return _load(MNIST, normalize, flatten, one_hot_label, data_dir, download, MNIST_SAMPLE)


def load_fashion_mnist(normalize=True, flatten=True, one_hot_label=False, *, data_dir=None,
                       download=True):
    """Fashion-MNIST with ``load_mnist``'s signature and return value.

    Also found where Debian's dataset-fashion-mnist installs it
    (/usr/share/datasets/fashion-mnist). There is no offline sample.
    """
    return _load(FASHION_MNIST, normalize, flatten, one_hot_label, data_dir, download)
