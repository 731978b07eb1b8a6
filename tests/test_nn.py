"""sg.nn: activations and layers build the expressions their formulas describe."""

import math

import numpy as np
import pytest
import sympy as sp

from symgrad import nn

z, a, b, c = sp.symbols("z a b c")


def _float_fn(expr, args):
    return sp.lambdify(args, expr, modules="math")


def test_relu_is_max_of_zero_and_z():
    assert nn.relu(z) == sp.Max(0, z)
    assert nn.relu(a + b) == sp.Max(0, a + b)
    assert nn.relu(sp.Integer(-3)) == 0 and nn.relu(sp.Integer(3)) == 3


def test_sigmoid_tanh_values_and_identities():
    assert nn.sigmoid(sp.Integer(0)) == sp.Rational(1, 2)
    s = nn.sigmoid(z)
    assert sp.simplify(sp.diff(s, z) - s * (1 - s)) == 0
    assert sp.simplify(2 * nn.sigmoid(2 * z) - 1 - nn.tanh(z).rewrite(sp.exp)) == 0


@pytest.mark.parametrize("value", [-30, -2, -0.5, 0, 0.5, 2, 30])
def test_softplus_equals_log_one_plus_exp(value):
    exact = sp.log(1 + sp.exp(sp.nsimplify(value)))
    assert abs(sp.N(nn.softplus(z).subs(z, sp.nsimplify(value)) - exact, 30)) < 1e-25


def test_softplus_does_not_overflow_in_float64():
    f = _float_fn(nn.softplus(z), [z])
    assert f(1000.0) == 1000.0
    assert f(-1000.0) == 0.0  # exp(-1000) underflows: the true value is 5e-435


def test_softmax_matches_the_definition_and_sums_to_one():
    zs = [a, b, c]
    point = {a: sp.Rational(1, 3), b: -2, c: sp.Rational(5, 2)}
    total = sum(sp.exp(v) for v in point.values())
    for out, v in zip(nn.softmax(zs), point.values()):
        assert abs(sp.N(out.subs(point) - sp.exp(v) / total, 30)) < 1e-25
    assert sp.simplify(sum(nn.softmax([a, b])) - 1) == 0


def test_softmax_and_log_softmax_are_stable_for_large_logits():
    probs = _float_fn(nn.softmax([a, b, c]), [a, b, c])(1000.0, -1000.0, 999.0)
    logs = _float_fn(nn.log_softmax([a, b, c]), [a, b, c])(1000.0, -1000.0, 999.0)
    e = math.exp(-1)
    assert probs == pytest.approx([1 / (1 + e), 0.0, e / (1 + e)], rel=1e-12, abs=1e-300)
    assert logs[0] == pytest.approx(-math.log1p(e), rel=1e-12)
    assert logs[1] == pytest.approx(-2000 - math.log1p(e), rel=1e-12)


def test_log_softmax_is_the_log_of_softmax():
    point = {a: 1, b: sp.Rational(-1, 2)}
    for lo, p in zip(nn.log_softmax([a, b]), nn.softmax([a, b])):
        assert abs(sp.N(lo.subs(point) - sp.log(p.subs(point)), 30)) < 1e-25


def test_dense_builds_the_affine_map_and_names_its_parameters():
    x0, x1 = sp.symbols("x0 x1")
    outputs, params = nn.dense([x0, x1], 2, activation=nn.relu, name="L")
    W = {(j, i): sp.Symbol(f"L_{j}_{i}") for j in range(2) for i in range(2)}
    bias = [sp.Symbol("L_b_0"), sp.Symbol("L_b_1")]
    assert params == [W[0, 0], W[0, 1], W[1, 0], W[1, 1], *bias]
    for j in range(2):
        assert outputs[j] == sp.Max(0, W[j, 0] * x0 + W[j, 1] * x1 + bias[j])


def test_dense_without_activation_is_affine():
    outputs, params = nn.dense([z], 1)
    assert outputs == [sp.Symbol("W_0_0") * z + sp.Symbol("W_b_0")]
    assert len(params) == 2


