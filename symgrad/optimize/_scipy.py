"""A bridge to ``scipy.optimize.minimize`` that hands it the exact gradient and Hessian."""

from __future__ import annotations

import numpy as np

from symgrad.optimize._problem import as_objective, check_x0
from symgrad.optimize._result import Result, make_result

__all__ = ["scipy_minimize"]

#: Methods of ``scipy.optimize.minimize`` that use a gradient / a Hessian.
_USES_JAC = {"cg", "bfgs", "newton-cg", "l-bfgs-b", "tnc", "slsqp", "dogleg", "trust-ncg",
             "trust-krylov", "trust-exact", "trust-constr"}
_USES_HESS = {"newton-cg", "dogleg", "trust-ncg", "trust-krylov", "trust-exact", "trust-constr"}


def scipy_minimize(objective, x0, method: str = "BFGS", columns=(), **options) -> Result:
    """Minimize an ``sg.Objective`` with ``scipy.optimize.minimize`` and exact derivatives.

    ``fun(x) = L(x)``, ``jac(x) = grad L(x)`` (one fused pass with ``fun``), and for
    the methods that use one (Newton-CG, trust-*, dogleg) ``hess(x) = hessian L(x)``;
    ``L`` is the mean over ``columns`` when the objective has data.

    Args:
        objective: an ``sg.Objective`` or a function of ``sg.functions``.
        x0: starting point (never modified).
        method: any method name ``scipy.optimize.minimize`` accepts.
        columns: the data columns, one per data symbol.
        **options: passed on to ``scipy.optimize.minimize`` (``tol``, ``options``, ``bounds`` ...).

    Returns:
        Result: ``history`` the loss at ``x0`` and after each iteration; ``converged``
        is SciPy's ``success``.

    Raises:
        ImportError: SciPy is not installed (it is an optional extra).

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
    data = obj.prepare(*columns)
    x = check_x0(x0, len(obj.params), tuple(obj.params), "scipy_minimize")
    cache = {}

    def value_and_grad(z):
        z = np.ascontiguousarray(z, dtype=np.float64)
        key = z.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = obj.batch_value_and_grad(z, data)
        return cache[key]

    def fun(z):
        return value_and_grad(z)[0]

    def jac(z):
        return np.array(value_and_grad(z)[1], copy=True)

    def hess(z):
        return obj.hessian(np.ascontiguousarray(z, dtype=np.float64), *columns)

    history = [fun(x)]
    kwargs = dict(options)
    name = method.lower() if isinstance(method, str) else ""
    if name in _USES_JAC:
        kwargs["jac"] = jac
    if name in _USES_HESS:
        kwargs["hess"] = hess
    res = _scipy(fun, x.copy(), method=method, callback=lambda xk, *a: history.append(fun(xk)), **kwargs)
    steps = int(getattr(res, "nit", len(history) - 1))
    return make_result(res.x, tuple(obj.params), float(res.fun), history, bool(res.success),
                       str(res.message), steps)
