"""Every deliberate error of symgrad is a SymgradError that keeps its builtin base.

The source of the package is read with ``ast``: a ``raise`` of a bare builtin exception
class (``raise ValueError(...)``) bypasses the hierarchy of ``symgrad.errors`` and fails
the test. Re-raising a caught exception (``raise``, ``raise exc``, ``raise exc from None``)
is fine.
"""

import ast
import inspect
from pathlib import Path

import pytest
import sympy as sp

import symgrad as sg
from symgrad import errors
from symgrad.explain import backprop

PACKAGE = Path(sg.__file__).parent

BARE = {"ValueError", "TypeError", "NotImplementedError", "RuntimeError", "KeyError", "IndexError"}

# Files allowed to raise bare builtins, with the reason. Empty: every module of the
# package raises classes of symgrad.errors. A file listed here must say why.
ALLOWED: dict[str, str] = {}


def bare_raises(source: str) -> list[tuple[int, str]]:
    """(line, class name) of every ``raise`` of a bare builtin exception class in ``source``."""
    found = []
    if not any(name in source for name in BARE):  # a bare raise names its class: skip parsing
        return found
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(raised, ast.Name) and raised.id in BARE:
            found.append((node.lineno, raised.id))
    return sorted(found)


def test_the_scanner_finds_bare_raises_and_spares_re_raises():
    source = (
        "def f(x):\n"
        "    try:\n"
        "        g(x)\n"
        "    except OSError as exc:\n"
        "        raise exc from None\n"
        "    except KeyError:\n"
        "        raise\n"
        "    if x:\n"
        "        raise ValueError('x')\n"
        "    raise NotImplementedError\n"
    )
    assert bare_raises(source) == [(9, "ValueError"), (10, "NotImplementedError")]


def test_no_module_raises_a_bare_builtin_exception():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name in ALLOWED:
            continue
        found = bare_raises(path.read_text(encoding="utf-8"))
        if found:
            offenders[name] = found
    assert not offenders, (
        f"raise a class of symgrad.errors (it keeps the builtin base) instead of: {offenders}"
    )


def test_allowed_files_exist_and_still_need_it():
    for name in ALLOWED:
        assert bare_raises((PACKAGE / name).read_text(encoding="utf-8")), f"{name} is clean; drop it"


def _error_classes():
    return [c for _, c in inspect.getmembers(errors, inspect.isclass)
            if issubclass(c, BaseException) and c.__module__ == errors.__name__]


def test_every_error_class_is_a_symgrad_error_with_a_builtin_base_and_is_listed():
    classes = _error_classes()
    assert classes
    builtin = (ValueError, TypeError, KeyError, ArithmeticError, RuntimeError, NotImplementedError)
    for cls in classes:
        assert cls.__name__ in errors.__all__, cls
        if issubclass(cls, Warning):
            continue
        assert issubclass(cls, errors.SymgradError), cls
        assert cls is errors.SymgradError or issubclass(cls, builtin), cls


@pytest.mark.parametrize(("call", "cls", "builtin"), [
    (lambda: sg.Objective(sp.Symbol("a") ** 2, [sp.Symbol("a")], engine="gpu"), sg.OptionError, ValueError),
    (lambda: sg.Objective(sp.Symbol("a"), [sp.Symbol("a"), sp.Symbol("a")]), sg.OptionError, ValueError),
    (lambda: sg.optim.Adam(lr="fast"), sg.OptionTypeError, TypeError),
    (lambda: sg.optim.SGD(lr=0.1, nesterov=True), sg.OptionError, ValueError),
    (lambda: sg.nn.dense([sp.Symbol("x")], 0), sg.OptionError, ValueError),
    (lambda: sg.losses.mse("y", [1.0]), sg.ExpressionTypeError, TypeError),
    (lambda: backprop(sp.Symbol("x") ** 2, {sp.Symbol("x"): 1.0}).node("nowhere"),
     errors.UnknownNameError, KeyError),
])
def test_errors_users_meet_keep_their_builtin_base(call, cls, builtin):
    with pytest.raises(cls) as info:
        call()
    assert isinstance(info.value, builtin)
    assert isinstance(info.value, sg.SymgradError)
