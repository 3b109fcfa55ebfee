"""The commands' argument parser: one-line argument errors, defaults shown in --help."""
import argparse


class Parser(argparse.ArgumentParser):
    """An ArgumentParser with one-line errors (not usage + error) and defaults in its help."""

    def __init__(self, **kwargs):
        super().__init__(formatter_class=argparse.ArgumentDefaultsHelpFormatter, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")
