"""Which engine an ``Objective`` runs: a cost model of both, measured on this project's bench.

The straight-line engine (``"scalar"``) evaluates the whole value-and-gradient
program for one sample after another; the loops engine (``"loops"``) runs each
family of identical formulas as loops over a block of samples. Per sample both do
about the same arithmetic; they differ in what surrounds it:

- the straight-line program keeps every intermediate in registers while it is
  short, and spills to memory once it is long (a network's program of a few
  hundred statements per sample);
- the loops engine reads and writes each family's values and adjoints in arrays
  of ``B`` samples (one load or store per operand of a template) and pays a fixed
  cost for every loop it starts, once per block of ``B`` samples.

The model (``bench/bench_engines.py`` measures both engines and prints it) reads
the family program only (no second walk over the expression). It counts the
operations per sample of the forward templates ``f`` (the size of the straight-line
forward program too) and of the reverse templates ``r``, an elementary function
counting ``FUNCTION_OPS`` operations, and the data columns ``d``::

    scalar = f * (SCALAR_OP + SCALAR_GROWTH * f) + DATA_COLUMN * d
    loops  = LOOPS_OP * (f + r) + DATA_COLUMN * d + LOOPS_FIXED

in nanoseconds per sample on one core. The straight-line engine's cost per
operation grows with the program (``SCALAR_GROWTH``: its intermediates no longer
fit in registers); the loops engine's does not, but it pays for its loads and
stores and for starting its loops. ``engine="auto"`` takes the loops when they cut
the formulas to compile at least ``LOOPS_GAIN`` times and their modelled cost is
below ``LOOPS_MARGIN`` times the straight-line one (near a tie the straight-line
program, which compiles faster when it is short). The constants were fitted to one
run of the bench (tanh MLPs from 45 to 337 parameters, logistic regression, a
linear model, NIST models; docs/performance.md has the table): the model orders
the two engines as measured on every one of them.
"""

from __future__ import annotations

import sympy as sp

from symgrad._expr import unique_nodes

__all__ = [
    "EngineCosts", "engine_costs", "operation_counts", "template_nodes", "FUNCTION_OPS", "SCALAR_OP",
    "SCALAR_GROWTH", "DATA_COLUMN", "LOOPS_OP", "LOOPS_FIXED", "LOOPS_GAIN", "LOOPS_MARGIN",
]

#: Operations an elementary function (exp, log, tanh, ...) counts for.
FUNCTION_OPS = 10
#: Nanoseconds per operation of a short straight-line program ...
SCALAR_OP = 0.3
#: ... growing by this much per operation of the program (spilled intermediates).
SCALAR_GROWTH = 0.0018
#: Nanoseconds to read one data column's value of a sample, either engine.
DATA_COLUMN = 2.0
#: Nanoseconds per template operation, loops engine (its loads and stores included).
LOOPS_OP = 0.3
#: Nanoseconds per sample for the loops engine's block set-up and gathers.
LOOPS_FIXED = 25.0
#: The loops must cut the formulas to compile at least this many times ...
LOOPS_GAIN = 4
#: ... and cost less than this share of the straight-line engine.
LOOPS_MARGIN = 0.8


def _ops(expr) -> int:
    """Operations of a template: its distinct non-atomic nodes, a function as ``FUNCTION_OPS``."""
    if expr is None:
        return 0
    return sum(FUNCTION_OPS if isinstance(node, sp.Function) else 1
               for node in unique_nodes(expr) if not node.is_Atom)


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
    scalar = forward * (SCALAR_OP + SCALAR_GROWTH * forward) + data
    loops = LOOPS_OP * (forward + reverse) + data + LOOPS_FIXED
    return EngineCosts(scalar, loops, program.nodes / template_nodes(program))
