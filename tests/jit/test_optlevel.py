"""The compiler class that sets LLVM's optimisation level and vector width for one compile."""

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


def _total(a):
    s = 0.0
    for v in a:
        s += v
    return s


def _llvm_header_attributes(dispatcher) -> str:
    (text,) = dispatcher.inspect_llvm().values()
    return "\n".join(line for line in text.splitlines() if line.startswith("attributes #"))


def test_vector_width_is_asked_of_llvm_for_the_compiled_function_only():
    wide = numba.njit(pipeline_class=pipeline_class(None, 512), cache=False)(_total)
    plain = numba.njit(cache=False)(_total)
    assert wide(np.arange(5.0)) == plain(np.arange(5.0)) == 10.0
    assert '"prefer-vector-width"="512"' in _llvm_header_attributes(wide)
    assert "prefer-vector-width" not in _llvm_header_attributes(plain)


def test_vector_width_and_level_together():
    seen = []

    class Spy(pipeline_class(1, 256)):
        def define_pipelines(self):
            seen.append(int(config.OPT))
            return super().define_pipelines()

    f = numba.njit(pipeline_class=Spy, cache=False)(_total)
    assert f(np.ones(3)) == 3.0
    assert seen == [1]
    assert '"prefer-vector-width"="256"' in _llvm_header_attributes(f)


def test_invalid_vector_width_is_refused():
    with pytest.raises(ValueError, match="vector width 300"):
        pipeline_class(None, 300)


def test_jit_options_check_the_width_and_the_cache_key_covers_it():
    from symgrad.errors import OptionError
    from symgrad.jit import JitOptions

    with pytest.raises(OptionError, match=r"vector_width=384"):
        JitOptions(vector_width=384)
    keys = {_cache.source_key("text", JitOptions(vector_width=w)) for w in (None, 128, 256, 512)}
    assert len(keys) == 4


def test_width_from_the_environment(monkeypatch):
    from symgrad.errors import OptionError
    from symgrad.jit import JitOptions

    monkeypatch.setenv("SYMGRAD_VECTOR_WIDTH", "auto")
    assert JitOptions().vector_width is None
    monkeypatch.setenv("SYMGRAD_VECTOR_WIDTH", "256")
    assert JitOptions().vector_width == 256
    monkeypatch.setenv("SYMGRAD_VECTOR_WIDTH", "wide")
    with pytest.raises(OptionError, match="SYMGRAD_VECTOR_WIDTH='wide'"):
        JitOptions()
