"""``%load_ext xpnet.book`` in an IPython kernel: the book's packages for the cells that follow,
the book's numbers from them, and the kernel's own packages back after ``%unload_ext``.

Each test drives a real IPython shell in a subprocess (the extension changes the process:
its import system, ``pickle.load``, the dtype), cell by cell.
"""
import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT
from xpnet.book.compare import compare

pytest.importorskip("IPython", reason="the notebook extension's tests need IPython")
PROGRAMS = os.path.join(ROOT, "tests", "book", "programs")
FIXTURE = json.load(open(os.path.join(ROOT, "tests", "book", "fixtures", "book_outputs.json")))
NOTICE = "xpnet.book: common.* and dataset.* are xpnet's from here on"


def run_cells(cells, cwd, **env):
    """stdout of ``cells`` run one by one in an IPython shell, in a fresh process."""
    driver = ("import json, sys\nfrom IPython.core.interactiveshell import InteractiveShell\n"
              "shell = InteractiveShell.instance()\n"
              "for cell in json.loads(sys.argv[1]):\n"
              "    if not shell.run_cell(cell).success:\n"
              "        sys.exit(1)\n")
    result = subprocess.run([sys.executable, "-c", driver, json.dumps(cells)], cwd=cwd,
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, MPLBACKEND="Agg", **env))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("program", ["functions", "layers", "networks"])
def test_cells_after_load_ext_print_the_books_numbers(program, tmp_path, data_dir):
    source = open(os.path.join(PROGRAMS, program + ".py")).read()
    out = run_cells([f"import sys; sys.path.insert(0, {PROGRAMS!r})", "%load_ext xpnet.book",
                     source], tmp_path, XPNET_DATA_DIR=data_dir, XPNET_DEVICE="cpu")
    notice, printed = out.split("\n", 1)
    assert notice.startswith(NOTICE)
    worst, disagreement = compare(FIXTURE["outputs"][program], printed,
                                  atol=1e-9 if program == "networks" else 1e-12)
    assert disagreement is None, f"{program}: {disagreement} (largest difference {worst:.1e})"


def test_the_readers_modules_stay_on_top_and_unload_gives_the_kernel_its_own(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("WHO = 'the kernel'\n")
    (tmp_path / "common" / "mine.py").write_text("VALUE = 'the reader'\n")
    (tmp_path / "ch05").mkdir()
    out = run_cells([
        "import sys, os; sys.path.append(os.pardir)",
        "import common; print('before:', common.WHO)",
        "%load_ext xpnet.book",
        "import common, xpnet\nfrom common.layers import Affine\nfrom common.mine import VALUE\n"
        "print(Affine.__module__, VALUE, xpnet.get_dtype(), hasattr(common, 'WHO'))",
        "import io, pickle\ntry:\n    pickle.load(io.BytesIO(pickle.dumps(print)))\n"
        "except pickle.UnpicklingError as e:\n    print('refused:', e)",
        "%load_ext xpnet.book",
        "%unload_ext xpnet.book",
        "import common, pickle, xpnet; print('after:', common.WHO, xpnet.get_dtype(), "
        "pickle.load.__module__)",
    ], tmp_path / "ch05")
    lines = out.splitlines()
    assert lines[0] == "before: the kernel" and lines[1].startswith(NOTICE)
    assert lines[2] == "xpnet.layers.affine the reader float64 False"
    assert lines[3].startswith("refused: refused to load builtins.print")
    assert lines[4].startswith("The xpnet.book extension is already loaded")  # IPython's
    assert lines[-2] == "xpnet.book: unloaded; common.* and dataset.* are the kernel's own again"
    assert lines[-1] == "after: the kernel float32 _pickle"
