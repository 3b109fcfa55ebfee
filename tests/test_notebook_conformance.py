"""The book's numbers from notebooks: each notebook in tests/book/notebooks (the book's style:
its packages imported in cells, ``%load_ext xpnet.book`` first) executed by ``xpnet-book`` in
a real Jupyter kernel prints, cell by cell, what the same cells printed on the book's own code
(tests/book/fixtures/book_outputs.json, "notebooks"; recorded by tests/book/record.py).

Tolerance 1e-6 relative, as for the scripts, and 1e-9 absolute: the ch05 notebook's
numerical gradients of parameters whose true gradient sums to zero print rounding
noise near 1e-11.
"""
import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT
from xpnet.book.compare import compare

nbformat = pytest.importorskip("nbformat", reason="notebooks need the notebook extra")
pytest.importorskip("nbclient", reason="notebooks need the notebook extra")
BOOK = os.path.join(ROOT, "tests", "book")
sys.path.insert(0, BOOK)
from record import NOTEBOOKS, notebooks, printed  # noqa: E402

with open(os.path.join(BOOK, "fixtures", "book_outputs.json")) as f:
    FIXTURE = json.load(f)


@pytest.mark.parametrize("name", notebooks())
def test_notebook_prints_the_books_numbers_cell_by_cell(name, tmp_path, data_dir):
    out = tmp_path / (name + ".ipynb")
    env = dict(os.environ, XPNET_DATA_DIR=data_dir, XPNET_CACHE_DIR=str(tmp_path),
               XPNET_DEVICE="cpu")
    env.pop("XPNET_DTYPE", None)
    result = subprocess.run([sys.executable, "-m", "xpnet.book", "--output", str(out),
                             os.path.join(NOTEBOOKS, name + ".ipynb")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    nb = nbformat.read(str(out), as_version=4)
    expected, actual = FIXTURE["notebooks"][name], printed(nb)
    assert len(actual) == len(expected)
    for cell, (book, ours) in enumerate(zip(expected, actual), 1):
        worst, disagreement = compare(book, ours, atol=1e-9)
        assert disagreement is None, f"{name}, code cell {cell}: {disagreement}"
    load = [c for c in nb.cells if c.cell_type == "code" and "%load_ext xpnet.book" in c.source]
    assert load[0].outputs[0].text.startswith("xpnet.book: common.* and dataset.* are xpnet's")
    plots = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if "image/png" in o.get("data", {})]
    assert len(plots) == (0 if name.startswith("ch05") else 1)  # drawn inline, kept


def test_every_notebook_has_its_recording():
    assert sorted(FIXTURE["notebooks"]) == notebooks(), "re-record: the notebooks changed"
