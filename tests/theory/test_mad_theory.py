"""Alemohammad et al.'s MAD loops (theory/_mad.py): fully synthetic with sampling bias, fresh data,
the W_2 of a real-data fit and the effective sample size.

Oracles: the numbers of theory.md §3.2, the unbiased-sampling functions of _gaussian (bias = 1),
a literal NumPy Monte Carlo of the 1-D fresh-data loop, sympy's rational solution of the
fixed-point system, the MLE invariant C_t + M_t = 1 at b = 1, and mpmath's Γ ratio at real n.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from selfconsume import theory as th
from selfconsume.theory._mad import _fresh_setup


# ------------------------------------------------------------------ fully synthetic, biased

def test_theory_md_numbers():
    assert th.biased_cov_factor(20, 15, bias=0.8) == pytest.approx(0.8 ** 15, rel=1e-14)
    assert round(th.biased_cov_factor(20, 15, bias=0.8), 6) == 0.035184
    assert round(th.biased_mean_cov_factor(20, 15, bias=0.8), 5) == 0.19296
    # the sum written out
    assert th.biased_mean_cov_factor(20, 15, bias=0.8) == pytest.approx(
        0.8 / 20 * sum(0.8 ** s for s in range(15)), rel=1e-14)


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
def test_bias_one_reduces_to_gaussian_functions(estimator):
    n, t = np.array([2, 3, 10, 1000]), np.arange(0, 30)[:, None]
    np.testing.assert_allclose(th.biased_cov_factor(n, t, estimator=estimator),
                               th.expected_sigma2(n, t, estimator=estimator), rtol=1e-13)
    np.testing.assert_allclose(th.biased_mean_cov_factor(n, t, estimator=estimator),
                               th.expected_mean_sq_drift(n, t, estimator=estimator), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(th.expected_biased_sigma(n, t, sigma0=1.7, estimator=estimator),
                               th.expected_sigma(n, t, 1.7, estimator), rtol=1e-13)


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
def test_biased_forms_against_their_definitions(estimator):
    n, b = 7, 0.6
    c = 1.0 if estimator == "unbiased" else (n - 1) / n
    for t in range(0, 12):
        assert th.biased_cov_factor(n, t, bias=b, estimator=estimator) == pytest.approx((b * c) ** t, rel=1e-13)
        want = b / n * sum((b * c) ** s for s in range(t))
        assert th.biased_mean_cov_factor(n, t, bias=b, estimator=estimator) == pytest.approx(want, rel=1e-13, abs=0)
        assert th.expected_biased_sigma(n, t, bias=b, sigma0=2.0, estimator=estimator) == pytest.approx(
            th.expected_sigma(n, t, 2.0, estimator) * b ** (t / 2), rel=1e-13)
    # mle vs unbiased: the MLE covariance is smaller by ((n-1)/n)^t
    assert th.biased_cov_factor(n, 5, bias=b, estimator="mle") == pytest.approx(
        th.biased_cov_factor(n, 5, bias=b) * ((n - 1) / n) ** 5, rel=1e-13)


def test_biased_mean_cov_near_bc_one_and_broadcast():
    # b c = 1 - 1e-12: the sum is t (1 - O(t·1e-12)); the expm1 ratio keeps full precision
    b = 1 - 1e-12
    assert th.biased_mean_cov_factor(10, 1000, bias=b) == pytest.approx(b / 10 * 1000 * (1 - 999 / 2 * 1e-12),
                                                                         rel=1e-12)
    out = th.biased_mean_cov_factor([10, 20], [[1], [2], [3]], bias=[0.5, 1.0])
    assert out.shape == (3, 2)
    assert th.biased_mean_cov_factor(10, 0) == 0.0
    assert isinstance(th.biased_cov_factor(10, 3), float)
    # limit for b c < 1
    assert th.biased_mean_cov_factor(20, 10 ** 6, bias=0.8) == pytest.approx(0.8 / (20 * 0.2), rel=1e-14)


# ------------------------------------------------------------------ fresh data

def _literal_fresh_loop(n, m, b, n_init, T, ddof, reps, seed, mu0=0.3, sigma0=1.7):
    rng = np.random.default_rng(seed)
    x = rng.normal(mu0, sigma0, size=(reps, n_init))
    mu, var = x.mean(axis=1), x.var(axis=1, ddof=ddof)
    covs, msqs = [var], [(mu - mu0) ** 2]
    for _ in range(T):
        real = rng.normal(mu0, sigma0, size=(reps, n))
        syn = rng.normal(mu[:, None], np.sqrt(b * var)[:, None], size=(reps, m))
        pool = np.concatenate([real, syn], axis=1)
        mu, var = pool.mean(axis=1), pool.var(axis=1, ddof=ddof)
        covs.append(var)
        msqs.append((mu - mu0) ** 2)
    return np.array(covs) / sigma0 ** 2, np.array(msqs) / sigma0 ** 2


@pytest.mark.parametrize("estimator, seed", [("unbiased", 1), ("mle", 2)])
def test_fresh_moments_against_literal_monte_carlo(estimator, seed):
    n, lam, b, n_init, T, reps = 5, 1.7, 0.7, 3, 6, 20000
    fm = th.fresh_moments(n, T, lam=lam, bias=b, n_init=n_init, estimator=estimator)
    assert fm.m == 8 and fm.n == 5 and fm.n_init == 3 and fm.cov.shape == (T + 1,)
    covs, msqs = _literal_fresh_loop(n, fm.m, b, n_init, T, 1 if estimator == "unbiased" else 0, reps, seed)
    for sims, exact in ((covs, fm.cov), (msqs, fm.mean_sq)):
        mean = sims.mean(axis=1)
        se = sims.std(axis=1, ddof=1) / math.sqrt(reps)
        assert np.all(np.abs(mean - exact) <= 5 * se), (mean, exact, se)


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
@pytest.mark.parametrize("n, lam, b", [(5, 1.7, 0.7), (1, 3.0, 1.0), (100, 9.0, 0.8), (2, 0.5, 0.3)])
def test_fresh_limit_is_the_limit_for_any_n_init(n, lam, b, estimator):
    cov, msq = th.fresh_limit(n, lam=lam, bias=b, estimator=estimator)
    for n_init in (2, 50, 1000):
        fm = th.fresh_moments(n, 3000, lam=lam, bias=b, n_init=n_init, estimator=estimator)
        assert abs(fm.cov[-1] - cov) <= 1e-12 and abs(fm.mean_sq[-1] - msq) <= 1e-12


@pytest.mark.parametrize("n, m, b, estimator", [(5, 8, sp.Rational(7, 10), "unbiased"),
                                                (3, 2, sp.Rational(1, 2), "mle"),
                                                (1, 4, sp.Integer(1), "unbiased")])
def test_fresh_limit_against_sympy(n, m, b, estimator):
    M, C = sp.symbols("M C")
    N = n + m
    D = N - 1 if estimator == "unbiased" else N
    eqs = [sp.Eq(M, sp.Rational(m, N) ** 2 * M + sp.Rational(n, N ** 2) + m * b * C / N ** 2),
           sp.Eq(C, ((n - 1) + (m - 1) * b * C + sp.Rational(n * m, N) * (M + sp.Rational(1, n) + b * C / m)) / D)]
    sol = sp.solve(eqs, [M, C], dict=True)[0]
    cov, msq = th.fresh_limit(n, lam=m / n, bias=float(b), estimator=estimator)
    assert cov == pytest.approx(float(sol[C]), rel=1e-14)
    assert msq == pytest.approx(float(sol[M]), rel=1e-14)


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
def test_fresh_no_synthetic_data(estimator):
    n = 7
    D = n - 1 if estimator == "unbiased" else n
    cov, msq = th.fresh_limit(n, lam=0.0, estimator=estimator)
    assert cov == pytest.approx((n - 1) / D, rel=1e-15) and msq == pytest.approx(1 / n, rel=1e-15)
    fm = th.fresh_moments(n, 4, lam=0.1, n_init=20, estimator=estimator)  # m = floor(0.7) = 0
    assert fm.m == 0
    np.testing.assert_allclose(fm.cov[1:], (n - 1) / D, rtol=1e-15)
    np.testing.assert_allclose(fm.mean_sq[1:], 1 / n, rtol=1e-15)
    assert fm.mean_sq[0] == pytest.approx(1 / 20)


def test_fresh_mle_unbiased_sampling_invariant():
    fm = th.fresh_moments(4, 50, lam=2.5, n_init=9, estimator="mle")
    np.testing.assert_allclose(fm.cov + fm.mean_sq, 1.0, rtol=0, atol=1e-14)
    cov, msq = th.fresh_limit(4, lam=2.5, estimator="mle")
    assert cov + msq == pytest.approx(1.0, abs=1e-14)


def test_fresh_spectral_radius_below_one():
    for n in (1, 2, 3, 10, 100):
        for lam in (0.0, 0.5, 1.0, 3.0, 20.0):
            for b in (1e-3, 0.5, 1.0):
                for est in ("unbiased", "mle"):
                    if n + math.floor(lam * n + 1e-9) < 2:
                        continue
                    _, m, _, _, _, A, _ = _fresh_setup(n, lam, b, est)
                    rho = max(abs(np.linalg.eigvals(A)))
                    assert rho < 1
                    if est == "mle" and b == 1.0:
                        assert rho == pytest.approx(m / (n + m), abs=1e-14)


def test_fresh_moments_is_frozen():
    fm = th.fresh_moments(5, 3, lam=1.0)
    with pytest.raises(Exception):
        fm.n = 3
    with pytest.raises(ValueError):
        fm.cov[0] = 2.0
    assert isinstance(fm, th.FreshMoments)


# ------------------------------------------------------------------ W_2 of a real fit

@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
def test_real_fit_w2_is_expected_w2_sq_at_t_one(estimator):
    for n in (2, 3, 10, 19, 20, 1000):
        assert th.real_fit_w2(n, sigma0=1.3, estimator=estimator) == pytest.approx(
            th.expected_w2_sq(n, 1, 1.3, estimator), rel=1e-13)


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
def test_real_fit_w2_at_real_n_against_mpmath(estimator):
    mp.mp.dps = 40
    for n in (2.5, 7.25, 19.9, 20.1, 123.456, 1e5 + 0.5):
        nm = mp.mpf(n)
        a = mp.sqrt(2 / (nm - 1)) * mp.gamma(nm / 2) / mp.gamma((nm - 1) / 2)
        D = nm - 1 if estimator == "unbiased" else nm
        r = mp.sqrt((nm - 1) / D)
        want = 1 / nm + (nm - 1) / D - 2 * a * r + 1
        assert th.real_fit_w2(n, estimator=estimator) == pytest.approx(float(want), rel=1e-12)


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
def test_real_fit_w2_strictly_decreasing_and_inverted(estimator):
    n = np.geomspace(2, 1e6, 400)
    w = th.real_fit_w2(n, estimator=estimator)
    assert np.all(np.diff(w) < 0)
    assert np.all(np.abs(w * n / 1.5 - 1) < 0.25)       # the 3/(2n) asymptote
    back = th.w2_equivalent_sample_size(w, estimator=estimator)
    np.testing.assert_allclose(back, n, rtol=1e-9)
    assert th.w2_equivalent_sample_size(th.real_fit_w2(2, estimator=estimator), estimator=estimator) == 2.0
    s = 2.5
    assert th.w2_equivalent_sample_size(th.real_fit_w2(37.5, sigma0=s, estimator=estimator), sigma0=s,
                                        estimator=estimator) == pytest.approx(37.5, rel=1e-9)


def test_w2_equivalent_sample_size_very_large_n():
    assert th.w2_equivalent_sample_size(1.5e-12) == pytest.approx(1e12, rel=1e-6)
    with pytest.raises(ValueError, match="w2"):
        th.w2_equivalent_sample_size(5e-324)


# ------------------------------------------------------------------ bad input

_BAD = [
    (th.biased_cov_factor, (20, 15), {}, "n", dict(n=1)),
    (th.biased_cov_factor, (20, 15), {}, "n", dict(n=2.5)),
    (th.biased_cov_factor, (20, 15), {}, "t", dict(t=-1)),
    (th.biased_cov_factor, (20, 15), {}, "t", dict(t=float("nan"))),
    (th.biased_cov_factor, (20, 15), {}, "bias", dict(bias=0.0)),
    (th.biased_cov_factor, (20, 15), {}, "bias", dict(bias=1.5)),
    (th.biased_cov_factor, (20, 15), {}, "estimator", dict(estimator="ml")),
    (th.biased_mean_cov_factor, (20, 15), {}, "bias", dict(bias=float("inf"))),
    (th.biased_mean_cov_factor, (20, 15), {}, "n", dict(n=0)),
    (th.biased_mean_cov_factor, (20, 15), {}, "t", dict(t=-0.5)),
    (th.biased_mean_cov_factor, (20, 15), {}, "estimator", dict(estimator=None)),
    (th.expected_biased_sigma, (20, 15), {}, "sigma0", dict(sigma0=0.0)),
    (th.expected_biased_sigma, (20, 15), {}, "bias", dict(bias=-0.2)),
    (th.expected_biased_sigma, (20, 15), {}, "n", dict(n=float("nan"))),
    (th.expected_biased_sigma, (20, 15), {}, "t", dict(t=-3)),
    (th.expected_biased_sigma, (20, 15), {}, "estimator", dict(estimator="x")),
]


def _call(fn, args, kwargs, override):
    names = {"biased_cov_factor": ("n", "t"), "biased_mean_cov_factor": ("n", "t"),
             "expected_biased_sigma": ("n", "t")}[fn.__name__]
    full = dict(zip(names, args)) | kwargs | override
    return fn(**full)


@pytest.mark.parametrize("fn, args, kwargs, name, override", _BAD)
def test_bad_input_biased(fn, args, kwargs, name, override):
    with pytest.raises(ValueError, match=name):
        _call(fn, args, kwargs, override)


@pytest.mark.parametrize("override, name", [
    (dict(n=0), "n"), (dict(n=2.5), "n"), (dict(generations=-1), "generations"),
    (dict(lam=-0.1), "lam"), (dict(lam=float("inf")), "lam"), (dict(lam=1e300), "lam"),
    (dict(bias=0.0), "bias"), (dict(bias=1.01), "bias"), (dict(bias=float("nan")), "bias"),
    (dict(n_init=1), "n_init"), (dict(n=1, n_init=None, lam=2.0), "n_init"), (dict(n=1, lam=0.5), "n"),
    (dict(estimator="biased"), "estimator"),
])
def test_bad_input_fresh(override, name):
    kw = dict(n=5, generations=3, lam=1.7, bias=0.7, n_init=3, estimator="unbiased") | override
    with pytest.raises(ValueError, match=name):
        th.fresh_moments(**kw)
    if "generations" not in override and "n_init" not in override:
        kw.pop("generations"), kw.pop("n_init")
        with pytest.raises(ValueError, match=name):
            th.fresh_limit(**kw)


def test_bad_input_types():
    with pytest.raises(TypeError, match="n"):
        th.fresh_moments("5", 3, lam=1.0)
    with pytest.raises(TypeError, match="lam"):
        th.fresh_limit(5, lam="1")
    with pytest.raises(TypeError, match="bias"):
        th.biased_cov_factor(5, 3, bias="0.5")
    with pytest.raises(TypeError, match="w2"):
        th.w2_equivalent_sample_size("0.1")
    with pytest.raises(TypeError, match="n"):
        th.real_fit_w2(True)


@pytest.mark.parametrize("override, name", [
    (dict(n=1.99), "n"), (dict(n=float("inf")), "n"), (dict(n=-3), "n"),
    (dict(sigma0=0.0), "sigma0"), (dict(sigma0=float("nan")), "sigma0"), (dict(estimator="u"), "estimator"),
])
def test_bad_input_real_fit_w2(override, name):
    with pytest.raises(ValueError, match=name):
        th.real_fit_w2(**(dict(n=10, sigma0=1.0, estimator="unbiased") | override))


@pytest.mark.parametrize("override, name", [
    (dict(w2=0.0), "w2"), (dict(w2=-1.0), "w2"), (dict(w2=0.95), "w2"), (dict(w2=float("nan")), "w2"),
    (dict(w2=float("inf")), "w2"), (dict(w2=[0.1, 2.0]), "w2"),
    (dict(sigma0=-1.0), "sigma0"), (dict(sigma0=float("inf")), "sigma0"), (dict(estimator="u"), "estimator"),
])
def test_bad_input_w2_equivalent_sample_size(override, name):
    with pytest.raises(ValueError, match=name):
        th.w2_equivalent_sample_size(**(dict(w2=0.1, sigma0=1.0, estimator="unbiased") | override))
