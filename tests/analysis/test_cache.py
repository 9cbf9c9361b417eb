"""The on-disk table cache: round trip, keys, integrity checks on read, atomic concurrent publish."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from selfconsume.analysis import _cache
from selfconsume.analysis._cache import CacheWarning, cached_table

N_ROWS = 1204


def make_table(seed: int = 0, n: int = N_ROWS) -> pd.DataFrame:
    """A deterministic table whose floats (multiples of 1/1024) survive CSV exactly."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"i": np.arange(n), "x": rng.integers(-4096, 4096, n) / 1024.0,
                         "label": [f"r{seed}-{k}" for k in range(n)]})


class Counter:
    """``make_table`` that counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, **params):
        self.calls += 1
        return make_table(**params)


def entry(d: Path) -> Path:
    (p,) = [q for q in d.glob("*.csv")]
    return p


def rewrite(path: Path, payload: bytes, **header_changes) -> None:
    """Replace the entry's payload, with a header consistent with it except ``header_changes``."""
    data = path.read_bytes()
    nl = data.index(b"\n")
    version, _, text = data[len(b"#selfconsume-cache "):nl].partition(b" ")
    header = json.loads(text)
    header.update(sha256=hashlib.sha256(payload).hexdigest(), bytes=len(payload))
    header.update(header_changes)
    path.write_bytes(b"#selfconsume-cache " + version + b" " + json.dumps(header).encode() + b"\n" + payload)


def test_round_trip_and_hit(tmp_path):
    fn = Counter()
    first = cached_table("t", fn, {"seed": 1}, directory=tmp_path)
    pd.testing.assert_frame_equal(first, make_table(1))
    second = cached_table("t", fn, {"seed": 1}, directory=tmp_path)
    pd.testing.assert_frame_equal(second, make_table(1))
    assert fn.calls == 1
    assert entry(tmp_path).name.startswith("t-")
    assert not list(tmp_path.glob(".*.tmp"))


def test_params_and_name_change_the_key(tmp_path):
    fn = Counter()
    a = cached_table("t", fn, {"seed": 1}, directory=tmp_path)
    b = cached_table("t", fn, {"seed": 2}, directory=tmp_path)
    c = cached_table("u", fn, {"seed": 1}, directory=tmp_path)
    assert fn.calls == 3 and len(list(tmp_path.glob("*.csv"))) == 3
    assert not a.equals(b)
    pd.testing.assert_frame_equal(a, c)
    # a params key called "name" does not overwrite the table's name in the key
    cached_table("a", lambda **kw: make_table(), {"name": "b"}, directory=tmp_path)
    cached_table("b", lambda **kw: make_table(), {}, directory=tmp_path)
    assert len(list(tmp_path.glob("*.csv"))) == 5


def test_refresh_recomputes(tmp_path):
    fn = Counter()
    cached_table("t", fn, {"seed": 1}, directory=tmp_path)
    entry(tmp_path).write_bytes(b"")  # a refresh does not even read the entry
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = cached_table("t", fn, {"seed": 1}, directory=tmp_path, refresh=True)
        assert fn.calls == 2
        pd.testing.assert_frame_equal(df, make_table(1))
        pd.testing.assert_frame_equal(cached_table("t", fn, {"seed": 1}, directory=tmp_path), make_table(1))
    assert fn.calls == 2


def _truncate(p):
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _drop_rows(p):  # consistent checksum and length, wrong row count
    payload = make_table(1).to_csv(index=False).encode()
    rewrite(p, payload.rsplit(b"\n", 500)[0] + b"\n")


def _wrong_columns(p):
    rewrite(p, make_table(1).rename(columns={"x": "y"}).to_csv(index=False).encode())


def _flip_byte(p):
    data = bytearray(p.read_bytes())
    data[-10] ^= 0x01
    p.write_bytes(bytes(data))


@pytest.mark.parametrize("corrupt, reason", [
    (_truncate, "truncated"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_bytes(os.urandom(3000)), "no cache header"),
    (lambda p: p.write_bytes(make_table(1).to_csv(index=False).encode()), "no cache header"),  # old format
    (lambda p: p.write_bytes(b"#selfconsume-cache 1 {not json\nx\n"), "malformed header"),
    (lambda p: p.write_bytes(b"#selfconsume-cache 1 {}"), "not terminated"),
    (_flip_byte, "SHA-256"),
    (_drop_rows, "rows, header says 1204"),
    (_wrong_columns, "columns"),
], ids=["truncated", "zero-byte", "garbage", "legacy", "bad-header", "header-only", "checksum", "rows", "columns"])
def test_bad_entry_is_warned_about_and_recomputed(tmp_path, corrupt, reason):
    fn = Counter()
    cached_table("t", fn, {"seed": 1}, directory=tmp_path)
    path = entry(tmp_path)
    corrupt(path)
    with pytest.warns(CacheWarning, match=reason) as rec:
        df = cached_table("t", fn, {"seed": 1}, directory=tmp_path)
    assert str(path) in str(rec[0].message)
    assert fn.calls == 2
    pd.testing.assert_frame_equal(df, make_table(1))
    with warnings.catch_warnings():  # the entry was rewritten: a clean hit now
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(cached_table("t", fn, {"seed": 1}, directory=tmp_path), make_table(1))
    assert fn.calls == 2


