"""The book's pretrained weights, found locally or downloaded, always checked before use.

``book_weights("params.pkl")`` is the path of a verified copy of the book's
chapter-7 SimpleConvNet weights (``sample_weight.pkl``: chapter 3's network;
``deep_convnet_params.pkl``: chapter 8's DeepConvNet), looked for in the data
directory's ``book-weights/`` folder and the cache, else downloaded from the
book's repository at the commit xpnet is checked against. Two releases of
the ch07/ch08 files exist (2016, and the one retrained in 2022); both are
accepted. Networks read them with ``load_params``, through the restricted
unpickler.
"""
from ..errors import DataError
from .sources import DataFile, Dataset, download, find_local

BOOK_COMMIT = "07b11618cdb5d5f78ad45464de0730efc07b0a4a"
_REPOSITORY = "oreilly-japan/deep-learning-from-scratch"

# name -> (chapter folder, SHA-256 at BOOK_COMMIT, SHA-256s of earlier releases)
BOOK_WEIGHTS = {
    "sample_weight.pkl": (
        "ch03", "b7f55a27988ba34c3777b0f1bbd464817c8a4db855723e6ff26f703501917a13", ()),
    "params.pkl": ("ch07", "a5da99cffddafcfe5e686e79dc0ec3a7cc993b58e64f483b50960511e5e85344",
                   ("290ab40c1b1218b392cdc155b633a5df642d829453702fa421ce5f3c6c55f779",)),
    "deep_convnet_params.pkl": (
        "ch08", "4b7a27baee2037605afa94d3f514ca9fa9cc96623739328609765073cfd5f802",
        ("8c81d1d6ddedd08c8277c957f3af30a91e455a1d65474ec2b5a0e3527b7422cc",)),
}


def _dataset(name):
    chapter, digest, earlier = BOOK_WEIGHTS[name]
    mirrors = (f"https://raw.githubusercontent.com/{_REPOSITORY}/{BOOK_COMMIT}/{chapter}/",
               f"https://github.com/{_REPOSITORY}/raw/{BOOK_COMMIT}/{chapter}/")
    return Dataset("book-weights", {"weights": DataFile(name, digest, earlier)}, mirrors)


def book_weights(name, data_dir=None, download_ok=True):
    """Path of a verified copy of one of the book's weight files (downloaded when needed)."""
    if name not in BOOK_WEIGHTS:
        raise DataError(f"{name!r} is not one of the book's weight files: "
                        f"{', '.join(BOOK_WEIGHTS)}")
    dataset = _dataset(name)
    path = find_local(dataset, "weights", data_dir)
    if path is None:
        if not download_ok:
            raise DataError(f"{name} is in neither the data directory's book-weights/ folder nor "
                            f"the cache, and downloads are off")
        path = download(dataset, "weights")
    return path
