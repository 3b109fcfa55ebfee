"""PNG plots of a training run (matplotlib, headless). Needs the ``plot`` extra."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .files import atomic_write  # noqa: E402


def _save(fig, path):
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)


def plot_history(history, steps_per_epoch, out, accuracy_labels=("train", "test")):
    """Write loss.png (per step, x in epochs) and accuracy.png (per epoch) into ``out``."""
    epochs = len(history["test_acc"])
    fig, ax = plt.subplots(figsize=(6, 4))
    steps = [(i + 1) / steps_per_epoch for i in range(len(history["train_loss"]))]
    ax.plot(steps, history["train_loss"], lw=0.8)
    ax.set(xlabel="epoch", ylabel="training loss (each step)", title="Loss",
           xlim=(0, max(len(steps) / steps_per_epoch, 1)))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(alpha=0.3)
    _save(fig, os.path.join(out, "loss.png"))
    fig, ax = plt.subplots(figsize=(6, 4))
    x = range(1, epochs + 1)
    ax.plot(x, history["train_acc"], "o-", label=accuracy_labels[0])
    ax.plot(x, history["test_acc"], "s--", label=accuracy_labels[1])
    ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy after each epoch", ylim=(0, 1),
           xlim=(0.5, epochs + 0.5))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    _save(fig, os.path.join(out, "accuracy.png"))
