"""The 27 NIST StRD nonlinear regression problems: the data, and Objective's derivatives.

Two independent references:

* NIST's certified results, recomputed here with mpmath at 30 digits from the
  decimal text of the files (the data are integrity-checked this way);
* for ``sg.Objective`` of the mean squared residual ``(model - y)**2``, SymPy's
  ``diff`` of the per-sample expression, lambdified for mpmath and evaluated at 40
  digits on the same float64 data, averaged over the samples.

Tolerances are bounds, not a loose rtol: see ``rounding.py`` and the comments below.
"""

import decimal
import functools

import mpmath
import numpy as np
import pytest
import sympy as sp

import oracle
import symgrad as sg
from nist_strd import NAMES, load, model_expr
from nist_strd.rounding import rounding_bound

UNIT_ROUNDOFF = 2.0**-53


@functools.lru_cache(maxsize=None)
def _derivation(name):
    """Per-sample ``f = (m - y)**2``, its gradient and upper Hessian, from SymPy's diff of m.

    With r = m - y, m_i = dm/db_i and m_ij = d2m/db_i db_j (SymPy's ``diff``):

        f = r**2,   df/db_i = 2 r m_i,   d2f/db_i db_j = 2 (m_i m_j + r m_ij).

    Returns ``(flat, mp_function)``: the expressions ``[f, g_1..g_k, H_11, H_12, ...,
    H_kk]`` (upper triangle row by row) and a function of ``(theta, row)`` (mpf) that
    evaluates them with mpmath; the model's derivatives are lambdified once, common
    subexpressions shared.
    """
    p = load(name)
    k = len(p.params)
    m = p.model
    m1 = [sp.diff(m, b) for b in p.params]
    m2 = [sp.diff(m1[i], p.params[j]) for i in range(k) for j in range(i, k)]
    pairs = [(i, j) for i in range(k) for j in range(i, k)]
    model_function = sp.lambdify(p.params + p.predictors, [m, *m1, *m2], modules="mpmath", cse=True)

    r = m - p.response
    flat = [r**2, *(2 * r * d for d in m1),
            *(2 * (m1[i] * m1[j] + r * d) for (i, j), d in zip(pairs, m2))]

    def function(theta, row):
        m, *derivatives = model_function(*theta, *row[:-1])
        first, second = derivatives[:k], derivatives[k:]
        r = m - row[-1]
        return [r * r, *(2 * r * d for d in first),
                *(2 * (first[i] * first[j] + r * d) for (i, j), d in zip(pairs, second))]

    return flat, function


def _upper_index(k):
    """Map (i, j) of a k x k symmetric matrix to its position in the flattened upper triangle."""
    index = np.empty((k, k), dtype=int)
    position = 0
    for i in range(k):
        for j in range(i, k):
            index[i, j] = index[j, i] = position
            position += 1
    return index


def _summed(name, point, columns, dps):
    """Sum over the samples of ``[f, g, upper H]``, as mpf at ``dps`` digits."""
    _, function = _derivation(name)
    with mpmath.workdps(dps):
        theta = [mpmath.mpf(v) for v in point]
        total = None
        for row in zip(*columns):
            terms = function(theta, [mpmath.mpf(v) for v in row])
            total = terms if total is None else [a + b for a, b in zip(total, terms)]
    return total


# -- the loader ---------------------------------------------------------------------


def test_the_27_problems_and_their_difficulty():
    levels = [load(name).difficulty for name in NAMES]
    assert len(set(NAMES)) == 27
    assert levels == ["lower"] * 8 + ["average"] * 11 + ["higher"] * 8


@pytest.mark.parametrize("name", NAMES)
def test_problem_is_consistent_with_its_file(name):
    p = load(name)
    k = len(p.params)
    assert p.params == tuple(sp.Symbol(f"b{i}") for i in range(1, k + 1))
    assert p.model.free_symbols == set(p.params) | set(p.predictors)
    assert len(p.starts) == 2 and all(len(s) == k for s in p.starts)
    assert len(p.certified) == len(p.certified_stderr) == k
    assert all(s > 0 for s in p.certified_stderr)
    assert all(len(c) == p.n_obs for c in p.columns) and p.dof == p.n_obs - k
    for column in p.columns:
        assert column.dtype == np.float64 and not column.flags.writeable
        assert np.all(np.isfinite(column))
    # the certified residual standard deviation is sqrt(RSS / dof), both to 11 digits
    assert p.residual_sd == pytest.approx(np.sqrt(p.certified_rss / p.dof), rel=1e-10)


