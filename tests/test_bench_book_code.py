"""bench/book_code.py: the benchmarks' "book" rows load the book's code from a checkout.

A stand-in checkout with the book's file layout shows what the loader does; CI has no
copy of the book (none is ever committed), so its rows skip there.
"""
import os
import sys
import types

import pytest

from helpers import ROOT

sys.path.insert(0, os.path.join(ROOT, "bench"))
import book_code  # noqa: E402

UTIL = """import numpy as np
def im2col(x, *geometry):
    return np.zeros(3)
def col2im(col, *geometry):
    return np.ones(2)
"""
LAYERS = """import numpy as np
from common.util import im2col, col2im
class Pooling:
    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        pass
    def forward(self, x):
        return im2col(x)
"""


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """A folder laid out like the book's repository, named by XPNET_BOOK_DIR."""
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("")
    (tmp_path / "common" / "util.py").write_text(UTIL)
    (tmp_path / "common" / "layers.py").write_text(LAYERS)
    monkeypatch.setenv(book_code.VARIABLE, str(tmp_path))
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    book_code.module.cache_clear()
    yield tmp_path
    book_code.module.cache_clear()
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_book_modules_run_on_the_array_module_given(stand_in):
    fake = types.ModuleType("fake")
    fake.zeros, fake.ones = (lambda n: ("fake zeros", n)), (lambda n: ("fake ones", n))
    on_fake = book_code.kernels(fake)
    assert on_fake.im2col(None) == ("fake zeros", 3)
    assert on_fake.col2im(None) == ("fake ones", 2)
    assert on_fake.Pooling(2, 2).forward(None) == ("fake zeros", 3)  # its im2col is fake's too
    import numpy
    assert list(book_code.kernels(numpy).im2col(None)) == [0, 0, 0]  # a copy of its own


def test_without_a_checkout_the_book_rows_skip(monkeypatch):
    monkeypatch.delenv(book_code.VARIABLE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="set XPNET_BOOK_DIR to a checkout"):
        book_code.book_dir()


def test_a_folder_that_is_not_the_book_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(book_code.VARIABLE, str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="not a checkout of the book's repository"):
        book_code.book_dir()
