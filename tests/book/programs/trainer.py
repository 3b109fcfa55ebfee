"""Conformance: the Trainer's printed trajectory, 20 float64 steps on MNIST test images."""
import numpy as np

from common.multi_layer_net_extend import MultiLayerNetExtend
from common.trainer import Trainer
from dataset.mnist import load_mnist

(_, _), (x_test, t_test) = load_mnist()
x, t = x_test[:1000], t_test[:1000]
for optimizer, params in (("sgd", {"lr": 0.1}), ("Adam", {"lr": 0.001}),
                          ("nesterov", {"lr": 0.05}), ("rmsprop", {"lr": 0.001})):
    np.random.seed(7)
    network = MultiLayerNetExtend(784, [40, 30], 10, weight_decay_lambda=0.01, use_dropout=True,
                                  dropout_ration=0.2, use_batchnorm=True)
    trainer = Trainer(network, x[:500], t[:500], x[500:], t[500:], epochs=4,
                      mini_batch_size=100, optimizer=optimizer, optimizer_param=params,
                      evaluate_sample_num_per_epoch=300, verbose=True)
    trainer.train()
    print("iters", trainer.max_iter, trainer.current_iter, trainer.current_epoch,
          len(trainer.train_loss_list), trainer.train_acc_list, trainer.test_acc_list)
