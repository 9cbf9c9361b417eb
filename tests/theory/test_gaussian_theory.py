"""Tests of the Gaussian-collapse theory (``selfconsume.theory``, Gaussian slice).

Oracles, strongest first: mpmath at 40-50 digits (α, every derived ``Expr`` against its
numeric twin), exact laws (t = 1: a scaled χ²; n = 3, t = 2: product of two Exp(1); any t:
the Meijer-G CDF of a product of Gamma variables), symbolic identities checked with
``simplify(a - b) == 0``, and Monte Carlo at 5 SE (Bonferroni) with fixed seeds.
"""

from __future__ import annotations

import doctest
import math
import os
import subprocess
import sys

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats

from selfconsume import theory as th
from selfconsume.analysis import proportion_se, z_bonferroni

n, t, d, sigma0, u = (th.SYMBOLS[k] for k in ("n", "t", "d", "sigma0", "u"))
ESTIMATORS = ("unbiased", "mle")
GAUSSIAN_FUNCTIONS = (
    "alpha", "alpha_mle", "alpha_series", "expected_sigma", "expected_sigma2", "expected_log_sigma2",
    "var_log_sigma2", "expected_mean_sq_drift", "half_life", "det_factor", "expected_logdet_drift",
    "expected_det_sqrt", "expected_w2_sq", "log_sigma2_cdf", "prob_collapsed", "median_log_sigma2",
)


def mp_alpha(nn, divisor=None):
    """Reference α (divisor n − 1) or α_mle (divisor n) in mpmath."""
    nn = mp.mpf(nn)
    m = nn - 1 if divisor is None else mp.mpf(divisor)
    return mp.sqrt(2 / m) * mp.exp(mp.loggamma(nn / 2) - mp.loggamma((nn - 1) / 2))


def assert_rel(num, ref, rel=1e-12, scale=0.0):
    """|num − ref| ≤ rel · max(|ref|, scale); exact zeros and underflow compare absolutely."""
    ref = float(ref)
    tol = rel * max(abs(ref), float(scale)) + 1e-300
    assert abs(num - ref) <= tol, (num, ref, abs(num - ref) / max(abs(ref), 1e-300))


# --------------------------------------------------------------------------------------
# α(n)
# --------------------------------------------------------------------------------------

def test_symbols_carry_assumptions():
    assert n.is_integer and n.is_positive
    assert t.is_integer and t.is_nonnegative
    assert d.is_integer and d.is_positive
    assert sigma0.is_positive and u.is_real
    assert th.SYMBOLS["n"] is th.n_sym


def test_alpha_matches_mpmath_to_1e13_on_a_wide_grid():
    rng = np.random.default_rng(20240601)
    grid = np.concatenate([
        np.arange(2, 401), [1000, 10**4, 10**5, 10**6, 10**7, 10**8],
        np.unique(np.round(10 ** rng.uniform(0.4, 8, 120))),
    ]).astype(np.int64)
    grid = grid[grid >= 2]
    values = th.alpha(grid)
    with mp.workdps(50):
        ref = np.array([float(mp_alpha(int(k))) for k in grid])
        ref_mle = np.array([float(mp_alpha(int(k), int(k))) for k in grid])
    assert np.max(np.abs(values / ref - 1)) < 1e-13
    assert np.max(np.abs(th.alpha_mle(grid) / ref_mle - 1)) < 1e-13
    # scalars and integer-valued floats give the same floats
    assert isinstance(th.alpha(10), float)
    assert th.alpha(10.0) == th.alpha(np.int64(10)) == values[8]


@pytest.mark.parametrize("nn, value", [(2, 0.797885), (3, 0.886227), (5, 0.939986), (10, 0.972659),
                                        (20, 0.986934), (50, 0.994911), (100, 0.997478), (1000, 0.999750)])
def test_alpha_reference_values_of_theory_md(nn, value):
    assert round(th.alpha(nn), 6) == value


def test_half_life_reference_value():
    assert round(th.half_life(10), 1) == 25.0
    assert th.half_life(10**8) / 10**8 == pytest.approx(4 * math.log(2), rel=1e-7)  # ≈ 2.77 n


