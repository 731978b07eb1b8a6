"""Optimizers as (init, update) pairs, and the ``minimize`` / ``fit`` loops on top.

Blocks (``scale_by_adam``, ``trace``, ...) compose with ``chain`` into the named
optimizers of ``sg.optim``; ``minimize`` and ``fit`` drive any of them with the
exact gradients of an ``sg.Objective``.
"""

from symgrad.optimize._alias import SGD, Adagrad, Adam, AdamW, GradientDescent, RMSProp
from symgrad.optimize._base import EmptyState, GradientTransformation, Oracle, apply_updates, chain
from symgrad.optimize._curve_fit import curve_fit
from symgrad.optimize._fit_result import FitResult
from symgrad.optimize._likelihood import LikelihoodReport, likelihood_report
from symgrad.optimize._least_squares import FitReport, LeastSquares, fit_report, levenberg_marquardt
from symgrad.optimize._loops import fit, minimize
from symgrad.optimize._result import Result
from symgrad.optimize._scipy import scipy_minimize
from symgrad.optimize._second_order import LBFGS, LBFGSState, Newton, NewtonState
from symgrad.optimize._schedules import (
    constant_schedule,
    cosine_schedule,
    exponential_schedule,
    step_schedule,
)
from symgrad.optimize._transforms import (
    ScaleByAdamState,
    ScaleByLearningRateState,
    ScaleByRmsState,
    ScaleByRssState,
    TraceState,
    add_decayed_weights,
    clip_by_global_norm,
    scale,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_rms,
    scale_by_rss,
    trace,
)

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "EmptyState",
    "FitReport",
    "FitResult",
    "GradientDescent",
    "GradientTransformation",
    "LBFGS",
    "LeastSquares",
    "LikelihoodReport",
    "LBFGSState",
    "Newton",
    "NewtonState",
    "Oracle",
    "RMSProp",
    "Result",
    "ScaleByAdamState",
    "ScaleByLearningRateState",
    "ScaleByRmsState",
    "ScaleByRssState",
    "TraceState",
    "add_decayed_weights",
    "apply_updates",
    "chain",
    "clip_by_global_norm",
    "constant_schedule",
    "curve_fit",
    "cosine_schedule",
    "exponential_schedule",
    "fit",
    "fit_report",
    "levenberg_marquardt",
    "likelihood_report",
    "minimize",
    "scale",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_rms",
    "scale_by_rss",
    "scipy_minimize",
    "step_schedule",
    "trace",
]
