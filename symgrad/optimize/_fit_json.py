"""``FitResult`` as JSON and back: numbers as ``repr`` floats, models as expression trees.

A model is written as a tree of JSON lists, one node per SymPy node, and rebuilt
node by node with ``evaluate=False``, so the expression read back is the one
written (``==``: the same tree), hence the same compiled code and bitwise the same
``predict``. Nothing is parsed or executed: every node names its class
from a fixed table.

====================================  ============================================
node                                  SymPy
====================================  ============================================
``["Symbol", name]``                  the symbol ``name`` of the ``"symbols"`` table,
                                      which holds its assumptions (``assumptions0``)
``["Integer", "12"]``                 ``Integer(12)``, exact
``["Rational", "1", "3"]``            ``Rational(1, 3)``, exact
``["Float", "0.1"]``                  ``Float`` of that float64 (its ``repr``); a
                                      ``Float`` of more digits keeps the float64
                                      value, the one the compiled model uses
``["Pi"]``, ``["Exp1"]``, ...         the constants of ``CONSTANTS``
``["Add", a, b, ...]``                ``Add(a, b, ..., evaluate=False)``; likewise
                                      ``Mul``, ``Pow``, the functions of
                                      ``symgrad._functions``, relations and logic
``["ExprCondPair", e, c]``            a piece of a ``Piecewise``
====================================  ============================================

Version 1 files, whose models are text, are still read (with ``sg.parse``).
"""

from __future__ import annotations

import json
import math

import numpy as np
import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

from symgrad._functions import FUNCTION_TABLE
from symgrad.errors import InputError

__all__ = ["CONSTANTS", "NODES", "decode_expr", "encode_expr", "read_json", "write_json"]

FORMAT = "symgrad.FitResult"
#: Version 2 stores the models as trees; version 1 (models as text) is still read.
VERSION = 2
READABLE = (1, 2)

#: Constant nodes (no arguments).
CONSTANTS = {"Pi": sp.pi, "Exp1": sp.E, "Infinity": sp.oo, "NegativeInfinity": -sp.oo, "NaN": sp.nan,
             "BooleanTrue": sp.true, "BooleanFalse": sp.false}

#: Nodes with arguments: class name -> the SymPy class, rebuilt with ``evaluate=False``.
NODES = {
    "Add": sp.Add, "Mul": sp.Mul, "Pow": sp.Pow,
    "Equality": sp.Eq, "Unequality": sp.Ne, "StrictLessThan": sp.Lt, "LessThan": sp.Le,
    "StrictGreaterThan": sp.Gt, "GreaterThan": sp.Ge, "And": sp.And, "Or": sp.Or, "Not": sp.Not,
    **{name: row.sympy for name, row in FUNCTION_TABLE.items()},
}


def _fail(message: str) -> InputError:
    return InputError(f"FitResult.from_json: {message}")


# -- expressions ----------------------------------------------------------------------
def encode_expr(expr, symbols: dict) -> list:
    """The JSON tree of ``expr``; each symbol is recorded in ``symbols`` (name -> symbol).

    Raises:
        InputError: a node outside the table, or two different symbols of one name.
    """
    if type(expr) is sp.Symbol:
        seen = symbols.setdefault(expr.name, expr)
        if seen != expr:
            raise InputError(f"to_json: two different symbols are named {expr.name!r} ({seen.assumptions0} "
                             f"and {expr.assumptions0}); rename one")
        return ["Symbol", expr.name]
    if expr.is_Integer:
        return ["Integer", str(int(expr))]
    if expr.is_Rational:
        return ["Rational", str(expr.p), str(expr.q)]
    if expr.is_Float:
        return ["Float", repr(float(expr))]
    name = type(expr).__name__
    if name in CONSTANTS and CONSTANTS[name] == expr:
        return [name]
    if name in NODES or isinstance(expr, ExprCondPair):
        return [name, *(encode_expr(a, symbols) for a in expr.args)]
    raise InputError(f"to_json: the model has a {name} ({expr}), which the JSON format does not store")


