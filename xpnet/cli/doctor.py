"""``xpnet doctor`` (also ``python -m xpnet.doctor``): is this machine ready for xpnet?

Prints versions and devices, checks every kernel of every device against
xpnet's NumPy code, trains SimpleConvNet 20 steps on each device and compares
them, times a step, and ends with one verdict line. Exits 0 when all is
well, 1 with what to do otherwise. Without CuPy the CPU alone is checked,
unless a GPU is asked for (``--device gpu`` or XPNET_DEVICE=gpu); a GPU that
was asked for, or a CuPy that is installed but cannot use CUDA, is a failure.
"""
import os
import sys

from .. import diagnostics
from .parser import Parser


def build_parser():
    p = Parser(prog="xpnet doctor", description="Check this machine for xpnet: versions, "
               "devices, every kernel, and 20 training steps on each device compared.")
    p.add_argument("--device", default=None,
                   help="gpu: fail when no GPU works; cpu: check the CPU only (default: "
                        "$XPNET_DEVICE; else every device found)")
    p.add_argument("--steps", type=int, default=20, help="training steps on each device")
    return p


def doctor(args, say=print):
    """Run the checks, printing as they go; returns the list of problems (empty: all is well)."""
    wanted = (args.device or os.environ.get("XPNET_DEVICE") or "auto").lower()
    problems = []
    say("versions: " + ", ".join(f"{k} {v or '-'}" for k, v in diagnostics.versions().items()))
    devices = ["cpu"]
    if wanted != "cpu":
        report, why = diagnostics.gpus()
        if report:
            say(f"CuPy {report['cupy']}, CUDA runtime {report['cuda_runtime']}, driver "
                f"{report['cuda_driver']}")
            for d in report["devices"]:
                say(f"  {d['device']}: {d['name']}, {d['memory_gib']} GiB")
                devices.append(d["device"])
        else:
            say(f"GPU: none ({why})")
            if wanted.startswith(("gpu", "cuda")) or diagnostics.cupy_installed():
                problems.append(f"no GPU: {why}")
        if report and not report["devices"]:
            problems.append("CuPy sees no CUDA device: check nvidia-smi and CUDA_VISIBLE_DEVICES")
    results = {}
    for device in devices:
        worst = diagnostics.check_kernels(device)
        bad = [name for name, diff in worst if not diff <= diagnostics.KERNEL_RTOL]
        say(f"{device}: {len(worst)} kernels " + ("agree with NumPy's code" if not bad else
                                                   f"DISAGREE: {', '.join(bad)}"))
        if bad:
            problems.append(f"{device}'s kernels {', '.join(bad)} disagree with NumPy's code: "
                            f"report it with this output")
        results[device] = diagnostics.train_steps(device, steps=args.steps)
        losses = results[device][0]
        seconds = diagnostics.train_steps(device, steps=5, dtype="float32")[2]
        say(f"{device}: {args.steps} SimpleConvNet steps (float64), loss {losses[0]:.4f} -> "
            f"{losses[-1]:.4f}; a float32 step of 100 images takes {seconds * 1000:.1f} ms")
    for device in devices[1:]:
        difference = diagnostics.compare_training(results["cpu"], results[device])
        agree = difference <= diagnostics.TRAINING_RTOL
        say(f"{device} against cpu: largest relative difference {difference:.1e} "
            f"({'agree' if agree else 'DISAGREE'})")
        if not agree:
            problems.append(f"training on {device} differs from the CPU by {difference:.1e}: "
                            f"report it with this output")
    if problems:
        say("xpnet doctor: FAILED: " + "; ".join(problems))
    else:
        say(f"xpnet doctor: OK: {', '.join(devices)} ready"
            + ("" if len(devices) > 1 else " (no GPU: pip install cupy-cuda12x on a machine "
                                            "with an NVIDIA GPU to add it)"))
    return problems


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    return 1 if doctor(args) else 0


def console():
    """``xpnet SUBCOMMAND``: ``doctor`` is the one there is."""
    if sys.argv[1:2] != ["doctor"]:
        print("usage: xpnet doctor [--device DEVICE] [--steps N]", file=sys.stderr)
        return 2
    return main(sys.argv[2:])
