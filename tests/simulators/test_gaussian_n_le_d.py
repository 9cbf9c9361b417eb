"""simulate_gaussian in d dimensions with n ≤ d: singular fits, det exactly 0, exact trace and mean laws.

Kazdan et al.'s grid has d = 10, n = 10 and d = 100, n ∈ {10, 32, 100}: the fitted covariance
has rank n − 1 < d. The exact chain runs in the coordinates of the fitted span; the literal
loop keeps the covariance as a factor of the centred points (or a pivoted Cholesky of known rank).
"""

import math

import numpy as np
import pytest
from scipy import stats

from selfconsume import theory as th
from selfconsume.simulators import simulate_gaussian


def _one_block_gen(seed):
    return np.random.default_rng(seed).spawn(1)[0]


def ref_lowrank_exact(n, d, T, reps, seed, divisor):
    """NumPy reference of the exact fully synthetic chain for n ≤ d, the simulator's stream order."""
    g = _one_block_gen(seed)
    r = n - 1
    mu = np.zeros((reps, T + 1, d))
    tr = np.empty((reps, T + 1))
    tr[:, 0] = d
    if T == 0:
        return mu, tr
    xbar = g.standard_normal((reps, d)) / math.sqrt(n)
    G = g.standard_normal((reps, d, r))
    Q, R = np.linalg.qr(G)
    C1 = np.linalg.cholesky(R @ np.swapaxes(R, 1, 2) / divisor)
    for k in range(reps):
        C, c = C1[k].copy(), np.zeros(r)
        mu[k, 1], tr[k, 1] = xbar[k], np.sum(C**2)
        for t in range(2, T + 1):
            z = g.standard_normal(r)
            c = c + C @ z / math.sqrt(n)
            B = np.zeros((r, r))
            for i in range(r):
                B[i, i] = math.sqrt(g.chisquare(n - 1 - i))
                B[i, :i] = g.standard_normal(i)
            C = C @ B / math.sqrt(divisor)
            mu[k, t], tr[k, t] = xbar[k] + Q[k] @ c, np.sum(C**2)
    return mu, tr


def ref_lowrank_samples(n, d, T, reps, seed, divisor):
    """NumPy reference of the literal loop for n ≤ d: points μ + F z, refit; F = centred points/√div."""
    g = _one_block_gen(seed)
    mu = np.zeros((reps, T + 1, d))
    tr = np.empty((reps, T + 1))
    for k in range(reps):
        F, m = np.eye(d), np.zeros(d)
        tr[k, 0] = d
        for t in range(1, T + 1):
            X = m + g.standard_normal((n, F.shape[1])) @ F.T
            m = X.mean(axis=0)
            F = (X - m).T / math.sqrt(divisor)
            mu[k, t], tr[k, t] = m, np.sum(F**2)
    return mu, tr


