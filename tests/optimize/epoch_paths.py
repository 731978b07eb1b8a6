"""The two training paths of ``sg.fit`` side by side: the compiled epoch and the Python loop."""

import warnings
from unittest import mock

import numpy as np

import symgrad as sg
from symgrad._epoch import CompiledEpoch


def both(objective, columns, **kwargs):
    """``fit`` on the compiled epoch (which must run, and warn about nothing) and on the Python loop."""
    with warnings.catch_warnings(), mock.patch.object(CompiledEpoch, "run", autospec=True,
                                                      side_effect=CompiledEpoch.run) as spy:
        warnings.simplefilter("error")
        compiled = sg.fit(objective, columns, compiled=True, **kwargs)
    assert spy.call_count >= 1
    return compiled, sg.fit(objective, columns, compiled=False, **kwargs)


def assert_same(r, s):
    """The two results bit for bit."""
    np.testing.assert_array_equal(r.x, s.x)
    np.testing.assert_array_equal(r.history, s.history)
    assert (r.loss, r.steps, r.message, r.converged) == (s.loss, s.steps, s.message, s.converged)
