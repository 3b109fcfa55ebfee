"""The book's ``common.util``: xpnet's helpers and its im2col / col2im kernels."""
import numpy as np  # noqa: F401  (the book's star import brings np)

from xpnet.kernels import col2im, im2col  # noqa: F401
from xpnet.util import conv_output_size, shuffle_dataset, smooth_curve  # noqa: F401
