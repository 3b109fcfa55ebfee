"""The book's ``common.functions``: xpnet's activation and loss functions under the book's names."""
import numpy as np  # noqa: F401  (the book's star import brings np)

from xpnet.functions import (cross_entropy_error, identity_function, relu, relu_grad,  # noqa: F401
                             sigmoid, sigmoid_grad, softmax, softmax_loss, step_function,
                             sum_squared_error)