def test_nelson_fits_the_log_of_its_response_with_two_predictors():
    p = load("Nelson")
    assert p.predictors == sp.symbols("x1 x2")
    assert p.y == pytest.approx(np.log([float(v) for v in p.columns_text[0]]), rel=1e-15)
    with pytest.raises(ValueError, match="Nelson has 2 predictors"):
        p.x


def test_models_shared_by_several_problems_are_the_same_expression():
    assert model_expr("Gauss1") == model_expr("Gauss2") == model_expr("Gauss3")
    assert model_expr("Lanczos1") == model_expr("Lanczos2") == model_expr("Lanczos3")
    assert model_expr("Chwirut1") == model_expr("Chwirut2")
    assert model_expr("Misra1a") == model_expr("BoxBOD")
    assert model_expr("Hahn1") == model_expr("Thurber")
    assert len(DISTINCT_MODELS) == 20


def test_unknown_problem_is_named():
    with pytest.raises(KeyError, match="'Misra2a'"):
        load("Misra2a")


# -- (a) the certified results, recomputed at 30 digits --------------------------------


def _half_unit(text):
    """Half a unit in the last digit of a decimal numeral: its rounding error bound."""
    return mpmath.mpf(10) ** decimal.Decimal(text).as_tuple().exponent / 2


@pytest.mark.parametrize("name", NAMES)
def test_certified_values_reproduce_the_certified_residual_sum_of_squares(name):
    """RSS at the certified values, with the file's decimal data, at 30 digits.

    The certified values b are the least-squares solution b* rounded to 11 digits:
    |b_i - b*_i| <= d_i, half a unit of their last digit.  Since the gradient vanishes
    at b*, RSS(b) = RSS(b*) + e^T H e / 2 + O(e^3) with |e_i| <= d_i, and the
    certified RSS is RSS(b*) rounded to 11 digits (half a unit r).  Hence

        |RSS(b) - certified| <= r + sum_ij |H_ij| d_i d_j / 2   (doubled for O(e^3))

    which is about 5e-12..5e-11 relative for 25 problems (they agree to 10-11 digits),
    6e-10 for Lanczos2 and 1e5 relative for Lanczos1, whose certified RSS 1.4e-25 is
    beyond what 11-digit parameters can reproduce (they give 4e-21).  The first-order
    condition is checked too: |grad_i RSS(b)| = |(H e)_i| <= sum_j |H_ij| d_j.
    """
    p = load(name)
    k = len(p.params)
    with mpmath.workdps(30):
        columns = [[mpmath.mpf(v) for v in column] for column in p.columns_text]
        y = [mpmath.log(v) for v in columns[0]] if name == "Nelson" else columns[0]
        total = _summed(name, p.certified_text, columns[1:] + [y], dps=30)
        rss, gradient = total[0], total[1:1 + k]
        index = _upper_index(k)
        hessian = [[abs(total[1 + k + index[i, j]]) for j in range(k)] for i in range(k)]
        d = [_half_unit(text) for text in p.certified_text]
        exponent = mpmath.floor(mpmath.log10(p.certified_rss))
        r = mpmath.mpf(10) ** (exponent - 10) / 2  # 11 significant digits
        curvature = sum(hessian[i][j] * d[i] * d[j] for i in range(k) for j in range(k)) / 2
        assert abs(rss - mpmath.mpf(p.certified_rss)) <= r + 2 * curvature
        for i in range(k):
            assert abs(gradient[i]) <= 2 * sum(hessian[i][j] * d[j] for j in range(k))


# -- (b) Objective's value, gradient and Hessian against the 40-digit oracle ----------------


# one problem per model: Gauss1-3, Lanczos1-3, Chwirut1-2, Misra1a and BoxBOD, Hahn1 and
# Thurber share theirs
DISTINCT_MODELS = [name for i, name in enumerate(NAMES)
                   if all(model_expr(name) != model_expr(other) for other in NAMES[:i])]


@pytest.mark.parametrize("name", DISTINCT_MODELS)
def test_lambdified_derivatives_agree_with_the_shared_oracle(name):
    """The fast per-sample oracle (diff of the model, chain rule on the square,
    lambdified) against ``tests/oracle.py`` (diff of the whole squared residual,
    evaluated by its own mpmath tree walker), on the last sample at the second start."""
    p = load(name)
    k = len(p.params)
    row = [column[-1] for column in p.columns]
    point = dict(zip(p.params, p.starts[1])) | dict(zip(p.data_symbols, row))
    shared = oracle.derivatives((p.model - p.response) ** 2, p.params, point, order=2, dps=40)
    upper = [(i, j) for i in range(k) for j in range(i, k)]
    expected = [shared["value"], *shared["grad"], *(shared["hess"][i][j] for i, j in upper)]
    # the running error bounds M of the 40-digit evaluation, scaled from float64's 2**-53
    scale = [shared["value_M"], *shared["grad_M"], *(shared["hess_M"][i][j] for i, j in upper)]
    with mpmath.workdps(40):
        got = _derivation(name)[1]([mpmath.mpf(v) for v in p.starts[1]], [mpmath.mpf(v) for v in row])
        for a, b, m in zip(got, expected, scale):
            assert abs(a - b) <= mpmath.mpf(10) ** -36 * m


