"""MNIST and Fashion-MNIST as the book's ``dataset/mnist.py`` returns them; the book's weights."""
from .idx import parse_idx, read_idx
from .mnist import FASHION_MNIST, MNIST, load_fashion_mnist, load_mnist
from .weights import BOOK_WEIGHTS, book_weights

__all__ = ["BOOK_WEIGHTS", "FASHION_MNIST", "MNIST", "book_weights", "load_fashion_mnist",
           "load_mnist", "parse_idx", "read_idx"]
