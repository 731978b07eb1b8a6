"""The optimization examples run, exit cleanly and print their key result."""

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"

CASES = [
    ("house_prices.py", r"batch GD         2.98"),
    ("logistic_regression.py", "training accuracy: 0.8"),
    ("optimizers_on_rosenbrock.py", "Newton()"),
    ("damped_oscillation_fit.py", "every parameter within 3 standard errors of the truth: True"),
    ("symbolic_network.py", "test accuracy: 0.9"),
    ("mauna_loa_co2.py", "prediction for mid-2010: 392.0 ppm"),
    pytest.param("two_moons.py", "training accuracy: 0.99", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("script, key_line", CASES)
def test_example_runs(script, key_line):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLES.parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True,
                          timeout=600, cwd=EXAMPLES.parent, env=env)
    assert done.returncode == 0, done.stderr
    assert key_line in done.stdout, done.stdout
