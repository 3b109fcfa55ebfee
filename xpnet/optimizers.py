"""The book's optimizers (chapter 6): ``update(params, grads)`` changes params in place.

Updating in place matters: the network's layers hold the very arrays in
``params``. Optimizer state (velocities, squared-gradient sums) is created
with ``zeros_like`` on the parameters' own device.

Beyond the book, every optimizer takes two options of the recipes that came
after it:

* ``weight_decay``: decoupled weight decay (Loshchilov & Hutter's AdamW form):
  before each update the weights shrink, ``W -= lr * weight_decay * W``,
  apart from the gradient, so Adam's per-parameter scaling does not weaken
  it as it weakens the book's L2 term (``weight_decay_lambda`` of the
  networks, which goes through the gradient). It applies to the weights the
  book's L2 applies to: the keys that start with ``W``, not biases nor batch
  normalization's gamma and beta. ``AdamW`` is Adam with 0.01 by default.
* ``schedule``: a ``xpnet.schedules.Schedule``; update number ``iter`` uses
  ``lr * schedule(iter)``. The count is saved with the optimizer's state, so a
  resumed run goes on with the learning rates of the uninterrupted one.
"""
import math
import numbers

import numpy

from .backend import get_array_module
from .kernels import adam_update

EPS = 1e-7


class Optimizer:
    """Base class: per-parameter state dicts, saved and restored for resuming a run."""

    state_names = ()

    def __init__(self, lr, weight_decay=0.0, schedule=None):
        if not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"{type(self).__name__}: learning rate must be a finite number > 0, "
                             f"got {lr!r}")
        if not (isinstance(weight_decay, numbers.Real) and 0 <= weight_decay < 1 / lr):
            raise ValueError(f"{type(self).__name__}: weight_decay must be in [0, 1/lr), got "
                             f"{weight_decay!r}")
        self.lr = self.base_lr = lr  # lr: this step's rate (base_lr * schedule(iter))
        self.weight_decay, self.schedule = weight_decay, schedule
        self.iter = 0  # updates made
        for name in self.state_names:
            setattr(self, name, None)

    def _fraction(self, name, value):
        """``value`` if it is a number in [0, 1) (a decay or momentum factor); else ValueError."""
        if not (isinstance(value, numbers.Real) and 0 <= value < 1):
            raise ValueError(f"{type(self).__name__}: {name} must be in [0, 1), got {value!r}")
        return value

    def _state(self, name, params):
        """The state dict ``name`` (e.g. ``v``), created as zeros on first use."""
        if getattr(self, name) is None:
            setattr(self, name, {k: get_array_module(p).zeros_like(p) for k, p in params.items()})
        return getattr(self, name)

    def update(self, params, grads):
        """Change every ``params[key]`` by its gradient ``grads[key]``, arrays in place.

        Python numbers (the book's two-variable examples) are updated too,
        becoming NumPy scalars, as the book's in-place operators make them.
        """
        if self.schedule is not None:
            self.lr = self.base_lr * self.schedule(self.iter)
        self.iter += 1
        scalars = [k for k, p in params.items() if isinstance(p, numbers.Number)]
        if not scalars:
            self._decay(params)
            return self._update(params, grads)
        arrays = {k: numpy.array(p, dtype=numpy.float64) if k in scalars else p
                  for k, p in params.items()}
        self._decay(arrays)
        self._update(arrays, {k: numpy.asarray(g) if k in scalars else g
                              for k, g in grads.items()})
        for key in scalars:
            params[key] = arrays[key][()]

    def _decay(self, params):
        """Decoupled weight decay: W *= 1 - lr * weight_decay, for the keys that start with W."""
        if self.weight_decay:
            keep = 1 - self.lr * self.weight_decay
            for key in params:
                if key.startswith("W"):
                    params[key] *= keep

    def state_dict(self):
        """Iteration count and state arrays, flat: {'iter': n, 'v/W1': array, ...}."""
        state = {"iter": self.iter}
        for name in self.state_names:
            for key, value in (getattr(self, name) or {}).items():
                state[f"{name}/{key}"] = value
        return state

    def load_state_dict(self, state, params):
        """Restore ``state_dict``'s output, onto the device of ``params``."""
        from .backend import device_of
        self.iter = int(state["iter"])
        for name in self.state_names:
            entries = {k.split("/", 1)[1]: v for k, v in state.items() if k.startswith(name + "/")}
            setattr(self, name, {k: device_of(params[k]).send(v).astype(params[k].dtype)
                                 for k, v in entries.items()} or None)


