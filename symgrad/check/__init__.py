"""Finite differences and the three-way gradient check: symbolic, autograd, numeric.

``check_gradient`` compares the compiled symbolic gradient, the autograd engine's and
finite differences (the complex step where the expression is analytic); at a kink it
says so instead of failing blindly. ``check_objective`` does the same for the mean
gradient of a data objective.
"""

from symgrad.check._api import check_gradient, check_objective
from symgrad.check._finite import (
    central_gradient,
    central_hessian,
    complex_step_gradient,
    complex_step_hessian,
    one_sided_gradients,
)
from symgrad.check._kinks import Kink
from symgrad.check._report import GradientCheck

__all__ = [
    "GradientCheck",
    "Kink",
    "central_gradient",
    "central_hessian",
    "check_gradient",
    "check_objective",
    "complex_step_gradient",
    "complex_step_hessian",
    "one_sided_gradients",
]
