"""Trainer: it learns, it resumes exactly, it stops on divergence."""
import numpy as np
import pytest

import xpnet
from xpnet.checkpoint import read_checkpoint, save_checkpoint
from xpnet.datasets import load_mnist
from xpnet.models import MultiLayerNetExtend, TwoLayerNet
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


def _trainer(x, t, epochs):
    xpnet.seed(5)
    net = MultiLayerNetExtend(20, [16], 3, use_dropout=True, dropout_ration=0.2,
                              use_batchnorm=True, weight_decay_lambda=0.01)
    return Trainer(net, x, t, x, t, epochs=epochs, mini_batch_size=16, optimizer="Adam",
                   optimizer_param={"lr": 0.01}, verbose=False)


def test_resume_equals_uninterrupted_bit_for_bit(tmp_path, rng):
    x = rng.random((100, 20)).astype(np.float32)
    t = rng.integers(0, 3, 100)
    straight = _trainer(x, t, epochs=3)
    straight.train()

    first = _trainer(x, t, epochs=3)
    steps = first.steps()
    for _ in range(first.iter_per_epoch + 3):  # stop in the middle of epoch 2, as Ctrl-C would
        next(steps, None)
        if first.current_epoch == 1 and first.step_in_epoch == 0:
            first.evaluate()
    save_checkpoint(tmp_path / "ck.npz", first.network, first)

    xpnet.seed(999)  # a different generator state: the checkpoint must restore it
    resumed = _trainer(x, t, epochs=3)
    _, restore = read_checkpoint(tmp_path / "ck.npz")
    restore(resumed.network, resumed)
    resumed.train()
    for key in straight.network.params:
        np.testing.assert_array_equal(resumed.network.params[key], straight.network.params[key])
    assert resumed.train_loss_list == straight.train_loss_list


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_divergence_is_reported(rng):
    x = rng.random((50, 20)).astype(np.float32) * 100
    t = rng.integers(0, 3, 50)
    net = TwoLayerNet(20, 10, 3, weight_init_std=10)
    trainer = Trainer(net, x, t, x, t, epochs=5, mini_batch_size=10, optimizer="SGD",
                      optimizer_param={"lr": 1e10}, verbose=False, sync_every=1)
    with pytest.raises(TrainingDiverged, match="the loss became (nan|inf)"):
        trainer.train()


def test_bad_trainer_arguments():
    net = TwoLayerNet(2, 2, 2)
    with pytest.raises(ValueError, match="epochs must be >= 0"):
        Trainer(net, np.zeros((4, 2)), np.zeros(4), np.zeros((4, 2)), np.zeros(4), epochs=-1)
