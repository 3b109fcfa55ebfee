"""Trainer: it learns, checks its data once, stops on divergence (resuming: test_interrupts)."""
import numpy as np
import pytest

import xpnet
from xpnet.datasets import load_mnist
from xpnet.errors import DataError, LabelError
from xpnet.models import TwoLayerNet
from xpnet.trainer import Trainer, TrainingDiverged


@pytest.fixture
def mnist_5k(data_dir):
    return load_mnist(data_dir=data_dir, download=False)


def test_two_layer_net_learns_on_the_5k_subset(mnist_5k):
    (x_train, t_train), (x_test, t_test) = mnist_5k
    assert len(x_train) == 5000
    net = TwoLayerNet(784, 50, 10)
    trainer = Trainer(net, x_train, t_train, x_test[:2000], t_test[:2000], epochs=3,
                      mini_batch_size=100, optimizer="SGD", optimizer_param={"lr": 0.5},
                      verbose=False)
    acc = trainer.train()
    assert acc > 0.85
    assert len(trainer.train_loss_list) == 150 and len(trainer.test_acc_list) == 3
    assert np.mean(trainer.train_loss_list[-20:]) < 0.5 * np.mean(trainer.train_loss_list[:5])


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_divergence_is_reported(rng):
    x = rng.random((50, 20)).astype(np.float32) * 100
    t = rng.integers(0, 3, 50)
    net = TwoLayerNet(20, 10, 3, weight_init_std=10)
    trainer = Trainer(net, x, t, x, t, epochs=5, mini_batch_size=10, optimizer="SGD",
                      optimizer_param={"lr": 1e10}, verbose=False, schedule="epochs", sync_every=1)
    with pytest.raises(TrainingDiverged, match="the loss became (nan|inf)"):
        trainer.train()


def test_bad_trainer_arguments():
    net = TwoLayerNet(2, 2, 2)
    with pytest.raises(ValueError, match="epochs must be >= 0"):
        Trainer(net, np.zeros((4, 2)), np.zeros(4), np.zeros((4, 2)), np.zeros(4), epochs=-1)


def _data(rng, n=50, d=20):
    return rng.random((n, d)).astype(np.float32), rng.integers(0, 3, n)


@pytest.mark.parametrize("labels, message", [
    (lambda t: np.where(np.arange(50) == 7, -1, t),
     "t_train: class ids must be in 0..2, found -1 at index 7"),
    (lambda t: np.where(np.arange(50) == 9, 3, t),
     "t_train: class ids must be in 0..2, found 3 at index 9"),
    (lambda t: t * 0 + 0.5, "t_train: class ids must be whole numbers, found 0.5 at index 0"),
    (lambda t: t[:49], "t_train: 49 labels for 50 samples"),
    (lambda t: np.eye(4)[t],
     r"t_train: one-hot labels of shape \(50, 4\) do not match 50 samples of 3 classes"),
    (lambda t: t.astype(bool),
     "t_train: labels must be integer class ids or one-hot rows, got dtype bool"),
])
def test_labels_are_checked_once_up_front(rng, labels, message):
    x, t = _data(rng)
    with pytest.raises(LabelError, match=message):
        Trainer(TwoLayerNet(20, 4, 3), x, labels(t), x, t, verbose=False)


def test_labels_shaped_n_by_1_and_one_hot_are_accepted(rng):
    x, t = _data(rng)
    for labels in (t.reshape(-1, 1), np.eye(3)[t], t.astype(np.float32), t.astype(np.uint8)):
        trainer = Trainer(TwoLayerNet(20, 4, 3), x, labels, x, t, epochs=1, mini_batch_size=10,
                          verbose=False, schedule="epochs")
        assert trainer.fit() and len(trainer.train_loss_list) == 5


def test_bad_data_is_refused_naming_it(rng):
    x, t = _data(rng)
    net = TwoLayerNet(20, 4, 3)
    with pytest.raises(DataError, match=r"x_test holds no samples \(shape \(0, 20\)\)"):
        Trainer(net, x, t, x[:0], t[:0], verbose=False)
    bad = x.copy()
    bad[[3, 8], 2] = [np.nan, np.inf]
    with pytest.raises(DataError, match="x_train: 2 sample.s. hold NaN or infinite values, the "
                                        "first at index 3"):
        Trainer(net, bad, t, x, t, verbose=False)


