"""Fit a trend and a seasonal cycle to the Mauna Loa CO2 record (monthly means, 1958-2001).

Data: examples/data/mauna_loa_co2_monthly.csv, monthly means of the weekly Mauna Loa
series (C. D. Keeling and T. P. Whorf, Scripps Institution of Oceanography; public
domain, as shipped by statsmodels.datasets.co2); see examples/data/README.md.

Model: an exponentially growing excess over a baseline, plus two harmonics of the year,
    co2(t) = c0 + c1 exp(r (t - 1958)) + a1 cos(2 pi t) + b1 sin(2 pi t) + a2 cos(4 pi t) + b2 sin(4 pi t)
fitted by least squares with the exact Jacobian; then a 95 % prediction band for 2010.
"""

import pathlib

import numpy as np
import sympy as sp

import symgrad as sg

DATA = pathlib.Path(__file__).parent / "data" / "mauna_loa_co2_monthly.csv"

t = sp.Symbol("t")
c0, c1, r, a1, b1, a2, b2 = sp.symbols("c0 c1 r a1 b1 a2 b2")
w = 2 * sp.pi * t
model = c0 + c1 * sp.exp(r * (t - 1958)) + a1 * sp.cos(w) + b1 * sp.sin(w) + a2 * sp.cos(2 * w) + b2 * sp.sin(2 * w)

year, co2 = np.loadtxt(DATA, delimiter=",", skiprows=1, usecols=(0, 1), unpack=True)
res = sg.curve_fit(model, {t: year}, co2, p0={c0: 280.0, c1: 35.0, r: 0.015})
print(res)

amplitude = float(np.hypot(res.params[a1], res.params[b1]))
print(f"\nannual cycle: peak-to-peak {2 * amplitude:.2f} ppm (first harmonic)")
print(f"growth rate of the excess: {100 * res.params[r]:.3f} % per year "
      f"(95 % interval {100 * res.conf_interval(method='wald')[r][0]:.3f}"
      f" to {100 * res.conf_interval(method='wald')[r][1]:.3f})")
yhat, lower, upper = res.predict({t: np.array([2010.5])}, band="prediction")
print(f"prediction for mid-2010: {yhat[0]:.1f} ppm, 95 % band {lower[0]:.1f} to {upper[0]:.1f}")
print(f"residual standard deviation: {np.sqrt(res.redchi):.3f} ppm over {res.n_samples} months")
