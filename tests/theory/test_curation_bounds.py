"""Bounds and limits of curated retraining (Ferbach et al. 2024, Lemma 2.2, Thms 2.1, 2.3, 2.4).

Each theorem is checked by hypothesis on random admissible inputs under its conditions, and
where dropping a condition breaks the conclusion the counterexample hypothesis found is kept
as a plain test with the found values. Symbolic results (sympy) are checked against their
numeric twins.
"""

import math
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from selfconsume.simulators import simulate_curation
from selfconsume.theory import (
    bound_lemma22_gain,
    bound_thm23,
    bound_thm24,
    curated_distribution,
    curation_H_enumerated,
    expected_exp_reward,
    kl_to_top,
    level_rate_expr,
    level_rates,
    mixed_fixed_point_inf,
    mixed_fixed_point_inf_expr,
    thm23_gain_sequence,
    thm24_ratio_sequence,
    tilt,
    variance_exp_reward,
)

P0 = np.array([0.3, 0.2, 0.15, 0.2, 0.1, 0.05])
R0 = np.array([0.0, 0.3, 0.3, 0.8, 1.0, 1.0])


def kl(p, q):
    s = p > 0
    return float(np.sum(p[s] * np.log(p[s] / q[s])))


@st.composite
def mixed_instances(draw, cond=True):
    """(p_ref, r, K, λ) with ties and rewards up to ±700; λ(K−1) < 1 when ``cond``."""
    m = draw(st.integers(2, 6))
    scale = draw(st.sampled_from([1e-3, 1.0, 5.0, 700.0]))
    pool = draw(st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=m))
    r = np.array([pool[draw(st.integers(0, len(pool) - 1))] * scale for _ in range(m)])
    logw = np.array(draw(st.lists(st.floats(-20.0, 0.0), min_size=m, max_size=m)))
    p = np.exp(logw) / np.exp(logw).sum()
    K = draw(st.sampled_from([2, 3, 4, 8, 50, 10**4]))
    frac = draw(st.floats(0.01, 0.999)) if cond else draw(st.floats(0.01, 5.0))
    lam = frac / (K - 1)
    return p, r, K, lam


# --------------------------------------------------------------------------- Lemma 2.2

@given(mixed_instances())
def test_lemma22_bracket(inst):
    p, r, K, _ = inst
    top = r.max()
    e0 = math.exp(expected_exp_reward(p, r, log=True) - top)  # units of e^{r*}
    e1 = math.exp(expected_exp_reward(curated_distribution(p, r, K), r, log=True) - top)
    gain = e1 - e0
    lo = math.exp(bound_lemma22_gain(p, r, K, log=True) - top)
    hi = math.exp(min(bound_lemma22_gain(p, r, K, upper=True, log=True) - top, 700.0))
    slack = 1e-13  # the gain is a difference of two O(1) numbers
    assert lo - slack <= gain <= hi + slack


def test_lemma22_exact_identity_by_enumeration():
    """gain = E[Σ_{k<l}(W_k − W_l)² / (K ΣW)] over K iid draws (theory.md §1.4), exactly."""
    import itertools

    p, r, K = np.array([0.5, 0.3, 0.2]), np.array([0.0, 0.5, 1.2]), 4
    w = np.exp(r)
    ident = 0.0
    for tup in itertools.product(range(3), repeat=K):
        W = w[list(tup)]
        pairs = sum((W[k] - W[l]) ** 2 for k in range(K) for l in range(k + 1, K))
        ident += np.prod(p[list(tup)]) * pairs / (K * W.sum())
    gain = curated_distribution(p, r, K) @ w - p @ w
    assert gain == pytest.approx(ident, rel=1e-13)


# --------------------------------------------------------------------------- Theorem 2.3

@given(mixed_instances(cond=False))
def test_thm23_lower_bound(inst):
    """For every t ≥ 1: paper bound ≤ sharp bound ≤ E_{p_t} e^r (p_0 = p_ref)."""
    p, r, K, lam = inst
    res = simulate_curation(p, r, K, 40, lam=lam)
    top = r.max()  # ≤ 700: the bounds are finite; compare in units of e^{r*}
    m_t = np.exp(res.mean_exp_reward(log=True)[0, 1:] - top)
    paper = math.exp(math.log(bound_thm23(p, r, K, lam)) - top)
    sharp = math.exp(math.log(bound_thm23(p, r, K, lam, sharp=True)) - top)
    assert m_t.min() >= sharp - 1e-13
    assert paper <= sharp + 1e-15


