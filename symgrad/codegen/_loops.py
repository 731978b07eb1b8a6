"""Family programs (``derive.lift``) -> fused data loops, vectorised over samples.

The module has the same functions as ``objective_source`` writes
(``{kind}_block(theta, cols, idx, b, n, out)`` and ``{kind}_range(...)``), so an
``Objective`` runs either the same way; ``cols`` is always a ``(d, N)``-shaped array.

A block of ``B`` samples is processed at once: the data are gathered into ``_X``
(``d x B``), each family fills ``_v{f}`` (``size x B``), and every loop that computes
values runs innermost over the samples ``_s``. Those loops have no dependence from
one sample to the next, so the compiler turns them into vector instructions without
reordering any sum: each sample's value is computed in the order the program gives,
whatever the machine, the block or the thread count. A long sum over many members
(a dense layer's ``sum_m W[k, m] * y[m]``) is computed ``FORWARD_UNITS`` members and
``FORWARD_TERMS`` terms per pass over the samples, each ``y`` loaded once for the
members, each member's terms still added one after the other. A term that is a
product of two factors is added with one fused multiply-add (``vm.fma``: one
rounding, the same bits on every machine), here and in the gradient rows below.

The reverse pass (kind ``vg``) runs the families backwards, adding each template
derivative times the family's adjoint ``_a{f}[k, s]`` into the adjoints of what the
slot read, or, summed over the block, into the gradient ``_g`` for parameters. The
gradient of a dense layer (``sum_m W[k, m] * y[m]``, the weights contiguous in ``m``)
reads a transposed copy of ``y`` so that its innermost loop runs over ``m`` rather
than summing over samples. It is a matrix product over the block, register-blocked:
``DENSE_UNITS`` gradient rows per pass share each load of ``y``, ``DENSE_SAMPLES``
samples are added into each row per pass, and every row's sum stays in sample order.
Those rows, the transposed copy and the layer's inputs' adjoints are calls of
``symgrad.jit._dense`` (``dn.rows``, ``dn.transpose``, ``dn.back_row``), compiled once
for every width: the same bits as the loops written out, and a new network's kernel
compiles without them. A sum whose term calls a function that is its own
derivative's factor (the ``exp`` of a softmax) keeps its terms for the reverse pass
instead of computing them again.

Index tables (slots whose indices are not affine) become module constants ``_T{n}``,
and the numbers that differ between the members of a family arrays ``_C{n}``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgrad.codegen._printer import KernelPrinter, float_literal
from symgrad.codegen._source import KernelSource, _header

__all__ = ["loops_source", "UNROLL", "FORWARD_UNITS", "FORWARD_TERMS", "FORWARD_FROM", "DENSE_UNITS", "DENSE_SAMPLES", "OPT_LEVEL"]

#: Sums of at least twice this many terms add this many per pass over the samples
#: (8 against 4: the 64-32-10 network's kernel 1.5 times faster, bench_networks.py).
UNROLL = 8
#: The gradient rows of a dense layer are added this many units at a time ...
#: (by ``symgrad.jit._dense.rows``, whose loops are written for these two numbers)
DENSE_UNITS = 4
#: ... and this many samples per pass over the rows (with the exp terms kept, the
#: 64-32-10 network 1.5 times faster than one unit and eight samples; 8 units: slower).
DENSE_SAMPLES = 4
#: Long sums of many members add this many members' terms per pass over the samples ...
FORWARD_UNITS = 4
#: ... this many terms each, when they have at least ``FORWARD_FROM`` terms (the
#: 64-32-10 network 1.09 times faster; the 16 terms of the 2-16-16-1 tanh MLP's
#: layer no faster, and 0.6 s more to compile).
FORWARD_TERMS = 4
FORWARD_FROM = 32
#: LLVM optimisation level of the loops (Numba's is 3): the same speed, a quarter of
#: LLVM's compile time (``symgrad.jit._optlevel``).
OPT_LEVEL = 1


class _Writer:
    def __init__(self, program, block: int):
        self.program = program
        self.block = block
        self.tables: dict = {}
        self.numbers: dict = {}
        self.lines: list = []
        self.calls_dense = False  # whether the module calls symgrad.jit._dense (imports it)
        self._named: dict = {}  # id of a table -> its name: a table of 10^5 SymPy numbers hashes in 0.05 s

    def named(self, store: dict, values: tuple, prefix: str) -> str:
        """The name of the table ``values`` in ``store`` (equal tables share one), hashed once per object."""
        name = self._named.get(id(values))
        if name is None:  # the program holds every table, so an id stays its table's
            name = self._named[id(values)] = store.setdefault(values, f"{prefix}{len(store)}")
        return name

    # -- index expressions ----------------------------------------------------------
    def index(self, slot, length: int, m: str | None, k: str = "_k") -> str:
        """The index ``slot`` reads for member ``k`` (an affine index: any expression) and term ``m``."""
        im = slot.index
        if im.table is not None:
            name = self.named(self.tables, im.table, "_T")
            return f"{name}[_k * {length} + {m}]" if m is not None else f"{name}[_k]"
        parts = [str(im.start)] if im.start else []
        if im.step:
            member = f"({k})" if " " in k else k
            parts.append(k if im.step == 1 else f"{im.step} * {member}")
        if im.inner and m is not None:
            parts.append(m if im.inner == 1 else f"{im.inner} * ({m})" if " " in m else f"{im.inner} * {m}")
        return " + ".join(parts) or "0"

    def read(self, slot, length, m, local: str) -> str:
        """How a template reads ``slot`` inside the loop over samples."""
        if slot.source == "theta":
            return local  # hoisted out of the loop over samples
        if slot.source == "const":  # numbers that differ between members
            name = self.named(self.numbers, slot.index.table, "_C")
            return f"{name}[_k * {length} + {m}]" if m is not None else f"{name}[_k]"
        ix = self.index(slot, length, m)
        return f"{self.source(slot)}[{ix}, _s]"

    @staticmethod
    def source(slot) -> str:
        """The array a data or value slot reads."""
        return "_X" if slot.source == "data" else f"_v{slot.family}"

    def dense_call(self, depth: int, name: str, *args) -> None:
        """A call of ``symgrad.jit._dense.{name}`` (imported as ``dn``)."""
        self.calls_dense = True
        self.emit(depth, f"dn.{name}({', '.join(map(str, args))})")

    def hoist(self, slots, length, m, prefix: str, depth: int, suffix: str = "") -> None:
        """Load the parameters ``slots`` read into locals before a loop over samples."""
        for j, slot in enumerate(slots):
            if slot.source == "theta":
                self.emit(depth, f"{prefix}{j}{suffix} = _theta[{self.index(slot, length, m)}]")

    def names(self, f, number: int, reduced: str, m: str = "_m", suffix: str = "") -> dict:
        names = {s.symbol: self.read(s, 0, None, f"_u{j}") for j, s in enumerate(f.slots)}
        names.update({s.symbol: self.read(s, f.length, m, f"_w{j}{suffix}") for j, s in enumerate(f.term_slots)})
        if f.reduced is not None:
            names[f.reduced] = reduced
        if f.itself is not None:
            names[f.itself] = f"_v{number}[_k, _s]"
        return names

    # -- loops ----------------------------------------------------------------------------
    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def samples(self, depth: int, *body: str) -> None:
        self.emit(depth, "for _s in range(_nb):")
        for line in body:
            self.emit(depth + 1, line)

    def open_members(self, f, depth: int) -> int:
        if f.size == 1:
            self.emit(depth, "_k = 0")
            return depth
        self.emit(depth, f"for _k in range({f.size}):")
        return depth + 1

    def forward(self, number: int, f, depth: int, store_reduced: bool, store_terms: bool = False) -> None:
        if not store_terms and _forward_blocked(f):
            self.forward_blocked(number, f, depth, store_reduced)
            return
        printer = KernelPrinter(self.names(f, number, "_q[_s]"), vector_math=True)
        d = self.open_members(f, depth)
        if f.reduce is not None:
            start = {"add": "0.0", "max": "-math.inf", "min": "math.inf"}[f.reduce]
            self.samples(d, f"_q[_s] = {start}")
            done = 0
            if f.reduce == "add" and f.length >= 2 * UNROLL and not store_terms:
                # UNROLL terms per pass, added one after the other: the same order as
                # one at a time, with a quarter of the loads and stores of _q.
                done = f.length - f.length % UNROLL
                self.emit(d, f"for _m in range(0, {done}, {UNROLL}):")
                total = "_q[_s]"
                for u in range(UNROLL):
                    m = "_m" if u == 0 else f"_m + {u}"
                    self.hoist(f.term_slots, f.length, m, "_w", d + 1, suffix=f"_{u}")
                    names = self.names(f, number, "_q[_s]", m, f"_{u}")
                    total = _plus(total, f.term, KernelPrinter(names, vector_math=True))
                self.samples(d + 1, f"_q[_s] = {total}")
            if done < f.length:
                self.emit(d, f"for _m in range({done}, {f.length}):" if done else f"for _m in range({f.length}):")
                self.hoist(f.term_slots, f.length, "_m", "_w", d + 1)
                term = printer.doprint(f.term)
                if store_terms:  # the reverse pass reads the terms instead of computing them again
                    self.samples(d + 1, f"_term = {term}", f"_E{number}[{_term_row(f)}, _s] = _term", "_q[_s] += _term")
                else:
                    step = (f"_q[_s] = {_plus('_q[_s]', f.term, printer)}" if f.reduce == "add"
                            else f"_q[_s] = {f.reduce}(_q[_s], {term})")
                    self.samples(d + 1, step)
        self.hoist(f.slots, 0, None, "_u", d)
        body = [f"_v{number}[_k, _s] = {printer.doprint(f.value)}"]
        if store_reduced:
            body.append(f"_r{number}[_k, _s] = _q[_s]")
        self.samples(d, *body)

    def forward_blocked(self, number: int, f, depth: int, store_reduced: bool) -> None:
        """A sum over ``m`` for ``FORWARD_UNITS`` members at once, into ``_P{number}``."""
        whole = f.size - f.size % FORWARD_UNITS
        if whole:
            self.emit(depth, f"for _k in range(0, {whole}, {FORWARD_UNITS}):")
            self.block_sums(f, number, depth + 1, ["_k"] + [f"_k + {j}" for j in range(1, FORWARD_UNITS)])
        if whole < f.size:
            self.emit(depth, f"for _k in range({whole}, {f.size}):")
            self.block_sums(f, number, depth + 1, ["_k"])
        printer = KernelPrinter(self.names(f, number, f"_P{number}[_k, _s]"), vector_math=True)
        d = self.open_members(f, depth)
        self.hoist(f.slots, 0, None, "_u", d)
        body = [f"_v{number}[_k, _s] = {printer.doprint(f.value)}"]
        if store_reduced:
            body.append(f"_r{number}[_k, _s] = _P{number}[_k, _s]")
        self.samples(d, *body)

    def block_sums(self, f, number: int, depth: int, members) -> None:
        self.samples(depth, "; ".join(f"_P{number}[{k}, _s] = 0.0" for k in members))
        done = f.length - f.length % FORWARD_TERMS
        if done:
            self.emit(depth, f"for _m in range(0, {done}, {FORWARD_TERMS}):")
            self.block_terms(f, number, depth + 1, members, ["_m"] + [f"_m + {u}" for u in range(1, FORWARD_TERMS)])
        if done < f.length:
            self.emit(depth, f"for _m in range({done}, {f.length}):")
            self.block_terms(f, number, depth + 1, members, ["_m"])

    def block_terms(self, f, number: int, depth: int, members, terms) -> None:
        """Add the terms ``terms`` of each member in ``members``, in order, in one pass over
        the samples; the values that every member reads are loaded once."""
        shared: dict = {}
        sums = []
        for j, k in enumerate(members):
            at = f"_P{number}[{k}, _s]"
            total = at
            for u, m in enumerate(terms):
                names = {}
                for i, s in enumerate(f.term_slots):
                    ix = self.index(s, f.length, m, k)
                    if s.source == "theta":
                        names[s.symbol] = f"_w{i}_{j}_{u}"
                        self.emit(depth, f"_w{i}_{j}_{u} = _theta[{ix}]")
                        continue
                    text = f"{self.source(s)}[{ix}, _s]"
                    if s.index.step == 0:  # the same for every member
                        text = shared.setdefault(text, f"_x{len(shared)}")
                    names[s.symbol] = text
                total = _plus(total, f.term, KernelPrinter(names, vector_math=True))
            sums.append(f"{at} = {total}")
        self.samples(depth, *[f"{name} = {text}" for text, name in shared.items()], *sums)

    def backward(self, number: int, f, depth: int, store_terms: bool = False) -> None:
        names = self.names(f, number, f"_r{number}[_k, _s]")
        stored = {}
        if store_terms:
            stored[f.term] = sp.Dummy("term")
            names[stored[f.term]] = f"_E{number}[{_term_row(f)}, _s]"
        printer = KernelPrinter(names, vector_math=True)
        d = self.open_members(f, depth)
        self.hoist(f.slots, 0, None, "_u", d)
        for slot, dv in zip(f.slots, f.d_value):
            if dv is not None and dv != 0:
                self.accumulate(slot, 0, None, f"_a{number}[_k, _s]", dv, printer, d)
        if not f.d_term:
            return
        pairs = [(s, dt.xreplace(stored)) for s, dt in zip(f.term_slots, f.d_term) if dt is not None and dt != 0]
        blocked = _blocked(f)
        # The adjoints times d value / d sum: per sample, or per member in _Q (blocked);
        # the adjoints themselves where that factor is 1 (_scaled_copy).
        scaled = f"_Q{number}" if _scaled_copy(f) else f"_a{number}"
        q = f"{scaled}[_k, _s]" if blocked else "_q[_s]"
        if not blocked or _scaled_copy(f):
            self.samples(d, f"{q} = {_times(f'_a{number}[_k, _s]', f.d_reduced, printer)}")
        if f.reduce != "add":
            self.winner(number, f, pairs, printer, d)
            return
        y = _dense_input(f)  # the one input with a transposed copy in _y{number}
        dense = [s for s, dt in pairs if y is not None and dt == y.symbol and _dense(f, s, dt)]
        if not blocked:  # this member's gradient row (symgrad.jit._dense)
            for s in dense:
                self.dense_call(d, "row", "_q", f"_y{number}", "_g", self.index(s, f.length, None), f.length, "_nb")
        rest = [(s, dt) for s, dt in pairs if s not in dense]
        if _dense_back(rest, y, dense):  # this member's share of its inputs' adjoints: d (W y) / d y = W
            at = (self.index(dense[0], f.length, None), f.length, f"_a{y.family}", y.index.start, y.index.inner, "_nb")
            if blocked:
                self.dense_call(d, "back_row", scaled, "_k", "_theta", *at)
            else:
                self.dense_call(d, "back", "_q", "_theta", *at)
        elif rest:
            self.emit(d, f"for _m in range({f.length}):")
            self.hoist(f.term_slots, f.length, "_m", "_w", d + 1)
            for s, dt in rest:
                self.accumulate(s, f.length, "_m", q, dt, printer, d + 1)
        if blocked:  # after every member's other updates: no element of _g is shared (_blocked)
            for s in dense:
                self.dense_call(depth, "rows", scaled, f"_y{number}", "_g", s.index.start, s.index.step,
                                f.size, f.length, "_nb")

    def accumulate(self, slot, length, m, adjoint: str, d, printer, depth: int) -> None:
        """Add ``adjoint * d`` into what ``slot`` read: a parameter or a family's adjoints."""
        term = _times(adjoint, d, printer)
        ix = self.index(slot, length, m)
        if slot.source == "theta":
            self.emit(depth, "_t = 0.0")
            self.samples(depth, f"_t = vm.accumulate(_t, {term})")
            self.emit(depth, f"_g[{ix}] += _t")
        else:
            self.samples(depth, f"_a{slot.family}[{ix}, _s] += {term}")

    def winner(self, number: int, f, pairs, printer, d: int) -> None:
        """Max / min: the derivative goes to the terms equal to the result, shared equally
        among tied ones (the symbolic rule, derive/_rules.py ``extremum_derivative``)."""
        term = printer.doprint(f.term)
        self.emit(d, "for _s in range(_nb):")
        self.emit(d + 1, "_n_won = 0")
        self.emit(d + 1, f"for _m in range({f.length}):")
        self.hoist(f.term_slots, f.length, "_m", "_w", d + 2)
        self.emit(d + 2, f"if {term} == _r{number}[_k, _s]:")
        self.emit(d + 3, "_n_won += 1")
        self.emit(d + 1, "_take = _q[_s] / _n_won if _n_won > 1 else _q[_s]")
        self.emit(d + 1, f"for _m in range({f.length}):")
        self.hoist(f.term_slots, f.length, "_m", "_w", d + 2)
        self.emit(d + 2, f"if {term} == _r{number}[_k, _s]:")
        for slot, dt in pairs:
            ix = self.index(slot, f.length, "_m")
            target = f"_g[{ix}]" if slot.source == "theta" else f"_a{slot.family}[{ix}, _s]"
            self.emit(d + 3, f"{target} += {_times('_take', dt, printer)}")


