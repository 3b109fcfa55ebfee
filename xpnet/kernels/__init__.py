"""The hot path's kernels (convolution, pooling, batch normalization, ReLU, Adam, augmentation):
one public function each, any device.

Each function checks its arguments, looks at its input's device once, and
calls the Numba implementation (CPU, ``cpu.py``), NumPy code for small CPU
inputs and for a process's first work (``small.py``: no Numba to load until it
pays, see NUMPY_WORK_BEFORE_JIT), or the CuPy one (GPU, ``gpu.py``). Layers
call these and never branch on the device.
"""
import math
import sys

import numpy

from ..backend import device_of
from ..errors import DTypeError, ShapeError
from .expressions import (PARALLEL_MIN_SIZE, adam_expressions, relu_backward_expression,
                          relu_forward_expression)


def output_size(in_size, filter_size, stride, pad):
    """The book's output size: (in + 2*pad - filter) // stride + 1."""
    return (in_size + 2 * pad - filter_size) // stride + 1


# Loading Numba and the first of its cached kernels takes about 1 s. Until something has
# loaded them, NumPy (small.py and the array expressions, the same results bit for bit) does
# the kernels' work while the process has asked for fewer than this many elements in all.
# The book's apply_filter (25 M) never waits that second; a Trainer loads Numba before its
# first step (use_numba_now), and so does anything that imports xpnet's Numba kernels.
NUMPY_WORK_BEFORE_JIT = 50_000_000
_numpy_work = 0


def _on_numpy(work, count=True):
    """True when NumPy should do ``work`` elements on the CPU rather than a Numba kernel.

    ``count``: add them to the process's NumPy work; False only asks (a caller that
    then hands the work to a function that counts it)."""
    global _numpy_work
    if work < PARALLEL_MIN_SIZE:
        return True
    if "xpnet.kernels.jit" in sys.modules:  # Numba is loaded: it is quicker from here on
        return False
    if not count:
        return _numpy_work + work <= NUMPY_WORK_BEFORE_JIT
    _numpy_work += work
    return _numpy_work <= NUMPY_WORK_BEFORE_JIT


def use_numba_now():
    """Large CPU work goes to the Numba kernels from now on (this loads Numba, ~1 s).

    The Trainer calls it before any step, so that a run computes alike whether it starts
    fresh or resumes: NumPy's code gives the Numba kernels' results bit for bit, except
    for convolutions that take the direct kernels, whose sums run in another order than
    im2col's matrix product."""
    from . import jit  # noqa: F401  (what _on_numpy looks for)


def _implementation(array, work=None):
    """The module that computes on ``array``'s device: gpu, cpu (Numba), or small (NumPy).

    ``work``: the number of elements the call writes or reads, when larger than
    ``array``; NumPy does small work, and any work until Numba pays (see _on_numpy).
    """
    if device_of(array).is_gpu:
        from . import gpu
        return gpu
    if _on_numpy(max(array.size, work or 0)):
        from . import small
        return small
    from . import cpu
    return cpu


def _check_geometry(what, shape, filter_h, filter_w, stride, pad):
    """Raise a clear error for arguments the kernels cannot handle; return (out_h, out_w)."""
    if len(shape) != 4:
        raise ShapeError(f"{what}: expected a 4-D (N, C, H, W) input, got shape {tuple(shape)}")
    if min(shape) < 1:
        raise ShapeError(f"{what}: input shape {tuple(shape)} has an empty dimension")
    for name, value, low in (("filter_h", filter_h, 1), ("filter_w", filter_w, 1),
                             ("stride", stride, 1), ("pad", pad, 0)):
        if int(value) != value or value < low:
            raise ValueError(f"{what}: {name} must be an integer >= {low}, got {value!r}")
    H, W = shape[2] + 2 * pad, shape[3] + 2 * pad
    if filter_h > H or filter_w > W:
        raise ShapeError(f"{what}: filter {filter_h}x{filter_w} is larger than the padded "
                         f"input {H}x{W} (input shape {tuple(shape)}, pad {pad})")
    return (output_size(shape[2], filter_h, stride, pad),
            output_size(shape[3], filter_w, stride, pad))


