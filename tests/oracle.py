"""The independent oracle: SymPy's ``diff`` evaluated with mpmath at 40 digits.

Nothing here comes from symgrad: derivatives are SymPy's own ``diff`` of the
expression with every symbol replaced by a ``real=True`` dummy (so that
``d|x|/dx = sign(x)``, as the API treats symbols), and values are computed by a
small recursive evaluator over the SymPy tree in mpmath arithmetic at ``dps``
significant digits.  Points are dicts ``{symbol: float}``; each float is converted
exactly (``mpmath.mpf(float)`` is exact).  Away from kinks the ``DiracDelta`` terms
SymPy writes for ``sign``, ``Heaviside`` and the like are zero, and are evaluated so.

Tolerance rule ("scaled by the condition of the sum").  Alongside each value the
evaluator computes a first-order running error bound ``M`` (Wilkinson; Higham,
*Accuracy and Stability of Numerical Algorithms*, 2nd ed., section 3.3): a float64
evaluation of the same tree with exact inputs is off by at most about ``u * M``,
``u = 2**-53``, where

    M(a + b + ...)   = M(a) + M(b) + ... + (n - 1) * (|a| + |b| + ...)
    M(a * b * ...)   = sum_i M(a_i) * prod_{j != i} |a_j| + (n - 1) * |v|
    M(f(a))          = |f'(a)| * M(a) + |v|            (library functions)
    M(a ** q)        = |q a**(q-1)| M(a) + |v log|a|| M(q) + (2 + |q log a|) |v|
    M(symbol) = 0,  M(integer) = 0,  M(pi, E, 1/3, ...) = |v|

so ``M`` is at least the sum of the absolute values of the terms of every sum in the
tree, weighted by how much the result depends on them.  A computed ``got`` is
accepted when ``rel_error(got, exact, M) <= TOLERANCE``, that is when
``|got - exact| <= TOLERANCE * M``: ``TOLERANCE = 64 * u`` leaves room for the code
under test evaluating an equivalent but differently arranged formula (a different
order of summation, a power through ``exp``/``log``).  ``M / |exact|`` is the
condition number of the evaluation; points where it is huge are badly conditioned
and are avoided by the strategies rather than excused by a loose tolerance.

Example:
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> [mp_float(g) for g in gradient(x**2 * sp.sin(y), [x, y], {x: 1.5, y: 0.5})]
    [1.438276615812609, 1.9745607642533387]
"""

import math

import mpmath
import sympy as sp

__all__ = [
    "OracleDomainError",
    "TOLERANCE",
    "UNIT_ROUNDOFF",
    "value",
    "gradient",
    "hessian",
    "evaluate",
    "Derivatives",
    "derivatives",
    "derivatives_at",
    "kink_margin",
    "rel_error",
    "mp_float",
]

UNIT_ROUNDOFF = 2.0**-53
TOLERANCE = 64 * UNIT_ROUNDOFF
#: Below the smallest normal float64 there is no relative precision left (gradual
#: underflow has absolute steps of 2**-1074, and a result may flush to 0): an error
#: up to this absolute size is rounding, whatever the scale.
UNDERFLOW = 2.0**-1022
#: an intermediate value above this overflows a float64 evaluation: the point is refused
FLOAT64_LARGE = 1e300
#: ... and a nonzero one below this underflows (cosh(490)**(-5/3) is 1e-353, and the
#: gradient of cosh(E/p)**(-2/3) at p = 0.00555 computes it before a sinh(490) = 1e212)
FLOAT64_SMALL = 1e-300


class OracleDomainError(ValueError):
    """The expression is not a finite real number at the point (log of a negative, 1/0...)."""


def mp_float(v):
    """The nearest float64 of an mpmath number."""
    return float(v)