@given(st.integers(2, 10**6))
def test_alpha_below_one_and_strictly_increasing(k):
    a0, a1 = th.alpha(k), th.alpha(k + 1)
    assert 0 < a0 < a1 < 1
    assert th.alpha_mle(k) < a0


@given(st.integers(2, 10**8))
def test_log_alpha_strictly_increasing_up_to_1e8(k):
    # α(n+1) − α(n) ≈ 1/(4n²) falls below one ulp of 1 beyond n ~ 1e7: check through the
    # log-space twin, the half-life ln 2 / (−ln α).
    assert th.half_life(k) < th.half_life(k + 1)


def test_alpha_series_coefficients_are_exact():
    poly = sp.expand(th.alpha_series(3).removeO())
    assert poly.coeff(n, 0) == 1
    assert poly.coeff(n, -1) == sp.Rational(-1, 4)
    assert poly.coeff(n, -2) == sp.Rational(-7, 32)
    assert th.alpha_series(3).getO() == sp.Order(n**-3, (n, sp.oo))
    assert sp.expand(th.alpha_series(4).removeO()).coeff(n, -3) == sp.Rational(-19, 128)


@pytest.mark.parametrize("order", [2, 4, 6])
def test_alpha_series_remainder_has_the_stated_order(order):
    poly = sp.lambdify(n, th.alpha_series(order).removeO(), "mpmath")
    with mp.workdps(50):
        r = [abs(mp_alpha(k) - poly(mp.mpf(k))) * mp.mpf(k) ** order for k in (10**3, 10**4, 10**5)]
    # n^order · remainder → |next coefficient|: bounded and settling.
    assert float(r[-1]) < 1 and abs(float(r[-1] / r[-2]) - 1) < 1e-3


# --------------------------------------------------------------------------------------
# Derived expressions: closed forms (symbolic identities)
# --------------------------------------------------------------------------------------

ALPHA_TARGET = sp.sqrt(2 / (n - 1)) * sp.gamma(n / 2) / sp.gamma((n - 1) / 2)
ALPHA_MLE_TARGET = sp.sqrt(2 / n) * sp.gamma(n / 2) / sp.gamma((n - 1) / 2)


def is_zero(expr):
    return sp.simplify(sp.gammasimp(expr)) == 0


def test_alpha_expr_is_the_gamma_ratio():
    assert th.alpha_expr.free_symbols == {n}
    assert is_zero(th.alpha_expr - ALPHA_TARGET)
    assert is_zero(th.alpha_mle_expr - ALPHA_MLE_TARGET)


def test_alpha_expr_is_the_chi_integral():
    k = 7  # E sqrt(χ²_k / k) by quadrature against the χ² density
    with mp.workdps(30):
        quad = mp.quad(lambda x: mp.sqrt(x / k) * x ** (mp.mpf(k) / 2 - 1) * mp.exp(-x / 2)
                       / (2 ** (mp.mpf(k) / 2) * mp.gamma(mp.mpf(k) / 2)), [0, 10, mp.inf])
        assert abs(quad - th.alpha_expr.subs(n, k + 1).evalf(30)) < 1e-25


def test_moment_exprs_have_the_stated_closed_forms():
    a, am = ALPHA_TARGET, ALPHA_MLE_TARGET
    q = (n - 1) / n
    assert is_zero(th.expected_sigma_expr - a**t * sigma0)
    assert is_zero(th.expected_sigma_mle_expr - am**t * sigma0)
    assert th.expected_sigma2_expr == sigma0**2
    assert is_zero(th.expected_sigma2_mle_expr - q**t * sigma0**2)
    drift = sp.polygamma(0, (n - 1) / 2) - sp.log((n - 1) / 2)
    drift_mle = sp.polygamma(0, (n - 1) / 2) - sp.log(n / 2)
    assert is_zero(sp.expand_log(th.expected_log_sigma2_expr - sp.log(sigma0**2) - t * drift, force=True))
    assert is_zero(sp.expand_log(th.expected_log_sigma2_mle_expr - sp.log(sigma0**2) - t * drift_mle,
                                 force=True))
    assert is_zero(th.var_log_sigma2_expr - t * sp.polygamma(1, (n - 1) / 2))
    assert is_zero(th.expected_mean_sq_drift_expr - t * sigma0**2 / n)
    assert is_zero(th.expected_mean_sq_drift_mle_expr - sigma0**2 * (1 - q**t))
    assert is_zero(th.half_life_expr - sp.log(2) / (-sp.log(a)))
    assert is_zero(th.half_life_mle_expr - sp.log(2) / (-sp.log(am)))


