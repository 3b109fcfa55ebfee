"""Every layer's backward against a numerical gradient (float64), on every device.

Tolerance: rtol 1e-5, atol 1e-7. Central differences with h = 1e-4 have a
truncation error of about h^2 * f''' ~ 1e-8 on these smooth, O(1) functions;
inputs of ReLU and max pooling are kept more than h away from their kinks
(|x| >= 0.05, and pooling values at least 1e-2 apart), where the numerical
gradient would be wrong by design.
"""
import numpy as np
import pytest

from xpnet import asnumpy, to_device
from xpnet.errors import DTypeError, LabelError, ShapeError
from xpnet.kernels.cpu import PARALLEL_MIN_SIZE
from xpnet.layers import affine as affine_module
from xpnet.layers import (AddLayer, Affine, BatchNormalization, Convolution, Dropout, MulLayer,
                          Pooling, Relu, Sigmoid, SoftmaxWithLoss)

from helpers import assert_grads_close, layer_gradients


def away_from_zero(rng, shape, margin=0.05):
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin * 2, x)


def distinct_values(rng, shape):
    """Values at least 1e-2 apart, shuffled: no max-pool window is within h of a tie."""
    return (rng.permutation(int(np.prod(shape))) * 1e-2).reshape(shape) - 1.0


def test_mul_and_add_layers_book_example():
    apple, num, tax = 100, 2, 1.1
    mul_apple, mul_tax = MulLayer(), MulLayer()
    price = mul_tax.forward(mul_apple.forward(apple, num), tax)
    assert price == pytest.approx(220.0)
    dapple_price, dtax = mul_tax.backward(1)
    dapple, dnum = mul_apple.backward(dapple_price)
    assert (dapple, dnum, dtax) == pytest.approx((2.2, 110.0, 200.0))
    assert AddLayer().backward(3.0) == (3.0, 3.0)


def test_mul_layer_gradient(device, rng):
    x, y = to_device(rng.standard_normal((3, 4))), to_device(rng.standard_normal((3, 4)))
    R = to_device(rng.standard_normal((3, 4)))
    layer = MulLayer()
    assert_grads_close(layer_gradients(lambda: layer.forward(x, y), layer.backward, [x, y], R))


@pytest.mark.parametrize("cls", [Relu, Sigmoid])
def test_activation_gradients(device, cls, rng):
    x = to_device(away_from_zero(rng, (4, 5)))
    R = to_device(rng.standard_normal((4, 5)))
    layer = cls()
    pairs = layer_gradients(lambda: layer.forward(x), lambda d: [layer.backward(d)], [x], R)
    assert_grads_close(pairs)


def test_relu_leaves_callers_arrays_alone(device):
    x = to_device(np.array([-1.0, 2.0]))
    dout = to_device(np.array([5.0, 7.0]))
    layer = Relu()
    out = layer.forward(x)
    np.testing.assert_array_equal(asnumpy(layer.backward(dout)), [0.0, 7.0])
    np.testing.assert_array_equal(asnumpy(dout), [5.0, 7.0])
    np.testing.assert_array_equal(asnumpy(x), [-1.0, 2.0])
    assert out is not x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [50, 3 * PARALLEL_MIN_SIZE])  # NumPy path, parallel kernel
def test_relu_equals_the_books_relu_even_on_nan(device, size, dtype, rng):
    x = rng.standard_normal(size).astype(dtype)
    x[:4] = [np.nan, -0.0, 0.0, np.inf]
    dout = rng.standard_normal(size).astype(dtype)
    mask = x <= 0  # the book's Relu
    book_out, book_dx = x.copy(), dout.copy()
    book_out[mask], book_dx[mask] = 0, 0
    layer = Relu()
    out = layer.forward(to_device(x))
    dx = layer.backward(to_device(dout))
    np.testing.assert_array_equal(asnumpy(out), book_out)
    np.testing.assert_array_equal(asnumpy(dx), book_dx)
    np.testing.assert_array_equal(asnumpy(layer.mask), mask)
    assert out.dtype == dx.dtype == dtype


