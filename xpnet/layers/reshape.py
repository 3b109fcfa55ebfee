"""Layers that only rearrange or summarize: Flatten, and global average pooling.

Neither is in the book; they are what a network of one's own needs between its
convolutions and its fully connected layers (Affine flattens by itself, these
make it explicit, and global average pooling replaces a large Affine input).
"""
from .base import Layer


class Flatten(Layer):
    """(N, ...) -> (N, D); backward gives the gradient its input's shape back."""

    def __init__(self):
        self.input_shape = None

    def forward(self, x):
        self._xp(x)
        if x.ndim < 2:
            raise self._shape_error(f"expected a batch (N, ...), got shape {tuple(x.shape)}")
        self.input_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.input_shape)


class GlobalAveragePooling(Layer):
    """(N, C, H, W) -> (N, C): the mean of each channel's map."""

    def __init__(self):
        self.input_shape = None

    def forward(self, x):
        self._xp(x)
        if x.ndim != 4:
            raise self._shape_error(f"expected a 4-D (N, C, H, W) input, got shape "
                                    f"{tuple(x.shape)}")
        self.input_shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dout):
        xp = self._xp(dout)
        _, _, H, W = self.input_shape
        return xp.broadcast_to((dout / (H * W))[:, :, None, None], self.input_shape).copy()
