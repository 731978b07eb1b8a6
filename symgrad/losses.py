"""Loss functions on one sample, as SymPy expressions written to evaluate stably.

Predictions are SymPy expressions; targets may be expressions (data symbols) or
plain Python numbers. ``Objective`` averages a per-sample loss over the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import sympy as sp

from symgrad._expr import as_expr, shift_by_max, stable_log1p_exp
from symgrad.errors import ExpressionTypeError, InputError, OptionError

__all__ = ["mse", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy"]


def mse(pred, target) -> sp.Expr:
    """Squared error of one sample; for lists, the mean over the entries.

    ``p``: ``pred``, ``t``: ``target``. ``mse = (p - t)**2``, or
    ``(1/n) sum_i (p_i - t_i)**2`` for lists of length ``n``.

    Args:
        pred: an expression, or a list of them.
        target: an expression or number, or a list of the same length as ``pred``.

    Returns:
        The loss expression.

    Raises:
        ValueError: for lists of different or zero length.
        TypeError: for a list against a single value, or text.

    Example:
        >>> import sympy as sp
        >>> p, t = sp.symbols("p t")
        >>> mse(p, t)
        (p - t)**2
        >>> mse([p, 2*p], [1, 0])
        2*p**2 + (p - 1)**2/2
    """
    if _is_list(pred) or _is_list(target):
        preds, targets = _pair_of_lists(pred, target)
        return sp.Add(*[(p - t) ** 2 for p, t in zip(preds, targets)]) / len(preds)
    return (_term(pred, "pred") - _term(target, "target")) ** 2


def binary_cross_entropy(prob, target) -> sp.Expr:
    """Binary cross-entropy of a predicted probability.

    ``p``: ``prob`` (in [0, 1]), ``t``: ``target`` (in [0, 1]).
    ``bce = -(t log p + (1 - t) log(1 - p))``, a term of weight 0 taken as 0 (``0 log 0 = 0``,
    as ``scipy.special.xlogy`` and PyTorch take it): a sure and right prediction, ``p = 1``
    for ``t = 1`` or ``p = 0`` for ``t = 0``, has loss 0, not NaN. When ``p`` comes from a
    sigmoid, prefer :func:`binary_cross_entropy_with_logits`, which does not lose precision
    near 0 and 1 (a sigmoid rounded to 1.0 for a target of 0 gives an infinite loss here).

    Example:
        >>> import sympy as sp
        >>> p = sp.Symbol("p")
        >>> binary_cross_entropy(p, 1)
        -log(p)
    """
    p, t = _term(prob, "prob"), _term(target, "target")
    return -(_xlog(t, p) + _xlog(1 - t, 1 - p))


def _xlog(w, u) -> sp.Expr:
    """``w log u``, 0 where the weight ``w`` is 0 (SymPy already drops a term whose weight is the number 0)."""
    term = w * sp.log(u)
    if w.is_number:
        return term
    return sp.Piecewise((sp.S.Zero, sp.Eq(w, 0)), (term, True))


def binary_cross_entropy_with_logits(logit, target) -> sp.Expr:
    """Binary cross-entropy of ``sigmoid(logit)``, written so that it never overflows.

    ``z``: ``logit``, ``t``: ``target``.
    ``-(t log sigma(z) + (1 - t) log(1 - sigma(z))) = log(1 + exp(z)) - t z``, with
    ``log(1 + exp(z))`` written as ``sg.nn.softplus`` writes it: finite in float64 for
    any finite ``z``, and with the derivatives of the smooth function everywhere
    (``d/dz = sigma(z) - t``, so ``1/2 - t`` at ``z = 0``, where a fit from zero starts).

    Example:
        >>> import sympy as sp
        >>> z = sp.Symbol("z")
        >>> binary_cross_entropy_with_logits(z, 0)
        log(exp(z - Max(0, z)) + exp(-Max(0, z))) + Max(0, z)
    """
    z, t = _term(logit, "logit"), _term(target, "target")
    return stable_log1p_exp(z) - t * z


def cross_entropy(logits, onehot) -> sp.Expr:
    """Cross-entropy of a softmax over ``logits`` against target probabilities.

    ``z_k``: ``logits[k]``, ``t_k``: ``onehot[k]``, ``m = max_k z_k``.
    ``ce = -sum_k t_k log softmax(z)_k = sum_k t_k (m + log sum_j exp(z_j - m) - z_k)``:
    every exponent is at most zero, so logits of any size evaluate without overflow.

    Args:
        logits: a non-empty list of expressions.
        onehot: a list of the same length: numbers or expressions (the target
            probabilities, usually one 1 and zeros).

    Example:
        >>> import sympy as sp
        >>> a, b = sp.symbols("a b")
        >>> loss = cross_entropy([a, b], [1, 0])
        >>> float(loss.subs({a: 0, b: 0}))  # log 2
        0.6931471805599453
    """
    zs, ts = _pair_of_lists(logits, onehot)
    if len(zs) == 1:
        return sp.Integer(0)  # one class: softmax is 1, its log 0
    # The logits stay whole nodes, computed once however many times the loss reads them;
    # exp and log are left unevaluated (SymPy would search each big sum for logarithms).
    m, shifted = shift_by_max(zs)
    log_sum = m + sp.log(sp.Add(*[sp.exp(s, evaluate=False) for s in shifted]), evaluate=False)
    return sp.Add(*[
        t * sp.Add(log_sum, sp.Mul(-1, z, evaluate=False), evaluate=False)
        for z, t in zip(zs, ts) if t != 0
    ])


def _is_list(value) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _pair_of_lists(pred, target):
    if not (_is_list(pred) and _is_list(target)):
        raise ExpressionTypeError(
            "give both arguments as lists of the same length, or both as single values; "
            f"got {type(pred).__name__} and {type(target).__name__}."
        )
    if len(pred) != len(target) or len(pred) == 0:
        raise OptionError(
            f"the lists must have one non-zero length; got {len(pred)} and {len(target)} entries."
        )
    preds = [_term(p, f"pred[{i}]") for i, p in enumerate(pred)]
    targets = [_term(t, f"target[{i}]") for i, t in enumerate(target)]
    return preds, targets


def _term(value, what: str) -> sp.Expr:
    """An expression, or a finite real Python number turned into an exact one."""
    if isinstance(value, bool):
        raise ExpressionTypeError(f"{what} is a bool; give 0 or 1 if a number is meant.")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{what} is {value}; a loss needs finite numbers.")
        return sp.Float(value)
    return as_expr(value, what)