@pytest.mark.parametrize("shape", [(3, 6), (3, 2, 3), (2, 1, 2, 3)])
def test_affine_gradient_any_input_shape(device, shape, rng):
    x = to_device(rng.standard_normal(shape))
    W, b = to_device(rng.standard_normal((6, 4))), to_device(rng.standard_normal(4))
    R = to_device(rng.standard_normal((shape[0], 4)))
    layer = Affine(W, b)

    def backward(d):
        dx = layer.backward(d)
        assert dx.shape == shape
        return [dx, layer.dW, layer.db]

    assert_grads_close(layer_gradients(lambda: layer.forward(x), backward, [x, W, b], R))


def test_affine_without_dx_sets_the_same_dW_and_db(device, rng):
    """A network's first layer skips dx (its input is the data): dW and db are unchanged."""
    x, dout = to_device(rng.standard_normal((4, 6))), to_device(rng.standard_normal((4, 3)))
    layer = Affine(to_device(rng.standard_normal((6, 3))), to_device(rng.standard_normal(3)))
    layer.forward(x)
    assert layer.backward(dout, need_dx=False) is None
    dW, db = layer.dW, layer.db
    layer.backward(dout)
    np.testing.assert_array_equal(asnumpy(dW), asnumpy(layer.dW))
    np.testing.assert_array_equal(asnumpy(db), asnumpy(layer.db))


@pytest.mark.parametrize("rows", [3, 1500])  # one block of cast rows, and several
def test_affine_float32_input_float64_weights(device, monkeypatch, rows, rng):
    """The book's float32 images times float64 weights: float64 results, as NumPy's mixed product."""
    monkeypatch.setattr(affine_module, "CAST_BYTES", 4096)  # 1500 rows -> 235 blocks
    x32 = rng.standard_normal((rows, 2, 4)).astype(np.float32)
    W, b = rng.standard_normal((8, 5)), rng.standard_normal(5)
    layer = Affine(to_device(W), to_device(b))
    out = layer.forward(to_device(x32))
    dout = rng.standard_normal((rows, 5))
    dx = layer.backward(to_device(dout))
    x64 = x32.reshape(rows, 8).astype(np.float64)
    assert out.dtype == dx.dtype == layer.dW.dtype == np.float64
    np.testing.assert_allclose(asnumpy(out), x64 @ W + b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(asnumpy(layer.dW), x64.T @ dout, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(asnumpy(dx), (dout @ W.T).reshape(rows, 2, 4), rtol=1e-12)


@pytest.mark.parametrize("one_hot", [True, False])
def test_softmax_with_loss_gradient(device, one_hot, rng):
    x = to_device(rng.standard_normal((5, 4)))
    labels = rng.integers(0, 4, 5)
    t = to_device(np.eye(4)[labels] if one_hot else labels)
    layer = SoftmaxWithLoss()
    pairs = layer_gradients(lambda: layer.forward(x, t), lambda d: [layer.backward(d)], [x], 2.0)
    # backward is (y - t) / N, the derivative of -log(y); the book's loss takes
    # -log(y + 1e-7), whose derivative is smaller by y / (y + 1e-7): ~1e-5 for small y
    assert_grads_close(pairs, rtol=1e-4)


def test_softmax_with_loss_grouped_evaluation(rng):
    x = rng.standard_normal((6, 4))
    t = rng.integers(0, 4, 3)
    layer = SoftmaxWithLoss()
    losses = layer.evaluate(x, t, groups=2)
    assert losses == pytest.approx([layer.forward(x[:3], t), layer.forward(x[3:], t)])


def test_dropout_is_the_books_and_draws_what_the_book_draws(rng):
    """Kept where np.random.rand(*x.shape) > ratio, the same draws; scaled by 1 - ratio at test."""
    from xpnet.backend.random import use_numpy_global
    x = rng.standard_normal((200, 50))
    layer = Dropout(0.3)
    use_numpy_global(True)
    try:
        np.random.seed(7)
        out = layer.forward(x, train_flg=True)
        np.random.seed(7)
        book_mask = np.random.rand(*x.shape) > 0.3
    finally:
        use_numpy_global(False)
    np.testing.assert_array_equal(out, x * book_mask)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), book_mask * 1.0)
    np.testing.assert_array_equal(layer.forward(x, train_flg=False), x * 0.7)


def test_inverted_dropout_scales_in_training(device, rng):
    x = to_device(rng.standard_normal((200, 50)))
    layer = Dropout(0.3, inverted=True)
    out = asnumpy(layer.forward(x, train_flg=True))
    kept = out != 0
    assert 0.6 < kept.mean() < 0.8
    np.testing.assert_allclose(out[kept], asnumpy(x)[kept] / 0.7)
    assert layer.forward(x, train_flg=False) is x
    np.testing.assert_allclose(asnumpy(layer.backward(to_device(np.ones((200, 50))))),
                               kept / 0.7)


