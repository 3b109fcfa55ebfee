"""xpnet/kernels/gpu.py against the Numba kernels, on many geometries, bit for bit.

Its kernels' index arithmetic is where a bug would hide. Without a GPU they run
on the CuPy stand-in, whose ElementwiseKernel compiles the same CUDA bodies
as C++ (tests/cupy_standin); on a GPU, on CuPy itself.
"""
import numpy as np
import pytest

from xpnet import asnumpy
from xpnet.kernels import cpu, gpu as gpu_kernels


@pytest.fixture
def gpu_on_cpu(gpu):
    """gpu.py's functions taking and returning host arrays, computing on the GPU."""
    class OnDevice:
        def __getattr__(self, name):
            def call(*args):
                result = getattr(gpu_kernels, name)(*(gpu.send(a) if isinstance(a, np.ndarray)
                                                      else a for a in args))
                if isinstance(result, tuple):
                    return tuple(asnumpy(r) for r in result)
                return None if result is None else asnumpy(result)
            return call
    return OnDevice()


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


def test_gpu_layout_relu_and_adam_helpers_equal_the_cpu_ones(gpu_on_cpu, gpu):
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
    mine, theirs = [gpu.send(a) for a in arrays], [a.copy() for a in arrays]
    gpu_kernels.adam_update(*mine, 0.01, 0.9, 0.999, 1e-7)  # in place, on the device
    cpu.adam_update(*theirs, 0.01, 0.9, 0.999, 1e-7)
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(asnumpy(a), b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gpu_batch_norm_equals_the_cpu_kernels(gpu_on_cpu, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((6, 5, 9, 7)) * 2 + 1).astype(dtype)
    dout = rng.standard_normal(x.shape).astype(dtype)
    gamma, beta = (rng.standard_normal(5) + 1).astype(dtype), rng.standard_normal(5).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    forward = gpu_on_cpu.batch_norm_forward(x, gamma, beta, 1e-6)
    for got, want in zip(forward, cpu.batch_norm_forward(x, gamma, beta, 1e-6)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    mean, inv_std = forward[1], forward[3]
    backward = gpu_on_cpu.batch_norm_backward(dout, x, mean, inv_std, gamma)
    for got, want in zip(backward, cpu.batch_norm_backward(dout, x, mean, inv_std, gamma)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 10)
