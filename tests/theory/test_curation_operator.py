"""The exact curation operator H^K_p: quadrature vs exact oracles, and its properties.

Oracles: mpmath enumeration over compositions (curation_H_enumerated), an independent
brute force over all (K−1)-tuples of atoms written here, the K = 2 logistic closed form and
the sympy-derived Laplace integral evaluated by mpmath quadrature.
"""

import doctest
import itertools
import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, strategies as st

import selfconsume.theory._curation_bounds as curation_bounds_module
import selfconsume.theory._curation_operator as curation_operator_module
from selfconsume.theory import (
    curated_distribution,
    curation_H,
    curation_H_enumerated,
    curation_H_large_K,
    curation_H_large_K_coefficients,
    curation_H_logistic,
    curation_laplace_integral,
    tilt,
)

P0 = np.array([0.3, 0.2, 0.15, 0.2, 0.1, 0.05])
R0 = np.array([0.0, 0.3, 0.3, 0.8, 1.0, 1.0])


def brute_force_H(p, r, K, dps=30):
    """H by summing over every (K−1)-tuple of atoms (no levels, no compositions)."""
    with mp.workdps(dps):
        w = [mp.exp(mp.mpf(x)) for x in r]
        pp = [mp.mpf(x) for x in p]
        out = []
        for x in range(len(p)):
            tot = mp.mpf(0)
            for tup in itertools.product(range(len(p)), repeat=K - 1):
                pr = mp.fprod(pp[i] for i in tup)
                tot += pr * w[x] / (w[x] + mp.fsum(w[i] for i in tup))
            out.append(float(K * tot))
    return np.array(out)


def test_doctests():
    results = [doctest.testmod(m) for m in (curation_operator_module, curation_bounds_module)]
    assert all(r.failed == 0 for r in results) and sum(r.attempted for r in results) > 20


def test_enumeration_matches_brute_force_over_tuples():
    p = np.array([0.5, 0.2, 0.3, 0.0])
    r = np.array([0.1, 0.7, 0.1, 2.0])  # a tie and a zero-mass atom above the top
    for K in (1, 2, 3, 5):
        np.testing.assert_allclose(curation_H_enumerated(p, r, K), brute_force_H(p, r, K), rtol=1e-14)


CASES = [
    ("theory.md example", P0, R0),
    ("ties and a zero-mass atom", np.array([0.5, 0.0, 0.25, 0.25]), np.array([1.0, 3.0, 1.0, -2.0])),
    ("rewards ±700", np.array([0.4, 0.25, 0.25, 0.1, 0.0]), np.array([-700.0, 3.0, 3.0, 700.0, 705.0])),
    ("near-degenerate p", np.array([1 - 2e-12, 1e-12, 1e-12]), np.array([0.0, 5.0, -5.0])),
    ("one level", np.array([0.2, 0.8]), np.array([4.0, 4.0])),
    ("close levels", np.array([0.3, 0.3, 0.4]), np.array([0.0, 1e-9, 2e-9])),
]