def test_dropout_rejects_bad_ratio():
    with pytest.raises(ValueError, match=r"dropout_ratio must be in \[0, 1\), got 1.0"):
        Dropout(1.0)


@pytest.mark.parametrize("shape, features", [((6, 4), 4), ((5, 3, 2, 2), 3), ((5, 3, 2, 2), 12)])
def test_batch_norm_gradient(device, shape, features, rng):
    x = to_device(rng.standard_normal(shape))
    gamma = to_device(rng.standard_normal(features) + 1.0)
    beta = to_device(rng.standard_normal(features))
    R = to_device(rng.standard_normal(shape))
    layer = BatchNormalization(gamma, beta)

    def backward(d):
        dx = layer.backward(d)
        return [dx, layer.dgamma, layer.dbeta]

    pairs = layer_gradients(lambda: layer.forward(x, True), backward, [x, gamma, beta], R)
    assert_grads_close(pairs, rtol=1e-4, atol=1e-6)


def test_batch_norm_statistics(rng):
    x = rng.standard_normal((50, 3, 4, 4)) * 3 + 2
    layer = BatchNormalization(np.ones(3), np.zeros(3), momentum=0.0)
    out = layer.forward(x, train_flg=True)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-5)
    np.testing.assert_allclose(layer.running_mean, x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(layer.forward(x, train_flg=False), out, atol=1e-5)
    grouped = layer.evaluate(np.concatenate([x, x[::-1] * 2]), groups=2)
    np.testing.assert_allclose(grouped[:50], out, atol=1e-12)


@pytest.mark.parametrize("stride, pad", [(1, 0), (2, 1), (1, 2)])
def test_convolution_gradient(device, stride, pad, rng):
    x = to_device(rng.standard_normal((2, 3, 6, 5)))
    W = to_device(rng.standard_normal((4, 3, 3, 2)))
    b = to_device(rng.standard_normal(4))
    layer = Convolution(W, b, stride, pad)
    R = to_device(rng.standard_normal(layer.forward(x).shape))

    def backward(d):
        dx = layer.backward(d)
        return [dx, layer.dW, layer.db]

    assert_grads_close(layer_gradients(lambda: layer.forward(x), backward, [x, W, b], R))


@pytest.mark.parametrize("side", [8, 32])  # NumPy's im2col (small.py), Numba's
def test_convolution_writes_each_col_over_the_last(side, monkeypatch, rng):
    """A forward reuses the previous col's memory when it fits: the same results as fresh."""
    from xpnet.layers import convolution
    monkeypatch.setattr(convolution, "direct_conv_fits", lambda *args: False)  # im2col's path
    W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    x1, x2 = rng.standard_normal((2, 4, 3, side, side))
    layer, fresh = Convolution(W, b, 1, 1), Convolution(W, b, 1, 1)
    layer.forward(x1)
    first = layer.col
    out = layer.forward(x2)
    assert np.shares_memory(layer.col, first)
    np.testing.assert_array_equal(out, fresh.forward(x2))
    np.testing.assert_array_equal(layer.col, fresh.col)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(layer.backward(dout), fresh.backward(dout))
    np.testing.assert_array_equal(layer.dW, fresh.dW)
    layer.forward(x2.astype(np.float32))  # another dtype: a matrix of its own
    assert layer.col.dtype == np.float32 and not np.shares_memory(layer.col, first)
    layer.forward(x1)
    second = layer.col
    layer.forward(x2[:1])  # another batch size: likewise
    assert layer.col.shape == (side * side, 27) and not np.shares_memory(layer.col, second)


@pytest.mark.parametrize("side", [8, 32])
def test_convolution_without_a_kept_col_builds_it_by_groups(side, monkeypatch, rng):
    """Past KEEP_COL_BYTES: no col between forward and backward, the same results."""
    from xpnet.layers import convolution
    monkeypatch.setattr(convolution, "direct_conv_fits", lambda *args: False)  # im2col's path
    W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    x = rng.standard_normal((7, 3, side, side))
    kept = Convolution(W, b, 1, 1)
    out, dout = kept.forward(x), rng.standard_normal((7, 4, side, side))
    dx = kept.backward(dout)
    monkeypatch.setattr(convolution, "KEEP_COL_BYTES", 0)
    monkeypatch.setattr(convolution, "GROUP_COL_BYTES", 3 * side * side * 27 * 8)  # 3, 3, 1
    grouped = Convolution(W, b, 1, 1)
    np.testing.assert_allclose(grouped.forward(x), out, rtol=1e-12, atol=1e-12)
    assert grouped.col is None
    np.testing.assert_allclose(grouped.backward(dout), dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grouped.dW, kept.dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grouped.db, kept.db, rtol=1e-12, atol=1e-12)


@pytest.fixture
def direct_kernels(monkeypatch):
    """The direct 3x3 and 5x5 kernels on every input size, with several blocks and chunks
    of work."""
    import xpnet.kernels
    from xpnet.kernels import direct
    monkeypatch.setattr(xpnet.kernels, "PARALLEL_MIN_SIZE", 0)
    monkeypatch.setattr(xpnet.kernels, "NUMPY_WORK_BEFORE_JIT", 0)
    monkeypatch.setattr(direct, "BLOCK_POSITIONS", 40)
    monkeypatch.setattr(direct, "CHUNK_POSITIONS", 100)


DIRECT = [(3, 0), (3, 1), (3, 2), (5, 0), (5, 2), (5, 4)]  # (filter size, pad)


@pytest.mark.parametrize("size, pad", DIRECT)
def test_direct_convolution_gradient(direct_kernels, size, pad, rng):
    """3x3 and 5x5, stride 1 (DeepConvNet's, SimpleConvNet's): the direct kernels' backward,
    numerically."""
    x = rng.standard_normal((2, 3, 7, 6))
    W, b = rng.standard_normal((5, 3, size, size)), rng.standard_normal(5)  # an odd count
    layer = Convolution(W, b, 1, pad)
    R = rng.standard_normal(layer.forward(x).shape)
    assert layer.frames is not None and layer.col is None

    def backward(d):
        return [layer.backward(d), layer.dW, layer.db]

    assert_grads_close(layer_gradients(lambda: layer.forward(x), backward, [x, W, b], R))


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("size, pad", DIRECT)
def test_direct_convolution_equals_im2col(direct_kernels, monkeypatch, size, pad, dtype, tol,
                                          rng):
    """The direct kernels give im2col's results, in the input's dtype, need_dx or not."""
    from xpnet.layers import convolution
    x = rng.standard_normal((3, 4, 9, 8)).astype(dtype)
    W = rng.standard_normal((6, 4, size, size)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    direct = Convolution(W, b, 1, pad)
    out = direct.forward(x)
    dout = rng.standard_normal(out.shape).astype(dtype)
    got = [out, direct.backward(dout), direct.dW, direct.db]
    direct.forward(x)
    assert direct.backward(dout, need_dx=False) is None
    np.testing.assert_array_equal(direct.dW, got[2])
    monkeypatch.setattr(convolution, "direct_conv_fits", lambda *args: False)
    im2col = Convolution(W, b, 1, pad)
    expected = [im2col.forward(x), im2col.backward(dout), im2col.dW, im2col.db]
    for g, e in zip(got, expected):
        assert g.dtype == dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol * np.abs(e).max())


def test_direct_convolution_images_independent_of_batch(direct_kernels, rng):
    """Each image's output is the same bit for bit alone or in a batch (the numerical
    engine compares losses of batches of every size)."""
    x = rng.standard_normal((5, 3, 10, 10))
    for size in (3, 5):
        layer = Convolution(rng.standard_normal((4, 3, size, size)), rng.standard_normal(4), 1, 1)
        batch = layer.forward(x)
        for n in range(5):
            np.testing.assert_array_equal(layer.forward(x[n:n + 1])[0], batch[n])


@pytest.mark.parametrize("pool, stride, pad", [(2, 2, 0), (3, 1, 1), (2, 1, 0)])
def test_pooling_gradient(device, pool, stride, pad, rng):
    x = to_device(distinct_values(rng, (2, 3, 6, 6)))
    layer = Pooling(pool, pool, stride, pad)
    R = to_device(rng.standard_normal(layer.forward(x).shape))
    pairs = layer_gradients(lambda: layer.forward(x), lambda d: [layer.backward(d)], [x], R)
    assert_grads_close(pairs)


def _layer_run(layer_factory, x, dout):
    layer = layer_factory()
    out = layer.forward(x)
    return asnumpy(out), asnumpy(layer.backward(dout))


def test_gpu_layers_equal_cpu(gpu, rng):
    x = rng.standard_normal((4, 3, 8, 8)).astype(np.float32)
    W = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    for factory, shape_out in [
        (lambda xp_W, xp_b: Convolution(xp_W, xp_b, 1, 1), (4, 5, 8, 8)),
        (lambda xp_W, xp_b: Pooling(2, 2, 2), (4, 3, 4, 4)),
        (lambda xp_W, xp_b: Relu(), (4, 3, 8, 8)),
        (lambda xp_W, xp_b: Sigmoid(), (4, 3, 8, 8)),
    ]:
        dout = rng.standard_normal(shape_out).astype(np.float32)
        cpu = _layer_run(lambda: factory(W, b), x, dout)
        dev = _layer_run(lambda: factory(gpu.send(W), gpu.send(b)), gpu.send(x), gpu.send(dout))
        for c, g in zip(cpu, dev):
            np.testing.assert_allclose(g, c, rtol=1e-5, atol=1e-5)


def test_errors_name_layer_and_shapes():
    affine = Affine(np.zeros((6, 4)), np.zeros(4))
    affine.name = "Affine1"
    with pytest.raises(ShapeError, match=r"Affine1: input of shape \(2, 5\) does not fit W of shape \(6, 4\)"):
        affine.forward(np.zeros((2, 5)))
    conv = Convolution(np.zeros((4, 3, 3, 3)), np.zeros(4))
    with pytest.raises(ShapeError, match=r"Convolution: input of shape \(2, 1, 5, 5\) does not fit filters"):
        conv.forward(np.zeros((2, 1, 5, 5)))
    with pytest.raises(ShapeError, match=r"Pooling: expected a 4-D"):
        Pooling(2, 2).forward(np.zeros((2, 5)))
    with pytest.raises(LabelError, match=r"SoftmaxWithLoss: 3 labels for 2 samples"):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), np.zeros(3, dtype=int))
    with pytest.raises(DTypeError, match="Relu: expected a numeric array, got <U1"):
        Relu().forward(np.array(["a"]))
    with pytest.raises(ShapeError, match=r"BatchNormalization: input of shape \(2, 5\) does not fit gamma"):
        BatchNormalization(np.ones(4), np.zeros(4)).forward(np.zeros((2, 5)))


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_batch_norm_per_channel_kernels_equal_the_books_formulas(rng, dtype, tol):
    """The NCHW kernels (Numba for large inputs, expressions for small ones and the GPU) against
    the book's row formulation of the same normalization, values and gradients."""
    from xpnet.kernels import cpu, small
    x = (rng.standard_normal((16, 4, 32, 32)) * 3 + 1).astype(dtype)
    dout = rng.standard_normal(x.shape).astype(dtype)
    gamma, beta = (rng.standard_normal(4) + 1).astype(dtype), rng.standard_normal(4).astype(dtype)
    rows = BatchNormalization(gamma.copy(), beta.copy())  # the book's: (N*H*W, C) rows
    expected = rows.forward(x.transpose(0, 2, 3, 1).reshape(-1, 4)).reshape(16, 32, 32, 4)
    dx_rows = rows.backward(dout.transpose(0, 2, 3, 1).reshape(-1, 4)).reshape(16, 32, 32, 4)
    for kernels in (cpu, small):
        out, mean, var, inv_std = kernels.batch_norm_forward(x, gamma, beta, 10e-7)
        dx, dgamma, dbeta = kernels.batch_norm_backward(dout, x, mean, inv_std, gamma)
        np.testing.assert_allclose(out, expected.transpose(0, 3, 1, 2), rtol=tol, atol=tol)
        np.testing.assert_allclose(dx, dx_rows.transpose(0, 3, 1, 2), rtol=tol, atol=tol)
        np.testing.assert_allclose(dgamma, rows.dgamma, rtol=tol, atol=tol * 100)
        np.testing.assert_allclose(dbeta, rows.dbeta, rtol=tol, atol=tol * 100)
    layer = BatchNormalization(gamma.copy(), beta.copy(), momentum=0.5)
    layer.forward(x)
    np.testing.assert_allclose(layer.running_var, 0.5 * x.var(axis=(0, 2, 3)), rtol=tol)
