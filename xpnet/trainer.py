"""The book's Trainer (chapter 6), for any network with the book's interface.

Two schedules:

* ``schedule="book"`` (the default): what the book's Trainer does. Each step
  draws a mini-batch with replacement (``np.random.choice`` under the book
  face), updates, computes the loss again and prints it; the accuracies are
  scored before the first step and every ``train_size / batch_size`` steps,
  on the first ``evaluate_sample_num_per_epoch`` samples; ``train_step``,
  ``max_iter`` and ``current_iter`` are there as in the book.
* ``schedule="epochs"``: each epoch visits every training example once, in a
  shuffled order, and is scored after its last step on a random sample that
  is the same in every run. The loss of the gradient pass stays on the device
  and is read once per ``sync_every`` steps (a read synchronizes a GPU). This
  one can be stopped between any two steps (``fit``'s ``should_stop``) and
  saved and resumed exactly (``state_dict``); ``xpnet-train`` uses it.

Either way the data are checked once, up front: as many labels as samples,
labels that fit the network, no NaN or infinity in the images.

Given ``comm`` (``xpnet.distributed``), the epochs schedule trains data-parallel
over the ranks of an MPI job: rank 0's initial parameters and epoch order go to
every rank, each rank computes the gradient of its share of each mini-batch,
and one Allreduce per step gives every rank the gradient (and loss) of the
whole mini-batch, so every rank makes the same update. The accuracies are
scored by all ranks together, each on its share of the images, and a request
to stop is agreed on by all ranks in the same Allreduce.
"""
import math

import numpy as np

from .backend import asnumpy, device_of, get_array_module, random
from .errors import DataError, XpnetError
from .kernels import use_numba_now
from .labels import check_labels, values_checked
from .optimizers import Optimizer, get_optimizer
from .progress import EpochBars

EVAL_SEED = 20161  # the evaluation sample is the same in every run, whatever the training seed
EVAL_CHUNK = 1000  # samples scored between two looks at should_stop
LOSS_CEILING = -math.log(1e-7)  # the book's cross-entropy of a sample given probability 0
STUCK_STEPS = 20  # this many steps with a loss above half the ceiling: training has diverged


class TrainingDiverged(XpnetError, FloatingPointError):
    """The loss became NaN or infinite or stuck near its ceiling, or a parameter is not finite."""


SCHEDULES = ("book", "epochs")