@pytest.mark.parametrize("name,p,r", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("K", [2, 3, 4, 7, 12])
def test_quadrature_matches_enumeration(name, p, r, K):
    """Relative error of H (absolute error of log H) at most 1e-12 vs mpmath enumeration."""
    got = curation_H(p, r, K, log=True)
    ref = curation_H_enumerated(p, r, K, log=True, dps=40)
    # log H near −1400 carries 2.3e-13 of float64 spacing by itself
    assert np.max(np.abs(got - ref)) <= 1e-12 * np.maximum(1.0, np.abs(ref) / 700).max()


@pytest.mark.parametrize("K", [100, 1000, 20000])
@pytest.mark.parametrize("q,gap", [(0.3, 0.5), (1e-3, 5.0), (0.5, 700.0), (0.5, 1e-6)])
def test_quadrature_large_K_two_levels(K, q, gap):
    """Two levels: the enumeration is a K-term binomial sum, so large K is checkable exactly."""
    p, r = np.array([q, 1 - q, 0.0]), np.array([gap, 0.0, -100.0])
    got = curation_H(p, r, K, log=True)
    ref = curation_H_enumerated(p, r, K, log=True, dps=40)
    assert np.max(np.abs(got - ref)) <= 1e-12


def test_quadrature_three_levels_K200():
    p, r = np.array([0.2, 0.5, 0.3]), np.array([1.0, 0.4, -0.5])
    np.testing.assert_allclose(curation_H(p, r, 200), curation_H_enumerated(p, r, 200), rtol=1e-12)


def test_laplace_integral_from_sympy_matches_enumeration():
    """The sympy-derived integral (u-form), integrated by mpmath, equals the enumeration."""
    import sympy as sp

    _, H_u = curation_laplace_integral()
    (u, lo, hi), = H_u.limits
    assert (lo, hi) == (-sp.oo, sp.oo)
    Phi = sp.Symbol("Phi")
    integrand = H_u.function.replace(lambda e: isinstance(e, sp.Function) and e.func.__name__ == "varphi",
                                     lambda e: Phi)
    K, w = sorted(integrand.free_symbols - {u, Phi}, key=str)
    f = sp.lambdify((u, w, K, Phi), integrand, "mpmath")
    p, r, Kv = np.array([0.6, 0.4]), np.array([0.5, 0.0]), 3
    with mp.workdps(30):
        def phi(s):
            return mp.fsum(pi * mp.exp(-s * mp.exp(ri)) for pi, ri in zip(p, r))
        # outside [−80, 6] the integrand is below e^{−70} of its mass (left: ≤ e^{u+r}; right: ≤ e^{−e^u})
        got = [mp.quad(lambda uu: f(uu, mp.exp(ri), Kv, phi(mp.exp(uu))), [-80, -20, -5, 0, 3, 6]) for ri in r]
    np.testing.assert_allclose([float(g) for g in got], curation_H_enumerated(p, r, Kv), rtol=1e-13)


def test_curated_distribution_matches_luce_probabilities():
    """p·H is Σ over K-tuples of P(tuple)·(Luce choice): the literal definition on a tiny case."""
    p, r, K = np.array([0.5, 0.3, 0.2]), np.array([0.0, 1.0, 0.0]), 3
    ref = np.zeros(3)
    w = np.exp(r)
    for tup in itertools.product(range(3), repeat=K):
        pr = np.prod(p[list(tup)])
        for k in tup:
            ref[k] += pr * w[k] / w[list(tup)].sum()
    # each tuple contributes the choice probabilities once per candidate slot
    np.testing.assert_allclose(curated_distribution(p, r, K), ref, rtol=1e-13)


def test_K1_is_identity_and_K_inf_is_tilt():
    np.testing.assert_array_equal(curation_H(P0, R0, 1), np.ones(6))
    np.testing.assert_allclose(curated_distribution(P0, R0, np.inf), tilt(P0, R0, 1), rtol=1e-14)


def test_large_K_expansion_orders():
    """Error of the order-k expansion shrinks like K^{−k−1} (coefficients derived by sympy)."""
    for K in (1e3, 1e4, 1e5):
        exact = curation_H(P0, R0, int(K))
        e1 = np.max(np.abs(exact - curation_H_large_K(P0, R0, int(K), order=1)))
        e2 = np.max(np.abs(exact - curation_H_large_K(P0, R0, int(K), order=2)))
        assert e1 * K**2 < 1.0 and e2 * K**3 < 10.0
        assert e2 < e1 / 50
    c = curation_H_large_K_coefficients()
    assert "kappa4" not in str(c["c2"])  # the fourth cumulant cancels at this order


# --------------------------------------------------------------------------- properties

@st.composite
def instances(draw, max_m=7, K_values=(1, 2, 3, 4, 7, 16, 100, 1000, 10**6)):
    """Admissible (p, r, K): ties, zero masses, near-degenerate p, rewards up to ±700."""
    m = draw(st.integers(1, max_m))
    scale = draw(st.sampled_from([1e-6, 1.0, 30.0, 700.0]))
    pool = draw(st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=m))
    r = np.array([pool[draw(st.integers(0, len(pool) - 1))] * scale for _ in range(m)])
    logw = np.array(draw(st.lists(st.floats(-40.0, 0.0), min_size=m, max_size=m)))
    zero = np.array(draw(st.lists(st.booleans(), min_size=m, max_size=m)))
    if zero.all():
        zero[draw(st.integers(0, m - 1))] = False
    w = np.where(zero, 0.0, np.exp(logw))
    p = w / w.sum()
    K = draw(st.sampled_from(K_values) | st.integers(1, 60))
    return p, r, K


def _sandwich_logs(p, r, K):
    """log of K w/(w + (K−1) w_*) for w_* = top, bottom of the support, and E_p w (Jensen)."""
    sup = p > 0
    top, bot = r[sup].max(), r[sup].min()
    a = r - top
    lk, lk1 = math.log(K), math.log(K - 1)
    m = math.log(p[sup] @ np.exp(r[sup] - top))
    lower = lk + a - np.logaddexp(a, lk1)
    upper = lk + a - np.logaddexp(a, lk1 + (bot - top))
    jensen = lk + a - np.logaddexp(a, lk1 + m)
    return lower, upper, jensen