def test_the_evaluation_sample_is_random_and_the_same_every_run(rng):
    """Not a prefix: with data sorted by label, a prefix would hold one class only."""
    x, t = _data(rng, n=300)
    order = np.argsort(t, kind="stable")
    x, t = x[order], t[order]
    trainer = Trainer(TwoLayerNet(20, 4, 3), x, t, x, t, evaluate_sample_num_per_epoch=60,
                      verbose=False, schedule="epochs")
    from xpnet.trainer import _eval_sample
    index = _eval_sample(300, 60)
    assert len(set(index)) == 60 and set(t[index]) == {0, 1, 2}
    np.testing.assert_array_equal(index, _eval_sample(300, 60))
    xpnet.seed(123)  # the training seed does not move it
    np.testing.assert_array_equal(index, _eval_sample(300, 60))
    train_acc, _ = trainer.evaluate()
    assert train_acc == trainer.network.accuracy(x[index], t[index])


def test_a_loss_stuck_near_its_ceiling_stops_training(rng):
    x, t = _data(rng)
    net = TwoLayerNet(20, 10, 3, weight_init_std=100)
    t = net.predict(x).argmin(axis=1)  # every sample scored as surely wrong
    trainer = Trainer(net, x, t, x, t, epochs=30, mini_batch_size=10, optimizer="SGD",
                      optimizer_param={"lr": 1e-12}, verbose=False, schedule="epochs")
    with pytest.raises(TrainingDiverged, match="the loss stayed above 8.06 for 20 steps"):
        trainer.train()


class BookStyleNet:
    """A network as a reader writes one: only params, gradient, loss, accuracy, predict."""

    def __init__(self, rng):
        self.params = {"W": 0.1 * rng.standard_normal((20, 3)), "b": np.zeros(3)}

    def predict(self, x):
        return x @ self.params["W"] + self.params["b"]

    def loss(self, x, t):
        from xpnet.functions import softmax_loss
        return softmax_loss(self.predict(x), t)

    def gradient(self, x, t):
        from xpnet.functions import softmax
        y = softmax(self.predict(x))
        y[np.arange(len(t)), t] -= 1
        dy = y / len(t)
        return {"W": x.T @ dy, "b": dy.sum(axis=0)}

    def accuracy(self, x, t):
        return float(np.mean(self.predict(x).argmax(axis=1) == t))


def test_the_books_schedule_prints_what_the_books_trainer_prints(rng, capsys):
    """Scored before the first step and every train_size / batch_size steps, on a prefix."""
    from xpnet.backend.random import use_numpy_global
    x, t = _data(rng, n=50)
    net = BookStyleNet(rng)
    use_numpy_global(True)
    try:
        np.random.seed(3)
        trainer = Trainer(net, x, t, x, t, epochs=2, mini_batch_size=20, optimizer="sgd",
                          optimizer_param={"lr": 0.1}, evaluate_sample_num_per_epoch=10)
        assert (trainer.iter_per_epoch, trainer.max_iter) == (2.5, 5)
        np.random.seed(3)
        first_batch = np.random.choice(50, 20)
        np.random.seed(3)
        trainer.train_step()
    finally:
        use_numpy_global(False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("train loss:") and float(lines[0][11:]) == trainer.train_loss_list[0]
    assert lines[1] == (f"=== epoch:1, train acc:{net.accuracy(x[:10], t[:10])}, "
                        f"test acc:{net.accuracy(x[:10], t[:10])} ===")
    assert trainer.current_iter == 1 and trainer.current_epoch == 1
    expected = BookStyleNet(np.random.default_rng(0))
    expected.params = {"W": net.params["W"].copy(), "b": net.params["b"].copy()}
    assert trainer.train_loss_list[0] == expected.loss(x[first_batch], t[first_batch])
    trainer.train()
    out = capsys.readouterr().out.splitlines()
    # train() runs max_iter more steps (5, after the one above): only step 5 is a multiple of 2.5
    assert sum(line.startswith("=== epoch:") for line in out) == 1
    assert out[-2:] == ["=============== Final Test Accuracy ===============",
                        f"test acc:{net.accuracy(x, t)}"]
    with pytest.raises(xpnet.XpnetError, match="Trainer.fit belongs to the 'epochs' schedule"):
        trainer.fit()