def test_w2_expr_is_shumailovs_exact_form():
    unbiased = sigma0**2 * (t / n + 2 * (1 - ALPHA_TARGET**t))
    mle = 2 * sigma0**2 * (1 - ALPHA_MLE_TARGET**t)
    assert is_zero(th.expected_w2_sq_expr - unbiased)
    assert is_zero(th.expected_w2_sq_mle_expr - mle)
    # and it is assembled from the moments: E(μ_t−μ_0)² + σ0² − 2σ0 Eσ_t + Eσ_t²
    for sfx in ("", "_mle"):
        parts = (getattr(th, f"expected_mean_sq_drift{sfx}_expr") + sigma0**2
                 - 2 * sigma0 * getattr(th, f"expected_sigma{sfx}_expr") + getattr(th, f"expected_sigma2{sfx}_expr"))
        assert is_zero(getattr(th, f"expected_w2_sq{sfx}_expr") - parts)


def test_det_factor_expr_is_the_bartlett_product():
    for divisor, expr in ((n - 1, th.det_factor_expr), (n, th.det_factor_mle_expr)):
        closed = 2 ** (d / 2) * sp.gamma(n / 2) / (sp.gamma((n - d) / 2) * divisor ** (d / 2))
        assert is_zero(sp.powsimp(expr - closed, force=True))
        for dd in range(1, 6):  # independent oracle: E sqrt(χ²_k) = sqrt(2) Γ((k+1)/2)/Γ(k/2)
            prod = sp.Mul(*[sp.sqrt(2) * sp.gamma((n - i + 1) / 2) / sp.gamma((n - i) / 2) / sp.sqrt(divisor)
                            for i in range(1, dd + 1)])
            assert is_zero(expr.subs(d, dd) - prod)
    assert is_zero(th.det_factor_expr.subs(d, 1) - th.alpha_expr)
    assert is_zero(th.det_factor_mle_expr.subs(d, 1) - th.alpha_mle_expr)
    assert is_zero(th.expected_det_sqrt_expr - sigma0**d * th.det_factor_expr**t)


def test_logdet_drift_expr_reduces_to_the_1d_drift():
    for sfx in ("", "_mle"):
        one_d = getattr(th, f"expected_logdet_drift{sfx}_expr").subs(d, 1).doit()
        slope = sp.diff(getattr(th, f"expected_log_sigma2{sfx}_expr"), t)
        assert is_zero(sp.expand_log(one_d - slope, force=True))


def test_cf_expr_cumulants_are_the_log_moments():
    for sfx in ("", "_mle"):
        log_cf = sp.expand_log(sp.log(getattr(th, f"log_sigma2_cf{sfx}_expr")), force=True)
        mean = getattr(th, f"expected_log_sigma2{sfx}_expr") - sp.log(sigma0**2)
        assert is_zero(sp.expand_log(sp.diff(log_cf, u).subs(u, 0) - sp.I * mean, force=True))
        assert is_zero(sp.diff(log_cf, u, 2).subs(u, 0) + th.var_log_sigma2_expr)
        assert getattr(th, f"log_sigma2_cf{sfx}_expr").subs(u, 0) == 1