def test_two_layers_with_different_names_share_no_parameter():
    x = sp.symbols("x0:3")
    hidden, p1 = nn.dense(x, 12, activation=nn.tanh, name="W")
    out, p2 = nn.dense(hidden, 11, name="Wb")
    _, p3 = nn.dense(x, 3, name="W1")
    assert len(set(p1) | set(p2) | set(p3)) == len(p1) + len(p2) + len(p3)
    assert out[0].free_symbols == set(x) | set(p1) | set(p2[:12]) | {p2[11 * 12]}


def test_large_dense_layer_has_every_parameter():
    x = sp.symbols("x0:64")
    outputs, params = nn.dense(x, 32, activation=nn.relu, name="H")
    assert len(outputs) == 32 and len(params) == 64 * 32 + 32
    assert outputs[31].free_symbols == set(x) | set(params[31 * 64:32 * 64]) | {params[-1]}


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(inputs=[], n_out=1), ValueError, "empty"),
        (dict(inputs="x", n_out=1), TypeError, "list of SymPy"),
        (dict(inputs=[z], n_out=0), ValueError, "n_out must be a positive int"),
        (dict(inputs=[z], n_out=1, activation="relu"), TypeError, "callable"),
        (dict(inputs=[z], n_out=1, name="W_1"), ValueError, "layer name"),
        (dict(inputs=[z], n_out=1, name="1W"), ValueError, "layer name"),
        (dict(inputs=[1.5], n_out=1), TypeError, "Python number"),
    ],
)
def test_dense_refuses_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        nn.dense(**kwargs)


def _substitute(exprs, values):
    return np.array([[float(e.subs(values)) for e in row] for row in exprs])


def test_conv1d_with_stride_and_padding():
    x = sp.symbols("x0:5")
    outputs, params = nn.conv1d(x, 3, stride=2, padding=1, name="C")
    k0, k1, k2, bias = params
    assert [str(p) for p in params] == ["C_0", "C_1", "C_2", "C_b"]
    # padded input: 0 x0 x1 x2 x3 x4 0; windows start at 0, 2, 4
    assert outputs == [
        k1 * x[0] + k2 * x[1] + bias,
        k0 * x[1] + k1 * x[2] + k2 * x[3] + bias,
        k0 * x[3] + k1 * x[4] + bias,
    ]


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 0), (1, 1), (2, 2)])
def test_conv2d_matches_a_numpy_cross_correlation(stride, padding):
    rng = np.random.default_rng(0)
    image, kernel, bias = rng.integers(-5, 6, (5, 6)), rng.integers(-3, 4, (2, 3)), 7
    grid = [[sp.Symbol(f"g_{r}_{c}") for c in range(6)] for r in range(5)]
    outputs, params = nn.conv2d(grid, (2, 3), stride=stride, padding=padding)
    values = {grid[r][c]: int(image[r, c]) for r in range(5) for c in range(6)}
    values.update({p: int(k) for p, k in zip(params[:-1], kernel.ravel())})
    values[params[-1]] = bias
    padded = np.pad(image, padding)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (2, 3))[::stride, ::stride]
    expected = np.einsum("rcpq,pq->rc", windows, kernel) + bias
    assert np.array_equal(_substitute(outputs, values), expected)


def test_conv2d_refuses_a_kernel_larger_than_the_grid():
    with pytest.raises(ValueError, match="larger than"):
        nn.conv2d([[a, b]], (2, 2))
    with pytest.raises(ValueError, match="one length"):
        nn.conv2d([[a, b], [c]], 1)


def test_flatten_and_max_pool():
    grid = [[sp.Symbol(f"g_{r}_{c}") for c in range(4)] for r in range(3)]
    assert nn.flatten(grid) == [e for row in grid for e in row]
    pooled = nn.max_pool2d(grid, 2)
    assert pooled == [[sp.Max(*grid[0][:2], *grid[1][:2]), sp.Max(*grid[0][2:], *grid[1][2:])]]
    image = np.arange(12).reshape(3, 4) % 5
    values = {grid[r][c]: int(image[r, c]) for r in range(3) for c in range(4)}
    assert _substitute(nn.max_pool2d(grid, 2, stride=1), values).tolist() == [
        [max(image[r:r + 2, c:c + 2].ravel()) for c in range(3)] for r in range(2)
    ]
