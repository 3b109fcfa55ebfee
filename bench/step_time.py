"""One implementation's training step, timed in a process of its own, on the CPU or a GPU.

    python bench/step_time.py IMPL MODEL BATCH [STEPS] [DEVICE]

IMPL is xpnet or torch; MODEL and the step are bench_training.py's (forward,
backward, Adam; float32, random data); DEVICE is cpu (default) or gpu. Each
step is timed from a synchronized device to a synchronized device (on a GPU
the clock is read only after the GPU is done), after warm-up steps (xpnet's
first work on NumPy and its Numba kernels' loading, compilation, caches, the
memory pool). Prints one JSON line: the median, fastest and slowest step in
ms, and the process's peak RSS in MiB (libraries and data included).
``bench/compare_steps.py`` runs xpnet and PyTorch alternately with it.
"""
import json
import sys
import time

from probe import _rss_mib, _warm_up


def _xpnet_step(model, batch, device):
    import xpnet
    from bench_training import train_step
    from torch_nets import random_batch
    device = xpnet.set_device(device)
    return train_step(model, "xpnet", *map(device.send, random_batch(model, batch))), \
        device.synchronize


def _torch_step(model, batch, device):
    import torch
    from torch_nets import random_batch, torch_model, torch_step
    where = "cuda" if device == "gpu" else "cpu"
    x, t = (torch.from_numpy(a).to(where) for a in random_batch(model, batch))
    sync = torch.cuda.synchronize if where == "cuda" else (lambda: None)
    return torch_step(torch, torch_model(torch, model).to(where), x, t), sync


def main(impl, model, batch, steps=20, device="cpu"):
    step, sync = (_xpnet_step if impl == "xpnet" else _torch_step)(model, int(batch), device)
    _warm_up(step, most=20 if impl == "xpnet" else 2)
    sync()
    times = []
    for _ in range(int(steps)):
        start = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(json.dumps({"impl": impl, "model": model, "batch": int(batch), "device": device,
                      "median_ms": times[len(times) // 2], "min_ms": times[0],
                      "max_ms": times[-1], "peak_rss_mib": _rss_mib("VmHWM")}))


if __name__ == "__main__":
    main(*sys.argv[1:])
