"""Time to accuracy on Fashion-MNIST: xpnet-train's recipe against the same recipe in PyTorch.

    python bench/time_to_accuracy.py --torch-python PY [--seeds 0 1 2] [--out DIR]
        -- --epochs 6 --lr 0.003 --schedule one_cycle --crop 2 --flip --batch-size 100

Everything after ``--`` is the recipe, as xpnet-train takes it (the network is
bench/fashion_net.py, the optimizer adamw; bench/torch_recipe.py understands
--epochs, --lr, --batch-size, --schedule, --warmup, --decoupled-decay, --crop and
--flip). For each seed, xpnet draws the initial weights (in a process of its own),
then xpnet-train and PyTorch run the recipe from them, each in a fresh process,
their order alternating from seed to seed. A run's time is its wall time from
process start to exit: data loading, compilation and every evaluation included.
Each epoch line's test accuracy (a fixed sample of test images) is stamped with the
seconds since its process started; the final accuracy uses all 10,000 test images.

Writes DIR/results.json, DIR/report.md (a table per run and the medians) and
DIR/accuracy.png (test accuracy against seconds, every run drawn).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NETWORK = os.path.join(HERE, "fashion_net.py")
EPOCH_LINE = re.compile(r"^epoch (\d+)/\d+: .*test(?: \([^)]*\))? ([0-9.]+)")
FINAL_LINE = re.compile(r"test accuracy ([0-9.]+) on all")

INIT = """
import sys, xpnet, numpy as np
from xpnet.models.model_file import build_from_file
xpnet.set_dtype("float32")
xpnet.seed(int(sys.argv[2]))
net = build_from_file(sys.argv[3], (1, 28, 28), 10)
np.savez(sys.argv[1], **{k: xpnet.asnumpy(v) for k, v in net.params.items()})
"""


def timed_run(command):
    """(seconds to exit, [(seconds, epoch test accuracy)], final accuracy) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    curve = []
    for line in proc.stderr:
        match = EPOCH_LINE.match(line)
        if match:
            curve.append((time.perf_counter() - start, float(match.group(2))))
    out = proc.stdout.read()
    if proc.wait():
        raise SystemExit(f"failed: {' '.join(command)}\n{out}")
    seconds = time.perf_counter() - start
    final = FINAL_LINE.search(out)
    return seconds, curve, float(final.group(1)) if final else None


def run_seed(seed, recipe, torch_python, folder, torch_first):
    init = os.path.join(folder, f"init{seed}.npz")
    subprocess.run([sys.executable, "-c", INIT, init, str(seed), NETWORK], check=True)
    commands = {
        "xpnet": [sys.executable, "train.py", "--dataset", "fashion-mnist", "--model", NETWORK,
                  "--optimizer", "adamw", "--seed", str(seed), "--no-progress", "--out",
                  os.path.join(folder, f"xpnet{seed}"), *recipe],
        "torch": [torch_python, os.path.join(HERE, "torch_recipe.py"), "--init", init,
                  "--seed", str(seed), *recipe],
    }
    order = ("torch", "xpnet") if torch_first else ("xpnet", "torch")
    results = {}
    for impl in order:
        seconds, curve, final = timed_run(commands[impl])
        results[impl] = {"seconds": seconds, "curve": curve, "final_accuracy": final}
        print(f"seed {seed} {impl}: {seconds:.1f} s, final test accuracy {final}", flush=True)
    return results


def report(runs, target, recipe):
    lines = [f"Recipe: `{' '.join(recipe)}` (bench/fashion_net.py, adamw); target "
             f"{target:.1%} on all 10,000 test images.", "",
             "| seed | xpnet s | xpnet accuracy | PyTorch s | PyTorch accuracy | xpnet ÷ PyTorch |",
             "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for seed, r in runs.items():
        x, t = r["xpnet"], r["torch"]
        lines.append(f"| {seed} | {x['seconds']:.1f} | {x['final_accuracy']:.4f} | "
                     f"{t['seconds']:.1f} | {t['final_accuracy']:.4f} | "
                     f"{x['seconds'] / t['seconds']:.2f} |")
    medians = {impl: statistics.median(r[impl]["seconds"] for r in runs.values())
               for impl in ("xpnet", "torch")}
    reached = {impl: all(r[impl]["final_accuracy"] >= target for r in runs.values())
               for impl in ("xpnet", "torch")}
    lines += ["", f"Median wall time: xpnet {medians['xpnet']:.1f} s, PyTorch "
              f"{medians['torch']:.1f} s: **{medians['xpnet'] / medians['torch']:.2f}×**. "
              f"Every run at or above the target: xpnet {reached['xpnet']}, PyTorch "
              f"{reached['torch']}."]
    return "\n".join(lines) + "\n"


def plot(runs, path):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for impl, color in (("xpnet", "tab:blue"), ("torch", "tab:orange")):
        for i, r in enumerate(runs.values()):
            curve = r[impl]["curve"]
            ax.plot([c[0] for c in curve], [c[1] for c in curve], color=color, marker=".",
                    label=("xpnet" if impl == "xpnet" else "PyTorch") if i == 0 else None)
            ax.plot([r[impl]["seconds"]], [r[impl]["final_accuracy"]], color=color, marker="*",
                    markersize=10)
    ax.set_xlabel("seconds since the process started")
    ax.set_ylabel("test accuracy (epochs: sample; stars: all 10,000)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=120, bbox_inches="tight")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--torch-python", required=True)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--target", type=float, default=0.92)
    p.add_argument("--out", default="tta-report")
    args, recipe = p.parse_args(argv[:split]), argv[split + 1:]
    os.makedirs(args.out, exist_ok=True)
    runs = {}
    with tempfile.TemporaryDirectory() as folder:
        for i, seed in enumerate(args.seeds):
            runs[seed] = run_seed(seed, recipe, args.torch_python, folder, torch_first=i % 2)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"recipe": recipe, "runs": runs}, f, indent=1)
    text = report(runs, args.target, recipe)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(text)
    plot(runs, os.path.join(args.out, "accuracy.png"))
    print(text)


if __name__ == "__main__":
    main()
