"""Train one of the book's networks: ``python train.py --help``.

``XPNET_DEVICE=gpu python train.py`` trains on the GPU. Same as ``xpnet-train``.
"""
import sys

from xpnet.cli.train import console

if __name__ == "__main__":
    sys.exit(console())
