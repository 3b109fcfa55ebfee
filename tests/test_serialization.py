"""Files: the restricted unpickler, .npz round trips, atomic writes."""
import os
import pickle

import numpy as np
import pytest

from xpnet.errors import DataError
from xpnet.files import atomic_write
from xpnet.serialization import load_arrays, load_pickle, save_arrays


class Exploit:
    """Pickles into a call of os.system: what an untrusted .pkl can do to plain pickle.load."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"W1": np.zeros(2), "x": Exploit(marker)}))
    with pytest.raises(DataError, match=r"evil.pkl: not a loadable parameter pickle \(UnpicklingError: refused to load "
                                        r"(posix|os).system"):
        load_pickle(path)
    assert not marker.exists()


def test_pickle_of_non_arrays_is_refused(tmp_path):
    path = tmp_path / "list.pkl"
    path.write_bytes(pickle.dumps({"W1": [1, 2, 3]}))
    with pytest.raises(DataError, match="entry 'W1' is not a numeric array"):
        load_pickle(path)
    path.write_bytes(pickle.dumps({"W1": np.array(["a"], dtype=object)}))
    with pytest.raises(DataError, match="not a numeric array|refused"):
        load_pickle(path)


def test_book_style_pickle_loads(tmp_path):
    params = {"W1": np.arange(6.0).reshape(2, 3), "b1": np.zeros(3, dtype=np.float32)}
    for protocol in (2, 3, 4, 5):
        path = tmp_path / f"p{protocol}.pkl"
        path.write_bytes(pickle.dumps(params, protocol=protocol))
        loaded = load_pickle(path)
        np.testing.assert_array_equal(loaded["W1"], params["W1"])
        assert loaded["b1"].dtype == np.float32


def test_npz_round_trip_and_corruption(tmp_path):
    arrays = {"W1": np.random.default_rng(0).random((3, 2)), "n": np.array(5)}
    save_arrays(tmp_path / "a.npz", arrays)
    loaded = load_arrays(tmp_path / "a.npz")
    np.testing.assert_array_equal(loaded["W1"], arrays["W1"])
    (tmp_path / "bad.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(DataError, match="bad.npz: not a readable .npz"):
        load_arrays(tmp_path / "bad.npz")


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "keep.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write(b"half of the new")
            raise RuntimeError("crash mid-write")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["keep.bin"]  # no temporary left behind
    with atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"


def test_a_pickle_cannot_claim_memory_it_does_not_hold(tmp_path):
    """46 bytes asking NumPy for a 745 GiB array: refused before anything is allocated."""
    path = tmp_path / "huge.pkl"
    path.write_bytes(b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
                     b"\x8a\x05\x00\x00\x00\x00\x19\x85U\x01b\x87R.")
    with pytest.raises(DataError, match=r"huge.pkl: .*refused an array of shape \(107374182400,\)"):
        load_pickle(path)


def test_a_pickle_naming_an_unknown_codec_is_refused(tmp_path):
    path = tmp_path / "codec.pkl"
    path.write_bytes(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x07\x00\x00\x00no-such\x86R.")
    with pytest.raises(DataError, match="codec.pkl: .*refused to encode with 'no-such'"):
        load_pickle(path)


def _npz_with_header(tmp_path, header_shape, data):
    """An .npz whose one member's header claims ``header_shape`` float64 but holds ``data``."""
    import io
    import zipfile
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False,
                                                  "shape": header_shape})
    path = tmp_path / "lying.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("W1.npy", buffer.getvalue() + data)
    return path


def test_an_npz_header_cannot_claim_memory_it_does_not_hold(tmp_path):
    path = _npz_with_header(tmp_path, (10 ** 11,), np.zeros(2).tobytes())
    with pytest.raises(DataError, match=r"lying.npz: .*entry 'W1' claims shape \(100000000000,\) "
                                        r"of float64 \(800000000000 bytes\) but holds 16 bytes"):
        load_arrays(path)
    good = _npz_with_header(tmp_path, (2,), np.arange(2.0).tobytes())
    assert load_arrays(good)["W1"].tolist() == [0.0, 1.0]
    assert load_arrays(good)["W1"].flags.writeable


class _SharedBuffer:
    """Pickles as NumPy's protocol-5 array: _frombuffer of a bytearray, here one shared by two."""

    def __init__(self, buffer):
        self.buffer = buffer

    def __reduce__(self):
        return (np._core.numeric._frombuffer, (self.buffer, np.dtype(np.uint8), (4,), "C"))


def test_protocol_5_arrays_are_writable_and_never_share_memory(tmp_path):
    path = tmp_path / "p5.pkl"
    path.write_bytes(pickle.dumps({"W1": np.arange(6.0).reshape(2, 3)}, protocol=5))
    W1 = load_pickle(path)["W1"]
    assert W1.flags.writeable and W1.flags.c_contiguous
    W1 += 1  # the book's optimizers update loaded weights in place
    np.testing.assert_array_equal(W1, np.arange(1.0, 7.0).reshape(2, 3))
    shared = bytearray(b"\x01\x02\x03\x04")
    path.write_bytes(pickle.dumps({"a": _SharedBuffer(shared), "b": _SharedBuffer(shared)},
                                  protocol=5))
    loaded = load_pickle(path)
    assert not np.shares_memory(loaded["a"], loaded["b"])
    loaded["a"][0] = 9
    np.testing.assert_array_equal(loaded["b"], [1, 2, 3, 4])
