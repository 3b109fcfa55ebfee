"""Measurements that need a fresh process: the benchmarks run this file as a child.

    python bench/probe.py memory IMPL MODEL BATCH     peak RSS of training steps
    python bench/probe.py steps ORDER MODEL BATCH N   xpnet's step time, torch imported ORDER
    python bench/probe.py torch-train DATA.npz EPOCHS [DEVICE]
                                                      the default train.py job in PyTorch

IMPL is xpnet, book or torch; ORDER is never, first or after (PyTorch's import
relative to xpnet's). Each prints one JSON object as its last line. Peak RSS is
the process's (VmHWM): what the user's machine must hold, libraries included.
"""
import json
import sys
import time


def _rss_mib(field):
    """VmRSS or VmHWM (peak) of this process in MiB, from /proc (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _step(model, batch, impl="xpnet"):
    """xpnet's training step, or the book's (impl "book")."""
    import xpnet  # noqa: F401  (before NumPy: its thread settings)
    from bench_training import train_step
    from torch_nets import random_batch
    return train_step(model, impl, *random_batch(model, batch))


def _torch_step(model, batch):
    import torch
    from torch_nets import random_batch, torch_model, torch_step
    x, t = (torch.from_numpy(a) for a in random_batch(model, batch))
    return torch_step(torch, torch_model(torch, model), x, t)


def _warm_up(step, most=20):
    """Steps until xpnet has loaded its Numba kernels (a process's first work runs on NumPy,
    see xpnet.kernels.NUMPY_WORK_BEFORE_JIT) or ``most`` were done, then 3 more."""
    for _ in range(most):
        if "xpnet.kernels.cpu" in sys.modules:
            break
        step()
    for _ in range(3):
        step()


def memory(impl, model, batch):
    """Peak RSS over the process's life: its first steps (NumPy's, for xpnet) and steady ones."""
    step = _torch_step(model, batch) if impl == "torch" else _step(model, batch, impl)
    before = _rss_mib("VmRSS")
    _warm_up(step, most=20 if impl == "xpnet" else 0)
    return {"rss_before_mib": before, "peak_rss_mib": _rss_mib("VmHWM")}


def steps(order, model, batch, n):
    """Median time of n xpnet training steps (after the warm-up) with PyTorch loaded ``order``."""
    if order == "first":
        import torch  # noqa: F401
    step = _step(model, batch)
    if order == "after":
        import torch  # noqa: F401,F811
    _warm_up(step)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {"median_s": sorted(times)[n // 2]}


def torch_train(data_path, epochs, device="cpu"):
    import numpy as np
    import torch
    from torch_nets import train_job
    with np.load(data_path) as data:
        return {"test_accuracy": train_job(torch, dict(data), epochs, device=device)}


def main(argv):
    what, args = argv[0], argv[1:]
    if what == "memory":
        result = memory(args[0], args[1], int(args[2]))
    elif what == "steps":
        result = steps(args[0], args[1], int(args[2]), int(args[3]))
    elif what == "torch-train":
        result = torch_train(args[0], int(args[1]), *args[2:])
    else:
        raise SystemExit(f"probe.py: unknown measurement {what!r}; see the module docstring")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
