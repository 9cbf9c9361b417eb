"""simulate_multinomial / simulate_poisson: NumPy references on the same stream, invariants, laws, bad input."""

import doctest

import numpy as np
import pytest

import selfconsume.simulators._counts as counts_module
from selfconsume.analysis import mean_se, proportion_se, z_bonferroni
from selfconsume.simulators import MultinomialChain, PoissonChain, simulate_multinomial, simulate_poisson
from selfconsume.theory import (bernoulli_survival, poisson_extinction, symbol_survival, vocabulary_survival,
                                vocabulary_survival_from_law, zipf_mandelbrot)


def test_doctests():
    res = doctest.testmod(counts_module)
    assert res.failed == 0 and res.attempted > 0


# --------------------------------------------------------------------------- NumPy references


def _resample_ref(g, n, cur, samples):
    """One generation from counts ``cur`` (the kernel's documented draw order)."""
    alive = np.flatnonzero(cur > 0)
    new = np.zeros_like(cur)
    if samples:
        cum = np.cumsum(cur[alive])
        for _ in range(n):
            u = g.integers(0, n)
            new[alive[int(np.searchsorted(cum, u, side="right"))]] += 1
        return new
    left, rem = n, n
    for ii, i in enumerate(alive):
        if left == 0:
            break
        x = left if (ii == alive.size - 1 or cur[i] >= rem) else g.binomial(left, cur[i] / rem)
        rem -= cur[i]
        left -= x
        new[i] = x
    return new


def _from_law_ref(g, n, p, samples):
    sup = np.flatnonzero(p > 0)
    new = np.zeros(p.size, dtype=np.int64)
    if samples:
        cum = np.cumsum(p[sup])
        for _ in range(n):
            u = g.random() * cum[-1]
            new[sup[int(np.searchsorted(cum, u, side="right"))]] += 1
        return new
    rem = p[sup].sum()
    left = n
    for ii, i in enumerate(sup):
        if left == 0:
            break
        if ii == sup.size - 1:
            x = left
        else:
            q = p[i] / rem
            x = left if q >= 1.0 else g.binomial(left, q)
        rem -= p[i]
        left -= x
        new[i] = x
    return new


def _multinomial_ref(seed, n, T, reps, method, counts=None, p=None):
    g = np.random.default_rng(seed).spawn(1)[0]  # one block (≥ 8 replicates per block)
    samples = method == "samples"
    k = (counts if counts is not None else p).size
    freq = np.empty((reps, T + 1, k))
    for r in range(reps):
        if counts is not None:
            cur, t0 = np.asarray(counts, dtype=np.int64).copy(), 0
        else:
            freq[r, 0] = p
            if T == 0:
                continue
            cur, t0 = _from_law_ref(g, n, p, samples), 1
        freq[r, t0] = cur / n
        for t in range(t0 + 1, T + 1):
            if np.count_nonzero(cur) > 1:
                cur = _resample_ref(g, n, cur, samples)
            freq[r, t] = cur / n
    return freq


@pytest.mark.parametrize("method", ["exact", "samples"])
@pytest.mark.parametrize("start", ["counts", "law"])
def test_multinomial_kernel_matches_numpy_reference(method, start):
    kw = dict(counts=np.array([4, 0, 1, 3, 2])) if start == "counts" else dict(p=np.array([0.4, 0.0, 0.1, 0.3, 0.2]))
    res = simulate_multinomial(10, 7, reps=5, method=method, return_freq=True, rng=7, **kw)
    ref = _multinomial_ref(7, 10, 7, 5, method, **kw)
    np.testing.assert_array_equal(res.freq, ref)
    np.testing.assert_array_equal(res.alive, (ref > 0).sum(axis=2))


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_poisson_kernel_matches_numpy_reference(method):
    n, rate, T, reps = 6, 0.7, 12, 5
    res = simulate_poisson(n, rate, T, reps=reps, method=method, rng=3)
    g = np.random.default_rng(3).spawn(1)[0]
    ref = np.zeros((reps, T + 1))
    for r in range(reps):
        ref[r, 0] = lam = rate
        mean = n * rate
        for t in range(1, T + 1):
            s = int(sum(g.poisson(lam) for _ in range(n))) if method == "samples" else int(g.poisson(mean))
            lam, mean = s / n, float(s)
            ref[r, t] = lam
            if s == 0:
                break
    np.testing.assert_array_equal(res.rate, ref)


