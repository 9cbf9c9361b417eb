"""Smoke tests of the sweep benchmarks at tiny sizes: well-formed rows and the suite entry. Never asserts speed."""

import math

from selfconsume.benchmarks import _run
from selfconsume.benchmarks import _sweep as bs
from selfconsume.benchmarks._timing import ROW_KEYS

TINY = {"d": [1, 2], "n": [10], "workflow": ["replace", "accumulate", "accumulate-subsample"], "iterations": [3],
        "estimator": ["mle"]}


def _check(rows, n):
    assert len(rows) == n
    for r in rows:
        assert tuple(r) == ROW_KEYS and r["workload"] and r["metric"]
        assert r["met"] is None or isinstance(r["met"], bool)
        if r["target"] != "—":
            assert isinstance(r["met"], bool)
        if r["metric"] != "skipped":
            assert math.isfinite(r["ours"]) and r["ours"] > 0
            assert math.isfinite(r["reference"]) and r["reference"] > 0 and math.isfinite(r["ratio"])
    return rows


def test_peer_estimate_covers_every_cell():
    est = bs.peer_estimate(TINY, 4, min_seconds=0.0, max_seeds=1)
    assert len(est["per_cell"]) == 6 and est["runs"] == 6
    assert est["total"] > 0 and math.isclose(est["total"], 4 * sum(v[1] for v in est["per_cell"].values()))


def test_end_to_end_rows_tiny():
    rows = _check(bs.bench_end_to_end(grid=TINY, reps=2, repeats=1, peer_min_seconds=0.0, peer_max_seeds=1,
                                      full=False), 3)
    assert "out=None" in rows[0]["workload"] and "Parquet" in rows[1]["workload"]
    assert "6 cells" in rows[0]["workload"] and "extrapolated" in rows[0]["notes"]
    assert rows[2]["metric"].startswith("rows/s")


def test_local_cluster_rows_tiny():
    rows = bs.bench_local_cluster(grid=TINY, reps=2, repeats=1)
    if rows[0]["metric"] == "skipped":
        return
    _check(rows, 2)
    assert rows[0]["target"] == "≤ 1.25×" and "start-up" in rows[1]["workload"]


def test_suite_entry_registered():
    assert [e[0] for e in bs.suite(True)] == ["sweep"]
    names = [e[0] for e in _run._entries(True, 1)]
    assert [n for n in names if "sweep" in n] == ["sweep"]
