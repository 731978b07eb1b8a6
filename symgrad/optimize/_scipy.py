"""A bridge to ``scipy.optimize.minimize`` that hands it the exact gradient and Hessian."""

from __future__ import annotations

import numpy as np

import math

from symgrad.errors import DomainError, InputError
from symgrad.optimize._problem import as_objective, check_x0
from symgrad.optimize._result import Result, make_result

__all__ = ["scipy_minimize"]

#: Methods of ``scipy.optimize.minimize`` that use a gradient / a Hessian.
_USES_JAC = {"cg", "bfgs", "newton-cg", "l-bfgs-b", "tnc", "slsqp", "dogleg", "trust-ncg",
             "trust-krylov", "trust-exact", "trust-constr"}
_USES_HESS = {"newton-cg", "dogleg", "trust-ncg", "trust-krylov", "trust-exact", "trust-constr"}
#: Every method name ``scipy.optimize.minimize`` accepts (lower case).
_METHODS = {"nelder-mead", "powell", "cobyla", "cobyqa"} | _USES_JAC
#: Arguments the bridge supplies itself.
_SUPPLIED = ("fun", "x0", "jac", "hess", "hessp")


def scipy_minimize(objective, x0, method: str = "BFGS", columns=(), **options) -> Result:
    """Minimize an ``sg.Objective`` with ``scipy.optimize.minimize`` and exact derivatives.

    ``fun(x) = L(x)``, ``jac(x) = grad L(x)`` (one fused pass with ``fun``), and for
    the methods that use one (Newton-CG, trust-*, dogleg) ``hess(x) = hessian L(x)``;
    ``L`` is the mean over ``columns`` when the objective has data.

    SciPy refuses NaN and infinity with a bare "array must not contain infs or NaNs";
    the bridge checks the loss, gradient and Hessian at ``x0`` first, and names the
    parameter and the quantity when one is not finite there or at a later iterate.

    Args:
        objective: an ``sg.Objective`` or a function of ``sg.functions``.
        x0: starting point (never modified).
        method: any method name ``scipy.optimize.minimize`` accepts (or a callable).
        columns: the data columns, one per data symbol.
        **options: passed on to ``scipy.optimize.minimize`` (``tol``, ``options``,
            ``bounds``, ``callback`` (called after the bridge's own) ...).

    Returns:
        Result: ``history`` the loss at ``x0`` and after each iteration; ``converged``
        is SciPy's ``success``. A run that ends at a NaN or infinite loss has
        ``converged = False``, a message that says it diverged, and ``x`` the last
        iterate whose loss was finite.

    Raises:
        ImportError: SciPy is not installed (it is an optional extra).
        InputError: an unknown method; ``jac``, ``hess`` or ``hessp`` given (the bridge
            supplies them); bad ``x0`` or columns.
        DomainError: the loss, an entry of the gradient or of the Hessian is NaN or
            infinite at ``x0``, or at a point where SciPy then refuses to go on.

    Example:
        >>> import numpy as np, sympy as sp, symgrad as sg
        >>> x, y = sp.symbols("x y")
        >>> rosen = sg.Objective((1 - x) ** 2 + 100 * (y - x**2) ** 2, [x, y])
        >>> r = scipy_minimize(rosen, [-1.2, 1.0], method="trust-exact")
        >>> r.converged, np.round(r.x, 6)
        (True, array([1., 1.]))
    """
    try:
        from scipy.optimize import minimize as _scipy
    except ImportError as exc:
        raise ImportError("scipy_minimize needs SciPy, an optional extra: `pip install scipy` "
                          "(or symgrad[scipy])") from exc
    obj = as_objective(objective, "scipy_minimize")
    names = tuple(obj.params)
    name = _check_method(method, options)
    data = obj.prepare(*columns)
    x = check_x0(x0, len(names), names, "scipy_minimize")
    cache = {}
    seen = {"bad": None}  # the last evaluation that was not finite: (what, x)

    def value_and_grad(z):
        z = np.ascontiguousarray(z, dtype=np.float64)
        key = z.tobytes()
        if key not in cache:
            cache.clear()
            with np.errstate(all="ignore"):
                f, g = obj.batch_value_and_grad(z, data)
            cache[key] = (float(f), np.asarray(g, dtype=np.float64))
            what = _non_finite(cache[key][0], cache[key][1], None, names)
            if what:
                seen["bad"] = (what, z.copy())
        return cache[key]

    def fun(z):
        return value_and_grad(z)[0]

    def jac(z):
        return np.array(value_and_grad(z)[1], copy=True)

    def hess(z):
        z = np.ascontiguousarray(z, dtype=np.float64)
        with np.errstate(all="ignore"):
            h = np.asarray(obj.hessian(z, *columns), dtype=np.float64)
        what = _non_finite(0.0, None, h, names)
        if what:
            seen["bad"] = (what, z.copy())
        return h

    f0, g0 = value_and_grad(x)
    what = _non_finite(f0, g0 if name in _USES_JAC else None, hess(x) if name in _USES_HESS else None, names)
    if what:
        raise DomainError(f"scipy_minimize: {what} at x0 = {_point(x, names)}; SciPy cannot start from "
                          f"there. Start from a point where the loss and its derivatives are finite "
                          f"(inside the domain of log, sqrt, ... of the expression)")
    history, last = [f0], [x.copy()]
    user_callback = options.pop("callback", None)

    def callback(xk, *rest):
        xk = np.array(getattr(xk, "x", xk), dtype=np.float64)  # trust-constr passes (x, state)
        f = fun(xk)
        history.append(f)
        if math.isfinite(f) and np.all(np.isfinite(xk)):
            last[0] = xk
        return user_callback(xk, *rest) if user_callback is not None else None

    kwargs = dict(options)
    if name in _USES_JAC:
        kwargs["jac"] = jac
    if name in _USES_HESS:
        kwargs["hess"] = hess
    try:
        with np.errstate(all="ignore"):
            res = _scipy(fun, x.copy(), method=method, callback=callback, **kwargs)
    except ValueError as exc:
        text = str(exc).lower()
        if seen["bad"] is None or not ("inf" in text or "nan" in text):
            raise
        what, z = seen["bad"]
        raise DomainError(f"scipy_minimize ({method}): {what} at {_point(z, names)}, a point the method "
                          f"reached from x0; SciPy stopped with {str(exc)!r}. Bound the parameters "
                          f"(bounds=...) or reformulate the expression so that it is finite there") from exc
    steps = int(getattr(res, "nit", len(history) - 1))
    fx = float(res.fun) if np.ndim(res.fun) == 0 else math.nan
    if not (math.isfinite(fx) and np.all(np.isfinite(res.x))):
        return make_result(last[0], names, fun(last[0]), history, False,
                           f"diverged: SciPy ({method}) ended at a loss of {fx}; x holds the last "
                           f"iterate with a finite loss (SciPy said: {res.message})", steps)
    return make_result(res.x, names, fx, history, bool(res.success), str(res.message), steps)


