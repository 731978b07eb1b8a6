"""Read a math expression from untrusted text, without executing any of it.

The text is parsed by Python's own grammar (``ast.parse``) and the syntax tree is
walked with a whitelist: numbers, names, ``+ - * / ** ^``, and calls of the
supported functions. Nothing is evaluated as Python; ``eval``, ``exec``,
``sympify`` and ``parse_expr`` are never called on the text. Everything that is
not on the whitelist is a :class:`~symgrad.errors.ParseError` that names it.

Limits keep hostile text cheap to refuse: at most ``MAX_LENGTH`` characters,
brackets nested at most ``MAX_BRACKET_DEPTH`` deep, syntax trees at most
``MAX_TREE_DEPTH`` deep, exact numbers of at most ``MAX_NUMBER_BITS`` bits, and at
most ``MAX_MINMAX_ARGS`` arguments to ``Max``/``Min`` in one text (SymPy compares
them pairwise). See ``docs/parse.md`` for the grammar.
"""

from __future__ import annotations

import ast
import math
import warnings

import sympy as sp

from symgrad import nn
from symgrad._expr import SUPPORTED_FUNCTIONS
from symgrad._functions import FUNCTION_TABLE
from symgrad._parse_size import MAX_FLOAT_EXPONENT, MAX_NUMBER_BITS, check_sizes, too_large
from symgrad._parse_slips import read_euler, slip_hint
from symgrad.errors import ExpressionTypeError, ParseError

__all__ = [
    "parse", "FUNCTIONS", "MAX_LENGTH", "MAX_BRACKET_DEPTH", "MAX_TREE_DEPTH",
    "MAX_NUMBER_BITS", "MAX_FLOAT_EXPONENT",
]

MAX_LENGTH = 10_000
MAX_BRACKET_DEPTH = 64
MAX_TREE_DEPTH = 128
MAX_MINMAX_ARGS = 16

#: Function names the text may call, with the SymPy function (or the ``symgrad.nn``
#: activation) each one builds: the names and aliases of ``symgrad._functions``
#: (``abs``, ``ln``, ``max``, ``min``, ``digamma``...), ``sqrt``, and ``relu(z)`` as
#: ``Max(0, z)``, ``sigmoid(z)`` as ``1/(1 + exp(-z))``, ``softplus(z)`` as the
#: overflow-free ``log(1 + exp(z))``.
FUNCTIONS: dict[str, object] = {
    **SUPPORTED_FUNCTIONS,
    **{alias: f for row in FUNCTION_TABLE.values() for alias, f in row.aliases.items()},
    "sqrt": sp.sqrt,
    "relu": nn.relu,
    "sigmoid": nn.sigmoid,
    "softplus": nn.softplus,
}

#: Numbers of positional arguments each function accepts: (fewest, most or None).
_ARITY: dict[object, tuple[int, int | None]] = {
    row.sympy: row.arity for row in FUNCTION_TABLE.values() if row.arity != (1, 1)
}

_CONSTANTS = {"pi": sp.pi, "E": sp.E}

_COMPARISONS = {
    ast.Lt: sp.StrictLessThan,
    ast.LtE: sp.LessThan,
    ast.Gt: sp.StrictGreaterThan,
    ast.GtE: sp.GreaterThan,
    ast.Eq: sp.Eq,
    ast.NotEq: sp.Ne,
}

_OPERATOR_NAMES = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
    ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
}

_DESCRIPTIONS = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "subscripts (a[i])",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Starred: "starred arguments (*a)",
    ast.JoinedStr: "f-strings",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.IfExp: "conditional expressions (a if c else b); use Piecewise",
    ast.List: "lists",
    ast.Dict: "dictionaries",
    ast.Set: "sets",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}


