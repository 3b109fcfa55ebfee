"""xpnet beside another OpenMP runtime loaded first (PyTorch's libgomp): same results.

Each case runs in a fresh process: which runtime a process loads first is
decided once. Speed is measured by the benchmarks, not here.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

# Loads FIRST (a statement) into the process, then takes one SimpleConvNet gradient.
PROGRAM = """
import json, sys
{first}
import xpnet
import numpy as np
from xpnet.models import SimpleConvNet
xpnet.seed(0)
x = np.random.default_rng(1).random((64, 1, 28, 28), dtype=np.float32)
net = SimpleConvNet()
grads = net.gradient(x, np.arange(64) % 10)
from xpnet.kernels import jit
print(json.dumps({"private_layer": jit.OPENMP_LOADED_PRIVATELY,
                  "grads": {k: v.ravel()[::97].tolist() for k, v in grads.items()}}))
"""


def gradient_in_fresh_process(first="", env=None):
    result = subprocess.run([sys.executable, "-c", PROGRAM.replace("{first}", first)],
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, **(env or {})))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def foreign_libgomp(tmp_path):
    """A copy of this machine's libgomp at another path: to the loader, another runtime."""
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library("gomp")
    if name is None:
        pytest.skip("no libgomp on this machine")
    ctypes.CDLL(name)
    with open("/proc/self/maps") as maps:
        path = next(line.split()[-1] for line in maps if "libgomp" in line)
    copy = tmp_path / "libgomp.so.1"
    copy.write_bytes(open(path, "rb").read())
    return copy


def assert_same_gradients(a, b):
    for key in a["grads"]:
        np.testing.assert_allclose(a["grads"][key], b["grads"][key], rtol=1e-6, atol=1e-9,
                                   err_msg=key)


def test_kernels_agree_with_another_libgomp_loaded_first(tmp_path):
    alone = gradient_in_fresh_process()
    copy = foreign_libgomp(tmp_path)
    first = f"import ctypes, os; ctypes.CDLL({str(copy)!r}, mode=os.RTLD_NOW | os.RTLD_GLOBAL)"
    beside = gradient_in_fresh_process(first)
    assert beside["private_layer"]  # Numba's OpenMP layer was bound to its own runtime
    assert not alone["private_layer"]  # alone, nothing changes
    assert_same_gradients(alone, beside)


def test_a_threading_layer_the_user_chose_is_left_alone(tmp_path):
    copy = foreign_libgomp(tmp_path)
    first = f"import ctypes, os; ctypes.CDLL({str(copy)!r}, mode=os.RTLD_NOW | os.RTLD_GLOBAL)"
    chosen = gradient_in_fresh_process(first, env={"NUMBA_THREADING_LAYER": "workqueue"})
    assert not chosen["private_layer"]


def test_kernels_agree_with_pytorch_imported_first():
    pytest.importorskip("torch", reason="PyTorch rows need torch (never a dependency)")
    assert_same_gradients(gradient_in_fresh_process(), gradient_in_fresh_process("import torch"))
