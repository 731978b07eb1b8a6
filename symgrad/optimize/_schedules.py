"""Learning-rate schedules: functions of the step count ``t`` (0 at the first update).

Each schedule is a small frozen callable with a readable ``repr``; any Python
callable ``t -> float`` is accepted wherever a schedule is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from symgrad.errors import OptionError, OptionTypeError

__all__ = [
    "constant_schedule",
    "cosine_schedule",
    "exponential_schedule",
    "step_schedule",
]


def _check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        need = "non-negative" if allow_zero else "positive"
        raise OptionError(f"{name} must be a finite {need} number, got {value!r}")
    return value


@dataclass(frozen=True)
class constant_schedule:  # noqa: N801 - a schedule reads like a function
    """The same learning rate at every step: ``lr_t = value``.

    Example:
        >>> constant_schedule(0.1)(7)
        0.1
    """

    value: float

    def __call__(self, t: int) -> float:
        return self.value


@dataclass(frozen=True)
class step_schedule:  # noqa: N801
    """Decay by ``gamma`` every ``step_size`` steps, as ``torch.optim.lr_scheduler.StepLR``.

    ``lr_t = init * gamma ** floor(t / step_size)``.

    Example:
        >>> s = step_schedule(1.0, step_size=10, gamma=0.5)
        >>> s(0), s(9), s(10), s(25)
        (1.0, 1.0, 0.5, 0.25)
    """

    init: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self):
        if int(self.step_size) != self.step_size or self.step_size < 1:
            raise OptionError(f"step_size must be a positive integer, got {self.step_size!r}")

    def __call__(self, t: int) -> float:
        return self.init * self.gamma ** (t // self.step_size)


@dataclass(frozen=True)
class exponential_schedule:  # noqa: N801
    """Multiply by ``gamma`` at every step: ``lr_t = init * gamma ** t``.

    Example:
        >>> exponential_schedule(1.0, gamma=0.5)(3)
        0.125
    """

    init: float
    gamma: float

    def __call__(self, t: int) -> float:
        return self.init * self.gamma**t


@dataclass(frozen=True)
class cosine_schedule:  # noqa: N801
    """Cosine annealing from ``init`` to ``final`` over ``decay_steps`` steps, then constant.

    ``lr_t = final + (init - final) * (1 + cos(pi * min(t, T) / T)) / 2`` with
    ``T = decay_steps`` (the closed form of ``torch``'s ``CosineAnnealingLR``).

    Example:
        >>> s = cosine_schedule(1.0, decay_steps=4)
        >>> s(0), s(2), s(4), s(10)
        (1.0, 0.5, 0.0, 0.0)
    """

    init: float
    decay_steps: int
    final: float = 0.0

    def __post_init__(self):
        if int(self.decay_steps) != self.decay_steps or self.decay_steps < 1:
            raise OptionError(f"decay_steps must be a positive integer, got {self.decay_steps!r}")

    def __call__(self, t: int) -> float:
        frac = min(t, self.decay_steps) / self.decay_steps
        return self.final + (self.init - self.final) * (1.0 + math.cos(math.pi * frac)) / 2.0


def as_schedule(lr, name: str = "lr"):
    """Return ``lr`` as a callable of the step count (a number becomes constant)."""
    if callable(lr):
        return lr
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise OptionTypeError(
            f"{name} must be a number or a schedule (a callable t -> float such as "
            f"cosine_schedule(0.1, 1000)), got {type(lr).__name__}"
        )
    return constant_schedule(_check_positive(lr, name))
