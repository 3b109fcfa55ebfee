"""Numerical differentiation: the book's functions, and the network engine against the loop."""
import numba
import numpy as np
import pytest

import xpnet
from xpnet import asnumpy
from xpnet.functions import softmax
from xpnet.gradcheck import gradient_check, relative_error
from xpnet.layers import affine
from xpnet.models import MODELS, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, TwoLayerNet
from xpnet.numerical import (gradient_descent, loop_numerical_gradient, network_numerical_gradient,
                             numerical_diff, numerical_gradient)

import definitions


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


@numba.njit
def function_2_jit(x):
    return x[0] ** 2 + x[1] ** 2


def test_numerical_diff_book_example():
    def function_1(x):
        return 0.01 * x ** 2 + 0.1 * x
    assert numerical_diff(function_1, 5) == pytest.approx(0.2, abs=1e-9)
    assert numerical_diff(function_1, 10) == pytest.approx(0.3, abs=1e-9)


@pytest.mark.parametrize("f", [function_2, function_2_jit])
def test_numerical_gradient_book_examples(f):
    for point, expected in [([3.0, 4.0], [6.0, 8.0]), ([0.0, 2.0], [0.0, 4.0]),
                            ([3.0, 0.0], [6.0, 0.0])]:
        x = np.array(point)
        np.testing.assert_allclose(numerical_gradient(f, x), expected, atol=1e-8)
        np.testing.assert_array_equal(x, point)  # restored


def sum_of_cubes(x):
    return np.sum(x ** 3)


sum_of_cubes_jit = numba.njit(sum_of_cubes)


def test_numba_loop_equals_python_loop_and_the_definition(rng):
    x = rng.standard_normal((3, 4))
    via_numba = numerical_gradient(sum_of_cubes_jit, x.copy())
    np.testing.assert_allclose(via_numba, 3 * x ** 2, atol=1e-7)
    np.testing.assert_allclose(via_numba, numerical_gradient(sum_of_cubes, x.copy()), atol=1e-9)
    np.testing.assert_allclose(via_numba, definitions.central_differences(sum_of_cubes, x),
                               atol=1e-9)


def test_numerical_gradient_refuses_non_contiguous():
    with pytest.raises(ValueError, match="C-contiguous"):
        numerical_gradient(function_2, np.zeros((4, 4))[:, ::2])


def _plain_loop(f, x):
    """The book's loop, element by element, without telling any layer what it moves."""
    grad = np.zeros_like(x)
    for i in range(x.size):
        tmp = x.flat[i].copy()
        x.flat[i] = tmp + definitions.H
        fxh1 = f(x)
        x.flat[i] = tmp - definitions.H
        fxh2 = f(x)
        grad.flat[i] = (fxh1 - fxh2) / (2 * definitions.H)
        x.flat[i] = tmp
    return grad


def _sparse_two_layer(rng):
    """A float64 TwoLayerNet and 3 inputs whose columns are mostly all zeros, as MNIST's are."""
    xpnet.set_dtype("float64")
    net = TwoLayerNet(12, 5, 4)
    x = rng.random((3, 12)) * (rng.random(12) < 0.3)
    return net, x, rng.integers(0, 4, 3)


def test_opaque_loss_gradient_skips_products_of_zeros_bit_for_bit(rng, monkeypatch):
    """An Affine layer whose weight the loop moves returns its unmoved output where the moved
    weight meets only zeros: the book's numbers to the bit, with fewer products."""
    net, x, t = _sparse_two_layer(rng)
    first = net.layers["Affine1"]
    products = []
    real_dot = affine._dot
    monkeypatch.setattr(affine, "_dot", lambda xp, a, W: products.append(W is first.W) or
                        real_dot(xp, a, W))
    loss = lambda _: net.loss(x, t)  # noqa: E731  (the book's spelling)
    attributes = set(vars(first))
    for key, param in net.params.items():
        products.clear()
        fast = numerical_gradient(loss, param)
        first_layer_products = sum(products)
        expected = _plain_loop(loss, param)
        np.testing.assert_array_equal(fast, expected)
        if key == "W1":
            live_rows = int(x.any(axis=0).sum())
            assert first_layer_products == 2 * live_rows * param.shape[1] + 1
        else:
            assert first_layer_products == 2 * param.size  # nothing to skip
    assert set(vars(first)) == attributes  # what a loop kept went with it


