"""First-order building blocks: each a :class:`GradientTransformation`.

Notation in the docstrings: ``g`` the incoming gradient (or update of the
previous block), ``u`` the outgoing update, ``x`` the parameters, ``t`` the
number of updates taken before this one plus one (``t = 1`` at the first step).
The element-wise arithmetic of the stateful blocks runs in small Numba kernels
so that one optimizer step costs a few microseconds.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from symgrad.jit._cache import builtin_kernel
from symgrad.optimize._base import EmptyState, GradientTransformation
from symgrad.optimize import _plan
from symgrad.optimize._plan import CompiledStep
from symgrad.optimize._schedules import as_schedule
from symgrad.errors import OptionError, OptionTypeError

__all__ = [
    "ScaleByAdamState",
    "ScaleByLearningRateState",
    "ScaleByRmsState",
    "ScaleByRssState",
    "TraceState",
    "add_decayed_weights",
    "clip_by_global_norm",
    "scale",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_rms",
    "scale_by_rss",
    "trace",
]


def _number(value, name: str, low: float = 0.0, high: float = math.inf, *, open_high=False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise OptionTypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    too_high = value >= high if open_high else value > high
    if not math.isfinite(value) or value < low or too_high:
        bracket = ")" if open_high else "]"
        raise OptionError(f"{name} must lie in [{low}, {high}{bracket}, got {value!r}")
    return value


# ---------------------------------------------------------------- kernels


@builtin_kernel
def _adam_kernel(g, mu, nu, b1, b2, bc1, sqrt_bc2, eps):  # pragma: no cover - compiled
    u = np.empty_like(g)
    for i in range(g.shape[0]):
        mu[i] = b1 * mu[i] + (1.0 - b1) * g[i]
        nu[i] = b2 * nu[i] + (1.0 - b2) * g[i] * g[i]
        u[i] = (mu[i] / bc1) / (math.sqrt(nu[i]) / sqrt_bc2 + eps)
    return u


@builtin_kernel
def _rms_kernel(g, nu, alpha, eps):  # pragma: no cover - compiled
    u = np.empty_like(g)
    for i in range(g.shape[0]):
        nu[i] = alpha * nu[i] + (1.0 - alpha) * g[i] * g[i]
        u[i] = g[i] / (math.sqrt(nu[i]) + eps)
    return u


@builtin_kernel
def _rss_kernel(g, s, eps):  # pragma: no cover - compiled
    u = np.empty_like(g)
    for i in range(g.shape[0]):
        s[i] += g[i] * g[i]
        u[i] = g[i] / (math.sqrt(s[i]) + eps)
    return u


@builtin_kernel
def _trace_kernel(g, buf, first, decay, dampening, nesterov):  # pragma: no cover - compiled
    u = np.empty_like(g)
    for i in range(g.shape[0]):
        if first:
            buf[i] = g[i]
        else:
            buf[i] = decay * buf[i] + (1.0 - dampening) * g[i]
        u[i] = g[i] + decay * buf[i] if nesterov else buf[i]
    return u


# ---------------------------------------------------------------- blocks


def scale(factor: float) -> GradientTransformation:
    """Multiply by a constant: ``u = factor * g``.

    Example:
        >>> import numpy as np
        >>> t = scale(3.0)
        >>> t.update(np.array([1.0, -2.0]), t.init(None), None)[0]
        array([ 3., -6.])
    """
    factor = float(factor)

    def init(x):
        return EmptyState()

    def update(g, state, x):
        return factor * g, state

    update.compiled = CompiledStep(_plan.SCALE, (factor,))
    return GradientTransformation(init, update, f"scale({factor!r})")


class ScaleByLearningRateState(NamedTuple):
    """``count``: updates taken so far."""

    count: int


def scale_by_learning_rate(lr) -> GradientTransformation:
    """Descend with a (scheduled) learning rate: ``u = -lr_t * g``.

    ``lr`` maps to ``lr_t``: a positive number, or a schedule called with the
    number of updates taken before this one (``lr_0`` at the first step).

    Example:
        >>> import numpy as np
        >>> t = scale_by_learning_rate(0.1)
        >>> t.update(np.array([1.0, -2.0]), t.init(None), None)[0]
        array([-0.1,  0.2])
    """
    schedule = as_schedule(lr)

    def init(x):
        return ScaleByLearningRateState(0)

    def update(g, state, x):
        return -schedule(state.count) * g, ScaleByLearningRateState(state.count + 1)

    def scalars(state, k):
        return [(-float(schedule(t)),) for t in range(state.count, state.count + k)]

    update.compiled = CompiledStep(_plan.LEARNING_RATE, scalars=scalars,
                                   advance=lambda state, k: ScaleByLearningRateState(state.count + k))

    return GradientTransformation(init, update, f"scale_by_learning_rate({lr!r})")


class ScaleByAdamState(NamedTuple):
    """``count``: updates so far; ``mu``, ``nu``: first and second moment estimates."""

    count: int
    mu: np.ndarray
    nu: np.ndarray


def scale_by_adam(beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Rescale by Adam's bias-corrected moment estimates (Kingma & Ba, 2015).

    ``beta1 = b1``, ``beta2 = b2``, ``eps = eps``; ``m_0 = v_0 = 0``::

        m_t = b1 m_{t-1} + (1 - b1) g
        v_t = b2 v_{t-1} + (1 - b2) g^2
        u   = (m_t / (1 - b1^t)) / (sqrt(v_t) / sqrt(1 - b2^t) + eps)

    (``eps`` is added after the bias correction of ``sqrt(v)``, as in ``torch.optim.Adam``.)

    References:
        D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.

    Example:
        >>> import numpy as np
        >>> t = scale_by_adam()
        >>> u, s = t.update(np.array([4.0, -0.5]), t.init(np.zeros(2)), None)
        >>> np.round(u, 6)
        array([ 1., -1.])
    """
    b1 = _number(beta1, "beta1", 0.0, 1.0, open_high=True)
    b2 = _number(beta2, "beta2", 0.0, 1.0, open_high=True)
    eps = _number(eps, "eps")

    def init(x):
        n = np.shape(x)[0]
        return ScaleByAdamState(0, np.zeros(n), np.zeros(n))

    def update(g, state, x):
        t = state.count + 1
        bc1 = 1.0 - b1**t
        sqrt_bc2 = math.sqrt(1.0 - b2**t)
        u = _adam_kernel(g, state.mu, state.nu, b1, b2, bc1, sqrt_bc2, eps)
        return u, ScaleByAdamState(t, state.mu, state.nu)

    def scalars(state, k):  # (1 - b1^t, sqrt(1 - b2^t)) as update() computes them
        return [(1.0 - b1**t, math.sqrt(1.0 - b2**t)) for t in range(state.count + 1, state.count + k + 1)]

    update.compiled = CompiledStep(_plan.ADAM, (b1, b2, eps), lambda state: (state.mu, state.nu), scalars,
                                   lambda state, k: ScaleByAdamState(state.count + k, state.mu, state.nu))

    return GradientTransformation(init, update, f"scale_by_adam(beta1={b1}, beta2={b2}, eps={eps})")


