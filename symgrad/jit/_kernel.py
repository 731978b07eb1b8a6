"""``compile``: SymPy expressions -> a Numba ``Kernel`` that broadcasts like NumPy."""

from __future__ import annotations

import itertools
import numbers
import threading

import numpy as np
import sympy as sp

from symgrad._expr import as_expr, as_symbols, unique_nodes
from symgrad.errors import InputError, OptionError, OptionTypeError, UnsupportedFunctionError
from symgrad.jit._lifted import lifted_module
from symgrad.jit._options import DEFAULT_OPTIONS, JitOptions
from symgrad.jit._pipeline import check_arguments, checked_expressions, pointwise_module

__all__ = ["Kernel", "compile", "check_arguments", "MAX_STATEMENTS"]

#: Most statements of one compiled kernel. Numba's compile time grows faster than the
#: function's length: about 20 s for 4,000 statements and 60 s for 10,000, per function.
MAX_STATEMENTS = 20_000


def _check_size(exprs, names: str) -> None:
    """Refuse, before deriving anything, expressions of more than ``MAX_STATEMENTS`` nodes."""
    nodes: set = set()
    for expr in exprs:
        nodes.update(n for n in itertools.islice(unique_nodes(expr), 2 * MAX_STATEMENTS) if not n.is_Atom)
        if len(nodes) > MAX_STATEMENTS:
            raise UnsupportedFunctionError(
                f"compile(..., [{names}]): the expression has more than {MAX_STATEMENTS:,} distinct "
                f"operations, each one statement of the kernel, and Numba's compile time grows "
                f"faster than the kernel's length (about a minute for 10,000 statements). For a "
                f"sum over data points, write one term with data symbols and use "
                f"sg.Objective(term, params=..., data=...), which loops over the samples; else "
                f"split the expression into smaller kernels."
            )

_SCALARS = {float, int, np.float64}

#: Held while a kernel's ``fill`` is compiled for float64 and closed to other signatures.
_COMPILING = threading.Lock()


def _no_fill(*args):
    """The ``fill`` of a module without one: every call goes to the checking path."""
    raise OptionTypeError("this kernel has no fill function")


def _flatten(expr):
    """Expressions in order, and the shape of one output (``()`` for a scalar)."""
    if isinstance(expr, sp.MatrixBase):
        m, n = expr.shape
        shape = (m,) if n == 1 else (m, n)
        return [as_expr(e, "expr entry") for e in expr], shape
    if isinstance(expr, (list, tuple)):
        if not expr:
            raise OptionError("compile needs at least one expression; got an empty list.")
        return [as_expr(e, f"expr[{i}]") for i, e in enumerate(expr)], (len(expr),)
    return [as_expr(expr)], ()