@given(instances())
@example((np.array([1 - 1e-15, 1e-15]), np.array([-700.0, 700.0]), 10**6))
@example((np.array([0.5, 0.5]), np.array([0.0, 1e-6 * 1e-9]), 2))
def test_H_properties(inst):
    """E_p H = 1; H ∈ (0, K) with the sandwich and Jensen bounds; monotone in r; ties equal."""
    p, r, K = inst
    lh = curation_H(p, r, K, log=True)
    assert np.all(np.isfinite(lh))
    H = np.exp(lh)
    assert abs(p @ H - 1.0) <= 1e-12
    if K == 1:
        np.testing.assert_array_equal(H, 1.0)
        return
    assert np.all(lh <= math.log(K) + 1e-15)
    lower, upper, jensen = _sandwich_logs(p, r, K)
    slack = 1e-12 * np.maximum(1.0, np.abs(lh))
    assert np.all(lh >= lower - slack) and np.all(lh <= upper + slack) and np.all(lh >= jensen - slack)
    order = np.argsort(r, kind="stable")
    assert np.all(np.diff(lh[order]) >= -slack[order][1:])
    for v in np.unique(r):
        assert np.ptp(lh[r == v]) == 0.0


@given(instances(K_values=(2,)))
def test_K2_logistic_form(inst):
    p, r, _ = inst
    got, ref = curation_H(p, r, 2, log=True), curation_H_logistic(p, r, log=True)
    assert np.max(np.abs(got - ref)) <= 1e-12 * max(1.0, np.abs(ref).max() / 700)


@given(instances(max_m=4, K_values=(2, 3, 5, 9)))
def test_matches_enumeration_on_random_inputs(inst):
    p, r, K = inst
    got, ref = curation_H(p, r, K, log=True), curation_H_enumerated(p, r, K, log=True, dps=40)
    assert np.max(np.abs(got - ref)) <= 1e-12 * max(1.0, np.abs(ref).max() / 700)


@given(instances(), st.sampled_from([-300.0, -1.5, 0.25, 64.0]))
def test_shift_invariance(inst, c):
    p, r, K = inst
    if np.abs(r + c).max() > 705:
        return
    a, b = curation_H(p, r, K, log=True), curation_H(p, r + c, K, log=True)
    # shifting changes the rounding of r by up to ulp(|r| + |c|)
    assert np.max(np.abs(a - b)) <= 1e-12 + 4e-16 * (np.abs(r).max() + abs(c))


# --------------------------------------------------------------------------- bad input

BAD = [
    (dict(p=[0.5, -0.1, 0.6]), ValueError, "p"),
    (dict(p=[0.5, 0.6, 0.1]), ValueError, "sum to 1"),
    (dict(p=[0.5, np.nan, 0.5]), ValueError, "p"),
    (dict(p=[]), ValueError, "p"),
    (dict(reward=[0.0, np.inf, 1.0]), ValueError, "reward"),
    (dict(reward=[0.0, 1.0]), ValueError, "same shape"),
    (dict(reward=[[0.0, 1.0, 2.0]]), ValueError, "reward"),
    (dict(K=0), ValueError, "K must be"),
    (dict(K=2.5), ValueError, "K must be"),
    (dict(K=-np.inf), ValueError, "K must be"),
    (dict(K=np.nan), ValueError, "K must be"),
    (dict(K="4"), TypeError, "K must be"),
]


@pytest.mark.parametrize("bad,exc,msg", BAD)
def test_bad_input(bad, exc, msg):
    kw = dict(p=[0.2, 0.3, 0.5], reward=[0.0, 1.0, 2.0], K=3) | bad
    for f in (curation_H, curated_distribution, curation_H_large_K):
        with pytest.raises(exc, match=msg):
            f(kw["p"], kw["reward"], kw["K"])
    if "K" not in bad:
        with pytest.raises(exc, match=msg):
            curation_H_logistic(kw["p"], kw["reward"])


def test_bad_input_enumeration():
    with pytest.raises(ValueError, match="K must be an integer >= 1;"):
        curation_H_enumerated([0.5, 0.5], [0.0, 1.0], np.inf)
    with pytest.raises(ValueError, match="max_terms"):
        curation_H_enumerated(np.full(10, 0.1), np.arange(10.0), 200)
    with pytest.raises(ValueError, match="order"):
        curation_H_large_K([0.5, 0.5], [0.0, 1.0], 4, order=3)
    with pytest.raises(ValueError, match="t must be"):
        tilt([0.5, 0.5], [0.0, 1.0], -1.0)
