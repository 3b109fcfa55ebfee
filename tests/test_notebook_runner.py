"""``xpnet-book NOTEBOOK.ipynb``: a notebook executed headless in a real Jupyter kernel.

Each test starts ``xpnet-book`` in a process of its own, which starts an IPython
kernel (ipykernel) through nbclient, as Jupyter would; the executed notebook it
writes is read back with nbformat.
"""
import os
import signal
import subprocess
import sys
import time

import pytest

nbformat = pytest.importorskip("nbformat", reason="notebooks need the notebook extra")
pytest.importorskip("nbclient", reason="notebooks need the notebook extra")
pytest.importorskip("ipykernel", reason="notebooks need the notebook extra")


def notebook(path, *sources):
    """Write a notebook whose code cells are ``sources`` (a markdown cell first, as readers do)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# a reader's notebook")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, str(path))
    return path


def xpnet_book(*args, cwd, **env):
    return subprocess.run([sys.executable, "-m", "xpnet.book", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, XPNET_DEVICE="cpu", **env))


def outputs(path):
    """Per code cell: (execution count, its stdout, the kinds of its other outputs)."""
    nb = nbformat.read(str(path), as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream"
                           and o.name == "stdout")
            kinds = [sorted(o.get("data", {})) or o.output_type for o in cell.outputs
                     if o.output_type != "stream"]
            cells.append((cell.execution_count, text, kinds))
    return cells


def test_a_notebook_runs_on_the_book_face_with_its_plots_and_one_line_per_progress(tmp_path):
    """The kernel's common.* are xpnet's; plots are kept as images; \\r progress collapses to
    its last state and xpnet's own training shows a widget, not a flood of lines."""
    path = notebook(
        tmp_path / "ch05.ipynb",
        "import sys, os\nsys.path.append(os.pardir)\nimport numpy as np\n"
        "from common.functions import softmax\nimport common.functions\n"
        "print(common.functions.softmax.__module__, softmax(np.array([0.0, 0.0])))",
        "for i in range(300):\n    print(f'\\rstep {i}', end='')\nprint()",
        "import matplotlib.pyplot as plt\nplt.plot([3, 1, 2])\nplt.show()",
        "import numpy as np, xpnet\nfrom xpnet.models import TwoLayerNet\n"
        "from xpnet.trainer import Trainer\nfrom xpnet.plots import show_history\n"
        "x = np.random.rand(200, 4); t = (x.sum(axis=1) > 2).astype(int)\n"
        "net = TwoLayerNet(4, 8, 2)\n"
        "trainer = Trainer(net, x, t, x, t, epochs=3, mini_batch_size=10, schedule='epochs')\n"
        "trainer.train()\nshow_history(trainer)")
    result = xpnet_book("--seed", "0", path.name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    cells = outputs(tmp_path / "ch05.executed.ipynb")
    assert [c[0] for c in cells] == [1, 2, 3, 4]  # the book face's preamble is not recorded
    assert cells[0][1] == "xpnet.functions [0.5 0.5]\n"
    assert cells[1][1] == "step 299\n"
    assert cells[2][2] == [["image/png", "text/plain"]]
    bars = [k for k in cells[3][2] if "application/vnd.jupyter.widget-view+json" in k]
    assert len(bars) == 3, cells[3]  # one widget per epoch
    assert cells[3][1].count("=== epoch:") == 3 and "\r" not in cells[3][1]
    assert cells[3][2][-1] == ["image/png", "text/plain"]  # show_history: one figure
    # stderr: the book face's notice, one line per cell with its time, where the notebook went
    lines = result.stderr.splitlines()
    assert lines[0].startswith("xpnet.book: common.* and dataset.* are xpnet's")
    assert [line.split(":")[1].strip() for line in lines[1:5]] == [
        "[1/4] cell 2", "[2/4] cell 3", "[3/4] cell 4", "[4/4] cell 5"]
    assert lines[-1] == "xpnet-book: wrote ch05.executed.ipynb"
    assert "printed" not in open(path).read()  # the reader's notebook itself is untouched
    assert not [n for n in os.listdir(tmp_path) if n.startswith("kernel")]


def test_the_first_failing_cell_is_named_and_what_ran_is_written(tmp_path):
    path = notebook(tmp_path / "n.ipynb", "print('one')", "missing_name", "print('three')")
    result = xpnet_book(path.name, "--output", "out/run.ipynb", cwd=tmp_path)
    assert result.returncode == 1
    assert ("xpnet-book: cell 3 failed: NameError: name 'missing_name' is not defined"
            in result.stderr)
    cells = outputs(tmp_path / "out" / "run.ipynb")
    assert cells[0][1] == "one\n" and cells[1][2] == ["error"] and cells[2][:2] == (None, "")


def test_allow_errors_runs_past_a_failing_cell_and_says_which_raised(tmp_path):
    path = notebook(tmp_path / "n.ipynb", "1 / 0", "print('after')")
    result = xpnet_book("--allow-errors", path.name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "xpnet-book: cell 2 raised ZeroDivisionError: division by zero (allowed)" in result.stderr
    assert outputs(tmp_path / "n.executed.ipynb")[1][1] == "after\n"


def test_a_notebook_that_loads_the_extension_itself_gets_it_once(tmp_path):
    path = notebook(tmp_path / "n.ipynb", "%load_ext xpnet.book", "import common.layers\n"
                    "print(common.layers.Affine.__module__)")
    result = xpnet_book(path.name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    cells = outputs(tmp_path / "n.executed.ipynb")
    assert cells[0][1].startswith("xpnet.book: common.* and dataset.* are xpnet's")
    assert "already loaded" not in cells[0][1]
    assert cells[1][1] == "xpnet.layers.affine\n"


@pytest.mark.parametrize("content, says", [
    (None, "missing.ipynb: no such file"),
    ("{not json", "bad.ipynb: not a Jupyter notebook (")])
def test_a_file_that_is_no_notebook_is_a_one_line_error_naming_it(tmp_path, content, says):
    name = "missing.ipynb" if content is None else "bad.ipynb"
    if content is not None:
        (tmp_path / name).write_text(content)
    result = xpnet_book(name, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("xpnet-book: error: " + says), result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_notebook_options_are_refused_for_a_script(tmp_path):
    (tmp_path / "s.py").write_text("print('ran')\n")
    result = xpnet_book("--allow-errors", "s.py", cwd=tmp_path)
    assert result.returncode == 2 and "are for notebooks (.ipynb)" in result.stderr


def test_ctrl_c_stops_the_run_and_keeps_the_cells_that_ran(tmp_path):
    path = notebook(tmp_path / "n.ipynb", "print('done')", "import time\ntime.sleep(120)")
    process = subprocess.Popen([sys.executable, "-m", "xpnet.book", path.name], cwd=tmp_path,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen = ""
    while "[2/2]" not in seen:
        seen += process.stderr.read(1)
        assert seen or process.poll() is None
    time.sleep(1)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 130, seen + rest
    assert "xpnet-book: wrote n.executed.ipynb" in rest
    assert outputs(tmp_path / "n.executed.ipynb")[0][1] == "done\n"


def test_a_cell_past_the_timeout_is_named(tmp_path):
    path = notebook(tmp_path / "n.ipynb", "import time\ntime.sleep(60)")
    start = time.perf_counter()
    result = xpnet_book("--timeout", "2", path.name, cwd=tmp_path)
    assert result.returncode == 1 and time.perf_counter() - start < 40
    assert "xpnet-book: cell 2 ran past --timeout 2 s" in result.stderr
