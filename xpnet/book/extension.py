"""``%load_ext xpnet.book`` in Jupyter and Colab: the book face for the cells of a kernel.

From the cell that loads it on, the kernel imports xpnet's ``common.*`` and
``dataset.*`` (the reader's own modules on top, as ``xpnet-book`` serves a
script), computes in float64 on the CPU, draws from NumPy's global generator
in the book's order and reads the reader's pickles through the restricted
unpickler. ``%unload_ext xpnet.book`` gives the kernel back what it had.
"""
import pickle
import sys

from .. import backend
from ..backend import random
from . import importer, runner

_saved = None  # what the kernel had before the extension was loaded


def load(ipython=None):
    """Put the book face in place for this kernel; one line says what happened."""
    global _saved
    if _saved is not None:  # loaded already (IPython itself says so to %load_ext)
        return
    before = importer.imported()
    _saved = {"device": backend.get_device(), "dtype": backend.get_dtype(),
              "numpy_global": random.uses_numpy_global(), "load": pickle.load,
              "modules": before}
    _forget(before)  # the kernel's own common/dataset, if it imported them: xpnet's from now
    runner.prepare()
    print("xpnet.book: common.* and dataset.* are xpnet's from here on (float64 on the CPU, "
          "NumPy's global generator in the book's order, pickles through the restricted "
          "unpickler); %unload_ext xpnet.book gives the kernel its own back")


def unload(ipython=None):
    """Undo ``load``: the kernel's own packages, dtype, device, generator and pickle.load."""
    global _saved
    if _saved is None:
        return
    importer.uninstall()
    _forget(importer.imported())
    sys.modules.update(_saved["modules"])
    pickle.load = _saved["load"]
    random.use_numpy_global(_saved["numpy_global"])
    backend.set_dtype(_saved["dtype"])
    backend.set_device(_saved["device"])
    _saved = None
    print("xpnet.book: unloaded; common.* and dataset.* are the kernel's own again")


def _forget(modules):
    for name in modules:
        sys.modules.pop(name, None)
