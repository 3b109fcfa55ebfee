"""Array-expression versions of fused kernels, for any array module ``xp``.

The GPU runs these as they are (CuPy fuses little, but each pass is cheap
there); the CPU uses them for small or non-contiguous arrays. One definition
for both keeps the two devices' results the same, NaN included.
"""

# Below this many elements one NumPy pass is quicker than waking the CPU kernels' threads, and
# the kernels (and Numba, 0.2 s to import) need not even be loaded.
PARALLEL_MIN_SIZE = 1 << 16


def relu_forward_expression(xp, x):
    """max(0, x); a NaN stays NaN, as in the book's Relu."""
    return xp.maximum(x, 0)


def relu_backward_expression(xp, dout, out):
    """0 where the ReLU's output is <= 0 (the book's mask), ``dout`` elsewhere."""
    return xp.where(out <= 0, dout.dtype.type(0), dout)


def adam_expressions(xp, param, grad, m, v, lr_t, beta1, beta2, eps):
    """The book's Adam step, in place: moments m and v, then the parameter."""
    m += (1 - beta1) * (grad - m)
    v += (1 - beta2) * (grad ** 2 - v)
    param -= lr_t * m / (xp.sqrt(v) + eps)


def channels_to_nchw(xp, cols, bias, shape):
    """Channel-major (C, N*H*W) values plus ``bias``, as contiguous (N, C, H, W)."""
    N, C, H, W = shape
    out = xp.empty((N, C, H * W), dtype=cols.dtype)
    xp.add(cols.reshape(C, N, H * W).transpose(1, 0, 2), bias.reshape(C, 1), out=out)
    return out.reshape(shape)


def nchw_to_channels(xp, x):
    """(N, C, H, W) -> a new (C, N*H*W) array."""
    N, C, H, W = x.shape
    return xp.ascontiguousarray(x.transpose(1, 0, 2, 3)).reshape(C, N * H * W)


def cross_entropy_rows(xp, scores, labels, eps):
    """-log(softmax(scores[r])[labels[r]] + eps) per row; with eps = 0, log(sum exp) - score."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    rows = xp.arange(len(labels))
    if eps == 0:
        return xp.log(e.sum(axis=1)) - shifted[rows, labels]
    return -xp.log(e[rows, labels] / e.sum(axis=1) + eps)


def batch_norm_forward(xp, x, gamma, beta, eps):
    """Per-channel batch normalization of (N, C, H, W) in training mode, in NCHW order (no
    transposes): (out, mean, var, inv_std), the statistics per channel as (C,) arrays."""
    mean = x.mean(axis=(0, 2, 3))
    xc = x - mean[:, None, None]
    var = (xc ** 2).mean(axis=(0, 2, 3))
    inv_std = 1 / xp.sqrt(var + eps)
    return xc * (gamma * inv_std)[:, None, None] + beta[:, None, None], mean, var, inv_std


def batch_norm_backward(xp, dout, x, mean, inv_std, gamma):
    """(dx, dgamma, dbeta) of ``batch_norm_forward``: with xn the normalized input and M the
    values per channel, dx = gamma inv_std (dout - sum(dout)/M - xn sum(dout xn)/M)."""
    m = dout.size // dout.shape[1]
    xn = (x - mean[:, None, None]) * inv_std[:, None, None]
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * xn).sum(axis=(0, 2, 3))
    dx = (dout - (dbeta / m)[:, None, None] - xn * (dgamma / m)[:, None, None])
    return dx * (gamma * inv_std)[:, None, None], dgamma, dbeta