def test_thm23_needs_t_at_least_1():
    """At t = 0 (p_0 = p_ref) the bound fails whenever Var_ref e^r > 0."""
    assert expected_exp_reward(P0, R0) < bound_thm23(P0, R0, 4, 0.3)


def test_thm23_needs_p0_equal_p_ref():
    """Counterexample found by hypothesis (find, 3000 examples): p_0 ≠ p_ref breaks the bound."""
    p_ref, p0, r = np.array([0.75, 0.25]), np.array([0.5, 0.5]), np.array([1.0, 0.0])
    res = simulate_curation(p0, r, 2, 50, lam=1.0, p_ref=p_ref)
    m = res.mean_exp_reward()[0]
    assert m[1] < bound_thm23(p_ref, r, 2, 1.0)  # 2.1732 < 2.3014
    assert m[1:].min() == pytest.approx(2.173182082029282, rel=1e-12)


def test_thm23_sharp_factor_is_tight():
    """λ/(1+λ) cannot be raised much: nearly equal rewards and large λ leave ~3e-4 of slack."""
    p, r, K, lam = np.array([0.34532947, 0.65467053]), np.array([0.83160006, 0.83224642]), 2, 20.0
    res = simulate_curation(p, r, K, 60, lam=lam)
    mref = expected_exp_reward(p, r)
    gain = res.mean_exp_reward()[0, 1:].min() - mref
    sharp = bound_thm23(p, r, K, lam, sharp=True) - mref
    assert sharp <= gain <= 1.001 * sharp


def test_thm23_sequence_is_derived_constant():
    b_t, b_lim, (lam, t) = thm23_gain_sequence()
    assert sp.simplify(b_t - lam / (1 + lam)) == 0 and sp.simplify(b_lim - lam / (1 + lam)) == 0
    # the recursion it solves, checked symbolically
    assert sp.simplify(b_t.subs(t, t + 1) - lam / (1 + lam) * (b_t + 1 / (1 + lam))) == 0


# --------------------------------------------------------------------------- Theorem 2.4

@given(mixed_instances())
def test_thm24_kl_bound(inst):
    """λ(K−1) < 1: KL(p_t‖p_ref) ≤ log c_t ≤ −log(1 − λ(K−1)) for all t (p_0 = p_ref)."""
    p, r, K, lam = inst
    res = simulate_curation(p, r, K, 60, lam=lam)
    bound = bound_thm24(K, lam)
    for t in range(61):
        k = kl(res.p[0, t], p)
        assert k <= bound_thm24(K, lam, t=t) + 1e-12
        assert k <= bound + 1e-12


@given(mixed_instances(cond=False))
def test_thm24_time_bound_holds_without_the_condition(inst):
    """log c_t bounds KL(p_t‖p_ref) at every t whatever λ(K−1) (it just grows with t)."""
    p, r, K, lam = inst
    res = simulate_curation(p, r, K, 30, lam=lam)
    for t in range(31):
        assert kl(res.p[0, t], p) <= bound_thm24(K, lam, t=t) + 1e-12


def test_thm24_fails_when_lambda_K_minus_1_exceeds_1():
    """Counterexample found by hypothesis: K = 2, λ = 2 (λ(K−1) = 2), r = (2, 0), p_ref = (ε, 1−ε).

    The curated top atom keeps a mass x* > 0 independent of ε, so KL(p_t‖p_ref) ≈ x* log(x*/ε)
    is unbounded over p_ref: no bound depending on (λ, K) alone can hold.
    """
    vals = []
    for eps in (1e-4, 1e-8, 1e-12, 1e-16):
        p, r = np.array([eps, 1 - eps]), np.array([2.0, 0.0])
        res = simulate_curation(p, r, 2, 3000, lam=2.0)
        vals.append(max(kl(res.p[0, t], p) for t in range(0, 3001, 10)))
    assert vals[-1] > 12.0
    assert np.all(np.diff(vals) > 3.0)
    assert bound_thm24(2, 2.0) == math.inf


def test_thm24_same_family_bounded_at_and_below_the_threshold():
    """The same family stays bounded for λ(K−1) ≤ 1 (we found no violation at equality)."""
    for lam in (1.0, 0.99):
        for eps in (1e-4, 1e-12):
            p, r = np.array([eps, 1 - eps]), np.array([2.0, 0.0])
            res = simulate_curation(p, r, 2, 2000, lam=lam)
            assert max(kl(res.p[0, t], p) for t in range(2001)) < 1e-3


