"""The symgrad command line: output, exit codes, and one-line errors for bad input."""

import re

import numpy as np
import pytest

from symgrad.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err, pattern):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("symgrad: error: ")
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in err


def test_help_lists_commands_and_exit_codes(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == EXIT_OK
    for command in ("grad", "check", "minimize", "fit", "demo", "exit codes"):
        assert command in out


@pytest.mark.parametrize("command", ["grad", "check", "minimize", "fit", "demo"])
def test_every_command_help_shows_examples(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == EXIT_OK
    assert "examples:" in out and f"symgrad {command}" in out


def test_no_command_prints_help_and_fails(capsys):
    code, out, _ = run(capsys)
    assert code == EXIT_USAGE and "commands:" in out


def test_grad_prints_each_partial(capsys):
    code, out, _ = run(capsys, "grad", "x^2*sin(y)", "--wrt", "x", "y")
    assert code == EXIT_OK
    assert out.splitlines() == ["d/dx = 2*x*sin(y)", "d/dy = x**2*cos(y)"]


def test_grad_defaults_to_every_symbol_by_name(capsys):
    code, out, _ = run(capsys, "grad", "b*a")
    assert out.splitlines() == ["d/da = b", "d/db = a"]


def test_grad_latex_and_steps(capsys):
    code, out, _ = run(capsys, "grad", "x*sin(x)", "--wrt", "x", "--latex")
    assert out.strip() == r"\frac{\partial}{\partial x} = x \cos{\left(x \right)} + \sin{\left(x \right)}"
    code, out, _ = run(capsys, "grad", "x*sin(x)", "--wrt", "x", "--steps")
    assert code == EXIT_OK
    assert "product rule" in out and "trig rule" in out
    assert "result: x*cos(x) + sin(x)" in out


def test_check_prints_the_table_and_passes(capsys):
    code, out, _ = run(capsys, "check", "x^2*sin(y)", "--at", "x=1", "y=2")
    assert code == EXIT_OK
    # d/dx = 2 x sin(y) = 2 sin 2, d/dy = x^2 cos(y) = cos 2
    assert f"{2 * np.sin(2.0):.12f}"[:8] in out
    assert f"{np.cos(2.0):.12f}"[:8] in out
    rows = [line for line in out.splitlines() if line.startswith(("x ", "y "))]
    assert len(rows) == 2


def test_check_fails_with_exit_1_when_tolerances_cannot_be_met(capsys):
    # abs() forces central differences, whose truncation error cannot meet rtol = atol = 0
    code, out, _ = run(capsys, "check", "abs(x)*x^3", "--at", "x=1.3", "--rtol", "0", "--atol", "0")
    assert code == EXIT_FAILED
    assert out.strip().splitlines()[-1] != "OK"


def test_minimize_an_expression(capsys):
    code, out, _ = run(capsys, "minimize", "(x - 3)^2 + (y + 1)^2", "--x0", "0", "0",
                       "--optimizer", "gd", "--lr", "0.25", "--steps", "200", "--tol", "1e-10")
    assert code == EXIT_OK
    values = dict(re.findall(r"^\s+([xy])\s+=\s+(\S+)$", out, re.M))
    assert float(values["x"]) == pytest.approx(3.0, abs=1e-8)
    assert float(values["y"]) == pytest.approx(-1.0, abs=1e-8)


def test_minimize_a_textbook_function_by_name(capsys):
    code, out, _ = run(capsys, "minimize", "booth", "--x0", "0", "0", "--optimizer", "adam",
                       "--lr", "0.1", "--steps", "3000")
    assert code == EXIT_OK
    assert "known minimum: f(1, 3) = 0" in out  # Booth's minimum is (1, 3)


def test_minimize_that_diverges_exits_1(capsys):
    # one step of x - lr * 2x with lr = 1e300 takes x^2 beyond float64: the loss is inf
    code, out, _ = run(capsys, "minimize", "x^2", "--x0", "1", "--optimizer", "gd",
                       "--lr", "1e300", "--steps", "5")
    assert code == EXIT_FAILED and "diverged" in out


@pytest.fixture
def houses(tmp_path):
    rng = np.random.default_rng(0)
    size = rng.uniform(0.5, 2.5, 40)
    price = 3.0 * size + 1.5  # exact line: the least-squares fit is w = 3, b = 1.5
    path = tmp_path / "houses.csv"
    lines = ["size,rooms,price"] + [f"{float(s)!r},{i % 5},{float(p)!r}" for i, (s, p) in enumerate(zip(size, price))]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_fit_recovers_an_exact_line(capsys, houses):
    code, out, _ = run(capsys, "fit", "w*size + b", "--csv", str(houses), "--target", "price",
                       "--params", "w", "b", "--x0", "0", "0", "--optimizer", "adam", "--lr", "0.1",
                       "--epochs", "400", "--batch-size", "8", "--seed", "1")
    assert code == EXIT_OK
    values = dict(re.findall(r"^\s+([wb])\s+=\s+(\S+)$", out, re.M))
    assert float(values["w"]) == pytest.approx(3.0, abs=1e-2)
    assert float(values["b"]) == pytest.approx(1.5, abs=2e-2)
    assert "40 rows" in out


BAD_INPUT = [
    (["grad", "x^2+"], r"cannot read EXPR"),
    (["grad", "__import__('os')"], r"cannot read EXPR"),
    (["grad", "x" * 20000], r"^symgrad: error: cannot read EXPR 'x{60}\.\.\. \(20,000 characters\)': .{0,100}$"),
    (["grad", "zeta(x)"], r"zeta"),
    (["grad", "x", "--wrt", "1x"], r"not a symbol name"),
    (["grad", "x", "--bogus"], r"unrecognized arguments"),
    (["check", "x*y", "--at", "x=1"], r"no value for y"),
    (["check", "x", "--at", "x=one"], r"'one' is not a number"),
    (["check", "x", "--at", "x"], r"NAME=VALUE"),
    (["minimize", "x^2", "--x0", "1", "2"], r"--x0 needs 1 values"),
    (["minimize", "x^2", "--optimizer", "newton"], r"invalid choice"),
    (["minimize", "x^2", "--lr", "-1"], r"--lr must be a positive"),
    (["minimize", "3"], r"no symbols"),
    # the traps a learner falls into: each a clear error, not a silent answer
    (["minimize", "rosenbrok"], r"'rosenbrok' is not a textbook function \(did you mean rosenbrock\?\)"),
    (["minimize", "Booth"], r"did you mean booth\?"),
    (["minimize", "w"], r"'w' is not a textbook function; they are rosenbrock, .* A lone symbol has no minimum"),
    (["grad", "x^2", "--wrt", "X"], r"--wrt names X, which 'x\^2' does not use \(did you mean x\?\); its symbols are x"),
    (["grad", "w*x + b", "--wrt", "w", "c"], r"--wrt names c, .* its symbols are b, w, x"),
    (["check", "x^2", "--at", "x=1", "y=2", "--wrt", "y"], r"--wrt names y, .* its symbols are x"),
    (["grad", "2x"], r"write 2\*x for 2 times x"),
    (["check", "x^2", "--at", "x=1", "X=2"], r"--at names X, which 'x\^2' does not use \(did you mean x\?\)"),
]


@pytest.mark.parametrize("argv, pattern", BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, pattern):
    code, _, err = run(capsys, *argv)
    assert code == EXIT_USAGE
    assert_one_line_error(err, pattern)


def test_fit_bad_files_are_one_line_errors(capsys, tmp_path, houses):
    base = ["fit", "w*size + b", "--target", "price", "--params", "w", "b"]
    code, _, err = run(capsys, *base, "--csv", str(tmp_path / "missing.csv"))
    assert code == EXIT_USAGE
    assert_one_line_error(err, r"cannot read .*missing.csv")

    code, _, err = run(capsys, "fit", "w*area + b", "--csv", str(houses), "--target", "price",
                       "--params", "w", "b")
    assert_one_line_error(err, r"no column area \(columns: size, rooms, price\)")

    bad = tmp_path / "bad.csv"
    bad.write_text("size,price\n1,2\n2,four\n")
    code, _, err = run(capsys, *base, "--csv", str(bad))
    assert code == EXIT_USAGE
    assert_one_line_error(err, r"line 3, column price: 'four' is not a number")

    empty = tmp_path / "empty.csv"
    empty.write_text("size,price\n")
    code, _, err = run(capsys, *base, "--csv", str(empty))
    assert_one_line_error(err, r"no data rows")

    code, _, err = run(capsys, "fit", "w*size", "--csv", str(houses), "--target", "price",
                       "--params", "w", "b")
    assert_one_line_error(err, r"does not use")


def test_demo_prints_every_section_and_writes_pictures(capsys, tmp_path):
    out_dir = tmp_path / "pictures"
    code, out, err = run(capsys, "demo", "--out", str(out_dir))
    assert code == EXIT_OK, err
    assert "d/dx = 2*x*sin(y)" in out and "d/dy = x**2*cos(y)" in out
    for heading in ("== 1.", "== 2.", "== 3.", "== 4.", "== 5."):
        assert heading in out
    assert "constant multiple rule" in out and "def scalar(x, y):" in out
    fitted = {name: (float(a), float(b)) for name, a, b in
              re.findall(r"^([wb])\s+(\S+)\s+(\S+)\s+\S+$", out, re.M)}
    # the data are 3*size + 1.5 plus noise: the fit lands near the least-squares line
    assert fitted["w"][0] == pytest.approx(fitted["w"][1], abs=0.05)
    assert fitted["b"][0] == pytest.approx(fitted["b"][1], abs=0.05)
    assert fitted["w"][1] == pytest.approx(3.0, abs=0.1)
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["backprop-graph.png", "fit.png", "gradient-check.png", "loss-curves.png",
                     "loss-surface.png", "optimizer-paths.png"]
    assert all((out_dir / n).stat().st_size > 1000 for n in names)


def test_demo_without_plots_writes_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "demo", "--no-plots")
    assert code == EXIT_OK
    assert "== 5." not in out
    assert list(tmp_path.iterdir()) == []


def test_e_to_a_power_is_eulers_number(capsys):
    code, out, err = run(capsys, "grad", "e^(2*x)")
    assert code == EXIT_OK and err == ""
    assert out.strip() == "d/dx = 2*exp(2*x)"


def test_a_lone_e_is_a_symbol_with_a_one_line_warning(capsys):
    code, out, err = run(capsys, "grad", "e*x", "--wrt", "x")
    assert code == EXIT_OK
    assert out.strip() == "d/dx = e"
    assert err.strip() == ("symgrad: warning: 'e' is read as a symbol named e; Euler's number is "
                           "written E, and its powers E**x, e^x or exp(x).")


def test_activations_on_the_command_line(capsys):
    # d relu(w x + b)/dw = x H(w x + b), H(0) = 0: at w = 1, x = 2, b = -1 it is 2
    code, out, _ = run(capsys, "check", "relu(w*x + b)", "--at", "w=1", "x=2", "b=-1", "--wrt", "w")
    assert code == EXIT_OK and "OK" in out
    code, out, _ = run(capsys, "grad", "sigmoid(z)", "--wrt", "z")
    assert code == EXIT_OK and out.strip() == "d/dz = exp(-z)/(1 + exp(-z))**2"


def test_check_a_gradient_derived_by_hand(capsys):
    code, out, _ = run(capsys, "check", "x^2*sin(y)", "--at", "x=1", "y=2", "--gradient", "2*x*sin(y)", "x^2*cos(y)")
    assert code == EXIT_OK and "your gradient: all 2 entries agree" in out
    code, out, _ = run(capsys, "check", "x^2*sin(y)", "--at", "x=1", "y=2", "--gradient", "2*x*sin(y)", "x^2*sin(y)")
    assert code == EXIT_FAILED
    assert "d/dy: yours x**2*sin(y) = 0.9092974268, exact x**2*cos(y) = -0.4161468365" in out  # sin 2, cos 2
    code, _, err = run(capsys, "check", "x^2*sin(y)", "--at", "x=1", "y=2", "--gradient", "2*x")
    assert code == EXIT_USAGE
    assert_one_line_error(err, r"--gradient needs 2 expressions, one per symbol \(x y\), got 1")
