"""Conformance: every layer of common.layers, forward and backward, as the chapters use them."""
import numpy as np

from common.layers import *  # noqa: F403  (as the chapter scripts import them)
from show import show

np.random.seed(3)
x = np.random.randn(6, 5)
dout = np.random.randn(6, 5)

relu = Relu()  # noqa: F405
show("Relu forward", relu.forward(x))
show("Relu mask", relu.mask)
show("Relu backward", relu.backward(dout.copy()))
sigmoid_layer = Sigmoid()  # noqa: F405
show("Sigmoid forward", sigmoid_layer.forward(x))
show("Sigmoid backward", sigmoid_layer.backward(dout))

W, b = np.random.randn(5, 4), np.random.randn(4)
affine = Affine(W, b)  # noqa: F405
show("Affine forward", affine.forward(x))
show("Affine backward", affine.backward(np.random.randn(6, 4)))
show("Affine dW", affine.dW)
show("Affine db", affine.db)
image_affine = Affine(np.random.randn(2 * 3 * 3, 4), np.zeros(4))  # noqa: F405
show("Affine 4-D forward", image_affine.forward(np.random.randn(2, 2, 3, 3)))
show("Affine 4-D backward", image_affine.backward(np.random.randn(2, 4)))

scores = np.random.randn(6, 4)
for name, s, t in (("ids", scores, np.array([0, 3, 1, 1, 2, 0])),
                   ("one-hot", scores, np.eye(4)[[2, 2, 0, 1, 3, 3]]),
                   ("(1,1) as ch07 gradient_check", scores[:1], np.array([1]).reshape((1, 1)))):
    loss_layer = SoftmaxWithLoss()  # noqa: F405
    show(f"SoftmaxWithLoss {name} loss", loss_layer.forward(s, t))
    show(f"SoftmaxWithLoss {name} backward", loss_layer.backward())

dropout = Dropout(0.4)  # noqa: F405
show("Dropout train", dropout.forward(x))
show("Dropout backward", dropout.backward(dout))
show("Dropout test", dropout.forward(x, train_flg=False))

for shape in ((8, 5), (4, 2, 3, 3)):
    size = int(np.prod(shape[1:]))
    bn = BatchNormalization(np.random.rand(size) + 0.5, np.random.randn(size))  # noqa: F405
    data = np.random.randn(*shape) * 2 + 1
    show(f"BatchNormalization {shape} train", bn.forward(data, train_flg=True))
    show(f"BatchNormalization {shape} backward", bn.backward(np.random.randn(*shape)))
    show(f"BatchNormalization {shape} dgamma", bn.dgamma)
    show(f"BatchNormalization {shape} dbeta", bn.dbeta)
    show(f"BatchNormalization {shape} running_mean", bn.running_mean)
    show(f"BatchNormalization {shape} running_var", bn.running_var)
    show(f"BatchNormalization {shape} test", bn.forward(data, train_flg=False))

images = np.random.randn(2, 3, 7, 7)
for stride, pad in ((1, 0), (2, 1), (1, 2)):
    conv = Convolution(np.random.randn(4, 3, 3, 3), np.random.randn(4), stride, pad)  # noqa: F405
    out = conv.forward(images)
    show(f"Convolution stride {stride} pad {pad} forward", out)
    show(f"Convolution stride {stride} pad {pad} backward", conv.backward(np.random.randn(*out.shape)))
    show(f"Convolution stride {stride} pad {pad} dW", conv.dW)
    show(f"Convolution stride {stride} pad {pad} db", conv.db)
conv = Convolution(np.random.randn(1, 1, 5, 5), 0)  # noqa: F405  (ch07 apply_filter: bias 0)
show("Convolution bias 0", conv.forward(np.random.rand(1, 1, 9, 9).astype(np.float32)))

for args in ((2, 2), (2, 2, 2), (3, 3, 1), (3, 3, 2)):
    pool = Pooling(*args)  # noqa: F405
    out = pool.forward(images)
    show(f"Pooling {args} forward", out)
    show(f"Pooling {args} backward", pool.backward(np.random.randn(*out.shape)))
