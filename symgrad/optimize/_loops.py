"""The convenience loops ``minimize`` (no data) and ``fit`` (mean loss over data)."""

from __future__ import annotations

import functools
import math
import os

import warnings

import numpy as np

from symgrad._chunked import fit_columns
from symgrad.errors import InputError, OptionError, OptionTypeError
from symgrad.optimize._base import Oracle
from symgrad.optimize._checkpoint import data_digest, load_checkpoint, save_checkpoint
from symgrad.optimize._divergence import Watch, not_finite_loss, not_finite_parameters
from symgrad.optimize._plan import NotCompiled
from symgrad.optimize._problem import (
    as_objective,
    check_count,
    check_tol,
    check_x0,
    default_optimizer,
    no_data_oracle,
)
from symgrad.optimize._result import Result, make_result

__all__ = ["fit", "minimize"]


def _optimizer_stop(state, g: np.ndarray, tol: float | None) -> tuple[bool, str]:
    """Whether a block that tests convergence itself (``state.done``, as Newton and LBFGS
    do) ends the run, and why: ``(converged, message)``, or ``(False, "")`` to go on.

    A block that stalled always ends the run, not converged; one whose own test holds
    ends it, converged, unless a ``tol`` that does not hold yet asks for more steps.
    """
    if not getattr(state, "done", False):
        return False, ""
    if getattr(state, "stalled", False) and not state.converged:
        return False, state.message
    if tol is None or _converged(g, tol)[0]:
        return bool(state.converged), state.message
    return False, ""


def _converged(g: np.ndarray, tol: float | None) -> tuple[bool, str]:
    worst = float(np.max(np.abs(g))) if g.size else 0.0
    if tol is not None and worst <= tol:
        return True, f"converged: the gradient's largest entry {worst:.3g} <= tol {tol:.3g}"
    if worst == 0.0:
        return True, "converged: the gradient is exactly zero"
    return False, ""


