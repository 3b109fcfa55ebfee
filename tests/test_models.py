"""The book's networks: shapes, parameter binding, moves, files, errors, pretrained weights."""
import os
import stat

import numpy as np
import pytest

import xpnet
from xpnet import asnumpy
from xpnet.errors import DataError, DeviceMismatchError, DTypeError
from xpnet.models import (DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet,
                          SimpleNet, TwoLayerNet)
from xpnet.optimizers import SGD


def test_simple_net_book_example():
    net = SimpleNet()
    net.W = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])
    x = np.array([0.6, 0.9])
    np.testing.assert_allclose(net.predict(x), [1.05414809, 0.63071653, 1.1328074])
    assert net.loss(x, np.array([0, 0, 1])) == pytest.approx(0.92806853663411326)


@pytest.mark.parametrize("factory, x_shape, keys", [
    (lambda: TwoLayerNet(784, 50, 10), (3, 784), ["W1", "b1", "W2", "b2"]),
    (lambda: MultiLayerNet(784, [20, 20], 10), (3, 784), ["W1", "b1", "W2", "b2", "W3", "b3"]),
    (lambda: MultiLayerNetExtend(784, [20], 10, use_batchnorm=True, use_dropout=True),
     (3, 784), ["W1", "b1", "gamma1", "beta1", "W2", "b2"]),
    (lambda: SimpleConvNet(), (2, 1, 28, 28), ["W1", "b1", "W2", "b2", "W3", "b3"]),
    (lambda: DeepConvNet(), (2, 1, 28, 28), [f"{p}{i}" for i in range(1, 9) for p in "Wb"]),
])
def test_networks_shapes_and_keys(device, factory, x_shape, keys, rng):
    net = factory()
    assert sorted(net.params) == sorted(keys)
    x = device.send(rng.random(x_shape).astype(np.float32))
    t = device.send(rng.integers(0, 10, x_shape[0]))
    assert net.predict(x).shape == (x_shape[0], 10)
    grads = net.gradient(x, t)
    for key in keys:
        assert grads[key].shape == net.params[key].shape and grads[key].dtype == np.float32
    assert 0.0 <= net.accuracy(x, t) <= 1.0


def test_optimizer_updates_reach_the_layers(rng):
    net = TwoLayerNet(6, 4, 3)
    x, t = rng.random((5, 6)), rng.integers(0, 3, 5)
    before = net.predict(x).copy()
    SGD(lr=1.0).update(net.params, net.gradient(x, t))
    assert not np.allclose(net.predict(x), before)


def test_astype_and_to_rebind_every_layer(device, rng):
    net = SimpleConvNet()
    net.astype("float64").to(device)
    for key, (name, attr) in net._slots.items():
        assert getattr(net.layers[name], attr) is net.params[key]
        assert net.params[key].dtype == np.float64
    x = device.send(rng.random((2, 1, 28, 28)))
    before = asnumpy(net.predict(x))
    SGD(lr=0.5).update(net.params, net.gradient(x, device.send(np.array([1, 2]))))
    assert not np.allclose(asnumpy(net.predict(x)), before)


def test_gpu_network_equals_cpu(gpu, rng):
    xpnet.seed(3)
    cpu_net = SimpleConvNet()
    xpnet.seed(3)
    with xpnet.using_device("gpu"):
        gpu_net = SimpleConvNet()
    x = rng.random((4, 1, 28, 28)).astype(np.float32)
    t = rng.integers(0, 10, 4)
    cpu_grads = cpu_net.gradient(x, t)
    gpu_grads = gpu_net.gradient(gpu.send(x), gpu.send(t))
    for key in cpu_grads:
        np.testing.assert_allclose(asnumpy(gpu_grads[key]), cpu_grads[key], rtol=1e-4, atol=1e-6)


def test_save_load_round_trip_with_running_stats(tmp_path, rng):
    net = MultiLayerNetExtend(10, [8], 3, use_batchnorm=True)
    x = rng.random((6, 10))
    net.gradient(x, rng.integers(0, 3, 6))  # fills the running statistics
    path = tmp_path / "params.npz"
    net.save_params(path)
    other = MultiLayerNetExtend(10, [8], 3, use_batchnorm=True)
    other.load_params(path)
    np.testing.assert_array_equal(other.predict(x), net.predict(x))
    np.testing.assert_array_equal(other.layers["BatchNorm1"].running_var,
                                  net.layers["BatchNorm1"].running_var)
    for key, (name, attr) in other._slots.items():
        assert getattr(other.layers[name], attr) is other.params[key]


