"""``GradientCheck``: the three gradients side by side, with errors, kinks and a verdict."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from symgrad.check._domain import Singularity
from symgrad.check._kinks import Kink

__all__ = ["GradientCheck"]


def _difference(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``values − reference``, with equal entries (infinities included) giving 0."""
    with np.errstate(invalid="ignore"):
        return np.where(values == reference, 0.0, values - reference)


def _relative(diff: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``|diff| / |reference|``, with ``0/0 = 0``, ``x/0 = inf`` and ``inf/inf = inf``."""
    diff, reference = np.abs(diff), np.abs(reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = diff / reference
    return np.where(diff == 0, 0.0, np.where(np.isinf(diff), np.inf, rel))


@dataclass(frozen=True, eq=False)
class GradientCheck:
    """Symbolic, autograd and finite-difference gradients of one expression at one point.

    Entry ``i`` passes when ``|a_i − s_i| ≤ atol + rtol·|s_i|`` (``numpy.isclose``) for
    ``a`` the autograd gradient and for ``a`` the numeric one, ``s`` the symbolic one.
    At a kink (``kinks`` not empty) finite differences cannot agree with any convention,
    so ``ok`` judges symbolic against autograd only, and ``left`` / ``right`` hold the
    one-sided differences. At a singular point of a derivative (``singular`` not empty:
    ``sqrt`` at 0, ``asin`` at 1, ...) finite differences cannot converge either, so they
    are not judged; an entry whose symbolic value is infinite or NaN fails, as there is
    no gradient to confirm there.

    Attributes:
        wrt: names of the variables, in order.
        point: the point ``θ``.
        symbolic, autograd, numeric: the three gradients, ``ndarray (n,)``.
        rtol, atol: tolerances.
        method: how ``numeric`` was computed ("complex step" or "central differences").
        kinks: the kinks at (or within the step of) the point.
        left, right: one-sided differences when there are kinks, else ``None``.
        singular: the singular points of derivatives met at the point.
        given: a gradient derived by hand (``check_gradient(..., gradient=...)``), its
            values at the point, or ``None``; ``ok`` then also asks every entry of it to
            agree with ``symbolic``, and the report names the ones that do not.
        given_exprs, exact_exprs: the hand-derived entries as expressions, and the exact
            ones, when ``gradient`` was given as expressions (else ``()``).
    """

    wrt: tuple
    point: np.ndarray
    symbolic: np.ndarray
    autograd: np.ndarray
    numeric: np.ndarray
    rtol: float = 1e-6
    atol: float = 1e-8
    method: str = "central differences"
    kinks: tuple[Kink, ...] = ()
    left: np.ndarray | None = None
    right: np.ndarray | None = None
    singular: tuple[Singularity, ...] = ()
    given: np.ndarray | None = None
    given_exprs: tuple = ()
    exact_exprs: tuple = ()

    @property
    def max_abs_error(self) -> float:
        """Largest ``|autograd − symbolic|`` or ``|numeric − symbolic|``."""
        d = np.concatenate([_difference(self.autograd, self.symbolic),
                            _difference(self.numeric, self.symbolic)])
        return float(np.max(np.abs(d), initial=0.0))

    @property
    def max_rel_error(self) -> float:
        """Largest of the same differences relative to ``|symbolic|``."""
        rel = np.concatenate([_relative(_difference(self.autograd, self.symbolic), self.symbolic),
                              _relative(_difference(self.numeric, self.symbolic), self.symbolic)])
        return float(np.max(rel, initial=0.0))

    def _close(self, values: np.ndarray) -> np.ndarray:
        return np.isclose(values, self.symbolic, rtol=self.rtol, atol=self.atol)

    @property
    def autograd_ok(self) -> np.ndarray:
        """Per entry: autograd agrees with symbolic."""
        return self._close(self.autograd)

    @property
    def numeric_ok(self) -> np.ndarray:
        """Per entry: finite differences agree with symbolic."""
        return self._close(self.numeric)

    @property
    def given_ok(self) -> np.ndarray:
        """Per entry: the hand-derived gradient agrees with symbolic (all true when none was given)."""
        if self.given is None:
            return np.ones(len(self.wrt), dtype=bool)
        return self._close(self.given) & np.isfinite(self.given)

    @property
    def ok(self) -> bool:
        """Every entry agrees (finite differences are not asked to at a kink or a singular point),
        and so does every entry of a hand-derived gradient."""
        if self.singular:
            good = self.autograd_ok & np.isfinite(self.symbolic)
        else:
            good = self.autograd_ok if self.kinks else self.autograd_ok & self.numeric_ok
        return bool(np.all(good & self.given_ok))

    def _rows(self):
        header = ["symbol", "symbolic", "autograd", "numeric", "abs error"]
        if self.kinks:
            header += ["left", "right"]
        if self.given is not None:
            header.append("yours")
        header.append("")
        rows = []
        for i, name in enumerate(self.wrt):
            err = max(abs(_difference(self.autograd[i], self.symbolic[i])),
                      abs(_difference(self.numeric[i], self.symbolic[i])))
            row = [str(name), *(f"{v[i] + 0.0: .10g}" for v in (self.symbolic, self.autograd, self.numeric)),
                   f"{err:.2e}"]
            if self.kinks:
                row += [f"{self.left[i]: .6g}", f"{self.right[i]: .6g}"]
            if self.given is not None:
                row.append(f"{self.given[i] + 0.0: .10g}")
            if self.singular and not np.isfinite(self.symbolic[i]):
                row.append("singular")
            elif not self.autograd_ok[i]:
                row.append("FAIL autograd")
            elif not self.given_ok[i]:
                row.append("WRONG: yours")
            elif not self.numeric_ok[i]:
                row.append("singular" if self.singular else "kink" if self.kinks else "FAIL numeric")
            else:
                row.append("ok")
            rows.append(row)
        return header, rows

    def _summary(self) -> list[str]:
        lines = [f"numeric: {self.method}; rtol={self.rtol:g}, atol={self.atol:g}; "
                 f"max abs error {self.max_abs_error:.2e}, max rel error {self.max_rel_error:.2e}"]
        if self.kinks:
            lines.append("the point is on a kink, where finite differences cannot agree with any "
                         "convention; judged symbolic vs autograd only:")
            lines += [f"  kink: {k}" for k in self.kinks]
        if self.singular:
            lines.append("a derivative is infinite or not real at the point, where finite differences "
                         "cannot converge; not judged there, and no infinite gradient passes:")
            lines += [f"  singular: {s}" for s in self.singular]
        lines += self._given_summary()
        lines.append("OK" if self.ok else "FAILED")
        return lines

    def _given_summary(self) -> list[str]:
        """One line per wrong entry of a hand-derived gradient, with both values (and formulas)."""
        if self.given is None:
            return []
        wrong = [i for i in range(len(self.wrt)) if not self.given_ok[i]]
        if not wrong:
            return [f"your gradient: all {len(self.wrt)} entries agree with the exact one at this point"]
        lines = [f"your gradient: {len(wrong)} of {len(self.wrt)} entries wrong at this point:"]
        for i in wrong:
            yours = f"{self.given_exprs[i]} = " if self.given_exprs else ""
            exact = f"{self.exact_exprs[i]} = " if self.exact_exprs else ""
            lines.append(f"  d/d{self.wrt[i]}: yours {yours}{self.given[i] + 0.0:.10g}, "
                         f"exact {exact}{self.symbolic[i] + 0.0:.10g}")
        return lines

    def __str__(self) -> str:
        header, rows = self._rows()
        widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]
        fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
        return "\n".join([fmt(header), *map(fmt, rows), *self._summary()])

    def __repr__(self) -> str:
        kinks = f", kinks={len(self.kinks)}" if self.kinks else ""
        return (f"GradientCheck(ok={self.ok}, n={len(self.wrt)}, "
                f"max_abs_error={self.max_abs_error:.2e}{kinks})")

    def _repr_html_(self) -> str:
        header, rows = self._rows()
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
        notes = "<br>".join(esc(line) for line in self._summary())
        return f"<table><tr>{head}</tr>{body}</table><p>{notes}</p>"
