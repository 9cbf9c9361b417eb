"""simulate_gaussian: sampling bias b, a (d, d) covariance Σ_0 and the fresh-data workflow
(Alemohammad et al. 2024, "Self-consuming generative models go MAD").

Moments are checked against closed forms computed inline (not imported from the theory
package), with tolerances of 5 standard errors estimated from the replicates themselves; every
check here compares fewer than ~300 means in all, so 5 SE keeps the family-wise false-alarm rate
far below 1e-3 (two-sided normal tail at 5 SE ≈ 5.7e-7 per comparison).
"""

import math

import numpy as np
import pytest

from selfconsume.simulators import simulate_gaussian

S3 = np.array([[2.0, 0.6, 0.1], [0.6, 1.0, -0.3], [0.1, -0.3, 0.5]])
K = 5.0  # standard errors


def _check_mean(x, expected, what, k=K):
    """Mean of x over axis 0 within k standard errors of ``expected`` (broadcast elementwise)."""
    x = np.asarray(x, dtype=float)
    mean = x.mean(axis=0)
    se = x.std(axis=0, ddof=1) / math.sqrt(x.shape[0])
    expected = np.broadcast_to(np.asarray(expected, dtype=float), mean.shape)
    z = np.abs(mean - expected) / np.where(se > 0, se, np.inf)
    bad = z > k
    assert not bad.any(), (f"{what}: mean {mean[bad]} vs expected {expected[bad]} "
                           f"(SE {se[bad]}, |z| max {z.max():.2f})")


def _check_two(x, y, what, k=K):
    """Means of two independent samples agree within k combined standard errors."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    d = x.mean(axis=0) - y.mean(axis=0)
    se = np.sqrt(x.var(axis=0, ddof=1) / x.shape[0] + y.var(axis=0, ddof=1) / y.shape[0])
    z = np.abs(d) / se
    assert np.all(z <= k), f"{what}: means {x.mean(axis=0)} vs {y.mean(axis=0)}, |z| = {z}"


def _outer(v):
    return v[..., :, None] * v[..., None, :]


def _synthetic_factors(n, b, T, estimator="unbiased"):
    """E Σ_t / Σ_0 = (b c)^t and Cov(μ_t − μ_0) / Σ_0 = (b/n) Σ_{s<t} (b c)^s, t = 0..T."""
    c = 1.0 if estimator == "unbiased" else (n - 1) / n
    v = np.array([(b * c) ** t for t in range(T + 1)])
    d = np.array([(b / n) * sum((b * c) ** s for s in range(t)) for t in range(T + 1)])
    return v, d


def _fresh_factors(n, m, b, T, n_init, estimator="unbiased"):
    """The fresh loop's first moments in units of Σ_0: v_t = E Σ_t, δ_t = E(μ_t−μ_0)(μ_t−μ_0)ᵀ.

    Written with the between-group term's b v/m part as n b v / N, so m = 0 needs no special case."""
    N = n + m
    D = N - 1 if estimator == "unbiased" else N
    Di = n_init - 1 if estimator == "unbiased" else n_init
    v, d = [(n_init - 1) / Di], [1.0 / n_init]
    for _ in range(T):
        vp, dp = v[-1], d[-1]
        d.append((m / N) ** 2 * dp + n / N**2 + m * b * vp / N**2)
        v.append(((n - 1) + (m - 1) * b * vp + (n * m / N) * (dp + 1.0 / n) + n * b * vp / N) / D)
    return np.array(v), np.array(d)


def test_fresh_factors_formula_sanity():
    # the recursion's expanded form equals the brief's form for m ≥ 1 ...
    n, m, b = 5, 8, 0.7
    N = n + m
    v, d = _fresh_factors(n, m, b, 4, 3)
    for t in range(1, 5):
        brief = ((n - 1) + (m - 1) * b * v[t - 1] + (n * m / N) * (d[t - 1] + 1 / n + b * v[t - 1] / m)) / (N - 1)
        assert v[t] == pytest.approx(brief, rel=1e-14)
    # ... and with m = 0 every generation is an independent fit: v = 1, δ = 1/n
    v, d = _fresh_factors(6, 0, 0.5, 3, 4)
    np.testing.assert_allclose(v, 1.0, rtol=1e-14)
    np.testing.assert_allclose(d[1:], 1 / 6, rtol=1e-14)
    # theory.md's check of the fully synthetic biased chain
    v, d = _synthetic_factors(20, 0.8, 15)
    assert v[15] == pytest.approx(0.035184, abs=5e-7)
    assert d[15] == pytest.approx(0.19296, abs=5e-6)