@functools.lru_cache(maxsize=None)
def _objective(name):
    p = load(name)
    return sg.Objective((p.model - p.response) ** 2, p.params, data=p.data_symbols)


POINTS = {"start1": lambda p: p.starts[0], "start2": lambda p: p.starts[1],
          "certified": lambda p: p.certified}


@pytest.mark.slow  # the first point of each problem compiles two kernels: 1-9 s
@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("name", NAMES)
def test_objective_derivatives_match_the_mpmath_oracle(name, point):
    """value, grad and Hessian of mean (model - y)**2 within a rounding-error bound.

    For each entry, with u the unit roundoff, E_j the running error bound of the
    per-sample term j (rounding.py) and t_j the term:

        |got - exact| <= 4 u (sum_j E_j + sqrt(N) sum_j |t_j|) / N

    E_j accounts for the cancellation inside a term (a small residual of large
    numbers, exp of a large argument); sqrt(N) sum |t_j| for the sum over samples.
    Measured: the worst ratio |got - exact| / bound is 0.7 (Lanczos1 at the certified
    values); the factor 4 leaves room for a different but equally sound arrangement
    of the formulas in the generated code.
    """
    p = load(name)
    theta = POINTS[point](p)
    k, n = len(p.params), p.n_obs
    flat, _ = _derivation(name)
    exact = np.array([float(t / n) for t in _summed(name, theta, p.columns, dps=40)])

    env = dict(zip(p.params, theta)) | dict(zip(p.data_symbols, p.columns))
    bounds = [(np.broadcast_to(v, (n,)), np.broadcast_to(e, (n,))) for v, e in rounding_bound(flat, env)]
    tolerance = 4 * UNIT_ROUNDOFF * np.array(
        [(e.sum() + np.sqrt(n) * np.abs(v).sum()) / n for v, e in bounds])

    objective = _objective(name)
    value, gradient = objective.value_and_grad(theta, *p.columns)
    hessian = objective.hessian(theta, *p.columns)
    index = _upper_index(k)
    where = f"{name} {point}"
    _assert_within("value", value, exact[0], tolerance[0], p.params, where)
    _assert_within("gradient", gradient, exact[1:1 + k], tolerance[1:1 + k], p.params, where)
    _assert_within("Hessian", hessian, exact[1 + k:][index], tolerance[1 + k:][index], p.params, where)
    assert np.array_equal(objective.grad(theta, *p.columns), gradient)


def _assert_within(what, got, exact, tolerance, names, point):
    """Fail naming every entry (by its parameters) whose error exceeds its bound."""
    got, exact, tolerance = np.asarray(got), np.asarray(exact), np.asarray(tolerance)
    error = np.abs(got - exact)
    lines = [f"{what}[{', '.join(str(names[j]) for j in i)}] at {point}: got {float(got[tuple(i)])!r}, "
             f"exact {float(exact[tuple(i)])!r}, error {error[tuple(i)]:.3g} > bound {tolerance[tuple(i)]:.3g}"
             for i in np.argwhere(~(error <= tolerance))]
    if lines:
        pytest.fail("\n".join(lines))


HIGHER = [name for name in NAMES if load(name).difficulty == "higher"]


@pytest.mark.parametrize("name", HIGHER)
def test_objective_value_alone_matches_the_oracle(name):
    """``Objective.value`` (a kernel of its own) on the eight higher-difficulty problems
    at the first start, within the bound used above; limited to these eight because
    each distinct model costs one more compilation."""
    p = load(name)
    theta, n = p.starts[0], p.n_obs
    exact = float(_summed(name, theta, p.columns, dps=40)[0] / n)
    env = dict(zip(p.params, theta)) | dict(zip(p.data_symbols, p.columns))
    term, bound = (np.broadcast_to(a, (n,)) for a in rounding_bound([_derivation(name)[0][0]], env)[0])
    tolerance = 4 * UNIT_ROUNDOFF * (bound.sum() + np.sqrt(n) * np.abs(term).sum()) / n
    _assert_within("value", _objective(name).value(theta, *p.columns), exact, tolerance, p.params,
                   f"{name} start1")