def test_exported_exprs_equal_a_fresh_derivation():
    """The pickled derivation cache holds what the derivation produces now."""
    names = [k for k in th.__all__ if k.endswith("_expr") and isinstance(getattr(th, k), sp.Basic)]
    assert len(names) >= 23
    code = ("import sympy, selfconsume.theory as th\n"
            f"for k in {names!r}: print(sympy.srepr(getattr(th, k)))")
    env = {**os.environ, "SELFCONSUME_REDERIVE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    fresh = out.stdout.strip().splitlines()
    assert fresh == [sp.srepr(getattr(th, k)) for k in names]


# --------------------------------------------------------------------------------------
# Derived expressions equal their numeric twins (mpmath, 40 digits)
# --------------------------------------------------------------------------------------

def _mp(expr, *args):
    """mpmath twin of ``expr``; numbers are passed as mpf (Python ints would make ``2/(n - 1)``
    a float division), except ``d``, the bound of the Bartlett ``Sum``."""
    f = sp.lambdify(args, expr, "mpmath")
    return lambda *vals: f(*(v if a == d else mp.mpf(v) for a, v in zip(args, vals)))


EXPR_1 = {  # twin(n, t, sigma0, estimator) = expr(n, t, sigma0)
    "expected_sigma": (th.expected_sigma_expr, th.expected_sigma_mle_expr),
    "expected_sigma2": (th.expected_sigma2_expr, th.expected_sigma2_mle_expr),
    "expected_mean_sq_drift": (th.expected_mean_sq_drift_expr, th.expected_mean_sq_drift_mle_expr),
    "expected_w2_sq": (th.expected_w2_sq_expr, th.expected_w2_sq_mle_expr),
}
EXPR_1_MP = {k: tuple(_mp(e, n, t, sigma0) for e in v) for k, v in EXPR_1.items()}
LOG_MP = tuple(_mp(e, n, t, sigma0) for e in (th.expected_log_sigma2_expr, th.expected_log_sigma2_mle_expr))
VAR_MP = _mp(th.var_log_sigma2_expr, n, t)
ALPHA_MP = tuple(_mp(e, n) for e in (th.alpha_expr, th.alpha_mle_expr))
HALF_MP = tuple(_mp(e, n) for e in (th.half_life_expr, th.half_life_mle_expr))
DET_MP = tuple(_mp(e, n, d) for e in (th.det_factor_expr, th.det_factor_mle_expr))
LOGDET_MP = tuple(_mp(e, n, d) for e in (th.expected_logdet_drift_expr, th.expected_logdet_drift_mle_expr))
DETSQRT_MP = tuple(_mp(e, n, d, t, sigma0) for e in (th.expected_det_sqrt_expr, th.expected_det_sqrt_mle_expr))

sizes = st.one_of(st.integers(2, 60), st.integers(61, 10**6))
gens = st.one_of(st.integers(0, 50), st.integers(51, 10**4))
scales = st.floats(1e-3, 1e3)
estimators = st.sampled_from(ESTIMATORS)


@given(sizes, gens, scales, estimators)
def test_one_dimensional_exprs_equal_their_twins(nn, tt, s0, est):
    j = ESTIMATORS.index(est)
    with mp.workdps(40):
        for name, fns in EXPR_1_MP.items():
            assert_rel(getattr(th, name)(nn, tt, s0, estimator=est), fns[j](nn, tt, mp.mpf(s0)))
        assert_rel(th.alpha(nn) if j == 0 else th.alpha_mle(nn), ALPHA_MP[j](nn))
        assert_rel(th.half_life(nn, estimator=est), HALF_MP[j](nn))
        assert_rel(th.var_log_sigma2(nn, tt, estimator=est), VAR_MP(nn, tt))
        # a sum of two terms of either sign: relative to the larger one
        ref = LOG_MP[j](nn, tt, mp.mpf(s0))
        scale = abs(2 * mp.log(s0)) + abs(ref - 2 * mp.log(s0))
        assert_rel(th.expected_log_sigma2(nn, tt, s0, estimator=est), ref, scale=scale)


@given(st.data(), sizes, st.integers(0, 2000), scales, estimators)
def test_d_dimensional_exprs_equal_their_twins(data, nn, tt, s0, est):
    dd = data.draw(st.integers(1, min(nn - 1, 40)), label="d")
    j = ESTIMATORS.index(est)
    with mp.workdps(40):
        assert_rel(th.det_factor(nn, dd, estimator=est), DET_MP[j](nn, dd))
        assert_rel(th.expected_logdet_drift(nn, dd, estimator=est), LOGDET_MP[j](nn, dd))
        assert_rel(th.expected_det_sqrt(nn, dd, tt, s0, estimator=est), DETSQRT_MP[j](nn, dd, tt, mp.mpf(s0)))


def test_theory_md_reference_values():
    # §2.2 and §3.1 (sim values next to them in theory.md were Monte Carlo; these are exact)
    assert th.expected_sigma(10, 10) == pytest.approx(0.7579, abs=5e-5)
    assert th.expected_sigma(10, 30) == pytest.approx(0.4353, abs=5e-5)
    assert th.expected_log_sigma2(10, 30) == pytest.approx(-3.456, abs=5e-4)
    assert th.var_log_sigma2(10, 30) == pytest.approx(7.462, abs=5e-4)
    assert th.expected_w2_sq(10, 10) == pytest.approx(1.484, abs=5e-4)
    assert th.det_factor(8, 3) == pytest.approx(0.6893, abs=5e-5)
    assert th.expected_logdet_drift(8, 3) == pytest.approx(-1.029, abs=5e-4)
    assert th.expected_sigma2(10, 10, estimator="mle") == pytest.approx(0.3487, abs=5e-5)
    assert th.expected_mean_sq_drift(10, 10, estimator="mle") == pytest.approx(0.6513, abs=5e-5)


# --------------------------------------------------------------------------------------
# Properties guaranteed by the theory
# --------------------------------------------------------------------------------------

@given(sizes, gens, scales, estimators)
def test_moment_inequalities(nn, tt, s0, est):
    # Jensen, per generation (no underflow) and for the t-generation values
    factor = th.alpha(nn) if est == "unbiased" else th.alpha_mle(nn)
    assert factor < math.sqrt(th.expected_sigma2(nn, 1, 1.0, est))
    log_es2 = 2 * math.log(s0) + tt * math.log(th.expected_sigma2(nn, 1, 1.0, est))
    assert th.expected_log_sigma2(nn, tt, s0, est) <= log_es2 + 1e-12 * (1 + abs(log_es2))
    es, es2 = th.expected_sigma(nn, tt, s0, est), th.expected_sigma2(nn, tt, s0, est)
    if es2 > 1e-290:  # both far from underflow
        assert es <= math.sqrt(es2) * (1 + 1e-12)
    w2 = th.expected_w2_sq(nn, tt, s0, est)
    if est == "mle":
        assert 0 <= w2 <= 2 * s0**2                                  # saturates (theory.md §3.1)
    else:
        assert w2 >= tt * s0**2 / nn * (1 - 1e-12)                    # diverges linearly


@given(st.data(), sizes, estimators)
def test_logdet_drift_negative_and_det_factor_below_one(data, nn, est):
    dd = data.draw(st.integers(1, min(nn - 1, 40)), label="d")
    assert th.expected_logdet_drift(nn, dd, est) < 0
    assert 0 < th.det_factor(nn, dd, est) < 1
    if dd > 1:
        assert th.det_factor(nn, dd, est) < th.det_factor(nn, dd - 1, est)


def test_twins_broadcast_like_numpy():
    nn = np.array([2, 10, 1000])[:, None]
    tt = np.arange(4.0)
    out = th.expected_sigma(nn, tt, 2.0)
    assert out.shape == (3, 4)
    assert out[1, 3] == th.expected_sigma(10, 3, 2.0)
    assert th.det_factor(np.array([5.0, 9.0]), np.array([[1], [4]])).shape == (2, 2)
    assert th.expected_det_sqrt(np.array([8, 50]), 3, np.array([[0], [5]]), 1.3).shape == (2, 2)
    assert th.log_sigma2_cdf(np.array([-1.0, 0.0]), 10, np.array([[1], [3]])).shape == (2, 2)
    assert th.median_log_sigma2(np.array([3, 10]), 2).shape == (2,)
    assert isinstance(th.prob_collapsed(3, 5), float)


def test_finite_at_extremes():
    with np.errstate(invalid="raise", divide="raise", over="raise"):
        s = th.expected_sigma(2, 10**6)
        assert isinstance(s, float) and s == 0.0  # underflows cleanly, never NaN
        assert th.expected_sigma(2, 1e300) == 0.0
        assert np.isfinite(th.expected_log_sigma2(2, 10**6))
        assert th.expected_log_sigma2(10**8, 10**8) == pytest.approx(-10**8 / (10**8 - 1), rel=1e-6)
        assert np.isfinite(th.var_log_sigma2(2, 10**6))
        assert 0 < th.det_factor(10**8, 2000) < 1
        assert th.expected_det_sqrt(10**6, 500, 10**6) >= 0
        assert np.isfinite(th.expected_logdet_drift(10**6, 3000))
        assert th.expected_w2_sq(2, 10**6, estimator="mle") == 2.0
        assert np.isfinite(th.half_life(10**8))
    # drift of log σ² keeps full relative accuracy where ψ − log cancels (n = 1e8)
    with mp.workdps(40):
        ref = mp.digamma(mp.mpf(10**8 - 1) / 2) - mp.log(mp.mpf(10**8 - 1) / 2)
    assert_rel(th.expected_log_sigma2(10**8, 1), ref)


# --------------------------------------------------------------------------------------
# Exact law of log σ_t²: Gil–Pelaez CDF, prob_collapsed, median
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("nn", [2, 3, 5, 10, 17, 50, 1000, 10**6])
@pytest.mark.parametrize("est", ESTIMATORS)
def test_cdf_one_generation_is_a_scaled_chi2(nn, est):
    m = nn - 1 if est == "unbiased" else nn
    mean = th.expected_log_sigma2(nn, 1, estimator=est)
    sd = math.sqrt(th.var_log_sigma2(nn, 1))
    x = mean + sd * np.array([-20.0, -6, -2, -0.5, 0, 0.7, 2, 5])
    ref = stats.chi2.cdf(m * np.exp(x), nn - 1)
    assert np.max(np.abs(th.log_sigma2_cdf(x, nn, 1, est) - ref)) < 1e-9


def test_cdf_two_generations_n3_is_a_product_of_exponentials():
    # n = 3 unbiased: χ²_2/2 ~ Exp(1); P(E1 E2 ≤ y) = 1 − 2√y K1(2√y)
    x = np.linspace(-14, 4, 19)
    y = np.exp(x)
    ref = 1 - 2 * np.sqrt(y) * special.k1(2 * np.sqrt(y))
    assert np.max(np.abs(th.log_sigma2_cdf(x, 3, 2) - ref)) < 1e-9
    assert th.log_sigma2_cdf(0.0, 3, 1) == pytest.approx(1 - math.exp(-1), abs=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("nn, tt", [(3, 6), (2, 5), (10, 4), (40, 3)])
def test_cdf_matches_the_meijer_g_law_of_a_gamma_product(nn, tt):
    # Σ log(χ²_k/m) = t log(2/m) + log Π G_i, G_i ~ Gamma(a), a = k/2, and
    # P(Π G_i ≤ y) = G^{t,1}_{1,t+1}(y | 1; a,…,a, 0) / Γ(a)^t (Mellin transform −Γ(a+s)^t/s).
    a = mp.mpf(nn - 1) / 2
    mean, sd = th.expected_log_sigma2(nn, tt), math.sqrt(th.var_log_sigma2(nn, tt))
    with mp.workdps(30):
        for z in (-3.0, -1.0, 0.0, 1.5):
            x = mean + z * sd
            yy = mp.exp(x) * (mp.mpf(nn - 1) / 2) ** tt
            ref = mp.meijerg([[1], []], [[a] * tt, [0]], yy) / mp.gamma(a) ** tt
            assert abs(th.log_sigma2_cdf(x, nn, tt) - float(ref)) < 1e-9


@pytest.mark.slow
@pytest.mark.parametrize("nn, tt", [(10, 3), (1000, 40)])
def test_cdf_equals_gil_pelaez_of_the_derived_cf_expr(nn, tt):
    """Ties the numeric CDF to ``log_sigma2_cf_expr``: an independent mpmath inversion."""
    cf_nt = _mp(th.log_sigma2_cf_expr, u, n, t)
    cf = lambda v: cf_nt(v, nn, tt)  # noqa: E731
    mean, sd = th.expected_log_sigma2(nn, tt), math.sqrt(th.var_log_sigma2(nn, tt))
    with mp.workdps(20):
        for z in (-1.2, 0.4):
            x = mean + z * sd

            def integrand(v):
                return mp.im(mp.exp(-1j * v * x) * cf(v)) / v if v else mp.mpf(mean - x)

            pts = [0] + [k / sd for k in (1, 2, 4, 8, 16, 32)]
            ref = mp.mpf(1) / 2 - mp.quad(integrand, pts) / mp.pi
            assert abs(th.log_sigma2_cdf(x, nn, tt) - float(ref)) < 1e-9


@pytest.mark.slow
def test_cdf_agrees_with_monte_carlo_at_5_se_bonferroni():
    rng = np.random.default_rng(7)
    reps = 200_000
    cases = [(10, 30, "unbiased"), (3, 5, "unbiased"), (2, 4, "mle"), (200, 50, "mle")]
    z_levels = np.array([-2.5, -1.0, 0.0, 1.0, 2.5])
    z = z_bonferroni(len(cases) * len(z_levels))
    for nn, tt, est in cases:
        m = nn - 1 if est == "unbiased" else nn
        # log(σ_t²/σ0²) = Σ_s log(χ²_{n−1,s}/m), drawn directly
        sums = np.log(rng.chisquare(nn - 1, size=(reps, tt)) / m).sum(axis=1)
        mean = th.expected_log_sigma2(nn, tt, estimator=est)
        x = mean + z_levels * math.sqrt(th.var_log_sigma2(nn, tt))
        p = th.log_sigma2_cdf(x, nn, tt, est)
        phat, se = proportion_se((sums[:, None] <= x).sum(axis=0), reps, p)
        assert np.all(np.abs(phat - p) <= z * se), (nn, tt, est, phat, p)
        # the log-moments as a by-product
        assert abs(sums.mean() - mean) <= z * sums.std() / math.sqrt(reps)


def test_cdf_basic_invariants():
    x = np.linspace(-30, 10, 81)
    f = th.log_sigma2_cdf(x, 5, 7)
    assert np.all(np.diff(f) >= -1e-12) and f[0] < 1e-6 and f[-1] > 1 - 1e-9
    assert th.log_sigma2_cdf(-np.inf, 5, 7) == 0.0 and th.log_sigma2_cdf(np.inf, 5, 7) == 1.0
    # t = 0: point mass at 0
    assert th.log_sigma2_cdf([-1e-12, 0.0, 3.0], 5, 0).tolist() == [0.0, 1.0, 1.0]
    # the divisor only shifts the law: F_mle(x) = F_unbiased(x − t log((n−1)/n))
    shift = 7 * math.log(4 / 5)
    assert th.log_sigma2_cdf(-2.0, 5, 7, "mle") == pytest.approx(th.log_sigma2_cdf(-2.0 - shift, 5, 7), abs=1e-12)


@pytest.mark.parametrize("nn, tt", [(2, 10**5), (3, 10**5), (10**6, 1), (10**6, 10**5)])
def test_cdf_at_extreme_t_and_n_is_finite_and_nearly_normal(nn, tt):
    mean, sd = th.expected_log_sigma2(nn, tt), math.sqrt(th.var_log_sigma2(nn, tt))
    z = np.array([-3.0, 0.0, 3.0])
    f = th.log_sigma2_cdf(mean + z * sd, nn, tt)
    # skewness of the sum is O(1/sqrt(t)) (or O(1/sqrt(n))): Edgeworth gap < 1e-3 here
    assert np.all(np.abs(f - stats.norm.cdf(z)) < 1e-3)
    med = th.median_log_sigma2(nn, tt)
    assert math.isfinite(med) and mean < med < mean + sd


@pytest.mark.parametrize("nn, tt, est", [(3, 1, "unbiased"), (10, 1, "mle"), (7, 9, "unbiased"), (100, 30, "mle")])
def test_median_is_the_half_quantile(nn, tt, est):
    med = th.median_log_sigma2(nn, tt, est)
    assert th.log_sigma2_cdf(med, nn, tt, est) == pytest.approx(0.5, abs=1e-9)
    mean, sd = th.expected_log_sigma2(nn, tt, estimator=est), math.sqrt(th.var_log_sigma2(nn, tt))
    assert mean < med < mean + sd  # left-skewed law; |median − mean| ≤ sd
    if tt == 1:
        m = nn - 1 if est == "unbiased" else nn
        assert med == pytest.approx(math.log(stats.chi2.median(nn - 1) / m), abs=1e-9)
    assert th.median_log_sigma2(nn, 0, est) == 0.0


def test_prob_collapsed():
    assert th.prob_collapsed(3, 40) == th.log_sigma2_cdf(2 * math.log(1e-3), 3, 40)
    assert th.prob_collapsed(10, 0) == 0.0 and th.prob_collapsed(10, 0, threshold=2.0) == 1.0
    p = th.prob_collapsed(3, np.array([10, 40, 160, 640]))
    assert np.all(np.diff(p) > 0) and 0 < p[0] and p[-1] > 0.99
    assert th.prob_collapsed(10, 20, 0.5, "mle") == pytest.approx(
        th.log_sigma2_cdf(2 * math.log(0.5), 10, 20, "mle"), abs=0)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------

BAD_CALLS = [
    ("n", lambda: th.alpha(1)), ("n", lambda: th.alpha(2.5)), ("n", lambda: th.alpha(np.nan)),
    ("n", lambda: th.alpha([3, 1])), ("n", lambda: th.alpha_mle(np.inf)),
    ("n", lambda: th.expected_sigma(1, 3)), ("n", lambda: th.half_life(0)),
    ("t", lambda: th.expected_sigma(10, -1)), ("t", lambda: th.expected_sigma2(10, np.nan)),
    ("t", lambda: th.var_log_sigma2(10, -0.5)), ("t", lambda: th.log_sigma2_cdf(0.0, 10, -1)),
    ("t", lambda: th.expected_w2_sq(10, np.inf)),
    ("sigma0", lambda: th.expected_sigma(10, 3, 0)), ("sigma0", lambda: th.expected_sigma(10, 3, np.nan)),
    ("sigma0", lambda: th.expected_w2_sq(10, 3, -1.0)), ("sigma0", lambda: th.expected_log_sigma2(10, 3, np.inf)),
    ("sigma0", lambda: th.expected_det_sqrt(10, 2, 3, 0.0)),
    ("estimator", lambda: th.expected_sigma(10, 3, estimator="foo")),
    ("estimator", lambda: th.half_life(10, estimator="MLE")),
    ("estimator", lambda: th.median_log_sigma2(10, 3, estimator="foo")),
    ("d", lambda: th.det_factor(10, 0)), ("d", lambda: th.det_factor(10, 1.5)),
    ("n", lambda: th.det_factor(3, 3)), ("n", lambda: th.expected_logdet_drift(4, 7)),
    ("n", lambda: th.expected_det_sqrt(2, 2, 1)),
    ("x", lambda: th.log_sigma2_cdf(np.nan, 10, 3)),
    ("threshold", lambda: th.prob_collapsed(10, 3, 0.0)), ("threshold", lambda: th.prob_collapsed(10, 3, np.nan)),
    ("order", lambda: th.alpha_series(0)),
]


@pytest.mark.parametrize("param, call", BAD_CALLS, ids=[f"{p}-{i}" for i, (p, _) in enumerate(BAD_CALLS)])
def test_bad_input_raises_value_error_naming_the_parameter(param, call):
    with pytest.raises(ValueError, match=rf"\b{param}\b"):
        call()


@pytest.mark.parametrize("call", [lambda: th.alpha("10"), lambda: th.alpha(True),
                                  lambda: th.expected_sigma(10, 1 + 2j), lambda: th.expected_sigma(10, 3, "1")])
def test_wrong_kind_of_object_raises_type_error(call):
    with pytest.raises(TypeError):
        call()


def test_n_above_d_message_names_both():
    with pytest.raises(ValueError, match=r"n must be greater than d.*n=3.*d=3"):
        th.det_factor(3, 3)


# --------------------------------------------------------------------------------------
# Docs and import cost
# --------------------------------------------------------------------------------------

def test_every_public_function_has_a_passing_example():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for name in GAUSSIAN_FUNCTIONS:
        obj = getattr(th, name)
        tests = [x for x in finder.find(obj, name, globs=dict(vars(th))) if x.examples]
        assert tests, f"{name} has no Examples"
        assert ".. math::" in obj.__doc__ and "Source" in obj.__doc__, name
        for test in tests:
            runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