@pytest.mark.parametrize("n, d, T, reps", [(2, 3, 5, 3), (4, 4, 6, 5), (5, 9, 4, 2), (3, 7, 0, 2), (3, 7, 1, 4)])
@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
def test_lowrank_chains_equal_numpy_references(n, d, T, reps, estimator):
    div = float(n if estimator == "mle" else n - 1)
    for method, ref in (("exact", ref_lowrank_exact), ("samples", ref_lowrank_samples)):
        res = simulate_gaussian(n, T, reps=reps, dim=d, estimator=estimator, method=method, rng=7)
        mu, tr = ref(n, d, T, reps, 7, div)
        np.testing.assert_allclose(res.mu, mu, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(res.trace, tr, rtol=1e-9)
        assert np.all(res.logdet[:, 0] == 0.0) and np.all(np.isneginf(res.logdet[:, 1:]))


CASES = [dict(lam=None), dict(lam=1.0, workflow="replace"), dict(lam=1.0, workflow="accumulate"),
         dict(lam=0.5, workflow="accumulate")]


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("method", ["exact", "samples"])
def test_det_is_exactly_zero_and_cov_has_rank_n_minus_1(kw, method):
    n, d = 4, 6
    T = 3  # the fully synthetic chain collapses fast at n = 4: its small eigenvalues would soon meet rounding
    res = simulate_gaussian(n, T, reps=6, dim=d, method=method, return_cov=True, rng=1, **kw)
    first = 1 if kw["lam"] is None else 0   # lam=None: generation 0 is the truth N(μ0, I)
    assert np.all(np.isneginf(res.logdet[:, first:])) and np.all(np.exp(res.logdet[:, first:]) == 0.0)
    cov = res.cov[:, first:]
    np.testing.assert_allclose(np.trace(cov, axis1=2, axis2=3), res.trace[:, first:], rtol=1e-10)
    np.testing.assert_allclose(cov, np.swapaxes(cov, 2, 3), atol=1e-12)
    ev = np.linalg.eigvalsh(cov)
    top = ev[..., -1:]
    assert np.all(np.abs(ev[..., : d - (n - 1)]) < 1e-14 * top)  # d − (n − 1) zero eigenvalues (rounding)
    assert np.all(ev[..., d - (n - 1):] > 1e-10 * top)           # and n − 1 positive ones
    # every later mean stays in the first fit's affine span
    base = res.mu[:, first]
    U = np.linalg.eigh(res.cov[:, first])[1][..., d - (n - 1):]  # orthonormal basis of the span
    for t in range(first, T + 1):
        dev = res.mu[:, t] - base
        resid = dev - np.einsum("rij,rkj,rk->ri", U, U, dev)
        assert np.all(np.abs(resid) < 1e-9 * (1 + np.abs(dev).max()))
    if kw["lam"] is not None:
        np.testing.assert_allclose(res.real_cov, res.cov[:, 0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(res.real_mean, res.mu[:, 0], rtol=1e-12)


def test_subsample_below_d_is_singular_but_the_pool_is_not():
    """n > d but a subsample of k ≤ d points: the fits at t ≥ 1 are singular (rank k − 1), generation 0 is not."""
    res = simulate_gaussian(12, 6, reps=10, dim=4, lam=1.0, workflow="accumulate-subsample", method="samples",
                            subsample=3, return_cov=True, rng=2)
    assert np.all(np.isfinite(res.logdet[:, 0])) and np.all(np.isneginf(res.logdet[:, 1:]))
    ev = np.linalg.eigvalsh(res.cov[:, 1:])
    assert np.all(ev[..., :2] < 1e-10 * ev[..., -1:]) and np.all(ev[..., 2:] > 1e-8 * ev[..., -1:])
    np.testing.assert_allclose(np.trace(res.cov, axis1=2, axis2=3), res.trace, rtol=1e-10)


@pytest.mark.parametrize("kw, method", [(dict(lam=None), "exact"), (dict(lam=None), "samples"),
                                        (dict(lam=1.0, workflow="accumulate"), "exact"),
                                        (dict(lam=1.0, workflow="accumulate"), "samples"),
                                        (dict(lam=1.0, workflow="accumulate-subsample"), "samples")])
def test_lowrank_thread_invariance_and_equivariance(kw, method):
    base = dict(n=5, generations=40, reps=600, dim=7, method=method, **kw)  # several blocks
    a = simulate_gaussian(**base, rng=3, workers=1)
    b = simulate_gaussian(**base, rng=3, workers=2)
    assert np.array_equal(a.mu, b.mu) and np.array_equal(a.trace, b.trace) and np.array_equal(a.logdet, b.logdet)
    c = simulate_gaussian(**base, rng=3, workers=2, mu0=2.0, sigma0=3.0)
    np.testing.assert_allclose(c.mu, 2.0 + 3.0 * a.mu, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c.trace, 9.0 * a.trace, rtol=1e-12)
    assert np.array_equal(np.isneginf(c.logdet), np.isneginf(a.logdet))


@pytest.mark.slow
@pytest.mark.parametrize("kw", CASES)
def test_exact_and_samples_have_the_same_law(kw):
    """Two-sample KS on tr Σ_T, ‖μ_T − μ‖² and one coordinate of μ_T (n = 4, d = 6), Bonferroni over 3."""
    case = dict(n=4, generations=8, dim=6, estimator="mle", **kw)
    a = simulate_gaussian(reps=6_000, method="exact", rng=10, **case)
    b = simulate_gaussian(reps=6_000, method="samples", rng=11, **case)
    for x, y in ((a.trace[:, -1], b.trace[:, -1]), ((a.mu[:, -1] ** 2).sum(1), (b.mu[:, -1] ** 2).sum(1)),
                 (a.mu[:, -1, 2], b.mu[:, -1, 2])):
        assert stats.ks_2samp(x, y).pvalue > 1e-6 / 3


@pytest.mark.slow
@pytest.mark.parametrize("method", ["exact", "samples"])
@pytest.mark.parametrize("n, d", [(10, 10), (4, 12)])
def test_trace_and_mean_error_match_the_exact_theory(method, n, d):
    """E tr Σ_t/d and E‖μ_t − μ‖² against the per-coordinate exact values (Kazdan's replace = the fully
    synthetic chain, t = Kazdan's k; accumulate with λ = 1, t = k − 1), Bonferroni over the rows."""
    T, reps = 12, 4_000
    ts = np.array([1, 4, T])
    z = 5.5
    syn = simulate_gaussian(n, T, reps=reps, dim=d, estimator="mle", method=method, rng=20)
    acc = simulate_gaussian(n, T, reps=reps, dim=d, lam=1.0, workflow="accumulate", estimator="mle", method=method,
                            rng=21)
    rows = [(syn.trace[:, ts] / d, th.expected_sigma2(n, ts, estimator="mle")),
            ((syn.mu[:, ts] ** 2).sum(2), d * th.expected_mean_sq_drift(n, ts, estimator="mle")),
            (acc.trace[:, ts] / d, th.expected_accumulate_cov(n, ts + 1)),
            ((acc.mu[:, ts] ** 2).sum(2), th.expected_accumulate_mean_err(n, ts + 1, float(d)))]
    for sim, pred in rows:
        se = sim.std(axis=0, ddof=1) / math.sqrt(reps)
        assert np.all(np.abs(sim.mean(axis=0) - pred) < z * se), (sim.mean(axis=0), pred, se)
    assert np.all(np.isneginf(syn.logdet[:, 1:])) and np.all(np.isneginf(acc.logdet))
    assert np.all(th.expected_det_ratio(n, d, ts) == 0.0)
    assert np.all(th.expected_det_ratio(n, d, ts, lam=1.0, workflow="accumulate") == 0.0)