# --------------------------------------------------------------------------- invariants


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_thread_count_invariance(method):
    kw = dict(counts=[30, 10, 5, 3, 1, 1], reps=700, method=method, return_freq=True, rng=11)
    a = simulate_multinomial(50, 20, workers=1, **kw)
    b = simulate_multinomial(50, 20, workers=2, **kw)
    assert counts_module.block_reps(21 * (6 if method == "exact" else 50) + 6) < 700  # several blocks
    np.testing.assert_array_equal(a.freq, b.freq)
    assert counts_module.block_reps(41 * (1 if method == "exact" else 10)) < 3000
    pa = simulate_poisson(10, 0.5, 40, reps=3000, method=method, rng=5, workers=1)
    pb = simulate_poisson(10, 0.5, 40, reps=3000, method=method, rng=5, workers=2)
    np.testing.assert_array_equal(pa.rate, pb.rate)


def test_multinomial_invariants():
    res = simulate_multinomial(40, 60, counts=[20, 10, 6, 3, 1], reps=400, return_freq=True, rng=2)
    assert isinstance(res, MultinomialChain) and res.start == "counts" and res.vocab_size == 5
    np.testing.assert_allclose(res.freq.sum(axis=2), 1.0, rtol=0, atol=1e-12)  # counts sum to n
    np.testing.assert_allclose(res.freq * 40, np.round(res.freq * 40), atol=1e-9)  # frequencies are c/n
    assert (np.diff(res.alive, axis=1) <= 0).all()  # a lost symbol never returns
    assert (res.alive >= 1).all() and (res.fraction[:, 0] == 1.0).all()
    lost = res.freq[:, :-1] == 0
    assert (res.freq[:, 1:][lost] == 0).all()
    one = res.alive == 1  # absorbed: nothing changes any more
    for r, t in zip(*np.nonzero(one[:, :-1])):
        np.testing.assert_array_equal(res.freq[r, t + 1], res.freq[r, t])
    assert not res.alive.flags.writeable and not res.freq.flags.writeable
    df = res.to_frame()
    assert len(df) == 400 * 61 and {"rep", "generation", "alive", "fraction", "n"} <= set(df.columns)
    # without return_freq only the counts of survivors
    small = simulate_multinomial(40, 60, counts=[20, 10, 6, 3, 1], reps=400, rng=2)
    np.testing.assert_array_equal(small.alive, res.alive)
    assert small.freq is None


def test_poisson_invariants():
    res = simulate_poisson(7, 0.4, 80, reps=500, rng=1)
    assert isinstance(res, PoissonChain) and (res.rate[:, 0] == 0.4).all()
    S = res.rate[:, 1:] * 7
    np.testing.assert_allclose(S, np.round(S), atol=1e-9)
    ext = res.extinct
    assert (ext[:, 1:] >= ext[:, :-1]).all()  # 0 is absorbing
    assert len(res.to_frame()) == 500 * 81


def test_generation_zero_only():
    res = simulate_multinomial(5, 0, p=[0.5, 0.5, 0.0], reps=3, return_freq=True, rng=0)
    assert res.alive.tolist() == [[2], [2], [2]] and res.freq.shape == (3, 1, 3)
    assert simulate_poisson(5, 1.0, 0, reps=2, rng=0).rate.tolist() == [[1.0], [1.0]]


