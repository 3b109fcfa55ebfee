"""im2col, col2im and max pooling against their definitions (tests/definitions.py), bit for bit."""
import functools
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpnet import asnumpy, kernels, to_device
from xpnet.errors import DTypeError, ShapeError
from xpnet.kernels import col2im, conv_input_grad, im2col, maxpool_backward, maxpool_forward

import definitions

# (input shape, filter h, filter w, stride, pad): strides 1-3, pads 0-2, non-square, 1-64 channels
CASES = [
    ((1, 1, 28, 28), 5, 5, 1, 0),
    ((2, 3, 7, 9), 3, 2, 1, 0),
    ((3, 2, 8, 8), 3, 3, 2, 1),
    ((1, 4, 5, 6), 2, 3, 3, 2),
    ((100, 1, 12, 10), 4, 3, 2, 2),
    ((2, 64, 7, 7), 3, 3, 1, 1),
    ((4, 16, 14, 14), 3, 3, 1, 2),
    ((1, 3, 6, 11), 1, 4, 3, 0),
    ((4, 30, 24, 24), 2, 2, 2, 0),  # the book's pooling (its own kernel), SimpleConvNet's shape
    ((2, 5, 7, 9), 2, 2, 2, 0),     # the same on odd sides: the last row and column unused
]


@pytest.fixture(autouse=True, params=["numba", "numpy"])
def cpu_path(request, monkeypatch):
    """Every test twice on the CPU: Numba kernels (cpu.py), and the NumPy code for small inputs."""
    monkeypatch.setattr(kernels, "PARALLEL_MIN_SIZE", 0 if request.param == "numba" else 1 << 62)
    return request.param


def _inputs(shape, dtype, rng):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, fh, fw, stride, pad", CASES)
def test_im2col_col2im_equal_their_definitions(device, shape, fh, fw, stride, pad, dtype, rng):
    x = _inputs(shape, dtype, rng)
    col = im2col(to_device(x), fh, fw, stride, pad)
    expected = definitions.im2col(x, fh, fw, stride, pad)
    assert col.dtype == dtype
    np.testing.assert_array_equal(asnumpy(col), expected)
    c = rng.standard_normal(expected.shape).astype(dtype)
    img = col2im(to_device(c), shape, fh, fw, stride, pad)
    np.testing.assert_array_equal(asnumpy(img), definitions.col2im(c, shape, fh, fw, stride, pad))


@pytest.mark.parametrize("layout", ["xpnet", "row-major"])
@pytest.mark.parametrize("shape, f, stride", [((2, 3, 8, 6), 2, 2), ((2, 3, 9, 6), 2, 2),
                                              ((2, 3, 8, 6), 3, 1)])
def test_col2im_zeros_and_nans_as_the_book(device, layout, shape, f, stride, rng):
    """The book adds each value into zeros: -0.0 comes out 0.0 and NaN stays NaN, whether the
    windows tile the image (placed) or not (folded: odd side, overlap)."""
    x = rng.standard_normal(shape)
    col = im2col(to_device(x), f, f, stride, 0)
    values = asnumpy(col).copy()
    values[::2] = -0.0
    values[1, 0] = np.nan
    c = to_device(values if layout == "row-major" else np.ascontiguousarray(values.T).T)
    img = asnumpy(col2im(c, shape, f, f, stride, 0))
    expected = definitions.col2im(values, shape, f, f, stride, 0)
    np.testing.assert_array_equal(img, expected)
    np.testing.assert_array_equal(np.signbit(img), np.signbit(expected))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, ph, pw, stride, pad", CASES)
def test_maxpool_equals_its_definition(device, shape, ph, pw, stride, pad, dtype, rng):
    x = _inputs(shape, dtype, rng)
    out, arg = maxpool_forward(to_device(x), ph, pw, stride, pad)
    expected_out, expected_arg = definitions.maxpool_forward(x, ph, pw, stride, pad)
    np.testing.assert_array_equal(asnumpy(out), expected_out)
    np.testing.assert_array_equal(asnumpy(arg), expected_arg)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = maxpool_backward(to_device(dout), arg, shape, ph, pw, stride, pad)
    expected = definitions.maxpool_backward(dout, expected_arg, shape, ph, pw, stride, pad)
    tol = 1e-6 if dtype == np.float32 else 1e-12  # overlapping windows may sum in another order
    np.testing.assert_allclose(asnumpy(dx), expected, rtol=tol, atol=tol)


