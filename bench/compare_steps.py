"""xpnet's training step against PyTorch's, each in fresh processes, alternated.

    python bench/compare_steps.py MODEL BATCH [--rounds 5] [--steps 10] [--device cpu]
                                  [--torch-python PYTHON]

Each round runs ``bench/step_time.py`` once for xpnet and once for PyTorch
(which may live in another environment: ``--torch-python``), so that a slow
spell of a shared machine falls on both. Prints every round, then per
implementation the median of the rounds' medians, the spread (slowest round
÷ fastest), the peak RSS, and xpnet ÷ PyTorch.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def one(python, impl, args):
    command = [python, os.path.join(HERE, "step_time.py"), impl, args.model, str(args.batch),
               str(args.steps), args.device]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=HERE).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("batch", type=int)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=10, help="timed steps per process")
    p.add_argument("--device", default="cpu", choices=("cpu", "gpu"))
    p.add_argument("--torch-python", default=sys.executable,
                   help="the Python that has torch installed")
    args = p.parse_args(argv)
    runs = {"xpnet": [], "torch": []}
    for r in range(args.rounds):
        for impl, python in (("xpnet", sys.executable), ("torch", args.torch_python)):
            runs[impl].append(one(python, impl, args))
        print(f"round {r + 1}: " + ", ".join(
            f"{impl} {rows[-1]['median_ms']:.1f} ms ({rows[-1]['peak_rss_mib']:.0f} MiB)"
            for impl, rows in runs.items()), flush=True)
    summary = {}
    for impl, rows in runs.items():
        medians = [row["median_ms"] for row in rows]
        summary[impl] = {"median_ms": statistics.median(medians),
                         "spread": max(medians) / min(medians),
                         "peak_rss_mib": statistics.median(row["peak_rss_mib"] for row in rows)}
        print(f"{impl}: median {summary[impl]['median_ms']:.1f} ms, rounds "
              f"{min(medians):.1f}-{max(medians):.1f} (spread {summary[impl]['spread']:.2f}), "
              f"peak RSS {summary[impl]['peak_rss_mib']:.0f} MiB")
    ratio = summary["xpnet"]["median_ms"] / summary["torch"]["median_ms"]
    print(f"xpnet / PyTorch: {ratio:.2f}x time, "
          f"{summary['xpnet']['peak_rss_mib'] / summary['torch']['peak_rss_mib']:.2f}x peak RSS")
    print(json.dumps({"model": args.model, "batch": args.batch, "rounds": runs,
                      "summary": summary, "time_ratio": ratio}))


if __name__ == "__main__":
    main()