class ScaleByRmsState(NamedTuple):
    """``nu``: running average of the squared gradient."""

    nu: np.ndarray


def scale_by_rms(alpha: float = 0.99, eps: float = 1e-8) -> GradientTransformation:
    """Divide by the root of a running mean square (RMSProp, as ``torch.optim.RMSprop``).

    ``alpha = a``, ``v_0 = 0``::

        v_t = a v_{t-1} + (1 - a) g^2
        u   = g / (sqrt(v_t) + eps)

    Example:
        >>> import numpy as np
        >>> t = scale_by_rms(alpha=0.75, eps=0.0)
        >>> t.update(np.array([2.0]), t.init(np.zeros(1)), None)[0]
        array([2.])
    """
    alpha = _number(alpha, "alpha", 0.0, 1.0)
    eps = _number(eps, "eps")

    def init(x):
        return ScaleByRmsState(np.zeros(np.shape(x)[0]))

    def update(g, state, x):
        return _rms_kernel(g, state.nu, alpha, eps), state

    update.compiled = CompiledStep(_plan.RMS, (alpha, eps), lambda state: (state.nu,))

    return GradientTransformation(init, update, f"scale_by_rms(alpha={alpha}, eps={eps})")


class ScaleByRssState(NamedTuple):
    """``sum_of_squares``: the accumulated squared gradients."""

    sum_of_squares: np.ndarray


