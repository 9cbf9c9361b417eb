"""selfconsume.analysis: the MAD loop's limit distance, effective sample size and admissibility threshold."""

import math

import numpy as np
import pytest

from selfconsume import theory as th
from selfconsume.analysis import (admissibility_threshold, effective_sample_size, fresh_limit_distance,
                                  real_fit_distance)
from selfconsume.analysis import _mad


def _w2_real_fit_bruteforce(n, d, reps, seed):
    """E W₂²(N(x̄, S), N(0, I_d)) by fitting n points literally (np.cov, eigh square root)."""
    g = np.random.default_rng(seed)
    x = g.standard_normal((reps, n, d))
    xm = x.mean(axis=1)
    xc = x - xm[:, None, :]
    S = np.einsum("rai,raj->rij", xc, xc) / (n - 1)
    ev = np.clip(np.linalg.eigvalsh(S), 0.0, None)
    w = (xm**2).sum(axis=1) + ((np.sqrt(ev) - 1.0) ** 2).sum(axis=1)
    return w.mean(), w.std(ddof=1) / math.sqrt(reps)


@pytest.mark.parametrize("n, d", [(5, 3), (2, 3), (30, 4)])
def test_real_fit_distance_equals_the_literal_fit(n, d):
    f, se = real_fit_distance(n, dim=d, reps=40_000, rng=1)
    b, bse = _w2_real_fit_bruteforce(n, d, 40_000, 2)
    assert abs(f - b) < 5 * math.hypot(se, bse)


def test_real_fit_distance_is_exact_in_1d():
    assert real_fit_distance(37) == (float(th.real_fit_w2(37)), 0.0)
    assert real_fit_distance(37, estimator="mle")[0] == float(th.real_fit_w2(37, estimator="mle"))


def test_no_synthetic_data_is_one_real_fit():
    """n_s = 0: every generation is one fit to n real points, so WD = f(n) exactly and n_e = n."""
    r = fresh_limit_distance(20, 0.0, reps=4_000, rng=3)
    assert abs(r.distance - float(th.real_fit_w2(20))) < 5 * r.se
    assert r.mean_part == pytest.approx(1 / 20, rel=1e-12)  # exact: E(μ − μ0)² = 1/n
    e = effective_sample_size(20, 0.0, reps=4_000, rng=3, z=5.0)
    assert e["n_e_lo"] <= 20 <= e["n_e_hi"]
    r3 = fresh_limit_distance(12, 0.0, dim=3, reps=2_000, rng=4)
    assert abs(r3.distance - r3.real_distance) < 5 * math.hypot(r3.se, r3.real_distance_se)


def test_limit_does_not_depend_on_the_initial_sample():
    a = fresh_limit_distance(10, 2.55, 0.8, n_init=10, reps=3_000, rng=5)
    b = fresh_limit_distance(10, 2.55, 0.8, n_init=2_000, reps=3_000, rng=6)
    assert a.m == b.m == 25
    assert abs(a.distance - b.distance) < 5 * math.hypot(a.se, b.se)
    # the exact mean part agrees to the burn-in tolerance (10⁻³ of the limit)
    assert a.mean_part == pytest.approx(b.mean_part, rel=3e-3)


def test_same_seed_same_numbers_any_thread_count():
    a = fresh_limit_distance(30, 1.5, 0.9, dim=2, reps=40, rng=7, workers=1)
    b = fresh_limit_distance(30, 1.5, 0.9, dim=2, reps=40, rng=7, workers=2)
    assert a == b
    t1 = admissibility_threshold(40, 0.8, ns=[4, 40, 400], reps=32, rng=8, workers=1)
    t2 = admissibility_threshold(40, 0.8, ns=[4, 40, 400], reps=32, rng=8, workers=2)
    assert (t1.threshold, t1.lo, t1.hi) == (t2.threshold, t2.lo, t2.hi)


def test_chunked_d_dimensional_runs(monkeypatch):
    """d > 1 runs in chunks when the covariances would not fit; the chunks agree in law with one call."""
    whole = fresh_limit_distance(20, 1.0, 0.9, dim=3, reps=600, rng=9)
    monkeypatch.setattr(_mad, "_CHUNK_VALUES", 2_000)
    chunked = fresh_limit_distance(20, 1.0, 0.9, dim=3, reps=600, rng=9)
    assert chunked.distance != whole.distance  # other streams ...
    assert abs(chunked.distance - whole.distance) < 5 * math.hypot(chunked.se, whole.se)  # ... same law


