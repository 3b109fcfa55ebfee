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
