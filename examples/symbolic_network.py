"""A 64-32-10 network written as SymPy expressions, compiled, and trained with Adam.

Every weight is a SymPy symbol: the loss is one formula of 2,410 parameters and 74
data symbols (64 pixels and a one-hot label). symgrad recognises the units of each
layer as one family of identical formulas and compiles a loop per family, so the
exact gradient compiles in seconds. The images are made here: ten 8x8 patterns, one
per class, seen through noise. Prints the engine, the build and compile times, and
the test accuracy.
"""

import time

import numpy as np
import sympy as sp

import symgrad as sg

SIDE, CLASSES, HIDDEN = 8, 10, 32


def make_images(n, prototypes, rng):
    labels = rng.integers(0, CLASSES, size=n)
    images = prototypes[labels] + 0.8 * rng.normal(size=(n, SIDE * SIDE))
    return images, labels


def network():
    pixels = list(sp.symbols(f"x0:{SIDE * SIDE}"))
    hidden, p1 = sg.nn.dense(pixels, HIDDEN, activation=sg.nn.relu, name="A")
    logits, p2 = sg.nn.dense(hidden, CLASSES, name="B")
    onehot = list(sp.symbols(f"t0:{CLASSES}"))
    return sg.losses.cross_entropy(logits, onehot), p1 + p2, pixels, onehot


def main(epochs=15, batch=64):
    rng = np.random.default_rng(0)
    prototypes = (rng.random((CLASSES, SIDE * SIDE)) < 0.3).astype(float)
    x_train, y_train = make_images(3000, prototypes, rng)
    x_test, y_test = make_images(1000, prototypes, rng)

    start = time.perf_counter()
    loss, params, pixels, onehot = network()
    objective = sg.Objective(loss, params, pixels + onehot)
    built = time.perf_counter() - start
    columns = [x_train[:, i].copy() for i in range(SIDE * SIDE)]
    columns += [(y_train == k).astype(float) for k in range(CLASSES)]
    theta0 = np.concatenate([rng.normal(size=HIDDEN * SIDE * SIDE) / SIDE, np.zeros(HIDDEN),
                             rng.normal(size=CLASSES * HIDDEN) / np.sqrt(HIDDEN), np.zeros(CLASSES)])
    start = time.perf_counter()
    objective.value_and_grad(theta0, *[c[:1] for c in columns])  # compiles, or loads from the cache
    compiled = time.perf_counter() - start
    print(f"{len(params)} parameters, engine {objective.engine}: "
          f"built in {built:.2f} s, compiled in {compiled:.1f} s")

    result = sg.fit(objective, columns, x0=theta0, optimizer=sg.optim.Adam(0.01), epochs=epochs,
                    batch_size=batch, seed=0)
    print(f"training loss {objective.value(theta0, *columns):.3f} -> {result.loss:.3f}")

    # predictions with NumPy: the parameters are the weights row by row, then the biases
    w1, b1, w2, b2 = np.split(result.x, np.cumsum([HIDDEN * SIDE * SIDE, HIDDEN, CLASSES * HIDDEN]))
    hidden = np.maximum(0.0, x_test @ w1.reshape(HIDDEN, -1).T + b1)
    logit_values = hidden @ w2.reshape(CLASSES, HIDDEN).T + b2
    accuracy = np.mean(logit_values.argmax(axis=1) == y_test)
    print(f"test accuracy: {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
