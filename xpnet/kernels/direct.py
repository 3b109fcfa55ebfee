"""Direct convolution, 3x3 or 5x5 filters with stride 1, on the CPU: no column matrix.

DeepConvNet convolves with 3x3 filters (pad 1, and pad 2 in its fourth layer),
SimpleConvNet with 5x5 ones (pad 0). Their column matrices are 9 or 25 times the
input (45 MB for one of DeepConvNet's layers at batch 100) and thin matrix products
(16-64 output channels) read them from memory. Here each channel's images lie end to
end in one row, in "frames" of (H+p) x (W+p) for pad p: p zero rows above each image
and p zeros before each of its rows, which also serve as the padding below and to the
right of the image or row before them. The output at frame position q sums the values
at q + ky*(W+p) + kx, so a filter tap is a shift of one long contiguous row, and a
loop over q is a vector loop that LLVM writes with AVX FMA instructions, with the taps'
inputs in registers (all nine of a 3x3 filter, a row of five of a 5x5 one). Positions
past each frame's output (F-1-p rows and columns) are computed and dropped: 7% of them
at 28x28, 19% at 8x8 (3x3, pad 1), none with pad 2, 27% for SimpleConvNet's 5x5.

- forward: out[n, f] = sum over c of the taps of W[f, c] on channel c's frames.
- input gradient: the same kernel on dout's frames (pad F-1-p, which gives frames of
  x's size) with W flipped and transposed (a stride-1 convolution's adjoint is the
  full convolution).
- filter gradient: dW[f, c, j] = the sum over q of dout at output position q (those
  same frames, shifted) times channel c's frames at q + tap j, a reduction per chunk
  of positions; chunks are added in order, so the result does not depend on the
  thread count.

Each output element sums its channels in order and the taps in order, whatever the
batch or block, so a batch of images gives each image the values it gets alone (the
numerical-gradient engine relies on that). Against im2col and a matrix product the
sums run in another order: float32 results agree to ~1e-6 relative.
"""
import numpy as np
from numba import prange, uint64 as U

from .jit import njit_cached

# Frame rows per block of forward work (each block's two accumulators stay in L1/L2),
# and frame positions per chunk of the filter gradient's reduction.
BLOCK_POSITIONS = 2048
CHUNK_POSITIONS = 4096


@njit_cached(parallel=True)
def _to_frames(x, offset, frame_h, frame_w, frames):
    """frames[c, n*frame_h*frame_w + (y+offset)*frame_w + x+offset] = x[n, c, y, x]; the rest
    stays 0."""
    N, C, H, W = x.shape
    for cn in prange(C * N):
        c, n = cn // N, cn % N
        row, first = frames[c], n * frame_h * frame_w + offset * (frame_w + 1)
        for y in range(H):
            d, src = U(first + y * frame_w), x[n, c, y]
            for i in range(W):
                row[d + U(i)] = src[i]


@njit_cached(fastmath={"contract"}, inline="always")
def _taps3(acc_f, acc_g, x, start, Q, frame_w, w, v):
    """acc_f[q] += the nine taps w (3x3) at x[start + q], likewise acc_g with v: the nine
    inputs are loaded once for both filters and the accumulators once per channel."""
    r1, r2, s = U(frame_w), U(2 * frame_w), U(start)
    w0, w1, w2, w3, w4, w5, w6, w7, w8 = w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
    v0, v1, v2, v3, v4, v5, v6, v7, v8 = v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]
    for i in range(Q):
        q = U(i)
        p = s + q
        a0, a1, a2 = x[p], x[p + U(1)], x[p + U(2)]
        b0, b1, b2 = x[p + r1], x[p + r1 + U(1)], x[p + r1 + U(2)]
        c0, c1, c2 = x[p + r2], x[p + r2 + U(1)], x[p + r2 + U(2)]
        acc_f[q] += (w0 * a0 + w1 * a1 + w2 * a2 + w3 * b0 + w4 * b1 + w5 * b2
                     + w6 * c0 + w7 * c1 + w8 * c2)
        acc_g[q] += (v0 * a0 + v1 * a1 + v2 * a2 + v3 * b0 + v4 * b1 + v5 * b2
                     + v6 * c0 + v7 * c1 + v8 * c2)


@njit_cached(fastmath={"contract"}, inline="always")
def _taps5_row(acc_f, acc_g, x, start, Q, w, v, o):
    """acc_f[q] += the five taps w[o:o+5] (one filter row of 5x5) at x[start + q], likewise
    acc_g with v."""
    s = U(start)
    w0, w1, w2, w3, w4 = w[o], w[o + 1], w[o + 2], w[o + 3], w[o + 4]
    v0, v1, v2, v3, v4 = v[o], v[o + 1], v[o + 2], v[o + 3], v[o + 4]
    for i in range(Q):
        q = U(i)
        p = s + q
        a0, a1, a2, a3, a4 = x[p], x[p + U(1)], x[p + U(2)], x[p + U(3)], x[p + U(4)]
        acc_f[q] += w0 * a0 + w1 * a1 + w2 * a2 + w3 * a3 + w4 * a4
        acc_g[q] += v0 * a0 + v1 * a1 + v2 * a2 + v3 * a3 + v4 * a4


