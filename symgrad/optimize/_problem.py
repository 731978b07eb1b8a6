"""Turn what the user passed (an Objective, a textbook function, a callable) into an oracle."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from symgrad.errors import InputError, OptionError, OptionTypeError
from symgrad.optimize._alias import Adam
from symgrad.optimize._base import GradientTransformation, Oracle

__all__ = ["as_objective", "check_x0", "default_optimizer", "no_data_oracle"]


def default_optimizer(optimizer) -> GradientTransformation:
    """``Adam(lr=0.01)`` when ``optimizer`` is ``None``; refuse anything else that is not a block."""
    if optimizer is None:
        return Adam(lr=0.01)
    if not isinstance(optimizer, GradientTransformation):
        raise OptionTypeError(
            f"optimizer must be one of symgrad.optim (e.g. sg.optim.Adam(lr=0.01)) or a "
            f"GradientTransformation, got {type(optimizer).__name__}"
        )
    return optimizer


def as_objective(objective, caller: str):
    """Return an object with ``batch_value_and_grad`` for ``objective``.

    A textbook function of ``sg.functions`` (``.expr`` and ``.symbols``) becomes
    ``sg.Objective(f.expr, f.symbols)``.
    """
    if hasattr(objective, "batch_value_and_grad"):
        return objective
    if hasattr(objective, "expr") and hasattr(objective, "symbols"):
        from symgrad.objective import Objective

        return Objective(objective.expr, tuple(objective.symbols))
    if isinstance(objective, str):
        raise OptionTypeError(f"{caller} takes an sg.Objective, not a string; build one with "
                              f"sg.Objective(sg.parse(text), params)")
    raise OptionTypeError(
        f"{caller} takes an sg.Objective (or, for minimize, a function of sg.functions or a "
        f"callable x -> (loss, gradient)), got {type(objective).__name__}"
    )


def no_data_oracle(objective) -> tuple[Oracle, tuple | None, object]:
    """The oracle of an objective with no data, its parameter symbols (``None`` if
    unnamed) and the ``Objective`` behind it (``None`` for a plain callable)."""
    if callable(objective) and not hasattr(objective, "batch_value_and_grad") and not hasattr(objective, "expr"):
        def value(x):
            return objective(x)[0]

        return Oracle(value, objective, None), None, None
    obj = as_objective(objective, "minimize")
    if len(obj.data):
        names = ", ".join(str(s) for s in obj.data)
        raise InputError(
            f"minimize works on objectives without data, but this one has data symbols ({names}); "
            f"use sg.fit(objective, columns) instead"
        )
    data = obj.prepare()
    bvg = obj.batch_value_and_grad
    bv = obj.batch_value

    def value_and_grad(x):
        return bvg(x, data)

    def value(x):
        return bv(x, data)

    def hessian(x):
        return np.asarray(obj.hessian(x), dtype=np.float64)

    return Oracle(value, value_and_grad, hessian), tuple(obj.params), obj


def check_x0(x0, n: int | None, symbols, caller: str) -> np.ndarray:
    """A fresh float64 copy of ``x0`` after checking its shape and values."""
    try:
        x = np.array(x0, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{caller}: x0 must be a sequence of numbers, got {x0!r}") from exc
    if x.ndim == 0:
        x = x.reshape(1)
    if x.ndim != 1:
        raise InputError(f"{caller}: x0 must be one-dimensional, got shape {x.shape}")
    if n is not None and x.shape[0] != n:
        names = ", ".join(str(s) for s in symbols)
        raise InputError(f"{caller}: x0 has {x.shape[0]} entries but the objective has {n} parameters ({names})")
    if not np.all(np.isfinite(x)):
        bad = int(np.flatnonzero(~np.isfinite(x))[0])
        name = symbols[bad] if symbols else f"x[{bad}]"
        raise InputError(f"{caller}: x0 holds a non-finite value for {name}; start from finite numbers")
    return np.ascontiguousarray(x)


def check_count(value, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise OptionError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_tol(tol) -> float | None:
    if tol is None:
        return None
    if isinstance(tol, bool) or not isinstance(tol, Real) or not math.isfinite(tol) or tol < 0:
        raise OptionError(f"tol must be None or a finite number >= 0, got {tol!r}")
    return float(tol)
