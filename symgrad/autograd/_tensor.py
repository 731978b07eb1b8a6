"""The one node type of the tape, its operators, and the one topological backward."""

from __future__ import annotations

import inspect

import numpy as np
import sympy as sp

from symgrad._functions import ELEMENTARY
from symgrad.autograd._rules import FLAT, FORWARD, VJP_RULES
from symgrad.errors import InputError, OptionTypeError, UnsupportedFunctionError

__all__ = ["Tensor", "apply", "unbroadcast"]


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` down to ``shape``: the adjoint of NumPy broadcasting ``shape`` to ``g.shape``.

    >>> unbroadcast(np.ones((4, 3)), (3,))
    array([4., 4., 4.])
    >>> unbroadcast(np.ones((4, 3)), (4, 1)).ravel()
    array([3., 3., 3., 3.])
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if ones:
        g = g.sum(axis=ones, keepdims=True)
    return g.reshape(shape)


def _as_tensor(value) -> "Tensor":
    return value if isinstance(value, Tensor) else Tensor(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.floating, np.integer))


# -- the methods of the function table ------------------------------------------------
def _argument_names(row) -> tuple:
    """A row's arguments as its docstring names them: ``u`` alone, else SymPy's own names
    in SymPy's order (``atan2(y, x)``, ``polygamma(n, z)``)."""
    count = len(row.vjp)
    if count == 1:
        return ("u",)
    names = [p.name for p in inspect.signature(row.sympy.eval).parameters.values()
             if p.kind is p.POSITIONAL_OR_KEYWORD]
    return tuple(names[:count]) if len(names) >= count else tuple(f"u{i}" for i in range(count))


def _domain_text(row, count: int) -> list:
    """The reasons the row's domain rule gives (read from a probe), the longer of two that
    say the same."""
    if row.domain is None:
        return []
    errors, singular = row.domain(*([np.zeros(1)] * count))
    reasons = list(dict.fromkeys(reason for _, reason in errors + singular))
    return [r for r in reasons if not any(r != other and r in other for other in reasons)]


def _zeros_text(z) -> str:
    """Where ``z`` is 0, in words: ``y = 0 where x < 0`` for a Piecewise."""
    if not isinstance(z, sp.Piecewise):
        return f"{z} = 0"
    parts = [f"{e} = 0" + ("" if c is sp.true else f" where {c}")
             for e, c in z.args if not (e.is_number and e != 0)]
    return " or ".join(parts)


def _derivative_text(row, symbols) -> str:
    if row.explain is not None:
        return row.explain[1]
    if row.derivative is None:
        return ""
    call = f"{row.name}({', '.join(map(str, symbols))})"
    return ", ".join(f"∂{call}/∂{s} = {d}" for s, d in zip(symbols, row.derivative(*symbols)))


def _table_docstring(row, names: tuple) -> str:
    """The docstring of a row's method, from the row alone."""
    position, symbols = row.argument, sp.symbols(names)
    others = names[:position] + names[position + 1:]
    call = f"{row.name}({', '.join(names)})"
    form = f"{names[position]}.{row.name}({', '.join(others)})"
    if others:
        lines = [f"``{form}`` is SymPy's ``{call}`` entry by entry, this tensor as "
                 f"``{names[position]}``; ``{', '.join(others)}`` a tensor, array or number, "
                 "broadcast like NumPy."]
    else:
        lines = [f"``{form}`` is SymPy's ``{call}`` of every entry."]
    derivative = _derivative_text(row, symbols)
    if derivative:
        lines += ["", f"Derivative: {derivative}."]
    domain = _domain_text(row, len(names))
    if domain:
        lines += ["", "Domain: " + "; ".join(domain) + "."]
    if row.kink is not None:
        where = _zeros_text(row.kink(*symbols))
        lines += ["", f"Its gradient is 0 everywhere, also at its jumps ({where})." if row.flat else
                  f"It jumps or has a kink at {where}; there the gradient is the one of the "
                  "side the function takes (``check_gradient`` reports such points)."]
    lines += ["", f"The tape records the primitive ``{row.name!r}``, the row's ``forward`` and "
              "``vjp`` (``symgrad._functions``)."]
    return "\n".join(lines)


def _table_method(row):
    """The ``Tensor`` method of one row: the tensor is the argument ``row.argument`` (the
    one domain messages show), the others follow in SymPy's order."""
    name, position, names = row.name, row.argument, _argument_names(row)
    others = names[:position] + names[position + 1:]
    if not others:
        def method(self):
            return apply(name, self)
    else:
        signature = inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                       for n in ("self",) + others])

        def method(self, *args, **named):
            try:
                bound = signature.bind(self, *args, **named)
            except TypeError as exc:
                raise OptionTypeError(
                    f"Tensor.{name} takes {', '.join(others)} besides the tensor: {exc}."
                ) from None
            values = [bound.arguments[n] for n in others]
            values.insert(position, self)
            return apply(name, *values)

        method.__signature__ = signature
    method.__name__, method.__qualname__ = name, f"Tensor.{name}"
    method.__doc__ = _table_docstring(row, names)
    return method


def _with_table_functions(cls):
    """Give ``cls`` one method per elementary row of the function table (a method written
    in the class is kept): a new row gets its method with no other edit.

    >>> y, x = Tensor([1.0, -1.0], requires_grad=True), Tensor(1.0)
    >>> y.atan2(x).data  # atan2(y, x)
    array([ 0.78539816, -0.78539816])
    >>> round(Tensor(1.0).polygamma(1).item(), 12)  # polygamma(1, 1) = pi^2/6
    1.644934066848
    """
    for row in ELEMENTARY:
        if row.name not in vars(cls):
            setattr(cls, row.name, _table_method(row))
    return cls


@_with_table_functions
class Tensor:
    """A float64 array on the tape, with a gradient filled in by :meth:`backward`.

    For a scalar ``L`` built from tensors ``x``, ``L.backward()`` adds ``∂L/∂x`` to
    ``x.grad`` for every ``x`` created with ``requires_grad=True`` (and every
    intermediate tensor that depends on one). Gradients accumulate over calls, as in
    PyTorch; :meth:`zero_grad` resets them.

    Args:
        data: a number or array-like, stored as a float64 ``ndarray``.
        requires_grad: whether gradients flow into this tensor.

    Example:
        >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        array([2., 4., 6.])
    """

    __slots__ = ("data", "grad", "requires_grad", "_op", "_parents", "_params")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to the Tensor's reflected method

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        try:
            self.data = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"Tensor needs numbers (a float or an array of floats), got "
                f"{type(data).__name__}: {exc}"
            ) from None
        self.requires_grad = bool(requires_grad)
        self.grad = np.zeros_like(self.data) if self.requires_grad else None
        self._op = None
        self._parents = ()
        self._params = {}

    # -- basics -----------------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="Shape of ``data``.")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions of ``data``.")
    size = property(lambda self: self.data.size, doc="Number of entries of ``data``.")

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        op = f", op={self._op}" if self._op else ""
        return f"Tensor({np.array2string(self.data, precision=6, threshold=8)}{grad}{op})"

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        """The value of a one-entry tensor as a Python float."""
        return float(self.data.item())

    def numpy(self) -> np.ndarray:
        """The data array (not a copy)."""
        return self.data

    def zero_grad(self) -> None:
        """Reset the accumulated gradient to zeros."""
        self.grad = np.zeros_like(self.data) if self.requires_grad else None

    # -- backward ----------------------------------------------------------------
    def backward(self, gradient=None) -> None:
        """Back-propagate ``gradient`` (default 1 for a one-entry tensor) through the tape.

        Raises:
            InputError: without ``gradient`` on a tensor of more than one entry, or
                with a ``gradient`` whose shape differs from ``data``'s.
            UnsupportedFunctionError: when the tape holds a primitive with no rule.
        """
        if gradient is None:
            if self.data.size != 1:
                raise InputError(
                    f"backward() without a seed needs a one-entry tensor, this one has shape "
                    f"{self.data.shape}; call .sum() first or pass backward(gradient)."
                )
            seed = np.ones_like(self.data)
        else:
            seed = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient,
                              dtype=np.float64)
            if seed.shape != self.data.shape:
                raise InputError(
                    f"backward(gradient) needs a gradient of shape {self.data.shape}, "
                    f"got {seed.shape}."
                )
        grads = {id(self): seed}
        # IEEE arithmetic inside the pass, no warnings: an infinite adjoint (sqrt at 0)
        # times a zero slope is NaN in an intermediate that a zero local derivative
        # further down absorbs (sqrt(x*sign(p)) at x = 0: d/dp = 0 through sign' = 0);
        # a NaN that reaches a gradient is the caller's to see
        with np.errstate(all="ignore"):
            self._reverse(grads)

    def _reverse(self, grads):
        for node in reversed(_topological_order(self)):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            node.grad = g if node.grad is None else node.grad + g
            if node._op is None or node._op in FLAT:  # a step passes nothing back
                continue
            rules = VJP_RULES.get(node._op)
            if rules is None:
                raise UnsupportedFunctionError(
                    f"autograd has no vector-Jacobian rule for the primitive {node._op!r}; "
                    "add one to symgrad.autograd._rules.VJP_RULES."
                )
            args = [p.data for p in node._parents]
            for parent, vjp in zip(node._parents, rules):
                if not parent.requires_grad:
                    continue
                gp = unbroadcast(np.asarray(vjp(g, node.data, *args, **node._params)),
                                 parent.data.shape)
                key = id(parent)
                grads[key] = gp if key not in grads else grads[key] + gp

    # -- arithmetic ----------------------------------------------------------------
    def __add__(self, other):
        return apply("add", self, other)

    def __radd__(self, other):
        return apply("add", other, self)

    def __sub__(self, other):
        return apply("sub", self, other)

    def __rsub__(self, other):
        return apply("sub", other, self)

    def __mul__(self, other):
        return apply("mul", self, other)

    def __rmul__(self, other):
        return apply("mul", other, self)

    def __truediv__(self, other):
        return apply("div", self, other)

    def __rtruediv__(self, other):
        return apply("div", other, self)

    def __pow__(self, other):
        return apply("pow", self, other)

    def __rpow__(self, other):
        return apply("pow", other, self)

    def __matmul__(self, other):
        return _matmul(self, _as_tensor(other))

    def __rmatmul__(self, other):
        return _matmul(_as_tensor(other), self)

    def __neg__(self):
        return apply("neg", self)

    def __pos__(self):
        return self

    # -- elementwise functions ---------------------------------------------------
    # exp, log, sin, ..., erf, gamma, atan2, floor: one method per row of the function
    # table, added by _with_table_functions below; the others are tape primitives only
    def sqrt(self): return apply("sqrt", self)  # noqa: E704
    def abs(self): return apply("abs", self)  # noqa: E704
    def sign(self): return apply("sign", self)  # noqa: E704
    def relu(self): return apply("relu", self)  # noqa: E704
    def sigmoid(self): return apply("sigmoid", self)  # noqa: E704

    def heaviside(self, h0: float = 0.0):
        """The step ``H(z)``: 1 for ``z > 0``, 0 for ``z < 0``, ``h0`` at 0; flat gradient."""
        return apply("heaviside", self, h0=float(h0))

    def maximum(self, other):
        """Elementwise larger value; at a tie each side gets half the gradient, except
        against a plain number, which takes it all (``x.maximum(0)`` is relu: slope 0 at 0)."""
        return apply("maximum_step" if _is_number(other) else "maximum", self, other)

    def minimum(self, other):
        """Elementwise smaller value; ties as :meth:`maximum`."""
        return apply("minimum_step" if _is_number(other) else "minimum", self, other)

    # -- reductions and shapes ---------------------------------------------------
    def sum(self, axis=None):
        """Sum over ``axis`` (all entries by default)."""
        return apply("sum", self, axis=_axis(axis))

    def mean(self, axis=None):
        """Mean over ``axis`` (all entries by default)."""
        return apply("mean", self, axis=_axis(axis))

    def reshape(self, *shape):
        """The same entries in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply("reshape", self, shape=tuple(shape))

    def transpose(self, *axes):
        """Reverse the axes, or permute them as given."""
        axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return apply("transpose", self, axes=axes or None)

    @property
    def T(self):
        """The transpose."""
        return self.transpose()


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _matmul(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim not in (1, 2) or b.ndim not in (1, 2):
        raise InputError(
            f"@ takes 1-D or 2-D tensors, got shapes {a.shape} and {b.shape}; "
            "reshape them first."
        )
    if a.shape[-1] != b.shape[0]:
        raise InputError(
            f"@ needs the last axis of the left operand to match the first of the right: "
            f"got shapes {a.shape} and {b.shape}."
        )
    return apply("matmul", a, b)


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b``; gradient flows to the selected side only.

    >>> where(np.array([True, False]), Tensor([1.0, 2.0]), 0.0).data
    array([1., 0.])
    """
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    return apply("where", a, b, cond=cond)


def apply(name: str, *inputs, **params) -> Tensor:
    """Run the primitive ``name`` forward on ``inputs`` and record it on the tape.

    Raises:
        UnsupportedFunctionError: when ``name`` is not a known primitive.
    """
    forward = FORWARD.get(name)
    if forward is None:
        raise UnsupportedFunctionError(
            f"autograd has no primitive {name!r}; known: {', '.join(sorted(FORWARD))}."
        )
    tensors = tuple(_as_tensor(t) for t in inputs)
    out = Tensor.__new__(Tensor)
    out.data = np.asarray(forward(*(t.data for t in tensors), **params), dtype=np.float64)
    out.requires_grad = any(t.requires_grad for t in tensors)
    out.grad = None
    if out.requires_grad:
        out._op, out._parents, out._params = name, tensors, params
    else:
        out._op, out._parents, out._params = None, (), {}
    return out


def _topological_order(root: Tensor) -> list:
    """Nodes reachable from ``root``, every node after all of its parents (iterative DFS)."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in seen:
                stack.append((parent, False))
    return order
