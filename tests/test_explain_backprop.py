"""backprop: the graph a learner draws, with local derivatives on its edges, checkable by hand."""

import math

import numpy as np
import pytest
import sympy as sp

import oracle
import symgrad as sg
from symgrad.errors import InputError
from symgrad.explain import backprop

w, x, b, y = sp.symbols("w x b y")
NEURON = sg.losses.mse(sg.nn.sigmoid(w * x + b), y)
AT = {w: 0.5, x: 2.0, b: 0.1, y: 1.0}


def sigmoid(t):
    return 1 / (1 + math.exp(-t))


def compiled_gradient(expr, at):
    symbols = sorted(expr.free_symbols, key=str)
    kernel = sg.compile(sg.gradient(expr, symbols), symbols)
    return dict(zip(symbols, kernel(*[at[s] for s in symbols])))


def test_a_neuron_reads_z_then_a_then_the_loss():
    """z = w x + b, a = σ(z), L = (a - y)^2: dL/da = 2(a - y), da/dz = a(1 - a), dz/dw = x."""
    r = backprop(NEURON, AT)
    assert [(n.name, n.rhs) for n in r.nodes] == [
        ("b", "b"), ("w", "w"), ("x", "x"), ("y", "y"),
        ("t1", "w*x"), ("z", "b + t1"), ("a", "sigmoid(z)"), ("L", "(a - y)**2")]
    assert r.node("z").expr == w * x + b and r.node("a").operation == "sigmoid"
    z = 0.5 * 2.0 + 0.1
    a = sigmoid(z)
    assert r.node("z").value == pytest.approx(z, rel=1e-15)
    assert r.node("a").value == pytest.approx(a, rel=1e-15)
    assert r.value == pytest.approx((a - 1) ** 2, rel=1e-14)
    local = {(e.target, e.source): e for e in r.edges}
    assert local["L", "a"].local == 2 * sp.Symbol("a") - 2 * sp.Symbol("y")
    assert local["L", "a"].local_value == pytest.approx(2 * (a - 1), rel=1e-14)
    assert local["a", "z"].local == sp.Symbol("a") * (1 - sp.Symbol("a"))
    assert local["a", "z"].local_value == pytest.approx(a * (1 - a), rel=1e-14)
    assert local["t1", "w"].local == x and local["t1", "w"].local_value == 2.0
    assert r.gradient[w] == pytest.approx(2 * (a - 1) * a * (1 - a) * 2.0, rel=1e-14)
    assert r.gradient[b] == pytest.approx(2 * (a - 1) * a * (1 - a), rel=1e-14)
    text = str(r)
    assert "∂a/∂z = a*(1 - a) = " in text and "adjoint = Σ consumer's adjoint × local derivative" in text


def test_every_adjoint_is_the_sum_over_its_edges_of_adjoint_times_local_derivative():
    r = backprop(NEURON, AT)
    adjoint = {n.name: n.adjoint for n in r.nodes}
    for n in r.nodes[:-1]:
        out = [e for e in r.edges if e.source == n.name]
        assert all(e.contribution == adjoint[e.target] * e.local_value for e in out)
        assert n.adjoint == pytest.approx(sum(e.contribution for e in out), rel=1e-15, abs=1e-300)
    assert r.node("t1").backward == f"z: {adjoint['z']:.6g} × 1"


def _network():
    x1, x2 = sp.symbols("x1 x2")
    hidden, p1 = sg.nn.dense([x1, x2], 2, activation=sg.nn.sigmoid, name="W")
    out, p2 = sg.nn.dense(hidden, 1, activation=sg.nn.sigmoid, name="V")
    loss = sg.losses.binary_cross_entropy(out[0], y)
    rng = np.random.default_rng(3)
    at = {s: float(v) for s, v in zip(p1 + p2, rng.normal(size=len(p1 + p2)))}
    at.update({x1: 0.5, x2: -1.0, y: 1.0})
    return loss, at


