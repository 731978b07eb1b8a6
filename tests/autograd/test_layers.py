"""Layers: forward against plain loop implementations, gradients against central differences."""

import numpy as np
import pytest

from symgrad.autograd import Tensor
from symgrad.autograd.layers import (
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    cross_entropy,
    mse,
)
from symgrad.errors import InputError


from test_tensor import numeric_grad  # central differences, one entry at a time


def conv_loops(x, w, b, stride, padding):
    """The textbook definition, one output pixel at a time."""
    n, c, hh, ww = x.shape
    f, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (hh + 2 * padding - k) // stride + 1
    ow = (ww + 2 * padding - k) // stride + 1
    out = np.zeros((n, f, oh, ow))
    for i in range(n):
        for o in range(f):
            for r in range(oh):
                for s in range(ow):
                    patch = xp[i, :, r * stride : r * stride + k, s * stride : s * stride + k]
                    out[i, o, r, s] = np.sum(patch * w[o]) + b[o]
    return out


def pool_loops(x, size, stride):
    n, c, hh, ww = x.shape
    oh, ow = (hh - size) // stride + 1, (ww - size) // stride + 1
    out = np.zeros((n, c, oh, ow))
    for r in range(oh):
        for s in range(ow):
            out[:, :, r, s] = x[:, :, r * stride : r * stride + size, s * stride : s * stride + size].max(axis=(2, 3))
    return out


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (1, 2), (3, 1)])
def test_conv2d_forward_and_gradients(stride, padding):
    rng = np.random.default_rng(stride * 10 + padding)
    x = rng.normal(size=(2, 2, 5, 4))
    conv = Conv2d(2, 3, kernel_size=3, stride=stride, padding=padding, seed=1)
    conv.bias.data[:] = rng.normal(size=3)
    w, b = conv.weight.data.copy(), conv.bias.data.copy()
    expected = conv_loops(x, w, b, stride, padding)
    tx = Tensor(x, requires_grad=True)
    out = conv(tx)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    weights = rng.normal(size=expected.shape)
    (out * weights).sum().backward()
    np.testing.assert_allclose(
        tx.grad, numeric_grad(lambda v: np.sum(conv_loops(v, w, b, stride, padding) * weights), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        conv.weight.grad, numeric_grad(lambda v: np.sum(conv_loops(x, v, b, stride, padding) * weights), w), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(conv.bias.grad, weights.sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.parametrize("size, stride", [(2, 2), (3, 1), (2, 3)])
def test_max_pool_forward_and_gradient(size, stride):
    rng = np.random.default_rng(size + stride)
    x = rng.normal(size=(2, 3, 7, 8))  # distinct values: no ties
    tx = Tensor(x, requires_grad=True)
    out = MaxPool2d(size, stride)(tx)
    np.testing.assert_array_equal(out.data, pool_loops(x, size, stride))
    weights = rng.normal(size=out.shape)
    (out * weights).sum().backward()
    np.testing.assert_allclose(tx.grad, numeric_grad(lambda v: np.sum(pool_loops(v, size, stride) * weights), x), rtol=1e-6, atol=1e-9)


def test_max_pool_sends_a_tied_window_gradient_to_one_entry():
    x = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    MaxPool2d(2)(x).sum().backward()
    assert x.grad.sum() == 1.0 and x.grad[0, 0, 0, 0] == 1.0


def test_linear_is_x_times_w_transpose_plus_b():
    rng = np.random.default_rng(3)
    layer = Linear(4, 3, seed=5)
    x = rng.normal(size=(6, 4))
    out = layer(Tensor(x))
    np.testing.assert_allclose(out.data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-14)
    bound = np.sqrt(6 / 4)
    assert np.all(np.abs(layer.weight.data) <= bound)
    np.testing.assert_array_equal(Linear(4, 3, seed=5).weight.data, layer.weight.data)


def test_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])

    def reference(v):
        return np.mean(np.log(np.exp(v).sum(axis=1)) - v[np.arange(5), labels])

    t = Tensor(z, requires_grad=True)
    loss = cross_entropy(t, labels)
    assert loss.item() == pytest.approx(reference(z), rel=1e-13)
    loss.backward()
    np.testing.assert_allclose(t.grad, numeric_grad(reference, z), rtol=1e-6, atol=1e-10)


def test_cross_entropy_is_stable_for_large_logits():
    t = Tensor([[1000.0, 0.0]], requires_grad=True)
    loss = cross_entropy(t, [1])
    loss.backward()
    assert loss.item() == pytest.approx(1000.0)
    np.testing.assert_allclose(t.grad, [[1.0, -1.0]])


def test_mse_gradient():
    p = Tensor([1.0, 2.0, 4.0], requires_grad=True)
    mse(p, np.array([1.0, 0.0, 1.0])).backward()
    np.testing.assert_allclose(p.grad, 2 * np.array([0.0, 2.0, 3.0]) / 3)


def test_small_network_gradients_match_central_differences():
    rng = np.random.default_rng(6)
    net = Sequential(Conv2d(1, 2, 3, padding=1, seed=0), Tanh(), MaxPool2d(2), Flatten(),
                     Linear(8, 5, seed=1), Sigmoid(), Linear(5, 3, seed=2), ReLU())
    x = rng.normal(size=(4, 1, 4, 4))
    labels = np.array([0, 1, 2, 1])
    loss = cross_entropy(net(Tensor(x)), labels)
    loss.backward()
    for p in net.parameters():
        def f(v, p=p):
            saved = p.data
            p.data = v
            value = cross_entropy(net(Tensor(x)), labels).item()
            p.data = saved
            return value
        np.testing.assert_allclose(p.grad, numeric_grad(f, p.data.copy()), rtol=1e-5, atol=1e-8)
    assert len(net.parameters()) == 6
    net.zero_grad()
    assert all(np.all(p.grad == 0) for p in net.parameters())


def test_layers_name_bad_shapes():
    with pytest.raises(InputError, match=r"\(N, 3, H, W\)"):
        Conv2d(3, 2, 3)(Tensor(np.ones((1, 2, 5, 5))))
    with pytest.raises(InputError, match="labels"):
        cross_entropy(Tensor(np.ones((2, 3))), [0, 3])
    with pytest.raises(InputError, match="MaxPool2d"):
        MaxPool2d(2)(Tensor(np.ones((4, 4))))


def test_cnn_example_learns_its_shapes():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "cnn_from_scratch.py"
    spec = importlib.util.spec_from_file_location("cnn_from_scratch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(epochs=2) > 0.8  # chance is 0.25