def decode_expr(node, symbols: dict):
    """The SymPy expression of a tree written by :func:`encode_expr`; ``symbols``: name -> symbol."""
    if not isinstance(node, list) or not node or not isinstance(node[0], str):
        raise _fail(f"a model node must be a list [kind, ...], got {node!r}")
    kind, args = node[0], node[1:]
    if kind == "Symbol":
        if len(args) != 1 or args[0] not in symbols:
            raise _fail(f"a symbol node names a symbol of the 'symbols' table, got {node!r}")
        return symbols[args[0]]
    if kind in ("Integer", "Rational", "Float"):
        return _number(kind, args, node)
    if kind in CONSTANTS:
        if args:
            raise _fail(f"the constant {kind} takes no arguments, got {node!r}")
        return CONSTANTS[kind]
    if kind == "ExprCondPair":
        if len(args) != 2:
            raise _fail(f"a Piecewise piece is [\"ExprCondPair\", value, condition], got {node!r}")
        return ExprCondPair(*(decode_expr(a, symbols) for a in args))
    if kind not in NODES:
        raise _fail(f"unknown model node {kind!r} (known: {', '.join(sorted([*NODES, *CONSTANTS]))})")
    return NODES[kind](*(decode_expr(a, symbols) for a in args), evaluate=False)


def _integer(text, node) -> int:
    if not isinstance(text, str) or not text.lstrip("-").isdigit():
        raise _fail(f"an exact number is written as a string of digits, got {node!r}")
    return int(text)


def _number(kind, args, node):
    if kind == "Integer" and len(args) == 1:
        return sp.Integer(_integer(args[0], node))
    if kind == "Rational" and len(args) == 2:
        return sp.Rational(_integer(args[0], node), _integer(args[1], node))
    if kind == "Float" and len(args) == 1 and isinstance(args[0], str):
        try:
            return sp.Float(float(args[0]))
        except ValueError:
            raise _fail(f"a Float node holds the repr of a float, got {node!r}") from None
    raise _fail(f"a malformed number node {node!r}")


def _symbol(name, assumptions):
    if not isinstance(name, str) or not name:
        raise _fail(f"a symbol name must be a non-empty string, got {name!r}")
    if not isinstance(assumptions, dict) or not all(
            isinstance(k, str) and k.isidentifier() and isinstance(v, bool) for k, v in assumptions.items()):
        raise _fail(f"the assumptions of {name!r} must map names to true/false, got {assumptions!r}")
    try:
        symbol = sp.Symbol(name, **assumptions)
    except (ValueError, TypeError) as exc:
        raise _fail(f"the assumptions of {name!r} are inconsistent ({exc})") from None
    if symbol.assumptions0 != assumptions:
        raise _fail(f"the assumptions of {name!r} do not describe a SymPy symbol: {assumptions!r}")
    return symbol


