"""Checkpoints: damaged files are refused with advice and left untouched; stale
temporary files are removed; the data's digest tells runs on other data apart."""

import os
import subprocess
import sys

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import InputError
from symgrad.optimize import _checkpoint as ck
from symgrad.optimize._transforms import ScaleByAdamState

STATE = (ScaleByAdamState(count=3, mu=np.array([0.1, -0.2]), nu=np.array([0.01, 0.04])),)


def save(path):
    rng = np.random.default_rng(5)
    ck.save_checkpoint(path, x=np.array([1.5, -2.0]), state=STATE, rng=rng, epoch=4, steps=28,
                       history=np.array([3.0, 2.0, 1.5, 1.2, 1.1]), fingerprint="run A")
    return os.fspath(path)


def load(path):
    return ck.load_checkpoint(path, state_template=STATE, fingerprint="run A")


def same(a, b):
    return (np.array_equal(a.x, b.x) and a.epoch == b.epoch and a.steps == b.steps
            and np.array_equal(a.history, b.history) and a.rng_state == b.rng_state
            and all(np.array_equal(u, v) for u, v in zip(ck._flatten(a.state), ck._flatten(b.state))))


def assert_refused_untouched(path, damaged: bytes):
    with open(path, "wb") as f:
        f.write(damaged)
    with pytest.raises(InputError, match=r"damaged.*(restore it from a copy|delete it)") as info:
        load(path)
    assert repr(path) in str(info.value)
    with open(path, "rb") as f:
        assert f.read() == damaged  # left as it was


def test_a_saved_checkpoint_loads_back(tmp_path):
    path = save(tmp_path / "run.npz")
    saved = load(path)
    np.testing.assert_array_equal(saved.x, [1.5, -2.0])
    assert (saved.epoch, saved.steps) == (4, 28)
    assert saved.state[0].count == 3


@pytest.mark.parametrize("keep", [0.0, 0.5, 0.9, 0.99])
def test_a_truncated_or_empty_checkpoint_is_refused(tmp_path, keep):
    path = save(tmp_path / "run.npz")
    data = open(path, "rb").read()
    assert_refused_untouched(path, data[: int(len(data) * keep)])


def test_any_flipped_bit_is_refused_or_harmless(tmp_path):
    path = save(tmp_path / "run.npz")
    good, data = load(path), open(path, "rb").read()
    refused, offsets = 0, range(0, len(data), 11)  # every 11th byte, each bit position in turn
    for offset in offsets:
        flipped = bytearray(data)
        flipped[offset] ^= 1 << (offset % 8)
        with open(path, "wb") as f:
            f.write(flipped)
        try:
            loaded = load(path)
        except InputError:
            refused += 1
            continue
        assert same(loaded, good), offset  # a bit of unused zip metadata: the content is intact
    assert refused > len(offsets) // 2


def test_zeroed_bytes_are_refused_or_harmless(tmp_path):
    path = save(tmp_path / "run.npz")
    good, data = load(path), open(path, "rb").read()
    for offset in range(0, len(data), 16):
        zeroed = data[:offset] + bytes(64) + data[offset + 64:]
        if zeroed == data:
            continue
        with open(path, "wb") as f:
            f.write(zeroed[: len(data)])
        try:
            loaded = load(path)
        except InputError:
            continue
        assert same(loaded, good), offset


def test_fit_refuses_a_damaged_checkpoint_and_leaves_it(line, tmp_path):
    obj, columns = line
    path = tmp_path / "run.npz"
    sg.fit(obj, columns, epochs=2, batch_size=32, seed=1, checkpoint=path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="damaged"):
        sg.fit(obj, columns, epochs=4, batch_size=32, seed=1, checkpoint=path)
    assert path.read_bytes() == data[: len(data) // 2]


def test_temporary_files_of_a_killed_run_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)  # a process that has exited
    path = tmp_path / "run.npz"
    stale = tmp_path / f"run.npz.tmp-{pid}"
    stale.write_bytes(b"half a checkpoint")
    save(path)
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]


def test_the_data_digest_tells_data_of_the_same_size_apart():
    x = np.linspace(0.0, 1.0, 50)
    y = 2.0 * x
    assert ck.data_digest([x, y]) == ck.data_digest([x.copy(), y.copy()])
    z = y.copy()
    z[17] = np.nextafter(z[17], 2.0)  # one sample changed by one unit in the last place
    assert ck.data_digest([x, y]) != ck.data_digest([x, z])
    assert ck.data_digest([x, y]) != ck.data_digest([y, x])
