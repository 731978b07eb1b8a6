"""A compiled parser for the common case of a numeric CSV file: plain decimals, one delimiter.

Each cell is read as a sign, at most 15 significant digits with an optional decimal
point, and an optional exponent: ``m * 10^e`` with an integer ``m < 2^53`` and
``|e| <= 22``. Then ``m`` and ``10^|e|`` are exact float64 numbers and one multiplication
or division gives the correctly rounded value (Clinger's fast path, the exact case
of every correctly rounded ``strtod``), so the result is the one ``float()`` gives.
Anything else (more digits, a larger exponent, quotes, text, ``nan``, a row of the
wrong length) makes :func:`parse_table` report failure, and the caller falls back to
pandas or NumPy, whose parsers are correctly rounded too.

Reference:
    W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990.
"""

from __future__ import annotations

import numpy as np

from symgrad.jit._cache import builtin_kernel

__all__ = ["parse_table"]

_SPACE, _TAB, _CR, _LF, _QUOTE = 32, 9, 13, 10, 34


@builtin_kernel
def parse_table(buf, start, delim, ncols):  # pragma: no cover - compiled
    """``(values, rows, ok)``: the cells of ``buf[start:]`` (bytes as uint8), row by row.

    ``values`` holds ``rows * ncols`` numbers; ``ok`` is False at the first cell or
    row this parser does not take (then nothing else is meaningful). Blank lines
    are skipped; ``\\r\\n`` line ends and spaces around a cell are accepted.
    """
    n = buf.size
    lines = 1
    for i in range(start, n):
        if buf[i] == _LF:
            lines += 1
        elif buf[i] == _QUOTE:
            return np.empty(0), 0, False
    out = np.empty(lines * ncols)
    tens = np.empty(23)
    tens[0] = 1.0
    for k in range(1, 23):
        tens[k] = tens[k - 1] * 10.0  # exact: 10^k < 2^53 * 2^k for k <= 22
    rows = 0
    i = start
    while i < n:
        j = i
        while j < n and (buf[j] == _SPACE or (buf[j] == _TAB and delim != _TAB) or buf[j] == _CR):
            j += 1
        if j >= n or buf[j] == _LF:  # a blank line
            i = j + 1
            continue
        for col in range(ncols):
            while i < n and (buf[i] == _SPACE or (buf[i] == _TAB and delim != _TAB)):
                i += 1
            negative = False
            if i < n and (buf[i] == 45 or buf[i] == 43):  # '-' '+'
                negative = buf[i] == 45
                i += 1
            m = 0
            digits = 0
            significant = 0
            scale = 0
            seen_point = False
            while i < n:
                c = buf[i]
                if 48 <= c <= 57:
                    digits += 1
                    if m > 0 or c != 48:
                        significant += 1
                    if significant > 15:
                        return np.empty(0), 0, False
                    m = m * 10 + (c - 48)
                    if seen_point:
                        scale -= 1
                elif c == 46 and not seen_point:  # '.'
                    seen_point = True
                else:
                    break
                i += 1
            if digits == 0:
                return np.empty(0), 0, False
            if i < n and (buf[i] == 101 or buf[i] == 69):  # 'e' 'E'
                i += 1
                exp_negative = False
                if i < n and (buf[i] == 45 or buf[i] == 43):
                    exp_negative = buf[i] == 45
                    i += 1
                e = 0
                e_digits = 0
                while i < n and 48 <= buf[i] <= 57:
                    if e < 10000:
                        e = e * 10 + (buf[i] - 48)
                    e_digits += 1
                    i += 1
                if e_digits == 0:
                    return np.empty(0), 0, False
                scale += -e if exp_negative else e
            if m == 0:
                value = 0.0
            elif scale > 22 or scale < -22:
                return np.empty(0), 0, False
            elif scale >= 0:
                value = float(m) * tens[scale]
            else:
                value = float(m) / tens[-scale]
            out[rows * ncols + col] = -value if negative else value
            while i < n and (buf[i] == _SPACE or (buf[i] == _TAB and delim != _TAB) or buf[i] == _CR):
                i += 1
            if col < ncols - 1:
                if i >= n or buf[i] != delim:
                    return np.empty(0), 0, False
                i += 1
            elif i < n:
                if buf[i] != _LF:
                    return np.empty(0), 0, False
                i += 1
        rows += 1
    return out[: rows * ncols], rows, True
