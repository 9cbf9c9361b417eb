"""Exact survival of symbols and count models: brute-force oracles, identities, the peers' bounds, bad input."""

import math
import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import selfconsume.theory._survival as surv
from selfconsume.theory import (bernoulli_survival, bound_interior_seddik, bound_poisson_survival_suresh,
                                bound_symbol_survival_simple, bound_symbol_survival_suresh,
                                bound_vocabulary_survival_suresh, poisson_extinction, poisson_lineage_survival,
                                symbol_survival, vocabulary_survival, vocabulary_survival_from_law, zipf_mandelbrot)

EVENTS = ("nonzero", "zero", "interior")


# --------------------------------------------------------------------------- oracles


def _chain_fraction(n, init, T, event):
    """P(event at t), t = 0..T, by exact rational propagation of the law of c_t (forward, Fractions)."""
    v = list(init)
    out = []
    for t in range(T + 1):
        if event == "nonzero":
            out.append(sum(v[1:]))
        elif event == "zero":
            out.append(v[0])
        else:
            out.append(sum(v[1:n]))
        w = [Fraction(0)] * (n + 1)
        for c, pc in enumerate(v):
            if pc == 0:
                continue
            p = Fraction(c, n)
            for j in range(n + 1):
                w[j] += pc * math.comb(n, j) * p**j * (1 - p) ** (n - j)
        v = w
    return np.array([float(x) for x in out])


def _delta(n, c):
    v = [Fraction(0)] * (n + 1)
    v[c] = Fraction(1)
    return v


@pytest.mark.parametrize("n, c", [(1, 0), (1, 1), (2, 1), (5, 2), (7, 1), (6, 5), (9, 9)])
@pytest.mark.parametrize("event", EVENTS)
def test_symbol_survival_equals_the_exact_rational_chain(n, c, event):
    got = symbol_survival(n, c, 6, event=event)
    want = _chain_fraction(n, _delta(n, c), 6, event)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300)


def test_symbol_survival_count_arrays_and_edges():
    s = symbol_survival(8, [[0, 1], [4, 8]], 5)
    assert s.shape == (2, 2, 6)
    np.testing.assert_array_equal(s[0, 0], 0.0)   # count 0: never present
    np.testing.assert_array_equal(s[1, 1], 1.0)   # count n: fixed
    np.testing.assert_allclose(s[1, 0], symbol_survival(8, 4, 5), rtol=0, atol=0)
    z = symbol_survival(8, [1, 4], 5, event="zero")
    np.testing.assert_allclose(z + symbol_survival(8, [1, 4], 5), 1.0, rtol=0, atol=2e-15)
    assert symbol_survival(8, 3, 0).tolist() == [1.0]


def test_bernoulli_survival_at_grid_points_is_symbol_survival_and_off_grid_is_the_mixture():
    for n, c in ((10, 3), (40, 1), (200, 7)):
        for event in EVENTS:
            np.testing.assert_allclose(bernoulli_survival(n, c / n, 30, event=event),
                                       symbol_survival(n, c, 30, event=event), rtol=1e-12, atol=1e-300)
    n, p0 = 6, Fraction(1, 7)  # not a multiple of 1/n: generation 1 is Bin(n, p0)
    init = [math.comb(n, j) * p0**j * (1 - p0) ** (n - j) for j in range(n + 1)]
    for event in EVENTS:
        want = np.r_[float(event != "zero"), _chain_fraction(n, init, 5, event)]  # t = 0: the model p0 itself
        np.testing.assert_allclose(bernoulli_survival(n, 1 / 7, 6, event=event), want, rtol=1e-13)
    assert bernoulli_survival(5, 0.0, 3).tolist() == [0.0] * 4
    assert bernoulli_survival(5, 1.0, 3, event="interior").tolist() == [0.0] * 4


