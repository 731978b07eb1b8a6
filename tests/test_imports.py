"""No module of the package reaches back up to ``symgrad`` itself, and importing it loads no Numba."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "symgrad"
SUBMODULES = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}

#: The layers that use the package as a user does (inside functions, when run):
#: the command line, the demo, the playground, the pictures and the explanations.
USER_LAYERS = ("cli.py", "_cli_fit.py", "demo.py", "playground.py", "plot", "explain")


def package_imports(nodes):
    """``(line, text)`` of each ``import symgrad`` or ``from symgrad import name`` of a non-module name."""
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "symgrad":
                    yield node.lineno, "import symgrad"
        elif isinstance(node, ast.ImportFrom) and node.module == "symgrad" and node.level == 0:
            names = [a.name for a in node.names if a.name not in SUBMODULES]
            if names:
                yield node.lineno, f"from symgrad import {', '.join(names)}"


def top_level(tree):
    """The statements run at import, including those under a top-level ``if``/``try``."""
    stack = list(tree.body)
    while stack:
        node = stack.pop(0)
        yield node
        if isinstance(node, (ast.If, ast.Try)):
            stack += node.body + node.orelse + getattr(node, "finalbody", []) + [
                s for h in getattr(node, "handlers", []) for s in h.body]


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_the_rule_sees_what_it_forbids():
    tree = ast.parse("import symgrad\nfrom symgrad import compile, nn\nimport symgrad.jit\n")
    assert [text for _, text in package_imports(top_level(tree))] == ["import symgrad", "from symgrad import compile"]


def test_no_module_imports_the_package_at_import_time():
    found = [f"{p.relative_to(PACKAGE)}:{line}: {text}"
             for p in modules() for line, text in package_imports(top_level(ast.parse(p.read_text(encoding="utf-8"))))]
    assert not found, found


def test_the_stages_never_reach_the_package():
    """Below the user layers, not even a late import inside a function goes through ``symgrad``."""
    found = []
    for p in modules():
        relative = p.relative_to(PACKAGE)
        if relative.parts[0] in USER_LAYERS:
            continue
        found += [f"{relative}:{line}: {text}" for line, text in package_imports(ast.walk(ast.parse(p.read_text(encoding="utf-8"))))]
    assert not found, found


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_and_help_load_no_numba():
    code = (
        "import sys, contextlib, io\n"
        "import symgrad\n"
        "after_import = 'numba' in sys.modules\n"
        "from symgrad.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as text, contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "print(after_import, 'numba' in sys.modules, 'usage' in text.getvalue())\n"
    )
    assert run(code) == "False False True"
