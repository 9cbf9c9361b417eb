"""Smoke tests of the curation benchmarks at tiny sizes: well-formed rows, and the NumPy
baselines drawing the same law as the simulator. Never asserts speed."""

import math

import numpy as np

from selfconsume.analysis import mean_se, z_bonferroni
from selfconsume.benchmarks import _curation as bc
from selfconsume.benchmarks._timing import ROW_KEYS
from selfconsume.simulators import simulate_curation


def _check(rows):
    assert rows
    for r in rows:
        assert tuple(r) == ROW_KEYS and r["workload"] and r["metric"]
        assert r["met"] is None or isinstance(r["met"], bool)
        assert r["target"] == "—" or math.isfinite(r["ratio"])


def test_benchmark_functions_run_small():
    _check(bc.bench_population(True, workers=1, generations=5, m=300))
    _check(bc.bench_finite(True, workers=1, m=20, n=200, K=4, generations=5))
    _check(bc.bench_wright_fisher(True, workers=1, m=3, n=30, paths=10))


def test_accuracy_rows_meet_their_target():
    rows = bc.bench_accuracy(True)
    _check(rows)
    assert all(r["met"] for r in rows if r["met"] is not None)


def test_numpy_literal_baseline_has_the_simulator_law():
    p0 = np.array([0.3, 0.2, 0.15, 0.2, 0.1, 0.05])
    r = np.array([0.0, 0.3, 0.3, 0.8, 1.0, 1.0])
    rng = np.random.default_rng(0)
    base = np.array([bc.numpy_literal_curation(p0, r, 4, 50, 2, rng) for _ in range(600)])
    ours = simulate_curation(p0, r, 4, 2, n=50, reps=4000, rng=1).p[:, -1]
    (ma, sa), (mb, sb) = mean_se(base), mean_se(ours)
    assert np.all(np.abs(ma - mb) <= z_bonferroni(6) * np.hypot(sa, sb))


def test_numpy_wright_fisher_fixes_on_one_category():
    rng = np.random.default_rng(1)
    winner, t = bc.numpy_wright_fisher(np.array([0.5, 0.5]), 20, rng)
    assert winner in (0, 1) and t >= 1