@njit_cached()
def _write_block(acc_f, acc_g, f, g, row0, row1, frame_h, frame_w, bias, out):
    """out[n, f, y] (and out[n, g, y]) = a block's accumulators plus bias, for the frame rows
    [row0, row1) that hold output rows; the dropped positions are left behind."""
    OH, OW = out.shape[2], out.shape[3]
    for r in range(row0, row1):
        n, y = r // frame_h, r % frame_h
        if y < OH:
            a = U((r - row0) * frame_w)
            dst = out[n, f, y]
            for ox in range(OW):
                dst[ox] = acc_f[a + U(ox)] + bias[f]
            if g != f:
                dst = out[n, g, y]
                for ox in range(OW):
                    dst[ox] = acc_g[a + U(ox)] + bias[g]


@njit_cached(parallel=True, fastmath={"contract"})
def _convolve_frames(frames, taps, bias, size, frame_h, frame_w, rows, out):
    """out[n, f, y, x] = bias[f] + sum over c of taps[f, c] (size x size values) at the frame
    position of (n, y, x). One iteration: two filters over ``rows`` consecutive frame rows;
    the iterations of one block follow each other, so its rows of every channel stay in
    cache (filter-major, DeepConvNet's batch-500 step re-read 29 MB of frames per pair).

    The tap loops are inlined here, and compiled with this function's fastmath flags,
    not their own: "contract" must be here for w*x + acc to be one FMA instruction."""
    C, FN = frames.shape[0], taps.shape[0]
    total_rows = out.shape[0] * frame_h
    blocks = (total_rows + rows - 1) // rows
    pairs = (FN + 1) // 2
    for it in prange(blocks * pairs):  # block-major: a block's frames are read from cache
        block, f = it // pairs, 2 * (it % pairs)
        g = min(f + 1, FN - 1)  # the pair's second filter (f itself when FN is odd)
        row0, row1 = block * rows, min(total_rows, (block + 1) * rows)
        start, Q = row0 * frame_w, (row1 - row0) * frame_w
        acc_f = np.zeros(Q, dtype=frames.dtype)
        acc_g = np.zeros(Q, dtype=frames.dtype)
        for c in range(C):
            if size == 3:
                _taps3(acc_f, acc_g, frames[c], start, Q, frame_w, taps[f, c], taps[g, c])
            else:
                for ky in range(5):
                    _taps5_row(acc_f, acc_g, frames[c], start + ky * frame_w, Q, taps[f, c],
                               taps[g, c], 5 * ky)
        _write_block(acc_f, acc_g, f, g, row0, row1, frame_h, frame_w, bias, out)


@njit_cached(fastmath={"contract", "reassoc"})
def _sums3(d_f, d_g, x, shift, q0, q1, frame_w, out_f, out_g, zero):
    """out_f[j] = sum over q in [q0, q1) of d_f[shift + q] * x[q + tap j] (3x3), likewise out_g.

    Eighteen accumulators in the array's dtype (``zero``), which LLVM vectorizes
    (reassoc) into as many vector registers."""
    r1, r2 = U(frame_w), U(2 * frame_w)
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = zero
    t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = t8 = zero
    for i in range(q0, q1):
        q = U(i)
        e, h = d_f[q + U(shift)], d_g[q + U(shift)]
        a0, a1, a2 = x[q], x[q + U(1)], x[q + U(2)]
        b0, b1, b2 = x[q + r1], x[q + r1 + U(1)], x[q + r1 + U(2)]
        c0, c1, c2 = x[q + r2], x[q + r2 + U(1)], x[q + r2 + U(2)]
        s0 += e * a0; s1 += e * a1; s2 += e * a2; s3 += e * b0; s4 += e * b1  # noqa: E702
        s5 += e * b2; s6 += e * c0; s7 += e * c1; s8 += e * c2  # noqa: E702
        t0 += h * a0; t1 += h * a1; t2 += h * a2; t3 += h * b0; t4 += h * b1  # noqa: E702
        t5 += h * b2; t6 += h * c0; t7 += h * c1; t8 += h * c2  # noqa: E702
    out_f[0], out_f[1], out_f[2], out_f[3], out_f[4] = s0, s1, s2, s3, s4
    out_f[5], out_f[6], out_f[7], out_f[8] = s5, s6, s7, s8
    out_g[0], out_g[1], out_g[2], out_g[3], out_g[4] = t0, t1, t2, t3, t4
    out_g[5], out_g[6], out_g[7], out_g[8] = t5, t6, t7, t8