def _dense(f, slot, d) -> bool:
    """Whether ``d term / d slot`` is the one other slot ``y`` a dense layer reads.

    That is: ``slot`` is a parameter at ``start + step*k + m`` and ``y`` reads a value or
    a data column at an index that does not depend on ``k`` (the same inputs for every
    unit), so the gradient row ``k`` is ``sum_s adjoint[k, s] * y[:, s]``.
    """
    others = [s for s in f.term_slots if s.symbol == d]
    if slot.source != "theta" or slot.index.table is not None or slot.index.inner != 1 or len(others) != 1:
        return False
    y = others[0]
    return y.source != "theta" and y.index.table is None and y.index.step == 0


def _dense_back(pairs, y, dense) -> bool:
    """Whether the only adjoint left to add, besides the dense gradient rows of the weights
    ``dense``, is ``d term / d y = W`` into the family that the dense input ``y`` reads
    (``dn.back`` adds it: the same product and sum as ``accumulate`` writes)."""
    if y is None or y.source != "value" or len(pairs) != 1 or len(dense) != 1:
        return False
    (slot, d), = pairs
    return slot is y and d == dense[0].symbol


def _indices(slot, size: int, length: int):
    """The elements ``slot`` reads over ``k < size`` (and ``m < length`` if it is a term slot)."""
    im = slot.index
    if im.table is not None:
        return np.asarray(im.table, dtype=np.int64)
    k = np.arange(size)[:, None]
    m = np.arange(max(length, 1))[None, :] if length else np.zeros((1, 1), dtype=np.int64)
    return (im.start + im.step * k + im.inner * m).ravel()


