"""The primitives of the tape: one forward function and one vector-Jacobian rule each.

``FORWARD[name](*args, **params)`` computes a primitive on NumPy arrays;
``VJP_RULES[name]`` is a tuple with one function per argument,
``vjp(g, ans, *args, **params)``, returning ``g`` pulled back through that argument
(``g`` has the shape of the output ``ans``; broadcasting is undone by the caller).

Conventions at kinks, the same as the symbolic side: ``relu'(0) = 0``,
``|z|'(0) = sign(0) = 0``, ``sign' = Heaviside' = 0`` everywhere, and
``max(a, b)`` sends ``g`` to ``a`` where ``a > b``, to ``b`` where ``b > a``, and half
to each where they tie (the mean of the two slopes); ``maximum_step`` is the same
against a number, which takes all of ``g`` at a tie (so ``relu'(0) = 0``); ``min``
likewise. ``max_n``/``min_n`` (SymPy's ``Max``/``Min`` of any number of arguments)
share ``g`` equally among the ``k`` tied arguments, and give none when a number
(the argument ``number``) is among them. ``where(cond, a, b)`` (Piecewise) differentiates the selected branch
only; its condition is not differentiated.
"""

from __future__ import annotations

import itertools
from functools import reduce

import numpy as np

from symgrad._functions import ELEMENTARY
from symgrad.autograd import _layers_rules

__all__ = ["FORWARD", "VJP_RULES"]


def _heaviside(z, h0=0.0):
    return np.where(z > 0, 1.0, np.where(z < 0, 0.0, h0))


def _zero(g, ans, *args, **params):
    return np.zeros_like(g)


def _matmul_a(g, ans, a, b):
    if b.ndim == 1:
        return np.multiply.outer(g, b) if a.ndim == 2 else g * b
    return g @ b.T


def _matmul_b(g, ans, a, b):
    if a.ndim == 1:
        return np.multiply.outer(a, g) if b.ndim == 2 else g * a
    return (g.T @ a).T  # the same as a.T @ g; BLAS runs this layout faster for tall a


def _share(a, b):
    """The share of ``a``'s slope in ``max(a, b)``: 1, 0, or 1/2 at a tie."""
    return (a > b) + 0.5 * (a == b)


def _extremum_shares(a, ans, number=-1):
    """The share of each argument in ``max``/``min`` of ``a``: 1 for the one argument equal
    to the result, ``1/k`` each for ``k`` tied ones, 0 for all when the argument ``number``
    (a constant; -1: none) is among them."""
    tied = [x == ans for x in a]
    count = sum(t for j, t in enumerate(tied) if j != number)
    each = 1.0 / np.maximum(count, 1)
    if number >= 0:
        each = np.where(tied[number], 0.0, each)
    return [np.where(t, each, 0.0) for t in tied]


class _EveryArgument:
    """The vector-Jacobian rules of an n-ary primitive whose pulls are computed together.

    ``together(g, ans, *a, **params)`` returns one pull per argument. Both engines take
    one node's rules by iterating over them beside its arguments, so each iteration
    computes the pulls once, at the first rule it calls, and the other rules read them
    (the ties of a ``max`` of ``k`` arguments are counted once, not ``k`` times).
    """

    def __init__(self, together):
        self.together = together

    def __iter__(self):
        pulled: list = []

        def rule(i):
            def vjp(g, ans, *a, **params):
                if not pulled:
                    pulled.extend(self.together(g, ans, *a, **params))
                return pulled[i]

            return vjp

        return map(rule, itertools.count())


def _pow_base(g, ans, a, b):
    # d(a**b)/da = b * a**(b - 1), and 0 where b == 0: a**0 = 1 is flat in a, also at
    # a = 0, where b * a**(b - 1) would be 0 * inf (as PyTorch does)
    flat = b == 0
    return g * np.where(flat, 0.0, b * a ** np.where(flat, 1.0, b - 1.0))


def _pow_exponent(g, ans, a, b):
    # d(a**b)/db = a**b * log(a); where a == 0 and b >= 0 the value a**b is flat in b (0, or
    # 1 at b = 0); for b < 0 it is inf * log(0) = -inf (as PyTorch does)
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * np.where((a == 0) & (b >= 0), 0.0, ans * np.log(a))