# function: (value, derivative), both on mpmath numbers
_UNARY = {
    sp.exp: (mpmath.exp, mpmath.exp),
    sp.log: (mpmath.log, lambda a: 1 / a),
    sp.sin: (mpmath.sin, mpmath.cos),
    sp.cos: (mpmath.cos, lambda a: -mpmath.sin(a)),
    sp.tan: (mpmath.tan, lambda a: 1 + mpmath.tan(a) ** 2),
    sp.asin: (mpmath.asin, lambda a: 1 / mpmath.sqrt(1 - a * a)),
    sp.acos: (mpmath.acos, lambda a: -1 / mpmath.sqrt(1 - a * a)),
    sp.atan: (mpmath.atan, lambda a: 1 / (1 + a * a)),
    sp.sinh: (mpmath.sinh, mpmath.cosh),
    sp.cosh: (mpmath.cosh, mpmath.sinh),
    sp.tanh: (mpmath.tanh, lambda a: 1 - mpmath.tanh(a) ** 2),
    sp.asinh: (mpmath.asinh, lambda a: 1 / mpmath.sqrt(1 + a * a)),
    sp.acosh: (mpmath.acosh, lambda a: 1 / mpmath.sqrt(a * a - 1)),
    sp.atanh: (mpmath.atanh, lambda a: 1 / (1 - a * a)),
    sp.cot: (mpmath.cot, lambda a: -1 - mpmath.cot(a) ** 2),
    sp.sec: (mpmath.sec, lambda a: mpmath.sec(a) * mpmath.tan(a)),
    sp.csc: (mpmath.csc, lambda a: -mpmath.csc(a) * mpmath.cot(a)),
    sp.acot: (mpmath.acot, lambda a: -1 / (1 + a * a)),
    sp.asec: (mpmath.asec, lambda a: 1 / (a * a * mpmath.sqrt(1 - 1 / (a * a)))),
    sp.acsc: (mpmath.acsc, lambda a: -1 / (a * a * mpmath.sqrt(1 - 1 / (a * a)))),
    sp.coth: (mpmath.coth, lambda a: -1 / mpmath.sinh(a) ** 2),
    sp.sech: (mpmath.sech, lambda a: -mpmath.sech(a) * mpmath.tanh(a)),
    sp.csch: (mpmath.csch, lambda a: -mpmath.csch(a) * mpmath.coth(a)),
    sp.acoth: (mpmath.acoth, lambda a: 1 / (1 - a * a)),
    sp.asech: (mpmath.asech, lambda a: -1 / (a * mpmath.sqrt(1 - a * a))),
    sp.acsch: (mpmath.acsch, lambda a: -1 / (a * a * mpmath.sqrt(1 + 1 / (a * a)))),
    sp.erf: (mpmath.erf, lambda a: 2 * mpmath.exp(-a * a) / mpmath.sqrt(mpmath.pi)),
    sp.erfc: (mpmath.erfc, lambda a: -2 * mpmath.exp(-a * a) / mpmath.sqrt(mpmath.pi)),
    sp.gamma: (mpmath.gamma, lambda a: mpmath.gamma(a) * mpmath.psi(0, a)),
    sp.loggamma: (mpmath.loggamma, lambda a: mpmath.psi(0, a)),
}

_DOMAIN = {
    sp.log: lambda a: a > 0,
    sp.asin: lambda a: -1 <= a <= 1,
    sp.acos: lambda a: -1 <= a <= 1,
    sp.acosh: lambda a: a >= 1,
    sp.atanh: lambda a: -1 < a < 1,
    sp.cot: lambda a: a != 0,
    sp.csc: lambda a: a != 0,
    sp.coth: lambda a: a != 0,
    sp.csch: lambda a: a != 0,
    sp.acsch: lambda a: a != 0,
    sp.asec: lambda a: abs(a) >= 1,
    sp.acsc: lambda a: abs(a) >= 1,
    sp.acoth: lambda a: abs(a) > 1,
    sp.asech: lambda a: 0 < a <= 1,
    sp.gamma: lambda a: not (a <= 0 and mpmath.isint(a)),
    sp.loggamma: lambda a: a > 0,
}

_RELATIONS = {
    sp.StrictGreaterThan: lambda a, b: a > b,
    sp.GreaterThan: lambda a, b: a >= b,
    sp.StrictLessThan: lambda a, b: a < b,
    sp.LessThan: lambda a, b: a <= b,
    sp.Equality: lambda a, b: a == b,
    sp.Unequality: lambda a, b: a != b,
}


class _Keep(sp.Function):
    """``u`` itself, kept apart: a product with it is not merged with an equal product.

    The two partials of ``atan2(y, x)`` meet in ``x·y' - y·x'``, which SymPy cancels to an
    exact 0 when ``y`` and ``x`` are proportional (``atan2(p, p/c)`` is flat in ``p``); the
    code under test computes both terms and their rounded difference, so the bound must
    see them.
    """

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.S.One


class _Atan2(sp.Function):
    """``atan2(y, x)`` whose partials SymPy keeps apart (see ``_Keep``)."""

    nargs = 2

    def fdiff(self, argindex=1):
        y, x = self.args
        r = x**2 + y**2
        return _Keep(x / r) if argindex == 1 else _Keep(-y / r)


