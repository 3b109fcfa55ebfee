"""Learning-rate schedules: the factor a run's learning rate is multiplied by at each step.

    from xpnet.optimizers import Momentum
    from xpnet.schedules import make_schedule

    schedule = make_schedule("cosine", total_steps=epochs * steps_per_epoch, warmup_steps=500)
    optimizer = Momentum(lr=0.1, schedule=schedule)

A schedule is a function of the step number alone (the updates made before
this one, counted by the optimizer and kept in its checkpoints), so a resumed
run uses exactly the learning rates the uninterrupted run would have used.

* ``constant``: 1 (after the warm-up, if any).
* ``step``: 1, then ``gamma`` (0.1) from half-way, ``gamma**2`` from three
  quarters (``milestones``, fractions of the run).
* ``cosine``: from 1 down to 0 along half a cosine wave (Loshchilov & Hutter's
  SGDR without restarts).
* ``one_cycle``: up in a straight line from 1/25 to 1 over the warm-up (30%
  of the run unless given), then down in a straight line to 0 at the last
  step (Smith's one-cycle policy, in the triangular form the fast
  MNIST and CIFAR-10 recipes use).

The warm-up of ``constant``, ``step`` and ``cosine`` rises in a straight line
from 1/warmup_steps to 1; the others count their steps from its end.
"""
import math

SCHEDULES = ("constant", "step", "cosine", "one_cycle")
ONE_CYCLE_START = 1 / 25  # PyTorch's OneCycleLR div_factor
ONE_CYCLE_WARMUP = 0.3  # PyTorch's OneCycleLR pct_start


class Schedule:
    """``schedule(step)``: the learning rate's factor at update number ``step`` (from 0)."""

    def __init__(self, kind, total_steps, warmup_steps=0, gamma=0.1, milestones=(0.5, 0.75)):
        if kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {kind!r}; choose one of: {', '.join(SCHEDULES)}")
        if total_steps < 1:
            raise ValueError(f"schedule {kind}: total_steps must be >= 1, got {total_steps}")
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(f"schedule {kind}: warmup_steps must be in [0, {total_steps}) "
                             f"(the run's steps), got {warmup_steps}")
        if not 0 < gamma <= 1:
            raise ValueError(f"schedule step: gamma must be in (0, 1], got {gamma}")
        self.kind, self.total, self.warmup = kind, int(total_steps), int(warmup_steps)
        if kind == "one_cycle" and not warmup_steps:
            self.warmup = max(1, int(ONE_CYCLE_WARMUP * total_steps))
        self.gamma, self.milestones = gamma, tuple(sorted(milestones))

    def __call__(self, step):
        if self.kind == "one_cycle":
            if step < self.warmup:
                return ONE_CYCLE_START + (1 - ONE_CYCLE_START) * step / self.warmup
            return max(0.0, (self.total - step) / (self.total - self.warmup))
        if step < self.warmup:
            return (step + 1) / self.warmup
        done = min(1.0, (step - self.warmup) / max(self.total - self.warmup, 1))
        if self.kind == "cosine":
            return 0.5 * (1 + math.cos(math.pi * done))
        if self.kind == "step":
            return self.gamma ** sum(done >= m for m in self.milestones)
        return 1.0

    def __repr__(self):
        return f"Schedule({self.kind!r}, total_steps={self.total}, warmup_steps={self.warmup})"


def make_schedule(kind, total_steps, warmup_steps=0):
    """A ``Schedule``, or None for ``kind`` None or "constant" without warm-up (no schedule)."""
    if kind is None or (kind == "constant" and not warmup_steps):
        return None
    return Schedule(kind, total_steps, warmup_steps)
