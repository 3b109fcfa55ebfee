"""Array-expression versions of fused kernels, for any array module ``xp``.

The GPU runs these as they are (CuPy fuses little, but each pass is cheap
there); the CPU uses them for small or non-contiguous arrays.
"""


def adam_expressions(xp, param, grad, m, v, lr_t, beta1, beta2, eps):
    """The book's Adam step, in place: moments m and v, then the parameter."""
    m += (1 - beta1) * (grad - m)
    v += (1 - beta2) * (grad ** 2 - v)
    param -= lr_t * m / (xp.sqrt(v) + eps)
