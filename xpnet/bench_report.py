"""``xpnet-bench-report``: turn a pytest-benchmark JSON file into a Markdown table and a chart.

``python -m xpnet.bench_report --run`` (from the repository root) runs the
suite in ``bench/`` with timing on, writes ``bench-report/results.json``, then
``report.md`` and ``report.png`` beside it. Without ``--run`` it renders an
existing JSON file.

PyTorch's rows run in a pytest process of their own, never in the one that
times xpnet and the book: PyTorch brings its own OpenMP runtime, and two in
one process change the speed of both. The two processes alternate
``--repeat`` times; each benchmark's row is the run whose median is the
median of its runs' medians.

The "book" rows time the book's own code from a checkout of its repository
(``--book DIR``, or ``XPNET_BOOK_DIR``; bench/book_code.py); without one they
are skipped. Columns: the median; "vs book" = book's median / this one (how
many times faster than the book's code); "vs PyTorch" likewise against PyTorch's
row; "÷ backprop" = this median / backprop's (what a numerical gradient costs
in backprop passes); images/s where a row trains on images; peak RSS of a
fresh process doing the training step (libraries included). Two more tables
come from whole processes: the default train.py job against the same job in
PyTorch (wall time, test accuracy), and xpnet's step with PyTorch imported
first or after, against the same process without it.
"""
import json
import os
import subprocess
import sys

from .cli.common import run
from .cli.parser import Parser
from .errors import XpnetError
from .files import atomic_write

IMPL_ORDER = {"xpnet": 0, "xpnet row-major col": 1, "book": 2, "torch": 3, "backprop": 4}


def _rows(results, table=None):
    """Per benchmark of ``table`` (None: the main one): case, device, impl, median (s), info."""
    rows = []
    for b in results["benchmarks"]:
        info = b.get("extra_info", {})
        if info.get("table") != table:
            continue
        rows.append({"case": info.get("case", b.get("group") or b["name"]),
                     "device": info.get("device", "?"), "impl": info.get("impl", "xpnet"),
                     "median": b["stats"]["median"], "info": info})
    rows.sort(key=lambda r: (r["case"], r["device"], IMPL_ORDER.get(r["impl"], 9)))
    return rows


def _seconds(value):
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.1f} µs"


def _ratio(numerator, denominator):
    return f"{numerator / denominator:.2f}×" if numerator and denominator else ""


def _mib(info):
    return f"{info['peak_rss_mib']:,.0f} MiB" if "peak_rss_mib" in info else ""


