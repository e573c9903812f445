"""Learning-rate schedules: eta_t as a function of the step count t = 0, 1, 2, ...

t counts the optimiser steps already taken, so the first step uses eta_0. Any callable
``t -> float`` works as a schedule; these classes also describe themselves as JSON
(``to_dict``) so a run's configuration can be saved.

Example:
    >>> s = InverseTime(0.1, tau=100)
    >>> s(0), s(100)
    (0.1, 0.05)
"""

from __future__ import annotations

import math
import numbers


class Schedule:
    """Base class: ``schedule(t)`` is the learning rate of step t (0-based)."""

    name = "schedule"

    def __call__(self, t: int) -> float:
        raise NotImplementedError

    def to_dict(self) -> dict:
        return {"name": self.name, **{k: v for k, v in vars(self).items()}}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """eta_t = eta0."""

    name = "constant"

    def __init__(self, eta0: float):
        self.eta0 = _positive(eta0, "eta0")

    def __call__(self, t):
        return self.eta0


class InverseTime(Schedule):
    """eta_t = eta0 / (1 + t / tau): the classic decay for SGD (sum eta_t diverges,
    sum eta_t^2 converges)."""

    name = "inverse-time"

    def __init__(self, eta0: float, tau: float):
        self.eta0 = _positive(eta0, "eta0")
        self.tau = _positive(tau, "tau")

    def __call__(self, t):
        return self.eta0 / (1.0 + t / self.tau)


class StepDecay(Schedule):
    """eta_t = eta0 * factor ** floor(t / step_size): drop by ``factor`` every step_size steps."""

    name = "step"

    def __init__(self, eta0: float, step_size: int, factor: float = 0.5):
        self.eta0 = _positive(eta0, "eta0")
        self.step_size = _positive(step_size, "step_size")
        if not 0.0 < factor <= 1.0:
            raise ValueError(f"step schedule: factor must be in (0, 1], got {factor}")
        self.factor = factor

    def __call__(self, t):
        return self.eta0 * self.factor ** (t // self.step_size)


class Cosine(Schedule):
    """eta_t = eta_min + (eta0 - eta_min) (1 + cos(pi t / total)) / 2, then eta_min after
    ``total`` steps."""

    name = "cosine"

    def __init__(self, eta0: float, total: int, eta_min: float = 0.0):
        self.eta0 = _positive(eta0, "eta0")
        self.total = _positive(total, "total")
        if not 0.0 <= eta_min <= eta0:
            raise ValueError(f"cosine schedule: eta_min must be in [0, eta0], got {eta_min}")
        self.eta_min = eta_min

    def __call__(self, t):
        if t >= self.total:
            return self.eta_min
        return self.eta_min + (self.eta0 - self.eta_min) * 0.5 * (1.0 + math.cos(math.pi * t / self.total))


SCHEDULES = {"constant": Constant, "inverse-time": InverseTime, "step": StepDecay,
             "cosine": Cosine}


def make_schedule(name: str, eta0: float, total_steps: int | None = None,
                  decay_steps: float | None = None, factor: float = 0.5) -> Schedule:
    """Build a schedule by name, as the command line does.

    Args:
        name: "constant", "inverse-time", "step" or "cosine".
        eta0: the initial learning rate.
        total_steps: length of the run (cosine decays to 0 over it).
        decay_steps: tau for inverse-time, the step size for step (default total_steps / 4).
        factor: the step schedule's multiplier.
    """
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    if name == "constant":
        return Constant(eta0)
    if name == "cosine":
        if total_steps is None:
            raise ValueError("cosine schedule needs the total number of steps")
        return Cosine(eta0, total_steps)
    if decay_steps is None:
        if total_steps is None:
            raise ValueError(f"{name} schedule needs decay_steps or total_steps")
        decay_steps = max(1, total_steps // 4)
    if name == "inverse-time":
        return InverseTime(eta0, decay_steps)
    return StepDecay(eta0, max(1, int(round(decay_steps))), factor)


def _positive(x, what):
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not x > 0 or not math.isfinite(x):
        raise ValueError(f"{what} must be a positive finite number, got {x!r}")
    return x
