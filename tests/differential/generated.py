"""Hypothesis strategies: random expressions over every supported function, and good points.

An expression is drawn over 1-4 parameters ``p0..p3`` and 0-3 data symbols
``x0..x2`` from the grammar of api.md: ``+ - * /``, integer powers -4..4, rational
and symbolic powers, ``exp log sqrt``, the six trigonometric and six hyperbolic
functions and their inverses, ``Abs sign Max Min Heaviside Piecewise``, ``pi``, ``E``,
and (``_special``, one draw in 24) ``cot sec csc coth sech csch`` and their inverses,
``erf erfc gamma loggamma polygamma atan2 floor ceiling`` and ``log(x, b)``,
nested up to ``MAX_DEPTH`` levels. Functions with a restricted domain usually get an
argument mapped into it (``log(1 + u**2)``, ``asin(tanh(u))``), sometimes the raw
argument, which the point search then has to satisfy. A ``Piecewise`` in a condition
or in a symbolic exponent (where SymPy writes an ``ITE``) is drawn like any other
shape (``test_found_defects.py`` has the defects both once showed).

A point is kept only where the oracle (``oracle.derivatives``) says the value, the
gradient and the Hessian are finite and moderate, every kink argument (of ``Abs``,
``sign``, ``Heaviside``, the gaps of ``Max``/``Min``, ``Piecewise`` conditions) is at
least ``KINK_MARGIN`` from 0, and every output is well conditioned: its running error
bound ``M`` is at most ``COND_MAX`` times its size (or both are 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from oracle import Derivatives, OracleDomainError

PARAMS = sp.symbols("p0:4")
DATA = sp.symbols("x0:3")
MAX_DEPTH = 4
KINK_MARGIN = 1e-3
COND_MAX = 1e4
BIG = 1e8
POINT_TRIES = 4
#: Coordinates closer to 0 than this (Hypothesis likes 6.6e-226) are drawn as 0: the
#: oracle's bounds follow SymPy's simplified trees, which cannot see an absorption
#: that the caller's tree meets: d/dq exp(p)**q needs log(exp(p)), which is
#: log(1.0) = 0 in float64 at p = 6.6e-226 but exactly p in SymPy's tree.
TINY = 1e-6

_UNARY_SMOOTH = [sp.exp, sp.sin, sp.cos, sp.tan, sp.atan, sp.sinh, sp.cosh, sp.tanh, sp.asinh]
_SQUASHED = [sp.asin, sp.acos, sp.atanh]
_CONSTANTS = [sp.pi, sp.E, sp.Rational(1, 3), sp.Rational(-5, 2), sp.Float(0.75), sp.Float(-1.25)]


def _positive(u, k):
    """``u`` mapped into (0, inf), five ways."""
    return [1 + u**2, sp.exp(u), sp.Abs(u) + sp.Rational(1, 2), sp.cosh(u), sp.sqrt(u**2 + 1)][k]


def _imaginary_root(a) -> bool:
    """Whether SymPy writes ``sqrt(-a)`` with ``I`` once the symbols are real."""
    real = {s: sp.Symbol(s.name, real=True) for s in a.free_symbols}
    return sp.sqrt(-a.xreplace(real)).has(sp.I)


def _squash(u, k):
    """``u`` mapped into (-1, 1)."""
    return [sp.tanh(u) * sp.Rational(9, 10), u / (1 + sp.Abs(u)), sp.sin(u) * sp.Rational(4, 5)][k]


def expression(pick, symbols, depth=MAX_DEPTH):
    """A random expression of ``symbols`` (a non-empty tuple), at most ``depth`` deep.

    ``pick`` is a :class:`Picker` (Hypothesis draws in the tests, a seeded generator
    in the benchmark).
    """
    e = _expression(pick, symbols, depth)
    # SymPy folds some draws to a number (acosh(0) = I*pi/2) or to functions outside
    # the supported set (Abs(exp(x)) = exp(re(x))): keep a symbol instead
    if not e.free_symbols or e.has(sp.re, sp.im, sp.I, sp.zoo, sp.nan, sp.oo, sp.ITE):
        return pick.choice(symbols)
    return e


def _expression(pick, symbols, depth):
    if depth <= 0 or pick.integer(0, 9) < 2:
        if pick.integer(0, 5) == 0:
            c = pick.choice(_CONSTANTS + [sp.Integer(2), sp.Integer(-3)])
            s = pick.choice(symbols)
            return c * s if pick.boolean() else c + s
        return pick.choice(symbols)
    kind = pick.integer(0, 23)
    a = expression(pick, symbols, depth - 1)
    if kind == 23:
        return _special(pick, a, symbols, depth)
    if kind <= 3:
        b = expression(pick, symbols, depth - 1)
        return [a + b, a - b, a * b, -a + b][kind]
    if kind == 4:
        b = expression(pick, symbols, depth - 1)
        return a / (_positive(b, pick.integer(0, 4)) if pick.integer(0, 3) else b)
    if kind == 5:
        n = pick.choice([-4, -3, -2, -1, 2, 3, 4])
        return a**n
    if kind == 6:
        q = pick.choice([sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(3, 2), sp.Rational(-1, 2), sp.Rational(-2, 3), sp.Rational(5, 4)])
        base = _positive(a, pick.integer(0, 4)) if pick.integer(0, 3) else a
        return base**q
    if kind == 7:
        b = expression(pick, symbols, depth - 1)
        base = _positive(a, pick.integer(0, 4)) if pick.integer(0, 3) else a
        return base ** (b if pick.boolean() else sp.tanh(b) + 2)
    if kind == 8:
        return sp.exp(sp.tanh(a) * 2) if pick.boolean() else sp.exp(a)
    if kind == 9:
        return sp.log(_positive(a, pick.integer(0, 4)) if pick.integer(0, 3) else a)
    if kind == 10:
        return sp.sqrt(_positive(a, pick.integer(0, 4)) if pick.integer(0, 3) else a)
    if kind in (11, 12):
        return pick.choice(_UNARY_SMOOTH)(a)
    if kind == 13:
        f = pick.choice(_SQUASHED)
        return f(_squash(a, pick.integer(0, 2)) if pick.integer(0, 3) else a)
    if kind == 14:
        return sp.acosh(1 + _positive(a, pick.integer(0, 4)) if pick.integer(0, 3) else a)
    if kind == 15:
        return sp.Abs(a)
    if kind == 16:
        return sp.sign(a) * expression(pick, symbols, depth - 1)
    if kind == 17:
        return sp.Heaviside(a) * expression(pick, symbols, depth - 1)
    if kind == 18:
        return sp.Max(a, expression(pick, symbols, depth - 1))
    if kind == 19:
        return sp.Min(a, expression(pick, symbols, depth - 1))
    if kind == 20:
        b, c = expression(pick, symbols, depth - 1), expression(pick, symbols, depth - 1)
        if pick.integer(0, 2) == 0 and not _imaginary_root(a):
            # a branch whose derivative is NaN where it is not taken (sqrt(-a) at a > 0),
            # times a symbol: the zero adjoint of the untaken branch must stay selected
            # through the product (test_found_defects.py, the zero weight of t log p);
            # not for an a that SymPy knows is >= 0 for real symbols (x**2): the
            # oracle's real twins would write sqrt(-a) with I
            c = pick.choice(symbols) * sp.sqrt(-a)
        return sp.Piecewise((b, a > 0), (c, True))
    if kind == 21:
        b = expression(pick, symbols, depth - 1)
        return sp.Piecewise((a, b < sp.Rational(1, 2)), (a * b, b < 2), (sp.sin(b), True))
    return a * pick.choice([sp.pi, sp.E])


def _special(pick, a, symbols, depth):
    """One of the reciprocal trigonometric and hyperbolic functions, their inverses, the
    error and gamma functions, ``atan2``, ``floor``/``ceiling``, with ``a`` mapped into
    the domain (three times in four) or raw."""
    k = pick.integer(0, 4)
    raw = pick.integer(0, 3) == 0
    pos = a if raw else _positive(a, k)  # (0, inf)
    unit = a if raw else _squash(a, pick.integer(0, 2))  # (-1, 1)
    f = pick.integer(0, 18)
    if f == 0:
        return sp.cot(a if raw else 1 + unit)  # (0, 2) inside (0, pi)
    if f == 1:
        return sp.sec(unit)
    if f == 2:
        return sp.csc(a if raw else 1 + unit)
    if f == 3:
        return sp.acot(pos)
    if f in (4, 5):
        return (sp.asec if f == 4 else sp.acsc)(a if raw else 1 + pos)
    if f == 6:
        return sp.coth(pos)
    if f == 7:
        return sp.sech(a)
    if f == 8:
        return sp.csch(pos)
    if f == 9:
        return sp.acoth(a if raw else 1 + pos)
    if f == 10:
        return sp.asech(a if raw else 1 / (1 + pos))
    if f == 11:
        return sp.acsch(pos)
    if f == 12:
        return (sp.erf if pick.boolean() else sp.erfc)(a)
    if f == 13:
        return sp.gamma(a if raw else sp.Rational(1, 2) + _squash(a, 0) + pos / (1 + pos))
    if f == 14:
        return sp.loggamma(pos)
    if f == 15:
        return sp.polygamma(pick.integer(0, 1), a if raw else sp.Rational(1, 2) + pos)
    if f == 16:
        b = expression(pick, symbols, depth - 1)
        return sp.atan2(a, b if raw else _positive(b, k))
    if f == 17:
        return (sp.floor if pick.boolean() else sp.ceiling)(a) * expression(pick, symbols, depth - 1)
    return sp.log(a if raw else _positive(a, k), pick.choice([2, 10, sp.E + 1]))


@dataclass(frozen=True)
class Case:
    """One generated expression with its symbols, a valid point and the oracle's answers.

    Attributes:
        expr: the expression, over ``params + data``.
        params, data: tuples of symbols.
        point: dict symbol -> float (params and data).
        exact: ``oracle.derivatives(expr, params, point)`` (value, grad, hess and bounds).
        oracle: the :class:`oracle.Derivatives` of ``expr`` (to evaluate more points).
    """

    expr: sp.Expr
    params: tuple
    data: tuple
    point: dict
    exact: dict
    oracle: Derivatives = field(default=None, compare=False, repr=False)

    def __repr__(self):
        pt = ", ".join(f"{s}={v!r}" for s, v in self.point.items())
        return f"Case({self.expr}, params={list(self.params)}, data={list(self.data)}, at {pt})"


def _moderate(v, m):
    return abs(v) <= BIG and m <= COND_MAX * abs(v)


def acceptable(exact) -> bool:
    """Finite, moderate, away from kinks and well conditioned (see the module docstring)."""
    if exact["kinks"] < KINK_MARGIN:
        return False
    pairs = [(exact["value"], exact["value_M"])] + list(zip(exact["grad"], exact["grad_M"]))
    if exact["hess"] is not None:
        for row, mrow in zip(exact["hess"], exact["hess_M"]):
            pairs += list(zip(row, mrow))
    return all(_moderate(v, m) for v, m in pairs)


class Picker:
    """Choices for the generator, drawn by Hypothesis (so that failures shrink)."""

    _STRATEGIES: dict = {}  # built once: a strategy per draw would cost more than the draw

    def __init__(self, draw):
        self.draw = draw

    def _strategy(self, key, make):
        got = self._STRATEGIES.get(key)
        if got is None:
            got = self._STRATEGIES[key] = make()
        return got

    def integer(self, lo, hi):
        return self.draw(self._strategy(("int", lo, hi), lambda: st.integers(lo, hi)))

    def choice(self, seq):
        return seq[self.integer(0, len(seq) - 1)]

    def boolean(self):
        return self.draw(self._strategy("bool", st.booleans))

    def coordinate(self):
        """A float in [-2, 2]; magnitudes below ``TINY`` become 0 (see ``TINY``)."""
        v = self.draw(self._strategy("float", lambda: st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)))
        return 0.0 if abs(v) < TINY else v


class RandomPicker:
    """The same choices from a seeded ``numpy.random.Generator`` (fast, for the benchmark)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def integer(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))

    def choice(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def boolean(self):
        return bool(self.rng.integers(2))

    def coordinate(self):
        if self.rng.integers(8) == 0:
            return float(self.rng.integers(-2, 3))  # small integers, 0 included
        return float(self.rng.uniform(-2.0, 2.0))


def good_point(pick, expr, params, symbols, order=2, fixed=None, oracle=None):
    """Draw up to ``POINT_TRIES`` points; return ``(point, exact)`` for the first acceptable one, or None.

    ``fixed``: a dict of coordinates kept as given (only the others are drawn).
    ``oracle``: the expression's :class:`oracle.Derivatives`, if already taken.
    """
    fixed = fixed or {}
    oracle = oracle or Derivatives(expr, params, order)
    for _ in range(POINT_TRIES):
        point = {s: fixed[s] if s in fixed else pick.coordinate() for s in symbols}
        try:
            exact = oracle.at(point)
        except (OracleDomainError, ZeroDivisionError, OverflowError):
            continue
        if acceptable(exact):
            return point, exact
    return None


def case(pick, order=2, max_params=4, max_data=3, depth=MAX_DEPTH, min_params=1, avoid=()):
    """A :class:`Case`: an expression of 1-4 parameters and 0-3 data symbols at a good point.

    ``avoid``: expressions not to return (drawn again before any derivative is taken).
    """
    for _ in range(20):
        n = pick.integer(min_params, max_params)
        d = pick.integer(0, max_data)
        params, data = PARAMS[:n], DATA[:d]
        expr = expression(pick, params + data, depth)
        used = expr.free_symbols
        params = tuple(p for p in params if p in used)
        data = tuple(x for x in data if x in used)
        if not params or expr in avoid:
            continue
        oracle = Derivatives(expr, params, order)
        got = good_point(pick, expr, params, params + data, order, oracle=oracle)
        if got is not None:
            return Case(expr, params, data, got[0], got[1], oracle)
    # a rare fall-back keeps generation total: a smooth expression valid everywhere
    p = PARAMS[0]
    expr = sp.sin(p) * sp.exp(-(p**2))
    point = {p: 0.5}
    oracle = Derivatives(expr, (p,), order)
    return Case(expr, (p,), (), point, oracle.at(point), oracle)


@st.composite
def cases(draw, **kwargs):
    """Hypothesis strategy of :func:`case` (keyword arguments as there)."""
    return case(Picker(draw), **kwargs)


def renamed(case: Case, tag: str) -> Case:
    """The same case with every symbol renamed ``<name>_<tag>`` (to put several in one kernel)."""
    mapping = {s: sp.Symbol(f"{s.name}_{tag}") for s in case.params + case.data}
    return Case(
        case.expr.xreplace(mapping),
        tuple(mapping[s] for s in case.params),
        tuple(mapping[s] for s in case.data),
        {mapping[s]: v for s, v in case.point.items()},
        case.exact,
    )  # the oracle stays with the original symbols


def original(expr):
    """The expression of a :func:`renamed` case with its symbols' names restored."""
    return expr.xreplace({s: sp.Symbol(s.name.rsplit("_", 1)[0]) for s in expr.free_symbols})