def _blocked(f) -> bool:
    """Whether the dense gradient rows of ``f`` are added for several members at once.

    That happens after the other updates of every member, which is exact only when no
    element of the gradient is written twice by them: the dense rows are distinct from
    each other and from every other parameter ``f`` adds into.
    """
    if f.size < 2 or f.reduce != "add" or _dense_input(f) is None:
        return False
    written = [_indices(s, f.size, 0) for s, d in zip(f.slots, f.d_value)
               if s.source == "theta" and d is not None and d != 0]
    written += [_indices(s, f.size, f.length) for s, d in zip(f.term_slots, f.d_term)
                if s.source == "theta" and d is not None and d != 0]
    every = np.concatenate(written)
    return np.unique(every).size == every.size


def _keeps_reduced(f) -> bool:
    """Whether the reverse pass of ``f`` reads its sum, maximum or minimum ``R[k]``
    (kept in ``_r{number}`` by the forward pass): a maximum's winners are found by it,
    and a derivative may name it (``d log(R) / d R = 1 / R``); ``R + b`` needs none."""
    if f.reduce is None:
        return False
    if f.reduce != "add":
        return True
    return any(isinstance(d, sp.Basic) and d.has(f.reduced) for d in (*f.d_value, *f.d_term, f.d_reduced))


