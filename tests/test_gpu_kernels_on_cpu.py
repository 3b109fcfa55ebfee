"""xpnet/kernels/gpu.py run on the CPU: its wrappers on NumPy, its kernel bodies as C++.

There is no GPU in CI, yet the GPU module's index arithmetic is where a bug
would hide. Here ``cupy`` is replaced by NumPy plus an ``ElementwiseKernel``
that compiles the same body with the system's C++ compiler and calls it once
per output element, as CuPy does (outputs bound by reference at index ``i``,
``raw`` inputs indexed freely). The results must equal the Numba kernels'.
What this cannot check: CuPy itself (its parameter parsing, launches, memory).
"""
import ctypes
import functools
import shutil
import subprocess

import numpy as np
import pytest

from xpnet.kernels import cpu, gpu

CXX = shutil.which("g++") or shutil.which("c++")
pytestmark = pytest.mark.skipif(CXX is None, reason="needs a C++ compiler (g++)")

C_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}


def _declarations(text):
    """'raw T x, int32 n' -> [(is_raw, type, name), ...]"""
    return [(words[0] == "raw", words[-2], words[-1])
            for words in (part.split() for part in text.split(","))]


@functools.lru_cache(maxsize=None)
def _compiled(params, outputs, body, ctype, build_dir):
    """The body inside a loop over the outputs' elements, as a shared library."""
    args, binds = [], []
    for raw, typ, name in _declarations(params):
        c = "T" if typ == "T" else "int"
        args.append(f"const {c}* {name}" if raw else f"{c} {name}")
    for _, typ, name in _declarations(outputs):
        c = "T" if typ == "T" else "int"
        args.append(f"{c}* {name}_all")
        binds.append(f"{c}& {name} = {name}_all[i];")
    source = (f"#include <cmath>\ntypedef {ctype} T;\n"
              f'extern "C" void run({", ".join(args)}, long size) {{\n'
              f"  for (long i = 0; i < size; ++i) {{\n    {' '.join(binds)}\n{body}\n  }}\n}}\n")
    stem = f"{build_dir}/k{abs(hash((params, outputs, body, ctype)))}"
    with open(f"{stem}.cpp", "w") as f:
        f.write(source)
    subprocess.run([CXX, "-O1", "-shared", "-fPIC", "-o", f"{stem}.so", f"{stem}.cpp"],
                   check=True, capture_output=True)
    return ctypes.CDLL(f"{stem}.so").run


class ElementwiseKernelOnCpu:
    """cupy.ElementwiseKernel's calling convention: inputs, then the output arrays."""

    def __init__(self, params, outputs, body, name, build_dir):
        self.params, self.outputs, self.body, self.build_dir = params, outputs, body, build_dir

    def __call__(self, *args):
        inputs, outs = _declarations(self.params), args[len(_declarations(self.params)):]
        dtype = next(a.dtype for a, (raw, typ, _) in zip(args, inputs) if raw and typ == "T")
        run = _compiled(self.params, self.outputs, self.body, C_TYPES[dtype], self.build_dir)
        c_args = []
        for value, (raw, typ, _) in zip(args, inputs):
            c_args.append(ctypes.c_void_p(np.ascontiguousarray(value).ctypes.data) if raw
                          else ctypes.c_int(int(value)))
        for out in outs:
            assert out.flags.c_contiguous  # CuPy's outputs here are fresh, contiguous arrays
            c_args.append(ctypes.c_void_p(out.ctypes.data))
        run(*c_args, ctypes.c_long(outs[0].size))


class NumpyAsCupy:
    """NumPy standing in for CuPy, with the C++ ElementwiseKernel above."""

    def __init__(self, build_dir):
        self.build_dir = build_dir

    def ElementwiseKernel(self, *spec):  # noqa: N802 (CuPy's name)
        return ElementwiseKernelOnCpu(*spec, build_dir=self.build_dir)

    def __getattr__(self, name):
        return getattr(np, name)


@pytest.fixture
def gpu_on_cpu(monkeypatch, tmp_path_factory):
    build_dir = str(tmp_path_factory.getbasetemp())
    monkeypatch.setattr(gpu, "import_cupy", lambda: NumpyAsCupy(build_dir))
    gpu._kernel.cache_clear()
    yield gpu
    gpu._kernel.cache_clear()


# (input shape, filter_h, filter_w, stride, pad)
CASES = [((2, 3, 7, 7), 3, 3, 1, 1), ((2, 2, 9, 6), 2, 3, 2, 0), ((1, 4, 8, 8), 3, 3, 3, 2),
         ((3, 1, 5, 11), 1, 4, 3, 0), ((2, 16, 6, 6), 3, 3, 1, 2)]


