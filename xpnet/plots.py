"""PNG plots of a training run (matplotlib, headless). Needs the ``plot`` extra."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .files import atomic_write  # noqa: E402


def _save(fig, path):
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)


def plot_history(history, steps_per_epoch, out):
    """Write loss.png (per step, with epoch ticks) and accuracy.png (per epoch) into ``out``."""
    fig, ax = plt.subplots(figsize=(6, 4))
    steps = [i / steps_per_epoch for i in range(len(history["train_loss"]))]
    ax.plot(steps, history["train_loss"], lw=0.8)
    ax.set(xlabel="epoch", ylabel="training loss", title="Loss")
    ax.grid(alpha=0.3)
    _save(fig, os.path.join(out, "loss.png"))
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = range(1, len(history["train_acc"]) + 1)
    ax.plot(epochs, history["train_acc"], "o-", label="train")
    ax.plot(epochs, history["test_acc"], "s--", label="test")
    ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    _save(fig, os.path.join(out, "accuracy.png"))
