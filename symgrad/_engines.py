"""Which engine an ``Objective`` runs: a cost model of both, measured on this project's bench.

The straight-line engine (``"scalar"``) evaluates the whole value-and-gradient
program for one sample after another; the loops engine (``"loops"``) runs each
family of identical formulas as loops over a block of samples. Per sample both do
about the same arithmetic; they differ in what surrounds it:

- the straight-line program of at most ``SPLIT`` statements (codegen) is one loop
  body that LLVM vectorises over the samples of a block; a longer one is cut into
  parts, functions called one sample at a time that pass their values through a
  scratch array (about five times the cost per operation on the bench);
- the loops engine reads and writes each family's values and adjoints in arrays
  of ``B`` samples (one load or store per operand of a template) and pays a fixed
  cost for the loops it starts, once per block of ``B`` samples (too small to
  measure on the bench now: ``LOOPS_FIXED`` is fitted as 0).

The model (``bench/bench_engines.py`` measures both engines and prints it) reads
the family program only (no second walk over the expression). It counts the
operations per sample of the forward templates ``f`` and of the reverse templates
``r``, an elementary function or a power of non-integer exponent counting
``FUNCTION_OPS`` operations, the data columns ``d`` and the distinct nodes ``n`` of
the expression (about the straight-line program's statements)::

    scalar = SCALAR_OP * f + DATA_COLUMN * d           (n <= SPLIT)
             SCALAR_SPLIT_OP * f + DATA_COLUMN * d     (n > SPLIT)
    loops  = LOOPS_OP * (f + r) + DATA_COLUMN * d + LOOPS_FIXED

in nanoseconds per sample on one core. ``engine="auto"`` takes the loops when they
cut the formulas to compile at least ``LOOPS_GAIN`` times and their modelled cost
is below ``LOOPS_MARGIN`` times the straight-line one (near a tie the straight-line
program, which compiles faster when it is short). The constants are the least-squares
fit (relative errors) of ``bench_engines.py --fit`` to one run of the bench after the
loops engine's register-blocked dense layers (tanh MLPs from 45 to 369 parameters,
the 64-32-10 ReLU classifier, logistic regression, a linear model, four NIST
models; docs/performance.md has the table), rounded to three digits: the model
orders the two engines as measured on every model whose engines are not tied
(a median ratio of their times within 15 % of 1).
"""

from __future__ import annotations

import sympy as sp

from symgrad._expr import unique_nodes
from symgrad.codegen._source import SPLIT

__all__ = [
    "EngineCosts", "engine_costs", "operation_counts", "template_nodes", "FUNCTION_OPS", "SCALAR_OP",
    "SCALAR_SPLIT_OP", "DATA_COLUMN", "LOOPS_OP", "LOOPS_FIXED", "LOOPS_GAIN", "LOOPS_MARGIN",
]

#: Operations an elementary function (exp, log, tanh, ...) or a power of non-integer exponent counts for.
FUNCTION_OPS = 10
#: Nanoseconds per forward operation, straight-line program of at most ``SPLIT`` statements ...
SCALAR_OP = 0.26
#: ... and of a longer one, cut into parts (one sample at a time, values through memory).
SCALAR_SPLIT_OP = 1.34
#: Nanoseconds to read one data column's value of a sample, either engine.
DATA_COLUMN = 1.32
#: Nanoseconds per template operation, loops engine (its loads and stores included).
LOOPS_OP = 0.163
#: Nanoseconds per sample for the loops engine's block set-up and gathers (the fit finds
#: none since the dense layers' register-blocked products: kept as the formula's term).
LOOPS_FIXED = 0.0
#: The loops must cut the formulas to compile at least this many times ...
LOOPS_GAIN = 4
#: ... and cost less than this share of the straight-line engine.
LOOPS_MARGIN = 0.8


def _ops(expr) -> int:
    """Operations of a template: its distinct non-atomic nodes, a function as ``FUNCTION_OPS``."""
    if expr is None:
        return 0
    return sum(FUNCTION_OPS if _is_function(node) else 1 for node in unique_nodes(expr) if not node.is_Atom)


def _is_function(node) -> bool:
    """An elementary function, or a power computed as one (``x**y``, ``x**0.3``; not ``x**3``)."""
    return isinstance(node, sp.Function) or (node.is_Pow and not node.exp.is_Integer)


def template_nodes(program) -> int:
    """Distinct nodes in the templates of a family program: what the loops engine compiles.

    A sum of terms that differ only in their constants is one family whose template holds
    every term: no fewer formulas than the straight-line program.
    """
    count = 0
    for f in program.families:
        count += sum(1 for _ in unique_nodes(f.value))
        if f.term is not None:
            count += sum(1 for _ in unique_nodes(f.term))
    return max(count, 1)


class EngineCosts(tuple):
    """``(scalar, loops, gain)``: the modelled nanoseconds per sample of each engine, and
    how many times fewer formulas the loops compile."""

    __slots__ = ()

    def __new__(cls, scalar: float, loops: float, gain: float):
        return super().__new__(cls, (scalar, loops, gain))

    scalar = property(lambda self: self[0])
    loops = property(lambda self: self[1])
    gain = property(lambda self: self[2])

    @property
    def choice(self) -> str:
        """The engine ``engine="auto"`` runs (see the module docstring)."""
        return "loops" if self.gain >= LOOPS_GAIN and self.loops < LOOPS_MARGIN * self.scalar else "scalar"

    def __repr__(self) -> str:
        return (f"EngineCosts(scalar={self.scalar:.0f} ns, loops={self.loops:.0f} ns, "
                f"gain={self.gain:.1f} -> {self.choice!r})")


def operation_counts(program) -> tuple[int, int]:
    """``(f, r)`` of a family program: operations per sample of its forward and reverse templates."""
    forward = reverse = 0
    for f in program.families:
        forward += f.size * (_ops(f.value) + f.length * _ops(f.term))
        if f.active:
            dv = sum(_ops(d) + 1 for d in f.d_value if d is not None)
            dt = sum(_ops(d) + 1 for d in f.d_term if d is not None)
            reverse += f.size * (dv + f.length * dt)
    return forward, reverse


def engine_costs(program) -> EngineCosts:
    """The modelled cost per sample of both engines for ``program`` (``derive.lift``'s).

    Returns:
        ``EngineCosts(scalar, loops, gain)``, costs in nanoseconds per sample (see the
        module docstring); ``.choice`` is the engine ``engine="auto"`` runs.

    Example:
        >>> import sympy as sp
        >>> from symgrad.derive import lift
        >>> a, x, y = sp.symbols("a x y")
        >>> engine_costs(lift((a * x - y) ** 2, [a], [x, y])).choice
        'scalar'
    """
    forward, reverse = operation_counts(program)
    data = DATA_COLUMN * program.n_data
    scalar = (SCALAR_OP if program.nodes <= SPLIT else SCALAR_SPLIT_OP) * forward + data
    loops = LOOPS_OP * (forward + reverse) + data + LOOPS_FIXED
    return EngineCosts(scalar, loops, program.nodes / template_nodes(program))
