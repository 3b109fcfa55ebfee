"""``python -m xpnet.book.conformance BOOK``: every chapter script of the book, both ways, side by side.

BOOK is a checkout of the book's repository (oreilly-japan/deep-learning-from-scratch)
whose ``dataset/`` folder holds the MNIST files. Each ``chNN/*.py`` runs in its own
folder twice, seeded alike (``np.random.seed(SEED)`` first): with ``python``, on the
book's own packages, and with ``xpnet-book``. The table says, per script, whether
xpnet printed the book's numbers, the largest relative difference between the two
outputs, both wall times and the speed-up.

A script passes when every number agrees within 1e-6 (relative), or, for a script
that trains long enough for float64 rounding to grow into different predictions,
when its last accuracies agree within half a percentage point.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time

from .compare import compare

SEED = 0
ACCURACY_TOLERANCE = 0.005
_SEEDED = "import sys, runpy, numpy; numpy.random.seed({seed}); sys.argv = [{script!r}]; " \
          "runpy.run_path({script!r}, run_name='__main__')"


def scripts(book):
    """The chapter scripts, chapter by chapter."""
    return sorted(glob.glob(os.path.join(book, "ch0*", "*.py")))


def run(command, folder, timeout):
    """(stdout, seconds, return code) of one run."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    env.pop("PYTHONPATH", None)
    start = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, cwd=folder, env=env,
                                timeout=timeout)
    except subprocess.TimeoutExpired:
        return "", time.perf_counter() - start, "timeout"
    return result.stdout, time.perf_counter() - start, result.returncode


def last_accuracies(text):
    """The numbers in [0, 1] on the last output line that mentions an accuracy."""
    lines = [line for line in text.splitlines() if re.search(r"acc", line, re.I)]
    if not lines:
        return None
    return [float(n) for n in re.findall(r"\d*\.\d+|\d+", lines[-1]) if 0 <= float(n) <= 1]


def verdict(book_out, xpnet_out):
    """('ok' or why not, largest relative difference)."""
    worst, disagreement = compare(book_out, xpnet_out)
    if disagreement is None:
        return "ok", worst
    a, b = last_accuracies(book_out), last_accuracies(xpnet_out)
    if a and b and len(a) == len(b) and all(abs(x - y) <= ACCURACY_TOLERANCE
                                            for x, y in zip(a, b)):
        return "ok (final accuracies)", worst
    return disagreement, worst


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m xpnet.book.conformance", description=__doc__)
    p.add_argument("book", help="a checkout of the book's repository")
    p.add_argument("-k", default="", help="only scripts whose path contains this")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per run (default 3600)")
    p.add_argument("--seed", type=int, default=SEED, help="np.random.seed before each script")
    args = p.parse_args(argv)
    book = os.path.abspath(args.book)
    rows = []
    print("| script | result | max rel. difference | book | xpnet-book | speed-up |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for path in scripts(book):
        if args.k not in path:
            continue
        folder, name = os.path.split(path)
        seeded = _SEEDED.format(seed=args.seed, script=name)
        book_out, book_s, book_rc = run([sys.executable, "-c", seeded], folder, args.timeout)
        xp_out, xp_s, xp_rc = run([sys.executable, "-m", "xpnet.book", "--seed", str(args.seed),
                                   name], folder, args.timeout)
        if book_rc != 0 or xp_rc != 0:
            result, worst = f"exit: book {book_rc}, xpnet-book {xp_rc}", float("nan")
        else:
            result, worst = verdict(book_out, xp_out)
        rows.append((os.path.relpath(path, book), result, worst, book_s, xp_s))
        print(f"| {rows[-1][0]} | {result} | {worst:.1e} | {book_s:.1f} s | {xp_s:.1f} s | "
              f"{book_s / xp_s:.1f}× |", flush=True)
    passed = sum(r[1].startswith("ok") for r in rows)
    print(f"\n{passed} of {len(rows)} scripts print the book's numbers")
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
