"""The convenience loops ``minimize`` (no data) and ``fit`` (mean loss over data).

Both read as their algorithm; why a run stops and where its parameters go back to
is decided in one place (``symgrad.optimize._stopping``), and the steps of an epoch
of ``fit`` are those of ``symgrad.optimize._training.Training``.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.errors import InputError
from symgrad.optimize._divergence import not_finite_loss, not_finite_parameters
from symgrad.optimize._problem import check_count, check_tol, check_x0, default_optimizer, no_data_oracle
from symgrad.optimize._result import Result, make_result
from symgrad.optimize._stopping import Stop, final_test, gradient_test, optimizer_test
from symgrad.optimize._training import Training

__all__ = ["fit", "minimize"]


def minimize(objective, x0, *, optimizer=None, steps: int = 1000, tol=None, callback=None,
             check: bool = True) -> Result:
    """Minimize a function of parameters only, ``f(x)``, with a first- or second-order optimizer.

    With ``x_0 = x0`` and the optimizer's update ``u_k``: ``x_{k+1} = x_k + u_k``
    for at most ``steps`` updates; the run stops early when
    ``max_i |df/dx_i(x_k)| <= tol``, when ``callback(k, x_k, f(x_k))`` returns
    ``True``, or when ``f`` or ``x_k`` becomes NaN or infinite (diverged: ``x`` is
    then the last point whose loss was finite; a finite loss that rises never stops
    the run). Newton and LBFGS also end the run when their own convergence tests
    hold (``.converged`` True, the message names the test) or when their line search
    stalls (``.converged`` False); a ``tol`` that does not hold yet keeps them going.

    Args:
        objective: an ``sg.Objective`` without data, a function of
            ``sg.functions`` (``.expr``, ``.symbols``), or a callable
            ``x -> (loss, gradient)``.
        x0: starting point, length n (never modified).
        optimizer: one of ``sg.optim`` (default ``Adam(lr=0.01)``).
        steps: the largest number of updates.
        tol: gradient tolerance (``None``: run all steps).
        callback: called after each step with ``(step, x, loss)``.
        check: before the first step, compare the compiled gradient at ``x0`` with
            the autograd engine's (a guard against code-generation bugs; see
            ``docs/numerics.md``). A plain callable is not checked.

    Returns:
        Result: ``history`` holds ``f(x_0), f(x_1), ...``, one entry per step after the first.

    Raises:
        InputError: ``x0`` of the wrong length or not finite; the objective has data.
        TypeError: an objective or optimizer of the wrong kind.
        GradientMismatchError: ``check`` found the compiled gradient wrong.

    Example:
        >>> import numpy as np
        >>> from symgrad.optim import GradientDescent
        >>> quadratic = lambda x: (float(x @ x), 2 * x)
        >>> r = minimize(quadratic, [3.0, -4.0], optimizer=GradientDescent(0.5), steps=50, tol=1e-12)
        >>> r.converged, r.steps, r.x
        (True, 1, array([0., 0.]))
    """
    opt = default_optimizer(optimizer)
    steps = check_count(steps, "steps")
    tol = check_tol(tol)
    oracle, symbols, obj = no_data_oracle(objective)
    x = check_x0(x0, len(symbols) if symbols is not None else None, symbols, "minimize")
    kwargs = {"oracle": oracle} if opt.needs_oracle else {}
    state = opt.init(x)
    loss, g = oracle.value_and_grad(x)
    loss = float(loss)
    if not math.isfinite(loss):
        raise InputError(f"minimize: the loss at x0 is {loss}; start from a point where it is finite")
    if check and hasattr(obj, "guard"):
        obj.guard(x, obj.prepare(), caller="minimize")
    history, taken = [loss], 0
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected from the loss
        for step in range(1, steps + 1):
            stop = gradient_test(g, tol)
            if stop:
                break
            u, state = opt.update(g, state, x, **kwargs)
            stop = optimizer_test(state, g, tol)
            if stop:
                break
            x_new, taken = x + u, step
            stop, new_loss, new_g = _step(oracle, x_new, f"step {step}", symbols)
            if stop:
                break
            history.append(new_loss)
            x, loss, g = x_new, new_loss, new_g
            if callback is not None and callback(step, x.copy(), loss):
                stop = Stop(f"stopped by the callback after step {step}")
                break
        else:
            stop = final_test(g, tol, f"reached the step limit ({steps} steps)")
    return make_result(x, symbols, loss, history, stop.converged, stop.message, taken)


def _step(oracle, x_new: np.ndarray, where: str, symbols):
    """``(stop, loss, gradient)`` at ``x_new``; a ``Stop`` (``x`` kept) when it is not finite."""
    if not np.all(np.isfinite(x_new)):
        return Stop(not_finite_parameters(x_new, where, symbols)), None, None
    loss, g = oracle.value_and_grad(x_new)
    loss = float(loss)
    if not math.isfinite(loss):
        return Stop(not_finite_loss(loss, where)), None, None
    return None, loss, g


def _progress_bar(progress: bool, total: int, initial: int):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        raise ImportError(
            "fit(progress=True) shows a progress bar with tqdm, which is not installed; "
            "install it with `pip install tqdm` (or symgrad[progress]), or pass progress=False"
        ) from exc
    return tqdm(total=total, initial=initial, desc="fit", unit="epoch", disable=None)


def fit(objective, columns, *, x0=None, optimizer=None, epochs: int = 100, batch_size=None,
        shuffle: bool = True, seed=None, callback=None, progress: bool = False, checkpoint=None,
        tol=None, check: bool = True, compiled: bool = True) -> Result:
    """Fit the parameters of an objective to data: minimize ``L(x) = mean_j expr(x, data_j)``.

    Each epoch visits every sample once, in mini-batches ``B`` of ``batch_size``
    samples (reshuffled each epoch when ``shuffle``; the last batch may be
    smaller), with one update ``x <- x + u(grad L_B(x))`` per batch, where
    ``L_B`` is the mean over the batch. ``batch_size=None`` is full-batch
    gradient descent, ``1`` stochastic gradient descent.

    With mini-batches, an ``sg.Objective`` and a first-order optimizer of ``sg.optim``
    (schedules, clipping and weight decay included), each epoch (gathering the
    batches, the fused gradient, the updates) runs as one compiled call, with results
    bit-identical to the Python loop's. A run diverges when a loss (of a mini-batch,
    or of the full data after an epoch) or a parameter becomes NaN or infinite: it
    stops with ``x`` at the last parameters whose loss was finite. A finite loss that
    rises, however far (one outlying sample in a batch of 1), does not stop the run.

    Args:
        objective: an ``sg.Objective`` with data symbols.
        columns: one 1-D array per data symbol, in ``objective.data`` order.
        x0: starting point (default: ``0.1 * standard normal`` from ``seed``; never modified).
        optimizer: one of ``sg.optim`` (default ``Adam(lr=0.01)``).
        epochs: passes over the data.
        batch_size: samples per update (``None``: all).
        shuffle: reshuffle the samples each epoch.
        seed: seeds the default ``x0`` and the shuffling; the same seed gives the same result.
        callback: called after each epoch with ``(epoch, x, loss)``; ``True`` stops the run.
        progress: show a tqdm progress bar (when writing to a terminal).
        checkpoint: a file path; the state is saved there atomically after each
            epoch, and a later call with the same path resumes from it.
        tol: stop when the full-data gradient's largest absolute entry is <= tol.
        check: before the first update, compare the compiled gradient at the
            starting point with the autograd engine's on a few samples (a guard
            against code-generation bugs; see ``docs/numerics.md``).
        compiled: run mini-batch epochs as one compiled call when the objective and
            the optimizer allow it (``False``: always the Python loop).

    Returns:
        Result: ``history`` holds the full-data loss at the start and after each epoch.

    Raises:
        InputError: bad columns (see ``sg.Objective``), bad ``x0``, a
            checkpoint from another run.
        ValueError: ``epochs`` or ``batch_size`` not positive integers.
        GradientMismatchError: ``check`` found the compiled gradient wrong.

    Example:
        >>> import numpy as np, sympy as sp
        >>> import symgrad as sg
        >>> a, x, y = sp.symbols("a x y")
        >>> obj = sg.Objective((a * x - y) ** 2, [a], [x, y])
        >>> r = fit(obj, [np.array([1.0, 2.0]), np.array([2.0, 4.0])], x0=[0.0],
        ...         optimizer=sg.optim.GradientDescent(0.2), epochs=60)
        >>> round(r.params[a], 6)
        2.0
    """
    run = Training(objective, columns, x0=x0, opt=default_optimizer(optimizer), epochs=epochs,
                   batch_size=batch_size, shuffle=shuffle, seed=seed, checkpoint=checkpoint, tol=tol,
                   check=check, compiled=compiled)
    bar = _progress_bar(progress, run.epochs, run.start_epoch)
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected from the loss
            for epoch in range(run.start_epoch + 1, run.epochs + 1):
                stop = run.epoch(epoch)
                if stop:
                    break
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{run.loss:.4g}")
                if callback is not None and callback(epoch, run.x.copy(), run.loss):
                    stop = Stop(f"stopped by the callback after epoch {epoch}")
                    break
            else:
                stop = run.at_the_limit()
            run.settle(stop)
    finally:
        if bar is not None:
            bar.close()
    return make_result(run.x, run.symbols, run.loss, run.history, stop.converged, stop.message, run.steps)