def _realify(expr, symbols=()):
    """Replace every free symbol (and those of ``symbols``) by a real dummy; return both maps."""
    expr = sp.sympify(expr)
    names = set(expr.free_symbols) | set(symbols)
    to_real = {s: sp.Dummy(s.name, real=True) for s in sorted(names, key=sp.default_sort_key)}
    real = expr.xreplace(to_real)
    # |u| = u sign(u) for real u; SymPy's diff of Abs of an argument it cannot prove
    # real (x**y, a Piecewise...) is the complex formula with re() and im().
    real = real.replace(sp.Abs, lambda u: u * sp.sign(u))
    real = real.replace(sp.atan2, _Atan2)
    return real, to_real


def _point(point, to_real):
    env = {}
    for s, real in to_real.items():
        if s not in point:
            raise KeyError(f"the point has no value for symbol {s}")
        env[real] = mpmath.mpf(float(point[s]))
    return env


class _Evaluator:
    """Value and running error bound ``M`` of SymPy trees at one point, memoized per node."""

    def __init__(self, env):
        self.env = env
        self.memo = {}
        self.kinks = []  # values of the arguments of kinks met (distance from non-smoothness)

    def __call__(self, e):
        got = self.memo.get(e)
        if got is None:
            got = self._node(e)
            v, m = got
            if not (mpmath.isfinite(v) and mpmath.isfinite(m)):
                raise OracleDomainError(f"{e} is not finite at the point")
            if abs(v) > FLOAT64_LARGE:
                raise OracleDomainError(f"{e} overflows float64 at the point (an intermediate near {mpmath.nstr(v, 3)})")
            if v and abs(v) < FLOAT64_SMALL:
                raise OracleDomainError(f"{e} underflows float64 at the point (an intermediate near {mpmath.nstr(v, 3)})")
            self.memo[e] = got
        return got

    def _node(self, e):
        if e.is_Symbol:
            if e not in self.env:
                raise KeyError(f"no value for symbol {e}")
            return self.env[e], mpmath.mpf(0)
        if e.is_Integer:
            return mpmath.mpf(int(e)), mpmath.mpf(0)
        if e.is_Float:
            return mpmath.mpf(e._mpf_), mpmath.mpf(0)
        if e.is_Rational:
            v = mpmath.mpf(e.p) / e.q
            exact = e.q & (e.q - 1) == 0  # a binary fraction is exact in float64
            return v, mpmath.mpf(0) if exact else abs(v)
        if e is sp.pi:
            return +mpmath.pi, +mpmath.pi
        if e is sp.E:
            return +mpmath.e, +mpmath.e
        if e.is_Add:
            vals = [self(a) for a in e.args]
            v = mpmath.fsum(a for a, _ in vals)
            m = mpmath.fsum(b for _, b in vals) + (len(vals) - 1) * mpmath.fsum(abs(a) for a, _ in vals)
            return v, m
        if e.is_Mul:
            vals = [self(a) for a in e.args]
            v = mpmath.fprod(a for a, _ in vals)
            m = mpmath.mpf(0)
            for i, (_, mi) in enumerate(vals):
                if mi:
                    m += mi * mpmath.fprod(abs(a) for j, (a, _) in enumerate(vals) if j != i)
            negone = sum(1 for a in e.args if a == -1)
            return v, m + (len(vals) - 1 - negone) * abs(v)
        if e.is_Pow:
            return self._pow(e)
        f = type(e)
        if f is sp.acot:  # SymPy's acot jumps at 0 (from -pi/2 to pi/2)
            self.kinks.append(self(e.args[0])[0])
        if f in _UNARY:
            return self._unary(e, f)
        if f is sp.polygamma:
            n, a, ma = int(e.args[0]), *self(e.args[1])
            if a <= 0 and mpmath.isint(a):
                raise OracleDomainError(f"{e} is at a pole of polygamma")
            v = mpmath.psi(n, a)
            return v, (abs(mpmath.psi(n + 1, a)) * ma if ma else mpmath.mpf(0)) + abs(v)
        if f is _Keep:
            return self(e.args[0])
        if f in (sp.atan2, _Atan2):
            (y, my), (x, mx) = self(e.args[0]), self(e.args[1])
            if x == 0 and y == 0:
                raise OracleDomainError(f"{e} is undefined at the origin")
            if x < 0:
                self.kinks.append(y)  # the branch cut on the negative x axis
            v = mpmath.atan2(y, x)
            return v, (abs(x) * my + abs(y) * mx) / (x * x + y * y) + abs(v)
        if f in (sp.floor, sp.ceiling):
            a, _ = self(e.args[0])
            self.kinks.append(a - mpmath.nint(a))
            return (mpmath.floor(a) if f is sp.floor else mpmath.ceil(a)), mpmath.mpf(0)
        if f is sp.Abs:
            a, ma = self(e.args[0])
            self.kinks.append(a)
            return abs(a), ma
        if f is sp.re:
            return self(e.args[0])  # every value the evaluator accepts is real
        if f is sp.im:
            self(e.args[0])
            return mpmath.mpf(0), mpmath.mpf(0)
        if f is sp.sign:
            a, _ = self(e.args[0])
            self.kinks.append(a)
            return mpmath.mpf(mpmath.sign(a)), mpmath.mpf(0)
        if f is sp.Heaviside:
            a, _ = self(e.args[0])
            self.kinks.append(a)
            if a == 0:
                h0 = self(e.args[1])[0] if len(e.args) > 1 else mpmath.mpf(0)
                return h0, mpmath.mpf(0)
            return mpmath.mpf(1 if a > 0 else 0), mpmath.mpf(0)
        if f is sp.DiracDelta:
            a, _ = self(e.args[0])
            self.kinks.append(a)
            if a == 0:
                raise OracleDomainError(f"{e} at its singular point")
            return mpmath.mpf(0), mpmath.mpf(0)
        if f is sp.Derivative and isinstance(e.expr, (sp.floor, sp.ceiling)):
            a, _ = self(e.expr.args[0])  # zero away from the integers, where the step jumps
            self.kinks.append(a - mpmath.nint(a))
            return mpmath.mpf(0), mpmath.mpf(0)
        if f is sp.Subs and isinstance(e.expr, sp.Derivative) and isinstance(e.expr.expr, (sp.floor, sp.ceiling)):
            # d floor(u(x))/dx = Subs(Derivative(floor(xi), xi), xi, u(x)) * u'(x): zero away
            # from the integers
            (point,) = e.point
            a, _ = self(point)
            self.kinks.append(a - mpmath.nint(a))
            return mpmath.mpf(0), mpmath.mpf(0)
        if f is sp.Derivative and isinstance(e.expr, (sp.sign, sp.Heaviside, sp.DiracDelta)):
            # SymPy leaves d sign(u)/dx unevaluated when it cannot tell u is real;
            # it is a multiple of DiracDelta(u), zero away from the kink.
            a, _ = self(e.expr.args[0])
            self.kinks.append(a)
            if a == 0:
                raise OracleDomainError(f"{e} at its singular point")
            return mpmath.mpf(0), mpmath.mpf(0)
        if f in (sp.Max, sp.Min):
            vals = [self(a) for a in e.args]
            pick = max if f is sp.Max else min
            best = pick(vals, key=lambda t: t[0])
            ordered = sorted(a for a, _ in vals)
            for lo, hi in zip(ordered, ordered[1:]):
                self.kinks.append(hi - lo)
            return best
        if f is sp.Piecewise:
            for piece in e.args:
                if self._truth(piece.cond):
                    return self(piece.expr)
            raise OracleDomainError(f"no condition of {e} holds at the point")
        raise TypeError(f"the oracle has no rule for {f.__name__} (in {e})")

    def _unary(self, e, f):
        a, ma = self(e.args[0])
        ok = _DOMAIN.get(f)
        if ok is not None and not ok(a):
            raise OracleDomainError(f"{e} is outside the domain of {f.__name__} at the point")
        value, deriv = _UNARY[f]
        v = value(a)
        d = abs(deriv(a)) if ma else mpmath.mpf(0)
        return v, d * ma + abs(v)

    def _pow(self, e):
        base, q = e.args
        b, mb = self(base)
        if q.is_Integer:
            n = int(q)
            if b == 0 and n < 0:
                raise OracleDomainError(f"{e}: division by zero at the point")
            v = b**n
            if n == 0:
                return v, mpmath.mpf(0)
            mv = abs(n * b ** (n - 1)) * mb if mb else mpmath.mpf(0)
            return v, mv + max(1, math.ceil(math.log2(abs(n))) + (n < 0)) * abs(v)
        qv, mq = self(q)
        if not mpmath.isint(qv):
            # a fractional power is singular at a zero base (sqrt(u)' = 1/(2 sqrt(u))),
            # even where the expression's own derivative is finite (u = x*sign(p) at x = 0)
            self.kinks.append(b)
        if b < 0 and mpmath.isint(qv):
            v = b ** int(qv)  # a symbolic exponent that happens to be an integer
            return v, abs(qv * v / b) * mb + (2 + abs(qv * mpmath.log(-b))) * abs(v)
        if b < 0:
            raise OracleDomainError(f"{e}: a negative base with a non-integer exponent at the point")
        if b == 0:
            if qv > 0:
                return mpmath.mpf(0), mpmath.mpf(0)
            raise OracleDomainError(f"{e}: zero to a non-positive power at the point")
        v = mpmath.power(b, qv)
        lg = abs(mpmath.log(b))
        m = abs(qv * v / b) * mb + abs(v) * lg * mq + (2 + abs(qv) * lg) * abs(v)
        return v, m

    def _truth(self, cond):
        if cond is sp.true:
            return True
        if cond is sp.false:
            return False
        if isinstance(cond, sp.And):
            return all(self._truth(c) for c in cond.args)
        if isinstance(cond, sp.Or):
            return any(self._truth(c) for c in cond.args)
        if isinstance(cond, sp.ITE):
            first, then, other = cond.args
            return self._truth(then) if self._truth(first) else self._truth(other)
        if isinstance(cond, sp.Not):
            return not self._truth(cond.args[0])
        rel = _RELATIONS.get(type(cond))
        if rel is None:
            raise TypeError(f"the oracle has no rule for the condition {cond}")
        a, _ = self(cond.lhs)
        b, _ = self(cond.rhs)
        self.kinks.append(a - b)
        return rel(a, b)


