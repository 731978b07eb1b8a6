"""The supported functions: one row each, from which every stage reads what it needs.

A row says, for one SymPy class, how the printer writes it for Numba, how it is
differentiated (SymPy's own ``fdiff`` unless the row gives the partials), how the
autograd engine computes it and pulls a gradient back through it (NumPy, written
independently of the symbolic derivative), which names the parser accepts, how
``explain`` calls its rule, where it is undefined (``check_gradient``'s domain check)
and where it is not differentiable (its kinks). The stages build their own tables
from these rows: ``SUPPORTED_FUNCTIONS`` and the parser's whitelist, the printer's
``MATH_FUNCTIONS``, the derivative rules, the tape's primitives and vector-Jacobian
rules, ``OUTER_RULES`` of ``explain``, the NumPy evaluator and the domain rules of the
check. ``tests/test_function_table.py`` fails when a stage lacks a row.

Rows of kind ``"construct"`` (``Abs sign Max Min Heaviside Piecewise``) have a
hand-written method in every stage (``_print_Max``...): the row only names them.

Conventions at the points where a function is not differentiable, the same in every
stage: ``floor`` and ``ceiling`` have derivative 0 everywhere, also at the integers
where they jump (as ``sign'(0) = 0``); ``acot`` (SymPy's, with values in
``(-π/2, π/2]``) jumps at 0 and ``atan2(y, x)`` on the negative ``x`` axis; there the
derivative is the one of the side the function takes. ``check_gradient`` reports each
such point as a kink. ``loggamma`` is real: ``log Γ(u)`` for ``u > 0`` only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp

from symgrad import _special

__all__ = ["FunctionRow", "FUNCTION_TABLE", "ELEMENTARY", "CONSTRUCTS", "row_of", "supported_text"]

_SQRT_PI = math.sqrt(math.pi)


@dataclass(frozen=True)
class FunctionRow:
    """One supported SymPy function and what every stage does with it.

    Attributes:
        sympy: the SymPy class; its name is the parser's name for it.
        kind: ``"elementary"`` (every stage reads this row) or ``"construct"``.
        printed: the Numba text, a format string of the printed arguments ``{0}``,
            ``{1}`` (and ``{p0}``: the argument parenthesised for a quotient).
        derivative: ``(*args) -> partials`` in SymPy, or ``None`` for SymPy's ``fdiff``.
        forward: the value on float64 arrays (autograd; the check's evaluator).
        vjp: one ``(g, ans, *args) -> g pulled back`` per argument.
        complex: the value on complex arrays (the complex step), ``None`` where the
            check must use central differences instead.
        arity: ``(fewest, most)`` positional arguments the parser accepts.
        aliases: other parser names, each with the function it builds.
        explain: ``(rule name, formula in u)`` for ``explain``'s outer derivative.
        growth: how fast values grow, for the parser's size limits: ``"exponential"``,
            ``"logarithmic"``, ``"bounded"``, ``"trigonometric"``, ``"factorial"`` or ``""``.
        domain: ``(*argument values) -> (errors, singular)``, lists of ``(mask, reason)``
            where the function is undefined, or finite with an infinite derivative.
        kink: ``(*args) -> z``, an expression whose zeros are the jumps or kinks.
        flat: the derivative is 0 everywhere (a step): the tape skips it.
        argument: the index of the argument that domain messages show.
    """

    sympy: type
    kind: str = "elementary"
    printed: str | None = None
    derivative: Callable | None = None
    forward: Callable | None = None
    vjp: tuple = ()
    complex: Callable | None = None
    arity: tuple = (1, 1)
    aliases: dict = field(default_factory=dict)
    explain: tuple | None = None
    growth: str = ""
    domain: Callable | None = None
    kink: Callable | None = None
    flat: bool = False
    argument: int = 0

    @property
    def name(self) -> str:
        return self.sympy.__name__


# -- domains: (errors, singular) lists of (mask, reason) --------------------------------
def _log_domain(u):
    return [(u < 0, "log needs an argument > 0"),
            (u == 0, "log needs an argument > 0 (log 0 = -infinity)")], []


def _bounded(name):
    def rule(u):
        return [(np.abs(u) > 1, f"{name} needs an argument in [-1, 1]")], \
               [(np.abs(u) == 1, "its derivative ±1/sqrt(1 - u²) is infinite at u = ±1")]
    return rule


def _acosh_domain(u):
    return [(u < 1, "acosh needs an argument >= 1")], \
           [(u == 1, "its derivative 1/sqrt(u² - 1) is infinite at u = 1")]


def _tanh_slope(g, ans, a):
    """``g * sech(a)**2`` as ``4 e / (1 + e)**2``, ``e = exp(-2|a|)``: ``1 - tanh(a)**2`` cancels
    (1e-8 relative at ``a = 10``, 0 from 19 on, where the slope is 1.7e-17), this keeps the digits."""
    e = np.exp(-2.0 * np.abs(a))
    return g * (4.0 * e / ((1.0 + e) * (1.0 + e)))


def _atanh_domain(u):
    return [(np.abs(u) > 1, "atanh needs an argument in (-1, 1)"),
            (np.abs(u) == 1, "atanh needs an argument in (-1, 1) (atanh ±1 = ±infinity)")], []


def _nonzero(name):
    def rule(u):
        return [(u == 0, f"{name} is infinite at 0")], []
    return rule


def _outside_unit(name):
    def rule(u):
        return [(np.abs(u) < 1, f"{name} needs |u| >= 1")], \
               [(np.abs(u) == 1, "its derivative is infinite at u = ±1")]
    return rule


def _acoth_domain(u):
    return [(np.abs(u) < 1, "acoth needs |u| > 1"),
            (np.abs(u) == 1, "acoth needs |u| > 1 (acoth ±1 = ±infinity)")], []


def _asech_domain(u):
    return [((u <= 0) | (u > 1), "asech needs an argument in (0, 1]")], \
           [(u == 1, "its derivative -1/(u·sqrt(1 - u²)) is infinite at u = 1")]


def _pole(name):
    def rule(u):
        return [((u <= 0) & (np.floor(u) == u), f"{name} has poles at 0, -1, -2, ...")], []
    return rule


def _loggamma_domain(u):
    return [(u <= 0, "loggamma needs an argument > 0 (it is the real log Γ(u), for u > 0)")], []


def _polygamma_domain(n, u):
    order = (n < 0) | (np.floor(n) != n)
    return [(order, "polygamma(n, u) needs an order n = 0, 1, 2, ..."),
            ((u <= 0) & (np.floor(u) == u), "polygamma has poles at 0, -1, -2, ...")], []


def _atan2_domain(y, x):
    return [((y == 0) & (x == 0), "atan2(y, x) is undefined at y = x = 0")], []


# -- NumPy forms --------------------------------------------------------------------------
def _of_reciprocal(f):
    """``u -> f(1/u)``, with ``1/0 = inf`` as the compiled kernels compute it."""
    def forward(u):
        with np.errstate(divide="ignore"):
            return f(1.0 / u)
    return forward


def _integers(u):
    """``sin(πu)``: zero at the integers, where floor and ceiling jump, and changing sign
    there only (the kink finder looks for a zero or a change of sign)."""
    return sp.sin(sp.pi * u)


def _vectorized(f):
    return np.vectorize(f, otypes=[np.float64])


_polygamma = _vectorized(_special.polygamma)
_erf, _erfc = _vectorized(math.erf), _vectorized(math.erfc)


def _zero(g, ans, *args):
    return np.zeros_like(g)


def _row(cls, printed, forward, vjp, rule, formula, growth, **more):
    complex_form = more.pop("complex", forward)
    return FunctionRow(cls, printed=printed, forward=forward, vjp=vjp, complex=complex_form,
                       explain=None if rule is None else (rule, formula), growth=growth, **more)


def _construct(cls, explain=None, growth="", arity=(1, 1), aliases=None, kink=None, derivative=None):
    return FunctionRow(cls, kind="construct", arity=arity, aliases=aliases or {}, explain=explain,
                       growth=growth, kink=kink, derivative=derivative)


_ROWS = (
    _row(sp.exp, "math.exp({0})", np.exp, (lambda g, ans, a: g * ans,),
         "exp rule", "d exp(u)/du = exp(u)", "exponential"),
    _row(sp.log, "math.log({0})", np.log, (lambda g, ans, a: g / a,),
         "log rule", "d log(u)/du = 1/u", "logarithmic", arity=(1, 2), aliases={"ln": sp.log},
         domain=_log_domain),
    _row(sp.sin, "math.sin({0})", np.sin, (lambda g, ans, a: g * np.cos(a),),
         "trig rule", "d sin(u)/du = cos(u)", "trigonometric"),
    _row(sp.cos, "math.cos({0})", np.cos, (lambda g, ans, a: -g * np.sin(a),),
         "trig rule", "d cos(u)/du = -sin(u)", "trigonometric"),
    _row(sp.tan, "math.tan({0})", np.tan, (lambda g, ans, a: g * (1.0 + ans * ans),),
         "trig rule", "d tan(u)/du = 1 + tan(u)^2", "trigonometric"),
    _row(sp.asin, "math.asin({0})", np.arcsin, (lambda g, ans, a: g / np.sqrt(1.0 - a * a),),
         "inverse trig rule", "d asin(u)/du = 1/sqrt(1 - u^2)", "bounded", domain=_bounded("asin")),
    _row(sp.acos, "math.acos({0})", np.arccos, (lambda g, ans, a: -g / np.sqrt(1.0 - a * a),),
         "inverse trig rule", "d acos(u)/du = -1/sqrt(1 - u^2)", "bounded", domain=_bounded("acos")),
    _row(sp.atan, "math.atan({0})", np.arctan, (lambda g, ans, a: g / (1.0 + a * a),),
         "inverse trig rule", "d atan(u)/du = 1/(1 + u^2)", "bounded"),
    _row(sp.sinh, "math.sinh({0})", np.sinh, (lambda g, ans, a: g * np.cosh(a),),
         "hyperbolic rule", "d sinh(u)/du = cosh(u)", "exponential"),
    _row(sp.cosh, "math.cosh({0})", np.cosh, (lambda g, ans, a: g * np.sinh(a),),
         "hyperbolic rule", "d cosh(u)/du = sinh(u)", "exponential"),
    _row(sp.tanh, "math.tanh({0})", np.tanh, (_tanh_slope,),
         "hyperbolic rule", "d tanh(u)/du = 1 - tanh(u)^2", "exponential"),
    _row(sp.asinh, "math.asinh({0})", np.arcsinh, (lambda g, ans, a: g / np.sqrt(a * a + 1.0),),
         "inverse hyperbolic rule", "d asinh(u)/du = 1/sqrt(u^2 + 1)", "logarithmic"),
    _row(sp.acosh, "math.acosh({0})", np.arccosh,
         (lambda g, ans, a: g / (np.sqrt(a - 1.0) * np.sqrt(a + 1.0)),),
         "inverse hyperbolic rule", "d acosh(u)/du = 1/(sqrt(u - 1)·sqrt(u + 1))", "logarithmic",
         domain=_acosh_domain),
    _row(sp.atanh, "math.atanh({0})", np.arctanh, (lambda g, ans, a: g / (1.0 - a * a),),
         "inverse hyperbolic rule", "d atanh(u)/du = 1/(1 - u^2)", "logarithmic", domain=_atanh_domain),
    # reciprocal trigonometric and hyperbolic functions, and their inverses
    _row(sp.cot, "(1.0/math.tan({0}))", lambda a: 1.0 / np.tan(a), (lambda g, ans, a: -g * (1.0 + ans * ans),),
         "trig rule", "d cot(u)/du = -1 - cot(u)^2", "trigonometric", domain=_nonzero("cot")),
    _row(sp.sec, "(1.0/math.cos({0}))", lambda a: 1.0 / np.cos(a), (lambda g, ans, a: g * ans * np.tan(a),),
         "trig rule", "d sec(u)/du = sec(u)·tan(u)", "trigonometric"),
    _row(sp.csc, "(1.0/math.sin({0}))", lambda a: 1.0 / np.sin(a), (lambda g, ans, a: -g * ans / np.tan(a),),
         "trig rule", "d csc(u)/du = -csc(u)·cot(u)", "trigonometric", domain=_nonzero("csc")),
    _row(sp.acot, "math.atan(1.0/{p0})", _of_reciprocal(np.arctan), (lambda g, ans, a: -g / (1.0 + a * a),),
         "inverse trig rule", "d acot(u)/du = -1/(1 + u^2)", "bounded", kink=lambda u: u),
    _row(sp.asec, "math.acos(1.0/{p0})", _of_reciprocal(np.arccos),
         (lambda g, ans, a: g / (a * a * np.sqrt(1.0 - 1.0 / (a * a))),),
         "inverse trig rule", "d asec(u)/du = 1/(u^2·sqrt(1 - 1/u^2))", "bounded", domain=_outside_unit("asec")),
    _row(sp.acsc, "math.asin(1.0/{p0})", _of_reciprocal(np.arcsin),
         (lambda g, ans, a: -g / (a * a * np.sqrt(1.0 - 1.0 / (a * a))),),
         "inverse trig rule", "d acsc(u)/du = -1/(u^2·sqrt(1 - 1/u^2))", "bounded", domain=_outside_unit("acsc")),
    _row(sp.coth, "(1.0/math.tanh({0}))", lambda a: 1.0 / np.tanh(a),
         (lambda g, ans, a: -g / (np.sinh(a) * np.sinh(a)),),
         "hyperbolic rule", "d coth(u)/du = -1/sinh(u)^2", "exponential", domain=_nonzero("coth")),
    _row(sp.sech, "(1.0/math.cosh({0}))", lambda a: 1.0 / np.cosh(a), (lambda g, ans, a: -g * ans * np.tanh(a),),
         "hyperbolic rule", "d sech(u)/du = -sech(u)·tanh(u)", "exponential"),
    _row(sp.csch, "(1.0/math.sinh({0}))", lambda a: 1.0 / np.sinh(a), (lambda g, ans, a: -g * ans / np.tanh(a),),
         "hyperbolic rule", "d csch(u)/du = -csch(u)·coth(u)", "exponential", domain=_nonzero("csch")),
    _row(sp.acoth, "math.atanh(1.0/{p0})", _of_reciprocal(np.arctanh), (lambda g, ans, a: g / (1.0 - a * a),),
         "inverse hyperbolic rule", "d acoth(u)/du = 1/(1 - u^2)", "logarithmic", domain=_acoth_domain),
    _row(sp.asech, "math.acosh(1.0/{p0})", _of_reciprocal(np.arccosh),
         (lambda g, ans, a: -g / (a * np.sqrt(1.0 - a * a)),),
         "inverse hyperbolic rule", "d asech(u)/du = -1/(u·sqrt(1 - u^2))", "logarithmic", domain=_asech_domain),
    _row(sp.acsch, "math.asinh(1.0/{p0})", _of_reciprocal(np.arcsinh),
         (lambda g, ans, a: -g / (a * a * np.sqrt(1.0 + 1.0 / (a * a))),),
         "inverse hyperbolic rule", "d acsch(u)/du = -1/(u^2·sqrt(1 + 1/u^2))", "logarithmic",
         domain=_nonzero("acsch")),
    # special functions (no complex form here: the check uses central differences)
    _row(sp.erf, "math.erf({0})", _erf, (lambda g, ans, a: g * (2.0 / _SQRT_PI) * np.exp(-a * a),),
         "error function rule", "d erf(u)/du = 2·exp(-u^2)/sqrt(pi)", "bounded", complex=None),
    _row(sp.erfc, "math.erfc({0})", _erfc, (lambda g, ans, a: -g * (2.0 / _SQRT_PI) * np.exp(-a * a),),
         "error function rule", "d erfc(u)/du = -2·exp(-u^2)/sqrt(pi)", "bounded", complex=None),
    _row(sp.gamma, "math.gamma({0})", _vectorized(_special.gamma),
         (lambda g, ans, a: g * ans * _polygamma(0.0, a),),
         "gamma rule", "d gamma(u)/du = gamma(u)·polygamma(0, u)", "factorial", complex=None,
         domain=_pole("gamma")),
    _row(sp.loggamma, "sf.loggamma({0})", _vectorized(_special.loggamma),
         (lambda g, ans, a: g * _polygamma(0.0, a),),
         "gamma rule", "d loggamma(u)/du = polygamma(0, u)", "factorial", complex=None,
         domain=_loggamma_domain),
    _row(sp.polygamma, "sf.polygamma({0}, {1})", _polygamma,
         (_zero, lambda g, ans, n, a: g * _polygamma(n + 1.0, a)),
         None, None, "factorial", complex=None,
         arity=(2, 2), aliases={"digamma": sp.digamma, "trigamma": sp.trigamma},
         derivative=lambda n, u: (sp.S.Zero, sp.polygamma(n + 1, u)), domain=_polygamma_domain, argument=1),
    _row(sp.atan2, "math.atan2({0}, {1})", np.arctan2,
         (lambda g, ans, y, x: g * x / (x * x + y * y), lambda g, ans, y, x: -g * y / (x * x + y * y)),
         "atan2 rule", "∂atan2(v, w) = (w·∂v - v·∂w)/(v^2 + w^2)", "bounded", complex=None, arity=(2, 2),
         domain=_atan2_domain, kink=lambda y, x: sp.Piecewise((y, x < 0), (sp.S.One, True))),
    # steps
    _row(sp.floor, "np.floor({0})", np.floor, (_zero,), "step rule",
         "d floor(u)/du = 0 (taken as 0 everywhere, also at the integers where floor jumps)", "",
         complex=None, derivative=lambda u: (sp.S.Zero,), flat=True,
         kink=_integers),
    _row(sp.ceiling, "np.ceil({0})", np.ceil, (_zero,), "step rule",
         "d ceiling(u)/du = 0 (taken as 0 everywhere, also at the integers where ceiling jumps)", "",
         complex=None, derivative=lambda u: (sp.S.Zero,), flat=True,
         kink=_integers),
    # constructs: each stage has its own method for them
    _construct(sp.Abs, ("abs rule", "d|u|/du = sign(u), so |u|'(0) = 0"), aliases={"abs": sp.Abs},
               kink=lambda u: u, derivative=lambda u: (sp.sign(u),)),
    _construct(sp.sign, ("sign rule", "d sign(u)/du = 0 (taken as 0 everywhere, sign(0) = 0)"), "bounded",
               kink=lambda u: u, derivative=lambda u: (sp.S.Zero,)),
    _construct(sp.Max, arity=(1, None), aliases={"max": sp.Max}),
    _construct(sp.Min, arity=(1, None), aliases={"min": sp.Min}),
    _construct(sp.Heaviside, ("step rule", "d H(u)/du = 0 (taken as 0 everywhere, H(0) = 0)"), "bounded",
               arity=(1, 2), kink=lambda u, *h0: u, derivative=lambda u, *h0: (sp.S.Zero,) * (1 + len(h0))),
    _construct(sp.Piecewise, arity=(1, None)),
)

#: Every supported function by its SymPy class name, in the order of the rows.
FUNCTION_TABLE: dict[str, FunctionRow] = {row.name: row for row in _ROWS}
#: The rows every stage translates from the table itself.
ELEMENTARY: tuple = tuple(row for row in _ROWS if row.kind == "elementary")
#: The rows with a hand-written method in every stage.
CONSTRUCTS: tuple = tuple(row for row in _ROWS if row.kind == "construct")

_BY_CLASS = {row.sympy: row for row in _ROWS}


def row_of(expr_or_class) -> FunctionRow | None:
    """The row of a SymPy function (an expression or its class), ``None`` if unsupported."""
    cls = expr_or_class if isinstance(expr_or_class, type) else type(expr_or_class)
    return _BY_CLASS.get(cls)


def supported_text() -> str:
    """The supported functions as error messages list them."""
    return ", ".join(FUNCTION_TABLE)