def _check_float(what, array):
    if array.dtype.kind != "f" or array.dtype.itemsize not in (4, 8):
        raise DTypeError(f"{what}: expected float32 or float64 data, got {array.dtype}")


def _floating(what, array):
    """``array`` when it is float32 or float64; other real numbers as float64.

    The book's im2col and col2im compute in float64 whatever the input (float16
    in ch08's half_float_network); xpnet keeps float32 as float32, for speed.
    """
    if array.dtype.kind in "iub" or array.dtype.kind == "f" and array.dtype.itemsize < 4:
        return array.astype("float64")
    _check_float(what, array)
    return array


def im2col(input_data, filter_h, filter_w, stride=1, pad=0, buffer=None):
    """Unfold (N, C, H, W) images into a (N*out_h*out_w, C*filter_h*filter_w) matrix.

    Same signature, shape and values as the book's ``common.util.im2col``. In
    memory it is the transpose of a C-contiguous (C*filter_h*filter_w,
    N*out_h*out_w) array (Fortran order), the order in which the kernels copy
    whole rows and the convolution's products need no transposes;
    ``np.ascontiguousarray(col)`` gives the book's row-major copy.

    ``buffer``: an earlier result whose memory may be written over (Convolution
    passes its previous ``col``). It is used when it has this result's shape,
    dtype and device, and ignored otherwise. A fresh 45 MB matrix costs the
    operating system's zeroing of new pages: DeepConvNet's 16x28x28 layer took
    7.0 ms into a fresh array, 3.4 ms into a reused one.
    """
    input_data = _floating("im2col", input_data)
    out_h, out_w = _check_geometry("im2col", input_data.shape, filter_h, filter_w, stride, pad)
    N, C = input_data.shape[:2]
    rows, columns = C * filter_h * filter_w, N * out_h * out_w
    fits = (buffer is not None and buffer.shape == (columns, rows) and buffer.T.flags.c_contiguous
            and buffer.dtype == input_data.dtype and device_of(buffer) == device_of(input_data))
    return _implementation(input_data, rows * columns).im2col(
        input_data, filter_h, filter_w, stride, pad, out_h, out_w, buffer.T if fits else None)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """Fold a column matrix back into (N, C, H, W) images, summing overlaps (im2col's adjoint).

    Takes ``col`` in either memory order; the transpose of a C-contiguous array
    (what ``im2col`` returns) is the fast one.
    """
    col = _floating("col2im", col)
    out_h, out_w = _check_geometry("col2im", tuple(input_shape), filter_h, filter_w, stride, pad)
    N, C = input_shape[:2]
    expected = (N * out_h * out_w, C * filter_h * filter_w)
    if tuple(col.shape) != expected:
        raise ShapeError(f"col2im: col has shape {tuple(col.shape)}, but input shape "
                         f"{tuple(input_shape)} with filter {filter_h}x{filter_w}, stride "
                         f"{stride}, pad {pad} needs {expected}")
    return _implementation(col).col2im(col, tuple(input_shape), filter_h, filter_w, stride, pad,
                                       out_h, out_w)


