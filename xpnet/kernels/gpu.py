"""CuPy kernels for the GPU: im2col, col2im, max pooling and the augmentation's crop and flip
(ReLU and Adam as expressions).

The column matrix is stored as on the CPU (see cpu.py): a C-contiguous
(C*FH*FW, N*OH*OW) array, returned transposed as the book's matrix.

One CUDA thread per output element, each reading what it needs (gather), so no
two threads write the same element and no atomics are needed. col2im and the
pooling backward sum in the book's order (filter row, then column).
Imported only when an array lives on a GPU.
"""
import functools

from ..backend.device import import_cupy
from . import expressions
from .expressions import adam_expressions, relu_backward_expression, relu_forward_expression

_IM2COL = """
int R = N * out_h * out_w;  // cols is (C*fh*fw, R): filter-position-major
int k = i / R, r = i % R;
int ox = r % out_w, oy = (r / out_w) % out_h, n = r / (out_w * out_h);
int kx = k % fw, ky = (k / fw) % fh, c = k / (fw * fh);
int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
cols = (0 <= iy && iy < H && 0 <= ix && ix < W) ? img[((n * C + c) * H + iy) * W + ix] : (T)0;
"""

_COL2IM = """
int ix = i % W, iy = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
int R = N * out_h * out_w;  // cols is (C*fh*fw, R)
T acc = 0;
for (int ky = 0; ky < fh; ++ky) {
    int dy = iy + pad - ky;
    if (dy < 0 || dy % stride != 0 || dy / stride >= out_h) continue;
    for (int kx = 0; kx < fw; ++kx) {
        int dx = ix + pad - kx;
        if (dx < 0 || dx % stride != 0 || dx / stride >= out_w) continue;
        int r = (n * out_h + dy / stride) * out_w + dx / stride;
        acc += cols[((c * fh + ky) * fw + kx) * R + r];
    }
}
img = acc;
"""

_MAXPOOL_FORWARD = """
int ox = i % out_w, oy = (i / out_w) % out_h, nc = i / (out_w * out_h);
T best = 0;
int best_k = -1;
for (int ky = 0; ky < ph; ++ky) {
    int iy = oy * stride + ky - pad;
    for (int kx = 0; kx < pw; ++kx) {
        int ix = ox * stride + kx - pad;
        T v = (0 <= iy && iy < H && 0 <= ix && ix < W) ? x[(nc * H + iy) * W + ix] : (T)0;
        if (best_k < 0 || (best == best && (v > best || v != v))) { best = v; best_k = ky * pw + kx; }
    }
}
out = best;
arg = best_k;
"""

_MAXPOOL_BACKWARD = """
int ix = i % W, iy = (i / W) % H, nc = i / (W * H);
T acc = 0;
for (int ky = 0; ky < ph; ++ky) {
    int ry = iy + pad - ky;  // (ry, rx): offset of the window's corner; not "dx", the output
    if (ry < 0 || ry % stride != 0 || ry / stride >= out_h) continue;
    for (int kx = 0; kx < pw; ++kx) {
        int rx = ix + pad - kx;
        if (rx < 0 || rx % stride != 0 || rx / stride >= out_w) continue;
        int o = (nc * out_h + ry / stride) * out_w + rx / stride;
        if (arg[o] == ky * pw + kx) acc += dout[o];
    }
}
dx = acc;
"""


_CROP_FLIP = """
int j = i % W, y = (i / W) % H, n = i / (W * H * C);
int sy = y + offset_y[n] - pad;
int sx = (flip[n] ? W - 1 - j : j) + offset_x[n] - pad;
out = (0 <= sy && sy < H && 0 <= sx && sx < W) ? x[i + (sy - y) * W + (sx - j)] : (T)0;
"""


_GEOMETRY = "int32 N, int32 C, int32 H, int32 W, int32 stride, int32 pad, int32 out_h, int32 out_w"

# name: (input parameters, outputs, body) of a cupy.ElementwiseKernel. The bodies'
# index arithmetic is also run on the CPU by tests/test_gpu_kernels_on_cpu.py.
KERNELS = {
    "im2col": (f"raw T img, int32 fh, int32 fw, {_GEOMETRY}", "T cols", _IM2COL),
    "col2im": (f"raw T cols, int32 fh, int32 fw, {_GEOMETRY}", "T img", _COL2IM),
    "maxpool_forward": (f"raw T x, int32 ph, int32 pw, {_GEOMETRY}", "T out, int32 arg",
                        _MAXPOOL_FORWARD),
    "maxpool_backward": (f"raw T dout, raw int32 arg, int32 ph, int32 pw, {_GEOMETRY}", "T dx",
                         _MAXPOOL_BACKWARD),
    "crop_flip": ("raw T x, raw int32 offset_y, raw int32 offset_x, raw int32 flip, int32 C, "
                  "int32 H, int32 W, int32 pad", "T out", _CROP_FLIP),
}


