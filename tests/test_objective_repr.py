"""``repr(Objective)`` is a summary: the expression's first characters, the symbols, the engine."""

import sympy as sp

import symgrad as sg
from symgrad._abbreviate import abbreviate


def network_loss(sizes=(16, 8, 3)):
    x = list(sp.symbols(f"x0:{sizes[0]}"))
    h, params = x, []
    for i, n in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        h, p = sg.nn.dense(h, n, activation=None if last else sg.nn.relu, name=f"L{i}")
        params += p
    t = list(sp.symbols(f"t0:{sizes[-1]}"))
    return sg.losses.cross_entropy(h, t), params, x + t


def test_a_small_objective_shows_everything():
    w, b, x, y = sp.symbols("w b x y")
    obj = sg.Objective((w * x + b - y) ** 2, [w, b], data=[x, y], engine="scalar")
    assert repr(obj) == "Objective((b + w*x - y)**2, params=[w, b], data=[x, y], engine='scalar')"


def test_a_network_objective_is_summarised():
    expr, params, data = network_loss()
    assert (len(params), len(data)) == (16 * 8 + 8 + 8 * 3 + 3, 16 + 3)
    obj = sg.Objective(expr, params, data)
    text = repr(obj)
    assert len(text) < 300  # the full expression prints as about 88,000 characters
    assert text.endswith(f", 163 params, 19 data, engine={obj.engine!r})")
    head = text[len("Objective("):text.index("..., 163 params")]
    assert 40 <= len(head) <= 80
    assert sp.sstr(expr, order="none").startswith(head)  # the true beginning of the expression


def test_abbreviate_gives_the_beginning_of_the_text_in_argument_order():
    x, y = sp.symbols("x y")
    assert abbreviate(x**2 + 1) == "x**2 + 1"
    many = sp.Add(*[sp.sin(k * x) * sp.exp(y / k) for k in range(1, 100)])
    short = abbreviate(many, limit=50)
    assert len(short) <= 53 and short.endswith("...")
    assert sp.sstr(many, order="none").startswith(short[:-3])
    piecewise = sp.Piecewise((x**3 + sp.sin(x) * sp.cos(y) + sp.log(1 + x**2), x > 0), (y, True))
    assert abbreviate(piecewise, limit=30) == sp.sstr(piecewise, order="none")[:30] + "..."
