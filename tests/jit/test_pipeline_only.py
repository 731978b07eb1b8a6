"""Generated modules are loaded through the one chain of stages: ``load_module`` lives in ``symgrad/jit/``.

Outside ``symgrad/jit/``, no module of the package imports ``load_module`` or calls it
(by name or as an attribute); compiled paths go through ``symgrad.jit._pipeline``.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "symgrad"
NAME = "load_module"


def uses_of_load_module(tree) -> list:
    """``(line, what)`` of each import of ``load_module`` and each use of the name or attribute."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found += [(node.lineno, f"imports {a.name}") for a in node.names if a.name.split(".")[-1] == NAME]
        elif isinstance(node, ast.Name) and node.id == NAME:
            found.append((node.lineno, f"uses {NAME}"))
        elif isinstance(node, ast.Attribute) and node.attr == NAME:
            found.append((node.lineno, f"uses .{NAME}"))
    return found


def outside_jit():
    jit = PACKAGE / "jit"
    return sorted(p for p in PACKAGE.rglob("*.py") if jit not in p.parents)


@pytest.mark.parametrize("code, count", [
    ("from symgrad.jit import DEFAULT_OPTIONS, load_module\nload_module(s, o)\n", 2),
    ("def f(s):\n    from symgrad.jit import _cache\n    return _cache.load_module(s)\n", 1),
    ("import symgrad.jit._cache as c\nm = c.load_module\n", 1),
    ("from symgrad.jit._pipeline import residual_module\nresidual_module(r, p, d)\n", 0),
])
def test_the_scan_sees_what_it_forbids(code, count):
    assert len(uses_of_load_module(ast.parse(code))) == count


def test_the_scan_reads_the_package():
    names = {p.relative_to(PACKAGE).as_posix() for p in outside_jit()}
    assert {"_ls_kernels.py", "_chunked.py", "objective.py", "codegen/_source.py"} <= names
    assert not any(n.startswith("jit/") for n in names)


def test_load_module_is_called_from_jit_only():
    found = [f"{p.relative_to(PACKAGE)}:{line}: {what}"
             for p in outside_jit() for line, what in uses_of_load_module(ast.parse(p.read_text(encoding="utf-8")))]
    assert not found, "load modules through symgrad.jit._pipeline: " + "; ".join(found)
