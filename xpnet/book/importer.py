"""Serving the book's ``common`` and ``dataset`` packages from xpnet.

``install()`` puts a finder first on ``sys.meta_path``: ``import common`` and
``import dataset`` give xpnet's packages of those names (``xpnet/book/common``,
``xpnet/book/dataset``), whatever ``sys.path`` holds, so xpnet's modules win
for every name the book's packages have. The package's search path also
lists the reader's own ``common/`` and ``dataset/`` folders (found on
``sys.path`` when the package is first imported, e.g. after the scripts'
``sys.path.append(os.pardir)``), so a module only the reader has is imported
from there, as it is, on top of xpnet's.
"""
import importlib.machinery
import os
import sys

PACKAGES = ("common", "dataset")
HERE = os.path.dirname(os.path.abspath(__file__))


def readers_folders(name):
    """The reader's folders called ``name`` on sys.path (not xpnet's), in sys.path order."""
    found = []
    for entry in sys.path:
        folder = os.path.abspath(os.path.join(entry or os.curdir, name))
        if os.path.isdir(folder) and folder != os.path.join(HERE, name) and folder not in found:
            found.append(folder)
    return found


class BookPackages:
    """Finds xpnet's ``common`` and ``dataset``, with the reader's folders behind them.

    A meta path finder needs only ``find_spec``; importlib.abc's base class would
    cost every xpnet-book run 8 ms of imports (importlib.resources and what it loads).
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in PACKAGES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, [HERE])
        spec.submodule_search_locations.extend(readers_folders(fullname))
        return spec


def install():
    """Serve ``common`` and ``dataset`` from xpnet from now on (once)."""
    if not any(isinstance(finder, BookPackages) for finder in sys.meta_path):
        sys.meta_path.insert(0, BookPackages())


def uninstall():
    """Stop serving them: the next ``import common`` finds the reader's own again."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, BookPackages)]


def imported():
    """The modules of ``common`` and ``dataset`` (and their submodules) imported so far."""
    return {name: module for name, module in sys.modules.items()
            if name.split(".")[0] in PACKAGES}
