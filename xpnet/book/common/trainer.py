"""The book's ``common.trainer``: xpnet's Trainer, on the book's schedule (its default)."""
import os  # noqa: F401  (the book's module imports these; star imports bring them)
import sys  # noqa: F401

import numpy as np  # noqa: F401

from xpnet.trainer import Trainer  # noqa: F401

from .optimizer import *  # noqa: F401,F403