@pytest.fixture(scope="module")
def network():
    loss, at = _network()
    return loss, at, backprop(loss, at)


def test_a_small_network_names_each_layer_and_matches_the_oracle(network):
    loss, at, r = network
    names = [n.name for n in r.nodes if not n.is_input]
    assert [n for n in names if n[0] in "zaL"] == ["z1", "a1", "z2", "a2", "z3", "a3", "L"]
    assert r.node("L").rhs == "binary_cross_entropy(a3, y)"
    assert len(r.nodes) <= 25
    symbols = sorted(loss.free_symbols, key=str)
    for s, exact in zip(symbols, oracle.gradient(loss, symbols, at)):
        assert r.gradient[s] == pytest.approx(oracle.mp_float(exact), rel=1e-13, abs=1e-15)


def test_the_neuron_matches_the_compiled_gradient():
    r = backprop(NEURON, AT)
    for s, g in compiled_gradient(NEURON, AT).items():
        assert r.gradient[s] == pytest.approx(g, rel=1e-14, abs=1e-16)


def test_the_layout_puts_inputs_next_to_their_use_and_routes_edges_around_boxes(network):
    r = backprop(NEURON, AT)
    lay = r.layout()
    column = {n: c for n, (c, _) in lay.positions.items()}
    assert column["b"] == column["t1"] == column["w"] + 1  # b enters where z is made
    assert lay.crossings == 0
    lay = network[2].layout()
    assert len(set(lay.positions.values())) == len(lay.positions)  # no two boxes on one spot
    boxes = set(lay.positions.values())
    for (source, target), route in lay.routes.items():
        assert route[0] == lay.positions[source] and route[-1] == lay.positions[target]
        assert all(b[0] - a[0] == 1 for a, b in zip(route, route[1:]))  # one column per segment
        assert not boxes & set(route[1:-1])  # waypoints never sit on a box
    assert lay.crossings <= 6


def test_the_learners_own_names():
    r = backprop(NEURON, AT, names={"h": w * x, "yhat": sg.nn.sigmoid(w * x + b)})
    assert [n.name for n in r.nodes if not n.is_input] == ["h", "z", "yhat", "L"]
    assert r.node("yhat").rhs == "sigmoid(z)"
    assert backprop(NEURON, AT, names={w * x + b: "s"}).node("s").rhs == "b + t1"  # {expr: name} too


@pytest.mark.parametrize("names, message", [
    ({"q": w * y}, r"q = w\*y is not an operation of the expression"),
    ({"w": w * x}, "'w' is already the name of an input symbol"),
    ({"2a": w * x}, "'2a' is not a name"),
    ({"h": w * x, "k": w * x}, r"two names \(h, k\) to w\*x"),
])
def test_bad_names_are_clear_errors(names, message):
    with pytest.raises(InputError, match=message):
        backprop(NEURON, AT, names=names)


def test_relu_at_its_kink_passes_nothing_back():
    # relu'(0) = 0: at w x + b = 0 the neuron's gradient is 0 for every parameter
    r = backprop(sg.nn.relu(w * x + b), {w: 1.0, x: 2.0, b: -2.0})
    assert r.node("f" if "f" in [n.name for n in r.nodes] else "a").operation == "relu"
    assert r.gradient == {b: 0.0, w: 0.0, x: 0.0}
    assert [str(e) for e in r.edges if e.source == "z"] == ["∂a/∂z = Heaviside(z, 0) = 0"]


def test_tanh_and_the_mean_squared_error_of_lists_are_named_blocks_too():
    # a = tanh(z): da/dz = 1 - a^2; mse of two entries is the loss L
    r = backprop(2 * sg.nn.tanh(x + y), {x: 0.25, y: 0.5})
    assert r.node("a").operation == "tanh"
    assert r.gradient[x] == pytest.approx(2 * (1 - math.tanh(0.75) ** 2), rel=1e-14)
    assert backprop(sg.losses.mse([x, y], [1, 2]), {x: 0.5, y: 1.5}).nodes[-1].name == "L"
