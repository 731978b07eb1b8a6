"""Every result object shows itself in a notebook: HTML (or LaTeX), and a readable plain text."""

import numpy as np
import sympy as sp
from IPython.core.formatters import DisplayFormatter

import symgrad as sg
from symgrad.explain import backprop, explain

x, y, w, b = sp.symbols("x y w b")


def shown(obj) -> dict:
    """What IPython sends to a notebook for ``obj``, by MIME type (no kernel needed)."""
    return DisplayFormatter().format(obj)[0]


def test_backprop_shows_a_table_not_a_dataclass_dump():
    tape = backprop(x**2 * sp.sin(y), {x: 1.0, y: 2.0})
    out = shown(tape)
    assert out["text/plain"] == str(tape)
    assert not out["text/plain"].startswith("Backprop(expr=")
    page = out["text/html"]
    assert page.count("<tr>") == len(tape.nodes) + 1  # a header row, then one row per node
    assert f"∂f/∂x = {2 * np.sin(2.0):.6g}" in page  # d(x^2 sin y)/dx = 2x sin y at (1, 2)
    assert f"∂f/∂y = {np.cos(2.0):.6g}" in page
    assert repr(tape).startswith("Backprop(f = x**2*sin(y) at x=1, y=2")


def test_a_list_of_explanations_keeps_its_steps():
    parts = explain(x**2 * sp.sin(y), [x, y])
    assert isinstance(parts, list) and len(parts) == 2
    out = shown(parts)
    for part in parts:
        assert str(part) in out["text/plain"]
        assert part.latex() in out["text/latex"]
    assert out["text/html"].count("<hr>") == 1
    assert out["text/html"].count("<li") == sum(len(p.steps) for p in parts)


def test_every_result_object_renders_as_html():
    objective = sg.Objective((w * x + b - y) ** 2, [w, b], data=[x, y])
    xs = np.linspace(0, 1, 20)
    results = [
        sg.check_gradient(x**2 * sp.sin(y), [x, y], [1.0, 2.0]),
        sg.minimize(sg.Objective((x - 1) ** 2, [x]), [3.0], steps=3),
        sg.fit(objective, [xs, 2 * xs + 1], x0=[0.0, 0.0], epochs=2),
        sg.curve_fit(w * x + b, {x: xs}, 2 * xs + 1 + 0.01 * np.sin(40 * xs)),
        sg.compile(x * y, [x, y]),
        explain(x * sp.sin(x), x),
    ]
    for result in results:
        out = shown(result)
        assert "text/html" in out, type(result).__name__
        assert out["text/html"].strip().startswith("<"), type(result).__name__


def test_difference_quotients_show_a_table_of_steps():
    from symgrad.explain import difference_quotients

    quotients = difference_quotients(x**3, x, 2.0, steps=[0.1, 0.01])
    out = shown(quotients)
    assert out["text/plain"] == str(quotients)
    page = out["text/html"]
    assert page.count("<tr>") == 3
    # ((2 + h)^3 - 8) / h = 12 + 6h + h^2: 12.61 and 12.0601; central: 12 + h^2
    np.testing.assert_allclose(quotients.forward, [12.61, 12.0601], rtol=1e-12)
    np.testing.assert_allclose(quotients.central, [12.01, 12.0001], rtol=1e-12)
    for value in [*quotients.forward, *quotients.central]:
        assert f"<td>{value:.15g}</td>" in page
    assert repr(quotients).startswith("DifferenceQuotients(d/dx [x**3] at x = 2.0: exact 12.0")
