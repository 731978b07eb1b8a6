"""Imports point forward only: derive <- codegen <- jit; optimize takes any callable."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symgrad"

# stage -> the symgrad modules it must not import
FORBIDDEN = {
    "derive": ("symgrad.codegen", "symgrad.jit", "symgrad.objective", "symgrad.autograd", "symgrad.check"),
    "codegen": ("symgrad.jit", "symgrad.objective", "symgrad.autograd", "symgrad.check", "numba"),
    "jit": ("symgrad.objective", "symgrad.autograd", "symgrad.check", "symgrad.optimize"),
    "optimize": ("symgrad.derive", "symgrad.codegen", "symgrad.autograd", "symgrad.check"),
}


def imported(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_stage_imports_point_forward(stage):
    files = sorted((PACKAGE / stage).glob("*.py"))
    assert files
    for path in files:
        for name in imported(path):
            assert not name.startswith(FORBIDDEN[stage]), f"{stage}/{path.name} imports {name}"


def test_init_only_reexports():
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    kinds = {type(node).__name__ for node in tree.body}
    assert kinds <= {"Expr", "ImportFrom", "Import", "Assign"}  # docstring, imports, __all__, __version__


def test_modules_stay_small():
    sizes = {p.relative_to(PACKAGE): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert not {p: n for p, n in sizes.items() if n > 600}