def _median(values):
    return sorted(values)[(len(values) - 1) // 2]


def end_to_end(results):
    """Markdown lines: each whole job's wall time and test accuracy, xpnet's ÷ PyTorch's."""
    rows = _rows(results, "end to end")
    if not rows:
        return []
    torch = {r["device"]: r["median"] for r in rows if r["impl"] == "torch"}
    lines = ["", "The default `python train.py` job, and the same job written in PyTorch "
             "(bench/torch_nets.py), each a fresh process timed from start to exit:", "",
             "| device | implementation | epochs | wall time | test accuracy | ÷ PyTorch |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        ratio = _ratio(r["median"], torch.get(r["device"])) if r["impl"] != "torch" else ""
        lines.append(f"| {r['device']} | {r['impl']} | {r['info'].get('epochs', '?')} | "
                     f"{_seconds(r['median'])} | {100 * r['info']['test_accuracy']:.2f}% | {ratio} |")
    return lines


def coexistence(results):
    """Markdown lines: xpnet's step time with PyTorch imported never / first / after."""
    lines = []
    for r in _rows(results, "coexistence"):
        alone = _median(r["info"]["never"])
        lines += ["", f"xpnet's {r['case'][len('coexistence '):]} training step beside PyTorch "
                  "(each a fresh process, the orders alternated; median of the processes' "
                  "medians):", "", "| PyTorch imported | processes | step | ÷ alone |",
                  "| --- | ---: | ---: | ---: |"]
        for order in ("never", "first", "after"):
            values = r["info"][order]
            lines.append(f"| {order} | {len(values)} | {_seconds(_median(values))} | "
                         f"{_ratio(_median(values), alone)} |")
    return lines


def markdown(results):
    """The report as Markdown: the machine, one table row per benchmark, the whole-process tables."""
    rows = _rows(results)
    by_key = {(r["case"], r["device"], r["impl"]): r["median"] for r in rows}
    machine = results.get("machine_info", {})
    cpu = machine.get("cpu", {})
    lines = [
        "| case | device | implementation | median | vs book | vs PyTorch | ÷ backprop | images/s "
        "| peak RSS |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        key = (r["case"], r["device"])
        book, torch, backprop = (by_key.get(key + (impl,)) for impl in ("book", "torch", "backprop"))
        images = r["info"].get("images")
        lines.append("| " + " | ".join([
            r["case"], r["device"], r["impl"], _seconds(r["median"]),
            _ratio(book, r["median"]) if r["impl"] != "book" else "",
            _ratio(torch, r["median"]) if r["impl"] != "torch" else "",
            _ratio(r["median"], backprop) if r["impl"] != "backprop" else "",
            f"{images / r['median']:.0f}" if images else "", _mib(r["info"])]) + " |")
    lines += end_to_end(results) + coexistence(results)
    header = (f"Machine: {cpu.get('brand_raw', machine.get('processor', '?'))}, "
              f"{cpu.get('count', '?')} cores, Python {machine.get('python_version', '?')}; "
              f"{results.get('datetime', '')}; commit "
              f"{results.get('commit_info', {}).get('id', '?')[:10]}.")
    if rows and not any(r["impl"] == "book" for r in rows):
        header += (" No \"book\" rows: they time the book's own code, from a checkout of its "
                   "repository named with --book DIR.")
    return header + "\n\n" + "\n".join(lines) + "\n"


def chart(results, path):
    """A PNG: how many times faster than the book each xpnet and PyTorch row is (log scale)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = _rows(results)
    by_key = {(r["case"], r["device"], r["impl"]): r["median"] for r in rows}
    bars = [(f"{r['case']} [{r['device']}, {r['impl']}]", by_key[(r["case"], r["device"], "book")]
             / r["median"]) for r in rows
            if r["impl"] in ("xpnet", "torch") and (r["case"], r["device"], "book") in by_key]
    fig, ax = plt.subplots(figsize=(10, 0.28 * len(bars) + 1.5))
    if bars:
        labels, values = zip(*bars)
        colors = ["tab:blue" if "xpnet]" in label else "tab:orange" for label in labels]
        ax.barh(range(len(bars)), values, color=colors)
        ax.set_yticks(range(len(bars)), labels, fontsize=7)
        ax.set_xscale("log")
        ax.axvline(1.0, color="k", lw=0.8)
        ax.invert_yaxis()
    ax.set_xlabel("times faster than the book's code (blue: xpnet, orange: PyTorch)")
    ax.set_title("xpnet benchmarks")
    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)


def render(json_path, out_dir):
    """report.md and report.png in ``out_dir`` from a pytest-benchmark JSON file."""
    try:
        with open(json_path) as f:
            results = json.load(f)
    except FileNotFoundError:
        raise XpnetError(f"no benchmark results at {json_path}: run the suite with --run (from "
                         f"the repository's root), or name a results file with --json") from None
    except (OSError, ValueError) as e:
        raise XpnetError(f"{json_path}: not a pytest-benchmark JSON file ({e})") from None
    with atomic_write(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(markdown(results))
    chart(results, os.path.join(out_dir, "report.png"))


# Which benchmarks each pytest process runs: PyTorch's apart from everything else.
PROCESSES = ("not torch", "torch")


def merge(parts):
    """One results dict from several runs: per benchmark, the run with the median median.

    Lists in extra_info (one value per child process, as in the coexistence row) are
    pooled across the runs."""
    runs = {}
    for part in parts:
        for bench in part["benchmarks"]:
            runs.setdefault(bench.get("fullname", bench["name"]), []).append(bench)
    merged = dict(parts[0])
    merged["benchmarks"] = []
    for name, benches in runs.items():
        benches = sorted(benches, key=lambda b: b["stats"]["median"])
        chosen = dict(benches[(len(benches) - 1) // 2])
        pooled = {key: [v for b in benches for v in b["extra_info"][key]]
                  for key, value in chosen.get("extra_info", {}).items() if isinstance(value, list)}
        chosen["extra_info"] = dict(chosen.get("extra_info", {}), **pooled, runs=len(benches),
                                    run_medians=[b["stats"]["median"] for b in benches])
        merged["benchmarks"].append(chosen)
    return merged


def run_suite(args, pytest_args, json_path, env):
    """The suite, PyTorch's rows in their own processes, alternating; 0 or pytest's exit code."""
    selection, rest = None, list(pytest_args)
    if "-k" in rest:  # the user's selection, combined with each process's
        i = rest.index("-k")
        selection = rest[i + 1]
        del rest[i:i + 2]
    parts = []
    for repeat in range(args.repeat):
        for which in PROCESSES:
            expression = f"({selection}) and ({which})" if selection else which
            part = f"{json_path}.{repeat}.{PROCESSES.index(which)}"
            code = subprocess.call([sys.executable, "-m", "pytest", args.bench, "-q",
                                    "--benchmark-enable", f"--benchmark-json={part}", "-k",
                                    expression, *rest], env=env)
            if code not in (0, 5):  # 5: no benchmark selected (e.g. no PyTorch)
                return code
            if os.path.exists(part):
                with open(part) as f:
                    parts.append(json.load(f))
                os.unlink(part)
    if not parts:
        raise XpnetError("no benchmark ran: check the -k selection")
    with atomic_write(json_path, "w") as f:
        json.dump(merge(parts), f, indent=1)
    return 0


def _environment(args):
    """The benchmarks' environment: XPNET_BOOK_DIR from --book, checked, when given."""
    env = dict(os.environ)
    if args.book:
        if not os.path.isfile(os.path.join(args.book, "common", "util.py")):
            raise XpnetError(f"--book {args.book}: not a checkout of the book's repository "
                             f"(oreilly-japan/deep-learning-from-scratch): no common/util.py there")
        env["XPNET_BOOK_DIR"] = os.path.abspath(args.book)
    return env


def report(args, pytest_args):
    json_path = args.json or os.path.join(args.out, "results.json")
    if args.run:
        if not os.path.isdir(args.bench):
            raise XpnetError(f"no benchmark suite at {args.bench}: the suite ships with xpnet's "
                             f"repository, not with the installed package; run this from a "
                             f"checkout's root, or name the folder with --bench")
        if args.repeat < 1:
            raise XpnetError(f"--repeat must be >= 1, got {args.repeat}")
        env = _environment(args)
        os.makedirs(args.out, exist_ok=True)
        code = run_suite(args, pytest_args, json_path, env)
        if code:
            return code
    render(json_path, args.out)
    print(f"wrote {os.path.join(args.out, 'report.md')} and {os.path.join(args.out, 'report.png')}")
    return 0


def main(argv=None):
    p = Parser(prog="xpnet-bench-report", description=__doc__.split("\n\n")[0])
    p.add_argument("--json", help="pytest-benchmark JSON to read or write (default: OUT/results.json)")
    p.add_argument("--run", action="store_true", help="run the benchmark suite first")
    p.add_argument("--bench", default="bench", help="the benchmark suite's folder")
    p.add_argument("--repeat", type=int, default=3,
                   help="with --run: how many times the xpnet and PyTorch processes alternate")
    p.add_argument("--out", default="bench-report", help="output directory")
    p.add_argument("--book", help="with --run: a checkout of the book's repository, whose own "
                   "code the \"book\" rows time (default: $XPNET_BOOK_DIR; none: no book rows)")
    args, pytest_args = p.parse_known_args(argv)  # the rest goes to pytest, e.g. -k simple_convnet
    return run(p.prog, report, args, pytest_args)


if __name__ == "__main__":
    sys.exit(main())
