"""Train one of the book's networks: ``python train.py --help``.

``XPNET_DEVICE=gpu python train.py`` trains on the GPU. Same as ``xpnet-train``.
"""
import sys

if __name__ == "__main__":
    try:
        from xpnet.cli.train import console
    except KeyboardInterrupt:  # Ctrl-C while Python loads NumPy and xpnet: nothing started yet
        print("train.py: interrupted before training started", file=sys.stderr)
        sys.exit(130)
    sys.exit(console())
