"""The one node type of the tape, its operators, and the one topological backward."""

from __future__ import annotations

import numpy as np

from symgrad.autograd._rules import FORWARD, VJP_RULES
from symgrad.errors import InputError, UnsupportedFunctionError

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
            if node._op is None:
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
    def exp(self): return apply("exp", self)  # noqa: E704
    def log(self): return apply("log", self)  # noqa: E704
    def sin(self): return apply("sin", self)  # noqa: E704
    def cos(self): return apply("cos", self)  # noqa: E704
    def tan(self): return apply("tan", self)  # noqa: E704
    def asin(self): return apply("asin", self)  # noqa: E704
    def acos(self): return apply("acos", self)  # noqa: E704
    def atan(self): return apply("atan", self)  # noqa: E704
    def sinh(self): return apply("sinh", self)  # noqa: E704
    def cosh(self): return apply("cosh", self)  # noqa: E704
    def tanh(self): return apply("tanh", self)  # noqa: E704
    def asinh(self): return apply("asinh", self)  # noqa: E704
    def acosh(self): return apply("acosh", self)  # noqa: E704
    def atanh(self): return apply("atanh", self)  # noqa: E704
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
