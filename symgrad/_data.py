"""Parameters and data columns checked once, for every path that reads samples.

``as_column`` is the one validator of a data column (``Objective.prepare``, the
training loops through it, and ``sg.curve_fit``/``LeastSquares`` through
``symgrad.optimize._fit_inputs``), ``as_theta`` that of an objective's parameter
vector; :func:`refuse_non_finite` names the first NaN or infinity of a column.
:class:`Data` holds the checked columns of an objective in the layout its kernels
read.
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import InputError

__all__ = ["Data", "F64", "NO_DATA", "as_column", "as_theta", "ready", "ready_length", "refuse_non_finite"]

F64 = np.dtype(np.float64)


def as_column(value, what: str, n: int | None = None, *, finite: bool = False, nonempty: bool = False) -> np.ndarray:
    """``value`` as a C-contiguous float64 1-D array; errors name ``what`` ("data column x (column 0)").

    A C-contiguous float64 1-D array is returned as it is (no copy); integers and
    booleans are converted, a pandas Series is read through ``to_numpy``.

    Args:
        n: the length the column must have, or ``None``.
        finite: refuse NaN and infinity (naming the first row holding one).
        nonempty: refuse a column of no samples.

    Raises:
        InputError: text, not numeric, not 1-D, empty, the wrong length, or not finite.
    """
    if type(value) is np.ndarray and value.dtype is F64 and value.ndim == 1:
        arr = value if value.flags.c_contiguous else np.ascontiguousarray(value)
    else:
        if isinstance(value, (str, bytes)):
            raise InputError(f"{what} is text ({value!r}), not numbers; give an array of numbers.")
        if hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):
            value = value.to_numpy()
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise InputError(
                f"{what} is not numeric (dtype {arr.dtype}); give an array of numbers "
                "(integers are converted to float64)."
            )
        if arr.ndim != 1:
            raise InputError(f"{what} must be a 1-D array with one entry per sample; got shape {arr.shape}.")
        arr = np.ascontiguousarray(arr, dtype=np.float64)
    if nonempty and arr.size == 0:
        raise InputError(f"{what} is empty; give at least one sample.")
    if n is not None and arr.size != n:
        raise InputError(f"{what} has {arr.size} entries but the data have {n} rows; the lengths must agree.")
    if finite:
        refuse_non_finite(arr, what)
    return arr


def ready(value) -> bool:
    """Whether ``value`` is already a C-contiguous float64 1-D array (what ``as_column`` returns as is)."""
    return type(value) is np.ndarray and value.dtype is F64 and value.ndim == 1 and value.flags.c_contiguous


def ready_length(columns: tuple, count: int) -> int:
    """The common length of ``count`` columns that are all :func:`ready` (not memory maps), else 0.

    :meth:`Data.checked` would hand such columns on unchanged; for anything else the
    full check runs and names what is wrong.
    """
    if len(columns) != count or not count or not ready(columns[0]):
        return 0
    n = columns[0].shape[0]
    return n if all(ready(c) and c.shape[0] == n for c in columns) else 0


def as_theta(theta, params) -> np.ndarray:
    """``theta`` as a C-contiguous float64 array of one entry per symbol of ``params``.

    Raises:
        InputError: text, not numbers, or the wrong shape (naming the parameters).
    """
    n = len(params)
    names = ", ".join(str(p) for p in params)
    if isinstance(theta, (str, bytes)):
        raise InputError("theta must be numbers, one per parameter, not text.")
    try:
        arr = np.asarray(theta, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"theta must be {n} numbers ({names}); got {theta!r}.") from None
    if arr.shape != (n,):
        raise InputError(f"theta must have shape ({n},), one entry per parameter ({names}); got shape {arr.shape}.")
    return np.ascontiguousarray(arr)


def refuse_non_finite(column: np.ndarray, what: str) -> None:
    """Raise ``InputError`` naming the first row of ``column`` holding NaN or infinity, if any."""
    bad = np.flatnonzero(~np.isfinite(column))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"{what} holds {float(column[i])!r} at row {i} ({bad.size} non-finite value(s)); "
            "remove or impute those rows."
        )


class Data:
    """Validated data columns, ready for the kernels (see :meth:`symgrad.Objective.prepare`).

    Attributes:
        columns: tuple of float64 1-D arrays, one per data symbol.
        n: number of samples.
        kernel_input: what the kernels read: ``columns`` itself, or a ``(d, N)``-shaped
            view of one row-major ``(N, d)`` copy, in which the values of one sample
            are adjacent (a mini-batch of random rows then touches few cache lines).
    """

    __slots__ = ("columns", "n", "symbols", "kernel_input")

    def __init__(self, columns, n, symbols, rows: bool, wide: bool):
        self.columns = columns
        self.n = n
        self.symbols = symbols
        if rows and columns:
            self.kernel_input = np.stack(columns, axis=1).T
        elif wide and columns:
            self.kernel_input = np.stack(columns)
        else:
            self.kernel_input = columns

    @classmethod
    def checked(cls, columns, symbols, *, rows: bool, wide: bool, check_finite: bool) -> "Data":
        """The columns (one per data symbol) checked: numbers, 1-D, one length, at least one sample.

        Raises:
            InputError: naming the symbol and the column at fault.
        """
        if len(columns) != len(symbols):
            if not symbols:
                raise InputError(f"this objective has no data symbols, but {len(columns)} column(s) were given.")
            names = ", ".join(map(str, symbols))
            raise InputError(
                f"expected {len(symbols)} data column(s), one per data symbol ({names}); got {len(columns)}."
            )
        cols = tuple(c if ready(c) else as_column(c, f"data column {s} (column {k})")  # text only when needed
                     for k, (s, c) in enumerate(zip(symbols, columns)))
        lengths = {c.shape[0] for c in cols}
        if len(lengths) > 1:
            detail = ", ".join(f"{s}: {len(c)}" for s, c in zip(symbols, cols))
            raise InputError(f"data columns must all have the same length; got {detail}.")
        n = len(cols[0]) if cols else 0
        if symbols and n == 0:
            raise InputError("data columns are empty; an objective over data needs at least one sample.")
        data = cls(cols, n, symbols, rows=rows, wide=wide)
        if check_finite:
            data.find_non_finite()
        return data

    def __repr__(self) -> str:
        return f"Data({len(self.columns)} columns ({', '.join(map(str, self.symbols))}), n={self.n})"

    def find_non_finite(self) -> None:
        """Raise ``InputError`` naming the first column holding NaN or infinity."""
        for s, col in zip(self.symbols, self.columns):
            refuse_non_finite(col, f"data column {s!s}")


class _NoData:
    """One sample with no columns, for family loops over an objective without data."""

    columns = ()
    n = 1
    kernel_input = np.empty((0, 1))

    def find_non_finite(self) -> None:
        pass


NO_DATA = _NoData()