def test_load_errors_name_file_and_parameter(tmp_path):
    net = TwoLayerNet(4, 3, 2)
    small = TwoLayerNet(4, 5, 2)
    small.save_params(tmp_path / "other.npz")
    with pytest.raises(DataError, match=r"other.npz: parameter 'W1' has shape \(4, 5\), TwoLayerNet needs \(4, 3\)"):
        net.load_params(tmp_path / "other.npz")
    np.savez(tmp_path / "partial.npz", W1=np.zeros((4, 3)))
    with pytest.raises(DataError, match=r"partial.npz: missing parameters \['b1', 'W2', 'b2'\]"):
        net.load_params(tmp_path / "partial.npz")
    with pytest.raises(DataError, match="nope.npz: no such file"):
        net.load_params(tmp_path / "nope.npz")


def test_input_errors_name_network_and_shapes(rng):
    net = TwoLayerNet(4, 3, 2)
    with pytest.raises(xpnet.ShapeError, match=r"Affine1: input of shape \(2, 5\) does not fit W of shape \(4, 3\)"):
        net.predict(np.zeros((2, 5)))
    with pytest.raises(DTypeError, match="TwoLayerNet: input must be numeric, got dtype <U1"):
        net.predict(np.array([["a"] * 4]))
    assert net.predict(np.zeros((2, 4), dtype=np.uint8)).dtype == np.float32  # cast, not promoted


def test_device_mismatch_names_both(gpu):
    net = TwoLayerNet(4, 3, 2).to("gpu")
    with pytest.raises(DeviceMismatchError, match="input of shape .* is on cpu but the parameters are on gpu:0"):
        net.predict(np.zeros((2, 4), dtype=np.float32))


# --- the book's pretrained weights, checked against the official MNIST test set ---------

def _weights(data_dir, name):
    path = os.path.join(data_dir, "book-weights", name)
    if not os.path.exists(path):
        pytest.skip(f"{path} not found")
    return path


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_book_sample_weight_accuracy(device, dtype, data_dir, mnist_test):
    xpnet.set_dtype(dtype)
    net = MultiLayerNet(784, [50, 100], 10, activation="sigmoid")
    net.load_params(_weights(data_dir, "sample_weight.pkl"))
    x, t = mnist_test
    assert net.accuracy(device.send(x), device.send(t)) == 0.9352  # the book: Accuracy:0.9352


def test_book_simple_convnet_accuracy(device, data_dir, mnist_test):
    net = SimpleConvNet()
    net.load_params(_weights(data_dir, "params.pkl"))
    x, t = mnist_test
    assert net.accuracy(device.send(x.reshape(-1, 1, 28, 28)), device.send(t)) == 0.9890


def test_book_deep_convnet_loads_and_predicts(device, data_dir, mnist_test):
    net = DeepConvNet()
    net.load_params(_weights(data_dir, "deep_convnet_params.pkl"))
    x, t = mnist_test
    acc = net.accuracy(device.send(x[:2000].reshape(-1, 1, 28, 28)), device.send(t[:2000]))
    assert acc >= 0.99  # 0.9935 on the whole test set, as the book reports


def test_params_saved_as_pkl_are_the_books_format(tmp_path, rng):
    """.pkl: a plain pickled dict of the params arrays, which pickle itself reads back."""
    import pickle
    net = MultiLayerNetExtend(4, [3], 2, use_batchnorm=True)
    net.save_params(tmp_path / "params.pkl")
    with open(tmp_path / "params.pkl", "rb") as f:
        saved = pickle.load(f)  # noqa: S301  (our own file: the book's reader does this)
    assert sorted(saved) == sorted(net.params)
    for key, value in saved.items():
        assert type(value) is np.ndarray
        np.testing.assert_array_equal(value, net.params[key])
    other = MultiLayerNetExtend(4, [3], 2, use_batchnorm=True)
    other.load_params(tmp_path / "params.pkl")
    np.testing.assert_array_equal(other.params["W1"], net.params["W1"])
    assert stat.S_IMODE(os.stat(tmp_path / "params.pkl").st_mode) == 0o644