# --------------------------------------------------------------------------- bias = 1 is the default

BIAS_ONE_CASES = [
    dict(n=7, generations=4, reps=30),
    dict(n=7, generations=4, reps=30, method="samples", mu0=0.3, sigma0=1.7),
    dict(n=6, generations=4, reps=20, dim=3, return_cov=True),
    dict(n=6, generations=4, reps=20, dim=3, method="samples", sigma0=S3),
    dict(n=3, generations=4, reps=20, dim=3, return_cov=True),
    dict(n=3, generations=4, reps=20, dim=3, method="samples", sigma0=S3),
    dict(n=8, generations=4, reps=20, lam=1.5),
    dict(n=8, generations=4, reps=20, lam=1.5, method="samples", workflow="accumulate"),
    dict(n=8, generations=4, reps=20, lam=1.5, workflow="accumulate-subsample", method="samples"),
    dict(n=8, generations=4, reps=20, lam=1.5, dim=3, sigma0=S3, return_cov=True),
    dict(n=8, generations=4, reps=20, lam=1.5, dim=3, workflow="accumulate", method="samples"),
    dict(n=3, generations=4, reps=20, lam=1.5, dim=3, return_cov=True),
    dict(n=5, generations=4, reps=20, lam=1.0, workflow="fresh", n_init=3),
    dict(n=5, generations=4, reps=20, lam=1.0, workflow="fresh", method="samples"),
    dict(n=5, generations=4, reps=20, lam=1.0, dim=3, workflow="fresh", sigma0=S3, return_cov=True),
    dict(n=5, generations=4, reps=20, lam=1.0, dim=3, workflow="fresh", method="samples"),
]


@pytest.mark.parametrize("kw", BIAS_ONE_CASES, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()
                                                                          if k in ("n", "dim", "lam", "workflow", "method")))
def test_bias_one_is_bit_identical_to_default(kw):
    a = simulate_gaussian(**kw, rng=11)
    for bias in (1.0, 1, np.float64(1.0)):
        b = simulate_gaussian(**kw, rng=11, bias=bias)
        assert b.bias == 1.0
        for name in ("mu", "sigma", "log_sigma", "logdet", "trace", "cov", "real_mean", "real_sigma", "real_cov"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None), name
            if x is not None:
                np.testing.assert_array_equal(x, y, err_msg=name)


# --------------------------------------------------------------------------- fully synthetic with bias

@pytest.mark.parametrize("method", ["exact", "samples"])
def test_biased_synthetic_1d_moments(method):
    n, b, T, reps = 20, 0.8, 15, 200_000
    r = simulate_gaussian(n, T, reps=reps, mu0=0.5, sigma0=1.3, bias=b, method=method, rng=2024)
    v, d = _synthetic_factors(n, b, T)
    assert r.bias == b
    np.testing.assert_array_equal(r.sigma[:, 0], 1.3)
    np.testing.assert_array_equal(r.mu[:, 0], 0.5)
    _check_mean(r.sigma[:, 1:] ** 2, 1.3**2 * v[1:], f"{method}: E sigma_t^2")
    _check_mean((r.mu[:, 1:] - 0.5) ** 2, 1.3**2 * d[1:], f"{method}: E (mu_t - mu0)^2")
    _check_mean(r.mu[:, 1:], 0.5, f"{method}: E mu_t")


def test_biased_synthetic_1d_mle():
    n, b, T = 10, 0.6, 6
    r = simulate_gaussian(n, T, reps=200_000, estimator="mle", bias=b, rng=7)
    v, d = _synthetic_factors(n, b, T, "mle")
    _check_mean(r.sigma[:, 1:] ** 2, v[1:], "mle: E sigma_t^2")
    _check_mean(r.mu[:, 1:] ** 2, d[1:], "mle: E mu_t^2")