def parse(text: str) -> sp.Expr:
    """Return the SymPy expression written in ``text``, executing nothing.

    Grammar: numbers (``2``, ``0.5``, ``1e-3``: integers exact, decimals as
    float64 values), names (each a plain ``sympy.Symbol``, except ``pi`` and ``E``,
    the constants), ``+ - * /``, powers written ``**`` or ``^``, parentheses, and
    calls of the supported functions with positional arguments (also ``abs``,
    ``sqrt``, ``max``, ``min``, ``ln`` and the activations ``relu``, ``sigmoid``,
    ``softplus``). In a text that writes ``e^...``, every ``e`` is Euler's number;
    elsewhere ``e`` is a symbol, with a :class:`~symgrad.errors.SymgradWarning`
    that says so. Comparisons,
    ``and``/``or``/``not`` and ``& | ~`` are allowed only as the conditions of
    ``Piecewise((value, condition), ...)``, where ``True`` is the final catch-all.

    Args:
        text: the expression, at most ``MAX_LENGTH`` characters.

    Returns:
        The expression, as SymPy builds it (``x + x`` is ``2*x``).

    Raises:
        TypeError: (an :class:`~symgrad.errors.ExpressionTypeError`) if ``text`` is not a ``str``.
        ValueError: (a :class:`~symgrad.errors.ParseError`) for anything else than such an
            expression, naming what was refused (``2x`` says to write ``2*x``).

    Example:
        >>> from symgrad import parse
        >>> parse("x^2 + 3*sin(y)")
        x**2 + 3*sin(y)
        >>> parse("e^(-x^2)")
        exp(-x**2)
        >>> parse("relu(w*x + b)")
        Max(0, b + w*x)
        >>> parse("Piecewise((x, x > 0), (0, True))")
        Piecewise((x, x > 0), (0, True))
        >>> parse("__import__('os')")
        Traceback (most recent call last):
        ...
        symgrad.errors.ParseError: names with a double underscore are not allowed: '__import__'.
    """
    if not isinstance(text, str):
        raise ExpressionTypeError(
            f"parse reads text: expected a str, got {type(text).__name__}. "
            "Build SymPy expressions directly instead of parsing them."
        )
    _check_size(text)
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal" for 1x
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise ParseError(f"{text[:60]!r} is not a valid expression: {exc.msg}.{slip_hint(text, FUNCTIONS)}") from None
    except (RecursionError, MemoryError):
        raise ParseError("the expression is nested too deeply to parse safely.") from None
    _check_tree_depth(tree.body)
    read_euler(tree.body, text)
    check_sizes(tree.body)
    try:
        expr = _Reader().expr(tree.body)
    except ParseError:
        raise
    except (TypeError, ValueError, NotImplementedError, ArithmeticError, RecursionError) as exc:
        # SymPy refusing what it was asked to build, e.g. a comparison it cannot decide
        raise ParseError(
            f"SymPy cannot build {text.strip()[:60]!r}: {exc}. Write a real expression "
            "with conditions on its symbols."
        ) from None
    _check_real(expr, text)
    return expr


#: Values that are not real, finite numbers; symgrad computes in float64 reals.
_NOT_REAL = (sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo)


def _check_real(value, text: str) -> None:
    """Refuse a value holding ``I``, ``zoo``, ``nan``, an infinity (``sqrt(-1)``, ``log(0)``) or
    a root of a negative number (``(-8)**(1/3)``, complex in SymPy as in Python)."""
    bad = next((atom for atom in _NOT_REAL if value.has(atom)), None)
    if bad is not None:
        what = "a complex number" if bad is sp.I else "an infinite or undefined value"
        raise ParseError(
            f"{text.strip()[:60]!r} holds {what} ({bad}), as sqrt(-1) or log(0) give; "
            "symgrad works with real, finite numbers."
        )
    root = next((p for p in value.atoms(sp.Pow) if not p.free_symbols and p.is_extended_real is False), None)
    if root is not None:
        raise ParseError(
            f"{text.strip()[:60]!r} holds the complex number {root} (a root of a negative number "
            "is complex, as in Python); symgrad works with real numbers: write a real odd root "
            "of a negative number as minus the root of its absolute value, -(8**(1/3))."
        )


def _heaviside(z, h0=None) -> sp.Expr:
    """``Heaviside`` with symgrad's ``H(0) = 0`` for one argument, and a written ``h0`` kept.

    SymPy's one-argument ``Heaviside(z)`` is ``Heaviside(z, 1/2)``: its value at a number
    ``0`` is 1/2, and an explicit second argument 1/2 cannot be told from no second
    argument. So a constant argument is evaluated with ``H(0) = 0``, and an explicit
    exact ``h0`` of 1/2 is kept as the float 0.5 (the same number, but a second argument
    every stage of symgrad then honours).
    """
    if h0 is None:
        return sp.Heaviside(z, 0) if z.is_number else sp.Heaviside(z)
    if h0 == sp.S.Half:
        h0 = sp.Float(0.5)
    return sp.Heaviside(z, h0)


def _check_size(text: str) -> None:
    """Refuse empty, too long and too deeply bracketed text before parsing it."""
    if not text.strip():
        raise ParseError("the text is empty; write an expression such as 'x**2 + 1'.")
    if len(text) > MAX_LENGTH:
        raise ParseError(
            f"the text has {len(text)} characters; at most {MAX_LENGTH} are accepted."
        )
    depth = 0
    for char in text:
        if char in "([{":
            depth += 1
            if depth > MAX_BRACKET_DEPTH:
                raise ParseError(
                    f"brackets are nested more than {MAX_BRACKET_DEPTH} deep; "
                    "simplify the expression."
                )
        elif char in ")]}":
            depth -= 1