def test_a_changing_input_is_never_answered_from_before(rng):
    """Inputs that change between evaluations (new data, in-place edits) get their own product."""
    net, x, t = _sparse_two_layer(rng)
    other = x.copy()
    other[:, ~x.any(axis=0)] = 1.0  # nonzero exactly where x is all zeros
    calls = []

    def loss(_):
        calls.append(None)
        batch = other if len(calls) % 3 == 0 else x
        return net.loss(batch, t)
    fast = numerical_gradient(loss, net.params["W1"])
    calls.clear()
    np.testing.assert_array_equal(fast, _plain_loop(loss, net.params["W1"]))
    assert np.abs(fast).max() > 0

    def edited_in_place(_):
        x[0, 0] += 1.0  # the same array object, other values each time
        return net.loss(x, t)
    start = x.copy()
    fast = numerical_gradient(edited_in_place, net.params["W1"])
    x[...] = start
    np.testing.assert_array_equal(fast, _plain_loop(edited_in_place, net.params["W1"]))


def test_gradient_descent_book_example():
    x, path = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1, step_num=100,
                               history=True)
    np.testing.assert_allclose(x, [-6.11110793e-10, 8.14814391e-10], rtol=1e-6)
    assert path.shape == (100, 2)


def _batch(rng, shape, n, classes=10):
    return rng.random((n,) + shape), rng.integers(0, classes, n)


NETWORKS = {
    "two_layer": (lambda: TwoLayerNet(12, 7, 4), (12,)),
    "multi_sigmoid_decay": (lambda: MultiLayerNet(12, [6, 5], 4, activation="sigmoid",
                                                  weight_decay_lambda=0.1), (12,)),
    "extend_bn_dropout": (lambda: MultiLayerNetExtend(12, [6, 5], 4, use_batchnorm=True,
                                                      use_dropout=True, dropout_ration=0.3,
                                                      weight_decay_lambda=0.05), (12,)),
    "simple_convnet": (lambda: SimpleConvNet((2, 7, 7), {"filter_num": 3, "filter_size": 3,
                                                         "pad": 1, "stride": 1},
                                             hidden_size=6, output_size=4,
                                             weight_init_std=0.15), (2, 7, 7)),
}


@pytest.mark.parametrize("name", NETWORKS)
def test_engine_equals_loop(device, float64, name, rng):
    factory, shape = NETWORKS[name]
    net = factory()
    x, t = _batch(rng, shape, 5, classes=4)
    x, t = device.send(x), device.send(t)
    net.gradient(x, t)  # draws the dropout masks both sides then share
    fast = network_numerical_gradient(net, x, t)
    slow = loop_numerical_gradient(net, x, t)
    for key in net.params:
        np.testing.assert_allclose(asnumpy(fast[key]), asnumpy(slow[key]), rtol=0, atol=1e-7,
                                   err_msg=key)


def test_engine_equals_loop_at_relu_kinks(float64, rng):
    """Inputs of ReLU within h of zero: numerics differ from backprop, and the engine from neither loop."""
    net = TwoLayerNet(6, 5, 3)
    x, t = _batch(rng, (6,), 4, classes=3)
    a1 = x @ net.params["W1"]
    net.params["b1"][...] = -a1[0] + np.array([5e-5, -5e-5, 2e-5, 0.0, 1.0])  # sample 0 at kinks
    fast = network_numerical_gradient(net, x, t)
    slow = loop_numerical_gradient(net, x, t)
    for key in net.params:
        np.testing.assert_allclose(fast[key], slow[key], rtol=0, atol=1e-7, err_msg=key)
    analytic = net.gradient(x, t)["b1"]
    assert relative_error(analytic, fast["b1"]) > 1e-3  # the kink is real: they disagree


def test_skipped_perturbations_are_exactly_zero(float64, rng):
    net = TwoLayerNet(8, 4, 3)
    x, t = _batch(rng, (8,), 3, classes=3)
    x[:, 2] = 0.0  # input 2 is zero in every sample: its weights cannot change the loss
    fast = network_numerical_gradient(net, x, t)
    assert np.all(fast["W1"][2] == 0.0)
    np.testing.assert_array_equal(fast["W1"][2], loop_numerical_gradient(net, x, t)["W1"][2])