def evaluate(exprs, point, dps=40):
    """Values and running error bounds of expressions at a point, at ``dps`` digits.

    Args:
        exprs: a SymPy expression or a sequence of them.
        point: dict ``{symbol: float}`` covering their free symbols.
        dps: decimal digits of the mpmath evaluation.

    Returns:
        ``(value, M)`` of mpf for one expression, or a list of such pairs.

    Raises:
        OracleDomainError: an expression is not a finite real number at the point.
    """
    single = isinstance(exprs, sp.Basic)
    items = [sp.sympify(e) for e in ([exprs] if single else exprs)]
    # a value needs no real dummies (they matter to diff only): the trees as they are
    symbols = set().union(*(e.free_symbols for e in items))
    missing = sorted((str(s) for s in symbols if s not in point))
    if missing:
        raise KeyError(f"the point has no value for symbol(s) {', '.join(missing)}")
    with mpmath.workdps(dps):
        ev = _Evaluator({s: mpmath.mpf(float(point[s])) for s in symbols})
        out = [tuple(+t for t in ev(e)) for e in items]
    return out[0] if single else out


def value(expr, point, dps=40):
    """The value of ``expr`` at ``point`` (mpf, ``dps`` digits)."""
    return evaluate(sp.sympify(expr), point, dps)[0]


