"""What ``curve_fit`` was given, checked and put in order: data sets, parameters, bounds.

Every check runs before anything is compiled, and every message names the symbol,
the column, the row or the shape at fault.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import sympy as sp

from symgrad._data import as_column as _checked_column
from symgrad._expr import as_expr, check_supported, free_symbols
from symgrad.errors import ExpressionTypeError, InputError, MissingSymbolError

__all__ = ["Dataset", "FitSpec", "check_sigma", "fit_spec", "columns_for", "is_dataframe"]

#: Data given as one array, ``params`` not given, and more than one symbol left that no
#: option names: the first of these names present is the data symbol.
ONE_ARRAY_NAMES = ("x", "t")


@dataclass(frozen=True)
class Dataset:
    """One model with its data: ``columns`` bound to ``data_symbols``, observations ``y``."""

    model: sp.Expr
    data_symbols: tuple
    columns: tuple
    y: np.ndarray
    sigma: np.ndarray | None

    @property
    def n(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class FitSpec:
    """The checked problem: data sets, fitted ``params`` with ``p0`` and bounds, ``fixed`` values."""

    datasets: tuple
    params: tuple
    p0: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    fixed: dict
    is_global: bool


def is_dataframe(value) -> bool:
    """A pandas ``DataFrame``, recognised without importing pandas."""
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas")


def _name(key, what: str) -> str:
    if isinstance(key, sp.Symbol):
        return key.name
    if isinstance(key, str):
        return key.strip()
    raise ExpressionTypeError(f"{what} keys must be symbols or their names, got {type(key).__name__} {key!r}")


def as_column(value, what: str, n: int | None = None) -> np.ndarray:
    """``value`` as a finite float64 1-D array (of length ``n`` if given); errors name ``what``."""
    return _checked_column(value, what, n, finite=True, nonempty=True)


def _as_list(value, k: int | None):
    return list(value) if isinstance(value, (list, tuple)) else ([value] * k if k else [value])


def _symbol_table(models) -> dict:
    table = {}
    for m in models:
        for s in free_symbols(m):
            other = table.setdefault(s.name, s)
            if other != s:
                raise InputError(f"two different symbols are named {s.name} ({other!r} and {s!r}, "
                                 "with different assumptions); give them different names")
    return table


def _lookup(names, table, what: str) -> list:
    out = []
    for key in names:
        name = _name(key, what)
        if name not in table:
            known = ", ".join(sorted(table)) or "none"
            raise InputError(f"{what} names {name!r}, which no model uses (model symbols: {known})")
        out.append(table[name])
    return out


def _data_names(data, k: int, model_names: set, claimed: set, column_args: set, params_unknown: bool) -> set:
    """The names of the model symbols that data set ``k`` binds to columns."""
    where = "data" if k < 0 else f"data[{k}]"
    if data is None:
        return set()
    if is_dataframe(data):
        return {str(c) for c in data.columns if str(c) in model_names and str(c) not in claimed}
    if isinstance(data, dict):
        names = {_name(key, where) for key in data}
        stray = sorted(names - model_names - column_args)
        if stray:
            raise InputError(f"{where} has column(s) {', '.join(map(repr, stray))} that the model does not use "
                             f"(model symbols: {', '.join(sorted(model_names))}); remove them or fix the names")
        taken = sorted(names & claimed)
        if taken:
            raise InputError(f"{', '.join(taken)} is given both as a parameter (params, p0, fixed or bounds) "
                             f"and as a column of {where}")
        return names & model_names
    free = sorted(model_names - claimed)
    if len(free) > 1 and params_unknown:
        for conventional in ONE_ARRAY_NAMES:
            if conventional in free:
                return {conventional}
    if len(free) != 1:
        raise InputError(f"{where} is one array, so the model needs exactly one symbol that is not a parameter; "
                         f"it has {len(free)} ({', '.join(free) or 'none'}). Pass data as a dict "
                         "{symbol: array}, or name the parameters with params=[...]")
    return set(free)


def columns_for(data, symbols, where: str = "data", n: int | None = None) -> tuple:
    """The arrays of ``data`` (dict, DataFrame or one array) for ``symbols``, checked."""
    if not symbols:
        return ()
    if is_dataframe(data):
        return tuple(as_column(data[s.name], f"column {s.name!r} of {where}", n) for s in symbols)
    if isinstance(data, dict):
        by_name = {_name(key, where): value for key, value in data.items()}
        missing = [s.name for s in symbols if s.name not in by_name]
        if missing:
            raise InputError(f"{where} has no column for {', '.join(missing)}")
        cols = [as_column(by_name[s.name], f"column {s.name!r} of {where}", n) for s in symbols]
    else:
        if len(symbols) != 1:
            raise InputError(f"{where} is one array, but the model reads {len(symbols)} data symbols "
                             f"({', '.join(s.name for s in symbols)}); pass a dict {{symbol: array}}")
        cols = [as_column(data, f"{where} (symbol {symbols[0].name})", n)]
    lengths = {len(c) for c in cols}
    if len(lengths) > 1:
        detail = ", ".join(f"{s.name}: {len(c)}" for s, c in zip(symbols, cols))
        raise InputError(f"the columns of {where} must all have the same length; got {detail}")
    return tuple(cols)


def _observed(value, data, what: str, where: str, n: int | None) -> np.ndarray:
    """``y`` or ``sigma``: an array, or the name of a column of ``data``."""
    if isinstance(value, (str, sp.Symbol)):
        name = _name(value, what)
        if is_dataframe(data):
            if name not in [str(c) for c in data.columns]:
                raise InputError(f"{what} names column {name!r}, which {where} does not have "
                                 f"(columns: {', '.join(map(str, data.columns))})")
            return as_column(data[name], f"{what} (column {name!r} of {where})", n)
        if isinstance(data, dict):
            by_name = {_name(key, where): v for key, v in data.items()}
            if name not in by_name:
                raise InputError(f"{what} names column {name!r}, which {where} does not have "
                                 f"(columns: {', '.join(by_name)})")
            return as_column(by_name[name], f"{what} (column {name!r} of {where})", n)
        raise InputError(f"{what} is the column name {name!r}, but {where} is not a dict or DataFrame; "
                         f"pass {what} as an array")
    if isinstance(value, Real) and what.startswith("sigma") and n is not None:
        return np.full(n, float(value))
    return as_column(value, what, n)


def _column_args(y, sigma) -> set:
    return {_name(v, "y") for v in (y, sigma) if isinstance(v, (str, sp.Symbol))}


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InputError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


def check_sigma(sigma: np.ndarray, name: str = "sigma") -> None:
    """``InputError`` naming the first row where ``sigma`` is not > 0 (NaN is named elsewhere, as data)."""
    bad = np.flatnonzero(sigma <= 0)
    if bad.size:
        j = int(bad[0])
        raise InputError(f"{name} must be > 0 everywhere; it is {float(sigma[j])!r} at row {j}")


def fit_spec(model, data, y, *, params=None, p0=None, sigma=None, bounds=None, fixed=None) -> FitSpec:
    """Check what ``curve_fit`` was given and return the :class:`FitSpec`; see ``curve_fit``."""
    is_global = isinstance(model, (list, tuple))
    models = [as_expr(m, f"model[{i}]" if is_global else "model") for i, m in enumerate(_as_list(model, None))]
    if not models:
        raise InputError("model is an empty list; give at least one expression")
    for m in models:
        check_supported(m, "symgrad.curve_fit")
    k = len(models)
    if is_global:
        for what, value in (("data", data), ("y", y), ("sigma", sigma)):
            if isinstance(value, (list, tuple)) and len(value) != k:
                raise InputError(f"a global fit of {k} models needs {what} as a list of {k}, got {len(value)}")
            if not isinstance(value, (list, tuple)) and not (what == "sigma" and value is None):
                raise InputError(f"a global fit (model is a list) takes {what} as a list of {k} too")
    table = _symbol_table(models)

    fixed = dict(zip(_lookup(fixed or {}, table, "fixed"), [_number(v, f"fixed[{_name(key, 'fixed')}]")
                                                           for key, v in (fixed or {}).items()]))
    for s, v in fixed.items():
        if not math.isfinite(v):
            raise InputError(f"fixed value of {s} is {v}; give a finite number")
    claimed = set(fixed)
    if params is not None:
        if isinstance(params, (str, sp.Symbol)):
            params = [params]
        # a symbol no model uses may be named (it is undetermined: the report says so), a name may not
        params = [s if isinstance(s, sp.Symbol) and s.name not in table else _lookup([s], table, "params")[0]
                  for s in params]
        if len(set(params)) != len(params):
            raise InputError(f"params names a symbol twice: {', '.join(map(str, params))}")
        both = sorted(s.name for s in set(params) & set(fixed))
        if both:
            raise InputError(f"{', '.join(both)} is both in params and in fixed; a parameter is fitted or fixed")
        claimed |= set(params)
    for named in (p0 if isinstance(p0, dict) else {}), (bounds or {}):
        claimed |= set(_lookup(named, table, "p0" if named is p0 else "bounds"))
    claimed_names = {s.name for s in claimed}

    if is_global:
        datas, ys, sigmas = list(data), list(y), _as_list(sigma, k)
    else:  # a plain list is one column of numbers here
        datas, ys, sigmas = [data], [y], [sigma]
    datasets, data_symbols = [], set()
    for i, (m, d, yi, si) in enumerate(zip(models, datas, ys, sigmas)):
        where = f"data[{i}]" if is_global else "data"
        names = _data_names(d, i if is_global else -1, {s.name for s in free_symbols(m)}, claimed_names,
                            _column_args(yi, si), params is None)
        symbols = tuple(sorted((table[n] for n in names), key=lambda s: s.name))
        cols = columns_for(d, symbols, where)
        n = len(cols[0]) if cols else None
        suffix = f"[{i}]" if is_global else ""
        yv = _observed(yi, d, "y" + suffix, where, n)
        sv = None if si is None else _observed(si, d, "sigma" + suffix, where, len(yv))
        if sv is not None:
            check_sigma(sv, "sigma" + suffix)
        datasets.append(Dataset(m, symbols, cols, yv, sv))
        data_symbols |= set(symbols)

    if params is None:
        params = sorted(set(table.values()) - data_symbols - set(fixed), key=lambda s: s.name)
    else:
        shared = sorted(s.name for s in set(params) & data_symbols)
        if shared:
            raise InputError(f"{', '.join(shared)} is in params and also a data column")
        unbound = sorted(s.name for s in set(table.values()) - data_symbols - set(fixed) - set(params))
        if unbound:
            raise MissingSymbolError(f"the model uses {', '.join(unbound)}, which is neither a parameter, "
                                     "a fixed value nor a data column; add it to params, fixed or data")
    params = tuple(params)
    if not params:
        raise InputError("there is no parameter to fit: every symbol of the model is data or fixed")
    lower, upper = _bounds(bounds, params, table, fixed)
    start = _p0(p0, params, table, lower, upper)
    return FitSpec(tuple(datasets), params, start, lower, upper, fixed, is_global)


def _bounds(bounds, params, table, fixed):
    n = len(params)
    lower, upper = np.full(n, -np.inf), np.full(n, np.inf)
    for key, pair in (bounds or {}).items():
        (s,) = _lookup([key], table, "bounds")
        if s in fixed:
            raise InputError(f"bounds are given for {s}, which is fixed; drop one of the two")
        if s not in params:
            raise InputError(f"bounds are given for {s}, which is not a fitted parameter")
        try:
            lo, hi = pair
        except (TypeError, ValueError):
            raise InputError(f"bounds[{s}] must be a pair (lower, upper) with None for an open side, "
                             f"got {pair!r}") from None
        lo = -math.inf if lo is None else _number(lo, f"lower bound of {s}")
        hi = math.inf if hi is None else _number(hi, f"upper bound of {s}")
        if math.isnan(lo) or math.isnan(hi) or not lo < hi:
            raise InputError(f"bounds[{s}] = ({lo}, {hi}) needs lower < upper; to hold {s} constant use fixed")
        i = params.index(s)
        lower[i], upper[i] = lo, hi
    return lower, upper


def _default_start(lo: float, hi: float) -> float:
    """1.0, or a point inside the bounds: their midpoint, or 1 inside the one finite bound."""
    if lo < 1.0 < hi:
        return 1.0
    if math.isfinite(lo) and math.isfinite(hi):
        return 0.5 * (lo + hi)
    return lo + 1.0 if math.isfinite(lo) else hi - 1.0


def _p0(p0, params, table, lower, upper) -> np.ndarray:
    n = len(params)
    start = np.array([_default_start(lo, hi) for lo, hi in zip(lower, upper)])
    given = np.zeros(n, dtype=bool)
    if isinstance(p0, dict):
        for key, value in p0.items():
            (s,) = _lookup([key], table, "p0")
            if s not in params:
                raise InputError(f"p0 gives a value for {s}, which is not a fitted parameter "
                                 f"(parameters: {', '.join(map(str, params))})")
            i = params.index(s)
            start[i], given[i] = _number(value, f"p0[{s}]"), True
    elif p0 is not None:
        values = np.asarray(p0, dtype=object).reshape(-1)
        if values.size != n:
            raise InputError(f"p0 has {values.size} values but there are {n} parameters "
                             f"({', '.join(map(str, params))}); give one each, or a dict")
        start = np.array([_number(v, f"p0[{s}]") for s, v in zip(params, values)])
        given[:] = True
    for i, s in enumerate(params):
        if not math.isfinite(start[i]):
            raise InputError(f"p0 for {s} is {float(start[i])}; start from a finite number")
        if given[i] and not lower[i] <= start[i] <= upper[i]:
            raise InputError(f"p0 for {s} is {float(start[i])!r}, outside its bounds ({lower[i]}, {upper[i]})")
    return start