def _check_method(method, options) -> str:
    """The lower-case method name ('' for a callable), after refusing what SciPy would reject."""
    supplied = [k for k in _SUPPLIED if k in options]
    if supplied:
        raise InputError(f"scipy_minimize supplies {', '.join(supplied)} itself from the exact "
                         f"derivatives; remove {', '.join(repr(k) for k in supplied)} from the call")
    if callable(method):
        return ""
    if not isinstance(method, str) or method.lower() not in _METHODS:
        raise InputError(f"scipy_minimize: unknown method {method!r}; use one of "
                         f"{', '.join(sorted(_METHODS))} (any case), or a callable")
    return method.lower()


def _non_finite(f: float, g, h, names) -> str:
    """A description of the first NaN or infinity in the loss, gradient or Hessian, or ''."""
    if not math.isfinite(f):
        return f"the loss is {f}"
    if g is not None and not np.all(np.isfinite(g)):
        i = int(np.flatnonzero(~np.isfinite(g))[0])
        return f"the gradient entry dL/d{names[i]} is {g[i]}"
    if h is not None and not np.all(np.isfinite(h)):
        i, j = (int(v) for v in np.argwhere(~np.isfinite(h))[0])
        return f"the Hessian entry d2L/d{names[i]}d{names[j]} is {h[i, j]}"
    return ""


def _point(x, names) -> str:
    return "{" + ", ".join(f"{s}: {v:.6g}" for s, v in zip(names, x)) + "}"
