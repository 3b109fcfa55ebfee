"""MNIST and Fashion-MNIST as the book's ``dataset/mnist.py`` returns them; CIFAR-10 and
``.npz`` files of one's own the same way; the book's weights."""
from .arrays import load_npz
from .cifar10 import CIFAR10, load_cifar10
from .idx import parse_idx, read_idx
from .mnist import FASHION_MNIST, MNIST, load_fashion_mnist, load_mnist
from .weights import BOOK_WEIGHTS, book_weights

__all__ = ["BOOK_WEIGHTS", "CIFAR10", "FASHION_MNIST", "MNIST", "book_weights",
           "load_cifar10", "load_fashion_mnist", "load_mnist", "load_npz", "parse_idx",
           "read_idx"]