class SGD(Optimizer):
    """p -= lr * g"""

    def __init__(self, lr=0.01, **options):
        super().__init__(lr, **options)

    def _update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class Momentum(Optimizer):
    """v = momentum * v - lr * g; p += v"""

    state_names = ("v",)

    def __init__(self, lr=0.01, momentum=0.9, **options):
        super().__init__(lr, **options)
        self.momentum = self._fraction("momentum", momentum)

    def _update(self, params, grads):
        v = self._state("v", params)
        for key in params:
            v[key] *= self.momentum
            v[key] -= self.lr * grads[key]
            params[key] += v[key]


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, in the book's form (Bengio et al.'s rewriting).

    p += momentum^2 v; p -= (1 + momentum) lr g; then v = momentum v - lr g:
    the parameters move with the velocity of the previous step, as in the book.
    """

    def _update(self, params, grads):
        v = self._state("v", params)
        for key in params:
            params[key] += self.momentum * self.momentum * v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
            v[key] *= self.momentum
            v[key] -= self.lr * grads[key]


class AdaGrad(Optimizer):
    """h += g * g; p -= lr * g / (sqrt(h) + 1e-7)"""

    state_names = ("h",)

    def __init__(self, lr=0.01, **options):
        super().__init__(lr, **options)

    def _update(self, params, grads):
        h = self._state("h", params)
        for key in params:
            xp = get_array_module(params[key])
            h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (xp.sqrt(h[key]) + EPS)


class RMSprop(Optimizer):
    """h = decay * h + (1 - decay) * g * g; p -= lr * g / (sqrt(h) + 1e-7)"""

    state_names = ("h",)

    def __init__(self, lr=0.01, decay_rate=0.99, **options):
        super().__init__(lr, **options)
        self.decay_rate = self._fraction("decay_rate", decay_rate)

    def _update(self, params, grads):
        h = self._state("h", params)
        for key in params:
            xp = get_array_module(params[key])
            h[key] *= self.decay_rate
            h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (xp.sqrt(h[key]) + EPS)


class Adam(Optimizer):
    """Adam (Kingma & Ba), with the bias correction folded into the step size as in the book."""

    state_names = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, **options):
        super().__init__(lr, **options)
        self.beta1 = self._fraction("beta1", beta1)
        self.beta2 = self._fraction("beta2", beta2)

    def _update(self, params, grads):
        m, v = self._state("m", params), self._state("v", params)
        lr_t = self.lr * math.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params:  # m += (1-beta1)(g-m); v += (1-beta2)(g^2-v); p -= lr_t m/(sqrt(v)+eps)
            adam_update(params[key], grads[key], m[key], v[key], lr_t, self.beta1, self.beta2, EPS)


class AdamW(Adam):
    """Adam with decoupled weight decay, 0.01 unless given (PyTorch's AdamW default)."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, weight_decay=0.01, **options):
        super().__init__(lr, beta1, beta2, weight_decay=weight_decay, **options)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adagrad": AdaGrad,
              "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


def get_optimizer(name, **params):
    """An optimizer by (case-insensitive) name, e.g. ``get_optimizer('adam', lr=1e-3)``."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of: "
                         f"{', '.join(OPTIMIZERS)}") from None
    return cls(**params)


__all__ = ["AdaGrad", "Adam", "AdamW", "Momentum", "Nesterov", "OPTIMIZERS", "Optimizer", "RMSprop",
           "SGD", "get_optimizer"]