def scale_by_rss(eps: float = 1e-10, initial_accumulator_value: float = 0.0) -> GradientTransformation:
    """Divide by the root of the sum of squared gradients (Adagrad, as ``torch.optim.Adagrad``).

    ``s_0 = initial_accumulator_value``::

        s_t = s_{t-1} + g^2
        u   = g / (sqrt(s_t) + eps)

    References:
        J. Duchi, E. Hazan, Y. Singer, "Adaptive Subgradient Methods", JMLR 2011.

    Example:
        >>> import numpy as np
        >>> t = scale_by_rss(eps=0.0)
        >>> t.update(np.array([3.0, -2.0]), t.init(np.zeros(2)), None)[0]
        array([ 1., -1.])
    """
    eps = _number(eps, "eps")
    initial = _number(initial_accumulator_value, "initial_accumulator_value")

    def init(x):
        return ScaleByRssState(np.full(np.shape(x)[0], initial))

    def update(g, state, x):
        return _rss_kernel(g, state.sum_of_squares, eps), state

    update.compiled = CompiledStep(_plan.RSS, (eps,), lambda state: (state.sum_of_squares,))

    return GradientTransformation(
        init, update, f"scale_by_rss(eps={eps}, initial_accumulator_value={initial})"
    )


class TraceState(NamedTuple):
    """``count``: updates so far; ``buf``: the momentum buffer ``b``."""

    count: int
    buf: np.ndarray


def trace(decay: float, nesterov: bool = False, dampening: float = 0.0) -> GradientTransformation:
    """Heavy-ball momentum as ``torch.optim.SGD`` writes it.

    ``decay = mu``, ``dampening = d``; at the first step ``b_1 = g``, then::

        b_t = mu b_{t-1} + (1 - d) g
        u   = g + mu b_t      (nesterov)
        u   = b_t             (otherwise)

    References:
        I. Sutskever et al., "On the importance of initialization and momentum
        in deep learning", ICML 2013.

    Example:
        >>> import numpy as np
        >>> t = trace(0.5)
        >>> s = t.init(np.zeros(1))
        >>> u, s = t.update(np.array([2.0]), s, None)
        >>> t.update(np.array([2.0]), s, None)[0]
        array([3.])
    """
    decay = _number(decay, "momentum", 0.0, 1.0)
    dampening = _number(dampening, "dampening", 0.0, 1.0)
    nesterov = bool(nesterov)
    if nesterov and (decay <= 0 or dampening != 0):
        raise OptionError("Nesterov momentum requires a momentum > 0 and zero dampening (as in torch.optim.SGD)")

    def init(x):
        return TraceState(0, np.zeros(np.shape(x)[0]))

    def update(g, state, x):
        u = _trace_kernel(g, state.buf, state.count == 0, decay, dampening, nesterov)
        return u, TraceState(state.count + 1, state.buf)

    def scalars(state, k):  # 1.0 at the first update, where the buffer starts as g
        return [(1.0 if t == 0 else 0.0,) for t in range(state.count, state.count + k)]

    update.compiled = CompiledStep(_plan.TRACE, (decay, dampening, float(nesterov)), lambda state: (state.buf,),
                                   scalars, lambda state, k: TraceState(state.count + k, state.buf))

    return GradientTransformation(
        init, update, f"trace(decay={decay}, nesterov={nesterov}, dampening={dampening})"
    )


def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    """Add an L2 pull towards zero: ``u = g + weight_decay * x``.

    Before a learning-rate block this is torch's ``weight_decay`` (coupled L2);
    after an adaptive block (Adam) it is AdamW's decoupled decay.

    Example:
        >>> import numpy as np
        >>> t = add_decayed_weights(0.5)
        >>> t.update(np.array([1.0]), t.init(None), np.array([4.0]))[0]
        array([3.])
    """
    wd = _number(weight_decay, "weight_decay")

    def init(x):
        return EmptyState()

    def update(g, state, x):
        return (g + wd * x if wd else g), state

    update.compiled = CompiledStep(_plan.DECAY, (wd,))

    return GradientTransformation(init, update, f"add_decayed_weights({wd})")


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Rescale the whole vector when its Euclidean norm exceeds ``max_norm``.

    ``u = g * min(1, max_norm / ||g||_2)``.

    Example:
        >>> import numpy as np
        >>> t = clip_by_global_norm(1.0)
        >>> t.update(np.array([3.0, 4.0]), t.init(None), None)[0]
        array([0.6, 0.8])
    """
    max_norm = _number(max_norm, "max_norm")
    if max_norm == 0:
        raise OptionError("max_norm must be positive, got 0.0")

    def init(x):
        return EmptyState()

    def update(g, state, x):  # the squares summed in index order, as the compiled epoch does
        norm = math.sqrt(_plan.sum_of_squares(np.asarray(g, dtype=np.float64)))
        return (g * (max_norm / norm) if norm > max_norm else g), state

    update.compiled = CompiledStep(_plan.CLIP, (max_norm,))

    return GradientTransformation(init, update, f"clip_by_global_norm({max_norm})")