# -- numbers --------------------------------------------------------------------------
def enc(value):
    """JSON-ready numbers: floats as themselves (``repr`` by ``json``), non-finite as strings."""
    if isinstance(value, np.ndarray):
        return [enc(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [enc(v) for v in value]
    if isinstance(value, float) or isinstance(value, np.floating):
        value = float(value)
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def dec(value):
    if isinstance(value, list):
        return [dec(v) for v in value]
    if value in ("inf", "-inf", "nan"):
        return float(value)
    return value


def _array(value) -> np.ndarray:
    return np.array(dec(value), dtype=np.float64)


def _matrix(value, n: int) -> np.ndarray:
    return _array(value).reshape(n, n)


# -- the document ---------------------------------------------------------------------
def write_json(result, indent=None) -> str:
    """The JSON text of ``result`` (see :meth:`FitResult.to_json`)."""
    symbols = {}
    for s in (*result.fitted, *result.fixed):
        encode_expr(s, symbols)
    doc = {
        "format": FORMAT, "version": VERSION,
        "fitted": [s.name for s in result.fitted],
        "fixed": {s.name: enc(v) for s, v in result.fixed.items()},
        "x": enc(result.x), "stderr": [enc(result.stderr[s]) for s in result.fitted],
        "covariance": enc(result.covariance), "correlation": enc(result.correlation),
        "generalized_covariance": enc(result.generalized_covariance),
        "residuals": enc(result.residuals),
        "active_mask": [int(a) for a in result.active_mask],
        "warnings": list(result.warnings), "options": {k: enc(v) for k, v in result.options.items()},
    }
    for key in ("chisqr", "redchi", "aic", "bic", "r_squared"):
        doc[key] = enc(getattr(result, key))
    for key in ("dof", "nfev", "njev", "status", "n_samples"):
        doc[key] = int(getattr(result, key))
    doc.update(success=bool(result.success), message=result.message, absolute_sigma=bool(result.absolute_sigma))
    spec = result.spec
    if spec is not None:
        datasets = []
        for ds in spec.datasets:
            model = encode_expr(ds.model, symbols)
            for s in ds.data_symbols:
                encode_expr(s, symbols)
            datasets.append({"model": model,
                             "data": {s.name: enc(c) for s, c in zip(ds.data_symbols, ds.columns)},
                             "y": enc(ds.y), "sigma": None if ds.sigma is None else enc(ds.sigma)})
        doc["spec"] = {"is_global": bool(spec.is_global), "p0": enc(spec.p0),
                       "lower": enc(spec.lower), "upper": enc(spec.upper), "datasets": datasets}
    doc["symbols"] = {name: dict(s.assumptions0) for name, s in sorted(symbols.items())}
    return json.dumps(doc, indent=indent, allow_nan=False)


def read_json(cls, text: str):
    """The ``cls`` (``FitResult``) of a text written by :func:`write_json` (version 1 or 2)."""
    try:
        doc = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise _fail(f"not JSON text ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _fail("the text is not a symgrad FitResult (no 'format' marker)")
    if doc.get("version") not in READABLE:
        raise _fail(f"version {doc.get('version')!r} is not supported (this symgrad reads versions "
                    f"{', '.join(map(str, READABLE))})")
    if doc["version"] >= 2:
        raw = doc.get("symbols")
        if not isinstance(raw, dict):
            raise _fail("a version 2 text needs its 'symbols' table")
        symbols = {name: _symbol(name, assumptions) for name, assumptions in raw.items()}
    else:
        symbols = {}
    spec = _read_spec(doc, symbols)
    if spec is not None:
        for ds in spec.datasets:  # version 1: the symbols of the parsed models
            for s in ds.model.free_symbols:
                symbols.setdefault(s.name, s)
    named = lambda n: symbols[n] if n in symbols else sp.Symbol(n)  # noqa: E731
    fitted = tuple(named(n) for n in doc["fitted"])
    fixed = {named(n): dec(v) for n, v in doc["fixed"].items()}
    x = _array(doc["x"]).reshape(-1)
    n = len(fitted)
    return cls(
        params={**dict(zip(fitted, x.tolist())), **fixed}, x=x,
        stderr=dict(zip(fitted, (float(v) for v in dec(doc["stderr"])))),
        covariance=_matrix(doc["covariance"], n), correlation=_matrix(doc["correlation"], n),
        residuals=_array(doc["residuals"]),
        chisqr=dec(doc["chisqr"]), redchi=dec(doc["redchi"]), dof=doc["dof"], aic=dec(doc["aic"]),
        bic=dec(doc["bic"]), r_squared=dec(doc["r_squared"]), success=doc["success"],
        message=doc["message"], nfev=doc["nfev"], njev=doc["njev"], warnings=list(doc["warnings"]),
        fitted=fitted, fixed=fixed, absolute_sigma=doc["absolute_sigma"], n_samples=doc["n_samples"],
        status=doc["status"], active_mask=np.array(doc["active_mask"], dtype=np.int64),
        generalized_covariance=_matrix(doc["generalized_covariance"], n),
        options={k: dec(v) for k, v in doc["options"].items()}, spec=spec,
    )


def _model(raw, symbols: dict):
    if isinstance(raw, str):  # version 1
        from symgrad.parse import parse

        return parse(raw)
    return decode_expr(raw, symbols)


def _read_spec(doc, symbols: dict):
    if "spec" not in doc:
        return None
    from symgrad.optimize._fit_inputs import Dataset, FitSpec

    raw = doc["spec"]
    datasets = []
    for item in raw["datasets"]:
        model = _model(item["model"], symbols)
        by_name = {**{s.name: s for s in model.free_symbols}, **symbols}
        names = list(item["data"])
        data_symbols = tuple(by_name.get(n, sp.Symbol(n)) for n in names)
        columns = tuple(_array(item["data"][n]) for n in names)
        sigma = None if item["sigma"] is None else _array(item["sigma"])
        datasets.append(Dataset(model, data_symbols, columns, _array(item["y"]), sigma))
    table = {**{s.name: s for ds in datasets for s in ds.model.free_symbols}, **symbols}
    params = tuple(table.get(n, sp.Symbol(n)) for n in doc["fitted"])
    fixed = {table.get(n, sp.Symbol(n)): dec(v) for n, v in doc["fixed"].items()}
    return FitSpec(tuple(datasets), params, _array(raw["p0"]), _array(raw["lower"]), _array(raw["upper"]),
                   fixed, bool(raw["is_global"]))