def test_effective_sample_size_in_d_dimensions_inverts_the_curve():
    e = effective_sample_size(40, 0.0, dim=3, reps=1_000, rng=10, z=5.0)
    assert e["n_e_lo"] <= 40 <= e["n_e_hi"]
    assert e["dim"] == 3


def test_threshold_laws_in_1d():
    ns = [5, 10, 20, 40, 80, 160, 320, 640, 1280]
    strong = admissibility_threshold(100, 0.7, ns=ns, reps=128, rng=11)
    weak = admissibility_threshold(100, 0.85, ns=ns, reps=128, rng=11)
    none = admissibility_threshold(100, 1.0, ns=ns, reps=128, rng=11)
    assert strong.lo <= strong.threshold <= strong.hi < weak.lo <= weak.threshold <= weak.hi < math.inf
    assert none.threshold == math.inf
    assert list(strong.table.columns) == ["n_s", "distance", "se", "real_distance", "excess"]


def test_last_crossing_rule():
    ns = np.array([1.0, 10.0, 100.0, 1000.0])
    assert _mad._last_crossing(ns, np.array([-1.0, -1.0, -1.0, -1.0])) == math.inf
    assert _mad._last_crossing(ns, np.array([1.0, 1.0, 1.0, 1.0])) == 1.0
    # the last sign change, interpolated in log n_s: −1 at 10, +1 at 100 → √1000
    assert _mad._last_crossing(ns, np.array([1.0, -1.0, 1.0, 2.0])) == pytest.approx(10**1.5)


@pytest.mark.parametrize("kwargs, match", [
    (dict(ns=[10]), "ns must be"), (dict(ns=[10, 5]), "ns must be"), (dict(ns=[0, 5]), "ns must be"),
    (dict(ns=[1.5, 5.0]), "ns must be"), (dict(dim=0), "dim"), (dict(z=-1.0), "z"),
])
def test_threshold_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        admissibility_threshold(50, 0.8, reps=4, **kwargs)


@pytest.mark.parametrize("fn, args, kwargs, match", [
    (fresh_limit_distance, (10, 1.0, 0.0), {}, "bias"), (fresh_limit_distance, (10, 1.0, 1.5), {}, "bias"),
    (fresh_limit_distance, (0, 1.0), {}, "n"), (fresh_limit_distance, (10, -1.0), {}, "lam"),
    (fresh_limit_distance, (10, 1.0), dict(reps=1), "reps"), (fresh_limit_distance, (10, 1.0), dict(n_init=1), "n_init"),
    (effective_sample_size, (1, 1.0), {}, "n"), (real_fit_distance, (1,), {}, "n"),
    (real_fit_distance, (10,), dict(dim=10**6), "dim"),
])
def test_bad_input(fn, args, kwargs, match):
    with pytest.raises((ValueError, TypeError, MemoryError), match=match):
        fn(*args, **kwargs)


def test_sweep_gaussian_cell_runs_the_mad_loops():
    """The sweep's "gaussian" cell takes workflow="fresh", lam and bias: the same numbers as simulate_gaussian."""
    from selfconsume.analysis import sweep
    from selfconsume.analysis._sweep import cell_seed
    from selfconsume.simulators import simulate_gaussian

    grid = [{"n": 20, "d": 2, "workflow": "fresh", "lam": 2.5, "bias": 0.8, "generations": 4},
            {"n": 20, "workflow": "replace", "bias": 0.7, "generations": 4}]
    df = sweep("gaussian", grid, reps=3, rng=11, progress=False)
    root = np.random.SeedSequence(11)
    res = simulate_gaussian(20, 4, reps=3, dim=2, estimator="mle", lam=2.5, workflow="fresh", bias=0.8,
                            rng=np.random.default_rng(cell_seed(root, grid[0])))
    got = df[df["workflow"] == "fresh"]
    np.testing.assert_array_equal(got["tr_ratio"], (res.trace / 2).ravel())
    res = simulate_gaussian(20, 4, reps=3, estimator="mle", bias=0.7, rng=np.random.default_rng(cell_seed(root, grid[1])))
    np.testing.assert_array_equal(df[df["workflow"] == "replace"]["tr_ratio"], (res.sigma**2).ravel())
    with pytest.raises(ValueError, match="bias"):
        sweep("gaussian", [{"n": 20, "bias": 1.5, "generations": 2}], reps=2, rng=0, progress=False)
    with pytest.raises(ValueError, match="lam"):
        sweep("gaussian", [{"n": 20, "lam": 2.0, "generations": 2}], reps=2, rng=0, progress=False)
