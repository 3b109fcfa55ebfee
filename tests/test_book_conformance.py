"""The book's numbers: each conformance program, run under xpnet-book, prints what it printed
on the book's own code (tests/book/fixtures/book_outputs.json, recorded by
tests/book/record.py from a checkout of the book at the commit the fixture names).

Tolerances: 1e-6 relative for what does not train; 1e-9 for the Trainer's
20 float64 steps; 1e-12 absolute for values that are zero up to rounding,
1e-9 for numerical gradients (central differences of a loss near 2 with
h = 1e-4 carry rounding noise of about 1e-11 to 1e-10).
"""
import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT
from xpnet.book.compare import compare

BOOK = os.path.join(ROOT, "tests", "book")
with open(os.path.join(BOOK, "fixtures", "book_outputs.json")) as f:
    FIXTURE = json.load(f)
TOLERANCE = {"trainer": 1e-9}
ABSOLUTE = {"networks": 1e-9, "gradient": 1e-9}


@pytest.mark.parametrize("program", sorted(FIXTURE["outputs"]))
def test_program_prints_the_books_numbers(program, tmp_path, data_dir):
    _check(program, tmp_path, data_dir)


@pytest.mark.parametrize("program", ["networks", "trainer"])
def test_a_gpu_asked_for_computes_the_books_numbers_on_the_cpu_and_says_so(program, tmp_path,
                                                                          data_dir):
    """The book's code makes NumPy arrays itself: xpnet-book keeps it on the CPU (xpnet's
    networks on a GPU stopped at the first NumPy batch) and says why in one line."""
    stderr = _check(program, tmp_path, data_dir, XPNET_DEVICE="gpu")
    assert stderr.startswith("xpnet-book: computing on the CPU (XPNET_DEVICE=gpu ignored)")


def _check(program, tmp_path, data_dir, **env):
    env = dict(os.environ, XPNET_DATA_DIR=data_dir, XPNET_CACHE_DIR=str(tmp_path),
               MPLBACKEND="Agg", **env)
    env.pop("XPNET_DTYPE", None)
    result = subprocess.run([sys.executable, "-m", "xpnet.book",
                             os.path.join(BOOK, "programs", program + ".py")],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    worst, disagreement = compare(FIXTURE["outputs"][program], result.stdout,
                                  rtol=TOLERANCE.get(program, 1e-6),
                                  atol=ABSOLUTE.get(program, 1e-12))
    assert disagreement is None, f"{program}: {disagreement} (largest difference {worst:.1e})"
    return result.stderr


def test_the_fixture_says_how_it_was_recorded():
    assert FIXTURE["book"]["commit"] == "07b11618cdb5d5f78ad45464de0730efc07b0a4a"
    assert FIXTURE["recorded"]["command"] == "python tests/book/record.py BOOK"
    programs = {n[:-3] for n in os.listdir(os.path.join(BOOK, "programs"))
                if n.endswith(".py") and n != "show.py"}
    assert programs == set(FIXTURE["outputs"]), "re-record: the programs changed"
