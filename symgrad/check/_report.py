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
    def ok(self) -> bool:
        """Every entry agrees (finite differences are not asked to at a kink or a singular point)."""
        if self.singular:
            return bool(np.all(self.autograd_ok & np.isfinite(self.symbolic)))
        good = self.autograd_ok if self.kinks else self.autograd_ok & self.numeric_ok
        return bool(np.all(good))

    def _rows(self):
        header = ["symbol", "symbolic", "autograd", "numeric", "abs error"]
        if self.kinks:
            header += ["left", "right"]
        header.append("")
        rows = []
        for i, name in enumerate(self.wrt):
            err = max(abs(_difference(self.autograd[i], self.symbolic[i])),
                      abs(_difference(self.numeric[i], self.symbolic[i])))
            row = [str(name), *(f"{v[i] + 0.0: .10g}" for v in (self.symbolic, self.autograd, self.numeric)),
                   f"{err:.2e}"]
            if self.kinks:
                row += [f"{self.left[i]: .6g}", f"{self.right[i]: .6g}"]
            if self.singular and not np.isfinite(self.symbolic[i]):
                row.append("singular")
            elif not self.autograd_ok[i]:
                row.append("FAIL autograd")
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
        lines.append("OK" if self.ok else "FAILED")
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
