"""An xpnet-train recipe in PyTorch, for time-to-accuracy comparisons (bench/time_to_accuracy.py).

    python bench/torch_recipe.py --init INIT.npz --model fashion_net --epochs E --lr LR
        [--batch-size B] [--schedule one_cycle] [--warmup EPOCHS] [--decoupled-decay D]
        [--crop P] [--flip] [--seed S] [--eval-samples N]

The same network (bench/torch_nets.py), started from the weights xpnet drew
(INIT.npz, written by ``time_to_accuracy.py``), Adam with decoupled weight decay on
the weights only (torch.optim.AdamW, as xpnet's adamw), the learning rate multiplied
per step by the same schedule, random crops of zero-padded images and flips, each
epoch visiting every training image once. After each epoch it prints xpnet-train's
epoch line (the test accuracy on a fixed sample of ``--eval-samples`` images); at the
end the accuracy on every test image. Fashion-MNIST is read from the idx files of
$XPNET_DATA_DIR or Debian's /usr/share/datasets/fashion-mnist.

Nothing here imports xpnet: PyTorch's process must not get xpnet's thread settings.
The schedule's formulas are therefore written out again (xpnet/schedules.py).
"""
import argparse
import gzip
import math
import os
import sys

import numpy as np

FOLDERS = [os.environ.get("XPNET_DATA_DIR", ""), "/usr/share/datasets/fashion-mnist"]


def _idx(name):
    for folder in FOLDERS:
        path = os.path.join(folder, name)
        if folder and os.path.isfile(path):
            with gzip.open(path) as f:
                data = f.read()
            dims = data[3]
            shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
            return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)
    raise SystemExit(f"torch_recipe.py: {name} not found in {FOLDERS}")


def fashion_mnist():
    x_train, x_test = (_idx(f"{p}-images-idx3-ubyte.gz") for p in ("train", "t10k"))
    t_train, t_test = (_idx(f"{p}-labels-idx1-ubyte.gz") for p in ("train", "t10k"))
    scale = lambda x: (x.astype(np.float32) / 255.0)[:, None]  # noqa: E731
    return scale(x_train), t_train.astype(np.int64), scale(x_test), t_test.astype(np.int64)


def schedule_factor(kind, step, total, warmup):
    """xpnet.schedules.Schedule's factors (one_cycle: from 1/25 up over the warm-up, 30% of the
    run unless given, then down to 0; cosine with a linear warm-up; constant)."""
    if kind == "one_cycle":
        warmup = warmup or max(1, int(0.3 * total))
        if step < warmup:
            return 1 / 25 + (1 - 1 / 25) * step / warmup
        return max(0.0, (total - step) / (total - warmup))
    if step < warmup:
        return (step + 1) / warmup
    if kind == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(total - warmup, 1))))
    return 1.0


def augment(torch, x, pad, flip, generator):
    """Each image zero-padded by ``pad``, cropped back at a random place, flipped at random."""
    n, _, h, w = x.shape
    offsets = torch.randint(0, 2 * pad + 1, (2, n), generator=generator)
    flips = torch.rand(n, generator=generator) < 0.5 if flip else torch.zeros(n, dtype=bool)
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    rows = offsets[0][:, None] + torch.arange(h)
    columns = torch.where(flips[:, None], torch.arange(w - 1, -1, -1), torch.arange(w))
    columns = columns + offsets[1][:, None]
    return padded[torch.arange(n)[:, None, None], :, rows[:, :, None], columns[:, None, :]] \
        .permute(0, 3, 1, 2).contiguous()


def load_init(torch, net, path):
    """xpnet's initial parameters (W1, b1, gamma1, ...: in layer order) into ``net``."""
    with np.load(path) as saved:
        params = {k: saved[k] for k in saved.files}
    counts = {"W": 0, "gamma": 0}
    with torch.no_grad():
        for layer in net.modules():
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
                counts["W"] += 1
                weight = params[f"W{counts['W']}"]
                layer.weight.copy_(torch.from_numpy(weight.T if weight.ndim == 2 else weight))
                layer.bias.copy_(torch.from_numpy(params[f"b{counts['W']}"]))
            elif isinstance(layer, torch.nn.BatchNorm2d):
                counts["gamma"] += 1
                layer.weight.copy_(torch.from_numpy(params[f"gamma{counts['gamma']}"]))
                layer.bias.copy_(torch.from_numpy(params[f"beta{counts['gamma']}"]))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--init", required=True)
    p.add_argument("--model", default="fashion_net")
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--schedule", default="constant")
    p.add_argument("--warmup", type=float, default=0.0)
    p.add_argument("--decoupled-decay", type=float, default=0.01)
    p.add_argument("--crop", type=int, default=0)
    p.add_argument("--flip", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-samples", type=int, default=2000)
    args = p.parse_args(argv)
    import torch
    from torch_nets import accuracy, torch_model
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    x_train, t_train, x_test, t_test = map(torch.from_numpy, fashion_mnist())
    net = torch_model(torch, args.model)
    load_init(torch, net, args.init)
    weights = [q for name, q in net.named_parameters() if name.endswith("weight") and q.ndim > 1]
    others = [q for name, q in net.named_parameters() if not (name.endswith("weight")
                                                              and q.ndim > 1)]
    optimizer = torch.optim.AdamW([{"params": weights, "weight_decay": args.decoupled_decay},
                                   {"params": others, "weight_decay": 0.0}], lr=args.lr,
                                  eps=1e-7)
    steps = math.ceil(len(x_train) / args.batch_size)
    total, warmup = args.epochs * steps, round(args.warmup * steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: schedule_factor(args.schedule, k, total, warmup))
    loss_fn = torch.nn.CrossEntropyLoss()
    sample = torch.from_numpy(np.sort(np.random.default_rng(20161).choice(
        len(x_test), min(args.eval_samples, len(x_test)), replace=False)))
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(x_train), generator=generator)
        losses = []
        for i in range(0, len(order), args.batch_size):
            index = order[i:i + args.batch_size]
            x = x_train[index]
            if args.crop or args.flip:
                x = augment(torch, x, args.crop, args.flip, generator)
            optimizer.zero_grad()
            loss = loss_fn(net(x), t_train[index])
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.detach())
        test = accuracy(torch, net, x_test[sample], t_test[sample], chunk=1000)
        print(f"epoch {epoch}/{args.epochs}: mean loss {float(torch.stack(losses).mean()):.4f}, "
              f"test {test:.4f}", file=sys.stderr, flush=True)
    print(f"test accuracy {accuracy(torch, net, x_test, t_test, chunk=1000):.4f} on all {len(x_test):,} "
          "test images", flush=True)


if __name__ == "__main__":
    main()
