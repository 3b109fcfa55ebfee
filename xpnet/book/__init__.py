"""The book face: the book's scripts, and readers' code written against the book's packages, on xpnet.

``xpnet-book SCRIPT [ARGS...]`` (or ``python -m xpnet.book SCRIPT``) runs a
script as ``python SCRIPT`` would, with ``common.*`` and ``dataset.*`` served
by xpnet (``importer``), float64 as the book computes (unless XPNET_DTYPE
says otherwise), NumPy's global generator drawing weights, dropout masks and
mini-batches in the book's order, and the reader's ``pickle.load`` calls going
through xpnet's restricted unpickler. ``%load_ext xpnet.book`` does the same
for the cells of a Jupyter or Colab kernel (``extension``), and
``xpnet-book NOTEBOOK.ipynb`` executes a whole notebook that way in a
Jupyter kernel of its own (``notebook``). The modules under
``common/`` and ``dataset/`` re-export xpnet's own functions and classes under
the book's names; nothing below this package imports it.
"""


def load_ipython_extension(ipython):
    """``%load_ext xpnet.book``: see xpnet/book/extension.py."""
    from .extension import load
    load(ipython)


def unload_ipython_extension(ipython):
    """``%unload_ext xpnet.book``."""
    from .extension import unload
    unload(ipython)
