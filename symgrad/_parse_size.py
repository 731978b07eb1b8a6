"""Bounds on the numbers SymPy could compute from a parsed text, before it computes any.

SymPy evaluates as it builds: ``(2*x)**n`` becomes ``2**n*x**n``, ``exp(n*log(2))``
becomes ``2**n``, ``(a*x)**2`` squared again and again doubles the digits of ``a``
each time. A few characters of text can so ask for an integer with more digits than
there are atoms in the universe. :func:`check_sizes` walks the syntax tree once,
bottom up and without recursion, and bounds for every node

- ``num``, ``den``: log2 of the numerator and denominator of any exact rational
  that SymPy could compute from the node (``log2 |p|``, ``log2 q``);
- ``up``, ``down``: log2 of ``|v|`` and ``1/|v|`` for any number ``v`` (exact or
  float) the node could evaluate to, used when the node is an exponent;

by rules that hold whatever SymPy simplifies (symbols only ever turn into numbers by
cancelling, and then into numbers built from the literals around them):

- ``a*b``: ``num = num_a + num_b`` (``a/b`` adds ``den_b`` instead), ``den`` likewise;
- ``a_1 + ... + a_n``: ``den = sum den_i``, ``num = max num_i + den + log2 n``;
- ``b**e`` with ``|e| <= E = 2**up_e``: ``num, den <= E*max(num_b, den_b)``, or for
  an integer literal ``e``, ``num = E*num_b`` and ``den = E*den_b`` (swapped if ``e < 0``);
- ``exp(a)`` (also ``E**a``, ``sinh``, ``cosh``, ``tanh``) is exact only when ``a``
  holds a ``log`` (``exp(c*log(k)) = k**c``); then ``|exp(a)| <= e**|a|`` bounds it;
- ``log(a)`` is at most ``ln 2**up_a`` in size.

A node whose exact numbers would exceed ``MAX_NUMBER_BITS`` bits, or a float power
with an exponent above ``MAX_FLOAT_EXPONENT``, is refused with a ``ParseError``.
"""

from __future__ import annotations

import ast
import math
from typing import NamedTuple

from symgrad._functions import FUNCTION_TABLE
from symgrad.errors import ParseError

__all__ = ["MAX_NUMBER_BITS", "MAX_FLOAT_EXPONENT", "check_sizes"]

MAX_NUMBER_BITS = 3_400  # about 1,000 decimal digits
MAX_FLOAT_EXPONENT = 10**6

_LOG2_E = 1 / math.log(2)
_FLOAT_CANCEL = 60.0  # bits a float sum can lose by cancellation (53 and some margin)


def _names(growth: str) -> set:
    """The parser's names of the functions of ``symgrad._functions`` that grow so."""
    rows = [row for row in FUNCTION_TABLE.values() if row.growth == growth]
    return {row.name for row in rows} | {alias for row in rows for alias in row.aliases}


_EXPONENTIAL = _names("exponential") | {"sigmoid", "softplus"}
_LOGARITHMIC = _names("logarithmic")
_BOUNDED = _names("bounded")
_TRIGONOMETRIC = _names("trigonometric")
#: gamma(n) is (n - 1)!, exact: about n·log2(n) bits
_FACTORIAL = _names("factorial")


class _Size(NamedTuple):
    num: float = 0.0
    den: float = 0.0
    up: float = 0.0
    down: float = 0.0
    floats: bool = False
    logs: bool = False


_ZERO = _Size()


def check_sizes(root: ast.AST) -> None:
    """Refuse ``root`` if SymPy could be made to compute a number too large from it."""
    sizes: dict[int, _Size] = {}
    stack = [(root, False)]
    while stack:
        node, ready = stack.pop()
        children = _children(node)
        if not ready:
            stack.append((node, True))
            stack.extend((child, False) for child in children)
            continue
        size = _size(node, [sizes.pop(id(child)) for child in children])
        if size.num + size.den > MAX_NUMBER_BITS:
            raise too_large()
        sizes[id(node)] = size


def too_large() -> ParseError:
    """The error for a number over ``MAX_NUMBER_BITS`` bits."""
    return ParseError(
        f"a number in the expression would have more than {MAX_NUMBER_BITS} bits "
        "(about 1,000 digits); symgrad computes in float64, write a smaller one."
    )


def _children(node: ast.AST) -> list:
    if _is_sum(node):  # a chain a + b - c ...: its operands, as one flat sum
        operands = []
        while _is_sum(node):
            operands.append(node.right)
            node = node.left
        operands.append(node)
        return operands
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    if isinstance(node, ast.Compare):
        return [node.left, *node.comparators]
    if isinstance(node, ast.BoolOp):
        return list(node.values)
    if isinstance(node, ast.Tuple):
        return list(node.elts)
    return []  # leaves, and constructs the reader refuses


def _is_sum(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub))


