"""Playground redraw time: one slider change -> new run, new path and loss curve, new PNG.

For each problem, the playground is built (compiling its kernels: reported apart as
the first draw), then the learning rate (and, for the line fit, the batch size) is
moved through a range of values, one redraw per change, as a slider drag would. A
redraw is the run of ``sg.minimize`` (steps) or ``sg.fit`` (epochs), the two lines
drawn over the bitmap of the axes, and the PNG. Prints the median and the largest
redraw per problem (wall time), its CPU time (what a machine with a free core would
take), and the run alone. The machine's load average is printed first.

    python bench/playground.py [--steps 200] [--epochs 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from symgrad.playground import PROBLEMS, Playground

RATES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
BATCHES = (200, 64, 32, 16)


def measure(problem: str, steps: int):
    start = time.perf_counter()
    pg = Playground(problem, "Adam", lr=RATES[0], steps=steps)
    first = time.perf_counter() - start
    redraws, cpu, runs = [], [], []
    moves = [("lr", r) for r in RATES[1:]]
    if problem == PROBLEMS[-1]:
        moves += [("batch_size", b) for b in BATCHES]
    for name, value in moves:
        c = time.process_time()
        pg.controls[name].value = value
        cpu.append(1e3 * (time.process_time() - c))
        redraws.append(pg.last_redraw_ms)
        t = time.perf_counter()
        pg.run()
        runs.append(1e3 * (time.perf_counter() - t))
    return first, redraws, cpu, runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="steps of sg.minimize per run")
    parser.add_argument("--epochs", type=int, default=50, help="epochs of sg.fit for the line fit")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f}")
    print(f"{'problem':18s} {'first draw s':>12s} {'redraw median ms':>17s} {'max ms':>7s} "
          f"{'CPU median ms':>14s} {'run median ms':>14s}")
    for problem in PROBLEMS:
        steps = args.epochs if problem == PROBLEMS[-1] else args.steps
        first, redraws, cpu, runs = measure(problem, steps)
        print(f"{problem:18s} {first:12.1f} {statistics.median(redraws):17.1f} {max(redraws):7.1f} "
              f"{statistics.median(cpu):14.1f} {statistics.median(runs):14.1f}")


if __name__ == "__main__":
    main()
