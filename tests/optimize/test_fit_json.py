"""``FitResult.to_json`` / ``from_json``: a lossless round trip of the models and the numbers.

The models are written as expression trees, so names that ``sg.parse`` reads
otherwise (``E``, ``lambda``, ``e``), floats of all 17 digits and symbol
assumptions come back as they were: the same expression, the same ``params``
keys, and bitwise the same ``predict``.
"""

import json
import warnings

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import InputError

X = sp.Symbol("x")
XS = np.linspace(0.1, 2.0, 9)
Y = 2.1 * np.exp(-0.7 * XS) + 0.01 * np.sin(5 * XS)
NEW = {"x": np.linspace(0.0, 3.0, 7)}


def _round_trip(res):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. parse's warning about a symbol named e
        return sg.FitResult.from_json(res.to_json())


E_, LAMBDA, C, SMALL_E = sp.symbols("E lambda c e")
A_POSITIVE = sp.Symbol("A", positive=True)
K_REAL = sp.Symbol("k", real=True)

CASES = {
    "symbol named E": E_ * sp.exp(-LAMBDA * X),
    "symbol named lambda": 2 * sp.exp(-LAMBDA * X),
    "float constant": C / 3.0 * sp.exp(-X),
    "symbol named e": C * sp.exp(-X) + SMALL_E,
    "assumptions": A_POSITIVE * sp.exp(-K_REAL * X),
    "rational and pi": C * sp.exp(-sp.Rational(7, 10) * X) + sp.pi * SMALL_E / 1000,
    "piecewise": sp.Piecewise((C * sp.exp(-X), X > 0.5), (C * (1.5 - X) / sp.Integer(10) ** 20 + C, True)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_keeps_the_model_symbols_and_predictions(name):
    model = CASES[name]
    res = sg.curve_fit(model, {X: XS}, Y)
    back = _round_trip(res)
    assert back.spec.datasets[0].model == model  # the same tree, node by node
    assert list(back.params) == list(res.params) and back.fitted == res.fitted
    for s in res.params:  # keys are the caller's symbols, assumptions included
        assert back.params[s] == res.params[s]
    np.testing.assert_array_equal(back.predict(NEW), res.predict(NEW))
    for a, b in zip(back.predict(NEW, band="confidence"), res.predict(NEW, band="confidence")):
        np.testing.assert_array_equal(a, b)
    assert back.to_json() == res.to_json()


def test_assumptions_and_fixed_symbols_survive():
    res = sg.curve_fit(A_POSITIVE * sp.exp(-K_REAL * X) + C, {X: XS}, Y, fixed={C: 0.01})
    back = _round_trip(res)
    assert back.params[A_POSITIVE] == res.params[A_POSITIVE]
    assert back.fixed == {C: 0.01}
    assert next(s for s in back.fitted if s.name == "A").is_positive


def test_version_1_files_with_text_models_are_still_read():
    res = sg.curve_fit(C * sp.exp(-K_REAL * X), {X: XS}, Y)
    doc = json.loads(res.to_json())
    doc["version"] = 1
    del doc["symbols"]
    doc["spec"]["datasets"][0]["model"] = "c*exp(-k*x)"
    back = sg.FitResult.from_json(json.dumps(doc))
    assert [s.name for s in back.fitted] == ["c", "k"]
    np.testing.assert_allclose(back.predict(NEW), res.predict(NEW), rtol=1e-15)


@pytest.mark.parametrize("node, match", [
    (["__import__", ["Symbol", "c"]], "unknown model node '__import__'"),
    (["Symbol", "nobody"], "a symbol node names a symbol"),
    (["Integer", "1e3"], "string of digits"),
    (["Float", 0.5], "malformed number"),
    ("c*x", None),  # a text model in a version 2 file is still only parsed, never executed
])
def test_a_malformed_model_is_refused_by_name(node, match):
    res = sg.curve_fit(C * X, {X: XS}, Y)
    doc = json.loads(res.to_json())
    doc["spec"]["datasets"][0]["model"] = node
    if match is None:
        assert sg.FitResult.from_json(json.dumps(doc)).spec.datasets[0].model == C * X
        return
    with pytest.raises(InputError, match=match):
        sg.FitResult.from_json(json.dumps(doc))


def test_inconsistent_assumptions_are_refused():
    res = sg.curve_fit(C * X, {X: XS}, Y)
    doc = json.loads(res.to_json())
    doc["symbols"]["c"] = {"positive": True}  # not the full assumptions0 of a symbol
    with pytest.raises(InputError, match="assumptions of 'c'"):
        sg.FitResult.from_json(json.dumps(doc))
    doc["symbols"]["c"] = {"commutative": "yes"}
    with pytest.raises(InputError, match="must map names to true/false"):
        sg.FitResult.from_json(json.dumps(doc))
