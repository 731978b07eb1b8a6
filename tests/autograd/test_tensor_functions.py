"""The Tensor methods of the function table: every elementary row has one, and each
method's value and gradient agree with mpmath at 30 digits (mpmath's own functions and
``mpmath.diff``; nothing from symgrad), at points inside each domain, away from kinks."""

import inspect

import mpmath
import numpy as np
import pytest

from symgrad._functions import ELEMENTARY
from symgrad.autograd import Tensor
from symgrad.errors import OptionTypeError

DIGITS = 30
RTOL = 1e-13  # float64 against 30 digits: a few units in the last place, times conditioning

# one argument functions: mpmath's function and points inside its domain, away from kinks
UNARY = {
    "exp": (mpmath.exp, [-2.5, -0.3, 0.7, 3.1]),
    "log": (mpmath.log, [0.05, 0.6, 2.0, 75.0]),
    "sin": (mpmath.sin, [-2.0, 0.4, 1.3, 2.9]),
    "cos": (mpmath.cos, [-2.8, 0.3, 0.9, 2.2]),
    "tan": (mpmath.tan, [-1.2, 0.2, 0.6, 1.4]),
    "asin": (mpmath.asin, [-0.9, -0.2, 0.35, 0.8]),
    "acos": (mpmath.acos, [-0.85, -0.45, 0.1, 0.7]),
    "atan": (mpmath.atan, [-3.0, -0.4, 0.9, 5.0]),
    "sinh": (mpmath.sinh, [-2.0, -0.5, 0.8, 3.0]),
    "cosh": (mpmath.cosh, [-2.2, -0.6, 0.4, 1.9]),
    "tanh": (mpmath.tanh, [-1.5, -0.3, 0.55, 2.0]),
    "asinh": (mpmath.asinh, [-4.0, -1.2, 0.3, 2.5]),
    "acosh": (mpmath.acosh, [1.1, 1.9, 3.5, 20.0]),
    "atanh": (mpmath.atanh, [-0.8, -0.25, 0.3, 0.9]),
    "cot": (mpmath.cot, [-2.5, -0.4, 0.7, 2.0]),
    "sec": (mpmath.sec, [-1.3, -0.2, 0.5, 2.5]),
    "csc": (mpmath.csc, [-2.6, -0.5, 1.1, 2.2]),
    "acot": (mpmath.acot, [-3.0, -1.4, 0.3, 2.0]),  # SymPy's and mpmath's: values in (-π/2, π/2]
    "asec": (mpmath.asec, [-4.0, -1.3, 1.2, 2.3]),
    "acsc": (mpmath.acsc, [-3.5, -1.8, 1.25, 6.0]),
    "coth": (mpmath.coth, [-2.0, -0.4, 0.6, 1.2]),
    "sech": (mpmath.sech, [-2.5, -0.7, 0.3, 0.9]),
    "csch": (mpmath.csch, [-1.7, -0.8, 0.4, 2.2]),
    "acoth": (mpmath.acoth, [-4.0, -1.3, 1.7, 3.0]),
    "asech": (mpmath.asech, [0.1, 0.45, 0.7, 0.95]),
    "acsch": (mpmath.acsch, [-3.0, -0.5, 0.6, 2.0]),
    "erf": (mpmath.erf, [-2.0, -0.3, 0.8, 1.5]),
    "erfc": (mpmath.erfc, [-1.2, 0.1, 1.3, 2.5]),
    "gamma": (mpmath.gamma, [-2.5, -1.5, 0.3, 4.2]),
    "loggamma": (mpmath.loggamma, [0.2, 0.9, 2.3, 12.0]),  # real: u > 0
    "floor": (mpmath.floor, [-2.5, -0.3, 0.7, 3.2]),
    "ceiling": (mpmath.ceil, [-1.3, -0.6, 0.4, 2.5]),
}
BINARY = ("atan2", "polygamma")
ROWS = [row.name for row in ELEMENTARY]


def _mp(x):
    return mpmath.mpf(float(x))  # exact: a float64 is a binary fraction


def _close(got, exact, what):
    got = np.asarray(got, dtype=float).ravel()
    exact = [float(e) for e in exact]
    for i, (g, e) in enumerate(zip(got, exact)):
        assert abs(g - e) <= RTOL * abs(e) + 1e-300, f"{what}, entry {i}: {g!r} against {e!r}"


def test_every_elementary_row_has_a_tensor_method():
    missing = [name for name in ROWS if not callable(getattr(Tensor, name, None))]
    assert missing == [], f"Tensor has no method for {missing}"


@pytest.mark.parametrize("name", ROWS)
def test_each_method_records_its_rows_primitive_with_a_docstring(name):
    method = getattr(Tensor, name)
    count = 2 if name in BINARY else 1
    assert len(inspect.signature(method).parameters) == count  # self, and the other argument
    t = Tensor(UNARY[name][1] if count == 1 else [0.6, 1.5], requires_grad=True)
    out = method(t, 2.0) if count == 2 else method(t)
    assert out._op == name
    assert f"SymPy's ``{name}(" in method.__doc__


def test_every_function_of_the_table_is_checked_here():
    assert set(UNARY) | set(BINARY) == set(ROWS)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_method_value_and_gradient_against_mpmath(name):
    f, points = UNARY[name]
    u = Tensor(points, requires_grad=True)
    out = getattr(u, name)()
    out.sum().backward()
    with mpmath.workdps(DIGITS):
        values = [f(_mp(p)) for p in points]
        slopes = [mpmath.diff(f, _mp(p)) for p in points]
    _close(out.data, values, f"{name} value")
    _close(u.grad, slopes, f"{name} gradient")


