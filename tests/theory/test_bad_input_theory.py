"""Regression tests for bad and extreme input to theory functions (found by tests/test_fuzz.py).

Each test pins one fix: sizes refused before allocating (naming the parameter), parameters
validated in the right order, objects type-checked, and valid inputs at the edge of float64
(reward gaps of 1e-78, masses of 1e-282, K^t past the float range) computed exactly.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from selfconsume.theory import (
    best_of_k_cdf,
    bound_lemma22_gain,
    bound_regression_risk,
    bound_thm24,
    clipped_distance_reward,
    curated_gaussian_moments,
    curation_H,
    curation_H_enumerated,
    expected_accumulate_mean_err,
    expected_kde_trace,
    expected_mixed_moments,
    expected_regression_risk,
    gaussian_family,
    gaussian_mixture,
    gaussian_tilt,
    gaussian_truth,
    iterate_retraining_map,
    level_rates,
    linear_reward,
    mixed_fixed_point_inf,
    mixture_tilt,
    quadratic_reward,
    reward_law,
    top_set_kl_constant,
    variance_exp_reward,
)

HUGE = 10**15


# --------------------------------------------------------------------------- sizes: refused, naming the parameter


@pytest.mark.parametrize("call,name", [
    (lambda: expected_mixed_moments(20, 1.0, HUGE), "generations"),
    (lambda: expected_mixed_moments(20, 0.5, HUGE, workflow="accumulate"), "generations"),
    (lambda: expected_accumulate_mean_err(10, HUGE, 1.0), "k"),
    (lambda: expected_accumulate_mean_err(10, [3, HUGE], 1.0), "k"),
    (lambda: expected_kde_trace(2.0, 2, 0.5, HUGE, n_synthetic=10, n_real=20), "generations"),
    (lambda: iterate_retraining_map(gaussian_family(), gaussian_truth(), 1.0, [1.0, 1.0], HUGE), "steps"),
])
def test_huge_sizes_refused_before_allocating(call, name):
    with pytest.raises(ValueError, match=rf"^{name} too large: .* needs .* more than this machine"):
        call()


def test_regression_design_blames_d_first():
    for call in (lambda: expected_regression_risk(12, 40, HUGE), lambda: bound_regression_risk(40, HUGE),
                 lambda: bound_regression_risk(40, 39)):
        with pytest.raises(ValueError, match=r"^d must be an integer in \[1, T - 2\] = \[1, 38\] .*T = 40"):
            call()
    with pytest.raises(ValueError, match=r"^d must be an integer >= 1"):
        bound_regression_risk(40, 0)
    with pytest.raises(ValueError, match=r"^T must be an integer >= 3"):
        bound_regression_risk(2, 1)
    # the boundary T = d + 2 is valid: c = σ² d / (T − d − 1) = d
    assert bound_regression_risk(40, 38) == pytest.approx(math.pi**2 / 6 * 38, rel=1e-14)
    assert expected_regression_risk(3, 40, 38) == pytest.approx(3 * 38, rel=1e-14)


# --------------------------------------------------------------------------- curation_H_enumerated arguments


P2, R2 = np.array([0.5, 0.5]), np.array([0.0, math.log(3.0)])


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"dps": HUGE}, ValueError, r"^dps must be an integer in \[15, 10000\]"),
    ({"dps": 14}, ValueError, r"^dps must be"),
    ({"max_terms": "3"}, TypeError, r"^max_terms must be an integer >= 1"),
    ({"max_terms": None}, TypeError, r"^max_terms must be an integer >= 1"),
    ({"max_terms": math.nan}, ValueError, r"^max_terms must be an integer >= 1"),
    ({"max_terms": 0}, ValueError, r"^max_terms must be an integer >= 1"),
    ({"max_terms": 1}, ValueError, r"max_terms = 1 compositions"),   # K = 2 over 2 levels: 2 compositions
])
def test_curation_H_enumerated_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        curation_H_enumerated(P2, R2, 2, **kwargs)


def test_curation_H_enumerated_limits_still_work():
    assert curation_H_enumerated(P2, R2, 2, dps=10_000, max_terms=2).tolist() == pytest.approx([0.75, 1.25], rel=1e-15)
    # one support level and K = 10^15: one composition, powers on demand (no table of K − 1 powers)
    K = HUGE
    H = curation_H_enumerated([1.0, 0.0], [0.0, 1.0], K)
    np.testing.assert_allclose(H, [1.0, K * math.e / (math.e + K - 1)], rtol=1e-15)
    np.testing.assert_allclose(H, curation_H([1.0, 0.0], [0.0, 1.0], K), rtol=1e-14)


# --------------------------------------------------------------------------- valid input at the edge of float64


def test_level_rates_K1_is_no_curation():
    levels, rho = level_rates([0.5, 0.5], [700.0, -46.0], 1)   # e^{-746} underflows: was 0/0 = nan
    assert levels.tolist() == [700.0, -46.0] and rho.tolist() == [1.0, 1.0]
    assert level_rates([0.2, 0.3, 0.5], [1.0, 0.4, -3.0], 1)[1].tolist() == [1.0, 1.0, 1.0]
    assert level_rates([0.5, 0.5], [700.0, -46.0], 4)[1].tolist() == [1.0, 0.0]  # below the float range


def test_mixed_fixed_point_tiny_top_mass():
    # The top atom has mass 1.7e-282 in p_ref but a finite share at the fixed point: as q_top → 0,
    # d → 0 and p_∞(low) = q_low/((1+λ)(1 − e^{-1})) exactly (the O(q_top) terms are below an ulp).
    lam = 0.7
    c = -math.expm1(-1.0)
    p_low = 1.0 / ((1 + lam) * c)
    for q_top in (1.66741319e-282, 1e-300, 1e-310, 5e-324):
        fp = mixed_fixed_point_inf(np.array([1.0, q_top]), np.array([-1.0, 0.0]), lam)
        np.testing.assert_allclose(fp.p, [p_low, 1.0 - p_low], rtol=2e-15)
        assert fp.p.sum() == pytest.approx(1.0, abs=1e-15)
        assert fp.Z == pytest.approx(lam / (1 + lam), rel=1e-15)  # Z → λ e^{r*}/(1+λ) as d → 0
        assert fp.log_Z == pytest.approx(math.log(lam / (1 + lam)), rel=1e-15)


def test_mixed_fixed_point_tiny_mass_far_top_sums_to_one():
    # found by a random search: top mass 7e-303 at a gap of 866 (Brent's steps in d were subnormal)
    fp = mixed_fixed_point_inf(np.array([6.97050549e-303, 1.0]), np.array([700.0, -166.19095074]), 5.0)
    np.testing.assert_allclose(fp.p, [5 / 6, 1 / 6], rtol=1e-15)
    assert fp.p.sum() == pytest.approx(1.0, abs=1e-15)


def _mp_log_var(p, r, dps=700):
    with mp.workdps(dps):
        P = [mp.mpf(x) for x in p]
        s = mp.fsum(P)
        P = [x / s for x in P]
        W = [mp.exp(mp.mpf(x)) for x in r]
        mu = mp.fsum(a * b for a, b in zip(P, W))
        return float(mp.log(mp.fsum(a * (b - mu) ** 2 for a, b in zip(P, W))))


def test_variance_exp_reward_near_tie():
    delta = 4.02822908e-78
    p, r = np.array([0.0, 0.5, 0.5]), np.array([0.0, 0.0, delta])
    # Var = (e^δ − 1)²/4 = δ²/4 (1 + O(δ)): was −inf (e^r rounds to 1)
    assert variance_exp_reward(p, r, log=True) == pytest.approx(2 * math.log(delta) - math.log(4.0), rel=1e-15)
    assert variance_exp_reward([0.5, 0.5], [0.0, 1e-78]) == pytest.approx(1e-156 / 4, rel=1e-15)
    assert variance_exp_reward([0.5, 0.5], [0.0, 5e-324], log=True) == pytest.approx(
        2 * math.log(5e-324) - math.log(4.0), rel=1e-15)
    assert bound_lemma22_gain(p, r, 4, log=True) == pytest.approx(
        math.log(0.75) + delta + 2 * math.log(delta) - math.log(4.0), rel=1e-15)
    # the documented exact cases are unchanged
    assert variance_exp_reward([0.5, 0.5], [0.0, 0.0], log=True) == -math.inf
    assert variance_exp_reward([0.5, 0.5], [0.0, 0.0]) == 0.0
    assert variance_exp_reward([0.5, 0.5], [-700.0, 700.0], log=True) == pytest.approx(1400 - math.log(4), rel=1e-15)


@pytest.mark.parametrize("p,r", [
    ([0.2, 0.3, 0.5], [1e-40, 0.0, 1.0]),                      # a tie far below a distant top
    ([0.5, 0.5, 1e-300], [0.0, 1e-40, 1.0]),                   # variance from the near-tied heavy pair
    ([0.3, 0.3, 0.4], [5.0, 5.0 + 1e-14, 5.0 - 3e-15]),
    ([0.25, 0.25, 0.25, 0.25], [-700.0, 1e-300, 2e-300, 700.0]),
    ([1.0 - 1e-300, 1e-300], [-800.0, 0.0]),
])
def test_variance_exp_reward_against_mpmath(p, r):
    want = _mp_log_var(p, r)
    assert variance_exp_reward(p, r, log=True) == pytest.approx(want, rel=2e-15, abs=1e-13)


def test_bound_thm24_K_inf_is_infinite_for_t_ge_1():
    # c_1 = (1 + λK)/(1 + λ) = ∞: documented, and the same as t = None
    assert bound_thm24(np.inf, 1.0, t=1) == math.inf
    assert bound_thm24(np.inf, 1.0) == math.inf
    assert bound_thm24(np.inf, 1.0, t=0) == 0.0 and bound_thm24(np.inf, 0.0, t=5) == 0.0
    # every finite K gives a finite log c_1 = log((1 + λK)/(1 + λ))
    assert bound_thm24(HUGE, 1.0, t=1) == pytest.approx(math.log((1 + 1e15) / 2), rel=1e-15)


def test_best_of_k_cdf_huge_t():
    np.testing.assert_array_equal(best_of_k_cdf([0.5, 1.0, 0.0], 2, HUGE), [0.0, 1.0, 0.0])  # was OverflowError
    assert best_of_k_cdf(0.5, HUGE, HUGE) == 0.0
    assert best_of_k_cdf(0.5, 2, 3) == 0.00390625                 # exact
    assert best_of_k_cdf(0.5, 1, HUGE) == 0.5                      # K = 1: no selection
    F = float(np.nextafter(1.0, 0.0))                              # 1 − 2^-53: F^(2^52) = e^{-1/2}(1 + O(2^-53))
    assert best_of_k_cdf(F, 2, 52) == pytest.approx(math.exp(2.0**52 * math.log1p(-(2.0**-53))), rel=1e-15)


# --------------------------------------------------------------------------- objects: TypeError naming the parameter


MIX = gaussian_mixture([0.5, 0.5], [[-2.0, 0.0], [3.0, 0.0]], [1.0, 1.0])
QUAD2 = quadratic_reward([0.0, 0.0], gamma=1.0)
FLAT = reward_law(gaussian_mixture([1.0], [[0.0, 0.0]], [1.0]),
                  clipped_distance_reward([[0.0, 0.0]], radius=1.0, gamma=1.0))


@pytest.mark.parametrize("bad", [None, "nope", 1.5])
def test_objects_type_checked(bad):
    with pytest.raises(TypeError, match=r"^reward must be a Reward"):
        gaussian_tilt([0.0], [[1.0]], bad, 3.0)
    with pytest.raises(TypeError, match=r"^p0 must be a GaussianMixture"):
        mixture_tilt(bad, QUAD2, 10.0)
    with pytest.raises(TypeError, match=r"^reward must be a Reward"):
        mixture_tilt(MIX, bad, 10.0)
    with pytest.raises(TypeError, match=r"^law must be a RewardLaw"):
        top_set_kl_constant(bad, 4)
    with pytest.raises(TypeError, match=r"^reward must be a Reward"):
        curated_gaussian_moments([0.0, 0.0], np.eye(2), bad, 4)
    with pytest.raises((TypeError, ValueError), match=r"^theta0 must (be 2 real numbers|have 2 entries)"):
        iterate_retraining_map(gaussian_family(), gaussian_truth(), 1.0, bad, 3)


def test_reward_kind_and_dimension_checked():
    with pytest.raises(ValueError, match=r"^reward must be a quadratic reward"):
        mixture_tilt(MIX, linear_reward([1.0, 0.0]), 10.0)
    with pytest.raises(ValueError, match=r"^reward must be a linear reward"):
        curated_gaussian_moments([0.0, 0.0], np.eye(2), QUAD2, 4)
    with pytest.raises(ValueError, match=r"^reward must act on points of dimension 1"):
        gaussian_tilt([0.0], [[1.0]], QUAD2, 3.0)
    with pytest.raises(ValueError, match=r"^theta0 must have 2 entries"):
        iterate_retraining_map(gaussian_family(), gaussian_truth(), 1.0, [1.0], 3)
    # the valid calls are unchanged
    assert round(mixture_tilt(MIX, QUAD2, 10.0).weights[0], 6) == 0.906593
    assert top_set_kl_constant(FLAT, 4) > 0
