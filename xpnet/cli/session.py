"""One sitting of an ``xpnet-train`` run: Ctrl-C, the progress shown, the files written.

``Session.train()`` drives ``Trainer.fit`` step by step: a progress bar per
epoch (a widget in a notebook, text in a terminal, none on a pipe), a
checkpoint and metrics after every epoch, and on the first Ctrl-C a save
after the current step. ``finish()`` scores every test image and writes the
plots.
"""
import os
import signal
import sys
import time

import numpy as np

from .. import progress
from ..checkpoint import save_checkpoint
from ..errors import XpnetError
from ..runs import CHECKPOINT, accuracy_labels, epoch_mean_losses, write_metrics, write_plots
from ..trainer import TrainingDiverged


def _progress(trainer):
    """Where a trainer stands, in words: 'epoch 3 of 15, step 47 of 50' or '2 epochs'."""
    done = f"{trainer.current_epoch} of {trainer.epochs} epochs"
    if trainer.step_in_epoch:
        done += f" and step {trainer.step_in_epoch} of {trainer.iter_per_epoch} of the next"
    elif trainer.needs_evaluation:
        done += " (the last one's accuracy not scored yet)"
    return done


class CtrlC:
    """SIGINT handling for a run: the first Ctrl-C asks to stop after the current step."""

    def __init__(self, say=True):
        self.requested = self.told = False
        self.say = say  # False on the ranks of a distributed job other than rank 0

    def __enter__(self):
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def asked(self):
        """True once Ctrl-C was pressed; the first time, says what happens next.

        (Said here, in the training loop, not in the signal handler: the signal
        may arrive in the middle of a print to stderr.)
        """
        if self.requested and not self.told:
            self.told = True
            if self.say:
                print("\nstopping after this step to save the run (Ctrl-C again to quit without "
                      "saving)", file=sys.stderr)
        return self.requested

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self._previous)


