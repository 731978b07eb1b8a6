"""Checkpoints of a ``fit`` run: one ``.npz`` file, written atomically.

A checkpoint holds the parameters, the optimizer state (its leaves, in order),
the random generator's state, the epoch, the update count, the loss history and
a fingerprint of the run (sizes, batch size, optimizer, and with
:func:`data_digest` the data), so that a resumed run ends bit-identical to an
uninterrupted one and a checkpoint from another run is refused instead of silently
mixed in.

Damage: the file also holds a SHA-256 digest of its arrays. A file that is
truncated, empty or altered (a flipped bit, zeroed bytes) is refused with an
``InputError`` that names it and says what to do, and is left untouched: the run
neither starts over silently nor overwrites what may be the only copy. Temporary
files ``<path>.tmp-<pid>`` that a killed run left behind are removed.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from dataclasses import dataclass

import numpy as np

from symgrad.errors import InputError

__all__ = ["Checkpoint", "data_digest", "load_checkpoint", "save_checkpoint"]

_FORMAT = "symgrad-fit-checkpoint-1"


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`load_checkpoint` returns: the run's state at the end of ``epoch``."""

    x: np.ndarray
    state: object
    rng_state: dict
    epoch: int
    steps: int
    history: np.ndarray


def _flatten(tree) -> list:
    if isinstance(tree, tuple):
        leaves = []
        for item in tree:
            leaves.extend(_flatten(item))
        return leaves
    return [tree]


def _unflatten(template, leaves: list):
    if isinstance(template, tuple):
        items = [_unflatten(item, leaves) for item in template]
        return type(template)(*items) if hasattr(template, "_fields") else tuple(items)
    saved = leaves.pop(0)
    if isinstance(template, np.ndarray):
        return np.array(saved, dtype=template.dtype, copy=True)
    if isinstance(template, (bool, np.bool_)):
        return bool(saved)
    if isinstance(template, (int, np.integer)):
        return int(saved)
    return float(saved)


def data_digest(columns) -> str:
    """SHA-256 of data columns (their dtypes, shapes and bytes), for a run's fingerprint.

    Two runs on data of the same size but other values get different digests, so a
    checkpoint is not resumed on other data.
    """
    h = hashlib.sha256()
    for column in columns:
        a = np.ascontiguousarray(column)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _digest(arrays: dict) -> str:
    h = hashlib.sha256()
    for key in sorted(arrays):
        if key == "digest":
            continue
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}:{a.dtype.str}{a.shape}:".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _remove_stale_temporaries(path: str) -> None:
    """Delete ``path.tmp-<pid>`` files whose process no longer runs (a killed save)."""
    for tmp in glob.glob(glob.escape(path) + ".tmp-*"):
        pid = tmp.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            try:
                os.remove(tmp)
            except OSError:
                pass
        except OSError:  # a process of another user: it runs
            pass


def save_checkpoint(path, *, x, state, rng, epoch, steps, history, fingerprint: str) -> None:
    """Write the run's state to ``path`` atomically (a temporary file, then ``os.replace``)."""
    path = os.fspath(path)
    arrays = {
        "format": np.array(_FORMAT),
        "fingerprint": np.array(fingerprint),
        "x": np.asarray(x),
        "rng_state": np.array(json.dumps(rng.bit_generator.state)),
        "epoch": np.array(epoch, dtype=np.int64),
        "steps": np.array(steps, dtype=np.int64),
        "history": np.asarray(history, dtype=np.float64),
    }
    for i, leaf in enumerate(_flatten(state)):
        arrays[f"state_{i}"] = np.asarray(leaf)
    arrays["digest"] = np.array(_digest(arrays))
    _remove_stale_temporaries(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_checkpoint(path, *, state_template, fingerprint: str) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` for the same kind of run.

    Raises:
        InputError: the file is not a symgrad checkpoint, or it was written by a
            run with other sizes, batch size or optimizer.
    """
    path = os.fspath(path)
    _remove_stale_temporaries(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            content = {k: f[k] for k in f.files}
    except Exception as exc:  # noqa: BLE001 - zipfile, zlib, EOF, format errors: all damage
        raise _damaged(path, f"{type(exc).__name__}: {exc}") from exc
    if str(content.get("format", "")) != _FORMAT:
        raise InputError(f"{path!r} is not a symgrad fit checkpoint; delete it or pass another path")
    if "digest" not in content or str(content["digest"]) != _digest(content):
        raise _damaged(path, "its content does not match the digest saved with it")
    if str(content["fingerprint"]) != fingerprint:
        raise InputError(
            f"checkpoint {path!r} was written by a different run\n  saved: {content['fingerprint']}\n"
            f"  this:  {fingerprint}\ndelete it or pass another checkpoint path"
        )
    count = len(_flatten(state_template))
    try:
        leaves = [content[f"state_{i}"] for i in range(count)]
    except KeyError as exc:
        raise _damaged(path, f"the optimizer state {exc} is missing") from None
    return Checkpoint(
        x=np.array(content["x"], dtype=np.float64, copy=True),
        state=_unflatten(state_template, leaves),
        rng_state=json.loads(str(content["rng_state"])),
        epoch=int(content["epoch"]),
        steps=int(content["steps"]),
        history=np.array(content["history"], dtype=np.float64, copy=True),
    )


def _damaged(path: str, why: str) -> InputError:
    return InputError(
        f"checkpoint {path!r} is damaged (truncated, empty or altered: {why}). It was left "
        "as it is: restore it from a copy to resume, or delete it (or pass another checkpoint "
        "path) to start the run anew"
    )
