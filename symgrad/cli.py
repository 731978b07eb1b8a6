"""The ``symgrad`` command line: derivatives, gradient checks, minimization and fits.

Expressions typed on the command line are read with :func:`symgrad.parse`, which
never runs the text as Python. Exit codes:

- ``0``: success;
- ``1``: the command ran but the answer is not good: ``check`` found gradients that
  disagree, or a ``minimize`` / ``fit`` run diverged;
- ``2``: bad input (an expression that does not parse, an unsupported function, a
  missing CSV column, a number that is not a number, a bad option), reported as one
  line ``symgrad: error: ...`` on standard error;
- ``130``: interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import difflib
import keyword
import math
import sys
import warnings

import numpy as np
import sympy as sp

from symgrad.errors import SymgradError, SymgradWarning

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED"]

#: Optimizer names accepted by ``--optimizer``, and the ``sg.optim`` class each one builds.
OPTIMIZERS = {
    "gd": "GradientDescent",
    "sgd": "SGD",
    "momentum": "SGD",
    "adagrad": "Adagrad",
    "rmsprop": "RMSProp",
    "adam": "Adam",
    "adamw": "AdamW",
}

#: Textbook functions ``minimize`` accepts by name (``sg.functions``).
TEXTBOOK = ("rosenbrock", "himmelblau", "beale", "booth", "matyas", "sphere", "rastrigin",
            "three_hump_camel")


class CommandError(SymgradError, ValueError):
    """Bad command-line input: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line and exit code 2."""

    def error(self, message):
        raise CommandError(f"{message} (see `{self.prog} --help`)")


def _formatter(prog):
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


GRAD_EXAMPLES = """examples:
  symgrad grad "x^2*sin(y)" --wrt x y
  symgrad grad "log(1 + exp(x))" --wrt x --steps
  symgrad grad "max(0, w*x + b)" --wrt w b --latex
"""

CHECK_EXAMPLES = """examples:
  symgrad check "x^2*sin(y)" --at x=1 y=2
  symgrad check "abs(x) + y^2" --at x=0 y=1        (a kink: the report says so)
  symgrad check "exp(a*x)" --at a=0.5 x=2 --wrt a --rtol 1e-8
  symgrad check "x^2*sin(y)" --at x=1 y=2 --gradient "2*x*sin(y)" "x^2*cos(y)"   (yours, checked too)

exit code 0 when the three gradients agree, 1 when they do not, 2 on bad input.
"""

MINIMIZE_EXAMPLES = """examples:
  symgrad minimize rosenbrock --x0 -1.2 1 --optimizer adam --lr 0.01 --steps 5000
  symgrad minimize himmelblau --x0 0 0 --optimizer gd --lr 0.01 --steps 500 --tol 1e-8
  symgrad minimize "(x - 3)^2 + (y + 1)^2" --x0 0 0 --optimizer momentum --lr 0.1

NAME is one of: """ + ", ".join(TEXTBOOK) + """.
An expression's parameters are its symbols sorted by name; --x0 gives one value each
(default: all zeros).
"""

FIT_EXAMPLES = """examples:
  symgrad fit "b1*(1 - exp(-b2*x))" --csv misra1a.csv --y y --p0 b1=500 b2=1e-4
  symgrad fit "a*exp(-k*t) + c" --csv decay.csv --y counts --sigma err --bounds k=0:inf --json fit.json
  symgrad fit "w*size + b" --csv houses.csv --target price --fixed b=0
  symgrad fit "w*size + b" --csv houses.csv --target price --params w b --optimizer adam \\
      --lr 0.05 --epochs 300 --batch-size 32 --seed 0

The CSV file has a header row (delimiter , ; or tab, detected from it). The model's
symbols that are column names are data, the others parameters (or --params). The fit
is least squares by Levenberg-Marquardt with the exact Jacobian, minimising
sum(((MODEL - Y) / SIGMA)^2), and prints values, standard errors, correlations and
statistics; exit code 1 if it does not converge. With --optimizer it is instead a
gradient-descent fit of the mean squared error.
"""

DEMO_EXAMPLES = """examples:
  symgrad demo
  symgrad demo --out pictures
  symgrad demo --no-plots
