"""Batch normalization (chapter 6), for 2-D and 4-D input."""
from ..kernels import batch_norm_backward, batch_norm_forward
from .base import Layer

EPS = 10e-7  # the book's epsilon


class BatchNormalization(Layer):
    """Normalize each feature over the batch, then scale by gamma and shift by beta.

    2-D input (N, D) normalizes each of the D features. 4-D input (N, C, H, W)
    normalizes per channel over N, H and W when gamma has C elements (as
    frameworks do), or per value over N when gamma has C*H*W elements (as the
    book does, by flattening). Training updates ``running_mean`` and
    ``running_var``, which inference (``train_flg=False``) uses instead.

    Per channel, the layer never leaves NCHW order: kernels compute the
    statistics and the gradients a channel at a time (``kernels.batch_norm_*``),
    where the book's formulation would transpose to (N*H*W, C) rows and back
    and make ten passes with temporaries. The results agree to rounding.
    """

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.running_mean = running_mean
        self.running_var = running_var
        self.input_shape = None
        self.batch_size = None
        self.xc = self.xn = self.std = None
        self.channel_stats = None  # (x, mean, inv_std) of a per-channel training forward
        self.dgamma = None
        self.dbeta = None

    def _per_channel(self, shape):
        return len(shape) == 4 and shape[1] == self.gamma.size

    def _to_rows(self, x):
        """x as an (M, D) matrix: M samples of the D features that gamma scales."""
        D = self.gamma.size
        if self._per_channel(x.shape):
            return x.transpose(0, 2, 3, 1).reshape(-1, D)
        if x.ndim < 2 or x[0].size != D:
            raise self._shape_error(f"input of shape {tuple(x.shape)} does not fit gamma of "
                                    f"shape {tuple(self.gamma.shape)}")
        return x.reshape(x.shape[0], D)

    def _from_rows(self, rows, shape):
        if self._per_channel(shape):
            N, C, H, W = shape
            return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
        return rows.reshape(shape)

    def _normalize(self, rows, xp):
        """Statistics over axis -2 of rows (G, M, D): each of the G batches on its own."""
        mu = rows.mean(axis=-2, keepdims=True)
        xc = rows - mu
        var = xp.mean(xc ** 2, axis=-2, keepdims=True)
        std = xp.sqrt(var + EPS)
        return mu, var, xc, std, xc / std

    def evaluate(self, x, groups=1):
        """Training-mode output that leaves the running statistics alone.

        The batch is split into ``groups`` equal consecutive parts, each
        normalized with its own statistics: the numerical-gradient engine
        evaluates many perturbed copies of one batch in one call.
        """
        rows = self._to_rows(x)
        out = self.evaluate_rows(rows.reshape(groups, -1, rows.shape[1]))
        return self._from_rows(out.reshape(rows.shape), x.shape)

    def evaluate_rows(self, rows, features=slice(None)):
        """Training-mode output of rows (G, M, D) for the D features ``features`` selects."""
        xp = self._xp(rows, self.gamma)
        *_, xn = self._normalize(rows, xp)
        return self.gamma.reshape(-1)[features] * xn + self.beta.reshape(-1)[features]

    def forward(self, x, train_flg=True):
        xp = self._xp(x, self.gamma, self.beta)
        self.input_shape = x.shape
        self.channel_stats = None
        if self._per_channel(x.shape) and x.dtype.kind == "f":
            return self._forward_channels(x, train_flg, xp)
        rows = self._to_rows(x)
        self._start_running(rows.shape[1], rows.dtype, xp)
        if train_flg:
            mu, var, xc, std, xn = (a[0] for a in self._normalize(rows[None], xp))
            self.batch_size, self.xc, self.std, self.xn = rows.shape[0], xc, std, xn
            self._track(mu.reshape(-1), var.reshape(-1))
        else:
            xn = (rows - self.running_mean) / xp.sqrt(self.running_var + EPS)
        out = self.gamma.reshape(-1) * xn + self.beta.reshape(-1)
        return self._from_rows(out, self.input_shape)

    def _forward_channels(self, x, train_flg, xp):
        gamma, beta = self.gamma.reshape(-1), self.beta.reshape(-1)
        self._start_running(gamma.size, x.dtype, xp)
        if not train_flg:
            scale = gamma / xp.sqrt(self.running_var + EPS)
            shift = beta - self.running_mean * scale
            return x * scale[:, None, None] + shift[:, None, None]
        out, mean, var, inv_std = batch_norm_forward(x, gamma, beta, EPS)
        self.channel_stats = (x, mean, inv_std)
        self._track(mean, var)
        return out

    def _start_running(self, size, dtype, xp):
        """Running statistics of ``size`` features, zeros, on the first forward."""
        if self.running_mean is None:
            self.running_mean = xp.zeros(size, dtype=dtype)
            self.running_var = xp.zeros(size, dtype=dtype)

    def _track(self, mean, var):
        """Fold a training batch's mean and (biased) variance into the running statistics."""
        m = self.momentum
        self.running_mean = m * self.running_mean + (1 - m) * mean
        self.running_var = m * self.running_var + (1 - m) * var

    def backward(self, dout):
        xp = self._xp(dout, self.gamma)
        if self.channel_stats is not None:
            dx, dgamma, dbeta = batch_norm_backward(dout, *self.channel_stats,
                                                    self.gamma.reshape(-1))
            self.dgamma, self.dbeta = dgamma.reshape(self.gamma.shape), dbeta.reshape(
                self.beta.shape)
            return dx
        dout = self._to_rows(dout)
        self.dbeta = dout.sum(axis=0).reshape(self.beta.shape)
        self.dgamma = xp.sum(self.xn * dout, axis=0).reshape(self.gamma.shape)
        dxn = self.gamma.reshape(-1) * dout
        dxc = dxn / self.std
        dstd = -xp.sum((dxn * self.xc) / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc += (2.0 / self.batch_size) * self.xc * dvar
        dmu = xp.sum(dxc, axis=0)
        dx = dxc - dmu / self.batch_size
        return self._from_rows(dx, self.input_shape)
