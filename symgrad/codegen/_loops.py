"""Family programs (``derive.lift``) -> fused data loops with one loop per family.

The module has the same functions as ``objective_source`` writes
(``{kind}_block(theta, cols, idx, b, n, out)`` and ``{kind}_range(...)``), so an
``Objective`` runs either the same way; ``cols`` is always a ``(d, N)``-shaped array.
Per sample, the forward pass fills one array ``_v{f}`` per family; the reverse pass
(kind ``vg``) runs the families backwards, adding each template derivative times the
family's adjoint ``_a{f}[k]`` into the adjoints of what the slot read, or into the
gradient ``_g`` for parameters. Sums over many terms keep four partial sums (the
additions are independent, so the processor overlaps them); the order is fixed by
the program, so results do not depend on the machine or the thread count.

Index tables (slots whose indices are not affine) become module constants ``_T{n}``.
"""

from __future__ import annotations

from dataclasses import replace

from symgrad.codegen._printer import KernelPrinter
from symgrad.codegen._source import _HEADER, KernelSource

__all__ = ["loops_source", "UNROLL_FROM"]

#: Sums of at least this many terms keep four partial sums.
UNROLL_FROM = 8

_M = "_MM_"  # placeholder for the term index in printed terms


class _Writer:
    def __init__(self, program):
        self.program = program
        self.tables: dict = {}
        self.lines: list = []

    # -- index expressions ----------------------------------------------------------
    def index(self, slot, length: int, m: str | None) -> str:
        im = slot.index
        if im.table is not None:
            name = self.tables.setdefault(im.table, f"_T{len(self.tables)}")
            return f"{name}[_k * {length} + {m}]" if m is not None else f"{name}[_k]"
        parts = [str(im.start)] if im.start else []
        if im.step:
            parts.append("_k" if im.step == 1 else f"{im.step} * _k")
        if im.inner and m is not None:
            parts.append(m if im.inner == 1 else f"{im.inner} * ({m})" if " " in m else f"{im.inner} * {m}")
        return " + ".join(parts) or "0"

    def read(self, slot, length=0, m=None) -> str:
        ix = self.index(slot, length, m)
        if slot.source == "theta":
            return f"_theta[{ix}]"
        if slot.source == "data":
            return f"_cols[{ix}, _i]"
        return f"_v{slot.family}[{ix}]"

    def target(self, slot, length=0, m=None) -> str:
        ix = self.index(slot, length, m)
        return f"_g[{ix}]" if slot.source == "theta" else f"_a{slot.family}[{ix}]"

    def names(self, f, number: int, m: str | None = _M) -> dict:
        names = {s.symbol: self.read(s) for s in f.slots}
        names.update({s.symbol: self.read(s, f.length, m) for s in f.term_slots})
        if f.reduced is not None:
            names[f.reduced] = "_r"
        if f.itself is not None:
            names[f.itself] = f"_v{number}[_k]"
        return names

    # -- loops ----------------------------------------------------------------------------
    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def open_members(self, f, depth: int) -> int:
        if f.size == 1:
            self.emit(depth, "_k = 0")
            return depth
        self.emit(depth, f"for _k in range({f.size}):")
        return depth + 1

    def forward(self, number: int, f, depth: int) -> None:
        printer = KernelPrinter(self.names(f, number))
        d = self.open_members(f, depth)
        if f.reduce is not None:
            self.reduction(f, printer.doprint(f.term), d)
        self.emit(d, f"_v{number}[_k] = {printer.doprint(f.value)}")
        if f.reduce is not None and f.active:
            self.emit(d, f"_r{number}[_k] = _r")

    def reduction(self, f, term: str, d: int) -> None:
        at = term.replace
        n = f.length
        if f.reduce == "add" and n >= UNROLL_FROM:
            whole = n - n % 4
            self.emit(d, "_p0 = 0.0; _p1 = 0.0; _p2 = 0.0; _p3 = 0.0")
            self.emit(d, f"for _m in range(0, {whole}, 4):")
            for j in range(4):
                self.emit(d + 1, f"_p{j} += {at(_M, '_m' if j == 0 else f'_m + {j}')}")
            if whole < n:
                self.emit(d, f"for _m in range({whole}, {n}):")
                self.emit(d + 1, f"_p0 += {at(_M, '_m')}")
            self.emit(d, "_r = (_p0 + _p1) + (_p2 + _p3)")
        elif f.reduce == "add":
            self.emit(d, "_r = 0.0")
            self.emit(d, f"for _m in range({n}):")
            self.emit(d + 1, f"_r += {at(_M, '_m')}")
        else:
            fn, start = ("max", "-math.inf") if f.reduce == "max" else ("min", "math.inf")
            self.emit(d, f"_r = {start}")
            self.emit(d, f"for _m in range({n}):")
            self.emit(d + 1, f"_r = {fn}(_r, {at(_M, '_m')})")

    def backward(self, number: int, f, depth: int) -> None:
        names = self.names(f, number, "_m")
        if f.reduced is not None:
            names[f.reduced] = f"_r{number}[_k]"
        printer = KernelPrinter(names)
        d = self.open_members(f, depth)
        self.emit(d, f"_a = _a{number}[_k]")
        for slot, dv in zip(f.slots, f.d_value):
            if dv is not None and dv != 0:
                self.emit(d, f"{self.target(slot)} += {_times('_a', dv, printer)}")
        if not f.d_term:
            return
        self.emit(d, f"_ar = {_times('_a', f.d_reduced, printer)}")
        updates = [
            f"{self.target(s, f.length, '_m')} += {_times('_ar', dt, printer)}"
            for s, dt in zip(f.term_slots, f.d_term)
            if dt is not None and dt != 0
        ]
        if f.reduce == "add":
            self.emit(d, f"for _m in range({f.length}):")
            for u in updates:
                self.emit(d + 1, u)
            return
        # max / min: the derivative goes to the one term equal to the result; at a tie
        # no term gets any (symgrad's convention: d max(a, b) = a'·H(a - b) + b'·H(b - a)).
        term = printer.doprint(f.term)
        self.emit(d, "_c = 0")
        self.emit(d, "_w = 0")
        self.emit(d, f"for _m in range({f.length}):")
        self.emit(d + 1, f"if {term} == _r{number}[_k]:")
        self.emit(d + 2, "_c += 1")
        self.emit(d + 2, "_w = _m")
        self.emit(d, "if _c == 1:")
        self.emit(d + 1, "_m = _w")
        for u in updates:
            self.emit(d + 1, u)


