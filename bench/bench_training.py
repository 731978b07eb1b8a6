"""Training-loop benchmark: logistic regression, N = 10^5 samples, 10 features.

Adam(lr=0.01), batch 256, 5 epochs, shuffled with a fixed seed (the same
permutations in every implementation), float64 everywhere, the full-data loss
computed after each epoch. Compared: ``sg.fit`` with the compiled objective, the
same loop written by hand in NumPy, and, when importable, PyTorch
(``torch.optim.Adam``) and JAX + optax (a jitted step), one thread each. The
runners, the timing (CPU and wall medians, the implementations taking turns) and
the table are those of ``bench_epochs.py``, whose first workload this is without
the hand-written ``@njit`` loop and the uncompiled ``sg.fit``; the final losses must
agree to 1e-8. Compile / warm-up time is reported apart.

    python bench/bench_training.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_epochs as be  # noqa: E402  (sets one thread per library on import)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    x, y = be.logistic_data()
    steps = be.EPOCHS * -(-be.N // be.BATCH)
    print(f"logistic regression: N={be.N}, {be.FEATURES} features, Adam(lr={be.LR}), batch {be.BATCH}, "
          f"{be.EPOCHS} epochs = {steps} updates; median of {args.repeats} runs\n")
    rows = be.measure([("symgrad (sg.fit)", lambda: be.logistic_symgrad(x, y)),
                       ("NumPy by hand", lambda: be.logistic_numpy(x, y)),
                       ("PyTorch", lambda: be.logistic_torch(x, y)),
                       ("JAX + optax", lambda: be.logistic_jax(x, y))], args.repeats)
    be.report(rows, "symgrad (sg.fit)", 1.0, "time", tuple(rows))
    print("per update, CPU: " + ", ".join(f"{name} {1e6 * row['median'] / steps:.2f} us"
                                          for name, row in rows.items()))


if __name__ == "__main__":
    main()
