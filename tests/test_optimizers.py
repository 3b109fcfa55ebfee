"""Optimizer steps against values computed by hand."""
import numpy as np
import pytest

from xpnet import asnumpy, to_device
from xpnet.errors import ShapeError
from xpnet.kernels import adam_update
from xpnet.kernels.cpu import PARALLEL_MIN_SIZE
from xpnet.kernels.expressions import adam_expressions
from xpnet.optimizers import (SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop, get_optimizer)

# one parameter p = 1.0, gradient g = 0.5 in both steps; a new optimizer, the expected p after
# each step
G = 0.5
EXPECTED = {
    "SGD": (lambda: SGD(lr=0.1), [1 - 0.05, 1 - 0.10]),
    # v1 = -0.05; v2 = 0.9 * -0.05 - 0.05 = -0.095
    "Momentum": (lambda: Momentum(lr=0.1, momentum=0.9), [0.95, 0.95 - 0.095]),
    # the book's order: p moves with the previous step's v, then v is updated
    # p1 = 1 + 0.81 * 0 - 1.9 * 0.05 = 0.905, v1 = -0.05
    # p2 = 0.905 + 0.81 * -0.05 - 0.095 = 0.7695, v2 = -0.095
    "Nesterov": (lambda: Nesterov(lr=0.1, momentum=0.9), [0.905, 0.7695]),
    # h1 = 0.25: p1 = 1 - 0.1 * 0.5 / (0.5 + 1e-7); h2 = 0.5: p2 = p1 - 0.05 / (sqrt(0.5) + 1e-7)
    "AdaGrad": (lambda: AdaGrad(lr=0.1), [1 - 0.05 / (0.5 + 1e-7),
                                  1 - 0.05 / (0.5 + 1e-7) - 0.05 / (0.5 ** 0.5 + 1e-7)]),
    # h1 = 0.01 * 0.25 = 0.0025: p1 = 1 - 0.05 / (0.05 + 1e-7)
    # h2 = 0.99 * 0.0025 + 0.0025 = 0.004975: p2 = p1 - 0.05 / (sqrt(0.004975) + 1e-7)
    "RMSprop": (lambda: RMSprop(lr=0.1, decay_rate=0.99), [1 - 0.05 / (0.05 + 1e-7),
                1 - 0.05 / (0.05 + 1e-7) - 0.05 / (0.004975 ** 0.5 + 1e-7)]),
    # step 1: m = 0.05, v = 0.00025, lr_t = 0.1 * sqrt(0.001) / 0.1 -> p1 = 1 - 0.1*sqrt(.001)/.1 * .05/(sqrt(.00025)+1e-7)
    "Adam": (lambda: Adam(lr=0.1), [1 - (0.1 * 0.001 ** 0.5 / 0.1) * 0.05 / (0.00025 ** 0.5 + 1e-7),
                            None]),
}


def _adam_two_steps():
    m = v = 0.0
    p = 1.0
    for i in (1, 2):
        lr_t = 0.1 * (1 - 0.999 ** i) ** 0.5 / (1 - 0.9 ** i)
        m += 0.1 * (G - m)
        v += 0.001 * (G * G - v)
        p -= lr_t * m / (v ** 0.5 + 1e-7)
    return p


@pytest.mark.parametrize("name", EXPECTED)
def test_two_steps_by_hand(device, name):
    new_optimizer, expected = EXPECTED[name]
    optimizer = new_optimizer()  # its state on this test's device
    if name == "Adam":
        expected = [expected[0], _adam_two_steps()]
    params = {"p": device.send(np.array([1.0]))}
    array = params["p"]
    for want in expected:
        optimizer.update(params, {"p": device.send(np.array([G]))})
        assert asnumpy(params["p"])[0] == pytest.approx(want, rel=1e-12)
    assert params["p"] is array  # updated in place: layers holding it see the change


def test_state_lives_on_the_parameter_device(device):
    params = {"p": device.send(np.ones(3))}
    opt = Adam()
    opt.update(params, {"p": device.send(np.ones(3))})
    assert type(opt.m["p"]) is type(params["p"])


def test_state_dict_round_trip():
    params = {"p": np.ones(3)}
    a = Adam(lr=0.01)
    for _ in range(3):
        a.update(params, {"p": np.full(3, 0.3)})
    b = Adam(lr=0.01)
    b.load_state_dict(a.state_dict(), params)
    pa, pb = {"p": params["p"].copy()}, {"p": params["p"].copy()}
    a.update(pa, {"p": np.full(3, -0.2)})
    b.update(pb, {"p": np.full(3, -0.2)})
    np.testing.assert_array_equal(pa["p"], pb["p"])


def test_get_optimizer_by_name():
    assert isinstance(get_optimizer("RMSprop", lr=0.1), RMSprop)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprpo'; choose one of: sgd, momentum"):
        get_optimizer("rmsprpo")
    for lr in (0, -1, float("nan"), float("inf"), "0.1", None):
        with pytest.raises(ValueError, match="SGD: learning rate must be a finite number > 0"):
            SGD(lr=lr)
    for make in (lambda: Momentum(momentum=1.0), lambda: RMSprop(decay_rate=float("nan")),
                 lambda: Adam(beta1=-0.1), lambda: Adam(beta2=1)):
        with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
            make()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_fused_adam_step_equals_the_books_formulas_bit_for_bit(device, dtype, layout):
    rng = np.random.default_rng(0)
    shape = (PARALLEL_MIN_SIZE // 64, 128)  # large enough for the CPU's fused kernel
    param, grad, m = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    v = rng.random(shape).astype(dtype)
    if layout == "transposed":  # not contiguous: must still be updated in place
        param, grad, m, v = (a.T for a in (param, grad, m, v))
    expected = [a.copy() for a in (param, grad, m, v)]
    adam_expressions(np, *expected, 0.0123, 0.9, 0.999, 1e-7)
    arrays = [to_device(a) for a in (param, grad, m, v)]
    adam_update(*arrays, 0.0123, 0.9, 0.999, 1e-7)
    for name, got, want in zip(("param", "grad", "m", "v"), arrays, expected):
        np.testing.assert_array_equal(asnumpy(got), want, err_msg=name)


def test_adam_update_names_a_mismatched_shape():
    p = np.zeros((3, 4))
    with pytest.raises(ShapeError, match=r"adam_update: v has shape \(4, 3\), the parameter \(3, 4\)"):
        adam_update(p, np.zeros((3, 4)), np.zeros((3, 4)), np.zeros((4, 3)), 0.1, 0.9, 0.999, 1e-7)


def test_python_numbers_are_updated_as_the_book_updates_them():
    """The book's optimizer_compare_naive keeps x and y as Python floats."""
    for optimizer in (SGD(lr=0.95), Momentum(lr=0.1), AdaGrad(lr=1.5), Adam(lr=0.3)):
        params = {"x": -7.0, "y": 2.0}
        for _ in range(3):
            optimizer.update(params, {"x": params["x"] / 10.0, "y": 2.0 * params["y"]})
        arrays = {"x": np.array(-7.0), "y": np.array(2.0)}
        twin = type(optimizer)(lr=optimizer.lr)
        for _ in range(3):
            twin.update(arrays, {"x": arrays["x"] / 10.0, "y": 2.0 * arrays["y"]})
        assert isinstance(params["x"], np.floating) and params["x"] == arrays["x"]
        assert params["y"] == arrays["y"]
