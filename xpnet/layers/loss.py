"""Softmax followed by cross-entropy, the output layer of every classifier in the book."""
from ..functions import label_indices, mean_log_loss, softmax
from ..kernels import cross_entropy_rows
from ..labels import check_labels
from .base import Layer


class SoftmaxWithLoss(Layer):
    """Loss of scores ``x`` against labels ``t`` (one-hot or integer); backward is (y - t) / N."""

    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self._xp(x, t)
        if x.ndim != 2 or x.shape[0] == 0:
            raise self._shape_error(f"expected scores of shape (N, classes) with N >= 1, got "
                                    f"{tuple(x.shape)}")
        self.t = check_labels(t, x.shape[0], x.shape[1], self._label())
        self.y = softmax(x)
        self.loss = mean_log_loss(self.y, self.t if self.t.ndim == 1 else self.t.argmax(axis=1))
        return self.loss

    def sample_losses(self, x, labels, eps=1e-7):
        """-log(softmax(x)[label] + eps) for each row; with the book's 1e-7, the loss's terms."""
        self._xp(x, labels)
        return cross_entropy_rows(x, labels, eps)

    def evaluate(self, x, t, groups=1, eps=1e-7):
        """Losses of ``groups`` equal consecutive parts of the batch, as an array (groups,).

        Leaves the layer's state alone; the numerical-gradient engine scores
        many perturbed copies of one batch in one call. ``eps`` as in
        ``sample_losses``.
        """
        xp = self._xp(x, t)
        n = x.shape[0] // groups
        labels = label_indices(x[:n], xp.asarray(t))
        losses = self.sample_losses(x, xp.tile(labels, groups), eps)
        return losses.reshape(groups, n).sum(axis=1) / n

    def backward(self, dout=1):
        xp = self._xp(self.y)
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            dx = self.y - self.t
        else:
            dx = self.y.copy()
            dx[xp.arange(batch_size), self.t.astype("int64", copy=False)] -= 1
        return dx * (dout / batch_size)