"""

MAIN_EXAMPLES = """commands:
  grad      exact partial derivatives, optionally step by step
  check     symbolic vs autograd vs finite-difference gradient at a point
  minimize  minimize an expression or a textbook function
  fit       fit a model's parameters to a CSV file (least squares)
  demo      a tour: derivatives, a check, a mini-batch fit, generated code, pictures

examples:
  symgrad grad "x^2*sin(y)" --wrt x y --steps
  symgrad check "x^2*sin(y)" --at x=1 y=2
  symgrad minimize rosenbrock --x0 -1.2 1 --steps 5000
  symgrad fit "w*x + b" --csv data.csv --target y --params w b

exit codes: 0 success, 1 failed check or diverged run, 2 bad input.
Expressions are read by symgrad.parse and never run as Python.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``symgrad`` and its subcommands."""
    parser = _Parser(prog="symgrad", description="Exact symbolic gradients, compiled with Numba.",
                     epilog=MAIN_EXAMPLES, formatter_class=_formatter)
    from symgrad import __version__

    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name, help, epilog):
        return sub.add_parser(name, help=help, description=help, epilog=epilog, formatter_class=_formatter)

    grad = command("grad", "print the exact partial derivatives of an expression", GRAD_EXAMPLES)
    grad.add_argument("expr", metavar="EXPR", help="the expression, e.g. \"x^2*sin(y)\"")
    grad.add_argument("--wrt", nargs="+", metavar="SYMBOL",
                      help="symbols to differentiate with respect to (default: all, sorted by name)")
    grad.add_argument("--latex", action="store_true", help="print LaTeX instead of plain text")
    grad.add_argument("--steps", action="store_true", help="also print the derivation, rule by rule")

    check = command("check", "compare symbolic, autograd and finite-difference gradients", CHECK_EXAMPLES)
    check.add_argument("expr", metavar="EXPR")
    check.add_argument("--at", nargs="+", required=True, metavar="NAME=VALUE",
                       help="the point: a value for every symbol of EXPR")
    check.add_argument("--wrt", nargs="+", metavar="SYMBOL",
                       help="symbols to differentiate (default: every symbol of EXPR)")
    check.add_argument("--gradient", nargs="+", metavar="EXPR",
                       help="your own partial derivatives, one per --wrt symbol, to be checked too")
    check.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance (default 1e-6)")
    check.add_argument("--atol", type=float, default=1e-8, help="absolute tolerance (default 1e-8)")

    mini = command("minimize", "minimize an expression or a textbook function", MINIMIZE_EXAMPLES)
    mini.add_argument("target", metavar="EXPR|NAME")
    mini.add_argument("--x0", nargs="+", type=float, metavar="VALUE", help="starting point")
    mini.add_argument("--dim", type=int, default=None,
                      help="dimension n of rosenbrock, sphere or rastrigin (default 2)")
    _optimizer_options(mini, lr=0.01)
    mini.add_argument("--steps", type=int, default=1000, help="largest number of steps (default 1000)")
    mini.add_argument("--tol", type=float, default=None,
                      help="stop when every |partial derivative| <= TOL")

    fit = command("fit", "fit a model to the rows of a CSV file by least squares, with a report",
                  FIT_EXAMPLES)
    fit.add_argument("expr", metavar="MODEL", help="the model, using column names as data symbols")
    fit.add_argument("--csv", required=True, metavar="FILE", help="CSV file with a header row")
    fit.add_argument("--y", "--target", dest="target", required=True, metavar="COLUMN",
                     help="the column the model predicts (--target is the same)")
    fit.add_argument("--sigma", metavar="COLUMN", help="the column of the uncertainties of y")
    fit.add_argument("--absolute-sigma", action="store_true",
                     help="take sigma as absolute: do not scale the covariance by the reduced chi-square")
    fit.add_argument("--params", nargs="+", metavar="NAME",
                     help="the parameters to fit (default: the model's symbols that are not columns)")
    fit.add_argument("--p0", nargs="+", metavar="NAME=VALUE", help="starting values (default 1)")
    fit.add_argument("--x0", nargs="+", type=float, metavar="VALUE",
                     help="starting values in --params order")
    fit.add_argument("--fixed", nargs="+", metavar="NAME=VALUE", help="parameters held at a value")
    fit.add_argument("--bounds", nargs="+", metavar="NAME=LO:HI",
                     help="bounds, e.g. a=0:inf or b=:5 (an empty side is open)")
    fit.add_argument("--max-nfev", type=int, default=None, metavar="N",
                     help="largest number of model evaluations (default 100 (n + 1))")
    fit.add_argument("--json", metavar="OUT", help="also write the result as JSON to OUT")
    fit.add_argument("--optimizer", default=None, choices=sorted(OPTIMIZERS),
                     help="fit by this gradient optimizer on the mean squared error instead")
    fit.add_argument("--lr", type=float, default=0.01, help="learning rate with --optimizer (default 0.01)")
    fit.add_argument("--epochs", type=int, default=100, help="passes over the data with --optimizer (default 100)")
    fit.add_argument("--batch-size", type=int, default=None, help="rows per update with --optimizer (default: all)")
    fit.add_argument("--seed", type=int, default=None, help="seed for x0 and the shuffling with --optimizer")
    fit.add_argument("--progress", action="store_true", help="show a progress bar (needs tqdm)")

    demo = command("demo", "a short tour of symgrad (under a minute)", DEMO_EXAMPLES)
    demo.add_argument("--out", default="symgrad-demo", metavar="DIR",
                      help="folder for the pictures (default: symgrad-demo)")
    demo.add_argument("--no-plots", action="store_true", help="skip the pictures")
    return parser


def _optimizer_options(parser, lr):
    parser.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS),
                        help="default adam; momentum is sgd with momentum 0.9")
    parser.add_argument("--lr", type=float, default=lr, help=f"learning rate (default {lr})")


# ---------------------------------------------------------------- input helpers

def _parse(text: str, what: str = "EXPR") -> sp.Expr:
    """``sg.parse(text)``; its warnings (e.g. ``e`` read as a symbol) as one line each on stderr."""
    import symgrad as sg

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SymgradWarning)
        try:
            expr = sg.parse(text)
        except ValueError as exc:
            shown = text if len(text) <= 80 else f"{text[:60]}... ({len(text):,} characters)"
            raise CommandError(f"cannot read {what} {shown!r}: {exc}") from None
    for warning in caught:
        if issubclass(warning.category, SymgradWarning):
            print(f"symgrad: warning: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return expr


def _suggestion(name: str, names) -> str:
    """``" (did you mean rosenbrock?)"`` for a near miss among ``names``, else ``""``."""
    names = list(names)
    lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.75)
    return f" (did you mean {lower[close[0]]}?)" if close else ""


def _present(symbols, expr, text: str, what: str = "--wrt") -> None:
    """Refuse symbols that ``expr`` does not use: d/dX of an expression without X is no question."""
    used = _by_name(expr)
    for s in symbols:
        if s not in expr.free_symbols:
            names = [u.name for u in used]
            have = f"its symbols are {', '.join(names)}" if names else "it has no symbols"
            raise CommandError(f"{what} names {s}, which {text!r} does not use{_suggestion(s.name, names)}; "
                               f"{have}")


def _symbols(names, expr=None, what="--wrt"):
    out = []
    for name in names:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise CommandError(f"{what}: {name!r} is not a symbol name (letters, digits and _)")
        out.append(sp.Symbol(name))
    if len(set(out)) != len(out):
        raise CommandError(f"{what} names a symbol twice: {' '.join(names)}")
    return out


def _by_name(expr) -> list:
    return sorted(expr.free_symbols, key=lambda s: s.name)


def _point(items) -> dict:
    point = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise CommandError(f"--at takes NAME=VALUE pairs, got {item!r}")
        (symbol,) = _symbols([name.strip()], what="--at")
        if symbol in point:
            raise CommandError(f"--at gives {name} twice")
        point[symbol] = _number(value.strip(), f"--at {name}")
    return point


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CommandError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise CommandError(f"{where}: {text!r} is not a finite number")
    return value


def _optimizer(name: str, lr: float):
    from symgrad import optim

    if not (math.isfinite(lr) and lr > 0):
        raise CommandError(f"--lr must be a positive number, got {lr}")
    cls = getattr(optim, OPTIMIZERS[name])
    return cls(lr, momentum=0.9) if name == "momentum" else cls(lr)


# ---------------------------------------------------------------- commands

def run_grad(args, out) -> int:
    """``symgrad grad``: one line per partial derivative (and the steps)."""
    import symgrad as sg
    from symgrad.explain import explain

    expr = _parse(args.expr)
    wrt = _symbols(args.wrt) if args.wrt else _by_name(expr)
    if not wrt:
        raise CommandError(f"{args.expr!r} has no symbols to differentiate: its derivative is 0")
    _present(wrt, expr, args.expr)
    grad = sg.gradient(expr, wrt)
    for symbol, partial in zip(wrt, grad):
        if args.latex:
            print(f"\\frac{{\\partial}}{{\\partial {sp.latex(symbol)}}} = {sp.latex(partial)}", file=out)
        else:
            print(f"d/d{symbol} = {partial}", file=out)
    if args.steps:
        for explanation in explain(expr, wrt):
            print(file=out)
            print(explanation.latex() if args.latex else explanation, file=out)
    return EXIT_OK


def run_check(args, out) -> int:
    """``symgrad check``: the three-way gradient table; exit 1 when the gradients disagree."""
    import symgrad as sg

    expr = _parse(args.expr)
    point = _point(args.at)
    missing = [s.name for s in _by_name(expr) if s not in point]
    if missing:
        raise CommandError(f"--at gives no value for {', '.join(missing)}")
    wrt = _symbols(args.wrt) if args.wrt else _by_name(expr)
    if not wrt:
        raise CommandError(f"{args.expr!r} has no symbols to differentiate")
    _present(wrt, expr, args.expr)
    _present(list(point), expr, args.expr, "--at")
    for s in wrt:
        if s not in point:
            raise CommandError(f"--wrt names {s}, which --at gives no value")
    mine = None
    if args.gradient:
        if len(args.gradient) != len(wrt):
            names = " ".join(s.name for s in wrt)
            raise CommandError(f"--gradient needs {len(wrt)} expressions, one per symbol ({names}), "
                               f"got {len(args.gradient)}")
        mine = [_parse(text, f"--gradient entry {i + 1}") for i, text in enumerate(args.gradient)]
    report = sg.check_gradient(expr, wrt, point, rtol=args.rtol, atol=args.atol, gradient=mine)
    print(report, file=out)
    return EXIT_OK if report.ok else EXIT_FAILED


def _textbook(name: str, dim):
    from symgrad import functions

    make = getattr(functions, name)
    if dim is None:
        return make()
    if name not in ("rosenbrock", "sphere", "rastrigin"):
        raise CommandError(f"--dim applies to rosenbrock, sphere and rastrigin, not {name}")
    if dim < 1:
        raise CommandError(f"--dim must be a positive integer, got {dim}")
    return make(n=dim)


def run_minimize(args, out) -> int:
    """``symgrad minimize``: an expression (parameters sorted by name) or a textbook function."""
    import symgrad as sg

    if args.target in TEXTBOOK:
        function = _textbook(args.target, args.dim)
        objective, symbols = function, tuple(function.symbols)
    else:
        name = args.target.strip()
        if name.isidentifier() and name not in ("pi", "E"):
            raise CommandError(
                f"{name!r} is not a textbook function{_suggestion(name, TEXTBOOK)}; they are "
                f"{', '.join(TEXTBOOK)}. A lone symbol has no minimum: to minimize an expression, "
                "write it, as in \"(x - 3)^2\""
            )
        if args.dim is not None:
            raise CommandError("--dim applies to the textbook functions only")
        expr = _parse(args.target, "EXPR|NAME")
        symbols = tuple(_by_name(expr))
        if not symbols:
            raise CommandError(f"{args.target!r} has no symbols to minimize over")
        objective, function = sg.Objective(expr, symbols), None
    if args.x0 is None:
        x0 = np.zeros(len(symbols))
    elif len(args.x0) != len(symbols):
        names = " ".join(str(s) for s in symbols)
        raise CommandError(f"--x0 needs {len(symbols)} values ({names}), got {len(args.x0)}")
    else:
        x0 = np.array(args.x0, dtype=float)
    if args.steps < 1:
        raise CommandError(f"--steps must be a positive integer, got {args.steps}")
    result = sg.minimize(objective, x0, optimizer=_optimizer(args.optimizer, args.lr),
                         steps=args.steps, tol=args.tol)
    print(result, file=out)
    if function is not None:
        where = ", ".join(f"{v:g}" for v in function.x_min)
        print(f"known minimum: f({where}) = {float(function.f_min):g}", file=out)
    return EXIT_FAILED if result.message.startswith("diverged") else EXIT_OK


def run_fit(args, out) -> int:
    """``symgrad fit``: least squares with a report (``_cli_fit``), or a gradient fit with --optimizer."""
    from symgrad._cli_fit import run_least_squares

    model = _parse(args.expr, "MODEL")
    if args.optimizer is None:
        return run_least_squares(args, model, out)
    return _run_gradient_fit(args, model, out)


def _run_gradient_fit(args, model, out) -> int:
    """``symgrad fit --optimizer ...``: minimise ``mean((model - target)^2)`` with ``sg.fit``."""
    import symgrad as sg
    from symgrad._csv import read_columns

    if not args.params:
        raise CommandError("--optimizer needs --params, the parameters to fit")
    params = _symbols(args.params, what="--params")
    target = _symbols([args.target], what="--target")[0]
    if target in params:
        raise CommandError(f"--target {target} is also named in --params")
    data = sorted(model.free_symbols - set(params), key=lambda s: s.name)
    if target in data:
        raise CommandError(f"the model uses the target column {target} itself")
    unused = [p.name for p in params if p not in model.free_symbols]
    if unused:
        raise CommandError(f"--params names {', '.join(unused)}, which the model does not use")
    columns = read_columns(args.csv, [s.name for s in data] + [target.name])
    if args.x0 is not None and len(args.x0) != len(params):
        raise CommandError(f"--x0 needs {len(params)} values ({' '.join(args.params)}), got {len(args.x0)}")
    if args.epochs < 1:
        raise CommandError(f"--epochs must be a positive integer, got {args.epochs}")
    if args.batch_size is not None and args.batch_size < 1:
        raise CommandError(f"--batch-size must be a positive integer, got {args.batch_size}")
    objective = sg.Objective((model - target) ** 2, params, data=[*data, target])
    result = sg.fit(objective, [columns[s.name] for s in [*data, target]], x0=args.x0,
                    optimizer=_optimizer(args.optimizer, args.lr), epochs=args.epochs,
                    batch_size=args.batch_size, seed=args.seed, progress=args.progress)
    n = len(columns[target.name])
    print(f"fit of {target} = {model} to {n} rows of {args.csv}, loss = mean squared error", file=out)
    print(result, file=out)
    return EXIT_FAILED if result.message.startswith("diverged") else EXIT_OK


def run_demo(args, out) -> int:
    """``symgrad demo``: see :mod:`symgrad.demo`."""
    from symgrad.demo import run

    run(out=None if args.no_plots else args.out, stream=out)
    return EXIT_OK


COMMANDS = {"grad": run_grad, "check": run_check, "minimize": run_minimize, "fit": run_fit,
            "demo": run_demo}


def main(argv=None) -> int:
    """Run ``symgrad`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code.

    Example:
        >>> main(["grad", "x^3", "--wrt", "x"])
        d/dx = 3*x**2
        0
    """
    out = sys.stdout
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(out)
            return EXIT_USAGE
        return COMMANDS[args.command](args, out)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except KeyboardInterrupt:
        print("symgrad: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CommandError, ValueError, TypeError, ArithmeticError, NotImplementedError, ImportError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"symgrad: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug: still one line, no traceback
        message = " ".join(str(exc).split())
        print(f"symgrad: error: internal error ({type(exc).__name__}: {message}); please report it",
              file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
