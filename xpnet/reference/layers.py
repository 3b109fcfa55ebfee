"""The book's Affine, Convolution and Pooling layers (reference only).

``bookify(network)`` swaps them into a network, so a benchmark can time the
book's own algorithm for a whole training step beside xpnet's kernels.
"""
from ..layers import Affine, Convolution, Pooling
from .book import book_col2im, book_im2col, book_pool_backward, book_pool_forward


class BookAffine(Affine):
    """common/layers.py's Affine: backward computes dx, even where nothing uses it."""

    def backward(self, dout, need_dx=True):
        return super().backward(dout)


class BookConvolution(Convolution):
    """common/layers.py's Convolution: im2col, matrix product, transposed view out."""

    def forward(self, x):
        xp = self._xp(x, self.W, self.b)
        FN, C, FH, FW = self.W.shape
        N, _, H, W = x.shape
        out_h = 1 + (H + 2 * self.pad - FH) // self.stride
        out_w = 1 + (W + 2 * self.pad - FW) // self.stride
        self.x, self.col = x, book_im2col(x, FH, FW, self.stride, self.pad)
        self.col_W = self.W.reshape(FN, -1).T
        out = xp.dot(self.col, self.col_W) + self.b
        return out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)

    def backward(self, dout, need_dx=True):  # the book computes dx whether needed or not
        xp = self._xp(dout, self.W)
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = xp.sum(dout, axis=0)
        self.dW = xp.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = xp.dot(dout, self.col_W.T)
        return book_col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class BookPooling(Pooling):
    """common/layers.py's Pooling: im2col, max and argmax, col2im back."""

    def forward(self, x):
        self.x_shape = x.shape
        out, self.arg_max = book_pool_forward(x, self.pool_h, self.pool_w, self.stride, self.pad)
        return out

    def backward(self, dout):
        return book_pool_backward(dout, self.arg_max, self.x_shape, self.pool_h, self.pool_w,
                                  self.stride, self.pad)


def bookify(network):
    """Replace the network's Affine, Convolution and Pooling layers by the book's; returns it."""
    for name, layer in network.layers.items():
        if type(layer) is Affine:
            book = BookAffine(layer.W, layer.b)
        elif type(layer) is Convolution:
            book = BookConvolution(layer.W, layer.b, layer.stride, layer.pad)
        elif type(layer) is Pooling:
            book = BookPooling(layer.pool_h, layer.pool_w, layer.stride, layer.pad)
        else:
            continue
        book.name = name
        network.layers[name] = book
    return network
