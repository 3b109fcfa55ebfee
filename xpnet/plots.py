"""Plots of a training run: PNG files for a run folder, or inline in a notebook. Needs ``plot``.

The files are drawn on matplotlib's ``Figure`` directly, without pyplot: no
window, no global backend switched, so importing this module in a notebook
leaves its inline plots as they were. ``show_history`` is the notebook's one
call: it draws through pyplot, where Jupyter and Colab show it under the cell.
"""
import os

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .files import atomic_write


def _save(fig, path):
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=100)


def _loss(ax, losses, steps_per_epoch):
    steps = [(i + 1) / steps_per_epoch for i in range(len(losses))]
    ax.plot(steps, losses, lw=0.8)
    ax.set(xlabel="epoch", ylabel="training loss (each step)", title="Loss",
           xlim=(0, max(len(steps) / steps_per_epoch, 1)))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(alpha=0.3)


def _accuracy(ax, history, labels):
    epochs = len(history["test_acc"])
    x = range(1, epochs + 1)
    ax.plot(x, history["train_acc"], "o-", label=labels[0])
    ax.plot(x, history["test_acc"], "s--", label=labels[1])
    ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy after each epoch", ylim=(0, 1),
           xlim=(0.5, epochs + 0.5))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")


def plot_history(history, steps_per_epoch, out, accuracy_labels=("train", "test")):
    """Write loss.png (per step, x in epochs) and accuracy.png (per epoch) into ``out``."""
    fig = Figure(figsize=(6, 4))
    _loss(fig.add_subplot(), history["train_loss"], steps_per_epoch)
    _save(fig, os.path.join(out, "loss.png"))
    fig = Figure(figsize=(6, 4))
    _accuracy(fig.add_subplot(), history, accuracy_labels)
    _save(fig, os.path.join(out, "accuracy.png"))


def show_history(trainer):
    """Loss and accuracies of ``trainer`` (a Trainer, xpnet's or the book face's) side by side,
    shown where pyplot shows figures: under the cell in a notebook."""
    import matplotlib.pyplot as plt
    from .runs import accuracy_labels, history

    if not trainer.test_acc_list:
        raise ValueError("show_history: no epoch has finished yet, so there is nothing to plot")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    record = history(trainer)
    _loss(left, record["train_loss"], trainer.iter_per_epoch)
    _accuracy(right, record, accuracy_labels(trainer))
    fig.tight_layout()
    plt.show()
