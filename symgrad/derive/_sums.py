"""Derivatives of long sums, once per family of terms that differ only in their numbers.

``sum_{k < N} (x - k)**2`` is ``N`` copies of one template ``(x + c)**2`` at the
numbers ``c = -k``. Its derivatives are the sums of the template's derivatives,
taken once (by ``derive``, with symgrad's rules and conventions) and then summed
over the members:

- where a derivative is a polynomial in the varying numbers ``c_j`` and these are
  rationals, in closed form, exactly: ``sum_k D(c_k) = sum_e a_e(x) * sum_k c_k**e``
  (``d/dx`` of the sum above is ``2 N x + 2 sum_k c_k``), with no SymPy
  expression built per term;
- otherwise one instance ``D(c_k)`` per member, each the size of a term.

Both are linear in the number of terms, where deriving the whole sum node by node
builds and simplifies several SymPy expressions per term. A term's *shape* is its
expression tree with every number that a sum or product holds replaced by a
placeholder (the numbers elsewhere, such as exponents, are part of the shape);
terms of one shape are one family. The results are SymPy expressions equal to
SymPy's own ``diff`` (the sum of the same derivatives, collected).
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import sympy as sp

__all__ = ["sum_derivatives", "nested_sum_gradient", "MIN_TERMS", "MIN_FAMILY", "SHAPE_MAX"]

#: Terms a sum needs before its families are looked for.
MIN_TERMS = 64
#: Members a family needs to be derived once (smaller ones go with the other terms).
MIN_FAMILY = 4
#: Nodes of a term's shape at most (a larger term is derived on its own).
SHAPE_MAX = 200


def _shape(term, memo: dict):
    """``(key, numbers)`` of ``term``, or ``None`` past ``SHAPE_MAX`` nodes.

    ``key`` is hashable and equal for terms of one shape; ``numbers`` lists the
    numbers held by sums and products, in the order of a walk of the tree. An
    explicit stack: the depth of a term is no limit.
    """
    stack = [term]
    while stack:
        node = stack[-1]
        if node in memo:
            stack.pop()
            continue
        if not node.args:
            memo[node] = (node, (), 1)
            stack.pop()
            continue
        pending = [a for a in node.args if a not in memo]
        if pending:
            stack += pending
            continue
        stack.pop()
        lifted = node.is_Add or node.is_Mul
        keys, numbers, size = [node.func], [], 1
        for a in node.args:
            if lifted and a.is_Number:
                keys.append("#")
                numbers.append(a)
                size += 1
                continue
            entry = memo[a]
            if entry is None:
                memo[node] = None
                break
            keys.append(entry[0])
            numbers += entry[1]
            size += entry[2]
        else:
            memo[node] = (tuple(keys), tuple(numbers), size) if size <= SHAPE_MAX else None
    entry = memo[term]
    return None if entry is None else entry[:2]


def _template(node, placeholders):
    """``node`` with its sums' and products' numbers replaced by the next ``placeholders``.

    The numbers are met in the order ``_shape`` lists them. Recursive, which is safe:
    a shape has at most ``SHAPE_MAX`` nodes.
    """
    if not node.args:
        return node
    lifted = node.is_Add or node.is_Mul
    return node.func(*[next(placeholders) if lifted and a.is_Number else _template(a, placeholders) for a in node.args])


#: Integer powers of a sum of the numbers up to which a derivative is expanded as a polynomial.
EXPAND_MAX = 8


def _monomials(d, placeholders):
    """``{exponents: coefficient}`` of ``d`` as a polynomial in ``placeholders``, or ``None``."""
    index = {c: j for j, c in enumerate(placeholders)}
    for p in d.atoms(sp.Pow):
        if not p.exp.is_Integer or abs(p.exp) > EXPAND_MAX:
            if not p.free_symbols.isdisjoint(index):
                return None
    expanded = sp.expand(d, power_exp=False, power_base=False, log=False)
    out: dict = defaultdict(list)
    for term in sp.Add.make_args(expanded):
        powers = [0] * len(placeholders)
        rest = []
        for factor in sp.Mul.make_args(term):
            if factor in index:
                powers[index[factor]] += 1
            elif factor.is_Pow and factor.base in index and factor.exp.is_Integer and factor.exp > 0:
                powers[index[factor.base]] += int(factor.exp)
            elif factor.free_symbols.isdisjoint(index):
                rest.append(factor)
            else:
                return None
        out[tuple(powers)].append(sp.Mul(*rest))
    return {e: sp.Add(*cs) for e, cs in out.items()}


def _exact(number):
    return number.p if number.q == 1 else Fraction(number.p, number.q)


def _summed(d, placeholders, rows) -> list:
    """The terms of ``sum_k d(rows[k])``: closed form where it can be, else one per member."""
    used = [j for j, c in enumerate(placeholders) if d.has(c)]
    if not used:
        return [len(rows) * d]
    if all(v.is_Rational for row in rows for v in row):
        monomials = _monomials(d, placeholders)
        if monomials is not None:
            exact = [[_exact(v) for v in row] for row in rows]
            terms = []
            for powers, coefficient in monomials.items():
                total = 0
                for row in exact:
                    product = 1
                    for j, p in enumerate(powers):
                        if p:
                            product *= row[j] ** p
                    total += product
                total = Fraction(total)
                terms.append(sp.Rational(total.numerator, total.denominator) * coefficient)
            return terms
    return [d.xreplace(dict(zip(placeholders, row))) for row in rows]


def sum_derivatives(expr, derivatives):
    """The derivatives of a long sum ``expr``, family by family, or ``None``.

    Args:
        expr: a canonical, checked expression.
        derivatives: ``derivatives(e)`` returns the list of derivatives wanted of an
            expression ``e`` (a gradient, or a gradient and a Hessian); the results
            are those of ``expr``, in the same layout.

    Returns:
        The list, or ``None`` when ``expr`` is not a sum of ``MIN_TERMS`` terms or
        more, most of them in families of ``MIN_FAMILY``.
    """
    if not expr.is_Add or len(expr.args) < MIN_TERMS:
        return None
    memo: dict = {}
    families: dict = defaultdict(list)
    rest = []
    for term in expr.args:
        shape = _shape(term, memo)
        if shape is None:
            rest.append(term)
        else:
            families[shape[0]].append((term, shape[1]))
    for key in [k for k, members in families.items() if len(members) < MIN_FAMILY]:
        rest += [term for term, _ in families.pop(key)]
    if 2 * len(rest) > len(expr.args):
        return None
    parts: list | None = None
    for members in families.values():
        first, numbers = members[0]
        placeholders = [sp.Dummy(f"c{j}", real=True) for j in range(len(numbers))]
        template = _template(first, iter(placeholders))
        columns = list(zip(*[n for _, n in members])) if numbers else []
        uniform = {c: col[0] for c, col in zip(placeholders, columns) if len(set(col)) == 1}
        template = template.xreplace(uniform) if uniform else template
        varying = [j for j, c in enumerate(placeholders) if c not in uniform]
        names = [placeholders[j] for j in varying]
        rows = [[n[j] for j in varying] for _, n in members]
        results = derivatives(template)
        if parts is None:
            parts = [[] for _ in results]
        for part, d in zip(parts, results):
            part += _summed(d, names, rows)
    if rest:
        for part, d in zip(parts, derivatives(sp.Add(*rest))):
            part.append(d)
    return [sp.Add(*part) for part in parts]


def _outer_long_sums(expr) -> list:
    """The sums of ``MIN_TERMS`` terms or more in ``expr`` that no other such sum contains."""
    found, met, stack = [], set(), [expr]
    while stack:
        node = stack.pop()
        if id(node) in met:
            continue
        met.add(id(node))
        if node.is_Add and len(node.args) >= MIN_TERMS:
            found.append(node)
        elif node.args:
            stack.extend(node.args)
    return list(dict.fromkeys(found))


def nested_sum_gradient(expr, wrt, gradient_of):
    """The gradient of ``f(x, S_1(x), ..., S_m(x))``, the long sums ``S_i`` inside ``expr``, or ``None``.

    By the chain rule ``∇f = ∂f/∂x + sum_i ∂f/∂S_i ∇S_i``: the outer expression is derived
    with each long sum as one symbol, each sum by its families (``sum_derivatives``), and
    the sums are put back in the result unevaluated (shared, never rebuilt term by term:
    a number times a sum is not distributed over its terms). ``exp(-sum_k (x - k)**2 / N)`` then
    costs what its sum costs, where deriving it node by node is quadratic in ``N``.

    Args:
        expr: a canonical, checked expression that is not itself a long sum.
        wrt: the symbols, in order.
        gradient_of: ``gradient_of(e, symbols)`` returns the list of partials of ``e``.

    Returns:
        The list of partials, or ``None`` when ``expr`` holds no long sum.
    """
    sums = _outer_long_sums(expr)
    if not sums or sums[0] is expr:
        return None
    held = [sp.Dummy(f"S{i}", real=True) for i in range(len(sums))]
    outer = expr.xreplace(dict(zip(sums, held)))
    partials = gradient_of(outer, list(wrt) + held)
    inner = [gradient_of(s, wrt) for s in sums]
    back = dict(zip(held, sums))
    n = len(wrt)
    out = [sp.Add(partials[j], *[partials[n + i] * inner[i][j] for i in range(len(sums))]) for j in range(n)]
    with sp.evaluate(False):  # SymPy's exp of a long sum asks its assumptions of every term
        return [d.xreplace(back) for d in out]
