"""symgrad: exact symbolic gradients of SymPy expressions, compiled with Numba.

The pipeline is ``derive`` (exact derivatives) -> ``codegen`` (Python source)
-> ``jit`` (Numba kernels, cached on disk); ``autograd`` and ``check`` are the
independent second and third opinions; ``optimize`` drives optimizers with any
value-and-gradient callable.
"""

from symgrad.errors import (
    ExpressionTypeError,
    InputError,
    MissingSymbolError,
    OptionError,
    OptionTypeError,
    ParseError,
    SymgradError,
    UnsupportedFunctionError,
)
from symgrad.parse import parse
from symgrad.derive import gradient, hessian, jacobian
from symgrad.jit import Kernel, compile
from symgrad.objective import Objective
from symgrad.check import GradientCheck, check_gradient
from symgrad.explain import Explanation
from symgrad import explain  # the package module, callable as explain(expr, wrt)
from symgrad.optimize import FitResult, LikelihoodReport, Result, curve_fit, fit, likelihood_report, minimize
from symgrad import autograd, functions, losses, nn, optim

__version__ = "0.1.0"

__all__ = [
    "Explanation",
    "FitResult",
    "ExpressionTypeError",
    "GradientCheck",
    "InputError",
    "Kernel",
    "LikelihoodReport",
    "MissingSymbolError",
    "OptionError",
    "OptionTypeError",
    "Objective",
    "ParseError",
    "Result",
    "SymgradError",
    "UnsupportedFunctionError",
    "autograd",
    "check_gradient",
    "compile",
    "curve_fit",
    "explain",
    "fit",
    "functions",
    "gradient",
    "hessian",
    "jacobian",
    "likelihood_report",
    "losses",
    "minimize",
    "nn",
    "optim",
    "parse",
]
