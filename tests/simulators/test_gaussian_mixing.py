"""simulate_gaussian with real data in the loop (lam, workflow, truth)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from selfconsume.simulators import simulate_gaussian


def _child(seed):
    return np.random.default_rng(seed).spawn(1)[0]


def ref_loop(n, lam, T, reps, seed, workflow, unbiased, method):
    """Plain NumPy loop (one replicate block, same stream order as the kernels)."""
    g = _child(seed)
    if method == "exact":  # the real sample by its sufficient statistics: x̄ ~ N(0, 1/n), scatter ~ χ²_{n−1}
        real_mean = g.standard_normal(reps) / math.sqrt(n)
        real_ss = g.chisquare(n - 1, reps)
    else:
        x = g.standard_normal((reps, n))
        real_mean = x.mean(axis=1)
        real_ss = ((x - real_mean[:, None]) ** 2).sum(axis=1)
    m = int(math.floor(lam * n + 1e-9))
    L = np.zeros((reps, T + 1))
    M = np.zeros((reps, T + 1))
    ddof = 1 if unbiased else 0
    for r in range(reps):
        pool = [0.0] * n if method == "exact" else list(x[r])
        mu, sd = real_mean[r], math.sqrt(real_ss[r] / (n - ddof))
        L[r, 0], M[r, 0] = math.log(sd), mu
        for t in range(1, T + 1):
            if method == "exact":
                ybar = mu + sd * g.standard_normal() / math.sqrt(m)
                ssy = sd**2 * g.chisquare(m - 1.0) if m >= 2 else 0.0
                if workflow == "replace":
                    N = n + m
                    xr = real_mean[r]
                    ss = real_ss[r] + ssy + n * m / N * (ybar - xr) ** 2
                    mu = (n * xr + m * ybar) / N
                    sd = math.sqrt(ss / (N - ddof))
                else:
                    P = len(pool)
                    pool_ss = sd**2 * (P - ddof)
                    d = ybar - mu
                    mu = mu + d * m / (P + m)
                    ss = pool_ss + ssy + d * d * P * m / (P + m)
                    pool.extend([0.0] * m)  # only the size matters here
                    sd = math.sqrt(ss / (len(pool) - ddof))
            else:
                y = mu + sd * np.array([g.standard_normal() for _ in range(m)])
                data = np.concatenate([x[r], y]) if workflow == "replace" else np.array(pool + list(y))
                if workflow == "accumulate":
                    pool.extend(y)
                mu, sd = data.mean(), data.std(ddof=ddof)
            L[r, t], M[r, t] = math.log(sd), mu
    return L, M


@settings(max_examples=20)
@given(n=st.integers(2, 30), lam=st.floats(0.05, 3.0), T=st.integers(0, 10), reps=st.integers(1, 6),
       seed=st.integers(0, 2**32 - 1), workflow=st.sampled_from(["replace", "accumulate"]),
       estimator=st.sampled_from(["unbiased", "mle"]), method=st.sampled_from(["exact", "samples"]))
def test_mixed_kernels_equal_numpy_reference(n, lam, T, reps, seed, workflow, estimator, method):
    m = int(math.floor(lam * n + 1e-9))
    if m == 0:
        lam = 1.0 / n
    res = simulate_gaussian(n, T, reps=reps, lam=lam, workflow=workflow, estimator=estimator, method=method, rng=seed)
    L, M = ref_loop(n, lam, T, reps, seed, workflow, estimator == "unbiased", method)
    np.testing.assert_allclose(res.log_sigma, L, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(res.mu, M, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("workflow,method", [("replace", "exact"), ("replace", "samples"), ("accumulate", "exact"),
                                             ("accumulate", "samples"), ("accumulate-subsample", "samples")])
def test_mixed_thread_invariance_and_equivariance(workflow, method):
    kw = dict(n=9, generations=400, reps=200, lam=0.7, workflow=workflow, method=method)  # ≥ 2 blocks
    a = simulate_gaussian(**kw, rng=5, workers=1)
    b = simulate_gaussian(**kw, rng=5, workers=2)
    assert np.array_equal(a.mu, b.mu) and np.array_equal(a.sigma, b.sigma)
    c = simulate_gaussian(**kw, rng=5, workers=2, mu0=-3.0, sigma0=7.5)
    assert np.array_equal(c.mu, -3.0 + 7.5 * a.mu) and np.array_equal(c.sigma, 7.5 * a.sigma)
    assert np.array_equal(c.real_mean, -3.0 + 7.5 * a.real_mean)
    df = a.to_frame()
    assert set(df["workflow"]) == {workflow} and set(df["lam"]) == {0.7}


def test_lam_zero_keeps_the_real_fit():
    r = simulate_gaussian(15, 10, reps=5, lam=0.0, rng=1)
    assert np.all(r.mu == r.mu[:, :1]) and np.all(r.sigma == r.sigma[:, :1])
    np.testing.assert_allclose(r.sigma[:, 0], r.real_sigma, rtol=1e-12)
    np.testing.assert_allclose(r.mu[:, 0], r.real_mean, rtol=1e-12)


def test_subsample_first_step_is_the_accumulate_fit():
    """At t = 1 the pool has exactly n + m points, so a subsample of n + m is the whole pool.

    One replicate per run: the subsample's shuffle consumes random numbers, so later
    replicates of a block would see different streams."""
    for seed in range(10):
        kw = dict(n=8, generations=1, reps=1, lam=1.0, method="samples", rng=seed)
        a = simulate_gaussian(workflow="accumulate", **kw)
        s = simulate_gaussian(workflow="accumulate-subsample", subsample=16, **kw)
        np.testing.assert_allclose(s.sigma, a.sigma, rtol=1e-12)
        np.testing.assert_allclose(s.mu, a.mu, rtol=1e-12, atol=1e-14)


def test_misspecified_truth_is_used_and_recorded():
    r = simulate_gaussian(400, 3, reps=500, lam=1.0, truth=stats.laplace(loc=2.0, scale=3.0), rng=0)
    assert r.truth.startswith("laplace") and r.mu0 == 2.0 and math.isclose(r.sigma0, 3.0 * math.sqrt(2))
    # Laplace kurtosis: the real-sample variances spread more than a Gaussian's would.
    assert abs(np.mean(r.real_mean) - 2.0) < 5 * r.sigma0 / math.sqrt(400 * 500)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(lam=-0.1), "lam"),
        (dict(lam=float("nan")), "lam"),
        (dict(lam=float("inf")), "lam"),
        (dict(workflow="accumulate"), "lam"),
        (dict(lam=1.0, workflow="grow"), "workflow"),
        (dict(lam=1.0, workflow="accumulate-subsample", method="samples", subsample=21), "subsample"),
        (dict(lam=1.0, workflow="accumulate-subsample"), "method"),
        (dict(lam=1.0, truth=stats.t(2)), "truth"),
        (dict(lam=1.0, truth=stats.cauchy()), "truth"),
    ],
)
def test_mixing_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        simulate_gaussian(10, 3, **kwargs)


def test_truth_must_be_a_distribution():
    with pytest.raises(TypeError, match="truth"):
        simulate_gaussian(10, 3, lam=1.0, truth="laplace")


def test_gaussian_mixture_truth():
    from selfconsume.simulators import gaussian_mixture

    t = gaussian_mixture([0.6, 0.4], [-3.0, 3.0], [1.0, 2.0])
    x = t.rvs(size=200_000, random_state=3)
    # mean and variance of the draws against the exact moments, at 5 SE
    assert abs(x.mean() - t.mean()) < 5 * np.sqrt(t.var() / x.size)
    assert abs(x.var() - t.var()) < 5 * np.sqrt((np.mean((x - x.mean()) ** 4) - x.var() ** 2) / x.size)
    from scipy import integrate

    assert abs(integrate.quad(t.pdf, -30, 30)[0] - 1.0) < 1e-10
    r = simulate_gaussian(20, 3, reps=10, lam=1.0, truth=t, rng=0)
    assert r.truth.startswith("mixture(") and r.mu0 == pytest.approx(-0.6)
    with pytest.raises(ValueError, match="weights"):
        gaussian_mixture([0.5, 0.6], [0, 1], [1, 1])
    with pytest.raises(ValueError, match="scales"):
        gaussian_mixture([0.5, 0.5], [0, 1], [1, 0])
    with pytest.raises(ValueError, match="locs"):
        gaussian_mixture([0.5, 0.5], [0, 1, 2], [1, 1])


def ref_loop_nd(n, lam, T, reps, d, seed, workflow, unbiased, method):
    """Plain NumPy d-D loop in the kernels' draw order (one replicate block)."""
    g = _child(seed)
    if method == "exact":  # x̄ ~ N(0, I/n); scatter ~ W_d(I, n − 1) by Bartlett (χ² diagonal, normals below)
        means = g.standard_normal((reps, d)) / math.sqrt(n)
        chi = g.chisquare(n - 1 - np.arange(d), (reps, d))
        below = g.standard_normal((reps, d * (d - 1) // 2))
        scatters = []
        for r in range(reps):
            A = np.diag(np.sqrt(chi[r]))
            A[np.tril_indices(d, -1)] = below[r]
            scatters.append(A @ A.T)
    else:
        x = g.standard_normal((reps, n, d))
    m = int(math.floor(lam * n + 1e-9))
    ddof = 1 if unbiased else 0
    out_mu, out_cov = np.zeros((reps, T + 1, d)), np.zeros((reps, T + 1, d, d))
    for r in range(reps):
        if method == "exact":
            xr, Sr = means[r], scatters[r]
            pool = []
        else:
            xr = x[r].mean(0)
            Sr = (x[r] - xr).T @ (x[r] - xr)
            pool = list(x[r])
        mu, Sig = xr.copy(), Sr / (n - ddof)
        P, pm, pS = n, xr.copy(), Sr.copy()
        out_mu[r, 0], out_cov[r, 0] = mu, Sig
        for t in range(1, T + 1):
            C = np.linalg.cholesky(Sig)
            if method == "exact":
                z = np.array([g.standard_normal() for _ in range(d)])
                ybar = mu + C @ z / math.sqrt(m)
                if m - 1 >= d:
                    B = np.zeros((d, d))
                    for i in range(d):
                        for j in range(i):
                            B[i, j] = g.standard_normal()
                        B[i, i] = math.sqrt(g.chisquare(m - 1.0 - i))
                    Sy = (C @ B) @ (C @ B).T
                else:
                    Sy = np.zeros((d, d))
                    for _ in range(m - 1):
                        v = C @ np.array([g.standard_normal() for _ in range(d)])
                        Sy += np.outer(v, v)
                if workflow == "replace":
                    dl = ybar - xr
                    mu = xr + dl * m / (n + m)
                    Sig = (Sr + Sy + n * m / (n + m) * np.outer(dl, dl)) / (n + m - ddof)
                else:
                    dl = ybar - pm
                    pm = pm + dl * m / (P + m)
                    pS = pS + Sy + P * m / (P + m) * np.outer(dl, dl)
                    P += m
                    mu, Sig = pm.copy(), pS / (P - ddof)
            else:
                y = np.array([mu + C @ np.array([g.standard_normal() for _ in range(d)]) for _ in range(m)])
                if workflow == "replace":
                    data = np.concatenate([x[r], y])
                else:
                    pool.extend(y)
                    data = np.array(pool)
                mu, Sig = data.mean(0), np.cov(data, rowvar=False, ddof=ddof)
            out_mu[r, t], out_cov[r, t] = mu, Sig
    return out_mu, out_cov


@settings(max_examples=12)
@given(d=st.integers(2, 4), extra=st.integers(1, 12), lam=st.floats(0.1, 2.0), T=st.integers(1, 6),
       reps=st.integers(1, 3), seed=st.integers(0, 2**32 - 1), workflow=st.sampled_from(["replace", "accumulate"]),
       estimator=st.sampled_from(["unbiased", "mle"]), method=st.sampled_from(["exact", "samples"]))
def test_mixed_nd_kernels_equal_numpy_reference(d, extra, lam, T, reps, seed, workflow, estimator, method):
    n = d + extra
    if int(math.floor(lam * n + 1e-9)) == 0:
        lam = 1.0 / n
    res = simulate_gaussian(n, T, reps=reps, dim=d, lam=lam, workflow=workflow, estimator=estimator, method=method,
                            rng=seed, return_cov=True)
    mu, cov = ref_loop_nd(n, lam, T, reps, d, seed, workflow, estimator == "unbiased", method)
    np.testing.assert_allclose(res.mu, mu, rtol=1e-9, atol=1e-11)
    scale = np.trace(cov, axis1=2, axis2=3)[..., None, None]
    np.testing.assert_allclose(res.cov / scale, cov / scale, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.logdet, np.linalg.slogdet(cov)[1], rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("workflow,method", [("replace", "exact"), ("accumulate", "samples"),
                                             ("accumulate-subsample", "samples")])
def test_mixed_nd_thread_invariance_and_equivariance(workflow, method):
    kw = dict(n=12, generations=60, reps=150, dim=3, lam=0.5, workflow=workflow, method=method)
    a = simulate_gaussian(**kw, rng=9, workers=1)
    b = simulate_gaussian(**kw, rng=9, workers=2)
    assert np.array_equal(a.mu, b.mu) and np.array_equal(a.logdet, b.logdet) and np.array_equal(a.trace, b.trace)
    c = simulate_gaussian(**kw, rng=9, workers=2, mu0=2.0, sigma0=3.0)
    assert np.array_equal(c.mu, 2.0 + 3.0 * a.mu) and np.array_equal(c.trace, 9.0 * a.trace)
    assert a.real_cov.shape == (150, 3, 3) and a.sigma is None


def test_mixed_nd_truth_must_be_gaussian():
    with pytest.raises(ValueError, match="truth"):
        simulate_gaussian(10, 3, dim=2, lam=1.0, truth=stats.laplace())
