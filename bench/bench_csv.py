"""Reading numeric CSV columns: symgrad's reader (with and without pandas), pandas, NumPy, the csv module.

A file of 10^6 rows is written once to a temporary folder in two shapes: two columns
of short decimals (``12.345,-67.8``), which symgrad's own compiled parser reads, and
three columns of 17-digit ``repr`` floats, which it hands to pandas (or NumPy).
Each reader is timed (median of 3 reads); the values read are checked to be exactly
those written.

Run: ``python bench/bench_csv.py``
"""

import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from symgrad._csv import read_columns

ROWS = 10**6


def median_time(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def csv_module(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [[float(v) for v in row] for row in reader if row]
    table = np.array(rows)
    return {name: table[:, k] for k, name in enumerate(header)}


def main():
    rng = np.random.default_rng(0)
    shapes = {
        "2 columns, short decimals": np.round(rng.normal(size=(ROWS, 2)) * 100, 3),
        "3 columns, 17-digit floats": rng.normal(size=(ROWS, 3)),
    }
    with tempfile.TemporaryDirectory() as folder:
        for label, table in shapes.items():
            names = ["x", "y", "z"][: table.shape[1]]
            path = Path(folder) / "data.csv"
            with open(path, "w") as handle:
                handle.write(",".join(names) + "\n")
                handle.writelines(",".join(repr(v) for v in row) + "\n" for row in table.tolist())
            results = {}
            try:
                import pandas  # noqa: F401

                import pandas as pd

                results["symgrad, pandas installed"] = median_time(lambda: read_columns(path))
                results["pandas.read_csv"] = median_time(lambda: {n: c.to_numpy() for n, c in pd.read_csv(path).items()})
            except ImportError:
                pass
            saved = sys.modules.get("pandas")
            sys.modules["pandas"] = None  # hide pandas: the NumPy parser
            try:
                results["symgrad, NumPy only"] = median_time(lambda: read_columns(path))
            finally:
                if saved is None:
                    del sys.modules["pandas"]
                else:
                    sys.modules["pandas"] = saved
            results["numpy.loadtxt"] = median_time(
                lambda: dict(zip(names, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2).T)), repeats=1)
            results["csv module + float()"] = median_time(lambda: csv_module(path), repeats=1)
            print(f"{ROWS:,} rows, {label}:")
            for name, (seconds, columns) in results.items():
                exact = all(np.array_equal(columns[n], table[:, k]) for k, n in enumerate(names))
                print(f"  {name:<24s} {seconds:6.2f} s   exact: {exact}")


if __name__ == "__main__":
    main()
