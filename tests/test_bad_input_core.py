"""Regression tests for the reliability defects of theory and simulators (issue 12): each
reproducer now gives a correct finite answer or a clear error naming the argument."""

import math
import time

import numpy as np
import pytest
from scipy import stats

from selfconsume import theory as th
from selfconsume.simulators import simulate_curation, simulate_gaussian


def test_log_mean_exp_reward_ignores_zero_mass_atoms():
    # an atom of reward 710 that p never charges used to give exp overflow → NaN
    res = simulate_curation([1.0, 0.0], [0.0, 710.0], 4, 2)
    with np.errstate(all="raise"):
        assert np.array_equal(res.mean_exp_reward(log=True), np.zeros((1, 3)))
        assert np.array_equal(res.mean_exp_reward(), np.ones((1, 3)))
    res = simulate_curation([1.0], [-800.0], 4, 2)
    assert np.array_equal(res.mean_exp_reward(log=True), np.full((1, 3), -800.0))


@pytest.mark.parametrize("lam", [1e-16, 1e-12, 1e-6, 1.0, 1e12])
def test_mixed_fixed_point_inf_small_and_large_lambda(lam):
    p, r = np.array([0.5, 0.5]), np.array([0.0, 1.0])
    fp = th.mixed_fixed_point_inf(p, r, lam)
    assert math.isfinite(fp.log_Z) and abs(fp.p.sum() - 1) < 1e-12
    assert fp.log_Z == pytest.approx(math.log(fp.p @ np.exp(r)), abs=1e-14)
    # the fixed-point equation itself
    np.testing.assert_allclose(fp.p, (p + lam * fp.p * np.exp(r) / fp.Z) / (1 + lam), rtol=1e-12)
    if lam <= 1e-12:  # p_∞ = p_ref + O(λ)
        np.testing.assert_allclose(fp.p, p, atol=10 * lam)


def test_fixed_point_on_the_boundary_is_a_clear_error():
    with pytest.raises(ValueError, match=r"no interior real-data optimum.*w → 1"):
        th.fixed_point(th.mixture_weight_family(loc1=0.5), "gaussian")
    with pytest.raises(ValueError, match=r"w → 0"):
        th.fixed_point(th.mixture_weight_family(loc1=2.5, loc2=0.3), "gaussian")
    assert th.fixed_point(th.mixture_weight_family(), "gaussian")[0] == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize("kwargs,names", [
    (dict(n=10, generations=5, reps=10**12), "reps, generations"),
    (dict(n=10, generations=10**12), "reps, generations"),
    (dict(n=10**9, generations=5, method="samples"), "n"),
    (dict(n=10**9, generations=5, lam=0.5, workflow="accumulate", method="samples"), "n, lam, generations"),
])
def test_impossible_sizes_are_refused_before_any_work(kwargs, names):
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=names + " too large"):
        simulate_gaussian(**kwargs)
    assert time.perf_counter() - t0 < 1.0


def test_mixed_exact_chain_draws_the_real_sample_by_its_statistics():
    # n = 10⁹ real points used to be drawn one by one (60 GiB); now χ² and normal draws
    t0 = time.perf_counter()
    res = simulate_gaussian(10**9, 3, lam=1.0, reps=400, rng=0)
    assert time.perf_counter() - t0 < 5.0
    assert np.all(np.isfinite(res.sigma)) and abs(np.mean(res.real_sigma**2) - 1) < 5 * math.sqrt(2 / 10**9 / 400) + 1e-12
    # the law of the real fit at moderate n: E x̄ = 0, Var x̄ = 1/n, E s² = 1, Var s² = 2/(n − 1)
    n, reps = 7, 200_000
    res = simulate_gaussian(n, 1, lam=0.5, reps=reps, rng=1)
    xb, s2 = res.real_mean, res.real_sigma**2
    assert abs(xb.mean()) < 5 * math.sqrt(1 / n / reps)
    assert abs(xb.var() * n - 1) < 5 * math.sqrt(2 / reps)
    assert abs(s2.mean() - 1) < 5 * math.sqrt(2 / (n - 1) / reps)
    d = simulate_gaussian(12, 1, lam=0.5, reps=50_000, dim=3, rng=2)
    # E of the unbiased covariance = I, and the real mean ~ N(0, I/n)
    np.testing.assert_allclose(d.real_cov.mean(axis=0), np.eye(3), atol=5 * math.sqrt(2 / 11 / 50_000))
    assert abs(d.real_mean.var(axis=0).mean() * 12 - 1) < 5 * math.sqrt(2 / 50_000 / 3)


def test_symbolic_family_sizes():
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 64\]"):
        th.abstract_exponential_family(10**12)
    t0 = time.perf_counter()
    fam = th.student_t_family(1e300)  # a Gaussian in all but name: finite and fast
    mc = th.model_constants(fam, th.gaussian_truth())
    assert time.perf_counter() - t0 < 30 and math.isfinite(mc.alpha) and mc.alpha == pytest.approx(1.0, rel=1e-9)
    # the Stirling form of the normalising constant agrees with the exact one where both apply
    a, b = th.student_t_family(9999.0), th.student_t_family(10001.0)
    x = np.linspace(-3, 3, 7)
    la = a.law(np.array([0.0])).logpdf(x)
    lb = b.law(np.array([0.0])).logpdf(x)
    assert np.max(np.abs(la - lb)) < 1e-4


@pytest.mark.parametrize("rng,exc,match", [
    (-1, ValueError, "seed must be >= 0"),
    (True, TypeError, "rng must be"),
    (1.5, TypeError, "rng must be"),
    ("0", TypeError, "rng must be"),
])
def test_bad_seeds_name_the_seed(rng, exc, match):
    with pytest.raises(exc, match=match):
        simulate_gaussian(10, 3, reps=2, rng=rng)


def test_legacy_random_state_is_accepted_and_deterministic():
    a = simulate_gaussian(10, 3, reps=200, rng=np.random.RandomState(0))
    b = simulate_gaussian(10, 3, reps=200, rng=np.random.RandomState(0))
    assert np.array_equal(a.sigma, b.sigma)
    c = simulate_gaussian(10, 3, reps=200, rng=np.random.Generator(np.random.MT19937(3)))
    assert np.all(np.isfinite(c.sigma))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: th.gaussian_truth(loc=[0, 1]), TypeError, "loc must be a real number"),
    (lambda: th.student_t_truth([3]), TypeError, "nu must be a real number"),
    (lambda: th.mixture_weight_family(loc1=[0.0]), TypeError, "loc1 must be a real number"),
    (lambda: th.exponential_family(support=(np.nan, 1.0)), ValueError, r"support\[0\]"),
    (lambda: th.exponential_family(support=(1.0,)), TypeError, "support must be a pair"),
    (lambda: th.exponential_family(eta_bounds=(0.0, -1.0)), ValueError, "eta_bounds must be a pair"),
    (lambda: th.model_constants(th.gaussian_family(), th.gaussian_truth(), domain=(0.0,)), TypeError,
     "domain must be a pair"),
    (lambda: th.model_constants(th.gaussian_family(), th.gaussian_truth(), domain=(0.0, math.inf)), ValueError,
     r"domain\[1\]"),
    (lambda: th.truth_from_scipy(stats.norm(0, 0)), ValueError, "dist must have valid parameters"),
])
def test_clear_messages(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
