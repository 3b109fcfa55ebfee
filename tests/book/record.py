"""Record the book's own output of every conformance program and notebook: ``python tests/book/record.py BOOK``.

BOOK is a checkout of oreilly-japan/deep-learning-from-scratch at the commit
below, whose dataset/ folder holds the MNIST files (the reference data's
t10k-* files, and its train5k-* files renamed train-*). Each program in
tests/book/programs runs with BOOK on PYTHONPATH, so that `common` and
`dataset` are the book's own; its stdout goes into
tests/book/fixtures/book_outputs.json, which the tests compare with the
same program run under xpnet-book. Each notebook in tests/book/notebooks
runs the same way in a Jupyter kernel (nbclient), its ``%load_ext
xpnet.book`` cells left out; what each code cell prints is recorded.
"""
import datetime
import json
import os
import platform
import subprocess
import sys

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "programs")
NOTEBOOKS = os.path.join(HERE, "notebooks")
LOAD = "%load_ext xpnet.book"
FIXTURE = os.path.join(HERE, "fixtures", "book_outputs.json")
BOOK_COMMIT = "07b11618cdb5d5f78ad45464de0730efc07b0a4a"


def programs():
    return sorted(name[:-3] for name in os.listdir(PROGRAMS)
                  if name.endswith(".py") and name != "show.py")


def run_with_book(book, name):
    env = dict(os.environ, PYTHONPATH=book, MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, os.path.join(PROGRAMS, name + ".py")],
                            capture_output=True, text=True, env=env, cwd=PROGRAMS, timeout=1800)
    if result.returncode != 0:
        raise SystemExit(f"{name}.py failed on the book's code:\n{result.stderr}")
    return result.stdout


def notebooks():
    return sorted(name[:-len(".ipynb")] for name in os.listdir(NOTEBOOKS)
                  if name.endswith(".ipynb"))


def printed(nb):
    """What each code cell printed (stdout), the cells that load xpnet's book face left out."""
    return ["".join(o.get("text", "") for o in cell.get("outputs", ())
                    if o.get("output_type") == "stream" and o.get("name") == "stdout")
            for cell in nb.cells if cell.cell_type == "code" and LOAD not in cell.source]


def run_notebook_with_book(book, name):
    import nbclient
    import nbformat
    nb = nbformat.read(os.path.join(NOTEBOOKS, name + ".ipynb"), as_version=4)
    nb.cells = [c for c in nb.cells if not (c.cell_type == "code" and LOAD in c.source)]
    env = dict(os.environ, PYTHONPATH=book)
    env.pop("MPLBACKEND", None)
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=1800,
                            resources={"metadata": {"path": NOTEBOOKS}}).execute(env=env)
    return printed(nb)


def main(book):
    head = subprocess.run(["git", "-C", book, "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    if head and head != BOOK_COMMIT:
        raise SystemExit(f"{book} is at {head}; check out {BOOK_COMMIT}")
    record = {
        "book": {"repository": "oreilly-japan/deep-learning-from-scratch", "commit": BOOK_COMMIT},
        "recorded": {"command": "python tests/book/record.py BOOK",
                     "date": datetime.date.today().isoformat(), "python": platform.python_version(),
                     "numpy": numpy.__version__,
                     "data": "BOOK/dataset: the reference data's t10k-* files, and its "
                             "train5k-* files renamed train-*"},
        "outputs": {name: run_with_book(book, name) for name in programs()},
        "notebooks": {name: run_notebook_with_book(book, name) for name in notebooks()},
    }
    with open(FIXTURE, "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"recorded {len(record['outputs'])} programs and {len(record['notebooks'])} notebooks "
          f"into {FIXTURE}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(os.path.abspath(sys.argv[1]))
