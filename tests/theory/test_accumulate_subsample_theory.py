"""expected_accumulate_subsample and expected_det_ratio (Kazdan et al.'s workflows and metrics).

Oracles: the accumulate closed forms (a subsample of the whole pool is the accumulate
workflow), the exact λ-mixing recursion, an independent brute-force NumPy Monte Carlo at tiny
n (subsamples by random keys, not by the simulator's shuffle), and the MLE invariant
E tr ratio + E‖μ̂ − μ‖²/(dσ²) = 1.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from selfconsume import theory as th
from selfconsume.theory._accumulate import _subsample_moments


@pytest.mark.parametrize("n", [2, 3, 10, 100])
def test_subsample_of_the_whole_pool_is_the_accumulate_product(n):
    T = 300
    k = n + n * np.arange(T + 1)          # the pool size at every generation
    v, err = _subsample_moments(n, n, T, k, unbiased=False)
    kk = np.arange(1, T + 2)              # Kazdan's k = t + 1
    np.testing.assert_allclose(v, th.expected_accumulate_cov(n, kk), rtol=0, atol=1e-12)
    np.testing.assert_allclose(err, th.expected_accumulate_mean_err(n, kk, 1.0), rtol=0, atol=1e-14)


@pytest.mark.parametrize("lam, estimator", [(0.5, "unbiased"), (1.3, "mle"), (2.0, "unbiased"), (0.0, "mle")])
def test_subsample_of_the_whole_pool_is_the_mixed_accumulate_recursion(lam, estimator):
    n, T = 10, 60
    m = int(math.floor(lam * n + 1e-9))
    v, err = _subsample_moments(n, m, T, n + m * np.arange(T + 1), unbiased=estimator == "unbiased")
    s2, d2 = th.expected_mixed_moments(n, lam, T, workflow="accumulate", estimator=estimator)
    np.testing.assert_allclose(v, s2, rtol=1e-13)
    np.testing.assert_allclose(err, 1.0 / n + d2, rtol=1e-13)


@settings(max_examples=40)
@given(n=st.integers(2, 40), lam=st.floats(0.0, 3.0), t=st.integers(0, 200), d=st.integers(1, 50), data=st.data())
def test_mle_second_moment_is_conserved(n, lam, t, d, data):
    m = int(math.floor(lam * n + 1e-9))
    k = data.draw(st.integers(2, n + m))
    tr, err = th.expected_accumulate_subsample(n, t, subsample=k, d=d, lam=lam, sigma2=2.5)
    assert 0.0 < tr <= 1.0 and err > 0.0
    assert math.isclose(tr + err / (2.5 * d), 1.0, rel_tol=1e-12)


def test_generation_zero_and_shapes():
    tr, err = th.expected_accumulate_subsample(10, 0, d=4, sigma2=3.0)
    assert isinstance(tr, float) and math.isclose(tr, 0.9) and math.isclose(err, 4 * 3.0 / 10)
    tr, err = th.expected_accumulate_subsample(10, [[0, 5], [100, 1]], subsample=7)
    assert tr.shape == err.shape == (2, 2)
    # the paper's numbers (theory.md §3.5): 0.741 (subsample n) vs 0.796 (2n) at n = 10, t = 100
    assert round(th.expected_accumulate_subsample(10, 100)[0], 3) == 0.741
    assert round(th.expected_accumulate_subsample(10, 100, subsample=20)[0], 3) == 0.796


def brute_force(n, m, k, T, reps, unbiased, seed):
    """Independent NumPy Monte Carlo of the 1-D chain (σ² = 1, μ = 0): subsamples by sorting random keys."""
    g = np.random.default_rng(seed)
    pool = g.standard_normal((reps, n))
    ddof = 1 if unbiased else 0
    V = np.empty((reps, T + 1))
    E = np.empty((reps, T + 1))
    mu, var = pool.mean(axis=1), pool.var(axis=1, ddof=ddof)
    V[:, 0], E[:, 0] = var, mu**2
    for t in range(1, T + 1):
        new = mu[:, None] + np.sqrt(var)[:, None] * g.standard_normal((reps, m))
        pool = np.concatenate([pool, new], axis=1)
        idx = np.argsort(g.random(pool.shape), axis=1)[:, :k]
        sub = np.take_along_axis(pool, idx, axis=1)
        mu, var = sub.mean(axis=1), sub.var(axis=1, ddof=ddof)
        V[:, t], E[:, t] = var, mu**2
    return V, E


@pytest.mark.slow
@pytest.mark.parametrize("n, lam, k, estimator", [(3, 1.0, 2, "mle"), (3, 1.0, 3, "unbiased"), (4, 0.5, 3, "mle"),
                                                  (2, 2.0, 4, "unbiased"), (5, 1.0, 8, "mle")])
def test_recursion_matches_brute_force_monte_carlo(n, lam, k, estimator):
    T, reps = 6, 200_000
    m = int(math.floor(lam * n + 1e-9))
    V, E = brute_force(n, m, k, T, reps, estimator == "unbiased", seed=n * 100 + k)
    tr, err = th.expected_accumulate_subsample(n, np.arange(T + 1), subsample=k, lam=lam, estimator=estimator)
    z = 5.5  # 2(T + 1) comparisons at about the family level of one 5-SE test
    for sim, pred in ((V, tr), (E, err)):
        se = sim.std(axis=0, ddof=1) / math.sqrt(reps)
        assert np.all(np.abs(sim.mean(axis=0) - pred) < z * se), (sim.mean(axis=0), pred, se)


# ------------------------------------------------------------------------------------ det ratio


def test_det_ratio_fully_synthetic_is_the_bartlett_product():
    for n, d, est in ((10, 3, "mle"), (10, 3, "unbiased"), (50, 20, "mle"), (11, 10, "unbiased")):
        div = n if est == "mle" else n - 1
        f = np.prod([(n - i) / div for i in range(1, d + 1)])
        t = np.arange(6)
        np.testing.assert_allclose(th.expected_det_ratio(n, d, t, estimator=est), f**t, rtol=1e-12)
    assert th.expected_det_ratio(10, 1, 4) == pytest.approx(th.expected_sigma2(10, 4, estimator="mle"), rel=1e-12)


@pytest.mark.parametrize("n, d", [(10, 10), (10, 100), (32, 100), (2, 2)])
def test_det_ratio_is_exactly_zero_when_n_le_d(n, d):
    t = np.arange(5)
    assert np.array_equal(th.expected_det_ratio(n, d, t), [1.0, 0.0, 0.0, 0.0, 0.0])
    assert np.array_equal(th.expected_det_ratio(n, d, t, lam=1.0, workflow="accumulate"), np.zeros(5))
    assert th.expected_det_ratio(n, d, 0, lam=0.5, workflow="accumulate") == 0.0


def test_det_ratio_d1_is_the_variance_in_every_workflow():
    t = np.arange(30)
    np.testing.assert_allclose(th.expected_det_ratio(10, 1, t, lam=1.0, workflow="accumulate"),
                               th.expected_accumulate_cov(10, t + 1), rtol=1e-12)
    s2, _ = th.expected_mixed_moments(10, 0.5, 29, workflow="replace", estimator="unbiased")
    np.testing.assert_allclose(th.expected_det_ratio(10, 1, t, lam=0.5, workflow="replace", estimator="unbiased"), s2)
    np.testing.assert_allclose(th.expected_det_ratio(10, 1, t, lam=1.0, workflow="accumulate-subsample"),
                               th.expected_accumulate_subsample(10, t)[0])


def test_det_ratio_accumulate_m_zero_keeps_the_real_fit():
    r = th.expected_det_ratio(10, 3, np.arange(5), lam=0.0, workflow="accumulate")
    np.testing.assert_allclose(r, 0.504, rtol=1e-12)


def test_det_ratio_accumulate_large_d_is_finite_and_decreasing():
    r = th.expected_det_ratio(316, 100, np.arange(0, 101, 10), lam=1.0, workflow="accumulate")
    assert np.all(np.isfinite(r)) and np.all(r > 0) and np.all(np.diff(r) < 0)


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
@pytest.mark.parametrize("d, n, lam", [(3, 10, 1.0), (2, 4, 0.5), (4, 6, 2.0)])
def test_det_ratio_accumulate_one_step_factor_by_monte_carlo(d, n, lam, estimator):
    """E[det Σ̂_1 / det Σ̂_0]: the conditional factor is deterministic, so the per-path ratio's mean is it."""
    reps = 200_000
    g = np.random.default_rng(d * 10 + n)
    m = int(math.floor(lam * n + 1e-9))
    ddof = 1 if estimator == "unbiased" else 0
    X = g.standard_normal((reps, n, d))
    mu = X.mean(axis=1)
    S0 = np.einsum("rai,raj->rij", X - mu[:, None], X - mu[:, None]) / (n - ddof)
    Y = mu[:, None, :] + np.einsum("rij,raj->rai", np.linalg.cholesky(S0), g.standard_normal((reps, m, d)))
    P = np.concatenate([X, Y], axis=1)
    mu1 = P.mean(axis=1)
    S1 = np.einsum("rai,raj->rij", P - mu1[:, None], P - mu1[:, None]) / (n + m - ddof)
    ratio = np.linalg.det(S1) / np.linalg.det(S0)
    r = th.expected_det_ratio(n, d, [0, 1], lam=lam, workflow="accumulate", estimator=estimator)
    assert abs(ratio.mean() - r[1] / r[0]) < 5 * ratio.std() / math.sqrt(reps)
    d0 = np.linalg.det(S0)
    assert abs(d0.mean() - r[0]) < 5 * d0.std() / math.sqrt(reps)


