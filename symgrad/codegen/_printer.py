"""A strict SymPy printer that writes float64 Python for Numba.

One ``_print_<Class>`` method per construct, math functions in one table, every
number a float literal, and conditionals as ``if``/``else`` expressions (never
``select``), so Numba compiles branches that test one value at a time. Anything
else is refused with an error that names the SymPy class.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from symgrad._functions import CONSTRUCTS, ELEMENTARY, FUNCTION_TABLE, supported_text
from symgrad.errors import UnsupportedFunctionError

__all__ = ["KernelPrinter", "MATH_FUNCTIONS", "SPECIAL_IMPORT", "VECTOR_FUNCTIONS", "VECTOR_MATH_IMPORT", "python_name"]

#: SymPy function class name -> the ``math`` function Numba compiles for it (the rows of
#: ``symgrad._functions`` printed as one call of a ``math`` function).
MATH_FUNCTIONS = {
    row.name: row.printed[: -len("({0})")] for row in ELEMENTARY
    if row.printed.startswith("math.") and row.printed.endswith("({0})") and row.printed.count("(") == 1
}

#: The import line of the compiled special functions (``sf.polygamma``, ``sf.loggamma``),
#: which ``KernelSource`` adds to a module that calls them.
SPECIAL_IMPORT = "from symgrad.jit import _special as sf"

#: The functions printed as calls of symgrad's branch-free versions (``vm``, the module
#: ``symgrad.jit._elementary``), which LLVM inlines and vectorises over samples;
#: ``vector_math=False`` keeps the ``math`` (C library) calls of ``MATH_FUNCTIONS``.
VECTOR_FUNCTIONS = {"exp": "vm.exp", "log": "vm.log", "tanh": "vm.tanh"}

#: The import line a module printed with ``vector_math=True`` needs.
VECTOR_MATH_IMPORT = "from symgrad.jit import _elementary as vm"

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: Names the generated modules use, or may: a symbol named ``range`` or ``float`` gets ``range_``.
_RESERVED = frozenset(dir(builtins)) | {"math", "numba", "np", "vm", "sf", "prange"}


def float_literal(number) -> str:
    """The float64 literal of a SymPy number (a ratio of integers rounded once).

    Raises:
        UnsupportedFunctionError: a number beyond float64 (``2**3000``, ``Float("1e400")``), named.
    """
    try:
        value = number.p / number.q if number.is_Rational else float(number)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise UnsupportedFunctionError(
            f"the constant {sp.N(number, 6)} in the expression is beyond float64 (at most about "
            f"1.8e308), which the compiled kernels compute in; rescale the expression (other "
            f"units, or a symbol for the constant whose value is passed in) so that every "
            f"constant is a float64 number."
        )
    return repr(value)


def python_name(name: str, taken: set) -> str:
    """A readable Python identifier for a symbol name, unique within ``taken``."""
    base = name if _IDENTIFIER.match(name) else None
    if base is None:
        base = re.sub(r"\W+", "_", name).strip("_") or "s"
        if not base[0].isalpha():
            base = "s_" + base
    if keyword.iskeyword(base) or base in _RESERVED or re.match(r"^[ta]\d+$", base):
        base = base + "_"
    candidate, k = base, 1
    while candidate in taken:
        candidate = f"{base}_{k}"
        k += 1
    taken.add(candidate)
    return candidate


def _one_group(text: str) -> bool:
    """Whether ``text`` is ``( ... )`` with its first parenthesis closed by its last."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and i < len(text) - 1:
            return False
    return True


