"""simulate_mixture_refit: NumPy references on the same stream (Algorithm 1 as released, the joint MLE by a dense
scan), μ'² + σ'² = m2 on every path, thread invariance, exact = literal in law, bad input."""

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from selfconsume.analysis import FAMILY_LEVEL, ks_critical, mean_se
from selfconsume.simulators import MixtureRefitChain, simulate_mixture_refit
from selfconsume.theory import approx_mle_kappa

# reps ≤ 8 is one replicate block (the smallest block), driven by the first child of the seed's SeedSequence.


def _child(seed):
    return np.random.default_rng(seed).spawn(1)[0]


def released_approx_joint_ml(samples, kappa):
    """Algorithm 1 as in the authors' notebook (approx_joint_ml), returning (mu, sigma) — with the variance of
    |y| by two passes, as the kernel does (the notebook's m2 − m1² loses digits once σ ≪ μ: 6 of them at
    σ/μ ≈ 1e-5, reached within 5 generations at n = 2)."""
    mu_0_hat = np.mean(np.abs(samples))
    sigma_inf_squared = np.mean(samples * samples)
    sigma_s_squared = np.mean((np.abs(samples) - mu_0_hat) ** 2)
    if sigma_s_squared <= kappa * mu_0_hat**2:  # the notebook's m2 <= (1 + κ) m1², without the cancellation
        a = 50
    else:
        a = (2 * (1 + kappa) * sigma_inf_squared) / (sigma_s_squared - kappa * mu_0_hat**2)
    if sigma_inf_squared <= (2 * a / (a - 2)) * mu_0_hat**2:
        v = a * sigma_inf_squared * sigma_s_squared / (a * mu_0_hat**2 + 2 * sigma_inf_squared)
    else:
        v = sigma_inf_squared
    return np.sqrt(sigma_inf_squared - v), np.sqrt(v)


def _loglik(x, th, v):
    return np.sum(np.logaddexp(-(x - th) ** 2 / (2 * v), -(x + th) ** 2 / (2 * v))) - 0.5 * x.size * np.log(v)


def reference_mle(y):
    """Joint MLE by a 4000-point sign scan of the score along the curve of stationary σ², brentq on every
    + → − change (a local maximum), and the candidate of largest likelihood, θ = 0 included.

    The curve is parametrised by e = σ² − s² ∈ (0, m1²), θ = √(m1² − e) (every stationary point has σ² > s²),
    with the score as mean(x tanh(θx/σ²)) − θ near θ = 0 and as e/(m1 + θ) − 2 mean(x expit(−2θx/σ²)) elsewhere,
    so that nearly collapsed samples (σ/μ ~ 1e-5) keep their digits.
    """
    x = np.abs(y)
    m1, m2 = np.mean(x), np.mean(x * x)
    s2 = np.mean((x - m1) ** 2)

    def score(e):
        th = math.sqrt(max(m1 * m1 - e, 0.0))
        v = s2 + e
        if th < 0.5 * m1:
            return np.mean(x * np.tanh(th * x / v)) - th
        return e / (m1 + th) - 2 * np.mean(x * special.expit(-2 * th * x / v))

    grid = m1 * m1 * np.concatenate([[0.0], np.logspace(-16, -1, 1500, endpoint=False), np.linspace(0.1, 1 - 1e-8, 2500)])
    vals = np.array([score(e) for e in grid])
    best = (0.0, m2, _loglik(x, 0.0, m2))
    cands = [optimize.brentq(score, grid[i], grid[i + 1], xtol=1e-300, rtol=1e-15)
             for i in np.flatnonzero((vals[:-1] <= 0) & (vals[1:] > 0))]
    if np.mean(x**4) < 3 * m2 * m2 and vals[-1] <= 0:  # a maximum next to θ = 0: in θ, σ² = m2 − θ²
        g = lambda th: np.mean(x * np.tanh(th * x / (m2 - th * th))) - th  # noqa: E731
        th = optimize.brentq(g, 1e-5 * m1, math.sqrt(m1 * m1 - grid[-1]), xtol=1e-300, rtol=1e-15)
        cands.append(m1 * m1 - th * th)
    for e in cands:
        th, v = math.sqrt(m1 * m1 - e), s2 + e
        ll = _loglik(x, th, v)
        if ll > best[2]:
            best = (th, v, ll)
    return best[0], math.sqrt(best[1])


def reference_chain(n, G, reps, mu0, sigma0, estimator, eta, literal, seed):
    g = _child(seed)
    kappa = approx_mle_kappa(n, eta)
    MU, SIG, ys = np.empty((reps, G + 1)), np.empty((reps, G + 1)), []
    for r in range(reps):
        mu, s = abs(mu0), sigma0
        MU[r, 0], SIG[r, 0] = mu, s
        for k in range(1, G + 1):
            y = np.empty(n)
            for i in range(n):
                if literal:
                    sign = 1.0 if g.random() < 0.5 else -1.0
                    y[i] = sign * mu + s * g.standard_normal()
                else:
                    y[i] = mu + s * g.standard_normal()
            ys.append(y)
            mu, s = released_approx_joint_ml(y, kappa) if estimator == "approx_mle" else reference_mle(y)
            MU[r, k], SIG[r, k] = mu, s
    return MU, SIG, ys


