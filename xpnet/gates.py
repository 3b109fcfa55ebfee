"""The perceptron logic gates of chapter 2: weights and biases, then a step."""
import numpy as np


def _perceptron(x1, x2, w1, w2, b):
    return 1 if w1 * x1 + w2 * x2 + b > 0 else 0


def AND(x1, x2):
    return _perceptron(x1, x2, 0.5, 0.5, -0.7)


def NAND(x1, x2):
    return _perceptron(x1, x2, -0.5, -0.5, 0.7)


def OR(x1, x2):
    return _perceptron(x1, x2, 0.5, 0.5, -0.2)


def XOR(x1, x2):
    """Not linearly separable: two layers of perceptrons, NAND and OR into AND."""
    return AND(NAND(x1, x2), OR(x1, x2))


def truth_table(gate):
    """[(x1, x2, gate(x1, x2)), ...] for the four inputs, for printing or testing."""
    return [(a, b, gate(a, b)) for a, b in np.ndindex(2, 2)]


__all__ = ["AND", "NAND", "OR", "XOR", "truth_table"]