def _sigmoid(a):
    """``σ(a) = 1/(1 + exp(-a))``, as ``1/(1 + e)`` for ``a >= 0`` and ``e/(1 + e)`` for
    ``a < 0``, with ``e = exp(-|a|)`` in (0, 1]: no overflow, and no cancellation (the form
    ``(tanh(a/2) + 1)/2`` cancels for negative ``a``: 4 digits lost at -30, all below -37)."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0, e) / (1.0 + e)


def _sigmoid_vjp(g, ans, a):
    # σ'(a) = σ(a)·σ(-a) = e/(1 + e)^2 with e = exp(-|a|), even in a: accurate on both
    # tails, where σ·(1 - σ) rounds 1 - σ to 0 for a > 37; it underflows to 0 past a ≈ 745
    e = np.exp(-np.abs(a))
    return g * (e / ((1.0 + e) * (1.0 + e)))


def _sum_vjp(g, ans, a, axis=None):
    if axis is not None:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, a.shape)


def _mean_vjp(g, ans, a, axis=None):
    count = a.size if axis is None else np.prod([a.shape[i] for i in np.atleast_1d(axis)])
    return _sum_vjp(g, ans, a, axis) / count


def _transpose_vjp(g, ans, a, axes=None):
    return np.transpose(g, None if axes is None else np.argsort(axes))


FORWARD = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "pow": np.power,
    "matmul": np.matmul,
    "neg": np.negative,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sign": np.sign,
    "heaviside": _heaviside,
    "relu": lambda a: np.maximum(a, 0.0),
    "sigmoid": _sigmoid,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "maximum_step": np.maximum,
    "minimum_step": np.minimum,
    "max_n": lambda *a, number=-1: reduce(np.maximum, a),
    "min_n": lambda *a, number=-1: reduce(np.minimum, a),
    "where": lambda a, b, cond: np.where(cond, a, b),
    "sum": lambda a, axis=None: np.sum(a, axis=axis),
    "mean": lambda a, axis=None: np.mean(a, axis=axis),
    "reshape": lambda a, shape: np.reshape(a, shape),
    "transpose": lambda a, axes=None: np.transpose(a, axes),
}

VJP_RULES = {
    "add": (lambda g, ans, a, b: g, lambda g, ans, a, b: g),
    "sub": (lambda g, ans, a, b: g, lambda g, ans, a, b: -g),
    "mul": (lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a),
    "div": (lambda g, ans, a, b: g / b, lambda g, ans, a, b: -g * ans / b),
    "pow": (_pow_base, _pow_exponent),
    "matmul": (_matmul_a, _matmul_b),
    "neg": (lambda g, ans, a: -g,),
    "sqrt": (lambda g, ans, a: g * 0.5 / ans,),
    "abs": (lambda g, ans, a: g * np.sign(a),),
    "sign": (_zero,),
    "heaviside": (_zero,),
    "relu": (lambda g, ans, a: g * (a > 0),),
    "sigmoid": (_sigmoid_vjp,),
    # at a tie each side gets half (the mean of the two slopes), except against a
    # number (the _step forms, relu's rule): the number takes it all
    "maximum": (lambda g, ans, a, b: g * _share(a, b), lambda g, ans, a, b: g * _share(b, a)),
    "minimum": (lambda g, ans, a, b: g * _share(b, a), lambda g, ans, a, b: g * _share(a, b)),
    "max_n": _EveryArgument(lambda g, ans, *a, number=-1: [g * s for s in _extremum_shares(a, ans, number)]),
    "min_n": _EveryArgument(lambda g, ans, *a, number=-1: [g * s for s in _extremum_shares(a, ans, number)]),
    "maximum_step": (lambda g, ans, a, b: g * (a > b), lambda g, ans, a, b: g * (b > a)),
    "minimum_step": (lambda g, ans, a, b: g * (a < b), lambda g, ans, a, b: g * (b < a)),
    "where": (
        lambda g, ans, a, b, cond: np.where(cond, g, 0.0),
        lambda g, ans, a, b, cond: np.where(cond, 0.0, g),
    ),
    "sum": (_sum_vjp,),
    "mean": (_mean_vjp,),
    "reshape": (lambda g, ans, a, shape: np.reshape(g, a.shape),),
    "transpose": (_transpose_vjp,),
}

FORWARD.update(_layers_rules.FORWARD)
VJP_RULES.update(_layers_rules.VJP_RULES)
# the functions of the table (exp, log, sin, ..., erf, atan2), one primitive each, named
# as their SymPy class
FORWARD.update({row.name: row.forward for row in ELEMENTARY})
VJP_RULES.update({row.name: row.vjp for row in ELEMENTARY})

#: Primitives whose vector-Jacobian product is zero (steps: sign, Heaviside, floor, ...).
#: A reverse pass passes nothing back through them: their arguments may have a
#: non-finite slope where the step is flat (sign(p**p) at p = -1, where the slope of
#: p**p holds log(-1)), and 0 times it would be NaN.
FLAT = frozenset({"sign", "heaviside"} | {row.name for row in ELEMENTARY if row.flat})