def _diff_tree(expr, wrt, order):
    real, to_real = _realify(expr, wrt)
    rs = [to_real[s] for s in wrt]
    grad = [sp.diff(real, r) for r in rs]
    hess = [[sp.diff(g, r) for r in rs] for g in grad] if order >= 2 else None
    return real, to_real, grad, hess


class Derivatives:
    """SymPy's derivatives of one expression, taken once, then evaluated at any point.

    Differentiating is the expensive part (SymPy's assumptions on the real dummies);
    evaluating the trees at one more point costs about a millisecond.

    Args:
        expr: a scalar SymPy expression.
        wrt: a sequence of symbols.
        order: 1 for value and gradient, 2 to add the Hessian.

    Example:
        >>> x = sp.Symbol("x")
        >>> d = Derivatives(x**3, [x], order=2)
        >>> [mp_float(d.at({x: 2.0})[k][0]) for k in ("grad", "grad_M")]
        [12.0, 24.0]
    """

    def __init__(self, expr, wrt, order=2):
        self.expr = sp.sympify(expr)
        self.wrt = tuple(wrt)
        self.order = order
        self.real, self.to_real, self.grad, self.hess = _diff_tree(self.expr, self.wrt, order)

    def at(self, point, dps=40):
        """Value, gradient, Hessian and their bounds at ``point``, as :func:`derivatives` returns.

        Raises:
            OracleDomainError: a value or derivative is not finite at the point.
        """
        with mpmath.workdps(dps):
            ev = _Evaluator(_point(point, self.to_real))
            v, vm = ev(self.real)
            # the caller's tree may keep what real symbols simplify away (log(exp(u)) = u
            # only for real u): its bound counts too, as code under test evaluates it
            plain = _Evaluator({s: mpmath.mpf(float(point[s])) for s in self.to_real})
            vm = max(vm, plain(self.expr)[1])
            g = [_rounded_once(ev(d)) for d in self.grad]
            h = [[_rounded_once(ev(d)) for d in row] for row in self.hess] if self.hess is not None else None
            # the caller's kinks too: Max(p*sign(p), Abs(p)) is Max(u, u) = u once Abs(p)
            # is written p*sign(p), but code under test meets a tie of Max everywhere
            kinks = min((abs(k) for k in ev.kinks + plain.kinks), default=mpmath.inf)
            return {
                "value": +v,
                "value_M": +vm,
                "grad": [+a for a, _ in g],
                "grad_M": [+m for _, m in g],
                "hess": None if h is None else [[+a for a, _ in row] for row in h],
                "hess_M": None if h is None else [[+m for _, m in row] for row in h],
                "kinks": +kinks,
            }