class Kernel:
    """A compiled function of ``args`` returning the values of one or more expressions.

    Call it with one value per symbol of ``args``: floats give a float (or an array
    of the expression's shape); arrays broadcast like NumPy and give
    ``broadcast shape + expression shape``.

    Attributes:
        args: the argument symbols, in call order.
        source: the generated Python source that Numba compiles.
        shape: the shape of one output: ``()`` scalar, ``(n,)`` list or column, ``(m, n)``.
        scalar: the compiled Numba function itself: floats in, a float or a tuple of
            floats (the outputs in order) out, with no checks: the cheapest call.
    """

    def __init__(self, exprs, args, shape, options: JitOptions = DEFAULT_OPTIONS):
        self.args = tuple(args)
        self.shape = tuple(shape)
        names = ", ".join(str(a) for a in self.args)
        what = f"compile(..., [{names}])"
        lifted = lifted_module(exprs, self.args, what, options)  # long sums: loops over tables
        if lifted is None:
            _check_size(exprs, names)
            lifted = pointwise_module(exprs, self.args, what, options)
        self._source, self._module = lifted
        self._size = len(exprs)
        self._arity = len(self.args)
        self._flat = len(self.shape) == 1
        self.scalar = self._module.scalar
        # family loops (``lifted_module``) have no fill: every call takes the checking path
        self._fill = self._first_fill if hasattr(self._module, "fill") else _no_fill

    @property
    def source(self) -> str:
        """The generated Python source text."""
        return self._source.text

    def __repr__(self) -> str:
        shape = "scalar" if not self.shape else f"shape {self.shape}"
        return f"Kernel(args={list(self.args)}, {shape}, statements={self._source.statements})"

    def _repr_html_(self) -> str:
        import html

        return f"<p><code>{html.escape(repr(self))}</code></p><pre>{html.escape(self.source)}</pre>"

    def __call__(self, *values):
        # The fast path: Numba's dispatcher tests the argument types (in C, a few
        # nanoseconds) against the one signature that fill is compiled for, all float64,
        # and refuses anything it would have to compile for. Other Python or NumPy real
        # numbers it converts to float64 as float() does; the rest (arrays, wrong counts,
        # text) is a TypeError, and the checking path below takes it over.
        out = np.empty(self._size)
        try:
            self._fill(*values, out)
        except TypeError:
            return self._checked_call(values)
        if self._flat:
            return out
        return out.reshape(self.shape) if self.shape else out.item(0)

    def _first_fill(self, *args):
        """Compile ``fill`` for float64 arguments (or load it from the disk cache), forbid
        Numba any other signature, and call it; later calls go to ``fill`` directly."""
        from numba import types

        fill = self._module.fill
        signature = (types.float64,) * self._arity + (types.float64[::1],)
        with _COMPILING:  # the module, and so fill, may be shared by kernels on other threads
            if signature not in fill.signatures:
                fill.compile(signature)
            fill.disable_compile()
        self._fill = fill
        return fill(*args)

    def _checked_call(self, values):
        """A call that is not one float per argument: checked, converted, broadcast."""
        if len(values) != len(self.args):
            names = ", ".join(str(a) for a in self.args)
            raise OptionTypeError(
                f"this kernel takes {len(self.args)} value(s), one per symbol of args ({names}); "
                f"got {len(values)}."
            )
        if set(map(type, values)) <= _SCALARS or all(
            isinstance(v, numbers.Real) and not isinstance(v, np.ndarray) for v in values
        ):
            floats = tuple(map(float, values))
            if self._fill is _no_fill:
                result = self.scalar(*floats)
                return float(result) if not self.shape else np.array(result, dtype=np.float64).reshape(self.shape)
            out = np.empty(self._size)
            self._fill(*floats, out)
            return out.reshape(self.shape) if self.shape else out.item(0)
        arrays = [_real_array(a, v) for a, v in zip(self.args, values)]
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            shapes = ", ".join(f"{s}: {a.shape}" for s, a in zip(self.args, arrays))
            raise InputError(f"the argument arrays do not broadcast together ({shapes}).") from None
        flat = [np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1) for a in arrays]
        size = int(np.prod(shape, dtype=np.int64))
        out = np.empty((size, self._size))
        if size:
            self._module.vector(*flat, out)
        return out.reshape(tuple(shape) + self.shape)


def _is_real_number(v) -> bool:
    """A number that is not complex: ``numbers.Real``, or ``Decimal`` (a ``Number`` only)."""
    return isinstance(v, numbers.Real) or (isinstance(v, numbers.Number) and not isinstance(v, numbers.Complex))


def _real_array(symbol, value) -> np.ndarray:
    """``value`` as a float64 array, or an ``InputError`` naming ``symbol``: text, ``None`` and
    complex numbers are refused (NumPy would read ``"2"`` as 2.0 and ``None`` as NaN)."""
    try:
        raw = np.asarray(value)
        if raw.dtype.kind == "O" and all(map(_is_real_number, raw.flat)):
            raw = raw.astype(np.float64)
        if raw.dtype.kind in "biuf":
            return raw.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        pass
    raise InputError(
        f"the value for {symbol} is not numeric ({type(value).__name__}): give a real number "
        "or an array of real numbers (text, None and complex numbers are refused)."
    )


def compile(expr, args, *, options: JitOptions = DEFAULT_OPTIONS) -> Kernel:
    """Compile an expression (a list of them, or a matrix) of ``args`` with Numba.

    Args:
        expr: a scalar SymPy expression, a list of expressions, or a ``sympy.Matrix``.
        args: the symbols, in call order; every free symbol of ``expr`` must be one.
        options: Numba settings (see :class:`symgrad.jit.JitOptions`).

    Returns:
        A :class:`Kernel`.

    Raises:
        MissingSymbolError: a symbol of ``expr`` is not in ``args`` (named).
        UnsupportedFunctionError: a function with no float64 translation (named).

    Example:
        >>> import sympy as sp, symgrad as sg
        >>> x, y = sp.symbols("x y")
        >>> k = sg.compile(x**2 * sp.sin(y), [x, y])
        >>> round(k(2.0, 0.5), 12)
        1.917702154417
        >>> k([1.0, 2.0], 0.0).tolist()
        [0.0, 0.0]
    """
    exprs, shape = _flatten(expr)
    args = as_symbols(args, "args")
    exprs = checked_expressions(exprs, args, "symgrad.compile")
    return Kernel(exprs, args, shape, options)
