"""Run folders: where one training run keeps its checkpoint, metrics and plots.

Each run gets a folder of its own (``runs/simple_convnet-mnist``, then
``runs/simple_convnet-mnist-2``, ...), so a new run never overwrites an old
one; ``latest_run`` finds the one to resume. Everything is written
atomically, so a run killed at any moment leaves complete files behind.
"""
import csv
import json
import os
import re

from .files import atomic_write

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.json"


def holds_run(folder):
    """True when ``folder`` holds a run's checkpoint or metrics."""
    return any(os.path.exists(os.path.join(folder, name)) for name in (CHECKPOINT, METRICS))


def new_run_folder(root, name):
    """``root/name``, or ``root/name-2``, ``-3``, ...: the first that holds no run."""
    candidate, n = os.path.join(root, name), 1
    while holds_run(candidate):
        n += 1
        candidate = os.path.join(root, f"{name}-{n}")
    return candidate


def latest_run(root, name=None):
    """The folder under ``root`` whose checkpoint was written last (of ``name``'s runs if given)."""
    pattern = re.compile(rf"{re.escape(name)}(-\d+)?$") if name else None
    best, newest = None, None
    for entry in os.scandir(root) if os.path.isdir(root) else ():
        checkpoint = os.path.join(entry.path, CHECKPOINT)
        if pattern and not pattern.match(entry.name) or not os.path.isfile(checkpoint):
            continue
        written = os.stat(checkpoint).st_mtime_ns
        if newest is None or written > newest:
            best, newest = entry.path, written
    return best


def history(trainer):
    """The trainer's history as plain lists: loss per step, sampled accuracies per epoch."""
    return {"train_loss": list(trainer.train_loss_list), "train_acc": list(trainer.train_acc_list),
            "test_acc": list(trainer.test_acc_list)}


def epoch_mean_losses(trainer):
    """The mean training loss of each finished epoch."""
    per_epoch = trainer.iter_per_epoch
    losses = trainer.train_loss_list
    return [sum(losses[e * per_epoch:(e + 1) * per_epoch]) / per_epoch
            for e in range(len(losses) // per_epoch)]


def write_metrics(folder, trainer, summary):
    """metrics.json (the summary and the whole history) and metrics.csv (one row per epoch)."""
    scored = {split: _scored(len(x), trainer.evaluate_sample_num_per_epoch)
              for split, x in (("train", trainer.x_train), ("test", trainer.x_test))}
    record = dict(summary, accuracy_samples_per_epoch=scored, history=history(trainer))
    with atomic_write(os.path.join(folder, METRICS), "w") as f:
        json.dump(record, f, indent=1)
    with atomic_write(os.path.join(folder, "metrics.csv"), "w") as f:
        w = csv.writer(f)
        w.writerow(["epoch", "mean_train_loss", "train_acc", "test_acc", "train_samples_scored",
                    "test_samples_scored"])
        rows = zip(epoch_mean_losses(trainer), trainer.train_acc_list, trainer.test_acc_list)
        for epoch, (loss, train_acc, test_acc) in enumerate(rows, start=1):
            w.writerow([epoch, loss, train_acc, test_acc, scored["train"], scored["test"]])


def _scored(n, sample):
    return n if sample is None else min(n, sample)


def accuracy_labels(trainer):
    """'train' and 'test', with how many samples were scored where not all of them were."""
    labels = []
    for split, x in (("train", trainer.x_train), ("test", trainer.x_test)):
        scored = _scored(len(x), trainer.evaluate_sample_num_per_epoch)
        labels.append(split if scored == len(x) else f"{split} ({scored:,} of {len(x):,} sampled)")
    return labels


def write_plots(folder, trainer):
    """loss.png and accuracy.png; returns False (writing nothing) when no epoch has finished."""
    if not trainer.test_acc_list:
        return False
    from .plots import plot_history
    plot_history(history(trainer), trainer.iter_per_epoch, folder, accuracy_labels(trainer))
    return True
