"""Networks of one's own from a list of layers (xpnet.models.Sequential), and the layers they add."""
import numpy as np
import pytest

import xpnet
from xpnet import asnumpy
from xpnet.errors import ShapeError
from xpnet.gradcheck import gradient_check
from xpnet.layers import Flatten, GlobalAveragePooling
from xpnet.models import Sequential
from xpnet.models.sequential import (affine, batch_norm, conv, dropout, flatten, global_avg_pool,
                                     pool, relu, sigmoid)
from xpnet.numerical import loop_numerical_gradient, network_numerical_gradient
from xpnet.trainer import Trainer

from helpers import assert_grads_close, layer_gradients


def small_convnet(**options):
    return Sequential([conv(4, 3, pad=1), batch_norm(), relu(), pool(2), flatten(), affine(10),
                       relu(), dropout(0.2), affine(3)], input_shape=(1, 8, 8), **options)


def test_sizes_keys_and_names_are_inferred_from_the_input_shape():
    net = small_convnet()
    shapes = {key: tuple(value.shape) for key, value in net.params.items()}
    assert shapes == {"W1": (4, 1, 3, 3), "b1": (4,), "gamma1": (4,), "beta1": (4,),
                      "W2": (64, 10), "b2": (10,), "W3": (10, 3), "b3": (3,)}
    assert list(net.layers) == ["Conv1", "BatchNorm1", "Relu1", "Pool1", "Flatten1", "Affine1",
                                "Relu2", "Dropout1", "Affine2"]
    assert net.output_shape == (3,) and net.num_classes == 3
    assert net.predict(np.zeros((5, 1, 8, 8), np.float32)).shape == (5, 3)


@pytest.mark.parametrize("activation, gain", [(relu, 2.0), (sigmoid, 1.0)])
def test_weights_start_at_the_books_scale_for_the_activation(activation, gain):
    xpnet.seed(0)
    net = Sequential([affine(400), activation(), affine(300), activation(), affine(10)],
                     input_shape=(500,))
    for key, fan_in in (("W1", 500), ("W2", 400), ("W3", 300)):
        assert asnumpy(net.params[key]).std() == pytest.approx((gain / fan_in) ** 0.5, rel=0.02)
    given = Sequential([affine(10)], input_shape=(50,), weight_init_std=0.01)
    assert asnumpy(given.params["W1"]).std() == pytest.approx(0.01, rel=0.1)


def test_backprop_matches_numerical_gradients_through_every_kind_of_layer(rng):
    xpnet.set_dtype("float64")
    try:
        xpnet.seed(2)
        net = Sequential([conv(3, 3), batch_norm(), relu(), pool(2), conv(4, 2), sigmoid(),
                          global_avg_pool(), flatten(), affine(5), dropout(0.3), relu(),
                          affine(3)], input_shape=(2, 9, 9))
        x, t = rng.random((4, 2, 9, 9)), rng.integers(0, 3, 4)
        errors = gradient_check(net, x, t)
        assert max(errors.values()) < 1e-6, errors
        engine = network_numerical_gradient(net, x, t)
        loop = loop_numerical_gradient(net, x, t)
        for key in net.params:  # the engine agrees with the book's element-by-element loop
            np.testing.assert_allclose(engine[key], loop[key], rtol=1e-7, atol=1e-10, err_msg=key)
    finally:
        xpnet.set_dtype("float32")


@pytest.mark.parametrize("layer, shape", [(Flatten, (3, 2, 4, 5)), (GlobalAveragePooling, (3, 2, 4, 5))])
def test_the_added_layers_backward_is_their_forwards_gradient(layer, shape, rng):
    x = rng.standard_normal(shape)
    lay = layer()
    out_shape = lay.forward(x).shape
    pairs = layer_gradients(lambda: lay.forward(x), lambda r: [lay.backward(r)], [x],
                            rng.standard_normal(out_shape))
    assert_grads_close(pairs)


def test_a_layer_that_does_not_fit_is_named_with_both_shapes():
    with pytest.raises(ShapeError, match=r"layer 3 \(Conv2\) a 5x5 filter with pad 0 does not "
                                         r"fit 2x2 images"):
        Sequential([conv(4, 5), pool(2), conv(4, 5), affine(3)], input_shape=(1, 8, 8))
    with pytest.raises(ShapeError, match=r"layer 1 \(Pool1\) expects images \(C, H, W\), gets "
                                         r"\(64,\)"):
        Sequential([pool(2), affine(3)], input_shape=(64,))
    with pytest.raises(ValueError, match="end the list with affine"):
        Sequential([affine(10), relu()], input_shape=(4,))


def test_it_trains_saves_and_loads_as_the_books_networks_do(tmp_path, rng):
    xpnet.seed(5)
    t = rng.integers(0, 3, 300)  # the class is where a bright 3x3 patch lies: left, middle, right
    x = 0.2 * rng.random((300, 1, 8, 8)).astype(np.float32)
    for i, (row, column) in enumerate(zip(rng.integers(0, 6, 300), t * 2 + t // 2)):
        x[i, 0, row:row + 3, column:column + 3] += 1
    net = small_convnet()
    trainer = Trainer(net, x[:200], t[:200], x[200:], t[200:], epochs=6, mini_batch_size=20,
                      optimizer="Adam", optimizer_param={"lr": 0.01}, schedule="epochs",
                      verbose=False)
    trainer.train()
    assert trainer.test_acc_list[-1] >= 0.9, trainer.test_acc_list
    net.save_params(tmp_path / "mine.npz")
    again = small_convnet()
    again.load_params(tmp_path / "mine.npz")
    np.testing.assert_array_equal(asnumpy(again.predict(x[200:])), asnumpy(net.predict(x[200:])))


def test_on_the_gpu_it_computes_what_the_cpu_does(gpu, rng):
    layers = [conv(4, 3, pad=1), batch_norm(), relu(), pool(2), global_avg_pool(), affine(3)]
    xpnet.seed(8)
    cpu_net = Sequential(layers, input_shape=(1, 8, 8))
    xpnet.seed(8)
    with xpnet.using_device("gpu"):
        gpu_net = Sequential(layers, input_shape=(1, 8, 8))
    x, t = rng.random((6, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 6)
    cpu_grads, gpu_grads = cpu_net.gradient(x, t), gpu_net.gradient(gpu.send(x), gpu.send(t))
    for key in cpu_grads:
        np.testing.assert_allclose(asnumpy(gpu_grads[key]), cpu_grads[key], rtol=1e-4, atol=1e-6,
                                   err_msg=key)
