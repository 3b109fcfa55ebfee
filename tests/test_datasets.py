"""Dataset loading: the IDX parser, checksums, the search order, downloads, offline fallback;
CIFAR-10's archive and .npz datasets of one's own."""
import dataclasses
import gzip
import hashlib
import http.server
import io
import os
import pickle
import shutil
import signal
import struct
import tarfile
import threading

import numpy as np
import pytest

from xpnet.datasets import (load_cifar10, load_fashion_mnist, load_mnist, load_npz, parse_idx,
                            read_idx)
from xpnet.datasets import cifar10, sources
from xpnet.datasets.arrays import num_classes as arrays_num_classes
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


# --- CIFAR-10: tiny archives in the official format -------------------------------------

class _Python2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 strings (BINSTRING), as the CIFAR-10 batches were written."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_str


def _python2_pickle(value):
    out = io.BytesIO()
    _Python2Pickler(out, protocol=2).dump(value)
    return out.getvalue()


def _cifar_archive(path, per_batch=4, change=None):
    """A cifar-10-python.tar.gz of 5 + 1 batches of ``per_batch`` images; returns the labels.

    ``change(name, batch)`` may alter a batch (a dict) or return raw bytes to store instead.
    """
    rng = np.random.default_rng(0)
    labels = {}
    with tarfile.open(path, "w:gz") as archive:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            t = rng.integers(0, 10, per_batch)
            data = rng.integers(0, 256, (per_batch, 3072)).astype(np.uint8)
            data[0, 1024 + 32 * 2 + 5] = 200  # image 0: green channel, row 2, column 5
            batch = {b"batch_label": b"tiny " + name.encode(), b"labels": [int(v) for v in t],
                     b"data": data, b"filenames": [b"x.png"] * per_batch}
            content = change(name, batch) if change else None
            content = content or _python2_pickle(batch)
            member = tarfile.TarInfo("cifar-10-batches-py/" + name)
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content))
            labels[name] = t
    return labels


@pytest.fixture
def cifar(tmp_path, monkeypatch):
    """Make a tiny archive in a data directory and accept its checksum; returns its maker."""
    def make(**options):
        folder = tmp_path / "data"
        folder.mkdir(exist_ok=True)
        path = folder / "cifar-10-python.tar.gz"
        labels = _cifar_archive(path, **options)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        files = {"archive": dataclasses.replace(cifar10.CIFAR10.files["archive"], sha256=digest)}
        monkeypatch.setattr(cifar10, "CIFAR10", dataclasses.replace(cifar10.CIFAR10, files=files))
        monkeypatch.setenv("XPNET_DATA_DIR", str(folder))
        return path, labels
    return make


def test_cifar10_is_read_from_the_official_archive_format(cifar):
    _, labels = cifar()
    (x_train, t_train), (x_test, t_test) = load_cifar10()
    assert x_train.shape == (20, 3, 32, 32) and x_test.shape == (4, 3, 32, 32)
    assert x_train.dtype == np.float32 and 0 <= x_train.min() and x_train.max() <= 1
    assert x_train[0, 1, 2, 5] == np.float32(200 / 255)  # channels first, rows of 32
    np.testing.assert_array_equal(t_train, np.concatenate(
        [labels[f"data_batch_{i}"] for i in range(1, 6)]))
    np.testing.assert_array_equal(t_test, labels["test_batch"])
    (x, t), _ = load_cifar10(normalize=False, flatten=True, one_hot_label=True)
    assert x.dtype == np.uint8 and x.shape == (20, 3072) and t.shape == (20, 10)


def test_a_cifar10_archive_that_is_not_the_original_is_refused(cifar, monkeypatch):
    path, _ = cifar()
    monkeypatch.setattr(cifar10, "CIFAR10", dataclasses.replace(
        cifar10.CIFAR10, files={"archive": DataFile("cifar-10-python.tar.gz", "0" * 64, raw=True)}))
    with pytest.raises(DataError, match=f"{path}: the file is corrupt or not the original"):
        load_cifar10()


def test_a_cifar10_pickle_that_names_a_function_is_refused(cifar):
    evil = pickle.dumps({"data": os.system}, protocol=2)
    path, _ = cifar(change=lambda name, batch: evil if name == "data_batch_3" else None)
    with pytest.raises(DataError, match=f"{path}, cifar-10-batches-py/data_batch_3: refused to "
                                        "load posix.system"):
        load_cifar10()


def test_a_cifar10_label_out_of_range_names_the_batch_and_index(cifar):
    def bad_label(name, batch):
        if name == "test_batch":
            batch[b"labels"][2] = 10
    path, _ = cifar(change=bad_label)
    with pytest.raises(DataError, match=r"test_batch: label 10 at index 2 is not a class 0-9"):
        load_cifar10()


