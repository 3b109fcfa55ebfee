"""Where xpnet computes something else than the book, on purpose: each difference is exactly the
book's bug that README lists, and nothing more."""
import numpy as np

import xpnet
from xpnet.functions import cross_entropy_error, softmax
from xpnet.layers import Pooling, SoftmaxWithLoss
from xpnet.models import MultiLayerNetExtend
from xpnet.numerical import loop_numerical_gradient


def test_labels_shaped_n_by_1_are_n_class_ids(rng):
    """The book indexes y[arange(N), t] with t (N, 1): an N x N table, for N > 1."""
    y = softmax(rng.standard_normal((4, 3)))
    t = np.array([[2], [0], [1], [1]])
    book = -np.sum(np.log(y[np.arange(4), t] + 1e-7)) / 4  # the book's expression, as written
    table = -np.log(y[:, t.reshape(-1)] + 1e-7).sum() / 4  # ... which sums all N x N pairs
    assert book == table
    ours = cross_entropy_error(y, t)
    assert ours == cross_entropy_error(y, t.reshape(-1)) and ours != book
    assert abs(SoftmaxWithLoss().forward(np.log(y), t) - ours) < 1e-15  # softmax(log y) = y
    one = t[:1]  # N = 1, as ch07 gradient_check: the same
    assert cross_entropy_error(y[:1], one) == -np.sum(np.log(y[np.arange(1), one] + 1e-7))


def test_numerical_gradient_with_dropout_uses_one_set_of_masks(rng):
    """The book draws new masks for every loss it evaluates, so the loss it differentiates is
    not a function of the parameters; xpnet keeps the masks of the last training forward."""
    xpnet.set_dtype("float64")
    net = MultiLayerNetExtend(6, [5], 3, use_dropout=True, dropout_ration=0.3)
    x, t = rng.random((4, 6)), np.array([0, 2, 1, 1])
    assert net.loss(x, t, train_flg=True) != net.loss(x, t, train_flg=True)  # the book's f
    numeric = net.numerical_gradient(x, t)
    frozen = loop_numerical_gradient(net, x, t)  # the loop, masks held
    for key in numeric:
        np.testing.assert_allclose(numeric[key], frozen[key], rtol=0, atol=1e-9)


def test_pooling_with_padding_pools_the_padded_input(rng):
    """The book's output size ignores pad (its forward fails); xpnet pools the padded input."""
    x = rng.standard_normal((2, 3, 6, 6))
    padded = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
    ours = Pooling(2, 2, 2, pad=1).forward(x)
    np.testing.assert_array_equal(ours, Pooling(2, 2, 2).forward(padded))
    assert ours.shape[2] == 4 and int(1 + (6 - 2) / 2) == 3  # the book's out_h
