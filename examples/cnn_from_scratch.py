"""A small convolutional network trained with symgrad's own autograd engine.

The images are made here: 10x10 pictures of a horizontal bar, a vertical bar, a
diagonal or a hollow square at random places, with noise. Prints the test accuracy.
"""

import numpy as np

from symgrad.autograd.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, cross_entropy

SIZE, CLASSES = 10, ("horizontal", "vertical", "diagonal", "square")


def make_images(n, rng):
    images, labels = np.zeros((n, 1, SIZE, SIZE)), rng.integers(0, len(CLASSES), size=n)
    for img, label in zip(images[:, 0], labels):
        r, c, k = rng.integers(0, SIZE - 5), rng.integers(0, SIZE - 5), rng.integers(4, 6)
        if label == 0:
            img[r + 2, c : c + k] = 1
        elif label == 1:
            img[r : r + k, c + 2] = 1
        elif label == 2:
            img[r + np.arange(k), c + np.arange(k)] = 1
        else:
            img[r, c : c + 4] = img[r + 3, c : c + 4] = img[r : r + 4, c] = img[r : r + 4, c + 3] = 1
    return images + 0.3 * rng.normal(size=images.shape), labels


def main(epochs=8, batch=64, lr=0.05, momentum=0.9):
    rng = np.random.default_rng(0)
    x_train, y_train = make_images(2000, rng)
    x_test, y_test = make_images(500, rng)
    net = Sequential(Conv2d(1, 8, 3, padding=1, seed=1), ReLU(), MaxPool2d(2),
                     Conv2d(8, 16, 3, seed=2), ReLU(), Flatten(), Linear(16 * 3 * 3, len(CLASSES), seed=3))
    params = net.parameters()
    velocity = [np.zeros_like(p.data) for p in params]
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            net.zero_grad()
            loss = cross_entropy(net(x_train[idx]), y_train[idx])
            loss.backward()
            for p, v in zip(params, velocity):  # SGD with momentum
                v *= momentum
                v -= lr * p.grad
                p.data = p.data + v
        accuracy = np.mean(net(x_test).data.argmax(axis=1) == y_test)
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.3f}, test accuracy {accuracy:.1%}")
    return accuracy


if __name__ == "__main__":
    main()