@njit_cached(fastmath={"contract", "reassoc"})
def _sums5_row(d_f, d_g, x, shift, q0, q1, row, out_f, out_g, o, zero):
    """out_f[o + kx] = sum over q in [q0, q1) of d_f[shift + q] * x[row + q + kx] (one filter
    row of 5x5), likewise out_g: ten vector accumulators."""
    s0 = s1 = s2 = s3 = s4 = t0 = t1 = t2 = t3 = t4 = zero
    r = U(row)
    for i in range(q0, q1):
        q = U(i)
        e, h = d_f[q + U(shift)], d_g[q + U(shift)]
        p = r + q
        a0, a1, a2, a3, a4 = x[p], x[p + U(1)], x[p + U(2)], x[p + U(3)], x[p + U(4)]
        s0 += e * a0; s1 += e * a1; s2 += e * a2; s3 += e * a3; s4 += e * a4  # noqa: E702
        t0 += h * a0; t1 += h * a1; t2 += h * a2; t3 += h * a3; t4 += h * a4  # noqa: E702
    out_f[o], out_f[o + 1], out_f[o + 2], out_f[o + 3], out_f[o + 4] = s0, s1, s2, s3, s4
    out_g[o], out_g[o + 1], out_g[o + 2], out_g[o + 3], out_g[o + 4] = t0, t1, t2, t3, t4


@njit_cached(parallel=True)
def _filter_grad_chunks(d_frames, shift, frames, size, frame_w, total, chunk, partial, zero):
    """partial[k, f, c] = the tap sums of chunk k (positions [k*chunk, (k+1)*chunk) of
    ``total``), two filters an iteration."""
    chunks, FN, C = partial.shape[:3]
    pairs = (FN + 1) // 2
    for it in prange(chunks * pairs):
        k, f = it // pairs, 2 * (it % pairs)
        g = min(f + 1, FN - 1)
        q0, q1 = k * chunk, min(total, (k + 1) * chunk)
        for c in range(C):
            if size == 3:
                _sums3(d_frames[f], d_frames[g], frames[c], shift, q0, q1, frame_w,
                       partial[k, f, c], partial[k, g, c], zero)
            else:
                for ky in range(5):
                    _sums5_row(d_frames[f], d_frames[g], frames[c], shift, q0, q1,
                               ky * frame_w, partial[k, f, c], partial[k, g, c], 5 * ky, zero)


def frames_length(N, frame_h, frame_w, size):
    """Positions in a channel's row of frames: N frames and a zero tail that the last frame's
    taps read (size - 1 rows and size - 1 positions)."""
    return N * frame_h * frame_w + (size - 1) * (frame_w + 1)


def to_frames(x, pad, size):
    """(N, C, H, W) -> (C, frames_length): each channel's images end to end, each at (pad, pad)
    of a zero frame of (H+pad) x (W+pad), with a zero tail for size x size filters."""
    N, C, H, W = x.shape
    frame_h, frame_w = H + pad, W + pad
    frames = np.zeros((C, frames_length(N, frame_h, frame_w, size)), dtype=x.dtype)
    _to_frames(np.ascontiguousarray(x), pad, frame_h, frame_w, frames)
    return frames


def _convolve(frames, taps, bias, size, frame_h, frame_w, out):
    """out = the size x size convolution over frames of frame_h x frame_w (out's images at
    their top left), plus bias."""
    _convolve_frames(frames, np.ascontiguousarray(taps), np.ascontiguousarray(bias), size,
                     frame_h, frame_w, max(1, BLOCK_POSITIONS // frame_w), out)
    return out


def conv_forward(x, W, b, pad):
    """(out, frames): the convolution of x with W (FN, C, F, F), F 3 or 5, plus b, stride 1,
    pad < F, and x's frames (kept by the layer for backward)."""
    N, C, H, Wd = x.shape
    FN, F = W.shape[0], W.shape[2]
    frames = to_frames(x, pad, F)
    out = np.empty((N, FN, H + 2 * pad - F + 1, Wd + 2 * pad - F + 1), dtype=x.dtype)
    return _convolve(frames, W.reshape(FN, C, F * F), b, F, H + pad, Wd + pad, out), frames


def conv_backward(frames, W, dout, pad, need_dx):
    """(dW, dx or None) from the forward's frames of x and the output gradient dout.

    dx is the full convolution of dout (framed with pad F-1-pad, frames of x's size) with
    W flipped and transposed. The same frames, shifted by F-1-pad rows and columns, hold
    dout at the output positions of x's frames, which dW needs."""
    N, FN, OH, OW = dout.shape
    C, F = W.shape[1], W.shape[2]
    back = F - 1 - pad  # dout's padding for the full convolution
    H, Wd = OH + 2 * back - F + 1, OW + 2 * back - F + 1  # the input's size
    frame_h, frame_w = H + pad, Wd + pad
    d_frames = to_frames(dout, back, F)
    dx = None
    if need_dx:
        flipped = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(C, FN, F * F)
        dx = _convolve(d_frames, flipped, np.zeros(C, dtype=dout.dtype), F, frame_h, frame_w,
                       np.empty((N, C, H, Wd), dtype=dout.dtype))
    shift = back * (frame_w + 1)
    total = N * frame_h * frame_w - shift  # past it dout's frames hold only zeros
    chunks = (total + CHUNK_POSITIONS - 1) // CHUNK_POSITIONS
    partial = np.empty((chunks, FN, C, F * F), dtype=dout.dtype)
    _filter_grad_chunks(d_frames, shift, frames, F, frame_w, total, CHUNK_POSITIONS, partial,
                        dout.dtype.type(0))
    return partial.sum(axis=0).reshape(W.shape), dx
