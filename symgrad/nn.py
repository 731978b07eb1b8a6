"""Neural-network building blocks that return SymPy expressions.

Activations map one expression to one expression; layers map a list (or a grid) of
input expressions to output expressions plus the list of new parameter symbols.

Parameter naming (so that layers with different names never clash): a layer named
``name`` calls its weight ``W[j, i]`` the symbol ``{name}_{j}_{i}`` and its bias
``b[j]`` the symbol ``{name}_b_{j}``; a convolution kernel entry is ``{name}_{r}_{c}``
(or ``{name}_{k}`` in 1-D) and its bias ``{name}_b``. A name must be an identifier
that does not end in ``_<digits>``, which makes every parameter name decode to one
layer only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import sympy as sp

from symgrad._expr import as_expr, shift_by_max, stable_log1p_exp
from symgrad.errors import ExpressionTypeError, OptionError, OptionTypeError

__all__ = [
    "relu",
    "sigmoid",
    "tanh",
    "softplus",
    "softmax",
    "log_softmax",
    "dense",
    "conv1d",
    "conv2d",
    "flatten",
    "max_pool2d",
]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_INDEX_SUFFIX = re.compile(r"_\d+$")


def relu(z) -> sp.Expr:
    """Rectified linear unit.

    ``z``: ``z``. ``relu(z) = max(0, z)``; by symgrad's convention ``relu'(0) = 0``.

    Args:
        z: a SymPy expression.

    Returns:
        ``sympy.Max(0, z)``.

    Example:
        >>> import sympy as sp
        >>> relu(sp.Symbol("z"))
        Max(0, z)
    """
    z = as_expr(z, "z")
    if z.is_Number:
        return sp.Max(0, z)
    # Evaluating Max asks SymPy to compare 0 with z, which is slow for a long sum
    # (a dense layer's pre-activation) and decides nothing more for a symbolic z.
    return sp.Max(0, z, evaluate=False)


def sigmoid(z) -> sp.Expr:
    """Logistic sigmoid, ``sigma(z) = 1 / (1 + exp(-z))``.

    Written as the textbook writes it, so that its derivative reads
    ``exp(-z) / (1 + exp(-z))**2``. In float64 that quotient is ``inf / inf`` below
    ``z = -709``, where ``exp(-z)`` overflows: a gradient there is NaN (the true
    value is below 1e-308). A unit driven that far is saturated; for a probability
    fed to a loss use :func:`symgrad.losses.binary_cross_entropy_with_logits` on ``z``,
    which is finite for every finite ``z``.

    Example:
        >>> import sympy as sp
        >>> sigmoid(sp.Symbol("z"))
        1/(1 + exp(-z))
    """
    return 1 / (1 + sp.exp(-as_expr(z, "z")))


def tanh(z) -> sp.Expr:
    """Hyperbolic tangent, ``tanh(z)``.

    Example:
        >>> import sympy as sp
        >>> tanh(sp.Symbol("z"))
        tanh(z)
    """
    z = as_expr(z, "z")
    if z.is_Add and not z.could_extract_minus_sign():
        # Evaluating tanh asks SymPy whether the sum is zero, which for a dense layer's
        # pre-activation over earlier tanh layers costs most of building the network
        # (0.9 of 1.0 s for a 64-32-1 net) and decides nothing for a symbolic sum.
        return sp.tanh(z, evaluate=False)
    return sp.tanh(z)


def softplus(z) -> sp.Expr:
    """Softplus, ``log(1 + exp(z))``, written so that it never overflows and has exact derivatives.

    With ``m = max(z, 0)``, ``log(1 + exp(z)) = m + log(exp(-m) + exp(z - m))``: both
    exponents are at most 0 and one of them is 0, so float64 evaluation stays finite
    for any finite ``z``. The right-hand side does not depend on ``m`` at all (its
    derivative with respect to ``m`` is identically zero), so the convention chosen
    for ``max`` at ``z = 0`` drops out of every derivative: ``softplus'(0) = 1/2`` and
    ``softplus''(0) = 1/4``, as for the smooth function. (The form
    ``max(z, 0) + log(1 + exp(-|z|))`` would give 0 for both, from the kink
    conventions of ``max`` and ``|z|``.)

    Example:
        >>> import sympy as sp
        >>> softplus(sp.Symbol("z"))
        log(exp(z - Max(0, z)) + exp(-Max(0, z))) + Max(0, z)
    """
    z = as_expr(z, "z")
    return stable_log1p_exp(z)


def softmax(zs) -> list[sp.Expr]:
    """Softmax of a list, with the maximum subtracted so that ``exp`` never overflows.

    ``z_i``: ``zs[i]``, ``m = max_j z_j``.
    ``softmax(z)_i = exp(z_i - m) / sum_j exp(z_j - m)`` (equal to ``exp(z_i) / sum_j exp(z_j)``).

    Args:
        zs: a non-empty sequence of SymPy expressions.

    Returns:
        A list of ``len(zs)`` expressions that sum to one.

    Raises:
        ValueError: if ``zs`` is empty.
        TypeError: if an entry is not a SymPy expression.

    Example:
        >>> import sympy as sp
        >>> a, b = sp.symbols("a b")
        >>> sp.simplify(sum(softmax([a, b])))
        1
    """
    zs = _expressions(zs, "zs")
    shifted = _shift_by_max(zs)
    exps = [sp.exp(s, evaluate=False) for s in shifted]
    total = sp.Add(*exps)
    return [e / total for e in exps]


def log_softmax(zs) -> list[sp.Expr]:
    """Logarithm of the softmax, ``z_i - m - log(sum_j exp(z_j - m))`` with ``m = max_j z_j``.

    Example:
        >>> import sympy as sp
        >>> a = sp.Symbol("a")
        >>> log_softmax([a])
        [0]
    """
    zs = _expressions(zs, "zs")
    if len(zs) == 1:
        return [sp.Integer(0)]  # log 1
    shifted = _shift_by_max(zs)
    log_total = sp.log(sp.Add(*[sp.exp(s, evaluate=False) for s in shifted]), evaluate=False)
    return [sp.Add(s, sp.Mul(-1, log_total), evaluate=False) for s in shifted]


def dense(inputs, n_out: int, activation: Callable | None = None, name: str = "W"):
    """A fully connected layer.

    ``x_i``: ``inputs[i]``; ``W[j, i]``: symbol ``{name}_{j}_{i}``; ``b[j]``: symbol
    ``{name}_b_{j}``; ``f``: ``activation`` (the identity when ``None``).
    ``y_j = f(sum_i W[j, i] * x_i + b[j])`` for ``j < n_out``.

    Args:
        inputs: a non-empty sequence of SymPy expressions.
        n_out: number of outputs, a positive int.
        activation: a callable on one expression (such as :func:`relu`) or ``None``.
        name: the layer's name, from which its parameters are named.

    Returns:
        ``(outputs, params)``: the ``n_out`` output expressions, and the new symbols,
        weights row by row (``W[0, 0], W[0, 1], ...``) then the biases.

    Raises:
        ValueError: for an empty ``inputs``, a bad ``n_out`` or ``name``.
        TypeError: for a non-callable ``activation`` or an input that is not an expression.

    Example:
        >>> import sympy as sp
        >>> x = sp.symbols("x0:2")
        >>> outputs, params = dense(x, 1, activation=relu, name="L")
        >>> outputs
        [Max(0, L_0_0*x0 + L_0_1*x1 + L_b_0)]
        >>> params
        [L_0_0, L_0_1, L_b_0]
    """
    inputs = _expressions(inputs, "inputs")
    n_out = _positive_int(n_out, "n_out")
    activation = _activation(activation)
    name = _layer_name(name)
    weights = [[sp.Symbol(f"{name}_{j}_{i}") for i in range(len(inputs))] for j in range(n_out)]
    biases = [sp.Symbol(f"{name}_b_{j}") for j in range(n_out)]
    outputs = []
    for row, bias in zip(weights, biases):
        pre = sp.Add(*[_times(w, x) for w, x in zip(row, inputs)], bias)
        outputs.append(activation(pre))
    params = [w for row in weights for w in row] + biases
    return outputs, params


def conv1d(inputs, kernel_size: int, stride: int = 1, padding: int = 0,
           activation: Callable | None = None, name: str = "K"):
    """A one-channel 1-D convolution (cross-correlation, as in deep-learning libraries).

    ``x``: ``inputs`` padded with ``padding`` zeros on each side; ``K[k]``: symbol
    ``{name}_{k}``; ``b``: symbol ``{name}_b``; ``s``: ``stride``.
    ``y_t = f(sum_k K[k] * x[t*s + k] + b)``, for ``t < (n + 2*padding - kernel_size)//s + 1``.

    Returns:
        ``(outputs, params)``: the output list and ``[K[0], ..., K[kernel_size-1], b]``.

    Raises:
        ValueError: when the kernel is longer than the padded input, or for bad sizes.

    Example:
        >>> import sympy as sp
        >>> outputs, params = conv1d(sp.symbols("x0:3"), 2)
        >>> outputs
        [K_0*x0 + K_1*x1 + K_b, K_0*x1 + K_1*x2 + K_b]
    """
    inputs = _expressions(inputs, "inputs")
    size = _positive_int(kernel_size, "kernel_size")
    stride = _positive_int(stride, "stride")
    padding = _non_negative_int(padding, "padding")
    activation = _activation(activation)
    name = _layer_name(name)
    n = len(inputs)
    n_out = _output_length(n, size, stride, padding, "kernel_size", "inputs")
    kernel = [sp.Symbol(f"{name}_{k}") for k in range(size)]
    bias = sp.Symbol(f"{name}_b")
    outputs = []
    for t in range(n_out):
        start = t * stride - padding
        terms = [_times(kernel[k], inputs[start + k]) for k in range(size) if 0 <= start + k < n]
        outputs.append(activation(sp.Add(*terms, bias)))
    return outputs, kernel + [bias]


def conv2d(grid, kernel_shape, stride: int = 1, padding: int = 0,
           activation: Callable | None = None, name: str = "K"):
    """A one-channel 2-D convolution over a grid (a list of equal-length rows).

    ``x[r][c]``: ``grid`` padded with ``padding`` zeros all round; ``K[p, q]``: symbol
    ``{name}_{p}_{q}``; ``b``: symbol ``{name}_b``; ``s``: ``stride``.
    ``y[r][c] = f(sum_{p,q} K[p, q] * x[r*s + p][c*s + q] + b)``.

    Args:
        grid: a non-empty list of non-empty rows of SymPy expressions, all of one length.
        kernel_shape: ``(height, width)`` of the kernel, or one int for a square kernel.
        stride, padding: non-negative ints (``stride`` positive), the same on both axes.

    Returns:
        ``(outputs, params)``: the output grid (list of rows) and the kernel entries
        row by row followed by the bias.

    Example:
        >>> import sympy as sp
        >>> grid = [list(sp.symbols("a0:3")), list(sp.symbols("c0:3"))]
        >>> outputs, params = conv2d(grid, (2, 2))
        >>> len(outputs), len(outputs[0]), len(params)
        (1, 2, 5)
    """
    rows = _grid(grid)
    height, width = _kernel_shape(kernel_shape)
    stride = _positive_int(stride, "stride")
    padding = _non_negative_int(padding, "padding")
    activation = _activation(activation)
    name = _layer_name(name)
    n_rows, n_cols = len(rows), len(rows[0])
    out_rows = _output_length(n_rows, height, stride, padding, "kernel height", "grid rows")
    out_cols = _output_length(n_cols, width, stride, padding, "kernel width", "grid columns")
    kernel = [[sp.Symbol(f"{name}_{p}_{q}") for q in range(width)] for p in range(height)]
    bias = sp.Symbol(f"{name}_b")
    outputs = []
    for r in range(out_rows):
        top = r * stride - padding
        row = []
        for c in range(out_cols):
            left = c * stride - padding
            terms = [
                _times(kernel[p][q], rows[top + p][left + q])
                for p in range(height) for q in range(width)
                if 0 <= top + p < n_rows and 0 <= left + q < n_cols
            ]
            row.append(activation(sp.Add(*terms, bias)))
        outputs.append(row)
    return outputs, [k for kernel_row in kernel for k in kernel_row] + [bias]


def flatten(grid) -> list[sp.Expr]:
    """The entries of a grid (list of rows), row by row.

    Example:
        >>> import sympy as sp
        >>> a, b, c, d = sp.symbols("a b c d")
        >>> flatten([[a, b], [c, d]])
        [a, b, c, d]
    """
    return [entry for row in _grid(grid) for entry in row]


def max_pool2d(grid, size: int = 2, stride: int | None = None) -> list[list[sp.Expr]]:
    """Maximum over ``size`` x ``size`` windows moved by ``stride`` (default ``size``).

    ``y[r][c] = max_{p, q < size} x[r*stride + p][c*stride + q]``; windows that would
    reach past the grid are dropped.

    Example:
        >>> import sympy as sp
        >>> a, b, c, d = sp.symbols("a b c d")
        >>> max_pool2d([[a, b], [c, d]])
        [[Max(a, b, c, d)]]
    """
    rows = _grid(grid)
    size = _positive_int(size, "size")
    stride = size if stride is None else _positive_int(stride, "stride")
    out_rows = _output_length(len(rows), size, stride, 0, "size", "grid rows")
    out_cols = _output_length(len(rows[0]), size, stride, 0, "size", "grid columns")
    return [
        [
            sp.Max(*[rows[r * stride + p][c * stride + q] for p in range(size) for q in range(size)])
            for c in range(out_cols)
        ]
        for r in range(out_rows)
    ]


def _times(weight: sp.Symbol, x: sp.Expr) -> sp.Expr:
    """``weight * x``; left unevaluated for a symbolic ``x``: the product of a new symbol
    and an expression cannot simplify, and SymPy's evaluation of the thousands of them
    in a network takes most of the time to build it."""
    if x.is_Number:
        return weight * x
    return sp.Mul._from_args((weight, x))  # what Mul(weight, x, evaluate=False) makes, in a quarter of the time


def _shift_by_max(zs: list[sp.Expr]) -> list[sp.Expr]:
    """``z_i - max_j z_j``; the maximum is left unevaluated (SymPy would compare all pairs)."""
    if len(zs) == 1:
        return [sp.Integer(0)]
    return shift_by_max(zs)[1]


def _expressions(values, what: str) -> list[sp.Expr]:
    if isinstance(values, (str, sp.Basic)) or not isinstance(values, Sequence):
        raise ExpressionTypeError(
            f"{what} must be a list of SymPy expressions, got {type(values).__name__}."
        )
    if len(values) == 0:
        raise OptionError(f"{what} is empty; give at least one expression.")
    return [as_expr(v, f"{what}[{i}]") for i, v in enumerate(values)]


def _grid(grid) -> list[list[sp.Expr]]:
    if isinstance(grid, (str, sp.Basic)) or not isinstance(grid, Sequence) or len(grid) == 0:
        raise OptionError("grid must be a non-empty list of rows (lists of SymPy expressions).")
    rows = [_expressions(row, f"grid[{r}]") for r, row in enumerate(grid)]
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise OptionError(f"grid rows must all have one length, got lengths {sorted(widths)}.")
    return rows


def _kernel_shape(shape) -> tuple[int, int]:
    if isinstance(shape, int) and not isinstance(shape, bool):
        return _positive_int(shape, "kernel_shape"), shape
    if isinstance(shape, Sequence) and len(shape) == 2:
        return _positive_int(shape[0], "kernel height"), _positive_int(shape[1], "kernel width")
    raise OptionError(f"kernel_shape must be an int or a pair (height, width), got {shape!r}.")


def _output_length(n: int, size: int, stride: int, padding: int, what: str, of: str) -> int:
    if size > n + 2 * padding:
        raise OptionError(
            f"the {what} {size} is larger than the {n} {of} plus padding {padding} on each side."
        )
    return (n + 2 * padding - size) // stride + 1


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionError(f"{what} must be a positive int, got {value!r}.")
    return value


def _non_negative_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise OptionError(f"{what} must be a non-negative int, got {value!r}.")
    return value


def _activation(activation):
    if activation is None:
        return lambda z: z
    if not callable(activation):
        raise OptionTypeError(
            f"activation must be a callable such as symgrad.nn.relu, or None; "
            f"got {type(activation).__name__}."
        )
    return activation


def _layer_name(name) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or _INDEX_SUFFIX.search(name):
        raise OptionError(
            f"layer name must be an identifier starting with a letter and not ending in "
            f"_<digits> (so parameter names stay unambiguous), got {name!r}."
        )
    return name