@pytest.mark.parametrize("estimator", ["approx_mle", "mle"])
@pytest.mark.parametrize("method", ["exact", "samples"])
@pytest.mark.parametrize("n, G, mu0, sigma0, seed", [(10, 6, 1.0, 1.0, 3), (5, 4, -0.7, 2.0, 11), (2, 5, 0.0, 0.5, 5)])
def test_kernel_equals_numpy_reference(estimator, method, n, G, mu0, sigma0, seed):
    res = simulate_mixture_refit(n, G, mu0=mu0, sigma0=sigma0, estimator=estimator, reps=3, method=method, rng=seed)
    MU, SIG, ys = reference_chain(n, G, 3, mu0, sigma0, estimator, 2.0, method == "samples", seed)
    np.testing.assert_allclose(res.sigma, SIG, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(res.mu, MU, rtol=1e-7, atol=1e-9)
    # μ'² + σ'² is the sample second moment m2 on every path, for both estimators
    m2 = np.array([np.mean(y * y) for y in ys]).reshape(3, G)
    np.testing.assert_allclose(res.mu[:, 1:] ** 2 + res.sigma[:, 1:] ** 2, m2, rtol=1e-9)


def test_mle_finds_the_global_maximum_on_hard_samples():
    # samples with kurtosis > 3 and two positive stationary points, and near-collapsed ones
    rng = np.random.default_rng(4)
    worst = 0.0
    for _ in range(150):
        n = int(rng.choice([2, 3, 5, 10, 30]))
        mu, s = rng.uniform(0, 3), rng.uniform(0.02, 2)
        seed = int(rng.integers(2**31))
        res = simulate_mixture_refit(n, 1, mu0=mu, sigma0=s, estimator="mle", reps=1, rng=seed)
        y = np.abs(mu + s * _child(seed).standard_normal(n))
        th, sd = reference_mle(y)
        gap = _loglik(y, th, sd * sd) - _loglik(y, res.mu[0, 1], res.sigma[0, 1] ** 2)
        worst = max(worst, gap)
    assert worst < 1e-9


def test_fallback_counts():
    res = simulate_mixture_refit(10, 100, reps=200, rng=2)
    assert res.fallback.shape == (200,) and res.fallback.dtype == np.int64
    assert 0 < res.fallback.mean() < 100  # Algorithm 1's a = 50 branch takes over once σ ≪ μ
    one = simulate_mixture_refit(13, 1, mu0=0.0, sigma0=1.0, reps=2000, rng=2)
    assert one.fallback.sum() <= 2


@pytest.mark.parametrize("estimator", ["approx_mle", "mle"])
def test_thread_count_invariance(estimator):
    a = simulate_mixture_refit(10, 20, estimator=estimator, reps=3000, rng=7, workers=1)
    b = simulate_mixture_refit(10, 20, estimator=estimator, reps=3000, rng=7, workers=2)
    assert np.array_equal(a.sigma, b.sigma) and np.array_equal(a.mu, b.mu)
    assert np.array_equal(a.fallback, b.fallback)


@pytest.mark.parametrize("estimator, reps", [("approx_mle", 20_000), ("mle", 5_000)])
def test_exact_and_literal_loops_have_the_same_law(estimator, reps):
    kw = dict(mu0=0.8, sigma0=1.3, estimator=estimator, reps=reps)
    a = simulate_mixture_refit(7, 12, method="exact", rng=1, **kw)
    b = simulate_mixture_refit(7, 12, method="samples", rng=2, **kw)
    level = FAMILY_LEVEL / 3
    for x, y in ((np.log(a.sigma[:, -1]), np.log(b.sigma[:, -1])), (a.mu[:, 4], b.mu[:, 4])):
        assert stats.ks_2samp(x, y).statistic < ks_critical(x.size, y.size, level)
    (ma, sa), (mb, sb) = mean_se(a.sigma[:, 3] ** 2), mean_se(b.sigma[:, 3] ** 2)
    assert abs(ma - mb) < 5 * math.hypot(sa, sb)


def test_result_object():
    res = simulate_mixture_refit(10, 3, reps=4, rng=0)
    assert isinstance(res, MixtureRefitChain)
    assert res.mu.shape == res.sigma.shape == (4, 4) and res.k.tolist() == [0, 1, 2, 3]
    assert not res.sigma.flags.writeable and not res.fallback.flags.writeable
    df = res.to_frame()
    assert len(df) == 16 and {"rep", "generation", "mu", "sigma", "estimator", "eta"} <= set(df.columns)
    assert (res.sigma[:, 0] == 1.0).all() and (res.mu[:, 0] == 1.0).all()
    assert np.array_equal(simulate_mixture_refit(10, 3, reps=4, rng=0).sigma, res.sigma)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=1), "n must be an integer >= 2"),
    (dict(generations=-1), "generations"),
    (dict(mu0=float("nan")), "mu0"),
    (dict(mu0=math.inf), "mu0"),
    (dict(sigma0=0.0), "sigma0"),
    (dict(estimator="em"), "estimator"),
    (dict(eta=1.0), "eta"),
    (dict(method="fast"), "method"),
    (dict(reps=0), "reps"),
    (dict(workers=0), "workers"),
    (dict(reps=10**15), "too large"),
])
def test_bad_input(kwargs, match):
    args = dict(n=10, generations=3)
    args.update(kwargs)
    n, G = args.pop("n"), args.pop("generations")
    with pytest.raises(ValueError, match=match):
        simulate_mixture_refit(n, G, **args)