def test_transition_rows_match_scipy():
    for n in (1, 2, 7, 33, 100, 1000):
        P = surv._transition_matrix(n)
        c = np.arange(n + 1)
        Q = stats.binom.pmf(c[None, :], n, (c / n)[:, None])
        bulk = Q > 1e-100
        np.testing.assert_allclose(P[bulk], Q[bulk], rtol=1e-11)
        np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-13)
        assert (P >= 0).all()
    rows = surv._binom_rows(50, np.array([0.0, 0.013, 0.5, 0.999, 1.0]))
    Q = stats.binom.pmf(np.arange(51)[None, :], 50, np.array([0.0, 0.013, 0.5, 0.999, 1.0])[:, None])
    np.testing.assert_allclose(rows, Q, rtol=1e-12, atol=1e-300)


def test_vocabulary_survival_is_the_mean_of_symbol_survivals():
    counts = np.array([7, 1, 3, 1, 2, 7, 1])
    T = 12
    per = symbol_survival(int(counts.sum()), counts, T)
    np.testing.assert_allclose(vocabulary_survival(counts, T), per.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(vocabulary_survival(counts, T, normalize=False), per.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(vocabulary_survival(counts[::-1], T), vocabulary_survival(counts, T), rtol=1e-14)
    assert vocabulary_survival([5], 4).tolist() == [1.0] * 5  # one symbol: fixed


def test_vocabulary_survival_from_law_is_the_mean_of_bernoulli_survivals():
    p = np.array([0.5, 0.25, 0.125, 0.125, 0.0])
    n, T = 12, 7
    per = np.array([bernoulli_survival(n, q, T) for q in p[p > 0]])
    np.testing.assert_allclose(vocabulary_survival_from_law(p, n, T), per.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(vocabulary_survival_from_law(p, n, T, normalize=False), per.sum(axis=0), rtol=1e-13)
    # generation 1: the expected number of distinct symbols in n draws
    assert vocabulary_survival_from_law(p, n, 1, normalize=False)[1] == pytest.approx(
        sum(1 - (1 - q) ** n for q in p), rel=1e-13)


def test_zipf_mandelbrot_is_the_peers_law():
    m, a, b = 1000, 1.0, 2.7
    ranks = np.arange(1, m + 1)
    ref = 1 / (ranks + b) ** a
    np.testing.assert_allclose(zipf_mandelbrot(m, a, b), ref / ref.sum(), rtol=1e-13)
    p = zipf_mandelbrot(50, 2000.0, -0.5)  # a huge exponent: all mass on the first symbol, no NaN
    assert np.isfinite(p).all() and p[0] == pytest.approx(1.0) and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(zipf_mandelbrot(4, 0.0, 3.0), 0.25)


# --------------------------------------------------------------------------- Poisson


def test_lineage_recursion_and_asymptotics():
    q = poisson_lineage_survival(10**5)
    assert q[0] == 1.0 and q[1] == pytest.approx(1 - math.exp(-1), rel=1e-15)
    np.testing.assert_allclose(q[1:], -np.expm1(-q[:-1]), rtol=4e-16, atol=0)  # numba's and numpy's expm1: 1 ulp
    t = np.arange(1, q.size)
    kg = np.arange(1, q.size) * q[:-1]  # k·g_k
    assert kg.min() >= 1.0 and kg.max() < 2.0
    assert abs(t[-1] * q[-1] / 2 - 1 + math.log(t[-1]) / (3 * t[-1])) < 2.0 / t[-1]


def _poisson_extinction_by_summation(mu, T, cap=400):
    """P(S_t = 0), t = 1..T, by propagating the (truncated) law of S_t from S_1 ~ Poisson(mu)."""
    s = np.arange(cap)
    v = stats.poisson.pmf(s, mu)
    K = stats.poisson.pmf(s[None, :], np.maximum(s, 1e-300)[:, None])
    K[0] = 0.0
    K[0, 0] = 1.0
    out = []
    for _ in range(T):
        out.append(v[0])
        v = v @ K
    return np.array(out)


@pytest.mark.parametrize("n, rate", [(10, 0.1), (10, 1.0), (3, 2.5), (1, 7.0)])
def test_poisson_extinction_by_direct_summation(n, rate):
    T = 12
    ext = poisson_extinction(n, rate, T)
    assert ext[0] == 0.0
    np.testing.assert_allclose(ext[1:], _poisson_extinction_by_summation(n * rate, T), rtol=1e-12)


def test_poisson_extinction_depends_on_n_rate_only_and_conditional_form():
    np.testing.assert_array_equal(poisson_extinction(10, 0.5, 30), poisson_extinction(5, 1.0, 30))
    q = poisson_lineage_survival(30)
    for S in (1, 3, 8):  # given S_0 = S: P(S_t = 0) = (1 − q_t)^S, with rate = S/n
        np.testing.assert_allclose(poisson_extinction(4, S / 4, 30)[1:], (1 - q[1:]) ** S, rtol=1e-13)
    e = poisson_extinction(10, 1e300, 5)  # huge rate: extinction underflows to 0, no warning
    assert np.isfinite(e).all() and (e == 0).all()


# --------------------------------------------------------------------------- the peers' bounds


@given(n=st.integers(1, 80), p0=st.floats(0.0, 1.0), T=st.integers(0, 40))
def test_suresh_and_seddik_bounds_hold(n, p0, T):
    for event in EVENTS:
        ex = bernoulli_survival(n, p0, T, event=event)
        lo, hi = bound_symbol_survival_suresh(n, p0, T, event=event)
        assert (lo <= ex + 1e-13).all() and (ex <= hi + 1e-13).all()
        assert lo[0] == hi[0] == ex[0]
    if p0 > 0:
        assert (bound_symbol_survival_simple(n * p0, T) <= bernoulli_survival(n, p0, T) + 1e-13).all()
    if n >= 2:
        ei = bernoulli_survival(n, p0, T, event="interior")
        sl, sh = bound_interior_seddik(n, p0, T)
        assert (sl <= ei + 1e-13).all() and (ei <= sh + 1e-13).all()


def test_bound_values_by_hand():
    lo, hi = bound_symbol_survival_suresh(100, 0.01, 2)
    g2 = 1 - math.exp(-1)
    assert lo[2] == pytest.approx(1 - math.exp(-g2), rel=1e-14)
    assert hi[2] == pytest.approx(1 - (1 - 0.03 - 0.06) * math.exp(-g2), rel=1e-14)
    lz, hz = bound_symbol_survival_suresh(100, 0.01, 2, event="zero")
    assert hz[2] == pytest.approx(math.exp(-g2), rel=1e-14) and lz[0] == hz[0] == 0.0
    s = bound_symbol_survival_simple(3.0, 4)
    np.testing.assert_allclose(s[1:], 1 - np.exp(-3.0 / np.arange(1, 5)), rtol=1e-14)
    lo, hi = bound_poisson_survival_suresh(10, 1.0, 50)
    ext = poisson_extinction(10, 1.0, 50)
    assert (lo[2:] <= 1 - ext[2:]).all() and (1 - ext[2:] <= hi[2:]).all()
    sl, sh = bound_interior_seddik(20, 0.3, 3)
    assert sl[3] == pytest.approx(4 * 0.21 * 0.95**3) and sh[3] == pytest.approx(min(1, 40 * 0.21 * 0.95**3))


def test_vocabulary_bounds_bracket_the_exact_fraction():
    rng = np.random.default_rng(0)
    for a, b in ((1.0, 2.7), (2.0, 5.0)):
        corpus = rng.multinomial(300, zipf_mandelbrot(300, a, b))
        counts = corpus[corpus > 0]
        ex = vocabulary_survival(counts, 15)
        lo, hi = bound_vocabulary_survival_suresh(counts, 15)
        assert (lo <= ex + 1e-13).all() and (ex <= hi + 1e-13).all()
        # the per-symbol bounds, averaged
        n = int(counts.sum())
        per = np.array([bound_symbol_survival_suresh(n, c / n, 15) for c in counts])
        np.testing.assert_allclose(lo, per[:, 0].mean(axis=0), rtol=1e-13)
        np.testing.assert_allclose(hi, per[:, 1].mean(axis=0), rtol=1e-13)


# --------------------------------------------------------------------------- extremes and bad input


def test_huge_generations_stay_finite_and_fast():
    t0 = time.perf_counter()
    s = symbol_survival(50, [1, 3, 49], 10**6)
    z = symbol_survival(200, [1, 100], 10**5, event="zero")
    i = symbol_survival(30, 2, 10**5, event="interior")
    assert time.perf_counter() - t0 < 20.0
    np.testing.assert_allclose(s[:, -1], [1 / 50, 3 / 50, 49 / 50], rtol=1e-12)  # fixation probabilities c/n
    np.testing.assert_allclose(z[:, -1], [1 - 1 / 200, 0.5], rtol=1e-12)
    # (29/30)^(10^5) underflows: the last values are subnormal rounding residue, not a probability
    assert np.isfinite(i).all() and i[-1] < 1e-300 and (np.diff(i) <= 0).all()
    assert np.isfinite(poisson_lineage_survival(10**6)).all()
    f = vocabulary_survival([3, 2, 1, 1, 1], 10**6)
    assert f[-1] == pytest.approx(1 / 5, rel=1e-12)  # one symbol left


def test_large_n_works_and_too_large_n_is_refused():
    s = symbol_survival(3000, 5, 3)
    assert np.isfinite(s).all() and s[1] == pytest.approx(1 - (1 - 5 / 3000) ** 3000, rel=1e-12)
    t0 = time.perf_counter()
    for n in (10**5, 10**15):
        with pytest.raises(ValueError, match="n "):
            symbol_survival(n, 5, 3)
    with pytest.raises(ValueError, match="n, generations too large"):
        symbol_survival(10_000, 5, 10**6)
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("call, match", [
    (lambda: symbol_survival(0, 0, 3), "n must"),
    (lambda: symbol_survival(10, 11, 3), r"count must be integers in \[0, n\]"),
    (lambda: symbol_survival(10, -1, 3), "count must"),
    (lambda: symbol_survival(10, 1.5, 3), "count must"),
    (lambda: symbol_survival(10, 1, -1), "generations"),
    (lambda: symbol_survival(10, 1, 10**15), "generations"),
    (lambda: symbol_survival(10, 1, 3, event="alive"), "event"),
    (lambda: bernoulli_survival(10, 1.2, 3), "p0"),
    (lambda: bernoulli_survival(10, float("nan"), 3), "p0"),
    (lambda: vocabulary_survival([3, 0, 2], 3), "counts must be integers >= 1"),
    (lambda: vocabulary_survival([3, -1], 3), "counts must"),
    (lambda: vocabulary_survival([[3, 2]], 3), "counts must be a 1-D"),
    (lambda: vocabulary_survival(5, 3), "counts must be a 1-D"),
    (lambda: vocabulary_survival([15_000, 15_000], 3), "counts must sum to at most"),
    (lambda: vocabulary_survival([3, 2], 3, normalize="yes"), "normalize"),
    (lambda: vocabulary_survival_from_law([0.5, 0.6], 10, 3), "p must sum to 1"),
    (lambda: vocabulary_survival_from_law([1.5, -0.5], 10, 3), "p must have non-negative"),
    (lambda: zipf_mandelbrot(0, 1.0, 2.7), "vocab_size"),
    (lambda: zipf_mandelbrot(10, -1.0, 2.7), "a must"),
    (lambda: zipf_mandelbrot(10, 1.0, -1.0), "b must"),
    (lambda: poisson_extinction(10, 0.0, 3), "rate"),
    (lambda: poisson_extinction(10, -2.0, 3), "rate"),
    (lambda: poisson_extinction(0, 1.0, 3), "n must"),
    (lambda: poisson_extinction(10, 1.0, -1), "generations"),
    (lambda: poisson_lineage_survival(-1), "generations"),
    (lambda: poisson_lineage_survival(10**15), "generations"),
    (lambda: bound_symbol_survival_simple(0.0, 3), "count"),
    (lambda: bound_poisson_survival_suresh(10, 0.0, 3), "rate"),
    (lambda: bound_interior_seddik(1, 0.5, 3), "n must"),
    (lambda: bound_vocabulary_survival_suresh([0, 2], 3), "counts"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
