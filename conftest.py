"""Before any test imports CuPy: the real one where it has a CUDA device, else the strict stand-in.

With the stand-in (tests/cupy_standin, never shipped) every GPU test runs on
this machine's CPU, CI's included, and so do the commands the tests start
(PYTHONPATH names it for them); it needs g++ (without one, the GPU tests
skip). ``XPNET_TEST_CUPY=standin`` asks for the stand-in even where a GPU
exists. A test of what happens without CuPy hides it
(``sys.modules['cupy'] = None``), as it must on a machine with a real one.
"""
import importlib.util
import os
import shutil
import sys

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests", "cupy_standin")


def _real_cupy_works():
    if os.environ.get("XPNET_TEST_CUPY") == "standin" or importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy
        if hasattr(cupy, "standin"):  # the stand-in, found on PYTHONPATH: not a real one
            return False
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # CuPy for another CUDA, no driver: the stand-in it is
        return False


# The stand-in compiles the CUDA kernels' bodies with g++: without one, GPU tests skip.
if not _real_cupy_works() and (shutil.which("g++") or shutil.which("c++")):
    for name in [m for m in sys.modules if m == "cupy" or m.startswith("cupy.")]:
        del sys.modules[name]
    sys.path.insert(0, STANDIN)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (STANDIN, os.environ.get("PYTHONPATH"))
                                               if p)
    os.environ["XPNET_TEST_CUPY"] = "standin"
