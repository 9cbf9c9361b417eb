"""simulate_gaussian(workflow="accumulate-subsample"): the subsample size, Kazdan et al.'s protocol.

Their released code (``src/fit_gaussians/fit_gaussians.py``) fits every model on
``np.random.choice(pool, size=n, replace=False)``: the default subsample is n, not n + m.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from selfconsume import theory as th
from selfconsume.simulators import simulate_gaussian

SUB = dict(workflow="accumulate-subsample", method="samples")


def ref_subsample_loop(n, lam, k, T, reps, seed, unbiased):
    """Plain NumPy accumulate-subsample loop, one replicate block, the kernel's stream order:
    the n real points (row-major), then per generation m normals and k partial-shuffle draws."""
    g = np.random.default_rng(seed).spawn(1)[0]
    x = g.standard_normal((reps, n))
    m = int(math.floor(lam * n + 1e-9))
    ddof = 1 if unbiased else 0
    L = np.zeros((reps, T + 1))
    M = np.zeros((reps, T + 1))
    for r in range(reps):
        pool = list(x[r])
        mu, sd = np.mean(pool), np.std(pool, ddof=ddof)
        L[r, 0], M[r, 0] = math.log(sd), mu
        for t in range(1, T + 1):
            pool += [mu + sd * g.standard_normal() for _ in range(m)]
            P = len(pool)
            for i in range(k):  # partial Fisher–Yates: the first k entries are the subsample
                j = i + int(g.integers(0, P - i))
                pool[i], pool[j] = pool[j], pool[i]
            sub = np.array(pool[:k])
            mu, sd = sub.mean(), sub.std(ddof=ddof)
            L[r, t], M[r, t] = math.log(sd), mu
    return L, M


@settings(max_examples=15)
@given(n=st.integers(2, 12), lam=st.sampled_from([0.5, 1.0, 2.0]), T=st.integers(0, 8), reps=st.integers(1, 6),
       seed=st.integers(0, 2**32 - 1), estimator=st.sampled_from(["unbiased", "mle"]), data=st.data())
def test_subsample_kernel_equals_numpy_reference(n, lam, T, reps, seed, estimator, data):
    m = int(math.floor(lam * n + 1e-9))
    k = data.draw(st.one_of(st.none(), st.integers(2, n + m)))
    res = simulate_gaussian(n, T, reps=reps, lam=lam, estimator=estimator, subsample=k, rng=seed, **SUB)
    assert res.subsample == (n if k is None else k)
    L, M = ref_subsample_loop(n, lam, n if k is None else k, T, reps, seed, estimator == "unbiased")
    np.testing.assert_allclose(res.log_sigma, L, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(res.mu, M, rtol=1e-10, atol=1e-10)


def test_default_subsample_is_n_and_recorded():
    a = simulate_gaussian(8, 5, reps=20, lam=1.0, rng=3, **SUB)
    b = simulate_gaussian(8, 5, reps=20, lam=1.0, subsample=8, rng=3, **SUB)
    assert a.subsample == 8 and np.array_equal(a.mu, b.mu) and np.array_equal(a.sigma, b.sigma)
    assert set(a.to_frame()["subsample"]) == {8}
    assert simulate_gaussian(8, 2, reps=2, lam=1.0, workflow="accumulate", rng=0).subsample is None
    c = simulate_gaussian(8, 5, reps=20, lam=1.0, subsample=16, rng=3, **SUB)
    assert not np.array_equal(a.sigma[:, 1:], c.sigma[:, 1:])  # the old n + m protocol is another chain
    # generation 0 is the fit to all n real points, whatever the subsample
    np.testing.assert_array_equal(a.sigma[:, 0], c.sigma[:, 0])
    np.testing.assert_allclose(a.sigma[:, 0], a.real_sigma, rtol=1e-12)


@pytest.mark.parametrize("dim", [1, 3])
def test_subsample_thread_invariance_and_equivariance(dim):
    kw = dict(n=9, generations=300, reps=300, lam=0.7, dim=dim, subsample=6, **SUB)  # several blocks
    a = simulate_gaussian(**kw, rng=5, workers=1)
    b = simulate_gaussian(**kw, rng=5, workers=2)
    assert np.array_equal(a.mu, b.mu)
    if dim == 1:
        assert np.array_equal(a.sigma, b.sigma)
        c = simulate_gaussian(**kw, rng=5, workers=2, mu0=-3.0, sigma0=7.5)
        assert np.array_equal(c.mu, -3.0 + 7.5 * a.mu) and np.array_equal(c.sigma, 7.5 * a.sigma)
    else:
        assert np.array_equal(a.trace, b.trace) and np.array_equal(a.logdet, b.logdet)


def test_subsample_d1_equals_each_coordinate_law():
    """d = 3 with subsample k: the first coordinate's marginal is the 1-D chain (two-sample, 5 SE)."""
    kw = dict(n=10, generations=30, lam=1.0, estimator="mle", **SUB)
    a = simulate_gaussian(reps=20_000, rng=1, **kw)
    b = simulate_gaussian(reps=8_000, dim=3, rng=2, **kw)
    x, y = a.mu[:, -1] ** 2, b.mu[:, -1, 0] ** 2
    se = math.hypot(x.std() / math.sqrt(x.size), y.std() / math.sqrt(y.size))
    assert abs(x.mean() - y.mean()) < 5 * se