def _on_input_device(function):
    """Run ``function`` with its first argument's GPU current, so its outputs are made there
    (not on whichever GPU is current: gpu:1's arrays while gpu:0 is current)."""
    @functools.wraps(function)
    def run(first, *args):
        with first.device:
            return function(first, *args)
    return run


@functools.lru_cache(maxsize=None)
def _kernel(name):
    params, outputs, body = KERNELS[name]
    return import_cupy().ElementwiseKernel(params, outputs, body, f"xpnet_{name}")


@_on_input_device
def im2col(x, filter_h, filter_w, stride, pad, out_h, out_w, cols=None):
    cupy = import_cupy()
    N, C, H, W = x.shape
    if cols is None:
        cols = cupy.empty((C * filter_h * filter_w, N * out_h * out_w), dtype=x.dtype)
    _kernel("im2col")(cupy.ascontiguousarray(x), filter_h, filter_w, N, C, H, W, stride, pad,
                      out_h, out_w, cols)
    return cols.T


@_on_input_device
def col2im(col, shape, filter_h, filter_w, stride, pad, out_h, out_w):
    cupy = import_cupy()
    N, C, H, W = shape
    img = cupy.empty((N, C, H, W), dtype=col.dtype)
    _kernel("col2im")(cupy.ascontiguousarray(col.T), filter_h, filter_w, N, C, H, W, stride,
                      pad, out_h, out_w, img)
    return img


@_on_input_device
def conv_input_grad(col_W, dout, shape, filter_h, filter_w, stride, pad, out_h, out_w):
    cols = import_cupy().dot(col_W, dout)
    return col2im(cols.T, shape, filter_h, filter_w, stride, pad, out_h, out_w)


@_on_input_device
def maxpool_forward(x, pool_h, pool_w, stride, pad, out_h, out_w):
    cupy = import_cupy()
    N, C, H, W = x.shape
    out = cupy.empty((N, C, out_h, out_w), dtype=x.dtype)
    arg = cupy.empty((N, C, out_h, out_w), dtype=cupy.int32)
    _kernel("maxpool_forward")(cupy.ascontiguousarray(x), pool_h, pool_w, N, C, H, W, stride,
                               pad, out_h, out_w, out, arg)
    return out, arg


@_on_input_device
def maxpool_backward(dout, arg, shape, pool_h, pool_w, stride, pad):
    cupy = import_cupy()
    N, C, H, W = shape
    out_h, out_w = dout.shape[2:]
    dx = cupy.empty((N, C, H, W), dtype=dout.dtype)
    _kernel("maxpool_backward")(cupy.ascontiguousarray(dout), arg, pool_h, pool_w, N, C, H, W,
                                stride, pad, out_h, out_w, dx)
    return dx


@_on_input_device
def crop_flip(x, offset_y, offset_x, flip, pad):
    cupy = import_cupy()
    N, C, H, W = x.shape
    out = cupy.empty(x.shape, dtype=x.dtype)
    _kernel("crop_flip")(cupy.ascontiguousarray(x), offset_y, offset_x, flip, C, H, W, pad, out)
    return out


@_on_input_device
def channels_to_nchw(cols, bias, shape):
    return expressions.channels_to_nchw(import_cupy(), cols, bias, shape)


@_on_input_device
def nchw_to_channels(x):
    return expressions.nchw_to_channels(import_cupy(), x)


@_on_input_device
def cross_entropy_rows(scores, labels, eps):
    return expressions.cross_entropy_rows(import_cupy(), scores, labels, eps)


@_on_input_device
def batch_norm_forward(x, gamma, beta, eps):
    return expressions.batch_norm_forward(import_cupy(), x, gamma, beta, eps)


@_on_input_device
def batch_norm_backward(dout, x, mean, inv_std, gamma):
    return expressions.batch_norm_backward(import_cupy(), dout, x, mean, inv_std, gamma)


@_on_input_device
def relu_forward(x):
    return relu_forward_expression(import_cupy(), x)


@_on_input_device
def relu_backward(dout, out):
    return relu_backward_expression(import_cupy(), dout, out)


@_on_input_device
def adam_update(param, grad, m, v, lr_t, beta1, beta2, eps):
    adam_expressions(import_cupy(), param, grad, m, v, lr_t, beta1, beta2, eps)
