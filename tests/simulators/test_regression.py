"""simulate_regression: NumPy references on the same stream, thread invariance, exact = literal in law."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from selfconsume.analysis import FAMILY_LEVEL, ks_critical, mean_se, z_bonferroni
from selfconsume.simulators import RegressionChain, simulate_regression
from selfconsume.theory import expected_regression_risk

# reps ≤ 64 is one replicate block, driven by the first child of the seed's SeedSequence; the
# references below draw from that stream in the kernels' documented order.


def _child(seed):
    return np.random.default_rng(seed).spawn(1)[0]


def ref_exact(T, d, N, reps, sigma, accumulate, seed):
    g = _child(seed)
    risk = np.empty((reps, N))
    for r in range(reps):
        L = np.zeros((d, d))
        for i in range(d):
            L[i, i] = math.sqrt(g.chisquare(T - i))
            for j in range(i):
                L[i, j] = g.standard_normal()
        err = np.zeros(d)
        for n in range(N):
            z = np.array([g.standard_normal() for _ in range(d)])
            err += (sigma / (n + 1) if accumulate else sigma) * np.linalg.solve(L.T, z)
            risk[r, n] = err @ err
    return risk


def ref_samples(T, d, N, reps, sigma, accumulate, seed):
    """The loop as the papers state it: pooled least squares by lstsq on the stacked data."""
    g = _child(seed)
    w_star = np.full(d, 1 / math.sqrt(d))
    risk = np.empty((reps, N))
    for r in range(reps):
        X = g.standard_normal((T, d))
        w_prev, ys = w_star, []
        for n in range(N):
            ys.append(X @ w_prev + sigma * g.standard_normal(T))
            if accumulate:
                w = np.linalg.lstsq(np.vstack([X] * len(ys)), np.concatenate(ys), rcond=None)[0]
            else:
                w = np.linalg.lstsq(X, ys[-1], rcond=None)[0]
            risk[r, n] = (w - w_star) @ (w - w_star)
            w_prev = w
    return risk


@settings(max_examples=15)
@given(d=st.integers(1, 4), extra=st.integers(1, 8), N=st.integers(1, 6), reps=st.integers(1, 20),
       sigma=st.floats(0.1, 3.0), wf=st.sampled_from(["replace", "accumulate"]), seed=st.integers(0, 2**32 - 1))
def test_kernels_equal_numpy_references(d, extra, N, reps, sigma, wf, seed):
    T = d + 1 + extra
    acc = wf == "accumulate"
    ex = simulate_regression(T, d, N, workflow=wf, sigma=sigma, reps=reps, rng=seed)
    np.testing.assert_allclose(ex.risk, ref_exact(T, d, N, reps, sigma, acc, seed), rtol=1e-9, atol=1e-14)
    sm = simulate_regression(T, d, N, workflow=wf, sigma=sigma, reps=reps, method="samples", rng=seed)
    np.testing.assert_allclose(sm.risk, ref_samples(T, d, N, reps, sigma, acc, seed), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_thread_count_invariance(method):
    a = simulate_regression(15, 3, 5, workflow="accumulate", reps=300, method=method, rng=7, workers=1)
    b = simulate_regression(15, 3, 5, workflow="accumulate", reps=300, method=method, rng=7, workers=2)
    assert np.array_equal(a.risk, b.risk)


@pytest.mark.parametrize("wf", ["replace", "accumulate"])
def test_exact_and_literal_loops_have_the_same_law(wf):
    T, d, N, R = 12, 3, 6, 3000
    ex = simulate_regression(T, d, N, workflow=wf, reps=R, rng=1)
    sm = simulate_regression(T, d, N, workflow=wf, reps=R, method="samples", rng=2)
    crit = ks_critical(R, R, FAMILY_LEVEL / 2)  # two rounds compared: Bonferroni over them
    for n in (1, N):
        assert stats.ks_2samp(ex.risk[:, n - 1], sm.risk[:, n - 1]).statistic < crit


@pytest.mark.parametrize("wf", ["replace", "accumulate"])
def test_literal_loop_matches_the_closed_form(wf):
    T, d, N, R = 20, 3, 8, 6000
    sm = simulate_regression(T, d, N, workflow=wf, sigma=1.5, reps=R, method="samples", rng=3)
    m, se = mean_se(sm.risk)
    pred = expected_regression_risk(np.arange(1, N + 1), T, d, 2.25, wf)
    z = z_bonferroni(N)
    assert np.all(np.abs(m - pred) <= z * se)


def test_result_object():
    res = simulate_regression(10, 2, 4, workflow="accumulate", reps=3, rng=0)
    assert isinstance(res, RegressionChain) and res.risk.shape == (3, 4)
    with pytest.raises(ValueError):
        res.risk[0, 0] = 1.0
    df = res.to_frame()
    assert len(df) == 12 and set(df.columns) >= {"rep", "iteration", "risk", "T", "d", "workflow", "sigma", "method"}
    assert list(res.n) == [1, 2, 3, 4]
    m, se = res.mean_risk()
    assert m.shape == se.shape == (4,)
    # first round is the same for both workflows under the same seed (ŵ₁ = X⁺y⁽¹⁾)
    rep = simulate_regression(10, 2, 4, workflow="replace", reps=3, rng=0)
    np.testing.assert_array_equal(rep.risk[:, 0], res.risk[:, 0])


def test_bad_input():
    with pytest.raises(ValueError, match="T"):
        simulate_regression(6, 5, 3)
    with pytest.raises(ValueError, match="d"):
        simulate_regression(10, 0, 3)
    with pytest.raises(ValueError, match="iterations"):
        simulate_regression(10, 2, 0)
    with pytest.raises(ValueError, match="workflow"):
        simulate_regression(10, 2, 3, workflow="accumulate-subsample")
    with pytest.raises(ValueError, match="method"):
        simulate_regression(10, 2, 3, method="fast")
    with pytest.raises(ValueError, match="sigma"):
        simulate_regression(10, 2, 3, sigma=0.0)
    with pytest.raises(ValueError, match="reps"):
        simulate_regression(10, 2, 3, reps=0)
    with pytest.raises(TypeError, match="rng"):
        simulate_regression(10, 2, 3, rng="seed")