# ------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: th.expected_accumulate_subsample(1, 3), ValueError, r"\bn\b"),
        (lambda: th.expected_accumulate_subsample(10, -1), ValueError, r"\bt\b"),
        (lambda: th.expected_accumulate_subsample(10, [1, -2]), ValueError, r"\bt\b"),
        (lambda: th.expected_accumulate_subsample(10, 3, subsample=21), ValueError, r"subsample.*\[2, 20\]"),
        (lambda: th.expected_accumulate_subsample(10, 3, subsample=1), ValueError, "subsample"),
        (lambda: th.expected_accumulate_subsample(10, 3, subsample=0), ValueError, "subsample"),
        (lambda: th.expected_accumulate_subsample(10, 3, subsample=2.5), ValueError, "subsample"),
        (lambda: th.expected_accumulate_subsample(10, 3, subsample="5"), TypeError, "subsample"),
        (lambda: th.expected_accumulate_subsample(10, 3, subsample=11, lam=0.0), ValueError, r"\[2, 10\]"),
        (lambda: th.expected_accumulate_subsample(10, 3, d=0), ValueError, r"\bd\b"),
        (lambda: th.expected_accumulate_subsample(10, 3, lam=-0.5), ValueError, "lam"),
        (lambda: th.expected_accumulate_subsample(10, 3, estimator="ddof2"), ValueError, "estimator"),
        (lambda: th.expected_accumulate_subsample(10, 3, sigma2=0.0), ValueError, "sigma2"),
        (lambda: th.expected_det_ratio(1, 3, 2), ValueError, r"\bn\b"),
        (lambda: th.expected_det_ratio(10, 0, 2), ValueError, r"\bd\b"),
        (lambda: th.expected_det_ratio(10, 3, -1), ValueError, r"\bt\b"),
        (lambda: th.expected_det_ratio(10, 3, 2, workflow="accumulate"), ValueError, "lam"),
        (lambda: th.expected_det_ratio(10, 3, 2, lam=1.0, workflow="replace"), ValueError, "workflow"),
        (lambda: th.expected_det_ratio(10, 3, 2, lam=1.0, workflow="accumulate-subsample"), ValueError, "workflow"),
        (lambda: th.expected_det_ratio(10, 3, 2, lam=1.0, workflow="grow"), ValueError, "workflow"),
        (lambda: th.expected_det_ratio(10, 3, 2, lam=-1.0, workflow="accumulate"), ValueError, "lam"),
        (lambda: th.expected_det_ratio(10, 3, 2, estimator="ddof2"), ValueError, "estimator"),
    ],
)
def test_bad_input_names_the_parameter(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