def test_failed_publish_warns_keeps_table_and_removes_temp(tmp_path, monkeypatch):
    def fail(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_cache.os, "replace", fail)
    with pytest.warns(CacheWarning, match="could not write"):
        df = cached_table("t", Counter(), {"seed": 1}, directory=tmp_path)
    pd.testing.assert_frame_equal(df, make_table(1))
    assert list(tmp_path.iterdir()) == []


def test_stale_temp_files_are_removed(tmp_path):
    fn = Counter()
    cached_table("t", fn, {"seed": 1}, directory=tmp_path)
    name = entry(tmp_path).name
    old, fresh = tmp_path / f".{name}.dead.tmp", tmp_path / f".{name}.live.tmp"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    cached_table("t", fn, {"seed": 1}, directory=tmp_path, refresh=True)
    assert not old.exists() and fresh.exists()


@pytest.mark.parametrize("args, exc, match", [
    ((3, make_table, {}), TypeError, "name must be a str"),
    (("", make_table, {}), ValueError, "name must be a non-empty file name"),
    (("a/b", make_table, {}), ValueError, "name must be"),
    (("..", make_table, {}), ValueError, "name must be"),
    (("t", "make_table", {}), TypeError, "fn must be callable"),
    (("t", make_table, [("seed", 1)]), TypeError, "params must be a dict"),
    (("t", make_table, {1: 2}), TypeError, "params keys must be str"),
    (("t", lambda: [1, 2], {}), TypeError, "fn must return a pandas DataFrame"),
    (("t", lambda: pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])), {}),
     ValueError, "CSV round trip"),
])
def test_bad_arguments(tmp_path, args, exc, match):
    with pytest.raises(exc, match=match):
        cached_table(*args, directory=tmp_path)
    assert not list(tmp_path.glob("*.csv"))


# --- concurrency: module-level workers, importable by spawned children -----------------------------

PARAMS = {"seed": 7}
DURATION_S = 2.5


def _must_not_compute(**params):
    raise AssertionError("a reader recomputed: it did not get a verified table")


def _worker(role, directory, barrier, queue):
    n = 0
    errors = []
    expected = make_table(**PARAMS)
    try:
        barrier.wait(timeout=60)
        end = time.monotonic() + DURATION_S
        with warnings.catch_warnings():
            warnings.simplefilter("error", CacheWarning)  # any unusable entry fails the test
            while time.monotonic() < end:
                try:
                    if role == "writer":
                        df = cached_table("race", make_table, PARAMS, directory=directory, refresh=True)
                    else:
                        df = cached_table("race", _must_not_compute, PARAMS, directory=directory)
                    pd.testing.assert_frame_equal(df, expected)
                except Exception as e:  # noqa: BLE001 - every failure is counted and reported
                    errors.append(f"{type(e).__name__}: {e}"[:300])
                n += 1
    except Exception as e:  # noqa: BLE001
        errors.append(f"{type(e).__name__}: {e}"[:300])
    queue.put((role, os.getpid(), n, errors))


def test_concurrent_writers_and_readers(tmp_path):
    cached_table("race", make_table, PARAMS, directory=tmp_path)  # readers never need to compute
    ctx = mp.get_context("spawn")
    roles = ["writer"] * 3 + ["reader"] * 2
    barrier, queue = ctx.Barrier(len(roles)), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(r, str(tmp_path), barrier, queue)) for r in roles]
    for p in procs:
        p.start()
    try:
        results = [queue.get(timeout=120) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    assert all(p.exitcode == 0 for p in procs)
    for role, pid, n, errors in results:
        assert not errors, f"{role} {pid}: {len(errors)} of {n} operations failed, e.g. {errors[:3]}"
        assert n > 0, f"{role} {pid} did nothing"
    assert sum(n for r, _, n, _ in results if r == "writer") >= 3
    assert sum(n for r, _, n, _ in results if r == "reader") >= 10
    assert not list(tmp_path.glob(".*.tmp"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(cached_table("race", _must_not_compute, PARAMS, directory=tmp_path),
                                      make_table(**PARAMS))