class KernelPrinter(PythonCodePrinter):
    """Print one expression as a float64 Python expression.

    Args:
        names: maps every symbol that may occur to the Python name to print.
        vector_math: print ``exp``, ``log``, ``tanh`` as the branch-free ``vm.exp``,
            ``vm.log``, ``vm.tanh``, ``log(1 + u)`` as ``vm.log1p(u)`` and
            ``exp(u) - 1`` as ``vm.expm1(u)`` (the module must import
            ``VECTOR_MATH_IMPORT``); else the C library's ``math.exp``...
        definitions: temporary symbol -> its right-hand side, so that ``log(t)`` with
            ``t = 1 + u`` prints as ``vm.log1p(u)`` (and ``t - 1`` with ``t = exp(u)``
            as ``vm.expm1(u)``) across the statements of a program.
    """

    def _defined(self, expr):
        """``expr``, or the right-hand side it names when it is a temporary."""
        return self._definitions.get(expr, expr)

    printmethod = "_symgrad_kernel"
    _allowed = tuple(row.sympy for row in ELEMENTARY + CONSTRUCTS)

    def __init__(self, names: dict, vector_math: bool = False, definitions: dict | None = None):
        super().__init__({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": False})
        self._names = names
        self._definitions = definitions or {}
        self._functions = dict(MATH_FUNCTIONS, **VECTOR_FUNCTIONS) if vector_math else MATH_FUNCTIONS
        self._vector = vector_math

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.Function) and not isinstance(expr, self._allowed):
            self._print_Function(expr)  # raises, naming the function
        return super()._print(expr, **kwargs)

    def doprint(self, expr, assign_to=None):
        """The text of ``expr``; a power standing alone drops its outer parentheses."""
        text = super().doprint(expr, assign_to)
        if assign_to is None and isinstance(expr, sp.Pow) and _one_group(text):
            return text[1:-1]
        return text

    # -- leaves ---------------------------------------------------------------
    def _print_Symbol(self, expr):
        try:
            return self._names[expr]
        except KeyError:
            raise UnsupportedFunctionError(f"the printer was not told the name of symbol {expr}") from None

    _print_Dummy = _print_Symbol

    def _print_Integer(self, expr):
        return float_literal(expr)

    def _print_Rational(self, expr):
        return float_literal(expr)

    def _print_Float(self, expr):
        return float_literal(expr)

    def _print_Half(self, expr):
        return "0.5"

    def _print_Zero(self, expr):
        return "0.0"

    def _print_One(self, expr):
        return "1.0"

    def _print_NegativeOne(self, expr):
        return "-1.0"

    def _print_Pi(self, expr):
        return "math.pi"

    def _print_Exp1(self, expr):
        return "math.e"

    def _print_BooleanTrue(self, expr):
        return "True"

    def _print_BooleanFalse(self, expr):
        return "False"

    # -- arithmetic -----------------------------------------------------------
    def parenthesize(self, item, level, strict=False):
        """SymPy's rule, less the second pair around text that is one bracketed group already."""
        text = super().parenthesize(item, level, strict)
        if text.startswith("((") and _one_group(text[1:-1]):
            return text[1:-1]
        return text

    def _print_Pow(self, expr, rational=False):
        """``b**e``; every form that is not a bare ``b**e`` comes back in parentheses.

        Small integer powers become products and reciprocals, ``1/2`` and ``-1/2``
        square roots. Each of those is a compound Python expression that SymPy's
        precedence rules would otherwise leave bare wherever a ``Pow`` outranks its
        context (``x/u**2`` must not print as ``x/u*u``, nor ``(u**2)**y`` as
        ``u*u**y``), so it is wrapped whole. A base or exponent that is itself a
        power is parenthesised too (SymPy's default for equal precedence), so
        Python's right-to-left grouping of ``**`` never decides the meaning.
        """
        base, exp = expr.args
        level = sp.printing.precedence.PRECEDENCE["Pow"]
        b = self.parenthesize(base, level)
        if exp.is_Integer and 1 <= abs(int(exp)) <= 4:
            k = abs(int(exp))
            if k == 1:
                return b if exp > 0 else f"(1.0/{b})"
            product = "*".join([b] * k)
            return f"({product})" if exp > 0 else f"(1.0/({product}))"
        if exp == sp.S.Half:
            return f"math.sqrt({self._print(base)})"
        if exp == -sp.S.Half:
            return f"(1.0/math.sqrt({self._print(base)}))"
        e = self.parenthesize(exp, level)
        return f"{b}**{e}"

    def _print_Function(self, expr):
        """A function of the table: a ``math`` call, or the row's text (``1.0/math.tan(u)``...)."""
        name = expr.func.__name__
        row = FUNCTION_TABLE.get(name)
        if row is not None and row.kind == "elementary" and isinstance(expr, self._allowed):
            arg = self._defined(expr.args[0])
            if self._vector and name == "log" and arg.is_Add and len(arg.args) == 2 and sp.S.One in arg.args:
                rest = arg.args[1] if arg.args[0] == sp.S.One else arg.args[0]
                return f"vm.log1p({self._print(rest)})"
            args = [self._print(a) for a in expr.args]
            if name in self._functions:
                return f"{self._functions[name]}({', '.join(args)})"
            level = sp.printing.precedence.PRECEDENCE["Mul"]
            quotient = {f"p{i}": self.parenthesize(a, level, strict=True) for i, a in enumerate(expr.args)}
            return row.printed.format(*args, **quotient)
        raise UnsupportedFunctionError(
            f"symgrad cannot compile the function {name} (in {expr}): it has no float64 "
            f"translation; supported: {supported_text()}. Rewrite it with these."
        )


    def _print_Add(self, expr, order=None):
        """A sum; ``exp(u) - 1`` as ``vm.expm1(u)`` with ``vector_math``."""
        if self._vector and len(expr.args) == 2 and sp.S.NegativeOne in expr.args:
            rest = self._defined(expr.args[1] if expr.args[0] == sp.S.NegativeOne else expr.args[0])
            if isinstance(rest, sp.exp):
                return f"vm.expm1({self._print(rest.args[0])})"
        return super()._print_Add(expr, order)

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_sign(self, expr):
        # 0.0*x keeps NaN a NaN and gives sign(0) = 0.
        x = self._print(expr.args[0])
        return f"(1.0 if {x} > 0.0 else (-1.0 if {x} < 0.0 else 0.0*{x}))"

    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        h0 = self._print(expr.args[1]) if len(expr.args) > 1 else "0.0"
        return f"(1.0 if {x} > 0.0 else (0.0 if {x} < 0.0 else ({h0} if {x} == 0.0 else {x})))"

    def _minmax(self, expr, fn):
        args = [self._print(a) for a in expr.args]
        out = args[0]
        for a in args[1:]:
            out = f"{fn}({out}, {a})"
        return out

    def _print_Max(self, expr):
        return self._minmax(expr, "max")

    def _print_Min(self, expr):
        return self._minmax(expr, "min")

    def _print_Piecewise(self, expr):
        pieces = list(expr.args)
        if pieces[-1].cond == sp.true:
            out = self._print(pieces.pop().expr)
        else:
            out = "math.nan"
        for e, c in reversed(pieces):
            out = f"({self._print(e)} if {self._print(c)} else {out})"
        return out

    def _print_Relational(self, expr):
        ops = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
        return f"({self._print(expr.lhs)} {ops[expr.rel_op]} {self._print(expr.rhs)})"

    def _print_And(self, expr):
        return "(" + " and ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr):
        return "(" + " or ".join(self._print(a) for a in expr.args) + ")"

    def _print_Not(self, expr):
        return f"(not {self._print(expr.args[0])})"

    def emptyPrinter(self, expr):
        raise UnsupportedFunctionError(
            f"symgrad cannot compile {type(expr).__name__} (in {expr}); it is not one of "
            f"the supported constructs (+ - * / **, {supported_text()})."
        )

    def _print_not_supported(self, expr):
        return self.emptyPrinter(expr)


# SymPy's Python printer has its own method for some of these (``math.lgamma`` for
# ``loggamma``, ``math.floor`` for ``floor``); the table decides instead.
for _row in ELEMENTARY:
    setattr(KernelPrinter, f"_print_{_row.name}", KernelPrinter._print_Function)
del _row