def _scaled_copy(f) -> bool:
    """Whether a blocked ``f`` keeps its adjoints times ``d value / d sum`` in ``_Q``:
    where that factor is 1 (a dense layer's sum before its bias) the blocked gradient
    rows read the adjoints themselves."""
    return _blocked(f) and f.d_reduced != 1


def _forward_blocked(f) -> bool:
    """Whether the sum of ``f`` is computed for several members per pass: a long sum over
    many members whose term reads parameters, data and values at affine indices."""
    return (f.reduce == "add" and f.size >= FORWARD_UNITS and f.length >= FORWARD_FROM
            and all(s.source != "const" and s.index.table is None for s in f.term_slots))


def _stores_terms(f) -> bool:
    """Whether the forward pass keeps the terms of ``f`` for the reverse pass: a sum whose
    term calls a function and is its own derivative's factor (``exp`` in a softmax)."""
    return (f.reduce == "add" and f.active and f.term is not None and f.term.has(sp.Function)
            and any(d is not None and d != 0 and d.has(f.term) for d in f.d_term))


def _term_row(f) -> str:
    return "_m" if f.size == 1 else f"_k * {f.length} + _m"


def _dense_input(f):
    """The slot whose transposed copy the dense gradient of ``f`` reads, or ``None``."""
    for slot, d in zip(f.term_slots, f.d_term):
        if d is not None and f.reduce == "add" and _dense(f, slot, d):
            return next(s for s in f.term_slots if s.symbol == d)
    return None