def conv_input_grad(col_W, dout, input_shape, filter_h, filter_w, stride=1, pad=0):
    """``col2im(col_W @ dout)``: the gradient of a convolution with respect to its input.

    ``col_W`` is the (C*filter_h*filter_w, FN) filter matrix, ``dout`` the
    channel-major (FN, N*out_h*out_w) output gradient. On the CPU it goes a
    few images at a time, so the column matrix stays in cache and is never
    whole in memory (DeepConvNet's 16x28x28 layer: 28 -> 21 ms, 45 MB less).
    """
    _check_float("conv_input_grad", dout)
    out_h, out_w = _check_geometry("conv_input_grad", tuple(input_shape), filter_h, filter_w,
                                   stride, pad)
    N, C = input_shape[:2]
    K, R = C * filter_h * filter_w, N * out_h * out_w
    if col_W.ndim != 2 or col_W.shape[0] != K or tuple(dout.shape) != (col_W.shape[1], R):
        raise ShapeError(f"conv_input_grad: col_W {tuple(col_W.shape)} and dout "
                         f"{tuple(dout.shape)} do not fit input shape {tuple(input_shape)} "
                         f"with filter {filter_h}x{filter_w}: expected ({K}, FN) and (FN, {R})")
    return _implementation(dout, K * R).conv_input_grad(col_W, dout, tuple(input_shape),
                                                        filter_h, filter_w, stride, pad, out_h,
                                                        out_w)


def direct_conv_fits(x, W, stride, pad):
    """True when ``direct_conv_forward`` computes this convolution: 3x3 or 5x5 filters
    (DeepConvNet's, SimpleConvNet's) with stride 1 and pad < filter, float32 or float64
    input and filters alike, on the CPU, and work large enough for Numba (see _on_numpy).
    Other convolutions go through im2col."""
    if x.ndim != 4 or W.ndim != 4 or x.shape[1] != W.shape[1] or min(x.shape) < 1:
        return False
    size = W.shape[2]
    if stride != 1 or size not in (3, 5) or W.shape[3] != size or not 0 <= pad < size:
        return False
    if x.shape[2] + 2 * pad < size or x.shape[3] + 2 * pad < size:
        return False  # im2col's path says what is wrong
    if x.dtype != W.dtype or x.dtype.kind != "f" or x.dtype.itemsize not in (4, 8):
        return False
    if device_of(x).is_gpu:
        return False
    # im2col's work (its column matrix), counted by im2col when NumPy does it
    return not _on_numpy(size * size * x.size, count=False)


def direct_conv_forward(x, W, b, pad):
    """(out, frames): x (N, C, H, W) convolved with W (FN, C, F, F), stride 1, ``pad``, plus
    b (FN,), without a column matrix; ``frames`` is what ``direct_conv_backward`` needs of
    x. Only where ``direct_conv_fits``: see kernels/direct.py."""
    from . import direct
    bias = numpy.broadcast_to(numpy.asarray(b, dtype=x.dtype), (W.shape[0],))
    return direct.conv_forward(x, numpy.ascontiguousarray(W), bias, pad)


def direct_conv_backward(frames, W, dout, pad, need_dx=True):
    """(dW, dx): the gradients of ``direct_conv_forward`` from its frames and the output's
    gradient dout (N, FN, OH, OW); dx is None unless ``need_dx``."""
    from . import direct
    F = W.shape[2]
    fits = dout.ndim == 4 and dout.shape[1] == W.shape[0]
    if not fits or frames.shape[1] != direct.frames_length(
            dout.shape[0], dout.shape[2] + F - 1 - pad, dout.shape[3] + F - 1 - pad, F):
        raise ShapeError(f"direct_conv_backward: dout of shape {tuple(dout.shape)} does not fit "
                         f"the forward's filters {tuple(W.shape)} and input")
    dout = numpy.ascontiguousarray(dout, dtype=frames.dtype)
    return direct.conv_backward(frames, numpy.ascontiguousarray(W), dout, pad, need_dx)


def maxpool_forward(x, pool_h, pool_w, stride=1, pad=0):
    """Max pooling without a column matrix: returns (out, arg_max).

    ``arg_max[n, c, y, x]`` is the winning position inside the window (row-major,
    first maximum wins, padding counts as 0), as the book's Pooling picks it.
    """
    x = _floating("maxpool_forward", x)
    out_h, out_w = _check_geometry("maxpool_forward", x.shape, pool_h, pool_w, stride, pad)
    return _implementation(x).maxpool_forward(x, pool_h, pool_w, stride, pad, out_h, out_w)