def test_thm24_needs_p0_equal_p_ref():
    """Counterexample found by hypothesis: p_0 ≠ p_ref exceeds the bound (already at t = 0)."""
    p_ref, p0, r = np.array([0.75, 0.25]), np.array([0.5, 0.5]), np.array([1.0, 0.0])
    res = simulate_curation(p0, r, 2, 50, lam=0.125, p_ref=p_ref)
    assert kl(res.p[0, 0], p_ref) > bound_thm24(2, 0.125)  # 0.1438 > 0.1335


def test_thm24_sequence_matches_numeric_twin():
    c_t, c_eq, c_lim, (K, lam, t) = thm24_ratio_sequence()
    assert sp.simplify(c_t.subs(t, 0) - 1) == 0
    assert sp.simplify(c_t.subs(t, t + 1) - (1 + lam * K * c_t) / (1 + lam)) == 0
    assert sp.simplify(c_lim - 1 / (1 - lam * (K - 1))) == 0
    for Kv, lv, tv in [(4, Fraction(3, 10), 7), (2, Fraction(1, 2), 30), (8, Fraction(1, 7) + Fraction(1, 10**6), 50),
                       (3, Fraction(2), 5), (Fraction(1000), Fraction(1, 999), 12)]:
        exact = c_t.subs({K: Kv, lam: lv, t: tv}) if lv * (Kv - 1) != 1 else c_eq.subs({lam: lv, t: tv})
        assert bound_thm24(int(Kv), float(lv), t=tv) == pytest.approx(float(sp.log(exact)), rel=1e-12)
    # at the threshold λ(K−1) = 1 the closed form is 0/0; the numeric twin uses c_eq = 1 + t/(1+λ)
    assert bound_thm24(3, 0.5, t=10) == pytest.approx(math.log(1 + 10 / 1.5), rel=1e-12)
    assert sp.simplify(c_eq - (1 + t / (1 + lam))) == 0
    # large t on both sides of the threshold (ρ^t overflows above it), against mpmath
    with mp.workdps(50):
        for Kv, lv, tv in [(3, 0.5 + 1e-12, 10**6), (3, 0.5 - 1e-12, 10**6), (4, 0.5, 5000), (2, 0.9, 10**7)]:
            lam_, K_ = mp.mpf(lv), mp.mpf(Kv)
            rho = lam_ * K_ / (1 + lam_)
            c = 1 + lam_ * (K_ - 1) / (1 + lam_) * (1 - rho**tv) / (1 - rho)
            assert bound_thm24(Kv, lv, t=tv) == pytest.approx(float(mp.log(c)), rel=1e-12)
    assert bound_thm24(4, 0.3) == pytest.approx(-math.log(0.1), rel=1e-14)
    assert bound_thm24(4, 0.5) == math.inf and bound_thm24(np.inf, 0.1) == math.inf and bound_thm24(5, 0.0) == 0.0


# --------------------------------------------------------------------------- Theorem 2.1, rates, fixed point

def test_kl_to_top_identity_and_rates():
    res = simulate_curation(P0, R0, 4, 120)
    for t in range(121):
        assert kl_to_top(P0, res.p[0, t], R0) == pytest.approx(-math.log(res.top_mass()[0, t]), abs=1e-14)
    levels, rho = level_rates(P0, R0, 4)
    assert rho[1] == pytest.approx(0.8575946, abs=1e-7)  # theory.md §1.5: gap 0.2, K = 4
    for t in (10, 60, 119):
        ratio = res.p[0, t + 1, 3] / res.p[0, t, 3]
        # sandwich: 0 ≤ H_j(p_t) − ρ_j ≤ K (1 − E_{p_t} e^{r − r*})
        gap = 4 * (1 - res.p[0, t] @ np.exp(R0 - R0.max()))
        assert -1e-15 <= ratio - rho[1] <= gap + 1e-15
    assert gap < 1e-7


def test_level_rate_expr_matches_numeric():
    rho, rho_inf, (K, delta) = level_rate_expr()
    lv, num = level_rates([0.5, 0.3, 0.2], [1.0, 0.8, -0.5], 7)
    for j, d in enumerate(1.0 - lv):
        assert num[j] == pytest.approx(float(rho.subs({K: 7, delta: d})), rel=1e-14)
    # ρ_j is H at level j when all other candidates sit on the top level: enumeration with p = δ_top
    H = curation_H_enumerated([1.0, 0.0, 0.0], [1.0, 0.8, -0.5], 7)
    np.testing.assert_allclose(H, num, rtol=1e-14)
    assert level_rates([0.5, 0.5], [1.0, 0.0], np.inf)[1][1] == pytest.approx(math.exp(-1), rel=1e-15)


