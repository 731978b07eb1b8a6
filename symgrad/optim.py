"""The named optimizers, as ``sg.optim.Adam(lr=0.01)`` etc.

Update rules and defaults follow the ``torch.optim`` class of the same name;
each is a ``chain`` of the blocks in :mod:`symgrad.optimize`.
"""

from symgrad.optimize import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    GradientDescent,
    GradientTransformation,
    LBFGS,
    Newton,
    RMSProp,
    chain,
    constant_schedule,
    cosine_schedule,
    exponential_schedule,
    step_schedule,
)

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "GradientDescent",
    "GradientTransformation",
    "LBFGS",
    "Newton",
    "RMSProp",
    "chain",
    "constant_schedule",
    "cosine_schedule",
    "exponential_schedule",
    "step_schedule",
]
