"""The 27 NIST StRD nonlinear least-squares problems, as SymPy models with their data.

Each problem of the NIST Statistical Reference Datasets (nonlinear regression,
https://www.itl.nist.gov/div898/strd/nls/nls_main.shtml) fits a model
``y = f(x; b1, ..., bk) + e`` to observed or generated data.  The ``.dat`` files in
``data/`` are shipped unchanged; every number here (starting values, certified
values and standard deviations, residual sum of squares, residual standard
deviation, degrees of freedom, data) is parsed from them.  Only the model is
written by hand, as a SymPy expression, from the file's ``Model:`` line.

Nelson's file states the model for ``log[y]``: its response ``y`` is therefore the
logarithm of the file's ``y`` column (kept as written in ``columns_text``), and
its two predictors are ``x1`` and ``x2``.

Example:
    >>> from nist_strd import load, NAMES
    >>> len(NAMES)
    27
    >>> p = load("Misra1a")
    >>> p.model, p.difficulty, len(p.xdata)
    (b1*(1 - exp(-b2*x)), 'lower', 14)
    >>> p.starts[0], p.certified[0]
    ((500.0, 0.0001), 238.94212918)
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
import re

import numpy as np
import sympy as sp

__all__ = ["NAMES", "Problem", "load", "model_expr"]

DATA_DIR = pathlib.Path(__file__).parent / "data"

#: The problems in NIST's order: lower, average, then higher difficulty.
NAMES = (
    "Misra1a", "Chwirut2", "Chwirut1", "Lanczos3", "Gauss1", "Gauss2", "DanWood", "Misra1b",
    "Kirby2", "Hahn1", "Nelson", "MGH17", "Lanczos1", "Lanczos2", "Gauss3", "Misra1c",
    "Misra1d", "Roszman1", "ENSO",
    "MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4", "Rat43", "Bennett5",
)

_HALF = sp.Rational(1, 2)


def _models():
    """Build the table name -> (model expression, predictor symbols).

    Each formula transcribes the ``Model:`` line of the problem's file
    (``exp[...]`` read as ``exp(...)``, ``arctan`` as ``atan``, ``-.5`` and
    ``-0.5`` as the exact rational -1/2).
    """
    b = sp.symbols("b1:10")
    b1, b2, b3, b4, b5, b6, b7, b8, b9 = b
    x, x1, x2 = sp.symbols("x x1 x2")
    exponential3 = b1 * sp.exp(-b2 * x) + b3 * sp.exp(-b4 * x) + b5 * sp.exp(-b6 * x)
    gauss = (b1 * sp.exp(-b2 * x) + b3 * sp.exp(-(x - b4) ** 2 / b5**2)
             + b6 * sp.exp(-(x - b7) ** 2 / b8**2))
    cubic_cubic = ((b1 + b2 * x + b3 * x**2 + b4 * x**3)
                   / (1 + b5 * x + b6 * x**2 + b7 * x**3))
    chwirut = sp.exp(-b1 * x) / (b2 + b3 * x)
    misra1a = b1 * (1 - sp.exp(-b2 * x))
    w = 2 * sp.pi * x
    enso = (b1 + b2 * sp.cos(w / 12) + b3 * sp.sin(w / 12)
            + b5 * sp.cos(w / b4) + b6 * sp.sin(w / b4)
            + b8 * sp.cos(w / b7) + b9 * sp.sin(w / b7))
    one = (x,)
    return {
        "Misra1a": (misra1a, one),
        "Chwirut2": (chwirut, one),
        "Chwirut1": (chwirut, one),
        "Lanczos3": (exponential3, one),
        "Gauss1": (gauss, one),
        "Gauss2": (gauss, one),
        "DanWood": (b1 * x**b2, one),
        "Misra1b": (b1 * (1 - (1 + b2 * x / 2) ** -2), one),
        "Kirby2": ((b1 + b2 * x + b3 * x**2) / (1 + b4 * x + b5 * x**2), one),
        "Hahn1": (cubic_cubic, one),
        "Nelson": (b1 - b2 * x1 * sp.exp(-b3 * x2), (x1, x2)),
        "MGH17": (b1 + b2 * sp.exp(-x * b4) + b3 * sp.exp(-x * b5), one),
        "Lanczos1": (exponential3, one),
        "Lanczos2": (exponential3, one),
        "Gauss3": (gauss, one),
        "Misra1c": (b1 * (1 - (1 + 2 * b2 * x) ** -_HALF), one),
        "Misra1d": (b1 * b2 * x * (1 + b2 * x) ** -1, one),
        "Roszman1": (b1 - b2 * x - sp.atan(b3 / (x - b4)) / sp.pi, one),
        "ENSO": (enso, one),
        "MGH09": (b1 * (x**2 + x * b2) / (x**2 + x * b3 + b4), one),
        "Thurber": (cubic_cubic, one),
        "BoxBOD": (misra1a, one),
        "Rat42": (b1 / (1 + sp.exp(b2 - b3 * x)), one),
        "MGH10": (b1 * sp.exp(b2 / (x + b3)), one),
        "Eckerle4": ((b1 / b2) * sp.exp(-_HALF * ((x - b3) / b2) ** 2), one),
        "Rat43": (b1 / (1 + sp.exp(b2 - b3 * x)) ** (1 / b4), one),
        "Bennett5": (b1 * (b2 + x) ** (-1 / b3), one),
    }


_MODELS = _models()


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """One NIST StRD nonlinear regression problem: model, data, starts, certified results.

    The least-squares problem is: minimise over ``params`` the residual sum of squares
    ``sum_i (model(x_i) - y_i)**2``.  Arrays are float64 and read-only.

    Attributes:
        name: NIST's name, e.g. ``"Misra1a"``.
        difficulty: ``"lower"``, ``"average"`` or ``"higher"``, as the file states.
        model: the SymPy expression of the model in ``params`` and ``predictors``.
        params: the parameter symbols ``(b1, ..., bk)``.
        predictors: the predictor symbols, ``(x,)`` (Nelson: ``(x1, x2)``).
        response: the response symbol ``y``.
        x_columns: one array (N,) per predictor.
        y: the response (N,) the model is fitted to (Nelson: the log of the column).
        starts: the two NIST starting points, each a tuple of k floats.
        certified: the certified parameter values (k floats).
        certified_stderr: their certified standard deviations (k floats).
        certified_rss: the certified residual sum of squares.
        residual_sd: the certified residual standard deviation.
        dof: the degrees of freedom, N - k.  (Rat43's file says 9, a typo: 15 - 4 = 11,
            and its certified residual standard deviation is sqrt(RSS / 11).)
        columns_text: the data columns as written in the file, in the file's
            order ``(y, x...)``, for evaluations in higher precision.
        certified_text: the certified parameter values as written in the file.
    """

    name: str
    difficulty: str
    model: sp.Expr
    params: tuple
    predictors: tuple
    response: sp.Symbol
    x_columns: tuple
    y: np.ndarray
    starts: tuple
    certified: tuple
    certified_stderr: tuple
    certified_rss: float
    residual_sd: float
    dof: int
    columns_text: tuple = dataclasses.field(repr=False)
    certified_text: tuple = dataclasses.field(repr=False)

    @property
    def x(self):
        """The predictor symbol of a one-predictor problem (every problem but Nelson)."""
        return self._single("x")[0]

    @property
    def xdata(self):
        """The predictor column (N,) of a one-predictor problem (every problem but Nelson)."""
        return self._single("xdata")[1]

    @property
    def data_symbols(self):
        """``predictors + (response,)``: the ``data=`` argument of an Objective."""
        return self.predictors + (self.response,)

    @property
    def columns(self):
        """``x_columns + (y,)``, in the order of ``data_symbols``."""
        return self.x_columns + (self.y,)

    @property
    def n_obs(self):
        """The number of observations N."""
        return len(self.y)

    def _single(self, attribute):
        if len(self.predictors) != 1:
            raise ValueError(
                f"{self.name} has {len(self.predictors)} predictors "
                f"{self.predictors}; .{attribute} is for one-predictor problems: "
                f"use .predictors and .x_columns")
        return self.predictors[0], self.x_columns[0]


def model_expr(name):
    """Return ``(model, predictors)`` of problem ``name`` without reading its file."""
    _check_name(name)
    return _MODELS[name]


def _check_name(name):
    if name not in _MODELS:
        raise KeyError(f"unknown NIST StRD problem {name!r}; known: {', '.join(NAMES)}")


@functools.lru_cache(maxsize=None)
def load(name):
    """Read problem ``name`` from its NIST ``.dat`` file.

    Args:
        name: one of ``NAMES``.

    Returns:
        The ``Problem``.

    Raises:
        KeyError: an unknown name.
        ValueError: a file whose contents disagree with its own header (number of
            observations, of parameters, of columns, degrees of freedom).
    """
    _check_name(name)
    lines = (DATA_DIR / f"{name}.dat").read_text().splitlines()
    text = "\n".join(lines)
    model, predictors = _MODELS[name]
    params = tuple(sorted(model.free_symbols - set(predictors), key=lambda s: int(s.name[1:])))

    start_lines = _line_range(text, "Starting Values")
    data_lines = _line_range(text, "Data")
    starts1, starts2, certified, stderr, certified_text = [], [], [], [], []
    for number in start_lines:
        match = re.fullmatch(r"\s*b(\d+)\s*=\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*", lines[number - 1])
        if match is None or int(match.group(1)) != len(starts1) + 1:
            raise ValueError(f"{name}.dat line {number}: expected 'b{len(starts1) + 1} = "
                             f"start1 start2 certified stderr', got {lines[number - 1]!r}")
        starts1.append(float(match.group(2)))
        starts2.append(float(match.group(3)))
        certified.append(float(match.group(4)))
        stderr.append(float(match.group(5)))
        certified_text.append(match.group(4))
    if len(certified) != len(params):
        raise ValueError(f"{name}.dat lists {len(certified)} parameters, the model has {len(params)}")

    n_obs = int(_labelled(text, "Number of Observations"))
    dof = int(_labelled(text, "Degrees of Freedom"))
    header = lines[data_lines[0] - 2].split()
    names_in_file = header[1:] if header[:1] == ["Data:"] else []
    expected = ["y"] + [s.name for s in predictors]
    if names_in_file != expected:
        raise ValueError(f"{name}.dat: data columns {names_in_file}, expected {expected}")
    rows = [lines[number - 1].split() for number in data_lines]
    if len(rows) != n_obs or any(len(row) != len(expected) for row in rows):
        raise ValueError(f"{name}.dat: {len(rows)} data rows of widths "
                         f"{sorted({len(r) for r in rows})}, header says {n_obs} rows of {len(expected)}")
    residual_sd = float(_labelled(text, "Residual Standard Deviation"))
    certified_rss = float(_labelled(text, "Residual Sum of Squares"))
    if dof != n_obs - len(params):
        # Rat43.dat states 9 degrees of freedom for 15 observations and 4 parameters;
        # its residual standard deviation is sqrt(RSS / 11): the dof line is a typo.
        consistent = np.isclose(residual_sd, np.sqrt(certified_rss / (n_obs - len(params))),
                                rtol=1e-9, atol=0.0)
        if not consistent:
            raise ValueError(f"{name}.dat: {dof} degrees of freedom for {n_obs} observations "
                             f"and {len(params)} parameters")
        dof = n_obs - len(params)
    columns_text = tuple(tuple(column) for column in zip(*rows))
    columns = [_frozen(np.array([float(v) for v in column])) for column in columns_text]
    y = columns[0]
    if re.search(r"log\[y\]\s*=", text):
        y = _frozen(np.log(y))

    return Problem(
        name=name,
        difficulty=re.search(r"(Lower|Average|Higher) Level of Difficulty", text).group(1).lower(),
        model=model,
        params=params,
        predictors=predictors,
        response=sp.Symbol("y"),
        x_columns=tuple(columns[1:]),
        y=y,
        starts=(tuple(starts1), tuple(starts2)),
        certified=tuple(certified),
        certified_stderr=tuple(stderr),
        certified_rss=certified_rss,
        residual_sd=residual_sd,
        dof=dof,
        columns_text=columns_text,
        certified_text=tuple(certified_text),
    )


def _line_range(text, section):
    """The 1-based line numbers the header gives for ``section``, e.g. (lines 41 to 42)."""
    match = re.search(rf"{section}\s+\(lines\s+(\d+)\s+to\s+(\d+)\)", text)
    return range(int(match.group(1)), int(match.group(2)) + 1)


def _labelled(text, label):
    """The number after ``label:`` in the header."""
    return re.search(rf"^{label}:\s+(\S+)\s*$", text, re.MULTILINE).group(1)


def _frozen(array):
    array.flags.writeable = False
    return array