def _sizes(shape, fh, fw, stride, pad):
    return (shape[2] + 2 * pad - fh) // stride + 1, (shape[3] + 2 * pad - fw) // stride + 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, fh, fw, stride, pad", CASES)
def test_gpu_im2col_col2im_and_input_grad_equal_the_cpu_kernels(gpu_on_cpu, shape, fh, fw, stride, pad,
                                                      dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    out_h, out_w = _sizes(shape, fh, fw, stride, pad)
    col = gpu_on_cpu.im2col(x, fh, fw, stride, pad, out_h, out_w)
    np.testing.assert_array_equal(col, cpu.im2col(x, fh, fw, stride, pad, out_h, out_w))
    dcol = rng.standard_normal(col.shape).astype(dtype)
    for layout in (dcol, np.asfortranarray(dcol)):  # the book's layout and im2col's
        np.testing.assert_array_equal(
            gpu_on_cpu.col2im(layout, shape, fh, fw, stride, pad, out_h, out_w),
            cpu.col2im(layout, shape, fh, fw, stride, pad, out_h, out_w))
    col_W = rng.standard_normal((col.shape[1], 3)).astype(dtype)
    dout = rng.standard_normal((3, col.shape[0])).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12  # products of another size: another rounding
    np.testing.assert_allclose(
        gpu_on_cpu.conv_input_grad(col_W, dout, shape, fh, fw, stride, pad, out_h, out_w),
        cpu.conv_input_grad(col_W, dout, shape, fh, fw, stride, pad, out_h, out_w),
        rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, ph, pw, stride, pad", CASES)
def test_gpu_max_pooling_equals_the_cpu_kernels(gpu_on_cpu, shape, ph, pw, stride, pad, dtype):
    if pad >= min(ph, pw):
        pytest.skip("a window of padding only")
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[::7] = np.nan  # a NaN wins its window, as in the book (np.max, np.argmax)
    out_h, out_w = _sizes(shape, ph, pw, stride, pad)
    out, arg = gpu_on_cpu.maxpool_forward(x, ph, pw, stride, pad, out_h, out_w)
    want_out, want_arg = cpu.maxpool_forward(x, ph, pw, stride, pad, out_h, out_w)
    np.testing.assert_array_equal(out, want_out)
    np.testing.assert_array_equal(arg, want_arg)
    dout = rng.standard_normal(out.shape).astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-12  # overlapping windows: another summing order
    np.testing.assert_allclose(
        gpu_on_cpu.maxpool_backward(dout, want_arg, shape, ph, pw, stride, pad),
        cpu.maxpool_backward(dout, want_arg, shape, ph, pw, stride, pad), rtol=tol, atol=tol)


def test_gpu_layout_relu_and_adam_helpers_equal_the_cpu_ones(gpu_on_cpu):
    rng = np.random.default_rng(2)
    N, C, H, W = 3, 5, 4, 6
    cols = rng.standard_normal((C, N * H * W)).astype(np.float32)
    bias = rng.standard_normal(C).astype(np.float32)
    y = gpu_on_cpu.channels_to_nchw(cols, bias, (N, C, H, W))
    np.testing.assert_array_equal(y, cpu.channels_to_nchw(cols, bias, (N, C, H, W)))
    np.testing.assert_array_equal(gpu_on_cpu.nchw_to_channels(y), cpu.nchw_to_channels(y))
    x = rng.standard_normal(cpu.PARALLEL_MIN_SIZE * 2).astype(np.float32)
    x[:3] = [np.nan, -0.0, 0.0]
    d = rng.standard_normal(x.size).astype(np.float32)
    out = gpu_on_cpu.relu_forward(x)
    np.testing.assert_array_equal(out, cpu.relu_forward(x))
    np.testing.assert_array_equal(gpu_on_cpu.relu_backward(d, out), cpu.relu_backward(d, out))
    arrays = [rng.standard_normal(x.size).astype(np.float32) for _ in range(3)]
    arrays.append(rng.random(x.size).astype(np.float32))
    mine, theirs = [a.copy() for a in arrays], [a.copy() for a in arrays]
    gpu_on_cpu.adam_update(*mine, 0.01, 0.9, 0.999, 1e-7)
    cpu.adam_update(*theirs, 0.01, 0.9, 0.999, 1e-7)
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a, b)
