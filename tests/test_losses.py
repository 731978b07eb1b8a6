"""sg.losses: the per-sample losses, exact where small and finite where large."""

import math

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import losses

p, t, z, a, b, c = sp.symbols("p t z a b c")


def test_mse_of_one_value_and_of_lists():
    assert losses.mse(p, t) == (p - t) ** 2
    assert losses.mse(p, 3) == (p - 3) ** 2
    both = losses.mse([a, b], [1, t])
    assert sp.expand(both - ((a - 1) ** 2 + (b - t) ** 2) / 2) == 0
    assert losses.mse([a, b, c], [1, 2, 3]).subs({a: 2, b: 2, c: 6}) == sp.Rational(10, 3)


def test_binary_cross_entropy_matches_its_formula():
    loss = losses.binary_cross_entropy(p, t)
    value = loss.subs({p: sp.Rational(1, 4), t: sp.Rational(1, 3)})
    expected = -(sp.log(sp.Rational(1, 4)) / 3 + 2 * sp.log(sp.Rational(3, 4)) / 3)
    assert abs(sp.N(value - expected, 30)) < 1e-25


@pytest.mark.parametrize("logit", [-20, -1, 0, sp.Rational(1, 2), 3, 20])
@pytest.mark.parametrize("target", [0, 1, sp.Rational(1, 4)])
def test_bce_with_logits_equals_bce_of_the_sigmoid(logit, target):
    stable = losses.binary_cross_entropy_with_logits(z, target).subs(z, logit)
    direct = losses.binary_cross_entropy(1 / (1 + sp.exp(-z)), target).subs(z, logit)
    assert abs(sp.N(stable - direct, 40)) < 1e-30


def test_bce_with_logits_is_finite_for_large_logits():
    f = sp.lambdify([z, t], losses.binary_cross_entropy_with_logits(z, t), modules="math")
    assert f(1000.0, 1.0) == 0.0  # true value log(1 + e^-1000), below float64
    assert f(1000.0, 0.0) == 1000.0
    assert f(-1000.0, 1.0) == 1000.0


def _reference_cross_entropy(logits, onehot):
    """-sum_k t_k log(exp(z_k) / sum_j exp(z_j)), evaluated with 50 exact digits."""
    total = sp.Add(*[sp.exp(v) for v in logits])
    loss = -sp.Add(*[tk * sp.log(sp.exp(v) / total) for v, tk in zip(logits, onehot)])
    return sp.N(loss, 50)


@pytest.mark.parametrize(
    "logits, onehot",
    [
        ((1, 2, 3), (0, 0, 1)),
        ((sp.Rational(1, 2), -1, 0), (1, 0, 0)),
        ((0, 0), (sp.Rational(1, 2), sp.Rational(1, 2))),
    ],
)
def test_cross_entropy_matches_minus_log_softmax(logits, onehot):
    loss = losses.cross_entropy([a, b, c][: len(logits)], list(onehot))
    value = loss.subs(dict(zip([a, b, c], logits)))
    assert abs(sp.N(value, 50) - _reference_cross_entropy(logits, onehot)) < 1e-40


@pytest.mark.parametrize(
    "logits, onehot",
    [
        ((1000, -1000, 999), (1, 0, 0)),
        ((1000, -1000, 999), (0, 1, 0)),
        ((-1000, -1000, -999), (0, 0, 1)),
    ],
)
def test_cross_entropy_is_finite_and_right_for_logits_of_a_thousand(logits, onehot):
    f = sp.lambdify([a, b, c], losses.cross_entropy([a, b, c], list(onehot)), modules="math")
    value = f(*map(float, logits))
    assert math.isfinite(value)
    assert value == pytest.approx(float(_reference_cross_entropy(logits, onehot)), rel=1e-12)


def test_cross_entropy_with_symbolic_targets():
    loss = losses.cross_entropy([a, b], [t, 1 - t])
    value = loss.subs({a: 0, b: 0, t: sp.Rational(1, 3)})
    assert abs(sp.N(value - sp.log(2), 30)) < 1e-25


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: losses.mse([a, b], [1]), ValueError, "one non-zero length"),
        (lambda: losses.mse([], []), ValueError, "one non-zero length"),
        (lambda: losses.mse([a], 1), TypeError, "both as single values"),
        (lambda: losses.mse("p", 1), TypeError, "symgrad.parse"),
        (lambda: losses.mse(p, float("nan")), ValueError, "finite"),
        (lambda: losses.cross_entropy(a, 1), TypeError, "lists"),
        (lambda: losses.binary_cross_entropy(p, True), TypeError, "bool"),
    ],
)
def test_bad_arguments_are_refused_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
def test_logits_loss_is_smooth_at_zero(t):
    """d/dz = sigmoid(z) - t and d2/dz2 = sigmoid(z)(1 - sigmoid(z)): 1/2 - t and 1/4 at z = 0."""
    z, y = sp.symbols("z y")
    obj = sg.Objective(sg.losses.binary_cross_entropy_with_logits(z, y), [z], [y])
    value, grad = obj.value_and_grad([0.0], np.array([t]))
    assert value == pytest.approx(math.log(2), rel=1e-15)
    assert grad[0] == pytest.approx(0.5 - t, abs=1e-16)
    assert obj.hessian([0.0], np.array([t]))[0, 0] == pytest.approx(0.25, rel=1e-15)
    assert sg.autograd.grad(sg.losses.binary_cross_entropy_with_logits(z, t), [z], [0.0])[0] == pytest.approx(0.5 - t, abs=1e-16)


def test_softplus_derivatives_at_zero_and_far_out():
    z = sp.Symbol("z")
    k = sg.compile([sg.nn.softplus(z)] + list(sg.gradient(sg.nn.softplus(z), [z])) + list(sg.hessian(sg.nn.softplus(z), [z])), [z])
    assert np.allclose(k(0.0), [math.log(2), 0.5, 0.25], rtol=1e-15, atol=0)
    assert np.array_equal(k(800.0), [800.0, 1.0, 0.0])
    assert np.array_equal(k(-800.0), [0.0, 0.0, 0.0])


def test_binary_cross_entropy_of_sure_right_predictions_is_zero():
    # 0 log 0 = 0 (scipy.special.xlogy): p = 1 for t = 1 and p = 0 for t = 0 cost nothing
    obj = sg.Objective(losses.binary_cross_entropy(p, t), [p], [t])
    assert obj.value([1.0], np.array([1.0])) == 0.0
    assert obj.value([0.0], np.array([0.0])) == 0.0
    assert obj.grad([1.0], np.array([1.0])).tolist() == [-1.0]  # d(-log p)/dp at p = 1
    value, grad = obj.value_and_grad([0.3], np.array([0.25]))
    assert value == pytest.approx(-(0.25 * math.log(0.3) + 0.75 * math.log(0.7)), rel=1e-15)
    assert grad[0] == pytest.approx(-0.25 / 0.3 + 0.75 / 0.7, rel=1e-14)
    assert losses.binary_cross_entropy(p, 1) == -sp.log(p)
