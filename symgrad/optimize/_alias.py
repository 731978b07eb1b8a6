"""The named first-order optimizers, each a ``chain`` of blocks.

Update rules and default constants are those of the ``torch.optim`` class of the
same name, so runs can be compared step by step. Notation: ``x`` parameters,
``g`` gradient, ``lr_t`` the learning rate (a number or a schedule of the step
count), ``t = 1, 2, ...`` the step. Every optimizer also takes ``clip_norm``
(rescale ``g`` to at most that Euclidean norm before anything else, as
``torch.nn.utils.clip_grad_norm_`` before ``step()``).
"""

from __future__ import annotations

from dataclasses import dataclass

from symgrad.optimize._base import GradientTransformation, chain
from symgrad.optimize._schedules import as_schedule
from symgrad.optimize._transforms import (
    _number,
    add_decayed_weights,
    clip_by_global_norm,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_rms,
    scale_by_rss,
    trace,
)
from symgrad.errors import OptionError

__all__ = ["Adagrad", "Adam", "AdamW", "GradientDescent", "RMSProp", "SGD"]


def _named(description: str, blocks, weight_decay: float = 0.0, clip_norm=None) -> GradientTransformation:
    head = []
    if clip_norm is not None:
        head.append(clip_by_global_norm(clip_norm))
    if weight_decay:
        head.append(add_decayed_weights(weight_decay))
    return chain(*head, *blocks, description=description)


def _suffix(weight_decay: float, clip_norm) -> str:
    text = f", weight_decay={weight_decay}" if weight_decay else ""
    return text + (f", clip_norm={clip_norm}" if clip_norm is not None else "")


def GradientDescent(lr=1e-3, *, clip_norm=None) -> GradientTransformation:  # noqa: N802
    """Plain gradient descent: ``x <- x - lr_t * g``.

    Args:
        lr: learning rate ``lr_t``, a positive number or a schedule.
        clip_norm: optional maximum Euclidean norm of ``g``.

    Returns:
        GradientTransformation

    Example:
        >>> import numpy as np
        >>> opt = GradientDescent(0.1)
        >>> opt.update(np.array([1.0, 2.0]), opt.init(np.zeros(2)), np.zeros(2))[0]
        array([-0.1, -0.2])
    """
    return _named(f"GradientDescent(lr={lr!r}{_suffix(0, clip_norm)})", [scale_by_learning_rate(lr)], 0, clip_norm)


def SGD(lr=1e-3, momentum: float = 0.0, nesterov: bool = False, *, dampening: float = 0.0,  # noqa: N802
        weight_decay: float = 0.0, clip_norm=None) -> GradientTransformation:
    """Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

    ``momentum = mu``, ``dampening = d``, ``weight_decay = wd``; ``b_1 = g_1``::

        g   <- g + wd x
        b_t = mu b_{t-1} + (1 - d) g                   (t > 1)
        x   <- x - lr_t (g + mu b_t)                   (nesterov)
        x   <- x - lr_t b_t                            (momentum > 0)
        x   <- x - lr_t g                              (momentum = 0)

    Example:
        >>> import numpy as np
        >>> opt = SGD(0.1, momentum=0.9)
        >>> s = opt.init(np.zeros(1))
        >>> u, s = opt.update(np.array([1.0]), s, np.zeros(1))
        >>> opt.update(np.array([1.0]), s, np.zeros(1))[0]
        array([-0.19])
    """
    momentum = _number(momentum, "momentum", 0.0, 1.0)
    blocks = [trace(momentum, nesterov, dampening)] if momentum else []
    if nesterov and not momentum:
        raise OptionError("Nesterov momentum requires a momentum > 0 (as in torch.optim.SGD)")
    text = f"SGD(lr={lr!r}, momentum={momentum}, nesterov={bool(nesterov)}"
    if dampening:
        text += f", dampening={dampening}"
    text += _suffix(weight_decay, clip_norm) + ")"
    return _named(text, [*blocks, scale_by_learning_rate(lr)], weight_decay, clip_norm)


@dataclass(frozen=True)
class _AdagradDecay:
    """``lr_t = lr(t - 1) / (1 + (t - 1) lr_decay)``, the Adagrad step-size decay."""

    lr: object
    lr_decay: float

    def __call__(self, count: int) -> float:
        return self.lr(count) / (1.0 + count * self.lr_decay)


