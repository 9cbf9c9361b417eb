"""Kazdan et al.'s workflows as simulators: simulate_discrete (NumPy references on the same stream, thread
invariance, exact = literal in law, the exact theory, bad input) and simulate_regression's accumulate-subsample
(a NumPy/pinv reference of the released loop on the same stream, thread invariance, its first round)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from selfconsume.analysis import FAMILY_LEVEL, ks_critical, mean_se
from selfconsume.simulators import DiscreteChain, simulate_discrete, simulate_regression
from selfconsume.theory import expected_discrete_entropy, expected_discrete_gini, expected_discrete_zeros

WF = ("replace", "accumulate", "accumulate-subsample")

# reps ≤ 8 is one replicate block (the smallest block), driven by the first child of the seed's SeedSequence;
# the references draw from that stream in the kernels' documented order.


def _child(seed):
    return np.random.default_rng(seed).spawn(1)[0]


def _metrics(counts, total):
    q = counts / total
    nz = q[q > 0]
    return 1.0 - np.sum(q * q), float(-np.sum(nz * np.log(nz))), int(np.sum(counts == 0))


def ref_samples(p0, n, G, reps, wf, seed):
    """The literal loop: n inverse-CDF draws, uniform picks among the fitted points, Fisher–Yates subsample."""
    g = _child(seed)
    K = p0.size
    cum0 = np.cumsum(p0)
    cum0[np.flatnonzero(p0 > 0)[-1]:] = 1.0
    out = np.empty((3, reps, G + 1))
    probs = np.empty((reps, K))
    for r in range(reps):
        pool = [int(np.searchsorted(cum0, g.random(), side="right")) for _ in range(n)]
        N = n
        for t in range(G + 1):
            if t > 0:
                m = N if wf == "accumulate" else n
                new = [pool[g.integers(0, m)] for _ in range(n)]
                if wf == "replace":
                    pool[:n] = new
                else:
                    pool += new
                    N += n
            if wf == "accumulate-subsample":
                for j in range(n):
                    k = j + g.integers(0, N - j)
                    pool[j], pool[k] = pool[k], pool[j]
            m = N if wf == "accumulate" else n
            counts = np.bincount(pool[:m], minlength=K)
            out[:, r, t] = _metrics(counts, m)
        probs[r] = counts / m
    return out, probs


def ref_exact(p0, n, G, reps, wf, seed):
    """The counts-level chain: conditional binomials, and the subsample by n draws without replacement."""
    g = _child(seed)
    K = p0.size
    tail = np.cumsum(p0[::-1])[::-1]
    out = np.empty((3, reps, G + 1))
    probs = np.empty((reps, K))
    for r in range(reps):
        pool = np.zeros(K, dtype=np.int64)
        left = n
        for i in range(K):
            if left == 0 or p0[i] <= 0:
                continue
            q = p0[i] / tail[i]
            pool[i] = left if q >= 1 else g.binomial(left, q)
            left -= pool[i]
        N = n
        fit = pool.copy()
        for t in range(G + 1):
            if t > 0:
                tot = N if wf == "accumulate" else n
                batch = np.zeros(K, dtype=np.int64)
                left, rest = n, tot
                for i in range(K):
                    c = fit[i]
                    if left == 0 or c == 0:
                        pass
                    elif c >= rest:
                        batch[i] = left
                        left = 0
                    else:
                        batch[i] = g.binomial(left, c / rest)
                        left -= batch[i]
                    rest -= c
                if wf == "replace":
                    pool = batch
                else:
                    pool = pool + batch
                    N += n
            if wf == "accumulate-subsample" and N > n:
                remaining, fit = pool.copy(), np.zeros(K, dtype=np.int64)
                for j in range(n):
                    i = int(np.searchsorted(np.cumsum(remaining), g.integers(0, N - j), side="right"))
                    remaining[i] -= 1
                    fit[i] += 1
            else:
                fit = pool.copy()
            tot = N if wf == "accumulate" else n
            out[:, r, t] = _metrics(fit, tot)
        probs[r] = fit / tot
    return out, probs


@settings(max_examples=30, deadline=None)
@given(K=st.integers(2, 6), n=st.integers(1, 9), G=st.integers(0, 6), reps=st.integers(1, 8),
       wf=st.sampled_from(WF), zero=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_kernels_equal_numpy_references(K, n, G, reps, wf, zero, seed):
    p0 = np.random.default_rng(seed).dirichlet(np.ones(K))
    if zero:  # a category of probability 0, last (the inverse-CDF edge) or first
        p0[-1 if seed % 2 else 0] = 0.0
        p0 /= p0.sum()
    for method, ref in (("exact", ref_exact), ("samples", ref_samples)):
        res = simulate_discrete(p0, n, G, workflow=wf, reps=reps, method=method, rng=seed)
        (gini, ent, zer), probs = ref(p0, n, G, reps, wf, seed)
        np.testing.assert_allclose(res.gini, gini, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(res.entropy, ent, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(res.zeros, zer)
        np.testing.assert_allclose(res.probs, probs, rtol=1e-14)


@pytest.mark.parametrize("method", ["exact", "samples"])
@pytest.mark.parametrize("wf", WF)
def test_thread_count_invariance(method, wf):
    p0 = np.array([0.5, 0.3, 0.15, 0.05])
    a = simulate_discrete(p0, 13, 20, workflow=wf, reps=6000, method=method, rng=3, workers=1)
    b = simulate_discrete(p0, 13, 20, workflow=wf, reps=6000, method=method, rng=3, workers=2)
    for name in ("gini", "entropy", "zeros", "probs"):
        assert np.array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("wf", WF)
def test_exact_and_literal_loops_have_the_same_law(wf):
    p0, n, G, R = np.array([0.45, 0.35, 0.2]), 7, 15, 20_000
    a = simulate_discrete(p0, n, G, workflow=wf, reps=R, method="exact", rng=1)
    b = simulate_discrete(p0, n, G, workflow=wf, reps=R, method="samples", rng=2)
    level = FAMILY_LEVEL / 4
    for x, y in ((a.gini[:, 5], b.gini[:, 5]), (a.entropy[:, -1], b.entropy[:, -1]), (a.probs[:, 0], b.probs[:, 0])):
        assert stats.ks_2samp(x, y).statistic < ks_critical(R, R, level)
    (ma, sa), (mb, sb) = mean_se(a.zeros[:, -1].astype(float)), mean_se(b.zeros[:, -1].astype(float))
    assert abs(ma - mb) < 5 * math.hypot(sa, sb)


@pytest.mark.parametrize("wf", WF)
def test_moments_match_the_exact_theory(wf):
    # a category of probability 0 is lost at every t and counted by the theory too
    p0, n, G = np.array([0.6, 0.0, 0.3, 0.1]), 6, 12
    res = simulate_discrete(p0, n, G, workflow=wf, reps=40_000, rng=5)
    for arr, exact in ((res.gini, expected_discrete_gini(p0, n, G, wf)),
                       (res.entropy, expected_discrete_entropy(p0, n, G, wf)),
                       (res.zeros.astype(float), expected_discrete_zeros(p0, n, G, wf))):
        for t in (0, 3, G):
            m, se = mean_se(arr[:, t])
            assert abs(m - exact[t]) < 5.3 * se  # Bonferroni over 9 comparisons
    m, se = mean_se(res.probs, axis=0)
    assert np.all(np.abs(m - p0) <= 5.3 * np.maximum(se, 1e-12))


def test_point_masses_are_absorbing_under_replace_and_accumulate():
    for wf in ("replace", "accumulate"):
        res = simulate_discrete(np.array([0.9, 0.1]), 3, 30, workflow=wf, reps=500, rng=4)
        dead = np.cumsum(res.gini == 0.0, axis=1) > 0
        assert np.all(res.gini[dead] == 0.0)


def test_result_object():
    res = simulate_discrete([0.2, 0.3, 0.5], 5, 4, workflow="accumulate-subsample", reps=3, rng=0)
    assert isinstance(res, DiscreteChain) and res.K == 3 and res.t.tolist() == [0, 1, 2, 3, 4]
    assert res.gini.shape == res.entropy.shape == res.zeros.shape == (3, 5) and res.probs.shape == (3, 3)
    assert not res.gini.flags.writeable and not res.probs.flags.writeable and not res.p0.flags.writeable
    np.testing.assert_allclose(res.probs.sum(axis=1), 1.0)
    assert np.array_equal(res.zeros[:, -1], (res.probs == 0).sum(axis=1))
    df = res.to_frame()
    assert len(df) == 15 and {"rep", "generation", "gini", "entropy", "zeros", "workflow", "K"} <= set(df.columns)
    assert np.array_equal(simulate_discrete([0.2, 0.3, 0.5], 5, 4, workflow="accumulate-subsample", reps=3,
                                            rng=0).entropy, res.entropy)


@pytest.mark.parametrize("kwargs, match", [
    (dict(p0=[0.5, 0.6]), "p0 must sum to 1"),
    (dict(p0=[1.2, -0.2]), "non-negative"),
    (dict(p0=[1.0]), "K >= 2"),
    (dict(p0=[0.5, float("nan")]), "p0"),
    (dict(p0=[[0.5, 0.5]]), "p0"),
    (dict(n=0), "n must be an integer >= 1"),
    (dict(generations=-1), "generations"),
    (dict(workflow="subsample"), "workflow"),
    (dict(method="fast"), "method"),
    (dict(reps=0), "reps"),
    (dict(workers=0), "workers"),
    (dict(reps=10**15), "too large"),
])
def test_bad_input(kwargs, match):
    args = dict(p0=[0.5, 0.5], n=5, generations=3)
    args.update(kwargs)
    p0, n, G = args.pop("p0"), args.pop("n"), args.pop("generations")
    with pytest.raises(ValueError, match=match):
        simulate_discrete(p0, n, G, **args)


# --------------------------------------------------------------------------- regression, accumulate-subsample


def ref_regression_subsample(T, d, N, reps, sigma, seed):
    """Kazdan et al.'s loop as released (np.linalg.pinv on the subsampled rows), on the kernel's stream."""
    g = _child(seed)
    risk = np.empty((reps, N))
    for r in range(reps):
        w_star = np.array([g.standard_normal() for _ in range(d)])
        X = np.array([[g.standard_normal() for _ in range(d)] for _ in range(T)])
        w = w_star
        rows, labels = [], []
        for n in range(N):
            for a in range(T):
                rows.append(a)
                labels.append(X[a] @ w + sigma * g.standard_normal())
            P = len(rows)
            if P > T:
                for j in range(T):
                    k = j + g.integers(0, P - j)
                    rows[j], rows[k] = rows[k], rows[j]
                    labels[j], labels[k] = labels[k], labels[j]
            w = np.linalg.pinv(X[rows[:T]]) @ np.array(labels[:T])
            risk[r, n] = (w - w_star) @ (w - w_star)
    return risk


@settings(max_examples=12, deadline=None)
@given(d=st.integers(1, 4), extra=st.integers(1, 5), N=st.integers(1, 8), reps=st.integers(1, 8),
       sigma=st.floats(0.1, 3.0), seed=st.integers(0, 2**32 - 1))
def test_regression_subsample_equals_pinv_reference(d, extra, N, reps, sigma, seed):
    # T = d + 1 + extra is small, so late subsamples often hold fewer than d distinct design rows (minimum norm)
    T = d + 1 + extra
    res = simulate_regression(T, d, N, workflow="accumulate-subsample", method="samples", sigma=sigma, reps=reps,
                              rng=seed)
    np.testing.assert_allclose(res.risk, ref_regression_subsample(T, d, N, reps, sigma, seed), rtol=1e-7, atol=1e-10)


def test_regression_subsample_rank_deficient_rounds_are_covered():
    T, d, N = 6, 4, 25
    res = simulate_regression(T, d, N, workflow="accumulate-subsample", method="samples", reps=8, rng=12)
    np.testing.assert_allclose(res.risk, ref_regression_subsample(T, d, N, 8, 1.0, 12), rtol=1e-7, atol=1e-10)
    # how often a round's subsample spans fewer than d design rows, by the same stream: > 0 here
    g = _child(12)
    deficient = 0
    for _ in range(8):
        [g.standard_normal() for _ in range(d + T * d)]
        P = 0
        rows = []
        for n in range(N):
            rows += list(range(T))
            [g.standard_normal() for _ in range(T)]
            P += T
            if P > T:
                for j in range(T):
                    k = j + g.integers(0, P - j)
                    rows[j], rows[k] = rows[k], rows[j]
            deficient += len(set(rows[:T])) < d
    assert deficient > 0


def test_regression_subsample_thread_invariance_and_first_round():
    a = simulate_regression(12, 3, 6, workflow="accumulate-subsample", method="samples", reps=300, rng=7, workers=1)
    b = simulate_regression(12, 3, 6, workflow="accumulate-subsample", method="samples", reps=300, rng=7, workers=2)
    assert np.array_equal(a.risk, b.risk)
    # round 1 fits every real label: the law of the replace workflow's first round
    R = 20_000
    sub = simulate_regression(12, 3, 2, workflow="accumulate-subsample", method="samples", reps=R, rng=1)
    rep = simulate_regression(12, 3, 2, workflow="replace", reps=R, rng=2)
    assert stats.ks_2samp(sub.risk[:, 0], rep.risk[:, 0]).statistic < ks_critical(R, R, FAMILY_LEVEL)


def test_regression_subsample_needs_samples():
    with pytest.raises(ValueError, match="method must be 'samples'"):
        simulate_regression(12, 3, 5, workflow="accumulate-subsample")
    with pytest.raises(ValueError, match="workflow"):
        simulate_regression(12, 3, 5, workflow="subsample", method="samples")
