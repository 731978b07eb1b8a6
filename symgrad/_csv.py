"""Read numeric columns of a CSV file with a header row, fast, with errors that name the cell.

The header decides the delimiter: the most frequent of ``,``, ``;`` and tab in it
(a header without any is one column). A UTF-8 byte-order mark is skipped, blank lines
are ignored, and cells may be quoted. Files of plain decimals (at most 15
significant digits, exponents up to 22: ``symgrad._csv_parse``) are parsed by a
compiled loop of symgrad's own, exactly; any other file by ``pandas.read_csv`` when
pandas is installed, else by ``numpy.loadtxt`` (both compiled parsers, both
correctly rounded). Only when one of them refuses the file does a line-by-line pass
run, to say which line and column hold what.
"""

from __future__ import annotations

import csv
import io
import math
import warnings

import numpy as np

from symgrad.errors import InputError

__all__ = ["CsvError", "read_columns", "read_header", "sniff_delimiter"]

DELIMITERS = (",", ";", "\t")
#: Bytes of a file the compiled parser tries first, before it reads the whole file.
PROBE = 1 << 16


class CsvError(InputError):
    """A CSV file that cannot be read as numbers: the message names the file, line and column."""


def sniff_delimiter(header_line: str) -> str:
    """The most frequent of ``,``, ``;``, tab in the header line (``,`` if none occurs).

    Example:
        >>> sniff_delimiter("t;y;sigma"), sniff_delimiter("t\\ty"), sniff_delimiter("y")
        (';', '\\t', ',')
    """
    counts = [(header_line.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


def _open(path):
    try:
        return open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CsvError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_header(path) -> tuple[list[str], str]:
    """``(column names, delimiter)`` of the CSV file at ``path``."""
    with _open(path) as handle:
        try:
            first = handle.readline()
        except UnicodeDecodeError:
            raise CsvError(f"{path} is not a UTF-8 text file") from None
    if not first.strip():
        raise CsvError(f"{path} is empty; a header row with column names is needed")
    delimiter = sniff_delimiter(first)
    header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise CsvError(f"{path}: the header names column {', '.join(repeated)} more than once")
    return header, delimiter


def read_columns(path, names=None) -> dict[str, np.ndarray]:
    """The columns ``names`` (default: all) of the CSV file at ``path``, as float64 arrays.

    Every cell read must be a finite number.

    Raises:
        CsvError: a missing file or column, a cell that is not a finite number (naming
            the line, counted from 1 with the header, and the column), rows of the
            wrong length, no data rows.
    """
    header, delimiter = read_header(path)
    names = list(header) if names is None else list(dict.fromkeys(names))
    missing = [n for n in names if n not in header]
    if missing:
        raise CsvError(f"{path} has no column {', '.join(missing)} (columns: {', '.join(header)})")
    index = [header.index(n) for n in names]
    try:
        values = _compiled(path, delimiter, header, names, index)
    except (ValueError, UnicodeDecodeError, IndexError):
        values = None
    if values is None or any(not np.all(np.isfinite(v)) for v in values.values()):
        values = _line_by_line(path, delimiter, header, names, index)
    if not len(values[names[0]]):
        raise CsvError(f"{path} has a header but no data rows")
    return values


def _plain(path, delimiter, header, names, index):
    """The columns by the compiled parser of plain decimals (``symgrad._csv_parse``), or ``None``."""
    from symgrad._csv_parse import parse_table

    delim, ncols = ord(delimiter), len(header)
    try:
        with open(path, "rb") as handle:
            head = handle.read(PROBE)
            bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
            start = head.find(b"\n", bom)
            if start < 0:
                return None
            # the first lines first: a file of 17-digit numbers is handed on at once
            probe = head[: head.rfind(b"\n") + 1]
            if not parse_table(np.frombuffer(probe, dtype=np.uint8), start + 1, delim, ncols)[2]:
                return None
            data = head + handle.read()
    except OSError:
        return None
    values, rows, ok = parse_table(np.frombuffer(data, dtype=np.uint8), start + 1, delim, ncols)
    if not ok:
        return None
    table = values.reshape(rows, len(header))
    return {n: np.ascontiguousarray(table[:, k]) for n, k in zip(names, index)}


def _compiled(path, delimiter, header, names, index):
    """Parse plain decimals ourselves, else with pandas or NumPy; ``ValueError`` on what they refuse."""
    plain = _plain(path, delimiter, header, names, index)
    if plain is not None:
        return plain
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        try:
            # every column is read (with usecols, pandas accepts rows with extra fields);
            # the others may hold anything
            frame = pd.read_csv(path, sep=delimiter, dtype={n: np.float64 for n in names}, na_filter=False,
                                encoding="utf-8-sig", skip_blank_lines=True, engine="c")
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise CsvError(str(exc)) from None
        if frame.shape[1] != len(header):
            raise CsvError("rows and header differ in length")
        return {n: np.ascontiguousarray(frame[n].to_numpy(dtype=np.float64)) for n in names}
    # without usecols, loadtxt refuses rows of another length than the first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "input contained no data": said below
        table = np.loadtxt(path, dtype=np.float64, delimiter=delimiter, skiprows=1, ndmin=2,
                           encoding="utf-8-sig", comments=None, quotechar='"')
    if table.shape[1] != len(header):
        raise CsvError("rows and header differ in length")
    return {n: np.ascontiguousarray(table[:, k]) for n, k in zip(names, index)}


def _line_by_line(path, delimiter, header, names, index):
    """The slow, exact pass: the first bad cell or row, by line and column."""
    values = {n: [] for n in names}
    try:
        with _open(path) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            next(reader)
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise CsvError(f"{path}, line {line}: {len(row)} fields, the header has {len(header)}")
                for n, k in zip(names, index):
                    values[n].append(_number(row[k].strip(), f"{path}, line {line}, column {n}"))
    except UnicodeDecodeError:
        raise CsvError(f"{path} is not a UTF-8 text file") from None
    except csv.Error as exc:
        raise CsvError(f"{path} is not a readable CSV file: {exc}") from None
    return {n: np.array(v, dtype=np.float64) for n, v in values.items()}


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        what = "an empty cell" if not text else repr(text)
        raise CsvError(f"{where}: {what} is not a number") from None
    if not math.isfinite(value):
        raise CsvError(f"{where}: {text!r} is not a finite number; remove or impute that row")
    return value


def write_columns(columns: dict, delimiter: str = ",") -> str:
    """CSV text of equal-length columns (values as ``repr`` floats), for tests and examples."""
    out = io.StringIO()
    names = list(columns)
    out.write(delimiter.join(names) + "\n")
    for row in zip(*(np.asarray(columns[n], dtype=np.float64).tolist() for n in names)):
        out.write(delimiter.join(repr(v) for v in row) + "\n")
    return out.getvalue()