def _check_tree_depth(root: ast.AST) -> None:
    """Refuse syntax trees deeper than ``MAX_TREE_DEPTH``, counted without recursion.

    The left operand of ``+ - * /`` does not count, so that a long flat sum such as
    ``x1 + x2 + ... + x1000`` stays shallow while a tower ``x**x**x...`` or a chain of
    unary minus signs does not.
    """
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise ParseError(
                f"the expression is nested more than {MAX_TREE_DEPTH} levels deep; "
                "simplify it."
            )
        if isinstance(node, ast.BinOp) and isinstance(
            node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)
        ):
            stack.append((node.left, depth))
            stack.append((node.right, depth + 1))
            continue
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1))


class _Reader:
    """Turns a whitelisted Python syntax tree into a SymPy expression."""

    def __init__(self):
        self.minmax_args = 0

    def expr(self, node: ast.AST) -> sp.Expr:
        """Read ``node`` as an arithmetic expression."""
        if isinstance(node, ast.Constant):
            return _number(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.expr(node.operand)
            if isinstance(node.op, ast.UAdd):
                return self.expr(node.operand)
            raise ParseError(
                f"the operator {_unary_name(node.op)!r} is not arithmetic; "
                "use + - * / ** (or ^ for powers)."
            )
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, (ast.Compare, ast.BoolOp)):
            raise ParseError(
                "comparisons and and/or/not are only allowed as conditions inside "
                "Piecewise((value, condition), ...)."
            )
        if isinstance(node, ast.Tuple):
            raise ParseError("tuples are only allowed as the (value, condition) pairs of Piecewise.")
        raise ParseError(f"not allowed in an expression: {_describe(node)}.")

    def name(self, name: str) -> sp.Expr:
        """A constant (``pi``, ``E``) or a plain symbol; function names need a call."""
        if "__" in name:
            raise ParseError(f"names with a double underscore are not allowed: {name!r}.")
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name in FUNCTIONS:
            raise ParseError(f"{name} is a function; call it, as in {name}(x).")
        return sp.Symbol(name)

    def binop(self, node: ast.BinOp) -> sp.Expr:
        """Read a chain of binary operators, its left spine without recursion."""
        op = type(node.op)
        if op in (ast.Add, ast.Sub):
            return self.chain(node, (ast.Add, ast.Sub), _sum)
        if op in (ast.Mult, ast.Div):
            return self.chain(node, (ast.Mult, ast.Div), _product)
        if op is ast.Pow:
            return _power(self.expr(node.left), self.expr(node.right))
        raise ParseError(
            f"the operator {_OPERATOR_NAMES.get(op, op.__name__)!r} is not allowed; "
            "use + - * / ** (or ^ for powers)."
        )

    def chain(self, node: ast.BinOp, ops: tuple, combine) -> sp.Expr:
        """Collect ``a op b op c ...`` (left-associative) and combine it once."""
        rights = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, ops):
            rights.append((type(node.op), node.right))
            node = node.left
        first = self.expr(node)
        items = [(None, first)] + [(op, self.expr(right)) for op, right in reversed(rights)]
        return combine(items)

    def call(self, node: ast.Call) -> sp.Expr:
        """Call a supported function with positional arguments."""
        if isinstance(node.func, ast.Constant) and isinstance(node.func.value, (int, float)):
            raise ParseError(
                f"{node.func.value!r}(...) is not a product: multiplication is written with *, "
                f"as in {node.func.value!r}*(...)."
            )
        if not isinstance(node.func, ast.Name):
            raise ParseError(
                f"only calls of named functions are allowed, not calls of {_describe(node.func)}. "
                "To multiply, write * between the factors, as in (x + 1)*(x - 1)."
            )
        name = node.func.id
        if name not in FUNCTIONS:
            if "__" in name:
                raise ParseError(f"names with a double underscore are not allowed: {name!r}.")
            raise ParseError(
                f"unknown function {name!r}; supported: {', '.join(sorted(FUNCTIONS))}. "
                f"To multiply, write {name}*(...)."
            )
        if node.keywords:
            raise ParseError(f"{name}() takes positional arguments only, not keywords.")
        function = FUNCTIONS[name]
        low, high = _ARITY.get(function, (1, 1))
        count = len(node.args)
        if count < low or (high is not None and count > high):
            wanted = f"{low}" if low == high else f"{low} to {high}" if high else f"{low} or more"
            raise ParseError(f"{name}() takes {wanted} argument(s), got {count}.")
        if function is sp.Piecewise:
            return sp.Piecewise(*[self.piece(arg) for arg in node.args])
        if function in (sp.Max, sp.Min):
            self.minmax_args += count
            if self.minmax_args > MAX_MINMAX_ARGS:
                raise ParseError(
                    f"Max/Min take at most {MAX_MINMAX_ARGS} arguments in all in one "
                    "expression (SymPy compares them pairwise)."
                )
        args = [self.expr(arg) for arg in node.args]
        if function is sp.Heaviside:
            return _heaviside(*args)
        return function(*args)

    def piece(self, node: ast.AST) -> tuple:
        """One ``(value, condition)`` pair of ``Piecewise``."""
        if not isinstance(node, ast.Tuple) or len(node.elts) != 2:
            raise ParseError(
                "each argument of Piecewise must be a (value, condition) pair, "
                "as in Piecewise((x, x > 0), (0, True))."
            )
        return self.expr(node.elts[0]), self.condition(node.elts[1])

    def condition(self, node: ast.AST):
        """A comparison (also ``Eq(a, b)``, ``Ne(a, b)``), ``True``/``False``, or their
        combination with and/or/not."""
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return sp.true if node.value else sp.false
        if isinstance(node, ast.Compare):
            terms = [self.expr(node.left)] + [self.expr(c) for c in node.comparators]
            for term in terms:
                _check_real(term, ast.unparse(node))
            parts = [
                _COMPARISONS[type(op)](a, b)
                for op, a, b in zip(node.ops, terms, terms[1:])
                if type(op) in _COMPARISONS or _refuse_comparison(op)
            ]
            return sp.And(*parts)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("Eq", "Ne"):
            if len(node.args) != 2 or node.keywords:
                raise ParseError(f"{node.func.id}() takes 2 positional arguments.")
            relation = sp.Eq if node.func.id == "Eq" else sp.Ne
            terms = [self.expr(arg) for arg in node.args]
            for term in terms:
                _check_real(term, ast.unparse(node))
            return relation(*terms)
        if isinstance(node, ast.BoolOp):
            join = sp.And if isinstance(node.op, ast.And) else sp.Or
            return join(*[self.condition(v) for v in node.values])
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            join = sp.And if isinstance(node.op, ast.BitAnd) else sp.Or
            return join(self.condition(node.left), self.condition(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
            return sp.Not(self.condition(node.operand))
        raise ParseError(
            "a Piecewise condition must be a comparison such as x > 0, True, "
            "or such conditions joined with and/or/not (& | ~)."
        )


def _number(value) -> sp.Expr:
    """An int literal as an exact Integer, a float literal as a float64 Float."""
    if isinstance(value, bool) or value is None or value is Ellipsis:
        raise ParseError(
            f"{value!r} is not a number; True/False only appear as Piecewise conditions."
        )
    if isinstance(value, int):
        number = sp.Integer(value)
        _check_bits(number)
        return number
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParseError("the number is too large for float64; write a smaller one.")
        return sp.Float(value)
    if isinstance(value, complex):
        raise ParseError("complex numbers (such as 2j) are not supported; symgrad works with reals.")
    raise ParseError(f"{type(value).__name__} literals are not allowed in an expression.")


def _sum(items) -> sp.Expr:
    terms = [term if op is not ast.Sub else -term for op, term in items]
    return _check_bits(sp.Add(*terms))


def _product(items) -> sp.Expr:
    if any(op is ast.Div and f.is_zero for op, f in items):
        raise ParseError("division by zero in the expression.")
    factors = [f if op is not ast.Div else sp.Pow(f, -1) for op, f in items]
    if sum(_bits(f) for f in factors if isinstance(f, sp.Rational)) > MAX_NUMBER_BITS:
        raise too_large()
    return sp.Mul(*factors)


def _power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    """``base**exponent``, refusing numeric powers too large to evaluate exactly."""
    if base.is_zero and exponent.is_negative:
        raise ParseError("division by zero in the expression (0 to a negative power).")
    if isinstance(base, sp.Number) and isinstance(exponent, sp.Number):
        if abs(base) not in (0, 1):
            size = abs(float(exponent))
            if isinstance(base, sp.Rational):
                size *= max(math.log2(int(abs(base.p)) or 1), math.log2(int(base.q)))
                if size > MAX_NUMBER_BITS:
                    raise too_large()
            elif size > MAX_FLOAT_EXPONENT:
                raise too_large()
    return sp.Pow(base, exponent)


def _bits(number: sp.Rational) -> int:
    return int(number.p).bit_length() + int(number.q).bit_length()


def _check_bits(expr: sp.Expr) -> sp.Expr:
    if isinstance(expr, sp.Rational) and _bits(expr) > MAX_NUMBER_BITS:
        raise too_large()
    return expr


def _refuse_comparison(op: ast.cmpop) -> bool:
    raise ParseError(
        f"the comparison {type(op).__name__} is not allowed; use < <= > >= == !=."
    )


def _unary_name(op: ast.unaryop) -> str:
    return {ast.Not: "not", ast.Invert: "~"}.get(type(op), type(op).__name__)


def _describe(node: ast.AST) -> str:
    return _DESCRIPTIONS.get(type(node), f"{type(node).__name__} constructs")
