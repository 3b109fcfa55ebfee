"""``xpnet-book``: run one of the book's scripts (or a reader's own) on xpnet; notebooks go to
``notebook``."""
import functools
import os
import pickle
import runpy
import sys

from .._threads import BOOK_FACE, book_face_keeps_openblas_default
from ..cli.common import run
from ..errors import XpnetError
from .importer import install


_VALUED = ("--seed", "--output", "--timeout")  # the options that take a value


def _target(argv):
    """The script or notebook ``argv`` names: its first word that is no option or option value."""
    words = iter(argv)
    for word in words:
        if word in _VALUED:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(notebook=False):
    from ..cli.parser import Parser
    p = Parser(prog="xpnet-book", description="Run a script or a Jupyter notebook written for the "
               "book's 'common' and 'dataset' packages (the book's own, or yours) with those "
               "packages served by xpnet: the book's numbers, computed by xpnet's kernels. Run it "
               "where you would run 'python SCRIPT', e.g. in the book's ch07 folder.")
    p.add_argument("--seed", type=int, default=None,
                   help="np.random.seed(SEED) before the script or the first cell runs (default: "
                        "not seeded)")
    p.add_argument("--output", default=None, help="notebooks: where the executed notebook goes "
                   "(default: beside it, NAME.executed.ipynb)")
    p.add_argument("--allow-errors", action="store_true", help="notebooks: run on past a cell "
                   "that raises (exit 0), as Jupyter's 'Run All' would not")
    p.add_argument("--timeout", type=float, default=None,
                   help="notebooks: seconds a cell may run (default: no limit)")
    p.add_argument("script", help="the Python file or the .ipynb notebook to run")
    if not notebook:  # a script's own arguments: everything after it, options included
        p.add_argument("args", nargs="...", help="arguments for a script (its sys.argv[1:])")
    return p


_REAL_LOAD = pickle.load


@functools.cache
def _installed():
    """The folders of installed code: the standard library's and site-packages'."""
    import sysconfig
    return tuple(os.path.abspath(sysconfig.get_paths()[key]) + os.sep
                 for key in ("stdlib", "platstdlib", "purelib", "platlib"))


def _guarded_load(file, **kwargs):
    """``pickle.load`` for the reader's code: the book's parameter pickles, through the
    restricted unpickler. Installed libraries (Numba's cache, for one) keep the real one."""
    caller = os.path.abspath(sys._getframe(1).f_code.co_filename)
    if caller.startswith(_installed()):
        return _REAL_LOAD(file, **kwargs)
    from .. import safe_pickle
    return safe_pickle.loads(file.read())


def prepare():
    """Everything the book face changes in this process, before a script runs.

    xpnet's backend takes the book's terms (``book_terms``) now if it is loaded (as in
    a notebook kernel, %load_ext), else when it is first imported (BOOK_FACE in the
    environment says so): a script that never computes with NumPy, like the book's
    pure-Python layers of chapter 5, then never waits for NumPy's import."""
    _note_the_cpu()
    book_face_keeps_openblas_default()
    if "xpnet.backend" in sys.modules:
        book_terms()
    else:
        os.environ[BOOK_FACE] = "1"
    install()
    pickle.load = _guarded_load


def book_terms():
    """The book's terms for xpnet's backend: the CPU, float64 (unless XPNET_DTYPE says
    otherwise), and NumPy's global generator, which draws in the book's order."""
    from .. import backend
    from ..backend.random import use_numpy_global
    backend.set_device("cpu")
    backend.set_dtype(os.environ.get("XPNET_DTYPE") or "float64")
    use_numpy_global(True)


def _note_the_cpu():
    """The book's code computes on the CPU, whatever XPNET_DEVICE says; one line says why.

    Its scripts and chapter modules make NumPy arrays themselves (``np.random.randn``
    weights, ``x_train[batch_mask]`` batches, losses handed to matplotlib), which a
    GPU's arrays cannot meet: xpnet's networks on a GPU would stop at the first
    batch, the book's own ones would run on the CPU anyway.
    """
    asked = os.environ.get("XPNET_DEVICE", "cpu").strip().lower() or "cpu"
    if asked != "cpu":
        print(f"xpnet-book: computing on the CPU (XPNET_DEVICE={asked} ignored): the book's "
              f"code makes NumPy arrays of its own; for the GPU, use xpnet's own API "
              f"(XPNET_DEVICE=gpu python train.py)", file=sys.stderr)


def run_script(script, args=(), seed=None):
    """Run ``script`` as ``__main__`` with ``args`` as its arguments, on the book face."""
    if not os.path.isfile(script):
        raise XpnetError(f"{script}: no such file")
    prepare()
    if seed is not None:
        import numpy
        numpy.random.seed(seed)
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    try:
        runpy.run_path(script, run_name="__main__")
    except Exception as e:  # the script's own error: its traceback, as python would print it
        import traceback
        tb = e.__traceback__
        while tb is not None and not _in_script(tb, script):
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb)
        return 1
    return 0


def _in_script(tb, script):
    return os.path.abspath(tb.tb_frame.f_code.co_filename) == os.path.abspath(script)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and not argv[0].startswith("-") and not argv[0].endswith(".ipynb"):
        return run("xpnet-book", run_script, argv[0], argv[1:])  # SCRIPT [ARGS...]: as python
    target = _target(argv)
    parser = build_parser(notebook=bool(target and target.endswith(".ipynb")))
    args = parser.parse_args(argv)
    if args.script.endswith(".ipynb"):
        from .notebook import execute
        return run(parser.prog, execute, args.script, args.output, args.allow_errors,
                   args.timeout, args.seed)
    if args.output or args.allow_errors or args.timeout is not None:
        parser.error("--output, --allow-errors and --timeout are for notebooks (.ipynb)")
    return run(parser.prog, run_script, args.script, args.args, args.seed)