def test_maxpool_ties_and_padding_follow_the_book():
    """As in the book: the first maximum in the window wins a tie, and the zero padding takes
    part in the maximum."""
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 1, 0] = 1.0    # a tie
    x[0, 0, 2:, 2:] = -1.0                 # all negative: padding (0) wins where it is in reach
    out, arg = maxpool_forward(x, 2, 2, 2, 0)
    np.testing.assert_array_equal(out[0, 0], [[1, 0], [0, -1]])
    assert arg[0, 0, 0, 0] == 2            # (1, 0) in the window, before (1, 1)
    out, arg = maxpool_forward(x, 2, 2, 2, 1)
    assert out[0, 0, 2, 2] == 0 and arg[0, 0, 2, 2] == 1  # -1 at (3, 3) loses to the padding
    for stride, pad in ((2, 0), (2, 1), (1, 1)):
        out, arg = maxpool_forward(x, 2, 2, stride, pad)
        expected_out, expected_arg = definitions.maxpool_forward(x, 2, 2, stride, pad)
        np.testing.assert_array_equal(out, expected_out)
        np.testing.assert_array_equal(arg, expected_arg)


def test_maxpool_nan_wins_its_window_as_in_the_book(device, rng):
    x = rng.standard_normal((2, 3, 7, 7))
    x.flat[::7] = np.nan  # windows with no, one and several NaNs, anywhere in the window
    for ph, stride, pad in ((2, 2, 0), (3, 1, 1), (3, 2, 1)):
        out, arg = maxpool_forward(to_device(x), ph, ph, stride, pad)
        expected_out, expected_arg = definitions.maxpool_forward(x, ph, ph, stride, pad)
        np.testing.assert_array_equal(asnumpy(out), expected_out)
        np.testing.assert_array_equal(asnumpy(arg), expected_arg)
    assert np.isnan(asnumpy(out)).any()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 4), h=st.integers(1, 9), w=st.integers(1, 9),
       fh=st.integers(1, 4), fw=st.integers(1, 4), stride=st.integers(1, 3), pad=st.integers(0, 2),
       seed=st.integers(0, 2**16))
def test_random_geometries_on_cpu(n, c, h, w, fh, fw, stride, pad, seed):
    if fh > h + 2 * pad or fw > w + 2 * pad:
        with pytest.raises(ShapeError, match="larger than the padded input"):
            im2col(np.zeros((n, c, h, w)), fh, fw, stride, pad)
        return
    x = np.random.default_rng(seed).standard_normal((n, c, h, w))
    col = im2col(x, fh, fw, stride, pad)
    np.testing.assert_array_equal(col, definitions.im2col(x, fh, fw, stride, pad))
    np.testing.assert_array_equal(col2im(col, x.shape, fh, fw, stride, pad),
                                  definitions.col2im(col, x.shape, fh, fw, stride, pad))
    out, _ = maxpool_forward(x, fh, fw, stride, pad)
    np.testing.assert_array_equal(out, definitions.maxpool_forward(x, fh, fw, stride, pad)[0])


def test_non_contiguous_input_is_fine(rng):
    x = rng.standard_normal((3, 4, 6, 5)).transpose(0, 1, 3, 2)
    np.testing.assert_array_equal(im2col(x, 2, 2), definitions.im2col(x, 2, 2))


def test_gpu_matches_cpu(gpu, rng):
    x = rng.standard_normal((10, 8, 13, 11)).astype(np.float32)
    np.testing.assert_array_equal(asnumpy(im2col(gpu.send(x), 3, 3, 2, 1)), im2col(x, 3, 3, 2, 1))
    out, arg = maxpool_forward(gpu.send(x), 3, 3, 2, 1)
    cpu_out, cpu_arg = maxpool_forward(x, 3, 3, 2, 1)
    np.testing.assert_array_equal(asnumpy(out), cpu_out)
    np.testing.assert_array_equal(asnumpy(arg), cpu_arg)


