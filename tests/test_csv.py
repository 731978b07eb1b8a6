"""The CSV reader: delimiters, byte-order mark, quoting, exact floats, and errors naming the cell."""

import sys

import numpy as np
import pytest

from symgrad._csv import CsvError, read_columns, sniff_delimiter, write_columns


@pytest.fixture(params=["pandas", "numpy"])
def parser(request, monkeypatch):
    """Run each test with pandas and, with pandas hidden, with the NumPy parser."""
    if request.param == "pandas":
        pytest.importorskip("pandas")
    else:
        monkeypatch.setitem(sys.modules, "pandas", None)
    return request.param


def write(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_and_exact_floats(tmp_path, parser, delimiter):
    rng = np.random.default_rng(0)
    cols = {"t": rng.normal(size=50), "y": rng.normal(size=50) * 1e-300, "label": np.arange(50.0)}
    path = write(tmp_path, write_columns(cols, delimiter))
    got = read_columns(path, ["y", "t"])
    assert list(got) == ["y", "t"]
    np.testing.assert_array_equal(got["t"], cols["t"])  # repr floats read back bit for bit
    np.testing.assert_array_equal(got["y"], cols["y"])


def test_bom_quotes_blank_lines_and_crlf(tmp_path, parser):
    path = write(tmp_path, '\ufeff"x","y"\r\n1,"2.5"\r\n\r\n3,4e-1\r\n', "utf-8")
    got = read_columns(path)
    np.testing.assert_array_equal(got["x"], [1.0, 3.0])
    np.testing.assert_array_equal(got["y"], [2.5, 0.4])


BAD = [
    ("x,y\n1,2\n3,four\n", r"line 3, column y: 'four' is not a number"),
    ("x,y\n1,2\n3,\n", r"line 3, column y: an empty cell is not a number"),
    ("x,y\n1,2\n3,nan\n", r"line 3, column y: 'nan' is not a finite number"),
    ("x,y\n1,2\n3,4,5\n", r"line 3: 3 fields, the header has 2"),
    ("x,y\n", r"has a header but no data rows"),
    ("", r"is empty"),
    ("x,x\n1,2\n", r"names column x more than once"),
    ("a,b\n1,2\n", r"has no column x \(columns: a, b\)"),
]


@pytest.mark.parametrize("text, pattern", BAD, ids=[p for _, p in BAD])
def test_errors_name_line_and_column(tmp_path, parser, text, pattern):
    with pytest.raises(CsvError, match=pattern):
        read_columns(write(tmp_path, text), ["x", "y"] if "no column" not in pattern else ["x"])


def test_missing_file_and_other_encodings(tmp_path):
    with pytest.raises(CsvError, match=r"cannot read .*nothing.csv"):
        read_columns(tmp_path / "nothing.csv")
    with pytest.raises(CsvError, match="not a UTF-8 text file"):
        read_columns(write(tmp_path, "x\n\xff\n", "latin-1"))


def test_sniffing():
    assert sniff_delimiter("a;b;c") == ";" and sniff_delimiter("a\tb") == "\t"
    assert sniff_delimiter("a,b;c,d") == "," and sniff_delimiter("y") == ","
