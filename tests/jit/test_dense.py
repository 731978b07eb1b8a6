"""The dense-layer loops of symgrad.jit._dense against exact arithmetic.

Every expected value is computed here in Python: a fused multiply-add as the exact
rational ``c * z + h`` rounded once to float64 (``Fraction`` to ``float`` rounds
correctly), a product-then-sum as two float64 operations, each row's terms in sample
order. The kernels promise the same bits, so the comparisons are exact. The sizes
cover the four-row and four-sample blocks and their tails.
"""

from fractions import Fraction

import numpy as np
import pytest

from symgrad.jit import _dense as dn


def fma(a, b, c):
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def _data(seed, *shape):
    rng = np.random.default_rng(seed)
    # Mixed magnitudes, so that fused and unfused sums differ and the test can fail.
    return np.ascontiguousarray(rng.normal(size=shape) * 10.0 ** rng.integers(-3, 4, size=shape))


@pytest.mark.parametrize("size, length, nb", [(1, 3, 1), (4, 5, 4), (5, 2, 7), (9, 16, 13), (3, 1, 64)])
def test_rows_add_each_gradient_row_in_sample_order_with_one_rounding_per_term(size, length, nb):
    adj, y = _data(1, size, nb), _data(2, nb, length)
    g0, gk = 3, length + 2  # rows with a gap between them: what lies between stays untouched
    g = _data(3, g0 + gk * size + 1)
    expected = g.tolist()
    for k in range(size):
        for m in range(length):
            h = expected[g0 + gk * k + m]
            for s in range(nb):
                h = fma(adj[k, s], y[s, m], h)
            expected[g0 + gk * k + m] = h
    dn.rows(adj, y, g, g0, gk, size, length, nb)
    assert g.tolist() == expected


def test_row_is_one_unit_of_rows():
    adj, y, g = _data(4, 11), _data(5, 11, 6), _data(6, 10)
    expected = g.tolist()
    for m in range(6):
        h = expected[2 + m]
        for s in range(11):
            h = fma(adj[s], y[s, m], h)
        expected[2 + m] = h
    dn.row(adj, y, g, 2, 6, 11)
    assert g.tolist() == expected


def test_a_fused_sum_differs_from_the_unfused_one_on_these_data():
    adj, y = _data(1, 9, 13), _data(2, 13, 16)
    fused = unfused = 0.0
    differ = 0
    for k in range(9):
        for m in range(16):
            fused = unfused = 0.0
            for s in range(13):
                fused, unfused = fma(adj[k, s], y[s, m], fused), unfused + adj[k, s] * y[s, m]
            differ += fused != unfused
    assert differ > 0


@pytest.mark.parametrize("inner", [1, 2])
def test_back_adds_the_product_then_the_sum(inner):
    nb, length = 7, 5
    adj, theta = _data(7, nb), _data(8, 40)
    dst = _data(9, 2 + inner * length, nb)
    expected = dst.copy()
    for m in range(length):
        for s in range(nb):
            expected[2 + inner * m, s] = float(expected[2 + inner * m, s]) + float(adj[s]) * float(theta[11 + m])
    dn.back(adj, theta, 11, length, dst, 2, inner, nb)
    assert dst.tolist() == expected.tolist()
    rows = np.ascontiguousarray(np.stack([adj * 0.5, adj]))
    again = expected.copy()
    for m in range(length):
        for s in range(nb):
            again[2 + inner * m, s] = float(again[2 + inner * m, s]) + float(rows[1, s]) * float(theta[11 + m])
    dn.back_row(rows, 1, theta, 11, length, dst, 2, inner, nb)
    assert dst.tolist() == again.tolist()


def test_back_reads_theta_of_any_layout():
    theta = _data(10, 20)[::2]  # a strided view
    adj, dst = _data(11, 3), np.zeros((4, 3))
    dn.back(adj, theta, 1, 4, dst, 0, 1, 3)
    assert dst.tolist() == [[float(a) * float(theta[1 + m]) for a in adj] for m in range(4)]


def test_transpose_copies_a_layers_inputs_by_sample():
    src = _data(12, 9, 6)
    dst = np.zeros((6, 4))
    dn.transpose(src, 1, 2, 4, 5, dst)
    assert dst[:5].tolist() == src[1:9:2, :5].T.tolist()
    assert dst[5].tolist() == [0.0] * 4


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no_such_loop"):
        dn.no_such_loop
    assert not hasattr(dn, "sums")
