"""GradientCheck: errors, verdict and table built from given gradients."""

import numpy as np
import pytest
import sympy as sp

from symgrad.check import GradientCheck, Kink

x, y = sp.symbols("x y")


def report(symbolic, autograd, numeric, **kw):
    return GradientCheck((x, y), np.zeros(2), np.array(symbolic, float), np.array(autograd, float),
                         np.array(numeric, float), **kw)


def test_errors_are_the_worst_of_both_comparisons():
    r = report([1.0, 0.0], [1.0, 0.0], [1.1, 0.0])
    assert r.max_abs_error == pytest.approx(0.1) and r.max_rel_error == pytest.approx(0.1)
    assert not r.ok
    assert report([0.0, 0.0], [0.0, 0.0], [0.0, 1e-9]).max_rel_error == np.inf


def test_tolerances_read_like_isclose():
    assert report([1.0, 2.0], [1.0, 2.0], [1.0 + 5e-7, 2.0]).ok
    assert not report([1.0, 2.0], [1.0, 2.0], [1.0 + 5e-6, 2.0]).ok
    assert report([0.0, 2.0], [5e-9, 2.0], [0.0, 2.0]).ok  # atol


def test_at_a_kink_numeric_is_not_judged():
    kink = (Kink("Abs(x) at x = 0", True),)
    r = report([0.0, 1.0], [0.0, 1.0], [0.5, 1.0], kinks=kink, left=np.array([-1.0, 1.0]),
               right=np.array([1.0, 1.0]))
    assert r.ok
    text = str(r)
    assert "kink: Abs(x) at x = 0" in text and text.splitlines()[1].split()[-1] == "kink"
    assert not report([0.0, 1.0], [0.5, 1.0], [0.5, 1.0], kinks=kink, left=np.zeros(2), right=np.zeros(2)).ok


def test_table_has_a_row_per_symbol_and_a_verdict():
    lines = str(report([1.0, 2.0], [1.0, 2.0], [1.0, 2.0])).splitlines()
    assert lines[0].split() == ["symbol", "symbolic", "autograd", "numeric", "abs", "error"]
    assert lines[1].split()[0] == "x" and lines[2].split()[0] == "y"
    assert lines[-1] == "OK"
    assert repr(report([1.0, 2.0], [1.0, 2.0], [1.0, 2.0])).startswith("GradientCheck(ok=True")


def test_report_is_frozen():
    r = report([1.0, 2.0], [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(AttributeError):
        r.rtol = 1.0