def _plus(total: str, term, printer) -> str:
    """``total + term`` as printed; a product of two factors as one fused multiply-add.

    ``vm.fma(a, b, total)`` rounds once where ``total + a * b`` rounds twice: the same
    order of the terms, the error of each product gone, and on FMA hardware half the
    instructions. A quotient (a factor ``1 / v``) is left as written: the printer
    divides, where a product with the reciprocal would round once more.
    """
    if term.is_Mul and len(term.args) == 2 and not any(a.is_Pow and a.exp.is_negative for a in term.args):
        a, b = term.args
        return f"vm.fma({printer.doprint(a)}, {printer.doprint(b)}, {total})"
    return f"{total} + ({printer.doprint(term)})"


def _times(factor: str, d, printer) -> str:
    if d == 1:
        return factor
    return f"{factor} * ({printer.doprint(d)})"


def loops_source(program, what: str, kind: str = "vg", block: int = 64) -> KernelSource:
    """Module of fused loops over samples for a ``LoopProgram`` (see the module docstring).

    ``kind`` is ``"vg"`` (value and gradient: ``out`` rows hold the value sum, the
    ``n_params`` gradient sums and the sum of the data read, which is finite exactly
    when the data are) or ``"v"`` (the value sum and the data sum). ``block`` is ``B``,
    the samples processed together.
    """
    w = _Writer(program, block)
    families = program.families
    last = len(families) - 1
    grad = kind == "vg" and families[last].active
    width = 1 + (program.n_params if kind == "vg" else 0)
    e = w.emit
    # Work arrays are made once per call of the range function and reused by its blocks.
    e(0, f"def {kind}_range(_theta, _cols, _idx, _n, _out, _b0, _b1):")
    e(1, f"_X = vm.empty2({max(program.n_data, 1)}, {block})")
    e(1, f"_q = vm.empty1({block})")
    if kind == "vg":
        e(1, f"_g = vm.empty1({program.n_params})")
    dense, adjoints = {}, []
    for number, f in enumerate(families):
        e(1, f"_v{number} = vm.empty2({f.size}, {block})")
        if _forward_blocked(f) and not (grad and _stores_terms(f)):
            e(1, f"_P{number} = vm.empty2({f.size}, {block})")
        if grad and f.active:
            adjoints.append(number)
            e(1, f"_a{number} = vm.empty2({f.size}, {block})")
            if _keeps_reduced(f):
                e(1, f"_r{number} = vm.empty2({f.size}, {block})")
            y = _dense_input(f)
            if y is not None:
                dense[number] = y
                e(1, f"_y{number} = vm.empty2({block}, {f.length})")
            if _scaled_copy(f):
                e(1, f"_Q{number} = vm.empty2({f.size}, {block})")
            if _stores_terms(f):
                e(1, f"_E{number} = vm.empty2({f.size * f.length}, {block})")
    e(1, "for _b in range(_b0, _b1):")
    body_start = len(w.lines)
    e(1, f"_start = _b * {block}")
    e(1, f"_nb = _n - _start if _n - _start < {block} else {block}")
    e(1, "_d = 0.0")
    e(1, f"for _j in range({program.n_data}):")
    e(2, "for _s in range(_nb):")
    e(3, "_x = _cols[_j, _idx[_start + _s] if _idx.shape[0] > 0 else _start + _s]")
    e(3, "_X[_j, _s] = _x")
    e(3, "_d = vm.accumulate(_d, _x)")
    if kind == "vg":
        e(1, "_g[:] = 0.0")
    for number in adjoints:
        e(1, f"_a{number}[:, :] = 0.0")
    for number, f in enumerate(families):
        w.forward(number, f, 1, grad and f.active and _keeps_reduced(f), grad and _stores_terms(f))
    e(1, "_total = 0.0")
    w.samples(1, f"_total = vm.accumulate(_total, _v{last}[0, _s])")
    if grad:
        w.samples(1, f"_a{last}[0, _s] = 1.0")
        for number in range(last, -1, -1):
            f = families[number]
            if not f.active:
                continue
            if number in dense:
                y = dense[number]
                w.dense_call(1, "transpose", w.source(y), y.index.start, y.index.inner, f.length, "_nb", f"_y{number}")
            w.backward(number, f, 1, _stores_terms(f))
    e(1, "_out[_b, 0] = _total")
    if kind == "vg":
        e(1, f"for _k in range({program.n_params}):")
        e(2, "_out[_b, 1 + _k] = _g[_k]")
    e(1, f"_out[_b, {width}] = _d")
    statements = len(w.lines) - body_start
    w.lines[body_start:] = ["    " + line for line in w.lines[body_start:]]
    w.lines += ["", ""]
    e(0, f"def {kind}_block(_theta, _cols, _idx, _b, _n, _out):")
    e(1, f"{kind}_range(_theta, _cols, _idx, _n, _out, _b, _b + 1)")
    tables = [
        f"{name} = np.array([{', '.join(map(str, values))}], dtype=np.int64)"
        for values, name in w.tables.items()
    ] + [
        f"{name} = np.array([{', '.join(float_literal(v) for v in values)}])"
        for values, name in w.numbers.items()
    ]
    text = _header(what, True, w.calls_dense) + "".join(t + "\n" for t in tables) + ("\n\n" if tables else "")
    text += "\n".join(w.lines) + "\n"
    functions = (f"{kind}_range", f"{kind}_block")
    return KernelSource(what, text, functions, functions, statements, opt_level=OPT_LEVEL)

