"""Record the book's own output of every conformance program: ``python tests/book/record.py BOOK``.

BOOK is a checkout of oreilly-japan/deep-learning-from-scratch at the commit
below, whose dataset/ folder holds the MNIST files (the reference data's
t10k-* files, and its train5k-* files renamed train-*). Each program in
tests/book/programs runs with BOOK on PYTHONPATH, so that `common` and
`dataset` are the book's own; its stdout goes into
tests/book/fixtures/book_outputs.json, which the tests compare with the
same program run under xpnet-book.
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
    }
    with open(FIXTURE, "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"recorded {len(record['outputs'])} programs into {FIXTURE}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(os.path.abspath(sys.argv[1]))