def test_engine_sampled_indices(float64, rng):
    net = TwoLayerNet(10, 6, 3)
    x, t = _batch(rng, (10,), 4, classes=3)
    full = network_numerical_gradient(net, x, t)
    picked = {"W1": np.array([0, 7, 33, 59]), "b2": np.array([2])}
    part = network_numerical_gradient(net, x, t, keys=["W1", "b2"], indices=picked)
    np.testing.assert_array_equal(part["W1"].reshape(-1)[picked["W1"]],
                                  full["W1"].reshape(-1)[picked["W1"]])
    assert np.count_nonzero(part["W1"]) <= 4 and set(part) == {"W1", "b2"}


def _exact_path_calls(monkeypatch):
    """Records (key, elements) each time the engine takes its exact path, not the ReLU series."""
    import xpnet.numerical as numerical
    calls, real = [], numerical._chunk_gradient
    monkeypatch.setattr(numerical, "_chunk_gradient",
                        lambda ev, key, idx: calls.append((key, idx.size)) or real(ev, key, idx))
    return calls


SERIES_NETWORKS = {
    "two_layer_sparse_input": (lambda: TwoLayerNet(20, 8, 5), 0.7),
    "multi_relu_decay": (lambda: MultiLayerNet(12, [6, 5, 4], 5, weight_decay_lambda=0.1), 0.0),
}


@pytest.mark.parametrize("name", SERIES_NETWORKS)
def test_relu_series_equals_loop(float64, monkeypatch, name, rng):
    """ReLU networks take the series path for every element, and give the loop's numbers."""
    factory, zeros = SERIES_NETWORKS[name]
    net = factory()
    x, t = _batch(rng, (net.params["W1"].shape[0],), 3, classes=5)
    x[rng.random(x.shape) < zeros] = 0.0  # as MNIST's blank pixels
    calls = _exact_path_calls(monkeypatch)
    fast = network_numerical_gradient(net, x, t)
    assert calls == []
    slow = loop_numerical_gradient(net, x, t)
    for key in net.params:
        np.testing.assert_allclose(fast[key], slow[key], rtol=0, atol=1e-9, err_msg=key)


def test_relu_series_of_the_exact_loss_is_backprop(float64, rng):
    """With eps = 0 the loss is backprop's -log y: central differences agree to h**2."""
    net = MultiLayerNet(12, [6, 5, 4], 5)
    x, t = _batch(rng, (12,), 3, classes=5)
    fast = network_numerical_gradient(net, x, t, eps=0)
    for key, grad in net.gradient(x, t).items():
        np.testing.assert_allclose(fast[key], grad, rtol=1e-6, atol=1e-10, err_msg=key)


@pytest.mark.parametrize("eps", [1e-7, 0.0])
def test_loss_series_against_the_loss_itself(eps, rng):
    """c1 d + .. + c5 d**5 is the loss change to d**5: at |d g| = 0.01 what is left is the
    d**6 term and rounding (below 7e-15 here); any coefficient of the series wrong or left
    out shows from 2.6e-13 up (tried one by one)."""
    from xpnet.kernels.loss_series import unit_table
    scores, g = rng.normal(size=(4, 6)), rng.normal(size=(4, 3, 6))
    scores[3, 2] = 15.0  # a confident sample: its label's probability ~3e-7, near the book's eps
    labels = np.array([0, 5, 1, 0])
    zeros = np.zeros((4, 3))
    units = unit_table(zeros, zeros, zeros, g, softmax(scores), labels, eps)

    def loss(d):
        y = softmax(scores[:, None, :] + d[..., None] * g)
        return -np.log(y[np.arange(4), :, labels] + eps)

    for d in 0.01 / np.abs(g).max(axis=2), -0.01 / np.abs(g).max(axis=2):
        series = sum(units[:, :, 3 + q].T * d ** (q + 1) for q in range(5))
        np.testing.assert_allclose(series, loss(d) - loss(0 * d), rtol=0, atol=3e-14)


