"""Image augmentation for training: random crops of zero-padded images, and left-right flips.

    from xpnet.augment import Augment
    trainer = Trainer(network, x_train, t_train, x_test, t_test, augment=Augment(pad=4, flip=True))

The Trainer hands each mini-batch of images (N, C, H, W) to the augmentation
before the gradient pass; the test images are never changed. Each image gets
its own crop offset and flip, drawn where the images are: on the CPU from
xpnet's host generator, on a GPU from the device's counter-based stream (see
``backend.random``), so that ``xpnet.seed`` repeats them and a resumed run
draws what the uninterrupted run would have drawn. The crop and flip are one
kernel pass (``kernels.crop_flip``: Numba on the CPU, CUDA on a GPU).
"""
from .backend import get_array_module, random
from .errors import ShapeError
from .kernels import crop_flip


class Augment:
    """Random crop after ``pad`` zeros on each side (0: none), and a flip with probability 1/2."""

    def __init__(self, pad=4, flip=True):
        if int(pad) != pad or pad < 0:
            raise ValueError(f"Augment: pad must be an integer >= 0, got {pad!r}")
        self.pad, self.flip = int(pad), bool(flip)

    def __call__(self, x):
        """A new batch: each image of ``x`` (N, C, H, W) cropped and flipped at random."""
        if x.ndim != 4:
            raise ShapeError(f"augmentation needs images (N, C, H, W); got shape "
                             f"{tuple(x.shape)} (flat vectors cannot be cropped or flipped)")
        if not (self.pad or self.flip):
            return x
        xp = get_array_module(x)
        draws = random.rand_like(xp.empty((len(x), 3)))  # float64 (float32 may round up to 1)
        offsets = (draws[:, :2] * (2 * self.pad + 1)).astype(xp.int32)
        flips = (draws[:, 2] < 0.5) if self.flip else xp.zeros(len(x), dtype=bool)
        return crop_flip(x, xp.ascontiguousarray(offsets[:, 0]),
                         xp.ascontiguousarray(offsets[:, 1]), flips.astype(xp.int32), self.pad)

    def __repr__(self):
        return f"Augment(pad={self.pad}, flip={self.flip})"
