"""The on-disk kernel cache: hits in a new process, races, damage, unwritable dirs."""

import os
import subprocess
import sys
import textwrap

import pytest
import sympy as sp

import symgrad as sg
from symgrad.jit import CacheWarning, _cache

SCRIPT = textwrap.dedent(
    """
    import sympy as sp, symgrad as sg
    w, b, x, y = sp.symbols("w b x y")
    obj = sg.Objective((sp.tanh(w * x + b) - y) ** 2 + {extra}, [w, b], data=[x, y])
    import numpy as np
    v, g = obj.value_and_grad([0.5, -0.25], np.linspace(0, 1, 10), np.linspace(1, 2, 10))
    f = obj._vg.blocks
    print(sum(f.stats.cache_hits.values()), sum(f.stats.cache_misses.values()), repr(v))
    """
)


def run(cache_dir, extra="0"):
    env = dict(os.environ, SYMGRAD_CACHE_DIR=str(cache_dir))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(extra=extra)], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    hits, misses, value = out.stdout.split()
    return int(hits), int(misses), value


def test_second_process_loads_the_kernel_from_disk(tmp_path):
    hits1, misses1, v1 = run(tmp_path)
    hits2, misses2, v2 = run(tmp_path)
    assert (hits1, misses1) == (0, 1)
    assert (hits2, misses2) == (1, 0)
    assert v1 == v2


def test_concurrent_processes_compiling_the_same_kernel(tmp_path):
    env = dict(os.environ, SYMGRAD_CACHE_DIR=str(tmp_path))
    code = SCRIPT.format(extra="w**4")
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [r[1] for r in results]
    assert len({r[0].split()[2] for r in results}) == 1
    assert run(tmp_path, extra="w**4")[0] == 1  # and the entry left behind is usable


def test_damaged_machine_code_is_rebuilt(tmp_path):
    _, _, first = run(tmp_path, extra="b**4")
    damaged = list(tmp_path.glob("__pycache__/*.nb[ic]"))
    assert damaged
    for path in damaged:
        path.write_bytes(path.read_bytes()[:30])  # truncated, as by a full disk
    assert run(tmp_path, extra="b**4") == (0, 1, first)  # compiled again, same result
    assert run(tmp_path, extra="b**4") == (1, 0, first)  # and cached again


def test_damaged_source_file_is_rewritten(tmp_path):
    _, _, first = run(tmp_path, extra="b**6")
    texts = {path: path.read_text() for path in tmp_path.glob("symgrad_*.py")}
    for path, text in texts.items():
        path.write_text(text[:40])
    assert run(tmp_path, extra="b**6")[2] == first
    assert {path: path.read_text() for path in texts} == texts


def test_unwritable_directory_falls_back_to_memory_with_one_warning(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(blocker / "sub"))
    monkeypatch.setattr(_cache, "_warned", False)
    x = sp.Symbol("x")
    with pytest.warns(CacheWarning, match="cannot write its kernel cache"):
        k = sg.compile(x**3 + 7, [x])
    assert k(2.0) == 15.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sg.compile(x**3 + 8, [x])(2.0) == 16.0  # no second warning


def test_cache_key_covers_options():
    from symgrad.jit import JitOptions

    assert _cache.source_key("text") != _cache.source_key("text", JitOptions(parallel=False))
    assert _cache.source_key("text") == _cache.source_key("text")


def test_source_file_of_non_utf8_bytes_is_rewritten(tmp_path):
    text = "def f(x):\n    return x + 1.0\n"
    (tmp_path / "symgrad_k.py").write_bytes(b"\xff\xfe\x00 damaged \x80\x81")
    path = _cache._write(tmp_path, "symgrad_k.py", text)
    assert path == tmp_path / "symgrad_k.py"
    assert path.read_bytes() == text.encode("utf-8")
