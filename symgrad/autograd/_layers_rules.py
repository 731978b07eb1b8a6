"""Primitives for network layers: 2-D convolution, max pooling, softmax cross-entropy.

Images are ``(N, C, H, W)`` arrays. Convolution and pooling read every window at once
through a strided view (``sliding_window_view``, the im2col idea without the copy
until ``tensordot`` needs one); the backward passes scatter back with one vectorised
slice per kernel offset, so the Python loops run over ``KH·KW`` offsets, never pixels.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["FORWARD", "VJP_RULES"]


def _windows(x, kh, kw, stride):
    """All ``(kh, kw)`` windows of ``x (N, C, H, W)``: a view ``(N, C, OH, OW, kh, kw)``."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def _pad(x, padding):
    if padding == 0:
        return x
    p = padding
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def _scatter_windows(gwin, shape, stride):
    """Adjoint of :func:`_windows`: add ``gwin (N, C, OH, OW, kh, kw)`` into ``shape``."""
    out = np.zeros(shape)
    _, _, oh, ow, kh, kw = gwin.shape
    for i in range(kh):
        for j in range(kw):
            out[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride] += gwin[..., i, j]
    return out


def conv2d(x, w, stride=1, padding=0):
    """Cross-correlation ``out[n, f] = Σ_c x[n, c] ⋆ w[f, c]`` with zero padding."""
    f, c, kh, kw = w.shape
    win = _windows(_pad(x, padding), kh, kw, stride)
    out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, OH, OW, F)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def _conv2d_x(g, ans, x, w, stride=1, padding=0):
    gwin = np.tensordot(g, w, axes=([1], [0]))  # (N, OH, OW, C, KH, KW)
    gwin = gwin.transpose(0, 3, 1, 2, 4, 5)
    p = padding
    shape = (x.shape[0], x.shape[1], x.shape[2] + 2 * p, x.shape[3] + 2 * p)
    gx = _scatter_windows(gwin, shape, stride)
    return gx[:, :, p : p + x.shape[2], p : p + x.shape[3]]


def _conv2d_w(g, ans, x, w, stride=1, padding=0):
    f, c, kh, kw = w.shape
    win = _windows(_pad(x, padding), kh, kw, stride)
    return np.tensordot(g, win, axes=([0, 2, 3], [0, 2, 3]))  # (F, C, KH, KW)


def max_pool2d(x, size=2, stride=2):
    """Largest entry of every ``size × size`` window, moving by ``stride``."""
    return _windows(x, size, size, stride).max(axis=(4, 5))


def _max_pool2d_x(g, ans, x, size=2, stride=2):
    win = _windows(x, size, size, stride)
    first = win.reshape(win.shape[:4] + (size * size,)).argmax(axis=-1)
    # The gradient goes to the first largest entry of each window (PyTorch does the same).
    onehot = first[..., None] == np.arange(size * size)
    gwin = (g[..., None] * onehot).reshape(win.shape)
    return _scatter_windows(gwin, x.shape, stride)


def softmax_cross_entropy(logits, labels):
    """Mean over rows of ``logsumexp(z) − z[label]``, computed stably."""
    z = logits - logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    return np.mean(lse - z[np.arange(len(labels)), labels])


def _softmax_cross_entropy_logits(g, ans, logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1.0
    return g * p / len(labels)


FORWARD = {
    "conv2d": conv2d,
    "max_pool2d": max_pool2d,
    "softmax_cross_entropy": softmax_cross_entropy,
}

VJP_RULES = {
    "conv2d": (_conv2d_x, _conv2d_w),
    "max_pool2d": (_max_pool2d_x,),
    "softmax_cross_entropy": (_softmax_cross_entropy_logits,),
}