def minimize(objective, x0, *, optimizer=None, steps: int = 1000, tol=None, callback=None,
             check: bool = True) -> Result:
    """Minimize a function of parameters only, ``f(x)``, with a first- or second-order optimizer.

    With ``x_0 = x0`` and the optimizer's update ``u_k``: ``x_{k+1} = x_k + u_k``
    for at most ``steps`` updates; the run stops early when
    ``max_i |df/dx_i(x_k)| <= tol``, when ``callback(k, x_k, f(x_k))`` returns
    ``True``, or when ``f`` becomes NaN or infinite (diverged). Newton and LBFGS also
    end the run when their own convergence tests hold (``.converged`` True, the
    message names the test) or when their line search stalls (``.converged`` False);
    a ``tol`` that does not hold yet keeps them going.

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
    vg = oracle.value_and_grad
    update = opt.update
    kwargs = {"oracle": oracle} if opt.needs_oracle else {}
    state = opt.init(x)

    loss, g = vg(x)
    loss = float(loss)
    if not math.isfinite(loss):
        raise InputError(f"minimize: the loss at x0 is {loss}; start from a point where it is finite")
    if check and hasattr(obj, "guard"):
        obj.guard(x, obj.prepare(), caller="minimize")
    history = [loss]
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected from the loss
        x, loss, history, converged, message, taken = _minimize_steps(
            vg, update, kwargs, state, x, loss, g, history, steps, tol, callback, symbols
        )
    return make_result(x, symbols, loss, history, converged, message, taken)


def _minimize_steps(vg, update, kwargs, state, x, loss, g, history, steps, tol, callback, symbols):
    message, converged, taken = f"reached the step limit ({steps} steps)", False, 0
    watch = Watch(x, loss, "the start")
    for step in range(1, steps + 1):
        converged, why = _converged(g, tol)
        if converged:
            message = why
            break
        u, state = update(g, state, x, **kwargs)
        own, stop = _optimizer_stop(state, g, tol)
        if stop:
            converged, why = _converged(g, tol)
            converged, message = (converged, why) if converged else (own, stop)
            break
        x_new = x + u
        taken = step
        if not np.all(np.isfinite(x_new)):
            message = not_finite_parameters(x_new, f"step {step}", symbols)
            break
        new_loss, new_g = vg(x_new)
        new_loss = float(new_loss)
        if not math.isfinite(new_loss):
            message = not_finite_loss(new_loss, f"step {step}")
            break
        history.append(new_loss)
        growth = watch.diverging(x_new, new_loss, f"step {step}")
        if growth:
            message, x = growth, watch.x
            loss = watch.best
            break
        x, loss, g = x_new, new_loss, new_g
        if callback is not None and callback(step, x.copy(), loss):
            message = f"stopped by the callback after step {step}"
            break
    else:
        converged, why = _converged(g, tol)
        message = why or message
    return x, loss, history, converged, message, taken


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


#: ``CompiledEpoch.run`` stopped because an update made a parameter infinite or NaN.
_NOT_FINITE = 2


def _compiled_epoch(obj, opt, data, batch_size):
    """The objective's compiled epoch for ``opt``, or ``None`` to run the epochs in Python.

    Full-batch runs keep the Python loop (one update per epoch, on the gradient the
    end-of-epoch evaluation already computed), and so do objectives that are not an
    ``sg.Objective`` over in-memory data. An optimizer with a block that has no compiled
    form (a custom block) falls back to the Python loop with one warning naming it.
    """
    make = getattr(obj, "_compiled_epoch", None)
    if batch_size is None or make is None or getattr(data, "chunked", False):  # chunks: ChunkedData.batches
        return None
    try:
        return make(opt, data, batch_size)
    except NotCompiled as exc:
        warnings.warn(f"fit runs its epochs in the Python loop: {exc}; the results are the same, "
                      f"only slower", UserWarning, stacklevel=3)
        return None


def _fingerprint(obj, n_samples: int, batch_size, shuffle: bool, opt) -> str:
    params = ",".join(str(s) for s in obj.params)
    data = ",".join(str(s) for s in obj.data)
    return (f"params=({params}) data=({data}) samples={n_samples} batch_size={batch_size} "
            f"shuffle={shuffle} optimizer={opt!r}")


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
    bit-identical to the Python loop's. A run diverges when a loss, of the full data
    after an epoch or of a mini-batch, grows past ``L_best + 1e4 * max(|L_0|, |L_best|)``
    (``L_0`` the starting loss, ``L_best`` the lowest full-data loss): it stops at the
    parameters of ``L_best``, with advice.

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
    obj = as_objective(objective, "fit")
    if not len(obj.data):
        raise InputError("fit needs an objective with data symbols; for one without data use sg.minimize")
    opt = default_optimizer(optimizer)
    epochs = check_count(epochs, "epochs")
    tol = check_tol(tol)
    columns = fit_columns(obj, columns)  # a Dask DataFrame: its columns by name (api.md section 10)
    if not isinstance(columns, (list, tuple)):
        raise OptionTypeError(f"columns must be a list or tuple with one array per data symbol "
                              f"({', '.join(map(str, obj.data))}), got {type(columns).__name__}")
    data = obj.prepare(*columns)
    n_samples = int(np.shape(columns[0])[0])
    if batch_size is not None:
        batch_size = min(check_count(batch_size, "batch_size", minimum=1), n_samples)
        if batch_size == n_samples:
            batch_size = None
    if opt.needs_oracle and batch_size is not None:
        raise OptionError(f"{opt!r} evaluates the objective itself and works on the full data only; "
                          f"pass batch_size=None")
    symbols = tuple(obj.params)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(len(symbols)) * 0.1 if x0 is None else check_x0(x0, len(symbols), symbols, "fit")
    state = opt.init(x)
    bvg, bv = obj.batch_value_and_grad, obj.batch_value
    fingerprint = None
    if checkpoint is not None:  # the data's digest too: a run is never resumed on other values
        fingerprint = (_fingerprint(obj, n_samples, batch_size, bool(shuffle), opt)
                       + f" data_sha256={data_digest(columns)}")

    start_epoch, steps = 0, 0
    if checkpoint is not None and os.path.exists(checkpoint):
        saved = load_checkpoint(checkpoint, state_template=state, fingerprint=fingerprint)
        x, state, start_epoch, steps = saved.x, saved.state, saved.epoch, saved.steps
        rng.bit_generator.state = saved.rng_state
        history = list(saved.history)
    # the full-data gradient is needed each epoch only for tol or full-batch steps
    full_grad = tol is not None or batch_size is None
    loss, g = bvg(x, data) if full_grad else (bv(x, data), None)
    loss = float(loss)
    if not math.isfinite(loss):
        raise InputError(f"fit: the loss at the starting point is {loss}; start from other parameters")
    if check and start_epoch == 0 and hasattr(obj, "guard"):
        obj.guard(x, data, columns, caller="fit")
    if start_epoch == 0:
        history = [loss]

    oracle = None
    if opt.needs_oracle:
        oracle = Oracle(lambda z: bv(z, data), lambda z: bvg(z, data), lambda z: obj.hessian(z, *columns))
    update = opt.update if oracle is None else functools.partial(opt.update, oracle=oracle)
    order = None if getattr(data, "chunked", False) else np.arange(n_samples, dtype=np.int64)  # chunks: no N-long array
    good = x
    watch = Watch(x, loss, "the start" if start_epoch == 0 else f"epoch {start_epoch}")
    runner = _compiled_epoch(obj, opt, data, batch_size) if compiled else None
    bar = _progress_bar(progress, epochs, start_epoch)
    message, converged = f"reached the epoch limit ({epochs} epochs)", False
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected from the loss
            for epoch in range(start_epoch + 1, epochs + 1):
                converged, why = _converged(g, tol) if g is not None else (False, "")
                if converged:
                    message = why
                    break
                diverged, stop, grown, first = False, "", "", 0
                if batch_size is None:
                    batches = (None,)
                elif getattr(data, "chunked", False):  # memory maps, Dask: chunk by chunk (symgrad._chunked)
                    batches = data.batches(rng, batch_size, shuffle)
                else:
                    if shuffle:
                        order = rng.permutation(n_samples)
                    if runner is not None:  # the whole epoch, or up to a batch left to the loop below
                        x, state, first, status, bad = runner.run(x, state, order, watch.limit())
                        steps += first
                        if status == _NOT_FINITE:
                            steps += 1
                            message = not_finite_parameters(bad, f"update {steps} (epoch {epoch})", symbols)
                            diverged = True
                            good = x
                    starts = range(first * batch_size, n_samples if not diverged else 0, batch_size)
                    batches = [order[i:i + batch_size] for i in starts]
                for idx in batches:
                    if idx is None:  # full batch: the loss and gradient at x are already known
                        batch_loss, batch_g = loss, g
                    else:
                        batch_loss, batch_g = bvg(x, data, idx)
                    if not math.isfinite(batch_loss):
                        message, diverged = not_finite_loss(batch_loss, f"update {steps + 1} (epoch {epoch})"), True
                        break
                    if idx is not None and batch_loss > watch.limit():
                        grown = watch.message(batch_loss, f"update {steps + 1} (epoch {epoch})", "a mini-batch loss")
                        break
                    good = x
                    u, state = update(batch_g, state, x)
                    own, stop = _optimizer_stop(state, batch_g, tol)
                    if stop:
                        break
                    x = x + u  # a new array: `good` keeps the parameters whose loss was finite
                    steps += 1
                    if not np.all(np.isfinite(x)):
                        message, diverged = not_finite_parameters(x, f"update {steps} (epoch {epoch})", symbols), True
                        break
                if grown:
                    message, x, loss, converged = grown, watch.x, watch.best, False
                    break
                if stop:  # the optimizer's own test holds at x, or it stalled (full batch: g is known)
                    converged, why = _converged(g, tol)
                    converged, message = (converged, why) if converged else (own, stop)
                    break
                if not diverged:
                    loss, g = bvg(x, data) if full_grad else (bv(x, data), None)
                    loss = float(loss)
                    if not math.isfinite(loss):
                        message, diverged = not_finite_loss(loss, f"the end of epoch {epoch}"), True
                if diverged:
                    x = good
                    loss = float(bv(x, data))
                    converged = False
                    break
                growth = watch.diverging(x, loss, f"epoch {epoch}")
                if growth:
                    history.append(loss)
                    message, x, loss, converged = growth, watch.x, watch.best, False
                    break
                good = x
                history.append(loss)
                if checkpoint is not None:
                    save_checkpoint(checkpoint, x=x, state=state, rng=rng, epoch=epoch, steps=steps,
                                    history=history, fingerprint=fingerprint)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.4g}")
                if callback is not None and callback(epoch, x.copy(), loss):
                    message = f"stopped by the callback after epoch {epoch}"
                    break
            else:
                converged, why = _converged(bvg(x, data)[1] if g is None else g, tol)
                message = why or message
    finally:
        if bar is not None:
            bar.close()
    return make_result(x, symbols, loss, history, converged, message, steps)
