"""Helpers for tests: numerical gradients of a layer, stopping and comparing training runs."""
import json
import os
import signal
import subprocess

import numpy as np

from xpnet import asnumpy
from xpnet.numerical import numerical_gradient
from xpnet.serialization import load_arrays

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDIN_CUPY = os.environ.get("XPNET_TEST_CUPY") == "standin"  # set by the root conftest.py


def ctrl_c_after(command, line_start, timeout, **popen):
    """Run ``command``, press Ctrl-C (SIGINT) once a stderr line starts with ``line_start``;
    (exit status, the stderr that followed)."""
    job = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, stdout=subprocess.DEVNULL,
                           **popen)
    for line in job.stderr:
        if line.startswith(line_start):
            job.send_signal(signal.SIGINT)
            break
    rest = job.stderr.read()
    return job.wait(timeout=timeout), rest


def layer_gradients(forward, backward, arrays, out_weights):
    """Backprop vs numerical gradient of L = sum(forward() * R) for each array in ``arrays``.

    ``forward()`` reads the arrays (changed in place by the numerical loop);
    ``backward(R)`` returns the analytic gradients in the same order.
    Returns a list of (analytic, numerical) NumPy pairs.
    """
    def loss(_):
        return float((forward() * out_weights).sum())
    forward()
    analytic = backward(out_weights)
    numeric = [numerical_gradient(loss, a) for a in arrays]
    return [(asnumpy(a), asnumpy(n)) for a, n in zip(analytic, numeric)]


def assert_grads_close(pairs, rtol=1e-5, atol=1e-7):
    for i, (a, n) in enumerate(pairs):
        np.testing.assert_allclose(a, n, rtol=rtol, atol=atol, err_msg=f"gradient {i}")


def assert_same_run(a, b):
    """Two run folders hold bit-identical parameters, optimizer state and history."""
    ca, cb = load_arrays(a / "checkpoint.npz"), load_arrays(b / "checkpoint.npz")
    assert sorted(ca) == sorted(cb)
    for key in ca:
        if key != "meta":
            np.testing.assert_array_equal(ca[key], cb[key], err_msg=key)
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
    assert ma["history"] == mb["history"] and ma["test_accuracy"] == mb["test_accuracy"]
    assert ma["settings"] == mb["settings"]
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
