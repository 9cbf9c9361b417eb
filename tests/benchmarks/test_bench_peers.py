"""Smoke tests of the cold/second-process/warm benchmarks against the peers' loops (benchmarks/_peers.py).

Tiny workloads, a few cells, only the shape of the rows: never a speed assertion. The cold
rows compile the kernels they use into an empty Numba cache, so the cells are chosen to need
few kernels (the 1-D exact Gaussian chain, the Poisson chain).
"""

import inspect
import math

import numpy as np

from selfconsume.benchmarks import _peers, _run
from selfconsume.benchmarks._timing import ROW_KEYS

KINDS = ("cold (first process, empty numba cache)", "second process (numba cache warm)",
         "warm (same process, repeated)")


def check_rows(rows, n):
    assert isinstance(rows, list) and len(rows) == n
    for r in rows:
        assert tuple(r) == ROW_KEYS
        assert r["target"] == "—" and r["met"] is None  # diagnostics: no target
        for k in ("ours", "reference", "ratio"):
            assert isinstance(r[k], float) and math.isfinite(r[k]) and r[k] > 0
        assert math.isclose(r["ratio"], r["reference"] / r["ours"]) or "import" in r["workload"]
        assert r["notes"]
    return rows


def test_collapse_or_thrive_rows():
    rows = check_rows(_peers.bench_collapse_or_thrive(cells=[("Replace", 1, 10)], seeds=3, iterations=4, workers=1,
                                                      toolkit_repeats=1, peer_repeats=1), 3)
    assert [r["workload"].rsplit(": ", 1)[1] for r in rows] == list(KINDS)
    assert "numba compiled" in rows[0]["notes"] and "Replace d=1 n=10" in rows[2]["notes"]
    assert "max |z|" in rows[2]["notes"]


def test_rate_of_collapse_rows_scale_the_peer():
    rows = check_rows(_peers.bench_rate_of_collapse(bernoulli=None, poisson=(1.0, 5, 6, 20), zipf=None,
                                                    peer_fraction=0.5, workers=2, toolkit_repeats=1,
                                                    peer_repeats=0), 3)
    assert "poisson 1/2 of the trajectories" in rows[0]["notes"]
    assert "P(Λ_T ≠ 0)" in rows[2]["notes"] and "poisson:" in rows[2]["notes"]


def test_import_profile_row():
    (row,) = check_rows(_peers.import_profile(), 1)
    assert row["ours"] > row["reference"] and "numba" in row["notes"]


def test_peer_loops_follow_the_protocols():
    # Kazdan et al.: Replace fits the last n points, Accumulate the whole pool (fit 1 = the real sample)
    rep = _peers.kazdan_run("Replace", 2, 5, 3, seed=1)
    acc = _peers.kazdan_run("Accumulate", 2, 5, 3, seed=1)
    sub = _peers.kazdan_run("Accumulate-Subsample", 2, 5, 3, seed=1)
    assert rep.shape == acc.shape == sub.shape == (3, 3)
    assert np.allclose(rep[0], acc[0]) and np.isclose(sub[0, 0], acc[0, 0])  # same first fit, permuted
    # Suresh et al.: absorbing zeros, n·λ integer
    b = _peers.suresh_bernoulli(0.2, 10, 30, 40, seed=2)
    p = _peers.suresh_poisson(1.0, 10, 30, 40, seed=3)
    assert b[:, 0].tolist() == [0.2] * 40 and np.allclose(p * 10, np.round(p * 10))
    for x in (b, p):
        dead = x == 0
        assert (dead[:, :-1] <= dead[:, 1:]).all()
    z = _peers.suresh_zipf(_peers.zipf_corpus(50, 40, 1.0, 2.7, seed=4), 5, 6, seed=5)
    assert (z[:, 0] == 1).all() and (np.diff(z, axis=1) <= 0).all()


def test_suite_is_registered_with_bindable_kwargs():
    for quick in (True, False):
        (entry,) = _peers.suite(quick)
        name, fn, kwargs, est = entry
        assert est > 0
        inspect.signature(fn).bind(**kwargs, workers=1)
        assert [e for e in _run._entries(quick, 1) if e[0] == name]
