"""The compiled parser of plain decimals against Python's correctly rounded ``float``, and its refusals."""

import numpy as np
import pytest

from symgrad._csv import read_columns
from symgrad._csv_parse import parse_table


def _parse(text, ncols=1, delimiter=","):
    data = text.encode()
    start = data.index(b"\n") + 1
    return parse_table(np.frombuffer(data, dtype=np.uint8), start, ord(delimiter), ncols)


def _tokens(rng, count):
    """Random decimals within the fast path: up to 15 digits, point anywhere, exponent kept in range."""
    out = []
    for _ in range(count):
        digits = str(int(rng.integers(0, 10 ** int(rng.integers(1, 16)))))
        cut = int(rng.integers(0, len(digits) + 1))
        fraction = len(digits) - cut if rng.random() < 0.7 else 0
        token = digits[:cut] + "." + digits[cut:] if fraction or cut == len(digits) and rng.random() < 0.5 else digits
        fraction = len(token) - token.index(".") - 1 if "." in token else 0
        if rng.random() < 0.5:
            token += f"e{int(rng.integers(max(-22 + fraction, -40), min(22 + fraction, 40) + 1))}"
        out.append(("-" if rng.random() < 0.5 else "") + token)
    return out


def test_every_value_is_the_correctly_rounded_one():
    tokens = _tokens(np.random.default_rng(11), 5_000)
    values, rows, ok = _parse("h\n" + "\n".join(tokens) + "\n")
    expected = np.array([float(t) for t in tokens])
    assert ok and rows == len(tokens)
    assert np.array_equal(values, expected) and np.array_equal(np.signbit(values), np.signbit(expected))


def test_rows_blank_lines_crlf_spaces_and_a_last_line_without_newline():
    values, rows, ok = _parse("a;b\r\n1.5 ; -2e3\r\n\r\n  \n.25;7.\r\n-0;+4", ncols=2, delimiter=";")
    assert ok and rows == 3
    assert values.tolist() == [1.5, -2000.0, 0.25, 7.0, -0.0, 4.0] and np.signbit(values[4])


@pytest.mark.parametrize("text", [
    "h\n0.12345678901234567\n",  # 17 significant digits: for pandas or NumPy
    "h\n1e23\n",                 # 10^23 is not exact in float64
    "h\n\"1.5\"\n",              # quoted
    "h\nnan\n",
    "h\n1.5x\n",
    "h\n1,2\n",                  # one field too many
    "h\n.\n",
    "h\n1e\n",
])
def test_anything_else_is_left_to_the_other_parsers(text):
    assert not _parse(text)[2]


def test_read_columns_gives_the_same_values_by_either_parser(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("\ufeffx,y\n1.25,-3\n2.5,4e-3\n")
    long = tmp_path / "long.csv"
    long.write_text("x,y\n1.25,-3\n2.5,0.0040000000000000001\n")  # 17 digits: the other parsers
    got = read_columns(plain)
    assert got["x"].tolist() == [1.25, 2.5] and got["y"].tolist() == [-3.0, 0.004]
    got = read_columns(long)
    assert got["x"].tolist() == [1.25, 2.5] and got["y"].tolist() == [-3.0, float("0.0040000000000000001")]
