"""``compile``: SymPy expressions -> a Numba ``Kernel`` that broadcasts like NumPy."""

from __future__ import annotations

import itertools
import numbers

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
#: Argument types the compiled function takes as they are (its signature is float64 each).
_FLOATS = {float, np.float64}


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
        self.scalar = self._module.scalar

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
        if len(values) == self._arity and _FLOATS.issuperset(map(type, values)):  # floats: no conversion
            result = self.scalar(*values)
            if not self.shape:
                return float(result)
            if self._size > 1 and len(self.shape) == 1:
                return np.array(result)  # a tuple of floats: already the shape
            return np.array(result, dtype=np.float64).reshape(self.shape)  # (1,) for one output too
        if len(values) != len(self.args):
            names = ", ".join(str(a) for a in self.args)
            raise OptionTypeError(
                f"this kernel takes {len(self.args)} value(s), one per symbol of args ({names}); "
                f"got {len(values)}."
            )
        if set(map(type, values)) <= _SCALARS or all(
            isinstance(v, numbers.Real) and not isinstance(v, np.ndarray) for v in values
        ):
            result = self.scalar(*map(float, values))
            return float(result) if not self.shape else np.array(result).reshape(self.shape)
        arrays = []
        for a, v in zip(self.args, values):
            try:
                arr = np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError):
                raise InputError(
                    f"the value for {a} is not numeric ({type(v).__name__}); give a float or an array of floats."
                ) from None
            arrays.append(arr)
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