# --------------------------------------------------------------------------- laws (against the exact theory)


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_symbol_frequencies_follow_the_exact_chain(method):
    n, counts, T, reps = 10, np.array([1, 2, 3, 4]), 6, 20_000
    res = simulate_multinomial(n, T, counts=counts, reps=reps, method=method, return_freq=True, rng=21)
    ex = symbol_survival(n, counts, T)
    z = z_bonferroni(counts.size * T)
    for j in range(counts.size):
        for t in range(1, T + 1):
            m, se = proportion_se(int((res.freq[:, t, j] > 0).sum()), reps, ex[j, t])
            assert abs(m - ex[j, t]) <= z * se, (method, j, t)
    m, se = mean_se(res.fraction)
    np.testing.assert_array_less(np.abs(m[1:] - vocabulary_survival(counts, T)[1:]), z * se[1:])


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_law_start_follows_bernoulli_and_the_vocabulary_law(method):
    reps = 20_000
    res = simulate_multinomial(30, 8, p=[0.05, 0.95], reps=reps, method=method, return_freq=True, rng=4)
    ex = bernoulli_survival(30, 0.05, 8)
    z = z_bonferroni(16)
    for t in range(1, 9):
        m, se = proportion_se(int((res.freq[:, t, 0] > 0).sum()), reps, ex[t])
        assert abs(m - ex[t]) <= z * se
    p = zipf_mandelbrot(40, 1.0, 2.7)
    res = simulate_multinomial(30, 8, p=p, reps=reps // 4, method=method, rng=5)
    m, se = mean_se(res.alive.astype(float))
    law = vocabulary_survival_from_law(p, 30, 8, normalize=False)
    np.testing.assert_array_less(np.abs(m[1:] - law[1:]), z * se[1:])


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_poisson_extinction_law(method):
    reps = 20_000 if method == "exact" else 5_000
    res = simulate_poisson(8, 0.25, 60, reps=reps, method=method, rng=9)
    ex = poisson_extinction(8, 0.25, 60)
    ts = (1, 2, 5, 20, 60)
    z = z_bonferroni(len(ts))
    for t in ts:
        m, se = proportion_se(int(res.extinct[:, t].sum()), reps, ex[t])
        assert abs(m - ex[t]) <= z * se, t


def test_exact_and_samples_agree_on_the_number_of_survivors():
    """Two-sample: the law of uniq_T is the same for the two methods (mean and a χ² on its histogram)."""
    kw = dict(counts=[12, 6, 4, 3, 2, 1, 1, 1], reps=8000)
    a = simulate_multinomial(30, 12, method="exact", rng=1, **kw).alive[:, -1]
    b = simulate_multinomial(30, 12, method="samples", rng=2, **kw).alive[:, -1]
    ma, sa = mean_se(a.astype(float))
    mb, sb = mean_se(b.astype(float))
    assert abs(ma - mb) <= 5 * np.hypot(sa, sb)
    from scipy import stats

    ca, cb = np.bincount(a, minlength=9), np.bincount(b, minlength=9)
    keep = (ca + cb) > 20
    _, pval, _, _ = stats.chi2_contingency(np.vstack([ca[keep], cb[keep]]))
    assert pval > 1e-6


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0, generations=3, counts=[1]), "n must"),
    (dict(n=5, generations=-1, counts=[5]), "generations"),
    (dict(n=5, generations=3), "exactly one of counts"),
    (dict(n=5, generations=3, counts=[5], p=[1.0]), "exactly one of counts"),
    (dict(n=5, generations=3, counts=[3, 1]), "sum to n"),
    (dict(n=5, generations=3, counts=[6, -1]), "counts must be integers >= 0"),
    (dict(n=5, generations=3, counts=[2.5, 2.5]), "counts must be integers"),
    (dict(n=5, generations=3, counts=[[5]]), "counts must be a 1-D"),
    (dict(n=5, generations=3, p=[0.5, 0.6]), "p must sum to 1"),
    (dict(n=5, generations=3, p=[1.2, -0.2]), "p must have non-negative"),
    (dict(n=5, generations=3, counts=[5], reps=0), "reps"),
    (dict(n=5, generations=3, counts=[5], method="nope"), "method"),
    (dict(n=5, generations=3, counts=[5], workers=0), "workers"),
    (dict(n=5, generations=3, counts=[5], return_freq="yes"), "return_freq"),
    (dict(n=5, generations=10**15, counts=[5]), "generations"),
    (dict(n=10**9, generations=10**6, p=[0.5, 0.5], reps=10**4, method="samples"), "too large"),
])
def test_multinomial_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        simulate_multinomial(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0, rate=1.0, generations=3), "n must"),
    (dict(n=5, rate=0.0, generations=3), "rate"),
    (dict(n=5, rate=-1.0, generations=3), "rate"),
    (dict(n=5, rate=float("nan"), generations=3), "rate"),
    (dict(n=5, rate=1e300, generations=3), "n, rate too large"),
    (dict(n=5, rate=1.0, generations=-2), "generations"),
    (dict(n=5, rate=1.0, generations=3, method="mle"), "method"),
    (dict(n=5, rate=1.0, generations=10**15), "generations"),
])
def test_poisson_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        simulate_poisson(**kwargs)
