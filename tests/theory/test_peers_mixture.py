"""Suresh et al.'s mixture refit, theory: κ as released, the sympy step = its twin, the bounds, bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import integrate, stats

from selfconsume.theory import (approx_mle_kappa, bound_mixture_collapse, bound_mixture_sigma, expected_mixture_step,
                                mixture_step_expr)


def released_kappa(n, eta=2.0):
    """κ as the authors' notebook computes it (simulations.ipynb, the GMM cells)."""
    const = ((eta - 1) * ((n - 1) / 2 + 4 * eta)) / (eta * (n - 1) * (n + 4 * eta - 1))
    return np.exp(const) - 1


@pytest.mark.parametrize("n, eta", [(2, 2.0), (10, 2.0), (13, 1.5), (1000, 7.0)])
def test_kappa_is_the_released_formula(n, eta):
    assert approx_mle_kappa(n, eta) == pytest.approx(released_kappa(n, eta), rel=1e-13)


def _var_abs_quad(mu, sigma):
    """Var|μ + σZ| by quadrature (an independent route)."""
    f = lambda z: abs(mu + sigma * z) * stats.norm.pdf(z)  # noqa: E731
    z0 = -mu / sigma  # the kink
    m1 = integrate.quad(f, -np.inf, z0)[0] + integrate.quad(f, z0, np.inf)[0]
    return mu * mu + sigma * sigma - m1 * m1


@pytest.mark.parametrize("mu, sigma, n", [(0.0, 1.0, 10), (0.6, 1.2, 10), (-2.5, 0.4, 7), (3.0, 3.0, 2)])
def test_step_matches_quadrature_and_sympy(mu, sigma, n):
    m2, v = expected_mixture_step(mu, sigma, n)
    kappa = approx_mle_kappa(n)
    assert m2 == pytest.approx(mu * mu + sigma * sigma, rel=1e-14)
    assert v == pytest.approx((1 + kappa) * (1 - 1 / n) * _var_abs_quad(mu, sigma), rel=1e-9)
    e_m2, e_v = mixture_step_expr()
    syms = {s.name: s for s in e_v.free_symbols | e_m2.free_symbols}
    sub = {syms["mu"]: abs(mu), syms["sigma"]: sigma, syms["n"]: n, syms["kappa"]: kappa}
    assert float(e_v.subs(sub).evalf(40)) == pytest.approx(v, rel=1e-12)
    assert float(e_m2.subs(sub).evalf(40)) == pytest.approx(m2, rel=1e-14)


def test_step_is_accurate_when_components_are_far_apart():
    # Var|μ + σZ| → σ² as μ/σ → ∞ (the fold never bites); the twin keeps it without cancellation
    kappa = approx_mle_kappa(10)
    for r in (10.0, 30.0, 1e4, 1e12):  # Var|μ + σZ| = σ²(1 − O(e^(−r²/2))): 1 − 2e-23 at r = 10
        _, v = expected_mixture_step(r, 1.0, 10)
        assert v == pytest.approx((1 + kappa) * 0.9, rel=1e-14)
    _, v = expected_mixture_step(5.0, 1.0, 10)  # 1e-6 below σ²: kept, not rounded away
    assert v == pytest.approx((1 + kappa) * 0.9 * _var_abs_quad(5.0, 1.0), rel=1e-9)
    assert v < (1 + kappa) * 0.9 * (1 - 1e-6)


def test_step_by_monte_carlo():
    rng = np.random.default_rng(0)
    y = np.abs(0.8 + 0.5 * rng.standard_normal((400_000, 6)))
    s2 = y.var(axis=1)
    _, v = expected_mixture_step(0.8, 0.5, 6)
    m = (1 + approx_mle_kappa(6)) * s2.mean()
    se = (1 + approx_mle_kappa(6)) * s2.std() / math.sqrt(s2.size)
    assert abs(m - v) < 5 * se


@settings(max_examples=60, deadline=None)
@given(n=st.integers(3, 10**6), eta=st.floats(1.01, 2.0))
def test_derived_rate_beats_theorem_4_from_n_3(n, eta):
    # ρ = ((1+κ)(1−1/n))^(1/2) ≤ e^(−1/(4n)) for η = 2, and κ grows with η, so every η ≤ 2 contracts
    # at least as fast
    rho = bound_mixture_sigma(1, n, 1.0, 2.0)
    assert rho <= math.exp(-1.0 / (4 * n)) * (1 + 1e-15)
    assert 0 < bound_mixture_sigma(1, n, 1.0, eta) <= rho * (1 + 1e-15)


def test_derived_rate_is_no_contraction_for_large_eta_at_small_n():
    # κ → e^{1/(n−1)} − 1 as η → ∞: at n = 3 the factor (1+κ)(1−1/n) → 2e^{1/2}/3 > 1, so the derived
    # bound on E σ_k does not contract there (the falsifying example hypothesis found: n = 3, η = 7)
    assert bound_mixture_sigma(1, 3, 1.0, 7.0) > 1.0
    assert bound_mixture_sigma(1, 3, 1.0, 1e6) < math.sqrt(2 * math.exp(0.5) / 3)


def test_derived_rate_at_n_2_is_weaker_than_theorem_4():
    # documented: the Jensen–Poincaré route gives ρ > e^(−1/8) at n = 2
    assert bound_mixture_sigma(1, 2) > math.exp(-1 / 8)


def test_bounds_shapes_and_values():
    k = np.array([0, 1, 93, 200])
    b = bound_mixture_collapse(k, 10, 1.0, 0.1)
    assert b.shape == (4,) and b[0] == 1.0 and b[1] == 1.0
    assert b[2] == pytest.approx(10 * math.exp(-93 / 40), rel=1e-14)
    assert bound_mixture_collapse(200, 10, 1.0, 0.1) == pytest.approx(10 * math.exp(-5), rel=1e-14)
    s = bound_mixture_sigma(k, 10, 2.0)
    rho2 = (1 + approx_mle_kappa(10)) * 0.9
    np.testing.assert_allclose(s, 2.0 * rho2 ** (k / 2), rtol=1e-13)
    assert isinstance(bound_mixture_sigma(3, 10), float)


@pytest.mark.parametrize("call, match", [
    (lambda: approx_mle_kappa(1), "n must be an integer >= 2"),
    (lambda: approx_mle_kappa(10, 1.0), "eta"),
    (lambda: expected_mixture_step(float("nan"), 1.0, 10), "mu"),
    (lambda: expected_mixture_step(math.inf, 1.0, 10), "mu"),
    (lambda: expected_mixture_step(0.0, 0.0, 10), "sigma"),
    (lambda: expected_mixture_step(0.0, 1.0, 1), "n must be"),
    (lambda: bound_mixture_sigma(-1, 10), "k must be"),
    (lambda: bound_mixture_sigma(1, 10, -1.0), "sigma0"),
    (lambda: bound_mixture_collapse(1, 0), "n must be"),
    (lambda: bound_mixture_collapse(1, 10, 1.0, 0.0), "eps"),
    (lambda: bound_mixture_collapse([1, 2.5], 10), "k must be"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
