"""Conformance: MultiLayerNet and MultiLayerNetExtend, built from a seed, as chapter 6 uses them."""
import numpy as np

from common.multi_layer_net import MultiLayerNet
from common.multi_layer_net_extend import MultiLayerNetExtend
from show import show

np.random.seed(6)
x = np.random.rand(5, 12)
t = np.array([0, 3, 1, 2, 3])
t_one_hot = np.eye(4)[t]
networks = {
    "MultiLayerNet relu": lambda: MultiLayerNet(12, [8, 6], 4),
    "MultiLayerNet sigmoid 0.01 decay": lambda: MultiLayerNet(
        12, [8], 4, activation="sigmoid", weight_init_std=0.01, weight_decay_lambda=0.1),
    "MultiLayerNet xavier": lambda: MultiLayerNet(12, [7], 4, weight_init_std="xavier"),
    "Extend plain": lambda: MultiLayerNetExtend(12, [8, 6], 4),
    "Extend batchnorm sigmoid": lambda: MultiLayerNetExtend(
        12, [5], 4, activation="sigmoid", weight_init_std="sigmoid", use_batchnorm=True),
    "Extend dropout batchnorm decay": lambda: MultiLayerNetExtend(
        12, [8, 6], 4, weight_decay_lambda=0.05, use_dropout=True, dropout_ration=0.3,
        use_batchnorm=True),
}
for name, build in networks.items():
    net = build()
    for key in sorted(net.params):
        show(f"{name} init {key}", net.params[key])
    show(f"{name} predict", net.predict(x))
    show(f"{name} loss", net.loss(x, t))
    show(f"{name} accuracy", net.accuracy(x, t))
    show(f"{name} accuracy one-hot", net.accuracy(x, t_one_hot))
    grads = net.gradient(x, t)
    for key in sorted(grads):
        show(f"{name} gradient {key}", grads[key])
    if "dropout" in name:
        continue  # the book draws new dropout masks for every evaluation: see README's deviations
    numeric = net.numerical_gradient(x[:2], t[:2])
    for key in sorted(numeric):
        show(f"{name} numerical_gradient {key}", numeric[key])
