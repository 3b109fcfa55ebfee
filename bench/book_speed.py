"""The book's chapter scripts and notebooks, timed on the book's code and on ``xpnet-book``.

    python bench/book_speed.py BOOK [--rounds 5] [-k ch06] [--notebooks] [--json FILE]

BOOK is a checkout of oreilly-japan/deep-learning-from-scratch (commit 07b1161)
whose dataset/ folder holds the MNIST files. Each script of ch04-ch06 runs as a
reader runs it, in a fresh process in its own folder: ``python SCRIPT`` on the
book's packages, ``xpnet-book SCRIPT`` on xpnet's, alternated (the book first
in odd rounds, xpnet first in even ones), each seeded alike. With
``--notebooks`` the same is done for each chapter's experiments as the cells
of one notebook (written into BOOK's chapter folder, the scripts' code as
cells): a plain Jupyter kernel through nbclient on the book's packages, and
``xpnet-book NOTEBOOK.ipynb``. Wall time counts from process start to exit,
imports and kernel start included.

The table gives each side's median and its spread (slowest / fastest) and the
speed-up (book's median / xpnet's). The issue's target: speed-up >= 1.0 and
xpnet's spread at most the book's + 10%.
"""
import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import time

SEED = 0
# The experiments of each chapter that a reader's notebook holds (its modules, which
# only define classes, and ch06's 100-trial random search are left to the scripts).
NOTEBOOK_CELLS = {
    "ch04": ["train_neuralnet.py"],
    "ch05": ["gradient_check.py", "train_neuralnet.py"],
    "ch06": ["optimizer_compare_mnist.py", "weight_init_compare.py", "batch_norm_test.py",
             "overfit_dropout.py"],
}
_SEEDED = ("import sys, runpy, numpy; numpy.random.seed({seed}); sys.argv = [{name!r}]; "
           "runpy.run_path({name!r}, run_name='__main__')")
_PLAIN_KERNEL = ("import sys, nbformat, nbclient; nb = nbformat.read(sys.argv[1], 4); "
                 "nbclient.NotebookClient(nb, kernel_name='python3', resources={{'metadata': "
                 "{{'path': {folder!r}}}}}).execute()")


def scripts(book, pattern):
    return [p for p in sorted(glob.glob(os.path.join(book, "ch0[456]", "*.py"))) if pattern in p]


def write_notebook(book, chapter):
    """BOOK/chNN/xpnet_bench.ipynb: the chapter's experiments, one script per cell."""
    import nbformat
    folder = os.path.join(book, chapter)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"import numpy as np\nnp.random.seed({SEED})")]
    for name in NOTEBOOK_CELLS[chapter]:
        with open(os.path.join(folder, name)) as f:
            nb.cells.append(nbformat.v4.new_code_cell(f.read()))
    path = os.path.join(folder, "xpnet_bench.ipynb")
    nbformat.write(nb, path)
    return path


def commands(path, notebook):
    """{side: argv} for the book's run and xpnet's."""
    folder, name = os.path.split(path)
    if notebook:
        return {"book": [sys.executable, "-c", _PLAIN_KERNEL.format(folder=folder), name],
                "xpnet": [sys.executable, "-m", "xpnet.book", "--output",
                          os.path.join(folder, "xpnet_bench.executed.ipynb"), name]}
    return {"book": [sys.executable, "-c", _SEEDED.format(seed=SEED, name=name)],
            "xpnet": [sys.executable, "-m", "xpnet.book", "--seed", str(SEED), name]}


def timed(argv, folder, notebook):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    env.pop("PYTHONPATH", None)
    if notebook:
        env.pop("MPLBACKEND")  # both kernels draw their plots inline, as in Jupyter
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {folder}:\n{result.stderr[-2000:]}")
    return seconds


def measure(path, notebook, rounds):
    times = {"book": [], "xpnet": []}
    argv = commands(path, notebook)
    for r in range(rounds):
        for side in (("book", "xpnet") if r % 2 == 0 else ("xpnet", "book")):
            times[side].append(timed(argv[side], os.path.dirname(path), notebook))
    return times


def row(label, times):
    book, xp = (statistics.median(times[s]) for s in ("book", "xpnet"))
    spread = {s: max(times[s]) / min(times[s]) for s in times}
    ok = book / xp >= 1.0 and spread["xpnet"] <= spread["book"] + 0.10
    return (f"| {label} | {book:.2f} s ({spread['book']:.2f}) | {xp:.2f} s ({spread['xpnet']:.2f}) "
            f"| {book / xp:.2f}× | {'yes' if ok else 'no'} |")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python bench/book_speed.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("book")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("-k", default="", help="only scripts (or chapters) whose path contains this")
    p.add_argument("--notebooks", action="store_true", help="time the chapter notebooks too")
    p.add_argument("--no-scripts", action="store_true", help="time the notebooks only")
    p.add_argument("--json", help="also write every time into this file")
    args = p.parse_args(argv)
    book = os.path.abspath(args.book)
    record = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "rounds": args.rounds, "scripts": {}, "notebooks": {}}
    print(f"{args.rounds} alternated rounds; median (slowest / fastest)\n")
    print("| run | book | xpnet-book | speed-up | target met |")
    print("| --- | ---: | ---: | ---: | --- |")
    targets = [] if args.no_scripts else [(p, False) for p in scripts(book, args.k)]
    if args.notebooks:
        targets += [(write_notebook(book, c), True) for c in NOTEBOOK_CELLS if args.k in c]
    for path, notebook in targets:
        label = os.path.relpath(path, book) + (" (notebook: " + ", ".join(
            NOTEBOOK_CELLS[os.path.basename(os.path.dirname(path))]) + ")" if notebook else "")
        times = measure(path, notebook, args.rounds)
        record["notebooks" if notebook else "scripts"][label] = times
        print(row(label, times), flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
