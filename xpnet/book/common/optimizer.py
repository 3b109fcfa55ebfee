"""The book's ``common.optimizer``: xpnet's optimizers."""
import numpy as np  # noqa: F401  (the book's star import brings np)

from xpnet.optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop  # noqa: F401
