"""The passes of Numba's pipeline that generated kernels skip: they exist, and skipping them
changes no bit of a kernel's results (symgrad/jit/_optlevel.py)."""

import importlib.util

import numba
import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.codegen._loops import OPT_LEVEL
from symgrad.jit import _optlevel


def test_the_skipped_passes_are_passes_of_numbas_pipeline():
    from numba.core.compiler import DefaultPassBuilder, Flags, StateDict

    state = StateDict()
    state.flags, state.func_ir = Flags(), None
    names = {cls.__name__ for cls, _ in DefaultPassBuilder.define_nopython_pipeline(state).passes}
    assert _optlevel.SKIPPED_PASSES <= names  # a renamed pass would be kept silently otherwise


def test_a_loops_kernel_gives_the_same_bits_with_and_without_the_skipped_passes(tmp_path, monkeypatch):
    x = sp.symbols("x0:2")
    h, params = list(x), []
    for layer, size in enumerate((6, 6, 1)):
        h, p = sg.nn.dense(h, size, activation=sg.nn.tanh if size > 1 else None, name=f"W{layer}_")
        params += p
    y = sp.Symbol("y")
    obj = sg.Objective(sg.losses.mse(h[0], y), params, [*x, y], engine="loops")
    path = tmp_path / "kernel_module.py"
    path.write_text(obj._vg_source.text)
    spec = importlib.util.spec_from_file_location("kernel_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    rng = np.random.default_rng(0)
    n = 3 * 64 + 5
    theta = rng.standard_normal(len(params))
    cols = np.ascontiguousarray(rng.standard_normal((3, n)))
    blocks = -(-n // 64)

    def run(compiler):
        out = np.zeros((blocks, len(params) + 2))
        kernel = numba.njit(error_model="numpy", pipeline_class=compiler)(module.vg_range)
        kernel(theta, cols, np.empty(0, np.int64), n, out, 0, blocks)
        (result,) = kernel.overloads.values()
        passes = {name.split("_", 1)[1] for name in result.metadata["pipeline_times"]["nopython"]}
        return out, passes

    skipped = _optlevel.SKIPPED_PASSES
    lean, lean_passes = run(_optlevel.pipeline_class(OPT_LEVEL, 512))
    monkeypatch.setattr(_optlevel, "SKIPPED_PASSES", frozenset())  # read when a compile defines its pipeline
    full, full_passes = run(_optlevel.pipeline_class.__wrapped__(OPT_LEVEL, 512))
    assert "reconstruct_ssa" in full_passes and "reconstruct_ssa" not in lean_passes
    assert len(full_passes) == len(lean_passes) + len(skipped)
    assert np.all(np.isfinite(lean)) and np.count_nonzero(lean) > lean.size // 2
    assert lean.tobytes() == full.tobytes()