@pytest.mark.parametrize("call, message", [
    (lambda: im2col(np.zeros((2, 3, 4)), 2, 2), r"4-D \(N, C, H, W\) input, got shape \(2, 3, 4\)"),
    (lambda: im2col(np.zeros((1, 1, 4, 4)), 5, 5), r"filter 5x5 is larger than the padded input 4x4"),
    (lambda: im2col(np.zeros((1, 1, 4, 4)), 2, 2, stride=0), "stride must be an integer >= 1, got 0"),
    (lambda: im2col(np.zeros((1, 1, 4, 4)), 2, 2, pad=-1), "pad must be an integer >= 0"),
    (lambda: col2im(np.zeros((5, 4)), (1, 1, 4, 4), 2, 2), r"col has shape \(5, 4\).* needs \(9, 4\)"),
    (lambda: maxpool_forward(np.zeros((1, 1, 4, 4)), 2, 2, 0), "stride must be"),
])
def test_bad_arguments(call, message):
    with pytest.raises((ShapeError, ValueError), match=message):
        call()


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.float16, np.bool_])
def test_other_real_input_is_computed_in_float64_as_the_book_does(dtype, rng):
    x = (rng.random((2, 3, 5, 5)) * 4).astype(dtype)
    col = im2col(x, 3, 3, 1, 1)
    assert col.dtype == np.float64
    np.testing.assert_array_equal(col, definitions.im2col(x.astype(np.float64), 3, 3, 1, 1))
    with pytest.raises(DTypeError, match="expected float32 or float64 data, got complex128"):
        im2col(x.astype(np.complex128), 3, 3)


@pytest.mark.parametrize("chunk_bytes", [1, 3000, 1 << 21])  # one image, some, all at once
def test_conv_input_grad_folds_the_product_in_chunks(device, chunk_bytes, monkeypatch, rng):
    from xpnet.kernels import cpu
    monkeypatch.setattr(cpu, "CHUNK_BYTES", chunk_bytes)
    shape, fh, fw, stride, pad = (7, 3, 6, 5), 3, 2, 1, 1  # 7 images: a partial last chunk
    col = im2col(np.zeros(shape), fh, fw, stride, pad)
    col_W = rng.standard_normal((col.shape[1], 4))
    dout = rng.standard_normal((4, col.shape[0]))
    expected = definitions.col2im(col_W.dot(dout).T, shape, fh, fw, stride, pad)
    got = conv_input_grad(to_device(col_W), to_device(dout), shape, fh, fw, stride, pad)
    np.testing.assert_allclose(asnumpy(got), expected, rtol=1e-12, atol=1e-12)


def test_conv_input_grad_names_shapes_that_do_not_fit():
    with pytest.raises(ShapeError, match=r"expected \(18, FN\) and \(FN, 16\)"):
        conv_input_grad(np.zeros((18, 4)), np.zeros((4, 15)), (1, 2, 4, 4), 3, 3, 1, 1)


def _fresh_process(cpu_path, program):
    """stdout of ``program`` in a new Python, whose loaded modules are its own (run once)."""
    if cpu_path == "numba":
        pytest.skip("one run is enough: it runs in its own process")
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          check=True).stdout


def test_a_tiny_convnet_never_loads_numba(cpu_path):
    """The book's ch07 gradient check (10x10 image): loading Numba would be most of its time."""
    program = ("import sys, xpnet, numpy as np\n"
               "from xpnet.models import SimpleConvNet\n"
               "xpnet.set_dtype('float64')\n"
               "net = SimpleConvNet(input_dim=(1, 10, 10), conv_param={'filter_num': 10, "
               "'filter_size': 3, 'pad': 0, 'stride': 1}, hidden_size=10)\n"
               "x, t = np.random.rand(1, 1, 10, 10), np.array([1])\n"
               "net.gradient(x, t); net.loss(x, t)\n"
               "print('numba' in sys.modules)\n")
    assert _fresh_process(cpu_path, program).strip() == "False"


