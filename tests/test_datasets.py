"""Dataset loading: the IDX parser, checksums, the search order, downloads, offline fallback."""
import dataclasses
import gzip
import hashlib
import http.server
import os
import shutil
import struct
import threading

import numpy as np
import pytest

from xpnet.datasets import load_fashion_mnist, load_mnist, parse_idx, read_idx
from xpnet.datasets import sources
from xpnet.datasets.mnist import FASHION_MNIST, MNIST
from xpnet.datasets.sources import DataFile, Dataset
from xpnet.errors import DataError


def idx_bytes(array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Each test gets an empty cache and no data directory unless it sets one."""
    monkeypatch.setenv("XPNET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("XPNET_DATA_DIR", raising=False)


def test_parse_idx_round_trip():
    images = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(images)), images)


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b[:-5], r"truncated: shape \(2, 3, 4\) needs 40 bytes, file has 35"),
    (lambda b: b + b"xx", "has trailing bytes"),
    (lambda b: b"\x01\x02" + b[2:], "not an IDX file"),
    (lambda b: b[:2] + b"\x0d" + b[3:], "type code 0x0d is not supported"),
    (lambda b: b[:6], "truncated IDX header"),
    (lambda b: b[:2], "too short"),
])
def test_parse_idx_rejects_bad_files(mutate, message):
    with pytest.raises(DataError, match=message):
        parse_idx(mutate(idx_bytes(np.zeros((2, 3, 4)))), "images.idx")


def test_read_idx_names_the_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((2, 3, 4))))[:-10])
    with pytest.raises(DataError, match=f"{path}: (corrupt gzip data|truncated)"):
        read_idx(path)
    with pytest.raises(DataError, match="missing.gz: cannot read"):
        read_idx(tmp_path / "missing.gz")


def test_load_mnist_from_shared_data(data_dir, capsys):
    (x_train, t_train), (x_test, t_test) = load_mnist(data_dir=data_dir, download=False)
    assert x_train.shape == (5000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() and x_train.max() == 1.0
    assert list(t_test[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(t_train).tolist() == [500] * 10
    assert np.bincount(t_train[:300]).min() >= 15  # shuffled: a prefix holds every digit
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "using the built-in sample" in err
    (x, t), _ = load_mnist(normalize=False, flatten=False, one_hot_label=True, data_dir=data_dir,
                           download=False)
    assert x.shape == (5000, 1, 28, 28) and x.dtype == np.uint8 and t.shape == (5000, 10)
    np.testing.assert_array_equal(t.argmax(axis=1), t_train)


def test_full_mnist_in_data_dir_is_used(tmp_path, data_dir, monkeypatch):
    """A data directory holding all four files (here: the test set twice, names matched) is used."""
    fake = dict(MNIST.files)
    fake["train_img"], fake["train_label"] = MNIST.files["test_img"], MNIST.files["test_label"]
    monkeypatch.setattr("xpnet.datasets.mnist.MNIST", Dataset("mnist", fake, ()))
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join(data_dir, "mnist", name), folder / name)
    (x_train, _), (x_test, _) = load_mnist(data_dir=str(tmp_path / "data"), download=False)
    assert len(x_train) == len(x_test) == 10000


def test_checksum_failure_is_never_used(tmp_path, data_dir):
    folder = tmp_path / "mnist"
    folder.mkdir()
    original = os.path.join(data_dir, "mnist", "t10k-labels-idx1-ubyte.gz")
    raw = bytearray(gzip.decompress(open(original, "rb").read()))
    raw[100] = (raw[100] + 1) % 10  # one label changed: still a valid IDX file
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz: the file is corrupt or not the "
                                       "original .*expected ff7bcfd416de3373…\\); replace it"):
        sources.find_local(MNIST, "test_label", str(tmp_path))


def _corrupt_copy(data_dir, folder):
    """The official test set in ``folder``, with one label changed (still a valid IDX file)."""
    folder.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join(data_dir, "mnist", name), folder / name)
    raw = bytearray(gzip.decompress((folder / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    raw[100] = (raw[100] + 1) % 10
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    return folder / "t10k-labels-idx1-ubyte.gz"


def test_a_corrupt_file_in_the_data_directory_is_an_error_not_a_fallback(tmp_path, data_dir,
                                                                          capsys):
    bad = _corrupt_copy(data_dir, tmp_path / "data" / "mnist")
    with pytest.raises(DataError, match=f"{bad}: the file is corrupt .* replace it with the "
                                        "original file or remove it"):
        load_mnist(data_dir=str(tmp_path / "data"), download=False)
    assert "built-in sample" not in capsys.readouterr().err


def test_a_corrupt_file_in_the_cache_says_it_will_be_fetched_again(tmp_path, data_dir):
    bad = _corrupt_copy(data_dir, tmp_path / "cache" / "mnist")
    with pytest.raises(DataError, match=f"{bad}: .*delete it and it will be downloaded again"):
        load_mnist(download=False)


def test_a_data_directory_that_does_not_exist_is_an_error(tmp_path, monkeypatch):
    with pytest.raises(DataError, match=f"the data directory {tmp_path / 'nope'} does not exist"):
        load_mnist(data_dir=str(tmp_path / "nope"), download=False)
    monkeypatch.setenv("XPNET_DATA_DIR", str(tmp_path / "nope"))
    with pytest.raises(DataError, match=f"XPNET_DATA_DIR {tmp_path / 'nope'} does not exist"):
        load_mnist(download=False)


def test_an_uncompressed_idx_named_gz_is_read(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(idx_bytes(np.array([3, 1, 4])))
    assert read_idx(path).tolist() == [3, 1, 4]


def test_uncompressed_copy_passes_the_checksum(tmp_path, data_dir):
    folder = tmp_path / "mnist"
    folder.mkdir()
    gz = os.path.join(data_dir, "mnist", "t10k-labels-idx1-ubyte.gz")
    (folder / "t10k-labels-idx1-ubyte").write_bytes(gzip.decompress(open(gz, "rb").read()))
    assert sources.find_local(MNIST, "test_label", str(tmp_path)).endswith("t10k-labels-idx1-ubyte")


def test_fashion_from_a_system_directory(tmp_path, monkeypatch):
    arrays = {"train_img": np.full((3, 28, 28), 7), "train_label": np.array([0, 1, 2]),
              "test_img": np.zeros((2, 28, 28)), "test_label": np.array([3, 4])}
    files = {}
    for role, array in arrays.items():
        raw = idx_bytes(array)
        name = f"{role}.gz"
        (tmp_path / name).write_bytes(gzip.compress(raw))
        files[role] = DataFile(name, hashlib.sha256(raw).hexdigest())
    monkeypatch.setattr("xpnet.datasets.mnist.FASHION_MNIST",
                        Dataset("fashion-mnist", files, (), (str(tmp_path),)))
    (x_train, t_train), (x_test, t_test) = load_fashion_mnist(download=False)
    assert x_train.shape == (3, 784) and x_train[0, 0] == pytest.approx(7 / 255)
    assert t_test.tolist() == [3, 4]


def test_fashion_without_any_copy_says_where_it_looked(monkeypatch):
    monkeypatch.setattr("xpnet.datasets.mnist.FASHION_MNIST",
                        dataclasses.replace(FASHION_MNIST, mirrors=(), system_dirs=()))
    with pytest.raises(DataError, match=r"fashion-mnist is not available: .* is not in the data "
                                        r"directory \(XPNET_DATA_DIR or --data-dir\), the cache"):
        load_fashion_mnist(download=False)
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(download=False)


# --- downloads, against a server on the loopback interface ----------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {}   # path -> list of (status, body), consumed in order, the last one repeats
    hits = []

    def do_GET(self):  # noqa: N802
        self.hits.append(self.path)
        responses = self.routes.get(self.path, [(404, b"")])
        status, body = responses.pop(0) if len(responses) > 1 else responses[0]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.routes, _Handler.hits = {}, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler
    httpd.shutdown()
    httpd.server_close()


def _tiny_dataset(base_urls):
    raw = idx_bytes(np.arange(12).reshape(3, 4))
    return Dataset("tiny", {"img": DataFile("img.gz", hashlib.sha256(raw).hexdigest())},
                   tuple(base_urls)), gzip.compress(raw)


def test_download_verifies_and_caches(server, tmp_path):
    url, handler = server
    dataset, body = _tiny_dataset([url + "/a/"])
    handler.routes["/a/img.gz"] = [(200, body)]
    path = sources.download(dataset, "img", progress=False)
    assert path == str(tmp_path / "cache" / "tiny" / "img.gz")
    np.testing.assert_array_equal(read_idx(path), np.arange(12).reshape(3, 4))
    assert sources.find_local(dataset, "img") == path  # the cache is found next time


def test_download_discards_a_bad_checksum_and_tries_the_next_mirror(server, tmp_path):
    url, handler = server
    dataset, body = _tiny_dataset([url + "/bad/", url + "/good/"])
    handler.routes["/bad/img.gz"] = [(200, gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x05"))]
    handler.routes["/good/img.gz"] = [(200, body)]
    path = sources.download(dataset, "img", progress=False)
    assert handler.hits == ["/bad/img.gz", "/good/img.gz"]
    assert sources.content_sha256(path) == dataset.files["img"].sha256


def test_download_failure_lists_every_reason_and_leaves_nothing(server, tmp_path):
    url, handler = server
    dataset, _ = _tiny_dataset([url + "/bad/", url + "/missing/"])
    handler.routes["/bad/img.gz"] = [(200, b"not gzip at all")]
    with pytest.raises(DataError, match=r"could not download img.gz: .*/bad/img.gz: SHA-256 .* discarded; .*/missing/img.gz: Not Found"):
        sources.download(dataset, "img", progress=False)
    cache = tmp_path / "cache" / "tiny"
    assert not cache.exists() or os.listdir(cache) == []


def test_download_retries_server_errors(server, monkeypatch):
    monkeypatch.setattr(sources.time, "sleep", lambda s: None)
    url, handler = server
    dataset, body = _tiny_dataset([url + "/flaky/"])
    handler.routes["/flaky/img.gz"] = [(503, b""), (500, b""), (200, body)]
    sources.download(dataset, "img", progress=False, retries=3)
    assert handler.hits == ["/flaky/img.gz"] * 3


def test_offline_fallback_to_the_shipped_sample(monkeypatch, capsys):
    unreachable = Dataset("mnist", MNIST.files, ("http://127.0.0.1:9/",))  # port 9: nothing listens
    monkeypatch.setattr("xpnet.datasets.mnist.MNIST", unreachable)
    (x_train, _), (x_test, t_test) = load_mnist()
    assert (len(x_train), len(x_test)) == (5000, 10000)
    assert list(t_test[:3]) == [7, 2, 1]
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["xpnet: the full mnist training set is not here and could not be downloaded "
                   "(Connection refused); using the built-in sample: 5,000 training images and "
                   "the official 10,000 test images"]


def test_book_weights_from_the_data_directory(data_dir):
    from xpnet.datasets import book_weights
    path = book_weights("params.pkl", data_dir=data_dir, download_ok=False)
    assert path == os.path.join(data_dir, "book-weights", "params.pkl")  # the 2016 release
    with pytest.raises(DataError, match="'resnet.pkl' is not one of the book's weight files"):
        book_weights("resnet.pkl")
    with pytest.raises(DataError, match="downloads are off"):
        book_weights("params.pkl", download_ok=False)


def test_book_weights_are_downloaded_checked_and_cached(server, tmp_path, data_dir, monkeypatch):
    from xpnet.datasets import weights
    url, handler = server
    real = weights._dataset("sample_weight.pkl")
    monkeypatch.setattr(weights, "_dataset", lambda name: Dataset(
        real.name, real.files, (url + "/bad/", url + "/ch03/")))
    original = open(os.path.join(data_dir, "book-weights", "sample_weight.pkl"), "rb").read()
    handler.routes["/bad/sample_weight.pkl"] = [(200, original[:-1] + b"X")]
    handler.routes["/ch03/sample_weight.pkl"] = [(200, original)]
    path = weights.book_weights("sample_weight.pkl")
    assert path == str(tmp_path / "cache" / "book-weights" / "sample_weight.pkl")
    assert open(path, "rb").read() == original
    assert handler.hits == ["/bad/sample_weight.pkl", "/ch03/sample_weight.pkl"]
    assert weights.book_weights("sample_weight.pkl", download_ok=False) == path  # cached
