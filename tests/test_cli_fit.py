"""`symgrad fit`: least squares on a CSV file, the report, --json, and exit codes."""

import json
import re

import numpy as np
import pytest

import symgrad as sg
from nist_strd import load
from symgrad._csv import write_columns
from symgrad.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def value_of(out, name):
    return float(re.search(rf"^\s+{name}\s+(\S+)\s+(\S+)", out, re.M).group(1))


@pytest.fixture
def misra1a(tmp_path):
    p = load("Misra1a")
    path = tmp_path / "misra1a.csv"
    path.write_text(write_columns({"y": p.y, "x": p.xdata}))
    return p, path


def test_misra1a_reaches_the_certified_values_and_writes_json(capsys, misra1a, tmp_path):
    p, path = misra1a
    out_json = tmp_path / "fit.json"
    code, out, err = run(capsys, "fit", "b1*(1 - exp(-b2*x))", "--csv", str(path), "--y", "y",
                         "--p0", "b1=500", "b2=1e-4", "--json", str(out_json))
    assert code == EXIT_OK, err
    assert "14 rows" in out and "least-squares fit (converged)" in out
    assert value_of(out, "b1") == pytest.approx(p.certified[0], rel=1e-8)
    assert value_of(out, "b2") == pytest.approx(p.certified[1], rel=1e-8)
    res = sg.FitResult.from_json(out_json.read_text())
    np.testing.assert_allclose(res.x, p.certified, rtol=1e-6)
    np.testing.assert_allclose([res.stderr[s] for s in res.fitted], p.certified_stderr, rtol=1e-5)


def test_a_fit_that_does_not_converge_exits_1_and_says_so(capsys, misra1a):
    _, path = misra1a
    code, out, _ = run(capsys, "fit", "b1*(1 - exp(-b2*x))", "--csv", str(path), "--target", "y",
                       "--p0", "b1=500", "b2=1e-4", "--max-nfev", "3")
    assert code == EXIT_FAILED
    assert "did not converge" in out and "NOT SUCCESSFUL" in out


def test_sigma_fixed_bounds_and_semicolons(capsys, tmp_path):
    rng = np.random.default_rng(4)
    t = np.linspace(0, 4, 30)
    err = np.full(t.size, 0.05)
    y = 2.0 * np.exp(-0.9 * t) + 0.3 + rng.normal(0, 0.05, t.size)
    path = tmp_path / "decay.csv"
    path.write_text("\ufeff" + write_columns({"t": t, "counts": y, "err": err}, ";"))
    code, out, err_text = run(capsys, "fit", "a*exp(-k*t) + c", "--csv", str(path), "--y", "counts",
                              "--sigma", "err", "--absolute-sigma", "--fixed", "c=0.3", "--bounds", "k=0:inf")
    assert code == EXIT_OK, err_text
    expected = sg.curve_fit(sg.parse("a*exp(-k*t) + c"), {"t": t}, y, sigma=err, absolute_sigma=True,
                            fixed={"c": 0.3}, bounds={"k": (0, None)})
    assert value_of(out, "a") == pytest.approx(expected.params[sg.parse("a")], rel=1e-9)
    assert "(fixed)" in out and "sigma absolute" in out


BAD = [
    (["--p0", "q=1"], r"--p0 names q, which the model does not use"),
    (["--p0", "a"], r"--p0 takes NAME=VALUE pairs"),
    (["--bounds", "a=0"], r"--bounds takes NAME=LO:HI"),
    (["--bounds", "a=zero:1"], r"--bounds a: 'zero' is not a number"),
    (["--bounds", "a=5:-inf"], r"--bounds a: an upper bound of -inf leaves no value inside"),
    (["--bounds", "a=inf:5"], r"--bounds a: a lower bound of inf leaves no value inside"),
    (["--bounds", "a=+inf:"], r"--bounds a: a lower bound of \+inf leaves no value inside"),
    (["--bounds", "a=:-inf"], r"--bounds a: an upper bound of -inf"),
    (["--bounds", "a=nan:1"], r"--bounds a: the lower bound is NaN"),
    (["--bounds", "a=5:3"], r"--bounds a=5:3 needs LO < HI"),
    (["--max-nfev", "0"], r"max_nfev must be a positive integer"),
    (["--sigma", "err"], r"no column err"),
    (["--fixed", "a=x"], r"--fixed a: 'x' is not a number"),
]


@pytest.mark.parametrize("extra, pattern", BAD, ids=[p for _, p in BAD])
def test_bad_options_are_one_line_errors(capsys, tmp_path, extra, pattern):
    path = tmp_path / "line.csv"
    path.write_text(write_columns({"x": np.arange(5.0), "y": 2 * np.arange(5.0) + 1}))
    code, _, err = run(capsys, "fit", "a*x + b", "--csv", str(path), "--y", "y", *extra)
    assert code == EXIT_USAGE
    lines = err.strip().splitlines()
    assert len(lines) == 1 and re.search(pattern, lines[0]), err


def test_json_is_standard_json(capsys, tmp_path):
    path = tmp_path / "line.csv"
    path.write_text(write_columns({"x": np.arange(6.0), "y": np.array([1.0, 3.1, 4.9, 7.2, 9.0, 10.8])}))
    out_json = tmp_path / "out.json"
    code, _, _ = run(capsys, "fit", "a*x + b", "--csv", str(path), "--y", "y", "--params", "a", "b", "c",
                     "--json", str(out_json))
    assert code == EXIT_USAGE  # c is not in the model: --params must name model symbols
    code, _, _ = run(capsys, "fit", "a*x + b", "--csv", str(path), "--y", "y", "--json", str(out_json))
    assert code == EXIT_OK
    doc = json.loads(out_json.read_text())
    assert doc["fitted"] == ["a", "b"] and doc["dof"] == 4


def test_bounds_open_sides_and_infinities():
    from symgrad._cli_fit import parse_bounds

    assert parse_bounds(["a=0:inf", "b=:5", "c=-inf:+inf", "d=-5:"]) == {
        "a": (0.0, None), "b": (None, 5.0), "c": (None, None), "d": (-5.0, None)}
