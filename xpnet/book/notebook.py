"""``xpnet-book NOTEBOOK.ipynb``: execute a notebook headless, in a real Jupyter kernel, on the book face.

The kernel is an IPython kernel (ipykernel) on this very Python, started in
the notebook's folder; before the first cell it loads ``%load_ext
xpnet.book`` (unless the notebook does so itself), so that the cells'
``common.*`` and ``dataset.*`` are xpnet's. Cells run one by one through
nbclient, each announced on stderr with its time; plots stay inline, and
printed ``\\r`` progress is collapsed to what a screen would show. The executed
notebook, outputs and plots included, is written beside the original
(``NAME.executed.ipynb``) or to ``--output``, also when a cell fails or the run
is interrupted: what ran is kept.
"""
import os
import sys
import tempfile
import time

from .._threads import BOOK_FACE
from ..errors import XpnetError
from ..files import atomic_write

LOAD = "%load_ext xpnet.book"


def default_output(path):
    """Where the executed copy of ``path`` goes unless told: beside it."""
    stem = path[:-len(".ipynb")] if path.endswith(".ipynb") else path
    return stem + ".executed.ipynb"


def _libraries():
    try:
        import nbclient
        import nbformat
        import ipykernel  # noqa: F401  (the kernel)
    except ImportError as e:
        raise XpnetError(f"running a notebook needs nbclient and ipykernel ({e.name} is "
                         "missing): pip install 'xpnet[notebook]'") from None
    return nbformat, nbclient


def read(path, nbformat):
    """The notebook at ``path``; an error naming the file if it is not one."""
    if not os.path.isfile(path):
        raise XpnetError(f"{path}: no such file")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as e:  # JSON or schema errors, whatever nbformat raises
        raise XpnetError(f"{path}: not a Jupyter notebook ({type(e).__name__}: {e})") from None


def _kernel_manager(sockets):
    """A kernel manager for an IPython kernel on this Python (where xpnet is installed),
    whatever other kernels named "python3" the machine has; where the system has them, it
    talks over socket files in the folder ``sockets``, not over TCP ports."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())

    if os.name != "posix":
        return AsyncKernelManager(kernel_spec_manager=ThisPython(), kernel_name="python3")
    return AsyncKernelManager(kernel_spec_manager=ThisPython(), kernel_name="python3",
                         transport="ipc", ip=os.path.join(sockets, "kernel"))


def _kernel_env():
    """The kernel's environment: this one, less a MPLBACKEND that would keep plots out of
    the notebook (ipykernel then picks its inline backend, as Jupyter and Colab do), and
    marked as running the book's code (thread settings: see xpnet/_threads.py)."""
    env = dict(os.environ, **{BOOK_FACE: "1"})
    env.pop("MPLBACKEND", None)
    return env


def _preamble(nb, seed):
    """The code run, unrecorded, before the first cell."""
    lines = []
    if not any(c.cell_type == "code" and LOAD in c.source for c in nb.cells):
        lines.append(LOAD)
    if seed is not None:
        lines.append(f"import numpy; numpy.random.seed({int(seed)})")
    return "\n".join(lines)


def _first_line(cell, width=60):
    line = next((s for s in cell.source.splitlines() if s.strip()), "")
    return line if len(line) <= width else line[:width - 3] + "..."


def _errors(cell):
    return [o for o in cell.get("outputs", ()) if o.get("output_type") == "error"]


def execute(path, output=None, allow_errors=False, timeout=None, seed=None):
    """Run every code cell of the notebook at ``path``; write the executed notebook; exit code.

    0 when every cell ran (or ``allow_errors`` and some raised), 1 naming the
    first failing cell otherwise, 130 on Ctrl-C.
    """
    nbformat, nbclient = _libraries()
    from jupyter_core.utils import run_sync
    nb = read(path, nbformat)
    output = output or default_output(path)
    sockets = tempfile.TemporaryDirectory(prefix="xpnet-kernel-")
    folder = os.path.dirname(os.path.abspath(path))
    client = nbclient.NotebookClient(
        nb, km=_kernel_manager(sockets.name), timeout=timeout, allow_errors=allow_errors,
        coalesce_streams=True, shutdown_kernel="immediate",
        resources={"metadata": {"path": folder}})
    status, raised = 1, []
    try:
        with sockets, client.setup_kernel(env=_kernel_env(), cleanup_kc=True):
            try:
                _prepare(client, nbformat, _preamble(nb, seed))
                status, raised = _run_cells(client, nbclient.exceptions, output)
            except KeyboardInterrupt:
                run_sync(client.km.interrupt_kernel)()  # the cell stops now, not at its end
                print("interrupted", file=sys.stderr)
                status = 130
    except nbclient.exceptions.DeadKernelError as e:
        print(f"\nxpnet-book: the kernel died ({e})", file=sys.stderr)
    finally:
        with atomic_write(output, "w") as f:
            nbformat.write(nb, f)
    for i, error in raised:
        print(f"xpnet-book: cell {i + 1} raised {error['ename']}: {error['evalue']} (allowed)",
              file=sys.stderr)
    print(f"xpnet-book: wrote {output}", file=sys.stderr)
    return status


def _run_cells(client, exceptions, output):
    """(exit status, [(cell index, error output)] of the cells allowed to raise)."""
    cells = client.nb.cells
    code = [i for i, cell in enumerate(cells) if cell.cell_type == "code" and cell.source.strip()]
    raised = []
    for n, i in enumerate(code, 1):
        print(f"xpnet-book: [{n}/{len(code)}] cell {i + 1}: {_first_line(cells[i])}", end=" ",
              file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            client.execute_cell(cells[i], i)
        except exceptions.CellTimeoutError:
            print("timed out", file=sys.stderr)
            print(f"xpnet-book: cell {i + 1} ran past --timeout {client.timeout:g} s",
                  file=sys.stderr)
            return 1, raised
        except exceptions.CellExecutionError as e:
            print("failed", file=sys.stderr)
            print(f"xpnet-book: cell {i + 1} failed: {e.ename}: {e.evalue} (its traceback is in "
                  f"{output}; --allow-errors runs on past it)", file=sys.stderr)
            return 1, raised
        print(f"{time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        raised += [(i, error) for error in _errors(cells[i])]
    return 0, raised


def _prepare(client, nbformat, source):
    """Run ``source`` in the kernel without recording it in the notebook; its printed line
    (the book face's one-line notice) goes to stderr."""
    if not source:
        return
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.insert(0, cell)  # nbclient stores an executed cell back at its index
    try:
        client.execute_cell(cell, 0, store_history=False)
    except Exception as e:
        raise XpnetError(f"the kernel could not load xpnet's book face: {e}") from None
    finally:
        client.nb.cells.pop(0)
    for out in cell.outputs:
        if out.get("output_type") == "stream":
            print(out["text"].rstrip(), file=sys.stderr)