def test_cifar10_downloads_verify_the_archive_as_served_and_cache_it(server, tmp_path,
                                                                    monkeypatch):
    url, handler = server
    archive = tmp_path / "served.tar.gz"
    _cifar_archive(archive)
    body = archive.read_bytes()
    handler.routes["/kriz/cifar-10-python.tar.gz"] = [(200, body)]
    files = {"archive": DataFile("cifar-10-python.tar.gz", hashlib.sha256(body).hexdigest(),
                                 raw=True)}
    monkeypatch.setattr(cifar10, "CIFAR10", dataclasses.replace(
        cifar10.CIFAR10, files=files, mirrors=(url + "/kriz/",)))
    (x_train, _), _ = load_cifar10()
    assert len(x_train) == 20
    assert (tmp_path / "cache" / "cifar-10" / "cifar-10-python.tar.gz").read_bytes() == body
    load_cifar10()
    assert handler.hits == ["/kriz/cifar-10-python.tar.gz"]  # the second time, from the cache


def test_cifar10_offline_without_the_archive_says_where_to_get_it(monkeypatch):
    with pytest.raises(DataError, match="cifar-10 is not available: .*downloads are off. "
                                        "Download cifar-10-python.tar.gz"):
        load_cifar10(download=False)


# --- .npz datasets of one's own -----------------------------------------------------------

def _npz(path, **changes):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (12, 2, 5, 5)).astype(np.uint8),
              "t_train": rng.integers(0, 4, 12), "x_test": rng.integers(0, 256, (6, 2, 5, 5)),
              "t_test": rng.integers(0, 4, 6)}
    arrays.update(changes)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return arrays


def test_an_npz_dataset_gives_its_own_shapes_and_classes(tmp_path):
    arrays = _npz(tmp_path / "mine.npz", t_test=np.eye(7)[[0, 6, 1, 2, 3, 3]])
    (x_train, t_train), (x_test, t_test) = load_npz(tmp_path / "mine.npz")
    assert x_train.shape == (12, 2, 5, 5) and x_train.dtype == np.float32
    np.testing.assert_allclose(x_train, arrays["x_train"] / 255.0, rtol=1e-6)
    assert list(t_test) == [0, 6, 1, 2, 3, 3] and t_train.dtype == np.int64
    assert arrays_num_classes(t_train, t_test) == 7


@pytest.mark.parametrize("changes, says", [
    ({"t_test": None}, r"missing t_test \(an .npz dataset holds x_train, t_train, x_test, t_test"),
    ({"t_train": np.array([0, 1, -1, 2] * 3)}, r"t_train label -1 at index 2 is negative"),
    ({"t_train": np.arange(11)}, r"t_train has shape \(11,\); x_train has 12 samples"),
    ({"t_test": np.array([0, 1, 2.5, 1, 0, 0])}, r"t_test label 2.5 at index 2 is not a class id"),
    ({"x_test": np.zeros((6, 3, 5, 5))}, r"x_train's samples are \(2, 5, 5\), x_test's \(3, 5, 5\)"),
    ({"x_train": np.full((12, 2, 5, 5), np.nan)}, r"x_train holds NaN or infinity \(sample 0\)"),
    ({"x_train": np.array([object()] * 12)}, r"not a readable .npz of arrays"),
])
def test_a_bad_npz_dataset_names_the_file_and_what_is_wrong(tmp_path, changes, says):
    path = tmp_path / "bad.npz"
    if "x_train" in changes and changes["x_train"].dtype == object:
        np.savez(path, x_train=changes["x_train"], t_train=np.zeros(12, int),
                 x_test=np.zeros((6, 2)), t_test=np.zeros(6, int))
    else:
        _npz(path, **changes)
    with pytest.raises(DataError, match=f"{path}: {says}"):
        load_npz(path)


def test_xpnet_train_on_cifar10_sizes_the_networks_for_its_images(cifar, tmp_path, capsys):
    """--dataset cifar10: 3x32x32 images and 10 classes reach VGG and the book's networks."""
    from xpnet.cli.train import main
    cifar()
    handler = signal.getsignal(signal.SIGINT)
    for model in ("vgg", "simple_convnet", "two_layer"):
        out = tmp_path / model
        assert main(["--dataset", "cifar10", "--model", model, "--epochs", "1", "--batch-size",
                     "10", "--no-progress", "--out", str(out)]) == 0
        assert (out / "checkpoint.npz").exists()
    assert signal.getsignal(signal.SIGINT) is handler  # the caller keeps its Ctrl-C
    err = capsys.readouterr().err
    assert "training Sequential on cifar10 (20 train, 4 test images)" in err
    from xpnet.serialization import load_arrays
    arrays = load_arrays(tmp_path / "vgg" / "checkpoint.npz")
    assert arrays["param/W1"].shape == (32, 3, 3, 3) and arrays["param/W7"].shape == (2048, 10)


def test_an_npz_of_greyscale_images_gets_its_channel_axis(tmp_path):
    from xpnet.datasets.named import load_dataset
    np.savez(tmp_path / "g.npz", x_train=np.zeros((6, 5, 7), np.uint8), t_train=np.arange(6) % 2,
             x_test=np.zeros((2, 5, 7), np.uint8), t_test=np.arange(2))
    (x_train, _), (x_test, _) = load_dataset(str(tmp_path / "g.npz"))
    assert x_train.shape == (6, 1, 5, 7) and x_test.shape == (2, 1, 5, 7)
