"""Layers for small networks on the autograd engine: dense, convolution, pooling, losses.

Every layer is a callable ``layer(x) -> Tensor`` with ``.parameters()``; weights are
drawn from a seeded generator (He-uniform, ``U(−√(6/fan_in), √(6/fan_in))``, biases 0),
so a network built with the same seeds is the same network.

Example:
    >>> net = Sequential(Linear(3, 4, seed=0), ReLU(), Linear(4, 2, seed=1))
    >>> x = Tensor(np.ones((5, 3)))
    >>> loss = cross_entropy(net(x), np.array([0, 1, 0, 1, 1]))
    >>> loss.backward()
    >>> [p.grad.shape for p in net.parameters()]
    [(4, 3), (4,), (2, 4), (2,)]
"""

from __future__ import annotations

import numpy as np

from symgrad.autograd._tensor import Tensor, apply
from symgrad.errors import InputError

__all__ = [
    "Module",
    "Linear",
    "Conv2d",
    "MaxPool2d",
    "Flatten",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "Sequential",
    "cross_entropy",
    "mse",
]


def _he_uniform(rng, shape, fan_in):
    bound = np.sqrt(6.0 / fan_in)
    return Tensor(rng.uniform(-bound, bound, size=shape), requires_grad=True)


class Module:
    """Base layer: no parameters, ``zero_grad`` resets those it has."""

    def parameters(self) -> list:
        """The tensors this layer trains, in a fixed order."""
        return []

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to zeros."""
        for p in self.parameters():
            p.zero_grad()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Module):
    """Dense layer ``y = x Wᵀ + b`` for ``x`` of shape ``(N, n_in)`` or ``(n_in,)``.

    Args:
        n_in, n_out: sizes; ``W`` has shape ``(n_out, n_in)``, ``b`` shape ``(n_out,)``.
        seed: seed of the weight initialisation.
    """

    def __init__(self, n_in: int, n_out: int, seed: int | None = 0):
        rng = np.random.default_rng(seed)
        self.weight = _he_uniform(rng, (n_out, n_in), n_in)
        self.bias = Tensor(np.zeros(n_out), requires_grad=True)

    def __call__(self, x) -> Tensor:
        return x @ self.weight.T + self.bias

    def parameters(self) -> list:
        return [self.weight, self.bias]

    def __repr__(self) -> str:
        n_out, n_in = self.weight.shape
        return f"Linear({n_in}, {n_out})"


class Conv2d(Module):
    """2-D convolution (cross-correlation) of ``(N, C, H, W)`` images, with bias.

    ``out[n, f, i, j] = b[f] + Σ_{c,u,v} W[f, c, u, v] · x_pad[n, c, s·i + u, s·j + v]``
    with stride ``s`` and zero padding ``padding`` on every side.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0, seed: int | None = 0):
        rng = np.random.default_rng(seed)
        k = int(kernel_size)
        self.weight = _he_uniform(rng, (out_channels, in_channels, k, k), in_channels * k * k)
        self.bias = Tensor(np.zeros(out_channels), requires_grad=True)
        self.stride, self.padding = int(stride), int(padding)

    def __call__(self, x) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        f, c, k, _ = self.weight.shape
        if x.ndim != 4 or x.shape[1] != c:
            raise InputError(
                f"Conv2d expects images of shape (N, {c}, H, W), got {x.shape}."
            )
        if min(x.shape[2:]) + 2 * self.padding < k:
            raise InputError(f"Conv2d kernel {k}x{k} is larger than the padded image {x.shape[2:]}.")
        out = apply("conv2d", x, self.weight, stride=self.stride, padding=self.padding)
        return out + self.bias.reshape(1, f, 1, 1)

    def parameters(self) -> list:
        return [self.weight, self.bias]

    def __repr__(self) -> str:
        f, c, k, _ = self.weight.shape
        return f"Conv2d({c}, {f}, kernel_size={k}, stride={self.stride}, padding={self.padding})"


class MaxPool2d(Module):
    """Largest value of each ``size × size`` window (stride defaults to ``size``)."""

    def __init__(self, size: int = 2, stride: int | None = None):
        self.size = int(size)
        self.stride = int(stride) if stride is not None else self.size

    def __call__(self, x) -> Tensor:
        if x.ndim != 4 or min(x.shape[2:]) < self.size:
            raise InputError(f"MaxPool2d({self.size}) expects (N, C, H, W) images, got {x.shape}.")
        return apply("max_pool2d", x, size=self.size, stride=self.stride)

    def __repr__(self) -> str:
        return f"MaxPool2d({self.size}, stride={self.stride})"


class Flatten(Module):
    """``(N, ...)`` -> ``(N, product of the rest)``."""

    def __call__(self, x) -> Tensor:
        return x.reshape(x.shape[0], -1)


class ReLU(Module):
    """``max(z, 0)``, with ``relu'(0) = 0``."""

    def __call__(self, x) -> Tensor:
        return x.relu()


class Sigmoid(Module):
    """``1 / (1 + e^{−z})``."""

    def __call__(self, x) -> Tensor:
        return x.sigmoid()


class Tanh(Module):
    """``tanh(z)``."""

    def __call__(self, x) -> Tensor:
        return x.tanh()


class Sequential(Module):
    """Layers applied in order; parameters are theirs, concatenated."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def __call__(self, x) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(map(repr, self.layers)) + ")"


def cross_entropy(logits: Tensor, labels) -> Tensor:
    """Mean softmax cross-entropy ``(1/N) Σ_n [log Σ_k e^{z_nk} − z_{n,y_n}]``.

    Args:
        logits: ``(N, K)`` tensor of scores.
        labels: ``N`` integer classes in ``[0, K)``.
    """
    labels = np.asarray(labels)
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise InputError(
            f"cross_entropy needs logits (N, K) and N labels, got {logits.shape} and {labels.shape}."
        )
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= logits.shape[1]:
        raise InputError(f"cross_entropy labels must be integers in [0, {logits.shape[1]}).")
    return apply("softmax_cross_entropy", logits, labels=labels)


def mse(pred: Tensor, target) -> Tensor:
    """Mean squared error ``mean((pred − target)²)``."""
    diff = pred - target
    return (diff * diff).mean()
