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


def test_distinct_marks_the_float64_data_pointers_noalias():
    def scaled(a, out):
        for i in range(a.shape[0]):
            out[i] = 2.0 * a[i]

    signature = "void(float64[::1], float64[::1])"
    marked = numba.njit(signature, pipeline_class=pipeline_class(1, 256, distinct=True), cache=False)(scaled)
    plain = numba.njit(signature, pipeline_class=pipeline_class(1, 256), cache=False)(scaled)

    def data_pointers(compiled):  # the native function's arguments: each array's data is its 5th field
        define = next(line for line in next(iter(compiled.inspect_llvm().values())).splitlines()
                      if line.startswith("define") and "%arg.a.4" in line)
        return [p.strip() for p in define.split("(", 1)[1].split(",") if "%arg.a.4" in p or "%arg.out.4" in p]

    assert all("noalias" in p for p in data_pointers(marked)) and len(data_pointers(marked)) == 2
    assert not any("noalias" in p for p in data_pointers(plain))
    # the reference counts and the parent objects are left as they were
    define = next(line for line in next(iter(marked.inspect_llvm().values())).splitlines() if "%arg.a.0" in line)
    assert "noalias" not in next(p for p in define.split(",") if "%arg.a.0" in p)
    out = np.zeros(3)
    marked(np.array([1.0, -2.5, 3.0]), out)
    assert out.tolist() == [2.0, -5.0, 6.0]


def test_distinct_needs_a_vector_width():
    with pytest.raises(ValueError, match="vector_width"):
        pipeline_class(1, None, distinct=True)
    assert pipeline_class(1, 512, distinct=True) is not pipeline_class(1, 512)
