"""Unit, reference and property tests of simulate_gaussian (statistical agreement lives in the claims)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from selfconsume.simulators import simulate_gaussian

# A run with reps <= 64 is one replicate block, driven by the first child of the seed's
# SeedSequence: the NumPy references below draw from that same stream, in the kernels'
# documented order (see simulators/_gaussian_kernels.py).


def _child(seed):
    return np.random.default_rng(seed).spawn(1)[0]


def ref_1d(n, T, reps, divisor, seed, method):
    g = _child(seed)
    L = np.zeros((reps, T + 1))
    M = np.zeros((reps, T + 1))
    for r in range(reps):
        lt = mt = 0.0
        for t in range(1, T + 1):
            if method == "exact":
                z = g.standard_normal()
                mt += math.exp(lt) * z / math.sqrt(n)
                c = g.chisquare(n - 1.0)
                lt += 0.5 * (math.log(c) - math.log(divisor))
            else:
                x = g.standard_normal(n)
                mt += math.exp(lt) * x.mean()
                lt += 0.5 * (math.log(((x - x.mean()) ** 2).sum()) - math.log(divisor))
            L[r, t], M[r, t] = lt, mt
    return L, M


def ref_nd_exact(n, T, reps, d, divisor, seed):
    """Plain matrix recursion of the Cholesky factor, C ← C B/√divisor (Σ = C Cᵀ), in the
    kernel's draw order. Carrying C rather than re-factorising Σ keeps the reference
    accurate when Σ_t becomes ill-conditioned (n close to d)."""
    g = _child(seed)
    logdet = np.zeros((reps, T + 1))
    trace = np.zeros((reps, T + 1))
    mu = np.zeros((reps, T + 1, d))
    cov = np.zeros((reps, T + 1, d, d))
    for r in range(reps):
        C = np.eye(d)
        cov[r, 0] = np.eye(d)
        m = np.zeros(d)
        logdet[r, 0], trace[r, 0] = 0.0, d
        for t in range(1, T + 1):
            z = np.array([g.standard_normal() for _ in range(d)])
            m = m + C @ z / math.sqrt(n)
            B = np.zeros((d, d))
            for i in range(d):
                B[i, i] = math.sqrt(g.chisquare(n - 1.0 - i))
                for j in range(i):
                    B[i, j] = g.standard_normal()
            C = C @ B / math.sqrt(divisor)
            mu[r, t] = m
            logdet[r, t] = 2 * np.log(np.abs(np.diag(C))).sum()
            trace[r, t] = (C**2).sum()
            cov[r, t] = C @ C.T
    return mu, logdet, trace, cov


@settings(max_examples=25)
@given(n=st.integers(2, 40), T=st.integers(0, 15), reps=st.integers(1, 64), seed=st.integers(0, 2**32 - 1),
       estimator=st.sampled_from(["unbiased", "mle"]), method=st.sampled_from(["exact", "samples"]))
def test_1d_kernels_equal_numpy_reference(n, T, reps, seed, estimator, method):
    res = simulate_gaussian(n, T, reps=reps, estimator=estimator, method=method, rng=seed)
    L, M = ref_1d(n, T, reps, n - 1 if estimator == "unbiased" else n, seed, method)
    np.testing.assert_allclose(res.log_sigma, L, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.mu, M, rtol=1e-10, atol=1e-12)


@settings(max_examples=15)
@given(d=st.integers(2, 5), extra=st.integers(1, 10), T=st.integers(1, 8), reps=st.integers(1, 8),
       seed=st.integers(0, 2**32 - 1), estimator=st.sampled_from(["unbiased", "mle"]))
def test_nd_exact_kernel_equals_matrix_reference(d, extra, T, reps, seed, estimator):
    n = d + extra
    res = simulate_gaussian(n, T, reps=reps, dim=d, estimator=estimator, rng=seed, return_cov=True)
    mu, logdet, trace, cov = ref_nd_exact(n, T, reps, d, n - 1 if estimator == "unbiased" else n, seed)
    np.testing.assert_allclose(res.logdet, logdet, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.trace, trace, rtol=1e-9)
    np.testing.assert_allclose(res.mu, mu, rtol=1e-9, atol=1e-12)
    # Entrywise, relative to the scale of Σ_t (a log-determinant recomputed from an
    # ill-conditioned Σ_t would itself be inaccurate, so compare the matrices instead).
    scale = trace[:, :, None, None]
    np.testing.assert_allclose(res.cov / scale, cov / scale, rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.trace(res.cov, axis1=2, axis2=3), res.trace, rtol=1e-12)


def test_nd_samples_method_matches_plain_numpy_loop():
    """The literal d-D loop against NumPy: draw μ + C z, np.cov, Cholesky."""
    n, d, T, reps, seed = 9, 3, 6, 5, 123
    res = simulate_gaussian(n, T, reps=reps, dim=d, method="samples", rng=seed, return_cov=True)
    g = _child(seed)
    for r in range(reps):
        S, m = np.eye(d), np.zeros(d)
        for t in range(1, T + 1):
            Z = np.array([[g.standard_normal() for _ in range(d)] for _ in range(n)])
            X = m + Z @ np.linalg.cholesky(S).T
            m, S = X.mean(axis=0), np.cov(X, rowvar=False, ddof=1)
            np.testing.assert_allclose(res.mu[r, t], m, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(res.cov[r, t], S, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("dim", [1, 3])
@pytest.mark.parametrize("method", ["exact", "samples"])
def test_thread_count_invariance(dim, method):
    kw = dict(n=7, generations=1000, reps=300, dim=dim, method=method)
    from selfconsume.simulators._gaussian import chain_blocks

    assert len(chain_blocks(300, 7, 1000, dim, method)) > 2  # several blocks, so threads really share them
    a = simulate_gaussian(**kw, rng=2024, workers=1)
    b = simulate_gaussian(**kw, rng=2024, workers=2)
    c = simulate_gaussian(**kw, rng=2024, workers=3)
    for field in ("mu", "sigma", "log_sigma", "logdet", "trace"):
        x, y, z = getattr(a, field), getattr(b, field), getattr(c, field)
        if x is None:
            continue
        assert np.array_equal(x, y) and np.array_equal(x, z), field
    d = simulate_gaussian(**kw, rng=2025, workers=2)
    assert not np.array_equal(a.mu, d.mu)


@settings(max_examples=30)
@given(scale=st.floats(1e-6, 1e6), shift=st.floats(-1e6, 1e6), seed=st.integers(0, 2**32 - 1),
       method=st.sampled_from(["exact", "samples"]), dim=st.sampled_from([1, 2]))
def test_scale_and_shift_equivariance_is_exact(scale, shift, seed, method, dim):
    base = simulate_gaussian(5, 12, reps=70, dim=dim, method=method, rng=seed)
    res = simulate_gaussian(5, 12, reps=70, dim=dim, method=method, mu0=shift, sigma0=scale, rng=seed)
    assert np.array_equal(res.mu, shift + scale * base.mu)
    if dim == 1:
        assert np.array_equal(res.sigma, scale * base.sigma)
    else:
        assert np.array_equal(res.trace, base.trace * scale**2)
        np.testing.assert_allclose(res.logdet, base.logdet + 2 * dim * math.log(scale), rtol=0, atol=1e-9)


def test_shapes_initial_values_and_frame():
    r = simulate_gaussian(10, 4, reps=3, mu0=1.0, sigma0=2.0, rng=0)
    assert r.mu.shape == r.sigma.shape == r.log_sigma.shape == (3, 5)
    assert np.all(r.sigma[:, 0] == 2.0) and np.all(r.mu[:, 0] == 1.0)
    assert r.logdet is None and r.trace is None and r.cov is None
    df = r.to_frame()
    assert len(df) == 15 and {"rep", "generation", "mu", "sigma", "log_sigma", "n", "method"} <= set(df.columns)
    r3 = simulate_gaussian(10, 4, reps=2, dim=3, rng=0)
    assert r3.mu.shape == (2, 5, 3) and r3.logdet.shape == (2, 5) and r3.sigma is None
    assert np.allclose(r3.trace[:, 0], 3.0) and np.allclose(r3.logdet[:, 0], 0.0)
    assert {"mu_0", "mu_2", "logdet", "trace"} <= set(r3.to_frame().columns)
    with pytest.raises(ValueError):
        r.sigma[0, 0] = 5.0  # read-only results
    assert r.seed["entropy"] == 0


def test_generations_zero_and_single_rep():
    r = simulate_gaussian(2, 0, rng=1)
    assert r.sigma.shape == (1, 1)


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_underflow_to_zero_stays_honest(method):
    # n = 2: log σ² drifts by ψ(1/2) − log(1/2) ≈ −1.27 per step; after 3000 steps σ underflows.
    r = simulate_gaussian(2, 3000, reps=4, method=method, rng=7)
    assert not np.isnan(r.sigma).any() and not np.isnan(r.mu).any()
    assert np.all(np.isfinite(r.log_sigma))
    assert (r.sigma[:, -1] == 0.0).all() and (r.log_sigma[:, -1] < -745).all()
    rd = simulate_gaussian(3, 3000, reps=2, dim=2, rng=7)
    assert np.all(np.isfinite(rd.logdet)) and not np.isnan(rd.trace).any()
    assert (rd.trace[:, -1] == 0.0).all()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n=1, generations=3), "n"),
        (dict(n=2.5, generations=3), "n"),
        (dict(n=10, generations=-1), "generations"),
        (dict(n=10, generations=3, reps=0), "reps"),
        (dict(n=10, generations=3, sigma0=0.0), "sigma0"),
        (dict(n=10, generations=3, sigma0=-1.0), "sigma0"),
        (dict(n=10, generations=3, sigma0=float("nan")), "sigma0"),
        (dict(n=10, generations=3, sigma0=float("inf")), "sigma0"),
        (dict(n=10, generations=3, mu0=float("nan")), "mu0"),
        (dict(n=10, generations=3, estimator="ddof2"), "estimator"),
        (dict(n=10, generations=3, method="fast"), "method"),
        (dict(n=10, generations=3, subsample=5), "subsample"),
        (dict(n=10, generations=3, dim=0), "dim"),
        (dict(n=10, generations=3, workers=0), "workers"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        simulate_gaussian(**kwargs)


def test_bad_rng_type():
    with pytest.raises(TypeError, match="rng"):
        simulate_gaussian(10, 3, rng="seed")
