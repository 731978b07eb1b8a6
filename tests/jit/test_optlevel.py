"""The compiler class that sets LLVM's optimisation level for one compile."""

import numba
import numpy as np
import pytest
from numba.core import config

from symgrad.jit import _cache
from symgrad.jit._optlevel import pipeline_class


def test_level_holds_during_the_compile_and_is_restored_after():
    seen = []

    class Spy(pipeline_class(1)):
        def define_pipelines(self):
            seen.append(int(config.OPT))
            return super().define_pipelines()

    before = config.OPT

    @numba.njit(pipeline_class=Spy, cache=False)
    def total(a):
        s = 0.0
        for v in a:
            s += v
        return s

    assert total(np.arange(5.0)) == 10.0
    assert seen == [1]
    assert config.OPT is before


def test_level_restored_when_the_compile_fails():
    before = config.OPT

    @numba.njit(pipeline_class=pipeline_class(0), cache=False)
    def bad(a):
        return a.no_such_attribute

    with pytest.raises(numba.core.errors.TypingError):
        bad(np.zeros(2))
    assert config.OPT is before


def test_invalid_level_is_refused():
    with pytest.raises(ValueError, match="optimisation level 4"):
        pipeline_class(4)


def test_cache_key_covers_the_level():
    assert _cache.source_key("text", opt_level=1) != _cache.source_key("text")
    assert _cache.source_key("text", opt_level=1) != _cache.source_key("text", opt_level=2)