@pytest.mark.slow
@pytest.mark.parametrize("n, k, dim, T", [(10, None, 1, 100), (10, 20, 1, 100), (10, None, 3, 60), (6, 4, 2, 40)])
def test_subsample_moments_match_the_exact_recursion(n, k, dim, T):
    """Monte Carlo E tr Σ̂_t/(dσ²) and E‖μ̂_t − μ‖² against expected_accumulate_subsample (Bonferroni over t)."""
    reps = 20_000 if dim == 1 else 8_000
    res = simulate_gaussian(n, T, reps=reps, lam=1.0, dim=dim, subsample=k, estimator="mle", sigma0=2.0, mu0=1.0,
                            rng=11, **SUB)
    ts = np.array([1, T // 2, T])
    tr, err = th.expected_accumulate_subsample(n, ts, subsample=k, d=dim, sigma2=4.0)
    v = res.sigma[:, ts] ** 2 / 4.0 if dim == 1 else res.trace[:, ts] / (4.0 * dim)
    e = (res.mu[:, ts] - 1.0) ** 2 if dim == 1 else ((res.mu[:, ts] - 1.0) ** 2).sum(axis=2)
    z = 5.5  # six comparisons at about the family level of one 5-SE test
    for sim, pred in ((v, tr), (e, err)):
        se = sim.std(axis=0, ddof=1) / math.sqrt(reps)
        assert np.all(np.abs(sim.mean(axis=0) - pred) < z * se), (sim.mean(axis=0), pred, se)


def test_subsample_n_and_2n_are_told_apart():
    """At n = 10, t = 100 the exact E tr ratio is 0.741 (subsample n) vs 0.796 (2n): both simulated
    protocols sit on their own recursion and many SE from each other."""
    kw = dict(n=10, generations=100, reps=6_000, lam=1.0, dim=3, estimator="mle", **SUB)
    a = simulate_gaussian(subsample=10, rng=4, **kw).trace[:, -1] / 3
    b = simulate_gaussian(subsample=20, rng=5, **kw).trace[:, -1] / 3
    pa = th.expected_accumulate_subsample(10, 100, subsample=10, d=3)[0]
    pb = th.expected_accumulate_subsample(10, 100, subsample=20, d=3)[0]
    sa, sb = a.std() / math.sqrt(a.size), b.std() / math.sqrt(b.size)
    assert abs(a.mean() - pa) < 5 * sa and abs(b.mean() - pb) < 5 * sb
    assert (b.mean() - a.mean()) / math.hypot(sa, sb) > 4


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(subsample=17), ValueError, r"subsample must be an integer in \[2, n \+ m\] = \[2, 16\]"),
        (dict(subsample=1), ValueError, "subsample"),
        (dict(subsample=0), ValueError, "subsample"),
        (dict(subsample=-3), ValueError, "subsample"),
        (dict(subsample=2.5), ValueError, "subsample"),
        (dict(subsample="8"), TypeError, "subsample"),
        (dict(subsample=True), TypeError, "subsample"),
        (dict(subsample=9, lam=0.0), ValueError, r"\[2, 8\]"),  # m = 0: the pool is the n real points
        (dict(subsample=8, workflow="accumulate"), ValueError, "subsample"),
        (dict(subsample=8, workflow="replace"), ValueError, "subsample"),
        (dict(method="exact"), ValueError, "method"),
    ],
)
def test_subsample_bad_input(kwargs, exc, match):
    kw = {**dict(lam=1.0, **SUB), **kwargs}
    with pytest.raises(exc, match=match):
        simulate_gaussian(8, 3, **kw)


def test_subsample_without_lam_is_refused():
    with pytest.raises(ValueError, match="lam"):
        simulate_gaussian(8, 3, subsample=8, **SUB)
