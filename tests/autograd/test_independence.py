"""The autograd engine is an independent second opinion: it reads no core stage."""

import ast
from pathlib import Path

import symgrad.autograd

FORBIDDEN = ("symgrad.derive", "symgrad.codegen", "symgrad.jit", "symgrad.objective")


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_autograd_imports_no_core_stage():
    package = Path(symgrad.autograd.__file__).parent
    files = sorted(package.glob("*.py"))
    assert len(files) >= 4
    for path in files:
        for name in imported_modules(path):
            assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
            assert name != "symgrad" and not name.startswith(("symgrad.gradient", "symgrad.compile")), \
                f"{path.name} imports {name}"
