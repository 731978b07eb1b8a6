"""Family programs (``derive.lift``) -> the ``scalar`` and ``vector`` functions of a kernel.

``sg.compile`` of a long sum whose terms differ only in their numbers, such as
``sum_{k < N} (x - k)**2``, would be ``N`` statements of straight-line code, and
Numba's compile time grows faster than a function's length (minutes for 10^4
statements). Lifted, it is one family that loops over a table of the numbers: the
generated functions stay a few dozen lines whatever ``N``.

The module has the functions ``pointwise_source`` writes: ``scalar(*args)`` (floats
in, a float or a tuple of floats out) and ``vector(*arrays, out)`` (one row of
``out`` per element of the flat argument arrays). Every argument is a data column
of the family program (``lift(expr, (), args)``); ``vector`` takes the elements
``B`` at a time into ``_X`` (``d x B``), and each family fills ``_v{f}``
(``size x B``) exactly as the loops engine's forward pass does.

The value of a sum is added in the order of the family's terms (sorted by what they
read), not in the order of ``expr.args``: a result differs from the straight-line
kernel's by rounding only, at most ``(N - 1) * 2**-53 * sum_k |t_k|`` for a sum of
``N`` terms ``t_k`` (the bound of any order of recursive summation).
"""

from __future__ import annotations

import dataclasses

from symgrad.codegen._loops import _Writer
from symgrad.codegen._source import KernelSource, _header
from symgrad.codegen._printer import float_literal

__all__ = ["pointwise_loops_source", "loop_width"]


def loop_width(programs) -> int:
    """Values the families of ``programs`` hold per element (the rows of their ``_v`` arrays)."""
    return sum(f.size for p in programs for f in p.families)


def _block(width: int) -> int:
    """Elements per block: 64, or fewer (down to 16) so that the arrays stay within a megabyte."""
    block = 64
    while block > 16 and 8 * width * block > 2**20:
        block //= 2
    return block


def _merged(programs):
    """The families of several programs in one numbering, and where each output is.

    A slot that reads family ``j`` of program ``p`` reads family ``offset[p] + j``.
    """
    families, outputs = [], []
    for program in programs:
        offset = len(families)
        for f in program.families:
            families.append(dataclasses.replace(
                f,
                slots=tuple(_shifted(s, offset) for s in f.slots),
                term_slots=tuple(_shifted(s, offset) for s in f.term_slots),
            ))
        outputs.append(len(families) - 1)
    return families, outputs


def _shifted(slot, offset: int):
    return dataclasses.replace(slot, family=slot.family + offset) if slot.source == "value" else slot


def _forward(w: _Writer, families, depth: int) -> None:
    for number, f in enumerate(families):
        w.forward(number, f, depth, False)


def _arrays(w: _Writer, families, n_args: int, block: int, depth: int) -> None:
    w.emit(depth, f"_X = vm.empty2({max(n_args, 1)}, {block})")
    w.emit(depth, f"_q = vm.empty1({block})")
    for number, f in enumerate(families):
        w.emit(depth, f"_v{number} = vm.empty2({f.size}, {block})")


def pointwise_loops_source(programs, names, what: str) -> KernelSource:
    """Module with ``scalar`` and ``vector`` computing the value of each family program.

    Args:
        programs: one ``LoopProgram`` per output, each lifted with no parameters and
            the kernel's arguments as its data columns, in call order.
        names: the Python names of the arguments (the parameters of ``scalar``).
        what: a short description, for the module docstring.
    """
    families, outputs = _merged(programs)
    n_args = len(names)
    block = _block(loop_width(programs))
    w = _Writer(None, block)
    e = w.emit
    e(0, f"def scalar({', '.join(names)}):")
    _arrays(w, families, n_args, 1, 1)
    for j, name in enumerate(names):
        e(1, f"_X[{j}, 0] = {name}")
    e(1, "_nb = 1")
    _forward(w, families, 1)
    results = [f"_v{k}[0, 0]" for k in outputs]
    e(1, f"return {results[0]}" if len(results) == 1 else f"return ({', '.join(results)},)")
    w.lines += ["", ""]
    arrays = [f"_c{j}" for j in range(n_args)]
    e(0, f"def vector({', '.join(arrays + ['_out'])}):")
    _arrays(w, families, n_args, block, 1)
    e(1, "_n = _out.shape[0]")
    e(1, f"for _start in range(0, _n, {block}):")
    e(2, f"_nb = _n - _start if _n - _start < {block} else {block}")
    for j, array in enumerate(arrays):
        e(2, "for _s in range(_nb):")
        e(3, f"_X[{j}, _s] = {array}[_start + _s]")
    body_start = len(w.lines)
    _forward(w, families, 2)
    statements = len(w.lines) - body_start
    for column, k in enumerate(outputs):
        w.samples(2, f"_out[_start + _s, {column}] = _v{k}[0, _s]")
    tables = [
        f"{name} = np.array([{', '.join(map(str, values))}], dtype=np.int64)"
        for values, name in w.tables.items()
    ] + [
        f"{name} = np.array([{', '.join(float_literal(v) for v in values)}])"
        for values, name in w.numbers.items()
    ]
    text = _header(what, True) + "".join(t + "\n" for t in tables) + ("\n\n" if tables else "")
    text += "\n".join(w.lines) + "\n"
    return KernelSource(what, text, ("scalar", "vector"), ("vector",), statements)
