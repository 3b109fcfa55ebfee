"""Datasets: MNIST and Fashion-MNIST, as the book's ``dataset/mnist.py`` returns them."""
from .idx import parse_idx, read_idx
from .mnist import FASHION_MNIST, MNIST, load_fashion_mnist, load_mnist

__all__ = ["FASHION_MNIST", "MNIST", "load_fashion_mnist", "load_mnist", "parse_idx", "read_idx"]