class Session:
    """One sitting of a run: the progress shown, the files written, and how it ends."""

    def __init__(self, trainer, settings, folder, progress=True, lead=True):
        self.trainer, self.settings, self.folder = trainer, settings, folder
        self.checkpoint = os.path.join(folder, CHECKPOINT)
        self.lead = lead  # the one process (of a distributed job) that prints and writes
        self.show_bar = progress and lead
        self.bar = None
        self.train_seconds = 0.0
        self.steady = [0, 0.0]  # images and seconds, each epoch's first step left out
        self._epoch_start = self._after_first = None
        self._steps = 0

    def say(self, message):
        if self.lead:
            print(message, file=sys.stderr)

    # -- the loop ---------------------------------------------------------------------
    def train(self):
        """Train to the end (True), or until Ctrl-C asked to stop, and save (False)."""
        # A run that diverges is stopped and explained below, not warned about step by step.
        quiet = np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")
        from ..kernels.jit import on_first_compile  # Numba: imported here, where Ctrl-C is handled
        with CtrlC(self.lead) as ctrl_c, on_first_compile(self._compiling), quiet:
            self._open_bar()
            try:
                finished = self.trainer.fit(self._on_step, self._on_epoch,
                                            ctrl_c.asked)
            except TrainingDiverged as e:
                self._close_bar()
                saved = (f"the last checkpoint is {self.checkpoint}, after epoch "
                         f"{len(self.trainer.test_acc_list)}" if os.path.exists(self.checkpoint)
                         else "no checkpoint was saved yet")
                raise XpnetError(f"{e}; {saved}") from None
            except KeyboardInterrupt:
                self._close_bar()
                saved = (f"the last checkpoint ({self.checkpoint}) is kept"
                         if os.path.exists(self.checkpoint) else "nothing was saved")
                print(f"quit without saving: {saved}", file=sys.stderr)
                raise SystemExit(130) from None
            if not finished:
                self._close_bar()
                self._save()
                if self.lead:
                    write_plots(self.folder, self.trainer)
                self.say(f"stopped: saved {self.checkpoint} after {_progress(self.trainer)} "
                         f"(parameters, optimizer state, {len(self.trainer.train_loss_list)} step "
                         f"losses, {len(self.trainer.test_acc_list)} epochs' accuracies); "
                         f"continue with --resume --out {self.folder}")
            return finished

    def _compiling(self):
        from tqdm.auto import tqdm
        if self.lead:
            tqdm.write("compiling kernels (first run only: they are cached for later runs)...",
                       file=sys.stderr)

    def _open_bar(self):
        """A progress bar for the epoch about to run (a widget in a notebook; text in a
        terminal; none where stderr is a pipe or a file)."""
        trainer = self.trainer
        if trainer.finished or trainer.needs_evaluation:
            return
        self._epoch_start, self._steps = time.perf_counter(), 0
        self._first_loss = len(trainer.train_loss_list)
        self.bar = progress.bar(trainer.iter_per_epoch, initial=trainer.step_in_epoch,
                                desc=f"epoch {trainer.current_epoch + 1}/{trainer.epochs}",
                                show=self.show_bar)

    def _on_step(self):
        trainer = self.trainer
        now = time.perf_counter()
        self._steps += 1
        if self._steps == 1:
            self._after_first = now
        self.bar.update(1)
        if self._steps % trainer.sync_every == 0:
            losses = trainer.train_loss_list[self._first_loss:]
            rate = (self._steps - 1) * trainer.batch_size / max(now - self._after_first, 1e-9)
            self.bar.set_postfix_str(f"mean loss {sum(losses) / max(len(losses), 1):.4f}, "
                                     f"{rate:,.0f} img/s")
        if trainer.step_in_epoch == 0:  # that was the epoch's last step
            self._end_epoch_timing()

    def _end_epoch_timing(self):
        self.trainer.network.device.synchronize()
        now = time.perf_counter()
        self.train_seconds += now - self._epoch_start
        if self._steps > 1:
            self.steady[0] += (self._steps - 1) * self.trainer.batch_size
            self.steady[1] += now - self._after_first
        self._close_bar()

    def _close_bar(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _on_epoch(self, train_acc, test_acc):
        trainer = self.trainer
        self._save()
        rate = f", {self.steady[0] / self.steady[1]:,.0f} img/s" if self.steady[1] else ""
        labels = accuracy_labels(trainer)
        loss = epoch_mean_losses(trainer)[trainer.current_epoch - 1]
        self.say(f"epoch {trainer.current_epoch}/{trainer.epochs}: mean loss {loss:.4f}, "
                 f"accuracy {labels[0]} {train_acc:.4f}, {labels[1]} {test_acc:.4f}{rate}")
        self._open_bar()

    def _save(self):
        """Checkpoint and metrics (every rank takes part in gathering the state; rank 0 writes)."""
        save_checkpoint(self.checkpoint, self.trainer.network, self.trainer,
                        dict(self.settings, epochs=self.trainer.epochs), write=self.lead)
        if self.lead:
            write_metrics(self.folder, self.trainer, self._summary("training"))

    def _summary(self, status, test_accuracy=None):
        return {"status": status, "test_accuracy": test_accuracy,
                "test_images": len(self.trainer.x_test), "epochs": self.trainer.current_epoch,
                "train_seconds": self.train_seconds,
                "images_per_second": self.steady[0] / self.steady[1] if self.steady[1] else None,
                "device": self.trainer.network.device.name, "settings": self.settings}

    # -- the end ----------------------------------------------------------------------
    def finish(self):
        trainer = self.trainer
        test_acc = trainer.score(trainer.x_test, trainer.t_test)
        if not self.lead:
            return 0
        write_metrics(self.folder, trainer, self._summary("finished", test_acc))
        plots = write_plots(self.folder, trainer)
        if not plots:
            print("no epoch was trained, so there are no plots", file=sys.stderr)
        rate = (f", {self.steady[0] / self.steady[1]:,.0f} images/s after the first step"
                if self.steady[1] else "")
        print(f"test accuracy {test_acc:.4f} on all {len(trainer.x_test):,} test images | "
              f"{self.train_seconds:.1f} s training{rate} | {trainer.network.device.name} | "
              f"results in {self.folder}")
        return 0
