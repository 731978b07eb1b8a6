"""``symgrad fit`` by least squares: read the CSV file, call ``curve_fit``, print the report.

The model's symbols that are column names of the file are data; the others are the
parameters (or ``--params``). ``--p0 a=1``, ``--fixed c=0`` and ``--bounds a=0:inf``
(either side may be empty, or ``-inf`` below and ``inf`` above, for an open side; LO < HI)
name parameters. Exit code 1 when the fit
does not converge.
"""

from __future__ import annotations

import math

from symgrad._csv import read_columns, read_header

__all__ = ["run_least_squares", "parse_pairs", "parse_bounds"]


def _error(message):
    from symgrad.cli import CommandError

    return CommandError(message)


def _name(text: str, option: str) -> str:
    name = text.strip()
    if not name.isidentifier():
        raise _error(f"{option}: {name!r} is not a symbol name (letters, digits and _)")
    return name


def parse_pairs(items, option: str) -> dict:
    """``["a=1", "b=2"]`` -> ``{"a": 1.0, "b": 2.0}``; errors name the option and the item."""
    out = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep:
            raise _error(f"{option} takes NAME=VALUE pairs, got {item!r}")
        name = _name(name, option)
        if name in out:
            raise _error(f"{option} gives {name} twice")
        try:
            number = float(value)
        except ValueError:
            raise _error(f"{option} {name}: {value.strip()!r} is not a number") from None
        if not math.isfinite(number):
            raise _error(f"{option} {name}: {value.strip()!r} is not a finite number")
        out[name] = number
    return out


def _side(text: str, name: str, which: str):
    """One side of ``--bounds NAME=LO:HI``: a number, or ``None`` for an open side.

    Empty, ``-inf`` (lower) and ``inf`` (upper) are open sides; an infinity on the
    other side (``inf`` as a lower bound, ``-inf`` as an upper) leaves no room and is
    an error, as is NaN.
    """
    text = text.strip()
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise _error(f"--bounds {name}: {text!r} is not a number (write LO:HI, e.g. 0:inf or :5)") from None
    if math.isnan(value):
        raise _error(f"--bounds {name}: the {which} bound is NaN (write LO:HI, e.g. 0:inf or :5)")
    if math.isinf(value):
        if (value < 0) == (which == "lower"):
            return None  # -inf below, +inf above: an open side
        article = "an" if which == "upper" else "a"
        raise _error(f"--bounds {name}: {article} {which} bound of {text} leaves no value inside; "
                     f"write LO:HI with LO < HI (an open side is empty, -inf below or inf above)")
    return value


def parse_bounds(items) -> dict:
    """``["a=0:inf", "b=:5"]`` -> ``{"a": (0.0, None), "b": (None, 5.0)}``."""
    out = {}
    for item in items or ():
        name, sep, pair = item.partition("=")
        lo, colon, hi = pair.partition(":")
        if not sep or not colon:
            raise _error(f"--bounds takes NAME=LO:HI, got {item!r}")
        name = _name(name, "--bounds")
        if name in out:
            raise _error(f"--bounds gives {name} twice")
        lower, upper = _side(lo, name, "lower"), _side(hi, name, "upper")
        if lower is not None and upper is not None and not lower < upper:
            raise _error(f"--bounds {name}={pair.strip()} needs LO < HI; to hold {name} constant use --fixed")
        out[name] = (lower, upper)
    return out


def run_least_squares(args, model, out) -> int:
    """Fit ``model`` to the CSV file by ``sg.curve_fit``; print the report (and write --json)."""
    import symgrad as sg
    from symgrad.cli import EXIT_FAILED, EXIT_OK

    header, _ = read_header(args.csv)
    p0 = parse_pairs(args.p0, "--p0")
    fixed = parse_pairs(args.fixed, "--fixed")
    bounds = parse_bounds(args.bounds)
    named = set(p0) | set(fixed) | set(bounds) | set(args.params or ())
    columns_used = {args.target} | ({args.sigma} if args.sigma else set())
    symbols = {s.name: s for s in model.free_symbols}
    if args.target in symbols:
        raise _error(f"the model uses the target column {args.target} itself")
    if args.params:
        # the parameters are named: every other symbol is a column (read_columns names a missing one)
        params = [_name(p, "--params") for p in args.params]
        unused = [p for p in params if p not in symbols]
        if unused:
            raise _error(f"--params names {', '.join(unused)}, which the model does not use")
        data_names = sorted(n for n in symbols if n not in params and n not in fixed)
    else:
        data_names = sorted(n for n in symbols if n in header and n not in named and n not in columns_used)
        params = sorted(n for n in symbols if n not in data_names and n not in fixed)
    for option, names in (("--p0", p0), ("--fixed", fixed), ("--bounds", bounds)):
        unknown = [n for n in names if n not in symbols]
        if unknown:
            raise _error(f"{option} names {', '.join(unknown)}, which the model does not use "
                         f"(its symbols: {', '.join(sorted(symbols))})")
    if args.x0 is not None:
        if len(args.x0) != len(params):
            raise _error(f"--x0 needs {len(params)} values ({' '.join(params)}), got {len(args.x0)}")
        p0 = {**dict(zip(params, args.x0)), **p0}
    table = read_columns(args.csv, data_names + sorted(columns_used))
    result = sg.curve_fit(model, {n: table[n] for n in data_names}, table[args.target], params=params,
                          p0=p0 or None, sigma=table[args.sigma] if args.sigma else None,
                          absolute_sigma=args.absolute_sigma, bounds=bounds or None, fixed=fixed or None,
                          max_nfev=args.max_nfev)
    rows = len(table[args.target])
    print(f"fit of {args.target} = {model} to {rows} rows of {args.csv} by least squares", file=out)
    print(result, file=out)
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as handle:
                handle.write(result.to_json(indent=1))
        except OSError as exc:
            raise _error(f"cannot write {args.json}: {exc.strerror or exc}") from None
    if not result.success:
        print(f"the fit did not converge: {result.message}", file=out)
        return EXIT_FAILED
    return EXIT_OK