def test_numpy_works_until_numba_pays_then_numba_gives_the_same(cpu_path):
    """A few large convolutions stay on NumPy; gradients load Numba within a few steps and
    give the same values (SimpleConvNet's 5x5 convolution then takes the direct kernels,
    whose float32 sums run in another order: equal to rounding)."""
    program = ("import sys, xpnet, numpy as np\n"
               "from xpnet.models import SimpleConvNet\n"
               "xpnet.seed(0)\n"  # unseeded weights moved the difference, 1e-7 to 1e-2
               "net = SimpleConvNet()\n"
               "x = np.random.default_rng(0).random((100, 1, 28, 28), dtype=np.float32)\n"
               "t = np.arange(100) % 10\n"
               "first = net.gradient(x, t)\n"
               "print('numba' in sys.modules)\n"
               "steps = 0\n"
               "while 'xpnet.kernels.cpu' not in sys.modules and steps < 50:\n"
               "    net.gradient(x, t); steps += 1\n"
               "again = net.gradient(x, t)\n"
               "print(steps, max(float(np.abs(first[k] - again[k]).max() / np.abs(first[k]).max())\n"
               "                 for k in first))\n")
    out = _fresh_process(cpu_path, program).split()
    assert out[0] == "False"  # one step of batch 100: NumPy's
    assert 1 <= int(out[1]) <= 10 and 0 <= float(out[2]) < 1e-5  # then Numba's


def test_a_convolution_on_numpy_counts_its_work_once(cpu_path):
    """Asking whether the direct kernels fit counts nothing: NumPy's im2col counts the work
    it does, once."""
    program = ("import xpnet, xpnet.kernels as k, numpy as np\n"
               "from xpnet.layers import Convolution\n"
               "x = np.zeros((4, 3, 32, 32), dtype=np.float32)\n"
               "Convolution(np.zeros((2, 3, 3, 3), np.float32), np.zeros(2, np.float32), 1, 1)"
               ".forward(x)\n"
               "print(k._numpy_work == 9 * x.size)\n")
    assert _fresh_process(cpu_path, program).strip() == "True"


def test_a_trainer_computes_every_step_on_numba(cpu_path):
    """A Trainer loads Numba before its first step, so a resumed run's first steps use the
    kernels that the same steps of an uninterrupted run used (the direct convolutions are
    not im2col's bit for bit)."""
    program = ("import sys, xpnet, numpy as np\n"
               "from xpnet.models import SimpleConvNet\n"
               "from xpnet.trainer import Trainer\n"
               "x = np.random.default_rng(0).random((20, 1, 28, 28), dtype=np.float32)\n"
               "t = np.arange(20) % 10\n"
               "Trainer(SimpleConvNet(), x, t, x, t, epochs=1, verbose=False)\n"
               "print('numba' in sys.modules)\n")
    assert _fresh_process(cpu_path, program).strip() == "True"


def _host_features():
    import llvmlite.binding as llvm
    return llvm.get_host_cpu_features()


@functools.lru_cache(maxsize=None)
def _direct_convolution_assembly():
    """The assembly of the direct convolution's kernel, compiled afresh with its own options
    (a cached kernel's cannot be inspected)."""
    import numba

    from xpnet.kernels import direct
    kernel = direct._convolve_frames
    options = {k: v for k, v in kernel.targetoptions.items() if k not in ("cache", "nopython")}
    fresh = numba.njit(**options)(kernel.py_func)
    x = np.ones((2, 4, 8, 8), np.float32)
    fresh(direct.to_frames(x, 1, 3), np.ones((4, 4, 9), np.float32), np.zeros(4, np.float32),
          3, 9, 9, 100, np.empty_like(x))
    return fresh.inspect_asm(fresh.signatures[0])


@pytest.mark.skipif(not _host_features().get("fma"), reason="the CPU has no FMA instructions")
def test_direct_convolution_multiplies_and_adds_in_one_instruction():
    """The tap loops are inlined into the parallel kernels: the kernels' own fastmath flags,
    not the loops', decide whether LLVM fuses w*x + acc (without, the forward was 1.3x as
    slow)."""
    assert "vfmadd231ps" in _direct_convolution_assembly()


@pytest.mark.skipif(not _host_features().get("avx512f"), reason="the CPU has no AVX-512")
def test_kernels_use_512_bit_vectors_where_the_cpu_has_them():
    from numba.core import config

    from xpnet.kernels import jit
    assert jit.WIDE_VECTORS == config.CPU_FEATURES and config.CPU_FEATURES.endswith(
        ",-prefer-256-bit")
    assert "zmm" in _direct_convolution_assembly()


def test_the_users_numba_cpu_features_win():
    code = ("import xpnet.kernels.jit as j; from numba.core import config; "
            "print(j.WIDE_VECTORS, config.CPU_FEATURES)")
    env = dict(os.environ, NUMBA_CPU_FEATURES="+avx2")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["None", "+avx2"]
