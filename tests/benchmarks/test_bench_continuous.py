"""Smoke tests of the continuous-curation benchmarks at tiny sizes: well-formed rows, finite
ratios, the suite entry, and the baselines computing the statistics they claim. Never asserts speed."""

import math

import numpy as np
import pytest

from selfconsume import theory as th
from selfconsume.benchmarks import _continuous as bc
from selfconsume.benchmarks import _run
from selfconsume.benchmarks._timing import ROW_KEYS
from selfconsume.simulators import curate_density


def _check(rows, *, n=None):
    assert rows
    if n is not None:
        assert len(rows) == n
    for r in rows:
        assert tuple(r) == ROW_KEYS and r["workload"] and r["metric"]
        assert r["met"] is None or isinstance(r["met"], bool)
        if r["target"] != "—":
            assert isinstance(r["met"], bool) and math.isfinite(r["ratio"]) and r["ratio"] > 0
        if math.isfinite(r["ours"]) and math.isfinite(r["reference"]) and r["metric"].startswith("seconds"):
            assert r["ours"] > 0 and r["reference"] > 0 and math.isfinite(r["ratio"])
    return rows


def test_checkpoints():
    assert bc.checkpoints(1000).tolist() == [0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700,
                                             1000]
    assert bc.checkpoints(4).tolist() == [0, 1, 2, 3, 4]


def test_exact_vs_grid_rows_small():
    rows = _check(bc.bench_exact_vs_grid(True, workers=2, generations=4, ks=(2, 16), tol=5e-2, ladder=(30, 40),
                                         repeats=1, quick_cells=30, tols=(5e-2, 1e-9)), n=4)
    assert "≤ 1 s" in rows[0]["target"] and all(r["target"] == "≥ 100×" for r in rows[1:])
    assert "accuracy" in rows[0]["notes"]
    # the sweep: a tolerance the ladder reaches is measured, one past it is extrapolated and says so
    assert rows[1]["notes"].startswith("measured") and rows[2]["notes"].startswith("EXTRAPOLATED")


def test_exact_vs_grid_full_mode_verifies_the_candidate():
    rows = _check(bc.bench_exact_vs_grid(False, workers=1, generations=3, ks=(4,), tol=5e-2, ladder=(30, 40),
                                         offsets=(0.0,), repeats=1, tols=(5e-2,)), n=3)
    assert "the timed run is the last of these" in rows[2]["notes"]


def test_grid_statistics_equal_curate_density():
    # The segmented cell chain is curate_density's chain (same discretisation, same kernel).
    n, T, K = 40, 7, 16
    ts = bc.checkpoints(T)
    got = bc.grid_statistics(n, (K,), ts)[K]
    x = np.linspace(-bc.HALF_WIDTH, bc.HALF_WIDTH, n)
    ref = curate_density(bc.RING, bc.REWARD, K, T, grid=(x, x))
    assert np.allclose(got["E"], ref.mean_exp_reward()[ts], rtol=1e-10, atol=0)
    assert np.allclose(got["P"], ref.prob_top()[ts], rtol=1e-10, atol=0)


def test_exact_statistics_start_at_the_atom():
    law = th.reward_law(bc.RING, bc.REWARD)
    st = bc.exact_statistics((2,), 3)[2]
    assert st["P"][0] == pytest.approx(law.atom, rel=1e-12)
    assert st["E"][0] == pytest.approx(law.expect(np.exp), rel=1e-12)
    assert np.all(np.diff(st["P"]) > 0)  # curation concentrates on the top set


def test_tournament_draws_p_t():
    # P_2(r = r*) from Luce tournaments (K = 3, 9 draws of p_0 per sample) vs the exact chain.
    rng = np.random.default_rng(3)
    s = 20000
    x = bc.tournament_samples(s, 3, 2, rng)
    assert x.shape == (s, 2)
    est = float(np.mean(bc.REWARD(x) >= 0))
    p = float(th.curate_reward_law(th.reward_law(bc.RING, bc.REWARD), 3, 2).prob_top()[-1])
    assert abs(est - p) < 5 * math.sqrt(p * (1 - p) / s)


def test_monte_carlo_rows_small():
    rows = _check(bc.bench_monte_carlo(True, generations=5, ks=(2, 16), t_small=3, mc_samples=50,
                                       per_draw_draws=2**10, repeats=1), n=2)
    assert "EXTRAPOLATED" in rows[1]["notes"] and "scaled to" in rows[0]["notes"]


def test_learned_rows_small():
    pytest.importorskip("sklearn")
    rows = _check(bc.bench_learned(True, workers=2, n=300, generations=2, reps=2, n_eval=50, profile_generations=1),
                  n=3)
    assert "SCALED DOWN" in rows[0]["notes"] and "EM iterations per fit" in rows[0]["notes"]
    assert rows[1]["metric"].startswith("two-sample z")


def test_sklearn_loops_shapes_and_iterations():
    pytest.importorskip("sklearn")
    real = bc.RING.rvs(400, random_state=np.random.default_rng(0))
    iters, w0 = [], []
    out = bc.sklearn_mixture_loop(real, 2, n=200, reps=2, n_eval=30, iters=iters, weights0=w0)
    assert out.shape == (2, 3, 30, 2) and len(iters) == 6 and len(w0) == 2
    assert not np.array_equal(out[0, 1], out[0, 2])  # the sampler's stream advances
    kde = bc.sklearn_kde_loop(real, 2, n=200, reps=2, bandwidth=0.1, n_eval=30)
    assert kde.shape == (2, 3, 30, 2)


def test_tables_row_skips_without_the_tables(monkeypatch):
    from selfconsume.analysis import tables

    monkeypatch.delattr(tables, "continuous_grid_table", raising=False)
    (row,) = _check(bc.bench_tables(True))
    assert row["met"] is None and math.isnan(row["ours"]) and row["notes"].startswith("skipped")


def test_tables_row_with_stub_tables(monkeypatch):
    from selfconsume.analysis import tables

    for name in ("continuous_grid_table", "curation_2d_table", "curation_heatmaps_table"):
        monkeypatch.setattr(tables, name, lambda quick=True: None, raising=False)
    (row,) = _check(bc.bench_tables(True, limit=60.0))
    assert row["met"] is True and row["reference"] == 60.0


def test_suite_entry():
    names = [e[0] for e in _run._entries(True, 2)]
    assert names.count("continuous") == 1 and names[-2:] == ["curation", "torch"]
    (entry,) = [e for e in _run._entries(False, 1) if e[0] == "continuous"]
    assert entry[2] == {"quick": False, "workers": 1} and entry[1] is bc.run and entry[3] > 0
    assert _run._load_continuous() is bc
