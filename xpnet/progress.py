"""Progress bars that suit where they are shown: a widget in a notebook, text in a terminal.

In a Jupyter or Colab kernel a bar is tqdm's notebook widget (``tqdm.auto``):
it redraws in place and leaves one line in the saved notebook, not a flood of
``\\r`` updates. In a terminal it is tqdm's text bar on stderr; where stderr is
a pipe or a log file there is no bar at all (the per-epoch lines say enough).
"""
import sys


def in_notebook():
    """True inside a Jupyter kernel (Jupyter, Colab, VS Code's notebooks, nbclient)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


def bar(total, desc, initial=0, unit="step", show=True):
    """A bar for ``total`` steps (disabled when ``show`` is false or nowhere to draw it)."""
    if in_notebook():
        from tqdm.auto import tqdm  # the widget, or text if ipywidgets is missing
        return tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=False,
                    disable=not show)
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=False,
                disable=None if show else True, file=sys.stderr, dynamic_ncols=True)


class EpochBars:
    """A bar per epoch for ``Trainer.fit``, closed before each epoch's report line.

    ``trainer.fit(on_step=bars.step, on_epoch=bars.epoch)``; ``report(train_acc,
    test_acc)`` prints the epoch's line.
    """

    def __init__(self, trainer, report, show=True):
        self.trainer, self.report, self.show = trainer, report, show
        self.current = None

    def step(self):
        if self.current is None:  # (called after the step: an epoch's last one ends the epoch)
            t = self.trainer
            done = t.step_in_epoch or t.iter_per_epoch
            epoch = t.current_epoch + 1 if t.step_in_epoch else t.current_epoch
            self.current = bar(t.iter_per_epoch, f"epoch {epoch}/{t.epochs}", initial=done - 1,
                               show=self.show)
        self.current.update(1)

    def epoch(self, train_acc, test_acc):
        self.close()
        self.report(train_acc, test_acc)

    def close(self):
        if self.current is not None:
            self.current.close()
            self.current = None