def test_tilt_limit_is_top_restriction():
    np.testing.assert_allclose(tilt(P0, R0, 2000.0), tilt(P0, R0, np.inf), atol=1e-15)
    assert kl_to_top(P0, tilt(P0, R0, np.inf), R0) == 0.0


@pytest.mark.parametrize("lam", [0.5, 2.0, 40.0])
def test_mixed_fixed_point_inf(lam):
    fp = mixed_fixed_point_inf(P0, R0, lam)
    assert fp.p.sum() == pytest.approx(1.0, abs=1e-14)
    # it is a fixed point of the K = ∞ mixed map
    np.testing.assert_allclose((P0 + lam * tilt(fp.p, R0, 1)) / (1 + lam), fp.p, atol=1e-14)
    # and the closed form from sympy
    expr, (pref, lm, w, Z) = mixed_fixed_point_inf_expr()
    f = sp.lambdify((pref, lm, w, Z), expr, "numpy")
    np.testing.assert_allclose(f(P0, lam, np.exp(R0), fp.Z), fp.p, rtol=1e-13)
    assert fp.Z > lam * math.exp(R0.max()) / (1 + lam)
    # mpmath root of Σ p_ref/(1 + λ − λ w/Z) = 1 at 30 digits
    with mp.workdps(30):
        g = lambda z: mp.fsum(mp.mpf(pi) / (1 + lam - lam * mp.exp(ri) / z) for pi, ri in zip(P0, R0)) - 1  # noqa: E731
        z = mp.findroot(g, fp.Z)
    assert fp.Z == pytest.approx(float(z), rel=1e-14)


def test_mixed_fixed_point_extreme_and_lam0():
    fp = mixed_fixed_point_inf([0.4, 0.25, 0.25, 0.1, 0.0], [-700.0, 3.0, 3.0, 700.0, 705.0], 0.5)
    assert np.isfinite(fp.log_Z) and fp.p.sum() == pytest.approx(1.0, abs=1e-14) and fp.p[-1] == 0.0
    fp0 = mixed_fixed_point_inf(P0, R0, 0.0)
    np.testing.assert_array_equal(fp0.p, P0)
    assert fp0.Z == pytest.approx(expected_exp_reward(P0, R0), rel=1e-15)


def test_moments_extreme_rewards_finite():
    p, r = np.array([0.5, 0.5]), np.array([-700.0, 700.0])
    assert expected_exp_reward(p, r, log=True) == pytest.approx(700 - math.log(2), rel=1e-15)
    assert variance_exp_reward(p, r, log=True) == pytest.approx(1400 - math.log(4), rel=1e-15)
    assert math.isfinite(bound_lemma22_gain(p, r, 4)) and math.isfinite(bound_lemma22_gain(p, r, 4, upper=True, log=True))
    assert variance_exp_reward([1.0, 0.0], [1.0, 2.0], log=True) == -math.inf
    # the linear forms overflow to inf (never raise); the log forms stay exact
    assert variance_exp_reward(p, r) == math.inf and bound_lemma22_gain(p, r, 4, upper=True) == math.inf
    assert expected_exp_reward([0.5, 0.5], [0.0, 720.0]) == math.inf
    assert bound_thm23([0.5, 0.5], [0.0, 720.0], 4, 0.5) == math.inf


BAD = [
    (lambda: bound_thm24(4, -0.1), ValueError, "lam"),
    (lambda: bound_thm24(0, 0.1), ValueError, "K must be"),
    (lambda: bound_thm24(4, 0.1, t=-1), ValueError, "t must be"),
    (lambda: bound_thm23(P0, R0, 4, np.nan), ValueError, "lam"),
    (lambda: bound_thm23(P0, R0[:3], 4, 0.1), ValueError, "same shape"),
    (lambda: bound_lemma22_gain(P0 * 2, R0, 4), ValueError, "sum to 1"),
    (lambda: mixed_fixed_point_inf(P0, R0, -1.0), ValueError, "lam"),
    (lambda: kl_to_top(P0, P0[:3] / P0[:3].sum(), R0), ValueError, "same shape"),
    (lambda: level_rates(P0, R0, 1.5), ValueError, "K must be"),
    (lambda: expected_exp_reward(P0, np.where(R0 > 0.5, np.nan, R0)), ValueError, "reward"),
]


@pytest.mark.parametrize("call,exc,msg", BAD)
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