def maxpool_backward(dout, arg_max, input_shape, pool_h, pool_w, stride=1, pad=0):
    """Route ``dout`` to the positions ``maxpool_forward`` picked; returns dx of ``input_shape``."""
    dout = _floating("maxpool_backward", dout)
    out_h, out_w = _check_geometry("maxpool_backward", tuple(input_shape), pool_h, pool_w,
                                   stride, pad)
    expected = (input_shape[0], input_shape[1], out_h, out_w)
    if tuple(dout.shape) != expected or tuple(arg_max.shape) != expected:
        raise ShapeError(f"maxpool_backward: dout {tuple(dout.shape)} and arg_max "
                         f"{tuple(arg_max.shape)} must both have shape {expected}")
    return _implementation(dout, math.prod(input_shape)).maxpool_backward(
        dout, arg_max, tuple(input_shape), pool_h, pool_w, stride, pad)


def crop_flip(x, offset_y, offset_x, flip, pad):
    """Images (N, C, H, W), each padded with ``pad`` zeros, cut at its own offset to H x W and
    mirrored left-right where asked: a new array, the augmentation's one pass.

    Image n's pixel (y, j) is the padded image's (y + offset_y[n], j' + offset_x[n]),
    j' = W-1-j where ``flip[n]`` is nonzero, else j. The offsets (in [0, 2*pad]) and
    flags are int32 arrays of N on the images' device.
    """
    _check_float("crop_flip", x)
    if x.ndim != 4:
        raise ShapeError(f"crop_flip: expected (N, C, H, W) images, got shape {tuple(x.shape)}")
    for name, array in (("offset_y", offset_y), ("offset_x", offset_x), ("flip", flip)):
        if tuple(array.shape) != x.shape[:1] or array.dtype != numpy.int32:
            raise ShapeError(f"crop_flip: {name} must be int32 of shape ({x.shape[0]},), got "
                             f"{array.dtype} {tuple(array.shape)}")
    return _implementation(x).crop_flip(x, offset_y, offset_x, flip, int(pad))


def batch_norm_forward(x, gamma, beta, eps):
    """Batch normalization of (N, C, H, W) per channel, in training mode, without leaving NCHW
    order: (out, mean, var, inv_std), the last three per channel (var: the biased variance,
    the book's). One parallel pass per statistic over each channel's planes on the CPU."""
    _check_float("batch_norm_forward", x)
    if x.ndim != 4 or tuple(gamma.shape) != (x.shape[1],) or gamma.shape != beta.shape:
        raise ShapeError(f"batch_norm_forward: input {tuple(x.shape)} needs gamma and beta of "
                         f"shape ({x.shape[1] if x.ndim == 4 else 'C'},), got "
                         f"{tuple(gamma.shape)} and {tuple(beta.shape)}")
    return _implementation(x).batch_norm_forward(x, gamma, beta, eps)


def batch_norm_backward(dout, x, mean, inv_std, gamma):
    """(dx, dgamma, dbeta): the gradients of ``batch_norm_forward`` given its input ``x`` and
    statistics, in one pass per channel on the CPU."""
    if dout.shape != x.shape:
        raise ShapeError(f"batch_norm_backward: dout {tuple(dout.shape)} does not match the "
                         f"forward input {tuple(x.shape)}")
    return _implementation(x).batch_norm_backward(dout, x, mean, inv_std, gamma)


def channels_to_nchw(cols, bias, shape):
    """Add ``bias`` to channel-major (C, N*H*W) values and lay them out as contiguous (N, C, H, W).

    The convolution's matrix product yields one row per output channel; this
    moves whole images into NCHW order in one pass, with the bias added on the way.
    """
    N, C, H, W = shape
    if tuple(cols.shape) != (C, N * H * W) or tuple(bias.shape) != (C,):
        raise ShapeError(f"channels_to_nchw: cols {tuple(cols.shape)} and bias "
                         f"{tuple(bias.shape)} do not fit output shape {tuple(shape)}")
    return _implementation(cols).channels_to_nchw(cols, bias, tuple(shape))