def _size(node: ast.AST, args: list) -> _Size:
    if isinstance(node, ast.Constant):
        return _constant(node.value)
    if isinstance(node, ast.Name):
        return _Size(up=2.0) if node.id in ("pi", "E") else _ZERO
    if _is_sum(node):
        return _sum(args)
    if isinstance(node, ast.BinOp):
        a, b = args
        if isinstance(node.op, ast.Mult):
            return _product(a, b)
        if isinstance(node.op, ast.Div):
            return _product(a, _Size(b.den, b.num, b.down, b.up, b.floats, b.logs))
        if isinstance(node.op, ast.Pow):
            if isinstance(node.left, ast.Name) and node.left.id == "E":
                return _exponential(b)
            return _power(a, b, _sign(node.right))
    if isinstance(node, ast.UnaryOp) and args:
        return args[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and args:
        return _function(node.func.id, args)
    return _join(args)


def _constant(value) -> _Size:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _ZERO
    if isinstance(value, int):
        bits = _log2(abs(value))
        return _Size(num=bits, up=bits)
    if value == 0 or not math.isfinite(value):
        return _Size(floats=True)
    magnitude = math.log2(abs(value))
    return _Size(up=max(magnitude, 0.0) + 1, down=max(-magnitude, 0.0) + 1, floats=True)


def _log2(n: int) -> float:
    """log2 of a non-negative integer, exact enough for any size (0 for 0 and 1)."""
    if n <= 1:
        return 0.0
    shift = max(n.bit_length() - 64, 0)
    return math.log2(n >> shift) + shift


def _sum(terms: list) -> _Size:
    count = math.log2(len(terms))
    den = sum(t.den for t in terms)
    floats = any(t.floats for t in terms)
    up = max(t.up for t in terms) + count
    down = den + (up + max(t.down for t in terms) + _FLOAT_CANCEL if floats else 0.0)
    return _Size(max(t.num for t in terms) + den + count, den, up, down, floats, any(t.logs for t in terms))


def _product(a: _Size, b: _Size) -> _Size:
    return _Size(a.num + b.num, a.den + b.den, a.up + b.up, a.down + b.down,
                 a.floats or b.floats, a.logs or b.logs)


def _sign(node: ast.AST) -> int:
    """+1 or -1 for an exponent that is an integer literal or its negation, else 0."""
    sign = 1
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    literal = isinstance(node, ast.Constant) and isinstance(node.value, int)
    return sign if literal and not isinstance(node.value, bool) else 0


def _power(base: _Size, exponent: _Size, sign: int) -> _Size:
    times = _exp2(exponent.up)
    if base.floats and times > MAX_FLOAT_EXPONENT:
        raise ParseError(
            f"a power of a decimal number with an exponent that may reach {_describe(times)} "
            f"(at most {MAX_FLOAT_EXPONENT:,} is accepted); write a smaller exponent."
        )
    if sign:  # a literal exponent: numerator and denominator powered (swapped if negative)
        num, den = (base.num, base.den) if sign > 0 else (base.den, base.num)
        num, den = _scale(num, times), _scale(den, times)
    else:
        num = den = _scale(max(base.num, base.den), times)
    value = _scale(max(base.up, base.down), times)
    return _Size(num, den, value, value, base.floats or exponent.floats, base.logs or exponent.logs)


def _exponential(arg: _Size) -> _Size:
    """``exp(arg)``: at most ``e**|arg|`` either way; exact only through a ``log``."""
    value = _exp2(arg.up) * _LOG2_E
    exact = value if arg.logs else 0.0
    return _Size(arg.num + exact, arg.den + exact, value, value, arg.floats, arg.logs)


def _function(name: str, args: list) -> _Size:
    if name in _EXPONENTIAL:
        return _exponential(_join(args))
    joined = _join(args)
    if name in _LOGARITHMIC:
        value = math.log2(max(joined.up, joined.down, 1.0)) + 1
        down = value + (joined.down + _FLOAT_CANCEL if joined.floats else 0.0)
        return joined._replace(up=value, down=down, logs=True)
    if name in _FACTORIAL:  # gamma(n) = (n - 1)!, polygamma(n, 1) = (-1)^(n+1) n! zeta(n + 1)
        bits = _exp2(max(joined.up, joined.num)) * max(joined.up, joined.num, 1.0)
        return joined._replace(num=joined.num + bits, den=joined.den + bits, up=bits, down=bits)
    if name in _BOUNDED:
        return joined._replace(up=2.0)
    if name in _TRIGONOMETRIC:  # exact values such as tan(pi/12) = 2 - sqrt(3)
        value = joined.num + joined.den + joined.up + joined.down + 2
        return joined._replace(up=value, down=value)
    return joined  # sqrt, Abs, Max, Min, Piecewise: no number larger than their arguments'


def _join(args: list) -> _Size:
    """Arguments that SymPy may combine, but neither multiplies nor raises to powers."""
    if not args:
        return _ZERO
    return _Size(
        sum(a.num for a in args), sum(a.den for a in args),
        max(a.up for a in args), max(a.down for a in args),
        any(a.floats for a in args), any(a.logs for a in args),
    )


def _exp2(bits: float) -> float:
    return math.inf if bits > 1000 else 2.0**bits


def _scale(bits: float, times: float) -> float:
    return 0.0 if bits == 0 else bits * times


def _describe(number: float) -> str:
    return "more than 10**300" if math.isinf(number) else f"{number:.3g}"