def _rounded_once(pair):
    """A derivative's bound is at least its size: code under test computes it by the
    chain rule over the caller's tree, rounding at least once, even where SymPy's
    simplification left an exact tree (d log(exp(p))/dp is the integer 1 for real p,
    computed as exp(p) / exp(p))."""
    v, m = pair
    return v, max(m, abs(v))


def derivatives(expr, wrt, point, order=2, dps=40):
    """Value, gradient and (``order=2``) Hessian with their running error bounds.

    Args:
        expr: a scalar SymPy expression.
        wrt: a sequence of symbols.
        point: dict ``{symbol: float}``.
        order: 1 for value and gradient, 2 to add the Hessian.
        dps: decimal digits.

    Returns:
        A dict with ``value``, ``grad``, ``hess`` (mpf, lists, list of lists; ``hess``
        None for order 1), the bounds ``value_M``, ``grad_M``, ``hess_M`` in the same
        shapes, and ``kinks``: the smallest absolute kink argument met (``inf`` if none).

    Raises:
        OracleDomainError: a value or derivative is not finite at the point.
    """
    return Derivatives(expr, wrt, order).at(point, dps)


def derivatives_at(expr, wrt, points, order=1, dps=40):
    """:func:`derivatives` at many points, differentiating once.

    Returns a list with one dict (as :func:`derivatives` returns) per point, or
    ``None`` where the expression or a derivative is not finite.
    """
    d = Derivatives(expr, wrt, order)
    out = []
    for point in points:
        try:
            out.append(d.at(point, dps))
        except (OracleDomainError, ZeroDivisionError, OverflowError):
            out.append(None)
    return out


def gradient(expr, wrt, point, dps=40):
    """The exact gradient of ``expr`` w.r.t. ``wrt`` at ``point``: a list of mpf."""
    return derivatives(expr, wrt, point, order=1, dps=dps)["grad"]


def hessian(expr, wrt, point, dps=40):
    """The exact Hessian of ``expr`` w.r.t. ``wrt`` at ``point``: a list of lists of mpf."""
    return derivatives(expr, wrt, point, order=2, dps=dps)["hess"]


def kink_margin(expr, point, dps=40):
    """The smallest absolute argument of a kink (Abs, sign, Max/Min gaps, Piecewise
    conditions, Heaviside) of ``expr`` and its first derivatives at ``point``."""
    wrt = sorted(sp.sympify(expr).free_symbols, key=sp.default_sort_key)
    return derivatives(expr, wrt, point, order=1, dps=dps)["kinks"]


def rel_error(got, exact, scale):
    """``|got - exact| / scale`` as a float: the error in units of the condition scale.

    ``scale`` is the running error bound ``M`` of the exact value (see the module
    docstring); the test passes when this is at most ``TOLERANCE``.  A zero scale
    (an exact input passed through) demands equality: 0.0 if equal, ``inf`` otherwise.
    A non-finite ``got`` is ``inf``. An exact value and an error both under
    ``UNDERFLOW`` (the smallest normal float64) count as no error.

    Example:
        >>> rel_error(1.0 + 2.0**-52, mpmath.mpf(1), mpmath.mpf(1)) <= TOLERANCE
        True
    """
    got = float(got)
    if not math.isfinite(got):
        return math.inf
    diff = abs(mpmath.mpf(got) - exact)
    if diff <= UNDERFLOW and abs(exact) <= UNDERFLOW:
        return 0.0  # both within float64's underflow range
    if scale == 0:
        return 0.0 if diff == 0 else math.inf
    return float(diff / scale)
