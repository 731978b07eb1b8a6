"""A second derivation of the same expression in one process prints the same source.

The generated text is the disk cache's key: were it to change between two derivations
of one expression (a notebook cell run again, a fit repeated), each would compile
again. The temporaries of a derivation used to be named by a global counter, and
SymPy sorts the arguments of sums and products by name, as strings: ``t9`` after
``t16`` in one derivation, ``t60`` before ``t67`` in the next.
"""

import sympy as sp

import symgrad as sg
from symgrad.derive import derive

b = sp.symbols("b1:9", real=True)
x, y = sp.symbols("x y", real=True)
# NIST's Gauss1 model: enough temporaries for counters of one and two digits to mix
GAUSS = (b[0] * sp.exp(-b[1] * x) + b[2] * sp.exp(-(x - b[3]) ** 2 / b[4] ** 2)
         + b[5] * sp.exp(-(x - b[6]) ** 2 / b[7] ** 2))


def objective_text():
    return sg.Objective((GAUSS - y) ** 2, list(b), data=[x, y], engine="scalar")._vg_source.text


def test_objective_source_is_the_same_on_every_derivation():
    first = objective_text()
    for _ in range(3):
        derive([sp.sin(x * b[0]) ** 2 + sp.exp(b[1] * y)], (b[0], b[1]))  # temporaries made in between
        assert objective_text() == first


def test_gradient_kernel_source_is_the_same_on_every_derivation():
    def text():
        return sg.compile(sg.gradient(GAUSS, list(b)), [x, *b]).source

    first = text()
    derive([GAUSS ** 2], tuple(b))
    assert text() == first
