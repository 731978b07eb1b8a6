"""``sg.compile`` of long sums: one loop per family of formulas instead of straight-line code.

A kernel of ``N`` distinct operations is ``N`` statements, and Numba compiles some
hundred statements a second, slower as a function grows. When ``derive.lift`` finds
families that cut the formulas to compile at least ``GAIN`` times (a sum of terms that
differ only in their numbers: one family reading them from a table), the kernel's
``scalar`` and ``vector`` loop over the families instead
(``codegen._pointwise_loops``): ``sum_{k < 10^5} (x - k)**2`` compiles as quickly as
``(x - k)**2``.
"""

from __future__ import annotations

import itertools

from symgrad._engines import template_nodes
from symgrad._expr import unique_nodes
from symgrad.codegen._pointwise_loops import pointwise_loops_source
from symgrad.codegen._printer import python_name
from symgrad.derive import lift
from symgrad.jit._cache import load_module

__all__ = ["lifted_module", "FROM", "GAIN"]

#: Distinct nodes from which the families are tried (below, straight-line code compiles in
#: about a second, and keeps the order of every sum as written) ...
FROM = 600
#: ... and how many times fewer formulas they must give to be used.
GAIN = 4


def lifted_module(exprs, args, what: str, options):
    """``(source, module)`` of family loops for checked ``exprs``, or ``None`` if they gain too little.

    Args:
        exprs: the checked, canonical expressions (the kernel's outputs, in order).
        args: the argument symbols, in call order; every free symbol of ``exprs`` is one.
        what: a short description, for the module docstring.
        options: ``JitOptions``.
    """
    small = sum(1 for e in exprs for _ in itertools.islice(unique_nodes(e), FROM)) < FROM
    if small:
        return None
    programs = [lift(e, (), args) for e in exprs]
    nodes = sum(p.nodes for p in programs)
    if nodes < FROM or nodes < GAIN * sum(template_nodes(p) for p in programs):
        return None
    taken: set = set()
    names = [python_name(a.name, taken) for a in args]
    source = pointwise_loops_source(programs, names, what)
    return source, load_module(source, options)
