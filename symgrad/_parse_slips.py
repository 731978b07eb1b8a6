"""Slips of hand-written maths that ``symgrad.parse`` answers with a hint or a reading.

``2x``, ``3(x + 1)``, ``x y`` and ``sin x`` are not Python: the error says how to
write them. ``e^x`` is Euler's number raised to a power in every textbook, so a text
that writes ``e^...`` reads each ``e`` as ``E``; a lone ``e`` stays a symbol, with a
warning.
"""

from __future__ import annotations

import ast
import re
import warnings

from symgrad.errors import SymgradWarning

__all__ = ["read_euler", "slip_hint"]

#: A number written against a name or a bracket, as in ``2x`` or ``3(x + 1)``.
_IMPLICIT_PRODUCT = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)([A-Za-z_(]\w*)")

#: Two operands side by side with only spaces between them, as in ``x y`` or ``sin x``.
_JUXTAPOSED = re.compile(r"([\w.]+|\))\s+([\w.]+|\()")


#: ``e`` raised to a power with a caret, the hand-written notation of ``exp``.
_EULER_POWER = re.compile(r"(?<![\w.])e\s*\^")


def slip_hint(text: str, functions) -> str:
    """A way out for the usual slips of hand-written maths in ``text`` that Python's grammar
    refused (``2x``, ``x y``, ``sin x``; ``functions`` are the names that can be called), or ``""``."""
    found = _IMPLICIT_PRODUCT.search(text)
    if found:
        number, rest = found.groups()
        return (f" Multiplication is written with *: write {number}*{rest} for "
                f"{number} times {rest} (no product is implied by {number}{rest}).")
    found = _JUXTAPOSED.search(text)
    if found and not re.search(r"\b(and|or|not|if|else|for|in|lambda|is|import)\b", text):
        a, b = found.groups()
        if a in functions:
            return f" A function is called with brackets: write {a}({b}), not {a} {b}."
        return f" Multiplication is written with *: write {a}*{b}, not {a} {b}."
    return ""


def read_euler(root: ast.AST, text: str) -> None:
    """Read every ``e`` as Euler's number ``E`` if the text writes ``e^...``.

    ``e^x`` is the textbook way of writing ``exp(x)``. Without it, ``e`` stays a symbol
    (so that ``str(expr)``, which writes ``**`` and ``E``, always reads back to
    ``expr``), with a :class:`SymgradWarning`. The tree is changed in place, before
    anything is built from it.
    """
    nodes, stack = [], [root]
    while stack:  # ast.walk would import collections while untrusted text is read
        nodes.append(stack.pop())
        stack.extend(ast.iter_child_nodes(nodes[-1]))
    names = [node for node in nodes if isinstance(node, ast.Name) and node.id == "e"]
    if not names:
        return
    if _EULER_POWER.search(text):
        for node in names:
            node.id = "E"
        return
    warnings.warn("'e' is read as a symbol named e; Euler's number is written E, and its powers "
                  "E**x, e^x or exp(x).", SymgradWarning, stacklevel=3)