def test_biased_exact_1d_is_pathwise_rescaled_unbiased_chain():
    n, T, b = 9, 12, 0.55
    kw = dict(reps=500, mu0=-0.4, sigma0=2.1, rng=99)
    u = simulate_gaussian(n, T, **kw)
    w = simulate_gaussian(n, T, bias=b, **kw)
    t = np.arange(T + 1)
    np.testing.assert_allclose(w.log_sigma, u.log_sigma + 0.5 * t * math.log(b), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(w.sigma, u.sigma * b ** (t / 2), rtol=1e-12)
    # the step into generation t is σ_{t−1} √b z_t /√n: scaled by b^{t/2}
    np.testing.assert_allclose(np.diff(w.mu, axis=1), np.diff(u.mu, axis=1) * b ** (t[1:] / 2),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_biased_synthetic_3d_full_cov(method):
    n, b, T, reps = 10, 0.8, 4, 100_000
    r = simulate_gaussian(n, T, reps=reps, dim=3, mu0=1.0, sigma0=S3, bias=b, method=method,
                          return_cov=True, rng=31)
    assert r.sigma0.shape == (3, 3)
    v, d = _synthetic_factors(n, b, T)
    for t in range(1, T + 1):
        _check_mean(r.cov[:, t].reshape(reps, 9), (v[t] * S3).ravel(), f"{method}: E cov_{t}")
        _check_mean(_outer(r.mu[:, t] - 1.0).reshape(reps, 9), (d[t] * S3).ravel(), f"{method}: Cov mu_{t}")
        _check_mean(r.mu[:, t], 1.0, f"{method}: E mu_{t}")
    _check_mean(r.trace[:, 1:], v[1:] * np.trace(S3), f"{method}: E trace")
    np.testing.assert_allclose(r.trace, np.trace(r.cov, axis1=2, axis2=3), rtol=1e-12)
    np.testing.assert_allclose(r.logdet, np.linalg.slogdet(r.cov)[1], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_biased_synthetic_3d_low_rank(method):
    # n ≤ d: rank n − 1 = 2 fits; heavy-tailed, so E trace and E ||μ_t − μ_0||² only
    n, b, T, reps = 3, 0.8, 3, 200_000
    r = simulate_gaussian(n, T, reps=reps, dim=3, sigma0=S3, bias=b, method=method, return_cov=True, rng=5)
    v, d = _synthetic_factors(n, b, T)
    assert np.all(r.logdet[:, 1:] == -np.inf)
    assert r.logdet[0, 0] == pytest.approx(np.linalg.slogdet(S3)[1], rel=1e-12)
    _check_mean(r.trace[:, 1:], v[1:] * np.trace(S3), f"{method}: E trace (n <= d)")
    _check_mean((r.mu[:, 1:] ** 2).sum(axis=2), d[1:] * np.trace(S3), f"{method}: E ||mu_t||^2 (n <= d)")
    # the fits are singular: rank n − 1 = 2
    ev = np.linalg.eigvalsh(r.cov[:200, 1:])
    assert np.all(np.abs(ev[..., 0]) <= 1e-10 * ev[..., -1])
    assert np.all(ev[..., 1] > 0)


# --------------------------------------------------------------------------- Σ_0 as a matrix

@pytest.mark.parametrize("method", ["exact", "samples"])
@pytest.mark.parametrize("n", [10, 3])
def test_sigma0_matrix_generation0_exact(method, n):
    r = simulate_gaussian(n, 2, reps=7, dim=3, mu0=0.25, sigma0=S3, method=method, return_cov=True, rng=1)
    np.testing.assert_allclose(r.logdet[:, 0], np.linalg.slogdet(S3)[1], rtol=1e-14)
    np.testing.assert_allclose(r.trace[:, 0], np.trace(S3), rtol=1e-14)
    np.testing.assert_allclose(r.cov[:, 0], np.broadcast_to(S3, (7, 3, 3)), rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(r.mu[:, 0], 0.25)
    np.testing.assert_array_equal(r.sigma0, S3)
    assert not r.sigma0.flags.writeable
    assert np.isnan(r.to_frame()["sigma0"]).all()


ISO_CASES = [
    dict(n=10, method="exact"), dict(n=10, method="samples"), dict(n=3, method="exact"), dict(n=3, method="samples"),
    dict(n=10, method="exact", lam=1.5), dict(n=3, method="samples", lam=1.5, workflow="accumulate"),
    dict(n=10, method="samples", lam=1.5, workflow="accumulate-subsample"),
    dict(n=10, method="exact", lam=1.0, workflow="fresh"), dict(n=10, method="samples", lam=1.0, workflow="fresh"),
]


@pytest.mark.parametrize("kw", ISO_CASES, ids=lambda kw: "-".join(str(v) for v in kw.values()))
def test_sigma0_isotropic_matrix_matches_scalar(kw):
    """σ²I given as a matrix runs in the original coordinates (C0 = I with the scale e^{s0} = σ
    inside the kernels) while a scalar σ runs in standardised units and rescales the outputs at
    the end: the same draws, a different order of roundings. So Σ_0 = I is bit-identical to
    σ_0 = 1 (no scaling happens on either side), and σ²I agrees with σ only to rounding (observed
    ≤ 5e-13 relative, ~1e-15 typically; even σ = 2 is not bit-exact), asserted to 1e-10."""
    base = dict(reps=300, dim=3, mu0=0.2, return_cov=True, rng=12, **kw)
    a = simulate_gaussian(generations=6, sigma0=1.0, **base)
    b = simulate_gaussian(generations=6, sigma0=np.eye(3), **base)
    for name in ("mu", "logdet", "trace", "cov"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    s = 1.7
    a = simulate_gaussian(generations=6, sigma0=s, **base)
    b = simulate_gaussian(generations=6, sigma0=s**2 * np.eye(3), **base)
    np.testing.assert_allclose(b.trace, a.trace, rtol=1e-10)
    fin = np.isfinite(a.logdet)
    assert np.array_equal(fin, np.isfinite(b.logdet))
    assert kw["n"] > 3 or not fin[:, 1:].any()  # n ≤ d: every fit after generation 0 is singular
    np.testing.assert_allclose(b.logdet[fin], a.logdet[fin], rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.mu, a.mu, rtol=0, atol=1e-10 * s)
    np.testing.assert_allclose(b.cov, a.cov, rtol=0, atol=1e-10 * np.abs(a.cov).max())


def test_sigma0_1d_matrix_is_scalar():
    a = simulate_gaussian(8, 5, reps=50, sigma0=1.5, rng=3)
    b = simulate_gaussian(8, 5, reps=50, sigma0=[[2.25]], rng=3)
    assert b.sigma0 == 1.5
    np.testing.assert_array_equal(a.sigma, b.sigma)


# --------------------------------------------------------------------------- real-data workflows with bias

@pytest.mark.parametrize("workflow", ["replace", "accumulate"])
def test_biased_real_data_1d_exact_vs_samples(workflow):
    n, lam, b, T, reps = 10, 1.5, 0.6, 5, 40_000
    kw = dict(reps=reps, lam=lam, workflow=workflow, bias=b, mu0=0.3, sigma0=1.4)
    e = simulate_gaussian(n, T, method="exact", rng=100, **kw)
    s = simulate_gaussian(n, T, method="samples", rng=200, **kw)
    assert e.bias == s.bias == b
    _check_two(e.sigma[:, 1:] ** 2, s.sigma[:, 1:] ** 2, f"{workflow}: sigma_t^2")
    _check_two((e.mu[:, 1:] - 0.3) ** 2, (s.mu[:, 1:] - 0.3) ** 2, f"{workflow}: (mu_t - mu0)^2")
    # bias shrinks the variance relative to unbiased sampling (a sanity check of direction)
    u = simulate_gaussian(n, T, method="exact", rng=100, **{**kw, "bias": 1.0})
    assert (e.sigma[:, T] ** 2).mean() < (u.sigma[:, T] ** 2).mean()


@pytest.mark.parametrize("workflow", ["replace", "accumulate"])
@pytest.mark.parametrize("n", [10, 3])  # n = 3 ≤ d: the low-rank paths (the chain lives in the real span)
def test_biased_real_data_3d_exact_vs_samples(workflow, n):
    lam, b, T, reps = 1.5, 0.6, 4, 20_000
    kw = dict(reps=reps, dim=3, lam=lam, workflow=workflow, bias=b, mu0=-0.5, sigma0=S3, return_cov=True)
    e = simulate_gaussian(n, T, method="exact", rng=300, **kw)
    s = simulate_gaussian(n, T, method="samples", rng=400, **kw)
    _check_two(e.trace[:, 1:], s.trace[:, 1:], f"{workflow}: trace")
    _check_two(((e.mu[:, 1:] + 0.5) ** 2).sum(-1), ((s.mu[:, 1:] + 0.5) ** 2).sum(-1), f"{workflow}: ||mu-mu0||^2")
    _check_two(e.cov[:, T].reshape(reps, 9), s.cov[:, T].reshape(reps, 9), f"{workflow}: cov_T")
    # generation 0 is the fit to the real sample, whose law does not involve the bias
    np.testing.assert_allclose(e.cov[:, 0], e.real_cov, rtol=1e-12, atol=1e-14)
    _check_mean(e.real_cov.reshape(reps, 9), S3.ravel(), "E real_cov")


# --------------------------------------------------------------------------- fresh workflow

@pytest.mark.parametrize("method", ["exact", "samples"])
def test_fresh_1d_matches_recursion(method):
    n, lam, b, n_init, T, reps = 5, 1.7, 0.7, 3, 6, 40_000
    m = int(math.floor(lam * n + 1e-9))
    assert m == 8
    mu0, s0 = 0.4, 1.3
    r = simulate_gaussian(n, T, reps=reps, lam=lam, workflow="fresh", n_init=n_init, bias=b, mu0=mu0,
                          sigma0=s0, method=method, rng=77)
    assert r.workflow == "fresh" and r.n_init == n_init and r.bias == b and r.lam == lam
    v, d = _fresh_factors(n, m, b, T, n_init)
    _check_mean(r.sigma**2, s0**2 * v, f"{method}: E sigma_t^2")
    _check_mean((r.mu - mu0) ** 2, s0**2 * d, f"{method}: E (mu_t - mu0)^2")
    _check_mean(r.mu, mu0, f"{method}: E mu_t")
    np.testing.assert_allclose(r.mu[:, 0], r.real_mean, rtol=1e-15)
    np.testing.assert_allclose(r.sigma[:, 0], r.real_sigma, rtol=1e-13)


def test_fresh_1d_mle_and_default_n_init():
    n, lam, b, T = 6, 0.5, 0.9, 4
    r = simulate_gaussian(n, T, reps=60_000, lam=lam, workflow="fresh", bias=b, estimator="mle", rng=8)
    assert r.n_init == n
    v, d = _fresh_factors(n, 3, b, T, n, "mle")
    _check_mean(r.sigma**2, v, "mle fresh: E sigma_t^2")
    _check_mean(r.mu**2, d, "mle fresh: E mu_t^2")


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_fresh_3d_matches_recursion(method):
    n, lam, b, n_init, T, reps = 5, 1.0, 0.7, 5, 5, 40_000
    r = simulate_gaussian(n, T, reps=reps, dim=3, lam=lam, workflow="fresh", n_init=n_init, bias=b, mu0=1.0,
                          sigma0=S3, method=method, return_cov=True, rng=55)
    v, d = _fresh_factors(n, 5, b, T, n_init)
    for t in range(T + 1):
        _check_mean(r.cov[:, t].reshape(reps, 9), (v[t] * S3).ravel(), f"{method}: E cov_{t}")
        _check_mean(_outer(r.mu[:, t] - 1.0).reshape(reps, 9), (d[t] * S3).ravel(), f"{method}: E mu mu^T {t}")
    _check_mean(r.trace, v * np.trace(S3), f"{method}: E trace")
    np.testing.assert_allclose(r.cov[:, 0], r.real_cov, rtol=1e-12, atol=1e-14)


def test_fresh_3d_exact_vs_samples():
    n, lam, b, n_init, T, reps = 4, 0.75, 0.5, 6, 4, 30_000
    kw = dict(reps=reps, dim=3, lam=lam, workflow="fresh", n_init=n_init, bias=b, sigma0=S3, return_cov=True)
    e = simulate_gaussian(n, T, method="exact", rng=1, **kw)
    s = simulate_gaussian(n, T, method="samples", rng=2, **kw)
    _check_two(e.cov[:, T].reshape(reps, 9), s.cov[:, T].reshape(reps, 9), "fresh cov_T")
    _check_two(e.logdet[:, 1:], s.logdet[:, 1:], "fresh logdet")
    _check_two((e.mu[:, T] ** 2).sum(-1), (s.mu[:, T] ** 2).sum(-1), "fresh ||mu_T||^2")


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_fresh_lam0_is_independent_fits(method):
    n, T, reps, s0 = 6, 4, 60_000, 1.5
    r = simulate_gaussian(n, T, reps=reps, lam=0.0, workflow="fresh", n_init=3, sigma0=s0, bias=0.5,
                          method=method, rng=4)
    _check_mean(r.sigma[:, 1:] ** 2, s0**2, f"{method}: lam=0 E sigma_t^2")
    _check_mean(r.mu[:, 1:] ** 2, s0**2 / n, f"{method}: lam=0 E mu_t^2")
    # independence across generations: no correlation between consecutive fits
    for x in (r.mu, r.sigma**2):
        z = (x - x.mean(0)) / x.std(0)
        _check_mean(z[:, 1:-1] * z[:, 2:], 0.0, f"{method}: lam=0 lag-1 correlation")
    # the ratio sigma_t^2 (n−1)/σ0² is χ²_{n−1}: its variance is 2(n−1)
    _check_mean(((r.sigma[:, 1:] ** 2 * (n - 1) / s0**2) - (n - 1)) ** 2, 2.0 * (n - 1), f"{method}: Var chi2")


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_fresh_single_real_point(method):
    n, lam, b, T, reps = 1, 3.0, 0.8, 6, 60_000
    r = simulate_gaussian(n, T, reps=reps, lam=lam, workflow="fresh", n_init=2, bias=b, method=method, rng=9)
    v, d = _fresh_factors(1, 3, b, T, 2)
    _check_mean(r.sigma**2, v, f"{method}: n=1 E sigma_t^2")
    _check_mean(r.mu**2, d, f"{method}: n=1 E mu_t^2")


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_fresh_thread_count_invariance(method):
    kw = dict(reps=3000, dim=3, lam=1.2, workflow="fresh", n_init=4, bias=0.6, sigma0=S3, method=method,
              return_cov=True, rng=2718)
    a = simulate_gaussian(5, 5, workers=1, **kw)
    b = simulate_gaussian(5, 5, workers=2, **kw)
    for name in ("mu", "logdet", "trace", "cov", "real_mean", "real_cov"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_fresh_1d_thread_count_invariance():
    kw = dict(reps=5000, lam=1.2, workflow="fresh", n_init=4, bias=0.6, rng=31)
    a = simulate_gaussian(5, 5, workers=1, **kw)
    b = simulate_gaussian(5, 5, workers=2, **kw)
    np.testing.assert_array_equal(a.mu, b.mu)
    np.testing.assert_array_equal(a.log_sigma, b.log_sigma)


def test_to_frame_has_bias_and_n_init():
    r = simulate_gaussian(5, 3, reps=4, lam=1.0, workflow="fresh", n_init=3, bias=0.7, rng=0)
    df = r.to_frame()
    assert (df["bias"] == 0.7).all() and (df["n_init"] == 3).all() and (df["workflow"] == "fresh").all()
    assert len(df) == 4 * 4
    df = simulate_gaussian(5, 3, reps=2, dim=3, sigma0=S3, bias=0.5, rng=0).to_frame()
    assert (df["bias"] == 0.5).all() and df["n_init"].isna().all() and df["sigma0"].isna().all()
    df = simulate_gaussian(5, 3, reps=2, rng=0).to_frame()
    assert (df["bias"] == 1.0).all() and df["n_init"].isna().all()


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("bias", [0, 0.0, -0.1, 1.1, float("nan"), float("inf")])
def test_bad_bias_value(bias):
    with pytest.raises(ValueError, match="bias"):
        simulate_gaussian(5, 2, bias=bias)
    with pytest.raises(ValueError, match="bias"):
        simulate_gaussian(5, 2, lam=1.0, workflow="fresh", bias=bias)


def test_bad_bias_type():
    with pytest.raises((TypeError, ValueError), match="bias"):
        simulate_gaussian(5, 2, bias="a")


@pytest.mark.parametrize("sigma0, match", [
    (np.array([[1.0, 0.2, 0.0], [0.3, 1.0, 0.0], [0.0, 0.0, 1.0]]), "symmetric"),
    (np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), "positive definite"),  # eigenvalue −1
    (-np.eye(3), "positive definite"),
    (np.zeros((3, 3)), "positive definite"),
    (np.eye(2), "shape"),
    (np.ones(3), "shape"),
    (np.array([[1.0, 0.0, 0.0], [0.0, np.nan, 0.0], [0.0, 0.0, 1.0]]), "finite"),
    (np.array([[1.0, 0.0, 0.0], [0.0, np.inf, 0.0], [0.0, 0.0, 1.0]]), "finite"),
])
def test_bad_sigma0_matrix(sigma0, match):
    for kw in (dict(), dict(lam=1.0), dict(lam=1.0, workflow="fresh")):
        with pytest.raises(ValueError, match="sigma0") as info:
            simulate_gaussian(5, 2, dim=3, sigma0=sigma0, **kw)
        assert match in str(info.value)


def test_bad_sigma0_scalar_and_type():
    for s in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="sigma0"):
            simulate_gaussian(5, 2, sigma0=s)
    with pytest.raises((TypeError, ValueError), match="sigma0"):
        simulate_gaussian(5, 2, dim=3, sigma0=[["a", "b", "c"]] * 3)
    with pytest.raises(ValueError, match="sigma0"):
        simulate_gaussian(5, 2, dim=1, sigma0=[[-1.0]])


@pytest.mark.parametrize("workflow", ["replace", "accumulate"])
def test_n_init_requires_fresh(workflow):
    with pytest.raises(ValueError, match="n_init"):
        simulate_gaussian(5, 2, lam=1.0, workflow=workflow, n_init=4)
    with pytest.raises(ValueError, match="n_init"):
        simulate_gaussian(5, 2, n_init=4)


@pytest.mark.parametrize("n_init", [1, 0, -3])
def test_n_init_too_small(n_init):
    with pytest.raises(ValueError, match="n_init"):
        simulate_gaussian(5, 2, lam=1.0, workflow="fresh", n_init=n_init)


def test_n_init_type():
    with pytest.raises((TypeError, ValueError), match="n_init"):
        simulate_gaussian(5, 2, lam=1.0, workflow="fresh", n_init=2.5)


def test_fresh_requires_lam():
    with pytest.raises(ValueError, match="lam"):
        simulate_gaussian(5, 2, workflow="fresh")


def test_fresh_rejects_truth():
    from scipy import stats

    with pytest.raises(ValueError, match="truth"):
        simulate_gaussian(5, 2, lam=1.0, workflow="fresh", truth=stats.t(5))


@pytest.mark.parametrize("n, lam", [(2, 0.5), (3, 0.0), (1, 2.0), (2, 0.0)])
def test_fresh_3d_needs_nonsingular_pool(n, lam):
    # n + m <= 3 (m = floor(lam n)): every pooled fit would be singular
    with pytest.raises(ValueError, match=r"n \+ m"):
        simulate_gaussian(n, 2, dim=3, lam=lam, workflow="fresh", n_init=5)


@pytest.mark.parametrize("method", ["exact", "samples"])
@pytest.mark.parametrize("n_init", [2, 3])
def test_fresh_3d_singular_generation0(method, n_init):
    """n_init ≤ d: generation 0 is the singular fit to n_init real points (log det −inf); the pooled
    fits after it are non-singular and the first moments still follow the recursion (E of a
    singular scatter is still (n_init − 1) Σ_0)."""
    n, lam, b, T, reps = 5, 1.0, 0.7, 4, 40_000
    r = simulate_gaussian(n, T, reps=reps, dim=3, lam=lam, workflow="fresh", n_init=n_init, bias=b, sigma0=S3,
                          method=method, return_cov=True, rng=3)
    assert np.all(r.logdet[:, 0] == -np.inf) and np.all(np.isfinite(r.logdet[:, 1:]))
    v, d = _fresh_factors(n, 5, b, T, n_init)
    for t in range(T + 1):
        _check_mean(r.cov[:, t].reshape(reps, 9), (v[t] * S3).ravel(), f"{method}: E cov_{t}")
        _check_mean(_outer(r.mu[:, t]).reshape(reps, 9), (d[t] * S3).ravel(), f"{method}: E mu mu^T {t}")


def test_fresh_default_n_init_is_n():
    with pytest.raises(ValueError, match="n_init"):  # n = 1 needs an explicit n_init >= 2
        simulate_gaussian(1, 2, lam=2.0, workflow="fresh")


def test_fresh_pool_of_one_point():
    with pytest.raises(ValueError, match="n"):
        simulate_gaussian(1, 2, lam=0.5, workflow="fresh", n_init=2)  # n + m = 1


@pytest.mark.parametrize("kw", [dict(), dict(lam=1.0), dict(lam=1.0, workflow="accumulate"),
                                dict(lam=1.0, workflow="accumulate-subsample", method="samples")])
def test_n1_only_for_fresh(kw):
    with pytest.raises(ValueError, match="n"):
        simulate_gaussian(1, 2, **kw)
