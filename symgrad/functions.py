"""Textbook test functions for optimizers, each with a known global minimum.

Each call returns a frozen :class:`TestFunction`: the expression, its symbols, one
known global minimiser ``x_min`` with the value ``f_min`` there, a customary start
``x0`` and a plotting ``domain``. Coefficients are exact rationals so that
``f(x_min) == f_min`` holds exactly.

References: M. Jamil and X.-S. Yang, "A literature survey of benchmark functions for
global optimization problems", Int. J. Math. Model. Numer. Optim. 4(2), 2013; and
S. Surjanovic and D. Bingham, "Virtual Library of Simulation Experiments: Test
Functions and Datasets" (Simon Fraser University).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from symgrad.errors import OptionError

__all__ = [
    "TestFunction",
    "rosenbrock",
    "himmelblau",
    "beale",
    "booth",
    "matyas",
    "sphere",
    "rastrigin",
    "three_hump_camel",
]


@dataclass(frozen=True)
class TestFunction:
    """A test function: ``expr`` in ``symbols``, minimal (``f_min``) at ``x_min``.

    Attributes:
        name: short name, e.g. ``"rosenbrock"``.
        expr: the SymPy expression.
        symbols: its variables, in vector order (tuple of symbols).
        x_min: one known global minimiser (tuple of floats).
        f_min: the minimum value (float).
        x0: a customary starting point (tuple of floats).
        domain: ``((low, high), ...)`` per variable, a region worth plotting.
    """

    __test__ = False  # not a pytest test class despite its name

    name: str
    expr: sp.Expr
    symbols: tuple
    x_min: tuple
    f_min: float
    x0: tuple
    domain: tuple

    def __repr__(self) -> str:
        return (
            f"TestFunction({self.name}: f({', '.join(map(str, self.symbols))}) = {self.expr}; "
            f"min {self.f_min} at {self.x_min})"
        )


def rosenbrock(n: int = 2) -> TestFunction:
    """Rosenbrock's banana valley in ``n`` variables.

    ``x_i``: symbol ``x{i}`` (1-based).
    ``f(x) = sum_{i<n} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2``, minimum 0 at ``(1, ..., 1)``.

    Args:
        n: number of variables, an int >= 2.

    Raises:
        ValueError: if ``n`` is not an int >= 2.

    Example:
        >>> f = rosenbrock()
        >>> f.expr
        (1 - x1)**2 + 100*(-x1**2 + x2)**2
        >>> f.x_min, f.f_min
        ((1.0, 1.0), 0.0)

    References:
        H. H. Rosenbrock, "An automatic method for finding the greatest or least
        value of a function", The Computer Journal 3(3), 1960.
    """
    xs = _variables(n, 2, "rosenbrock")
    expr = sp.Add(*[100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1)])
    x0 = tuple(-1.2 if i % 2 == 0 else 1.0 for i in range(n))
    return TestFunction("rosenbrock", expr, xs, (1.0,) * n, 0.0, x0, ((-2.0, 2.0),) * n)


def himmelblau() -> TestFunction:
    """Himmelblau's function, with four global minima (value 0); ``x_min`` is ``(3, 2)``.

    ``f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2``.

    Example:
        >>> himmelblau().expr.subs({"x": 3, "y": 2})
        0

    References:
        D. M. Himmelblau, "Applied Nonlinear Programming", McGraw-Hill, 1972.
    """
    x, y = sp.symbols("x y")
    expr = (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2
    return TestFunction("himmelblau", expr, (x, y), (3.0, 2.0), 0.0, (0.0, 0.0), ((-5.0, 5.0),) * 2)


def beale() -> TestFunction:
    """Beale's function, minimum 0 at ``(3, 1/2)``.

    ``f(x, y) = (3/2 - x + x y)^2 + (9/4 - x + x y^2)^2 + (21/8 - x + x y^3)^2``.

    Example:
        >>> beale().expr.subs({"x": 3, "y": 0.5})
        0

    References:
        E. M. L. Beale, "On an iterative method for finding a local minimum of a
        function of more than one variable", Princeton University report, 1958.
    """
    x, y = sp.symbols("x y")
    c = [sp.Rational(3, 2), sp.Rational(9, 4), sp.Rational(21, 8)]
    expr = sp.Add(*[(c[k] - x + x * y ** (k + 1)) ** 2 for k in range(3)])
    return TestFunction("beale", expr, (x, y), (3.0, 0.5), 0.0, (1.0, 1.0), ((-4.5, 4.5),) * 2)


def booth() -> TestFunction:
    """Booth's function, minimum 0 at ``(1, 3)``.

    ``f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2``.

    Example:
        >>> booth().expr.subs({"x": 1, "y": 3})
        0

    References:
        Jamil and Yang (2013), function 24.
    """
    x, y = sp.symbols("x y")
    expr = (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2
    return TestFunction("booth", expr, (x, y), (1.0, 3.0), 0.0, (0.0, 0.0), ((-10.0, 10.0),) * 2)


def matyas() -> TestFunction:
    """Matyas' function, minimum 0 at the origin.

    ``f(x, y) = 0.26 (x^2 + y^2) - 0.48 x y`` (exact rationals 13/50 and 12/25).

    Example:
        >>> matyas().expr
        13*x**2/50 - 12*x*y/25 + 13*y**2/50

    References:
        Jamil and Yang (2013), function 71.
    """
    x, y = sp.symbols("x y")
    expr = sp.Rational(26, 100) * (x**2 + y**2) - sp.Rational(48, 100) * x * y
    return TestFunction("matyas", expr, (x, y), (0.0, 0.0), 0.0, (5.0, -3.0), ((-10.0, 10.0),) * 2)


def sphere(n: int = 2) -> TestFunction:
    """The sphere (sum of squares), minimum 0 at the origin.

    ``f(x) = sum_i x_i^2``.

    Example:
        >>> sphere(3).expr
        x1**2 + x2**2 + x3**2

    References:
        Jamil and Yang (2013), function 137.
    """
    xs = _variables(n, 1, "sphere")
    expr = sp.Add(*[x**2 for x in xs])
    return TestFunction("sphere", expr, xs, (0.0,) * n, 0.0, (1.0,) * n, ((-5.0, 5.0),) * n)


def rastrigin(n: int = 2) -> TestFunction:
    """Rastrigin's function, many local minima, global minimum 0 at the origin.

    ``f(x) = 10 n + sum_i (x_i^2 - 10 cos(2 pi x_i))``.

    Example:
        >>> rastrigin(1).expr
        x1**2 - 10*cos(2*pi*x1) + 10

    References:
        L. A. Rastrigin, "Systems of Extremal Control", Nauka, 1974.
    """
    xs = _variables(n, 1, "rastrigin")
    expr = 10 * n + sp.Add(*[x**2 - 10 * sp.cos(2 * sp.pi * x) for x in xs])
    x0 = tuple(2.5 if i % 2 == 0 else -2.5 for i in range(n))
    return TestFunction("rastrigin", expr, xs, (0.0,) * n, 0.0, x0, ((-5.12, 5.12),) * n)


def three_hump_camel() -> TestFunction:
    """The three-hump camel function, minimum 0 at the origin.

    ``f(x, y) = 2x^2 - 1.05 x^4 + x^6/6 + x y + y^2`` (1.05 as the exact 21/20).

    Example:
        >>> three_hump_camel().expr.subs({"x": 0, "y": 0})
        0

    References:
        Jamil and Yang (2013), function 29.
    """
    x, y = sp.symbols("x y")
    expr = 2 * x**2 - sp.Rational(21, 20) * x**4 + x**6 / 6 + x * y + y**2
    return TestFunction(
        "three_hump_camel", expr, (x, y), (0.0, 0.0), 0.0, (1.5, -1.0), ((-5.0, 5.0),) * 2
    )


def _variables(n, least: int, name: str) -> tuple:
    if isinstance(n, bool) or not isinstance(n, int) or n < least:
        raise OptionError(f"{name}(n) needs an int n >= {least}, got {n!r}.")
    return sp.symbols(f"x1:{n + 1}")
