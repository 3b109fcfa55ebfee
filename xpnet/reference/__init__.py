"""The book's own algorithms, kept as the reference that xpnet is measured against.

These are *Deep Learning from Scratch*'s ``common/util.py`` and
``common/gradient.py`` almost verbatim (array module taken from the input, so
they also run on CuPy, and the input dtype kept instead of float64). Tests check
xpnet's fast kernels against them; benchmarks show them as the "book" row.
Nothing in xpnet's own code path calls them.
"""
from .book import (book_col2im, book_im2col, book_numerical_gradient, book_pool_backward,
                   book_pool_forward)

from .layers import BookConvolution, BookPooling, bookify

__all__ = ["BookConvolution", "BookPooling", "bookify", "book_col2im", "book_im2col", "book_numerical_gradient", "book_pool_backward",
           "book_pool_forward"]