def _times(factor: str, d, printer) -> str:
    if d == 1:
        return factor
    return f"{factor} * ({printer.doprint(d)})"


def loops_source(program, what: str, kind: str = "vg", block: int = 256) -> KernelSource:
    """Module of fused loops over samples for a ``LoopProgram`` (see the module docstring).

    ``kind`` is ``"vg"`` (value and gradient: ``out`` rows hold the value sum, the
    ``n_params`` gradient sums and the sum of the data read, which is finite exactly
    when the data are) or ``"v"`` (the value sum and the data sum).
    """
    w = _Writer(program)
    families = program.families
    last = len(families) - 1
    grad = kind == "vg"
    width = 1 + (program.n_params if grad else 0)
    w.emit(0, f"def {kind}_block(_theta, _cols, _idx, _b, _n, _out):")
    w.emit(1, f"_start = _b * {block}")
    w.emit(1, f"_stop = min(_start + {block}, _n)")
    w.emit(1, "_by_index = _idx.shape[0] > 0")
    if grad:
        w.emit(1, f"_g = np.zeros({program.n_params})")
    for number, f in enumerate(families):
        w.emit(1, f"_v{number} = np.empty({f.size})")
        if grad and f.active:
            w.emit(1, f"_a{number} = np.empty({f.size})")
            if f.reduce is not None:
                w.emit(1, f"_r{number} = np.empty({f.size})")
    w.emit(1, "_s = 0.0")
    w.emit(1, "_d = 0.0")
    w.emit(1, "for _j in range(_start, _stop):")
    w.emit(2, "_i = _idx[_j] if _by_index else _j")
    if program.n_data:
        w.emit(2, f"for _c in range({program.n_data}):")
        w.emit(3, "_d += _cols[_c, _i]")
    body_start = len(w.lines)
    for number, f in enumerate(families):
        if not grad and f.reduce is not None:
            f = _without_gradient(f)
        w.forward(number, f, 2)
    w.emit(2, f"_s += _v{last}[0]")
    if grad and families[last].active:
        for number, f in enumerate(families[:-1]):
            if f.active:
                w.emit(2, f"_a{number}[:] = 0.0")
        w.emit(2, f"_a{last}[0] = 1.0")
        for number in range(last, -1, -1):
            if families[number].active:
                w.backward(number, families[number], 2)
    statements = len(w.lines) - body_start
    w.emit(1, "_out[_b, 0] = _s")
    if grad:
        w.emit(1, f"for _k in range({program.n_params}):")
        w.emit(2, "_out[_b, 1 + _k] = _g[_k]")
    w.emit(1, f"_out[_b, {width}] = _d")
    w.lines += ["", ""]
    w.emit(0, f"def {kind}_range(_theta, _cols, _idx, _n, _out, _b0, _b1):")
    w.emit(1, "for _b in range(_b0, _b1):")
    w.emit(2, f"{kind}_block(_theta, _cols, _idx, _b, _n, _out)")
    tables = [
        f"{name} = np.array([{', '.join(map(str, values))}], dtype=np.int64)"
        for values, name in w.tables.items()
    ]
    text = _HEADER.format(what=what) + "".join(t + "\n" for t in tables) + ("\n\n" if tables else "")
    text += "\n".join(w.lines) + "\n"
    functions = (f"{kind}_block", f"{kind}_range")
    return KernelSource(what, text, functions, functions, statements)


def _without_gradient(f):
    """The family as the value-only pass sees it (no ``_r`` array to store)."""
    return replace(f, active=False)