@pytest.mark.parametrize("name", ["floor", "ceiling"])
def test_floor_and_ceiling_gradients_are_zero_also_at_their_jumps(name):
    u = Tensor([-2.0, -0.5, 0.0, 1.0, 3.7], requires_grad=True)
    out = getattr(u, name)()
    (out * 3.0).sum().backward()
    expected = np.floor(u.data) if name == "floor" else np.ceil(u.data)
    assert np.array_equal(out.data, expected)
    assert np.array_equal(u.grad, np.zeros(5))


def test_atan2_broadcast_value_and_both_partials_against_mpmath():
    """``y.atan2(x)`` is ``atan2(y, x)``: y of shape (3, 1) against x of shape (4,), points
    in all four quadrants, none on the negative x axis."""
    ys = np.array([[-1.7], [0.4], [2.5]])
    xs = np.array([-1.1, -0.3, 0.8, 2.0])
    y, x = Tensor(ys, requires_grad=True), Tensor(xs, requires_grad=True)
    out = y.atan2(x)
    assert out.shape == (3, 4)
    weights = np.arange(1.0, 13.0).reshape(3, 4)  # a seed that tells the entries apart
    (out * weights).sum().backward()
    with mpmath.workdps(DIGITS):
        values, dy, dx = [], np.zeros((3, 1), dtype=object), np.zeros(4, dtype=object)
        dy[:], dx[:] = mpmath.mpf(0), mpmath.mpf(0)
        for i in range(3):
            for j in range(4):
                a, b, w = _mp(ys[i, 0]), _mp(xs[j]), _mp(weights[i, j])
                values.append(mpmath.atan2(a, b))
                dy[i, 0] += w * mpmath.diff(lambda t: mpmath.atan2(t, b), a)
                dx[j] += w * mpmath.diff(lambda t: mpmath.atan2(a, t), b)
    _close(out.data, values, "atan2 value")
    _close(y.grad, dy.ravel(), "d/dy of atan2")
    _close(x.grad, dx, "d/dx of atan2")


def test_atan2_takes_a_number_or_an_array_as_x():
    y = Tensor([0.5, -2.0], requires_grad=True)
    with mpmath.workdps(DIGITS):
        exact = [mpmath.atan2(_mp(0.5), _mp(-3.0)), mpmath.atan2(_mp(-2.0), _mp(-3.0))]
    _close(y.atan2(-3.0).data, exact, "atan2(y, number)")
    _close(y.atan2(x=np.array([-3.0, -3.0])).data, exact, "atan2(y, array)")


def test_polygamma_broadcast_orders_value_and_gradient_against_mpmath():
    """``z.polygamma(n)`` is SymPy's ``polygamma(n, z)``: orders 0, 1, 2 of shape (3, 1)
    against z of shape (4,); ∂/∂z is polygamma(n + 1, z), the order gets no gradient."""
    orders = np.array([[0.0], [1.0], [2.0]])
    zs = np.array([-1.5, 0.3, 1.7, 6.5])
    n, z = Tensor(orders, requires_grad=True), Tensor(zs, requires_grad=True)
    out = z.polygamma(n)
    assert out.shape == (3, 4)
    out.sum().backward()
    with mpmath.workdps(DIGITS):
        values = [mpmath.psi(int(k), _mp(b)) for k in orders.ravel() for b in zs]
        slopes = [sum(mpmath.diff(lambda t: mpmath.psi(int(k), t), _mp(b)) for k in orders.ravel())
                  for b in zs]
    _close(out.data, values, "polygamma value")
    _close(z.grad, slopes, "d/dz of polygamma")
    assert np.array_equal(n.grad, np.zeros((3, 1)))


def test_polygamma_of_a_whole_order():
    z = Tensor([0.7, 3.0], requires_grad=True)
    z.polygamma(3).sum().backward()
    with mpmath.workdps(DIGITS):
        slopes = [mpmath.psi(4, _mp(0.7)), mpmath.psi(4, _mp(3.0))]
    _close(z.grad, slopes, "d/dz polygamma(3, z)")


def test_a_binary_method_with_a_wrong_argument_count_names_its_arguments():
    with pytest.raises(OptionTypeError, match=r"Tensor.atan2 takes x besides the tensor"):
        Tensor(1.0).atan2()
    with pytest.raises(OptionTypeError, match=r"Tensor.polygamma takes n besides the tensor"):
        Tensor(1.0).polygamma(1, 2)


def test_the_first_methods_keep_their_behaviour():
    """exp, log, ..., sigmoid: the names api.md lists, unchanged."""
    x = Tensor([0.3, 1.2], requires_grad=True)
    (x.exp() + x.log() + x.sin() + x.cos() + x.tan() + x.tanh() + x.sqrt() + x.abs()
     + x.relu() + x.sigmoid()).sum().backward()
    with mpmath.workdps(DIGITS):
        def total(t):
            return (mpmath.exp(t) + mpmath.log(t) + mpmath.sin(t) + mpmath.cos(t) + mpmath.tan(t)
                    + mpmath.tanh(t) + mpmath.sqrt(t) + abs(t) + max(t, 0) + 1 / (1 + mpmath.exp(-t)))
        slopes = [mpmath.diff(total, _mp(p)) for p in (0.3, 1.2)]
    _close(x.grad, slopes, "gradient of the sum of the first methods")