class Trainer:
    """Train ``network`` on (x_train, t_train), scoring train and test accuracy once per epoch.

    The book's arguments (``optimizer`` may also be an optimizer object), plus
    ``schedule`` (see the module), ``sync_every`` and ``augment`` (for each training
    mini-batch: ``xpnet.augment.Augment``). ``evaluate_sample_num_per_epoch`` limits
    the accuracies scored per epoch to that many samples (None: all). History:
    ``train_loss_list`` (per step), ``train_acc_list`` and ``test_acc_list``
    (per epoch).
    """

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                 optimizer="SGD", optimizer_param=None, evaluate_sample_num_per_epoch=None,
                 verbose=True, schedule="book", sync_every=20, comm=None, augment=None):
        if schedule not in SCHEDULES:
            raise ValueError(f"Trainer: schedule must be one of {SCHEDULES}, got {schedule!r}")
        if comm is not None and schedule != "epochs":
            raise ValueError("Trainer: distributed training (comm) needs schedule='epochs'")
        if epochs < 0 or mini_batch_size < 1:
            raise ValueError(f"Trainer: epochs must be >= 0 and mini_batch_size >= 1, got "
                             f"{epochs} and {mini_batch_size}")
        if evaluate_sample_num_per_epoch is not None and evaluate_sample_num_per_epoch < 1:
            raise ValueError(f"Trainer: evaluate_sample_num_per_epoch must be >= 1 or None, got "
                             f"{evaluate_sample_num_per_epoch}")
        self.network, self.augment = network, augment  # augment: e.g. xpnet.augment.Augment
        self.schedule = schedule
        self.comm = comm
        if comm is not None:
            comm.bcast_params(network.params)  # every rank starts from rank 0's weights
        device = device_of(next(iter(network.params.values())))
        if not device.is_gpu:
            use_numba_now()  # every step on the same kernels, fresh or resumed
        self.x_train, self.x_test = device.send(x_train), device.send(x_test)
        classes = _num_classes(network, self.x_train)
        self.t_train = _checked_split(self.x_train, device.send(t_train), classes, "train")
        self.t_test = _checked_split(self.x_test, device.send(t_test), classes, "test")
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.optimizer = optimizer if isinstance(optimizer, Optimizer) else get_optimizer(
            optimizer, **(optimizer_param or {"lr": 0.01}))
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.verbose = verbose
        self.sync_every = sync_every
        self.train_size = x_train.shape[0]
        if schedule == "book":  # a float, as in the book: 5000 / 300 -> 16.67 steps
            self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
            self.max_iter = int(epochs * self.iter_per_epoch)
        else:
            self.iter_per_epoch = max(math.ceil(self.train_size / mini_batch_size), 1)
            self.max_iter = epochs * self.iter_per_epoch
        self.current_iter = 0
        self.current_epoch = 0  # epochs whose steps are all done
        self.step_in_epoch = 0
        self.order = None
        self.train_loss_list, self.train_acc_list, self.test_acc_list = [], [], []
        self._pending = []  # losses still on the device
        self._stop_voted = False  # (distributed) every rank agreed in the last step to stop
        self._votes = None  # (distributed, GPU) the last step's votes, not yet read

    # -- training ---------------------------------------------------------------------
    @property
    def needs_evaluation(self):
        """True when the last finished epoch has not been evaluated yet."""
        return len(self.test_acc_list) < self.current_epoch

    @property
    def finished(self):
        return self.current_epoch >= self.epochs and not self.needs_evaluation

    def steps(self, should_stop=None):
        """Run the rest of the current epoch, one mini-batch at a time, yielding after each step.

        Between two yields the trainer is in a state that ``state_dict`` can
        save: the epoch counter moves on as soon as the epoch's last step is done.
        (Distributed, ``should_stop`` is asked during each step, for the ranks' vote.)
        """
        self._require("epochs", "steps")
        if self.order is None:
            self.order = self._new_order()
        order = device_of(self.x_train).send(self.order)  # once per epoch, not once per step
        for step in range(self.step_in_epoch, self.iter_per_epoch):
            index = order[step * self.batch_size:(step + 1) * self.batch_size]
            if self.comm is None:
                self._pending.append(self._step(index))
            else:
                self._pending.append(self._distributed_step(index, should_stop))
            self.step_in_epoch, self.current_iter = step + 1, self.current_iter + 1
            if self.step_in_epoch == self.iter_per_epoch:
                self.current_epoch, self.step_in_epoch, self.order = self.current_epoch + 1, 0, None
            if len(self._pending) >= self.sync_every or self.step_in_epoch == 0:
                self._flush()
            yield

    def _new_order(self):
        """The order of this epoch's samples (rank 0's, on every rank)."""
        if self.comm is None:
            return random.host_rng().permutation(self.train_size)
        mine = (random.host_rng().permutation(self.train_size) if self.comm.is_lead
                else np.empty(self.train_size, dtype=np.int64))
        return self.comm.bcast_array(mine.astype(np.int64, copy=False))

    def _gradient(self, index):
        """(gradients, loss) of the network on the training samples ``index``."""
        x, t = self.x_train[index], self.t_train[index]
        x = self.augment(x) if self.augment else x
        with values_checked():  # __init__ checked every label: none is read back (a GPU sync)
            grads = self.network.gradient(x, t)
        loss = getattr(self.network, "last_loss", None)  # xpnet's networks keep it
        return grads, self.network.loss(x, t) if loss is None else loss

    def _step(self, index):
        """One update on the samples ``index``; returns the mini-batch's loss."""
        grads, loss = self._gradient(index)
        self.optimizer.update(self.network.params, grads)
        return loss

    def _distributed_step(self, index, should_stop):
        """One update of every rank on the samples ``index``, each rank computing its share.

        Returns the loss of the whole mini-batch; sets ``_stop_voted`` when
        any rank's ``should_stop()`` was true (on a GPU, at the next ``_flush``,
        which every rank makes after the same step).
        """
        mine = index[self.comm.share(len(index))]
        weight = len(mine) / len(index)
        if len(mine):
            grads, loss = self._gradient(mine)
        else:  # a last mini-batch smaller than the number of ranks
            grads = {k: get_array_module(p).zeros_like(p) for k, p in self.network.params.items()}
            loss = 0.0
        vote = 1.0 if should_stop and should_stop() else 0.0
        grads, (loss, votes) = self.comm.reduce_gradients(grads, weight, (loss * weight, vote))
        self.optimizer.update(self.network.params, grads)
        if device_of(votes).is_gpu:  # read with the losses in _flush: a read waits for the GPU
            self._votes = votes.copy()
        else:
            self._stop_voted = bool(votes > 0)
        return loss.copy()  # the buffer is reused next step

    def _flush(self):
        """Bring the pending losses to the host; stop with the likely cause if training diverged."""
        if not self._pending:
            return
        params = self.network.params
        xp = get_array_module(next(iter(params.values())))
        votes = [] if self._votes is None else [self._votes]
        finite = [xp.isfinite(p).all() for p in params.values()]
        # one copy to the host (on a GPU, the one wait of these steps): losses, vote, checks
        host = asnumpy(xp.stack([xp.asarray(v).astype(xp.float64)
                                 for v in self._pending + votes + finite]))
        values = host[:len(self._pending)].tolist()
        if votes:
            self._stop_voted, self._votes = bool(host[len(self._pending)] > 0), None
        self._pending = []
        self.train_loss_list.extend(values)
        if self.step_in_epoch:
            where = f"at epoch {self.current_epoch + 1}, step {self.step_in_epoch}"
        else:
            where = f"at the end of epoch {self.current_epoch}"
        if not np.all(np.isfinite(values)):
            raise TrainingDiverged(f"the loss became {values[-1]} {where}: {self._cause()}")
        recent = self.train_loss_list[-STUCK_STEPS:]
        if len(recent) == STUCK_STEPS and min(recent) > 0.5 * LOSS_CEILING:
            raise TrainingDiverged(f"the loss stayed above {0.5 * LOSS_CEILING:.2f} for "
                                   f"{STUCK_STEPS} steps (its ceiling is {LOSS_CEILING:.2f}: the "
                                   f"right class gets probability ~0) {where}: {self._cause()}")
        for key, ok in zip(params, host[len(host) - len(finite):]):
            if not ok:
                raise TrainingDiverged(f"parameter {key} is no longer finite {where}: "
                                       f"{self._cause()}")

    def _cause(self):
        lr = getattr(self.optimizer, "lr", None)
        return f"the learning rate ({lr}) is likely too high" if lr else "lower the learning rate"

    def evaluate(self, should_stop=None):
        """Train and test accuracy on (a sample of) the data, appended to the history.

        Returns (train_acc, test_acc), or None when ``should_stop()`` became
        true part-way (nothing is recorded then).
        """
        accuracies = []
        for x, t in ((self.x_train, self.t_train), (self.x_test, self.t_test)):
            index = _eval_sample(len(x), self.evaluate_sample_num_per_epoch)
            if index is not None:
                index = device_of(x).send(index)
                x, t = x[index], t[index]
            accuracy = self.score(x, t, should_stop)
            if accuracy is None:
                return None
            accuracies.append(accuracy)
        self.train_acc_list.append(accuracies[0])
        self.test_acc_list.append(accuracies[1])
        return tuple(accuracies)

    def score(self, x, t, should_stop=None):
        """The network's accuracy on (x, t), EVAL_CHUNK samples at a time; None if stopped.

        Distributed, each rank scores its share of every chunk with rank 0's
        running statistics, and the counts are summed: the same accuracy as
        one process.
        """
        buffers = self.network.buffers() if self.comm is not None else None
        if buffers:
            self.comm.bcast_params(buffers)
        correct = 0
        for i in range(0, len(x), EVAL_CHUNK):
            if should_stop and should_stop():
                return None
            part, labels = x[i:i + EVAL_CHUNK], t[i:i + EVAL_CHUNK]
            if self.comm is not None:
                mine = self.comm.share(len(part))
                part, labels = part[mine], labels[mine]
            if len(part):
                correct += round(self.network.accuracy(part, labels) * len(part))
        if self.comm is not None:
            correct = int(self.comm.sum([correct])[0])
        return correct / len(x)

    def fit(self, on_step=None, on_epoch=None, should_stop=None):
        """Train and evaluate until all epochs are done, or until ``should_stop()`` is true.

        ``on_step()`` runs after every step, ``on_epoch(train_acc, test_acc)``
        after every evaluation. Returns True when finished, False when stopped.
        (The epochs schedule's.)
        """
        self._require("epochs", "fit")
        stop = self._agreed(should_stop)
        with values_checked():  # every label was checked in __init__
            while not self.finished:
                if stop():
                    return False
                if self.needs_evaluation:
                    accuracies = self.evaluate(stop)
                    if accuracies is None:
                        return False
                    if on_epoch:
                        on_epoch(*accuracies)
                    continue
                for _ in self.steps(should_stop):
                    if on_step:
                        on_step()
                    if self._stop_voted if self.comm else stop():
                        return False
        return True

    def _agreed(self, should_stop):
        """``should_stop`` as a question every rank answers alike (any rank's yes is a yes)."""
        asked = lambda: bool(should_stop and should_stop())  # noqa: E731
        return asked if self.comm is None else lambda: self.comm.any(asked())

    def train_step(self):
        """One step of the book's schedule (see the module), as the book's ``train_step``."""
        self._require("book", "train_step")
        batch_mask = random.host_rng().choice(self.train_size, self.batch_size)
        x_batch, t_batch = self.x_train[batch_mask], self.t_train[batch_mask]
        with values_checked():
            grads = self.network.gradient(x_batch, t_batch)
            self.optimizer.update(self.network.params, grads)
            loss = self.network.loss(x_batch, t_batch)
            self.train_loss_list.append(loss)
            if self.verbose:
                print("train loss:" + str(loss))
            if self.current_iter % self.iter_per_epoch == 0:
                self.current_epoch += 1
                n = self.evaluate_sample_num_per_epoch
                train_acc = self.network.accuracy(self.x_train[:n], self.t_train[:n])
                test_acc = self.network.accuracy(self.x_test[:n], self.t_test[:n])
                self.train_acc_list.append(train_acc)
                self.test_acc_list.append(test_acc)
                self._report(train_acc, test_acc)
        self.current_iter += 1

    def _report(self, train_acc, test_acc):
        if self.verbose:
            print("=== epoch:" + str(self.current_epoch) + ", train acc:" + str(train_acc) +
                  ", test acc:" + str(test_acc) + " ===")

    def train(self):
        """The book's ``train()``: every step of every epoch, then the final test accuracy."""
        if self.schedule == "book":
            for _ in range(self.max_iter):
                self.train_step()
        else:  # a bar per epoch (a widget in a notebook), then the epoch's line
            bars = EpochBars(self, self._report, show=self.verbose)
            try:
                self.fit(on_step=bars.step, on_epoch=bars.epoch)
            finally:
                bars.close()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))
        return test_acc

    def _require(self, schedule, what):
        if self.schedule != schedule:
            raise XpnetError(f"Trainer.{what} belongs to the {schedule!r} schedule; this trainer "
                             f"was made with schedule={self.schedule!r}")

    # -- resuming ---------------------------------------------------------------------
    def state_dict(self):
        """Everything needed to continue exactly where this trainer is (JSON-able + arrays)."""
        self._require("epochs", "state_dict")
        self._flush()
        rng = random.get_state()
        if self.comm is not None:  # every rank's generator: their dropout masks differ
            rng = {"ranks": self.comm.gather(rng)}
        return {
            "meta": {"epoch": self.current_epoch, "step_in_epoch": self.step_in_epoch,
                     "rng": rng, "train_loss_list": self.train_loss_list,
                     "train_acc_list": self.train_acc_list, "test_acc_list": self.test_acc_list},
            "order": self.order,
            "optimizer": self.optimizer.state_dict(),
        }

    def load_state_dict(self, state):
        meta = state["meta"]
        self.current_epoch, self.step_in_epoch = meta["epoch"], meta["step_in_epoch"]
        self.current_iter = self.current_epoch * self.iter_per_epoch + self.step_in_epoch
        self._restore_rng(meta["rng"])
        self.train_loss_list = list(meta["train_loss_list"])
        self.train_acc_list = list(meta["train_acc_list"])
        self.test_acc_list = list(meta["test_acc_list"])
        self.order = state["order"]
        self._pending, self._votes = [], None
        self.optimizer.load_state_dict(state["optimizer"], self.network.params)

    def _restore_rng(self, rng):
        """This rank's generator state from a checkpoint of any number of ranks.

        A rank the checkpoint has no state for (more ranks now than then)
        keeps the generator it was seeded with.
        """
        states = rng["ranks"] if "ranks" in rng else [rng]
        rank = self.comm.rank if self.comm is not None else 0
        if rank < len(states):
            random.set_state(states[rank])


def _num_classes(network, x):
    """How many classes the network scores: ``num_classes``, else the width of one prediction."""
    classes = getattr(network, "num_classes", None)
    return classes if classes is not None else network.predict(x[:1]).shape[-1]


def _checked_split(x, t, classes, split):
    """The labels of one split, checked against its images; DataError or LabelError naming them."""
    if x.ndim < 2 or x.shape[0] == 0:
        raise DataError(f"x_{split} holds no samples (shape {tuple(x.shape)})")
    xp = get_array_module(x)
    if x.dtype.kind == "f":
        bad = xp.nonzero(~xp.isfinite(x.reshape(len(x), -1)).all(axis=1))[0]
        if bad.size:
            raise DataError(f"x_{split}: {bad.size} sample(s) hold NaN or infinite values, the "
                            f"first at index {int(bad[0])}; clean the data before training")
    return check_labels(t, x.shape[0], classes, f"t_{split}")


def _eval_sample(n, k):
    """Sorted indices of k of n samples, the same in every run; None for all of them."""
    if k is None or k >= n:
        return None
    return np.sort(np.random.default_rng(EVAL_SEED).choice(n, k, replace=False))
