"""The one Householder QR of least squares (``symgrad._ls_blocks.householder``) and its callers.

Expected values come from LAPACK: ``numpy.linalg.qr`` for the factors (which are
unique up to the sign of each row of ``R``) and ``scipy.linalg.qr(pivoting=True)``
for the order of the pivoted columns (the largest remaining column norm first).
"""

import numpy as np
import pytest
import scipy.linalg

from symgrad._ls_blocks import householder, triangularise
from symgrad.optimize._lm_step import _damped, factor_dense, pivoted_qr

_NO_PERM = np.empty(0, np.int64)


def _columns(matrix, rows=None):
    """Column storage of ``matrix`` (``a[c]`` is column ``c``), with room for ``rows`` rows."""
    k, q = matrix.shape
    a = np.full((q, rows or k), 7.0)  # entries past row k must stay as they are
    a[:, :k] = matrix.T
    return a


def _upper(a, k, p):
    """``R`` (min(k, p), p) read from column storage."""
    r = np.zeros((min(k, p), p))
    for c in range(p):
        top = min(c + 1, k)
        r[:top, c] = a[c, :top]
    return r


def _signs(r, reference):
    """The row signs ``d`` with ``d R = reference`` (each diagonal entry nonzero)."""
    d = np.sign(np.diag(reference)) * np.sign(np.diag(r))
    assert np.all(d != 0)
    return d


@pytest.mark.parametrize("k, p, q", [(9, 4, 6), (40, 7, 8), (5, 5, 5), (3, 5, 6), (1, 3, 4)])
def test_r_and_qtb_match_numpy_without_pivoting(k, p, q):
    rng = np.random.default_rng(k * 100 + p)
    matrix = rng.normal(size=(k, q))
    a = _columns(matrix, rows=k + 3)
    householder(a, k, p, q, False, _NO_PERM)
    q_np, r_np = np.linalg.qr(matrix[:, :p], mode="reduced")
    r = _upper(a, k, p)
    d = _signs(r, r_np)
    np.testing.assert_allclose(d[:, None] * r, r_np, rtol=0, atol=1e-13)
    qtb = a[p:, : min(k, p)].T
    np.testing.assert_allclose(d[:, None] * qtb, q_np.T @ matrix[:, p:], rtol=0, atol=1e-13)
    if k > p:  # the rest of Q^T B: the part of B that A cannot reach, with the same norm
        rest = np.linalg.norm(matrix[:, p:] - q_np @ (q_np.T @ matrix[:, p:]), axis=0)
        np.testing.assert_allclose(np.linalg.norm(a[p:, p:k], axis=1), rest, rtol=1e-13)
    np.testing.assert_array_equal(a[:, k:], 7.0)


@pytest.mark.parametrize("k, p", [(12, 5), (30, 8), (6, 6), (4, 7)])
def test_pivoting_takes_the_largest_column_first_as_lapack_does(k, p):
    rng = np.random.default_rng(7 * k + p)
    matrix = rng.normal(size=(k, p)) * 10.0 ** rng.uniform(-2, 2, size=p)
    b = rng.normal(size=k)
    a = _columns(np.column_stack([matrix, b]))
    perm = np.arange(p)
    householder(a, k, p, p + 1, True, perm)
    _, _, lapack_perm = scipy.linalg.qr(matrix, pivoting=True, mode="economic")
    np.testing.assert_array_equal(perm, lapack_perm)
    q_np, r_np = np.linalg.qr(matrix[:, perm], mode="reduced")
    r = _upper(a, k, p)
    d = _signs(r, r_np)
    scale = np.abs(r_np).max()
    np.testing.assert_allclose(d[:, None] * r, r_np, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(d * a[p, : min(k, p)], q_np.T @ b, rtol=0, atol=1e-13)
    for j in range(min(k, p)):  # the pivot is the largest remaining column: |R[j, j]| >= ||R[j:, c]||
        for c in range(j + 1, p):
            assert abs(r[j, j]) >= np.linalg.norm(r[j:, c]) * (1 - 1e-14)


def test_a_zero_column_is_pivoted_last_with_an_exactly_zero_diagonal():
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(8, 4))
    matrix[:, 1] = 0.0
    a = _columns(np.column_stack([matrix, rng.normal(size=8)]))
    perm = np.arange(4)
    householder(a, 8, 4, 5, True, perm)
    assert perm[-1] == 1
    assert a[3, 3] == 0.0
    np.testing.assert_array_equal(a[3, :4], 0.0)


def test_triangularise_is_the_unpivoted_qr_of_a_block():
    rng = np.random.default_rng(11)
    k, p = 37, 6  # fewer rows than the block holds
    matrix = rng.normal(size=(k, p))
    a = _columns(matrix, rows=64)
    triangularise(a, k, p)
    r_np = np.linalg.qr(matrix, mode="r")
    r = _upper(a, k, p)
    np.testing.assert_allclose(_signs(r, r_np)[:, None] * r, r_np, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(a[:, k:], 7.0)


@pytest.mark.parametrize("m, n", [(20, 4), (3, 5)])
def test_pivoted_qr_factorises_the_permuted_matrix(m, n):
    rng = np.random.default_rng(m + n)
    jac = rng.normal(size=(m, n))
    b = rng.normal(size=m)
    r, perm, qtb = pivoted_qr(jac, b)
    assert r.shape == (n, n)
    np.testing.assert_array_equal(np.sort(perm), np.arange(n))
    np.testing.assert_array_equal(np.tril(r, -1), 0.0)
    np.testing.assert_allclose(r.T @ r, jac[:, perm].T @ jac[:, perm], rtol=0, atol=1e-12)
    q_np, r_np = np.linalg.qr(jac[:, perm], mode="reduced")
    d = _signs(r[: min(m, n)], r_np)
    np.testing.assert_allclose(d * qtb[: min(m, n)], q_np.T @ b, rtol=0, atol=1e-13)


def test_factor_dense_is_the_factor_of_j_and_r():
    rng = np.random.default_rng(5)
    jac = rng.normal(size=(30, 4))
    res = rng.normal(size=30)
    out = factor_dense(res, jac)
    aug = np.column_stack([jac, res])
    np.testing.assert_array_equal(np.tril(out, -1), 0.0)
    np.testing.assert_allclose(out.T @ out, aug.T @ aug, rtol=0, atol=1e-12)
    r_np = np.linalg.qr(aug, mode="r")
    np.testing.assert_allclose(_signs(out, r_np)[:, None] * out, r_np, rtol=0, atol=1e-13)


def test_damped_solves_the_regularised_system():
    rng = np.random.default_rng(9)
    n = 5
    r = np.triu(rng.normal(size=(n, n))) + 2.0 * np.eye(n)
    qtb = rng.normal(size=n)
    dp = rng.uniform(0.5, 2.0, size=n)
    par = 0.3
    z, s = _damped(r, dp, qtb, par)
    stacked = np.vstack([r, np.sqrt(par) * np.diag(dp)])
    expected = np.linalg.lstsq(stacked, np.concatenate([qtb, np.zeros(n)]), rcond=None)[0]
    np.testing.assert_allclose(z, expected, rtol=1e-13, atol=1e-14)
    upper = np.triu(np.asarray(s))
    np.testing.assert_allclose(upper.T @ upper, r.T @ r + par * np.diag(dp**2), rtol=0, atol=1e-12)
