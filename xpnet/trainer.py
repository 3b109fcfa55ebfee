"""The book's Trainer (chapter 6), by epochs, with state that can be saved and resumed.

Each epoch visits every training example once, in an order drawn from
xpnet's seeded generator; the loss stays on the device and is read once per
``sync_every`` steps, not every step (a read synchronizes the GPU).
"""
import math

import numpy as np

from .backend import asnumpy, random
from .errors import XpnetError
from .optimizers import get_optimizer


class TrainingDiverged(XpnetError, FloatingPointError):
    """The loss became NaN or infinite."""


class Trainer:
    """Train ``network`` on (x_train, t_train); evaluate on a sample after each epoch.

    Same arguments as the book's Trainer. ``evaluate_sample_num_per_epoch``
    limits the train/test accuracy evaluated per epoch to that many samples
    (None: all). History: ``train_loss_list`` (per step), ``train_acc_list``
    and ``test_acc_list`` (per epoch).
    """

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                 optimizer="SGD", optimizer_param=None, evaluate_sample_num_per_epoch=None,
                 verbose=True, sync_every=20):
        if epochs < 0 or mini_batch_size < 1:
            raise ValueError(f"Trainer: epochs must be >= 0 and mini_batch_size >= 1, got "
                             f"{epochs} and {mini_batch_size}")
        self.network = network
        device = network.device
        self.x_train, self.t_train = device.send(x_train), device.send(t_train)
        self.x_test, self.t_test = device.send(x_test), device.send(t_test)
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.optimizer = get_optimizer(optimizer, **(optimizer_param or {"lr": 0.01}))
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.verbose = verbose
        self.sync_every = sync_every
        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(math.ceil(self.train_size / mini_batch_size), 1)
        self.current_epoch = 0
        self.step_in_epoch = 0
        self.order = None
        self.train_loss_list, self.train_acc_list, self.test_acc_list = [], [], []

    def steps(self):
        """Run the rest of the current epoch, one mini-batch at a time; yields the step's loss (on device)."""
        if self.order is None:
            self.order = random.host_rng().permutation(self.train_size)
        order = self.network.device.send(self.order)  # once per epoch, not once per step
        pending = []
        while self.step_in_epoch < self.iter_per_epoch:
            start = self.step_in_epoch * self.batch_size
            index = order[start:start + self.batch_size]
            grads = self.network.gradient(self.x_train[index], self.t_train[index])
            self.optimizer.update(self.network.params, grads)
            loss = self.network.last_loss
            pending.append(loss)
            self.step_in_epoch += 1
            if len(pending) >= self.sync_every or self.step_in_epoch == self.iter_per_epoch:
                self._record(pending)
                pending = []
            yield loss
        self.order, self.step_in_epoch = None, 0
        self.current_epoch += 1

    def _record(self, losses):
        values = asnumpy(self.network.device.xp.stack(losses)).astype(float).tolist()
        self.train_loss_list.extend(values)
        if not np.all(np.isfinite(values)):
            raise TrainingDiverged(f"the loss became {values[-1]} at epoch "
                                   f"{self.current_epoch + 1}, step {self.step_in_epoch}; lower "
                                   f"the learning rate")

    def evaluate(self):
        """Train and test accuracy on (a sample of) the data; appended to the history."""
        n = self.evaluate_sample_num_per_epoch
        train_acc = self.network.accuracy(self.x_train[:n], self.t_train[:n])
        test_acc = self.network.accuracy(self.x_test[:n], self.t_test[:n])
        self.train_acc_list.append(train_acc)
        self.test_acc_list.append(test_acc)
        return train_acc, test_acc

    def train(self):
        """The book's ``train()``: every epoch, then the final test accuracy."""
        while self.current_epoch < self.epochs:
            for _ in self.steps():
                pass
            train_acc, test_acc = self.evaluate()
            if self.verbose:
                print(f"=== epoch:{self.current_epoch}, train acc:{train_acc:.4f}, "
                      f"test acc:{test_acc:.4f} ===")
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print(f"=============== Final Test Accuracy ===============\ntest acc:{test_acc}")
        return test_acc

    # -- resuming ---------------------------------------------------------------------
    def state_dict(self):
        """Everything needed to continue exactly where this trainer is (JSON-able + arrays)."""
        return {
            "meta": {"epoch": self.current_epoch, "step_in_epoch": self.step_in_epoch,
                     "rng": random.get_state(), "train_loss_list": self.train_loss_list,
                     "train_acc_list": self.train_acc_list, "test_acc_list": self.test_acc_list},
            "order": self.order,
            "optimizer": self.optimizer.state_dict(),
        }

    def load_state_dict(self, state):
        meta = state["meta"]
        self.current_epoch, self.step_in_epoch = meta["epoch"], meta["step_in_epoch"]
        random.set_state(meta["rng"])
        self.train_loss_list = list(meta["train_loss_list"])
        self.train_acc_list = list(meta["train_acc_list"])
        self.test_acc_list = list(meta["test_acc_list"])
        self.order = state["order"]
        self.optimizer.load_state_dict(state["optimizer"], self.network.params)