def Adagrad(lr=1e-2, *, lr_decay: float = 0.0, eps: float = 1e-10, initial_accumulator_value: float = 0.0,  # noqa: N802
            weight_decay: float = 0.0, clip_norm=None) -> GradientTransformation:
    """Adagrad, as ``torch.optim.Adagrad`` (Duchi, Hazan & Singer, 2011).

    ``lr_decay = k``, ``initial_accumulator_value = s_0``, ``weight_decay = wd``::

        g   <- g + wd x
        s_t = s_{t-1} + g^2
        x   <- x - lr_t / (1 + (t - 1) k) * g / (sqrt(s_t) + eps)

    Example:
        >>> import numpy as np
        >>> opt = Adagrad(0.5)
        >>> np.round(opt.update(np.array([2.0]), opt.init(np.zeros(1)), np.zeros(1))[0], 6)
        array([-0.5])
    """
    schedule = as_schedule(lr)
    lr_decay = _number(lr_decay, "lr_decay")
    if lr_decay:
        schedule = _AdagradDecay(schedule, lr_decay)
    text = f"Adagrad(lr={lr!r}, lr_decay={lr_decay}, eps={eps}, initial_accumulator_value={initial_accumulator_value}"
    text += _suffix(weight_decay, clip_norm) + ")"
    blocks = [scale_by_rss(eps, initial_accumulator_value), scale_by_learning_rate(schedule)]
    return _named(text, blocks, weight_decay, clip_norm)


def RMSProp(lr=1e-2, *, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,  # noqa: N802
            clip_norm=None) -> GradientTransformation:
    """RMSProp, as ``torch.optim.RMSprop`` (Hinton's lecture 6e).

    ``alpha = a``, ``weight_decay = wd``, ``v_0 = 0``::

        g   <- g + wd x
        v_t = a v_{t-1} + (1 - a) g^2
        x   <- x - lr_t g / (sqrt(v_t) + eps)

    Example:
        >>> import numpy as np
        >>> opt = RMSProp(0.01, alpha=0.75, eps=0.0)
        >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)), np.zeros(1))[0]
        array([-0.02])
    """
    text = f"RMSProp(lr={lr!r}, alpha={alpha}, eps={eps}" + _suffix(weight_decay, clip_norm) + ")"
    return _named(text, [scale_by_rms(alpha, eps), scale_by_learning_rate(lr)], weight_decay, clip_norm)


def Adam(lr=1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, *,  # noqa: N802
         weight_decay: float = 0.0, clip_norm=None) -> GradientTransformation:
    """Adam, as ``torch.optim.Adam`` (Kingma & Ba, 2015).

    ``beta1 = b1``, ``beta2 = b2``, ``weight_decay = wd`` (coupled L2), ``m_0 = v_0 = 0``::

        g   <- g + wd x
        m_t = b1 m_{t-1} + (1 - b1) g
        v_t = b2 v_{t-1} + (1 - b2) g^2
        x   <- x - lr_t (m_t / (1 - b1^t)) / (sqrt(v_t) / sqrt(1 - b2^t) + eps)

    Example:
        >>> import numpy as np
        >>> opt = Adam(0.1)
        >>> np.round(opt.update(np.array([3.0]), opt.init(np.zeros(1)), np.zeros(1))[0], 6)
        array([-0.1])
    """
    text = f"Adam(lr={lr!r}, beta1={beta1}, beta2={beta2}, eps={eps}" + _suffix(weight_decay, clip_norm) + ")"
    return _named(text, [scale_by_adam(beta1, beta2, eps), scale_by_learning_rate(lr)], weight_decay, clip_norm)


def AdamW(lr=1e-3, weight_decay: float = 0.01, beta1: float = 0.9, beta2: float = 0.999,  # noqa: N802
          eps: float = 1e-8, *, clip_norm=None) -> GradientTransformation:
    """Adam with decoupled weight decay, as ``torch.optim.AdamW`` (Loshchilov & Hutter, 2019).

    ``weight_decay = wd``; ``m``, ``v`` as in :func:`Adam` but from the raw ``g``::

        x <- x - lr_t wd x - lr_t (m_t / (1 - b1^t)) / (sqrt(v_t) / sqrt(1 - b2^t) + eps)

    Example:
        >>> import numpy as np
        >>> opt = AdamW(0.1, weight_decay=0.5)
        >>> np.round(opt.update(np.array([3.0]), opt.init(np.zeros(1)), np.array([2.0]))[0], 6)
        array([-0.2])
    """
    wd = _number(weight_decay, "weight_decay")
    text = f"AdamW(lr={lr!r}, weight_decay={wd}, beta1={beta1}, beta2={beta2}, eps={eps}"
    text += _suffix(0, clip_norm) + ")"
    blocks = [scale_by_adam(beta1, beta2, eps), add_decayed_weights(wd), scale_by_learning_rate(lr)]
    return _named(text, blocks, 0.0, clip_norm)
