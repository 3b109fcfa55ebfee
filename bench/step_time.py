"""One implementation's GPU training step, timed in a process of its own.

    python bench/gpu_step.py IMPL MODEL BATCH [STEPS]

IMPL is xpnet or torch; MODEL and the step are bench_training.py's (forward,
backward, Adam; float32, random data). Each step is timed from a synchronized
device to a synchronized device (the clock is read only after the GPU is done),
after 5 warm-up steps (compilation, caches, the memory pool). Prints one JSON
line: the median, fastest and slowest step in ms.
"""
import json
import sys
import time


def _xpnet_step(model, batch):
    import xpnet
    from bench_training import train_step
    from torch_nets import random_batch
    device = xpnet.set_device("gpu")
    return train_step(model, "xpnet", *map(device.send, random_batch(model, batch))), \
        device.synchronize


def _torch_step(model, batch):
    import torch
    from torch_nets import random_batch, torch_model, torch_step
    x, t = (torch.from_numpy(a).cuda() for a in random_batch(model, batch))
    return torch_step(torch, torch_model(torch, model).cuda(), x, t), torch.cuda.synchronize


def main(impl, model, batch, steps=20):
    step, sync = (_xpnet_step if impl == "xpnet" else _torch_step)(model, int(batch))
    for _ in range(5):
        step()
    sync()
    times = []
    for _ in range(int(steps)):
        start = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(json.dumps({"impl": impl, "model": model, "batch": int(batch),
                      "median_ms": times[len(times) // 2], "min_ms": times[0],
                      "max_ms": times[-1]}))


if __name__ == "__main__":
    main(*sys.argv[1:])
