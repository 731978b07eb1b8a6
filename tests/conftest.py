"""Shared test setup: silent floating-point problems fail the tests."""

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _numpy_errors_raise():
    """NumPy over/underflow-free code is expected: invalid, divide and overflow raise."""
    with np.errstate(invalid="raise", divide="raise", over="raise"):
        yield