def test_relu_series_hands_kinks_and_large_steps_to_the_exact_path(float64, monkeypatch, rng):
    """A later ReLU input within reach of its kink, or inputs too large for the series:
    those elements go the exact way, the rest stay on the series; all equal the loop."""
    net = MultiLayerNet(6, [5, 4], 3)
    x, t = _batch(rng, (6,), 3, classes=3)
    x[2] *= 3000.0  # |d g| past the series' limit for weights that see sample 2
    h1 = np.maximum(x @ net.params["W1"] + net.params["b1"], 0)
    net.params["b2"][...] = -(h1 @ net.params["W2"])[0] + np.array([1e-9, -1e-9, 0.5, -0.5])
    calls = _exact_path_calls(monkeypatch)
    fast = network_numerical_gradient(net, x, t)
    exact = dict(calls)
    assert 0 < exact["W1"] < net.params["W1"].size and exact["b1"] > 0, exact
    slow = loop_numerical_gradient(net, x, t)
    for key in net.params:
        np.testing.assert_allclose(fast[key], slow[key], rtol=0, atol=1e-7, err_msg=key)


@pytest.mark.parametrize("mode", ["full", "sample", "directional"])
@pytest.mark.parametrize("name", NETWORKS)
def test_gradient_check_backprop_is_right(device, float64, mode, name, rng):
    """Backprop matches numerics: max relative error < 1e-4 (h = 1e-4, float64).

    Weight scales keep every logit O(1): where the true class's probability
    falls below 1e-7, the book's loss -log(y + 1e-7) flattens and backprop
    (the derivative of -log y) rightly disagrees with it.
    """
    factory, shape = NETWORKS[name]
    net = factory()
    x, t = _batch(rng, shape, 4, classes=4)
    errors = gradient_check(net, device.send(x), device.send(t), mode=mode, samples=10)
    assert max(errors.values()) < 1e-4, errors


def test_gradient_check_finds_a_broken_backward(float64, rng):
    net = TwoLayerNet(6, 5, 3)
    x, t = _batch(rng, (6,), 4, classes=3)
    layer = net.layers["Affine2"]
    real_backward = layer.backward

    def broken(dout):
        dx = real_backward(dout)
        layer.dW = layer.dW * 1.5
        return dx

    layer.backward = broken
    for mode in ("full", "sample", "directional"):
        assert max(gradient_check(net, x, t, mode=mode).values()) > 1e-3


@pytest.mark.parametrize("model", list(MODELS))
def test_gradcheck_command_passes_on_every_network(model, capsys, data_dir):
    from xpnet.cli.gradcheck import main
    assert main(["--model", model, "--mode", "sample", "--samples", "5",
                 "--data-dir", data_dir]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[0] == "W1" and "over 5 element(s)" in out[0]
    assert out[-1].startswith("PASS: sample check of ") and "< tolerance 0.0001" in out[-1]


def test_gradcheck_command_directional_and_full(capsys, data_dir):
    from xpnet.cli.gradcheck import main
    assert main(["--model", "simple_convnet", "--mode", "directional", "--data-dir",
                 data_dir]) == 0
    assert main(["--model", "multi_layer_extend", "--mode", "full", "--data-dir", data_dir]) == 0
    assert capsys.readouterr().out.count("PASS") == 2


def test_a_float32_network_is_checked_in_float64(rng):
    """The check is as exact for a float32 network as for a float64 one; the network is unchanged."""
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5)
    x, t = _batch(rng, (6,), 4, classes=3)
    before = {k: p.copy() for k, p in net.params.items()}
    errors = gradient_check(net, x.astype(np.float32), t, mode="full")
    assert max(errors.values()) < 1e-6, errors
    assert net.dtype == np.float32
    for key, p in net.params.items():
        np.testing.assert_array_equal(p, before[key])


def test_confidently_wrong_samples_still_check(float64, rng):
    """Where the right class gets probability ~1e-9, the book's 1e-7 would spoil the comparison."""
    net = TwoLayerNet(6, 5, 3, weight_init_std=30.0)
    x, t = _batch(rng, (6,), 4, classes=3)
    scores = net.predict(x)
    t = scores.argmin(axis=1)  # every sample labelled with its least likely class
    assert float(softmax(scores)[np.arange(4), t].min()) < 1e-7
    assert max(gradient_check(net, x, t, mode="full").values()) < 1e-4