def nchw_to_channels(x):
    """(N, C, H, W) -> (C, N*H*W): the inverse layout of ``channels_to_nchw``, as a new array."""
    if x.ndim != 4:
        raise ShapeError(f"nchw_to_channels: expected a 4-D array, got shape {tuple(x.shape)}")
    return _implementation(x).nchw_to_channels(x)


def cross_entropy_rows(scores, labels, eps=1e-7):
    """-log(softmax(scores[r])[labels[r]] + eps) for every row r, fused in one pass.

    With the book's eps = 1e-7, the per-sample terms of the book's
    cross-entropy loss; with eps = 0, exact -log softmax (computed as
    log(sum exp) - score, which does not underflow). Softmax is stabilized
    by each row's maximum, as ``functions.softmax``.
    """
    _check_float("cross_entropy_rows", scores)
    if scores.ndim != 2 or tuple(labels.shape) != (scores.shape[0],):
        raise ShapeError(f"cross_entropy_rows: scores {tuple(scores.shape)} need one integer "
                         f"label per row, got labels {tuple(labels.shape)}")
    # always the kernel, whatever the size: the numerical-gradient engine compares losses
    # of batches of every size, and they must be computed alike to the last bit
    if device_of(scores).is_gpu:
        from . import gpu as kernel
    else:
        from . import cpu as kernel
    return kernel.cross_entropy_rows(scores, labels, eps)


def _small_on_cpu(array):
    """True for a CPU array that NumPy's array expressions should handle (see _on_numpy)."""
    return not device_of(array).is_gpu and _on_numpy(array.size)


def relu_forward(x):
    """max(0, x) as a new array, in one parallel pass on the CPU for large arrays."""
    if _small_on_cpu(x):
        return relu_forward_expression(numpy, x)
    return _implementation(x).relu_forward(x)


def relu_backward(dout, out):
    """A new array: 0 where the ReLU's output ``out`` is <= 0 (the book's mask), else ``dout``."""
    if dout.shape != out.shape:
        raise ShapeError(f"relu_backward: dout {tuple(dout.shape)} does not match the forward "
                         f"output {tuple(out.shape)}")
    if _small_on_cpu(dout):
        return relu_backward_expression(numpy, dout, out)
    return _implementation(dout).relu_backward(dout, out)


def adam_update(param, grad, m, v, lr_t, beta1, beta2, eps):
    """One Adam step in place (the book's formulas): m, v, then ``param``.

    On the CPU large contiguous arrays take one fused parallel pass instead of
    ten NumPy passes with temporaries (SimpleConvNet's parameters: 4.1 -> 0.4 ms).
    """
    for name, array in (("grad", grad), ("m", m), ("v", v)):
        if array.shape != param.shape:
            raise ShapeError(f"adam_update: {name} has shape {tuple(array.shape)}, the "
                             f"parameter {tuple(param.shape)}")
    if _small_on_cpu(param):
        return adam_expressions(numpy, param, grad, m, v, lr_t, beta1, beta2, eps)
    _implementation(param).adam_update(param, grad, m, v, lr_t, beta1, beta2, eps)


__all__ = ["adam_update", "batch_norm_backward", "batch_norm_forward", "channels_to_nchw", "col2im", "conv_input_grad", "crop_flip",
           "cross_entropy_rows",
           "direct_conv_backward", "direct_conv_fits", "direct_conv_forward", "im2col",
           "maxpool_backward", "maxpool_forward", "nchw_to_channels", "output_size",
           "relu_backward", "relu_forward", "use_numba_now"]
