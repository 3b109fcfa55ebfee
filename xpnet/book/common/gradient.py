"""The book's ``common.gradient``: xpnet's numerical gradients (the book's loop, restored elements)."""
import numpy as np  # noqa: F401  (the book's star import brings np)

from xpnet.numerical import (_numerical_gradient_1d, numerical_gradient,  # noqa: F401
                             numerical_gradient_2d)
