"""Optimizers as (init, update) pairs, and ``chain`` to compose them.

A :class:`GradientTransformation` turns a gradient ``g`` into an update ``u``
that the loop adds to the parameters ``x``: ``x <- x + u``. Each block is two
functions::

    state = init(x)
    u, state = update(g, state, x)

Named optimizers (``Adam``, ``SGD``, ...) are ``chain`` s of small blocks.

For speed, a block may update the arrays of its state in place: treat a state
as consumed once it has been passed to ``update`` and keep the one returned.
``init`` always builds fresh arrays, so an optimizer object can be reused: each
run that calls ``init`` starts from a fresh state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from symgrad.errors import OptionTypeError

__all__ = [
    "EmptyState",
    "GradientTransformation",
    "Oracle",
    "apply_updates",
    "chain",
]


class EmptyState(NamedTuple):
    """The state of a block that keeps none."""


class Oracle(NamedTuple):
    """What a second-order block may ask of the objective besides the gradient.

    Each entry is a function of the parameter vector ``x`` (float64, shape (n,)).
    ``value(x) -> float``, ``value_and_grad(x) -> (float, ndarray (n,))``,
    ``hessian(x) -> ndarray (n, n)`` (``None`` when not available).
    """

    value: Callable[[np.ndarray], float]
    value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]]
    hessian: Callable[[np.ndarray], np.ndarray] | None = None


class GradientTransformation(NamedTuple):
    """A pair of pure-looking functions ``(init, update)`` that turn gradients into updates.

    With parameters ``x`` and gradient ``g``: ``state = init(x)``, then for each
    step ``u, state = update(g, state, x)`` and ``x <- x + u``.

    Args:
        init: ``init(x) -> state``, a fresh state for parameters ``x``.
        update: ``update(g, state, x) -> (u, state)``; when ``needs_oracle`` is
            true it also takes the keyword ``oracle`` (an :class:`Oracle`).
        description: what ``repr`` shows, e.g. ``"Adam(lr=0.001, ...)"``.
        needs_oracle: the block evaluates the objective itself (line searches,
            Hessians), so the loop must pass ``oracle=``.

    Example:
        >>> import numpy as np
        >>> from symgrad.optimize import scale
        >>> t = scale(-0.5)
        >>> u, _ = t.update(np.array([2.0, 4.0]), t.init(np.zeros(2)), np.zeros(2))
        >>> u
        array([-1., -2.])
    """

    init: Callable[[np.ndarray], Any]
    update: Callable[..., tuple[np.ndarray, Any]]
    description: str = "GradientTransformation"
    needs_oracle: bool = False

    def __repr__(self) -> str:
        return self.description


def chain(*transforms: GradientTransformation, description: str | None = None) -> GradientTransformation:
    """Compose blocks: the update of one is the gradient of the next.

    With blocks ``T1, ..., Tk``: ``u = Tk(...T2(T1(g)))``; the state is the
    tuple of the blocks' states.

    Args:
        *transforms: the blocks, applied left to right.
        description: what ``repr`` shows (default ``"chain(T1, ..., Tk)"``).

    Returns:
        GradientTransformation: the composition.

    Raises:
        TypeError: an argument is not a ``GradientTransformation``.

    Example:
        >>> import numpy as np
        >>> from symgrad.optimize import chain, scale
        >>> t = chain(scale(2.0), scale(-0.25))
        >>> u, _ = t.update(np.array([4.0]), t.init(np.zeros(1)), np.zeros(1))
        >>> u
        array([-2.])
    """
    for t in transforms:
        if not isinstance(t, GradientTransformation):
            raise OptionTypeError(
                f"chain takes GradientTransformation blocks (e.g. scale_by_adam()), "
                f"got {type(t).__name__}"
            )
    inits = tuple(t.init for t in transforms)
    updates = tuple(t.update for t in transforms)
    oracle_flags = tuple(t.needs_oracle for t in transforms)
    needs_oracle = any(oracle_flags)

    def init(x):
        return tuple(f(x) for f in inits)

    if needs_oracle:

        def update(g, state, x, *, oracle=None):
            new_state = []
            for f, s, wants in zip(updates, state, oracle_flags):
                g, s = f(g, s, x, oracle=oracle) if wants else f(g, s, x)
                new_state.append(s)
            return g, tuple(new_state)

    else:

        def update(g, state, x):
            new_state = []
            for f, s in zip(updates, state):
                g, s = f(g, s, x)
                new_state.append(s)
            return g, tuple(new_state)

    update.blocks = transforms  # read by the compiled epoch of ``fit`` (optimize/_plan.py)
    if description is None:
        description = "chain(" + ", ".join(repr(t) for t in transforms) + ")"
    return GradientTransformation(init, update, description, needs_oracle)


def apply_updates(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Return ``x + u`` (a new array; ``x`` is not modified).

    Example:
        >>> import numpy as np
        >>> apply_updates(np.array([1.0, 2.0]), np.array([0.5, -1.0]))
        array([1.5, 1. ])
    """
    return np.asarray(x, dtype=np.float64) + u
