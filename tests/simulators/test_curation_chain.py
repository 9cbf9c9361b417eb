"""simulate_curation: NumPy references on the same random stream, invariances, laws, bad input."""

import doctest
import math

import numpy as np
import pytest
from scipy import stats

import selfconsume.simulators._curation as curation_module
from selfconsume.analysis import mean_se, z_bonferroni
from selfconsume.simulators import CurationChain, simulate_curation
from selfconsume.theory import curated_distribution, tilt

P0 = np.array([0.3, 0.2, 0.15, 0.2, 0.1, 0.05])
R0 = np.array([0.0, 0.3, 0.3, 0.8, 1.0, 1.0])


def test_doctests():
    res = doctest.testmod(curation_module)
    assert res.failed == 0 and res.attempted > 0


# --------------------------------------------------------------------------- population chain

@pytest.mark.parametrize("K", [1, 2, 4, 64, 10**6, np.inf])
@pytest.mark.parametrize("lam", [None, 0.3])
def test_population_chain_iterates_the_theory_map(K, lam):
    res = simulate_curation(P0, R0, K, 40, lam=lam)
    p = P0.copy()
    for t in range(1, 41):
        q = curated_distribution(p, R0, K)
        q = q / q.sum()
        p = q if lam is None else (P0 + lam * q) / (1 + lam)
        np.testing.assert_allclose(res.p[0, t], p, rtol=1e-12, atol=1e-300)
    assert res.method == "population" and res.fixation is None


def test_population_K_inf_is_the_tilt_and_replicates_share_the_path():
    res = simulate_curation(P0, R0, np.inf, 25, reps=3)
    for t in (0, 1, 7, 25):
        np.testing.assert_allclose(res.p[1, t], tilt(P0, R0, t), rtol=1e-13)
    assert res.p.shape == (3, 26, 6) and np.shares_memory(res.p[0], res.p[2])
    last = simulate_curation(P0, R0, np.inf, 25, record="last")
    np.testing.assert_array_equal(last.p[0, 0], res.p[0, -1])
    assert last.t.tolist() == [25]


def test_population_extreme_rewards_and_large_m():
    rng = np.random.default_rng(1)
    m = 2000
    p0 = rng.dirichlet(np.ones(m))
    r = rng.uniform(-700, 700, m)
    r[:5] = r[5]  # ties
    for K in (2, 10**6):
        res = simulate_curation(p0, r, K, 30, record="last")
        assert np.all(np.isfinite(res.p)) and res.p[0, 0].sum() == pytest.approx(1.0, abs=1e-13)


# --------------------------------------------------------------------------- NumPy references

def _multinomial_ref(g, n, prob):
    """Conditional binomials over atoms in index order (the kernel's documented order)."""
    counts = np.zeros(prob.size, dtype=np.int64)
    rem = np.cumsum(prob[::-1])[::-1]
    pos = np.flatnonzero(prob > 0)
    left = n
    for x in pos:
        if left == 0:
            break
        if x == pos[-1]:
            counts[x] = left
            break
        pi = prob[x] / rem[x]
        c = left if pi >= 1 else g.binomial(left, pi)
        counts[x] = c
        left -= c
    return counts


def _luce_ref(g, n, p, r, K):
    atoms = np.flatnonzero(p > 0)
    cum = np.cumsum(p[atoms])
    wt = np.exp(r[atoms] - r[atoms].max())
    counts = np.zeros(p.size, dtype=np.int64)
    for _ in range(n):
        cand = [int(np.searchsorted(cum, g.random() * cum[-1], side="right")) for _ in range(K)]
        if K == 1:
            counts[atoms[cand[0]]] += 1
            continue
        cw = np.cumsum(wt[cand])
        u = g.random() * cw[-1]
        k = int(np.searchsorted(cw, u, side="right"))
        counts[atoms[cand[min(k, K - 1)]]] += 1
    return counts


def _chain_ref(seed, p0, r, K, T, n, reps, method, lam=None):
    g = np.random.default_rng(seed).spawn(1)[0]  # one block of ≤ 64 replicates
    kept = n if lam is None else int(math.floor(lam * n))
    out = np.empty((reps, T + 1, p0.size))
    for rep in range(reps):
        if lam is None:
            p, creal, ntot = p0.copy(), np.zeros(p0.size, dtype=np.int64), kept
        else:
            creal = _multinomial_ref(g, n, p0)
            p, ntot = creal / n, n + kept
        out[rep, 0] = p
        for t in range(1, T + 1):
            if lam is None and np.count_nonzero(p) == 1:
                out[rep, t] = p
                continue
            if method == "luce":
                c = _luce_ref(g, kept, p, r, K)
            else:
                q = curated_distribution(p, r, K)
                c = _multinomial_ref(g, kept, q / q.sum())
            p = (creal + c) / ntot
            out[rep, t] = p
    return out


@pytest.mark.parametrize("method", ["exact", "luce"])
@pytest.mark.parametrize("lam", [None, 0.5])
@pytest.mark.parametrize("K", [1, 3])
def test_kernel_matches_numpy_reference(method, lam, K):
    p0 = np.array([0.4, 0.1, 0.3, 0.2])
    r = np.array([0.0, 2.0, 0.5, 0.5])
    res = simulate_curation(p0, r, K, 6, n=30, lam=lam, reps=5, method=method, rng=7)
    ref = _chain_ref(7, p0, r, K, 6, 30, 5, method, lam)
    np.testing.assert_array_equal(res.p, ref)


@pytest.mark.parametrize("method", ["exact", "luce"])
def test_thread_count_invariance(method):
    kw = dict(n=40, reps=150, method=method, rng=11)  # 3 blocks of 64
    a = simulate_curation(P0, R0, 4, 8, workers=1, **kw)
    b = simulate_curation(P0, R0, 4, 8, workers=2, **kw)
    np.testing.assert_array_equal(a.p, b.p)
    np.testing.assert_array_equal(a.fixation, b.fixation)


@pytest.mark.parametrize("method", ["exact", "luce"])
def test_reward_shift_equivariance(method):
    """Adding a constant to every reward changes nothing (dyadic values: exact arithmetic)."""
    r = np.array([0.0, 0.25, 0.25, 0.75, 1.0, 1.0])
    a = simulate_curation(P0, r, 4, 6, n=50, reps=20, method=method, rng=3)
    b = simulate_curation(P0, r + 4.0, 4, 6, n=50, reps=20, method=method, rng=3)
    np.testing.assert_array_equal(a.p, b.p)


@pytest.mark.parametrize("lam", [None, 0.5])
def test_record_last_is_last_of_all(lam):
    a = simulate_curation(P0, R0, 3, 40, n=20, lam=lam, reps=70, rng=5)
    b = simulate_curation(P0, R0, 3, 40, n=20, lam=lam, reps=70, rng=5, record="last")
    np.testing.assert_array_equal(a.p[:, -1], b.p[:, 0])
    np.testing.assert_array_equal(a.fixation, b.fixation)


def test_fixation_is_absorbing_and_recorded():
    res = simulate_curation(P0, R0, 4, 400, n=10, reps=64, rng=2)
    fixed = res.fixation >= 0
    assert fixed.mean() > 0.9
    for rep in np.flatnonzero(fixed):
        t = res.fixation[rep]
        assert np.count_nonzero(res.p[rep, t]) == 1 and np.count_nonzero(res.p[rep, t - 1]) > 1
        assert np.all(res.p[rep, t:] == res.p[rep, t])


def test_mixed_finite_chain_structure():
    n, lam = 40, 0.5
    res = simulate_curation(P0, R0, 4, 10, n=n, lam=lam, reps=30, rng=4)
    counts0 = res.p[:, 0] * n  # generation 0: the real sample
    np.testing.assert_allclose(counts0, np.round(counts0), atol=1e-9)
    ntot = n + int(lam * n)
    c = res.p[:, 1:] * ntot
    np.testing.assert_allclose(c, np.round(c), atol=1e-9)
    # the real counts are in every later generation
    assert np.all(np.round(c) >= np.round(counts0)[:, None, :])


def test_extreme_rewards_finite_samples():
    p = np.array([0.4, 0.25, 0.25, 0.1])
    r = np.array([-700.0, 3.0, 3.0, 700.0])
    for method in ("exact", "luce"):
        res = simulate_curation(p, r, 8, 5, n=100, reps=10, method=method, rng=0)
        assert np.all(np.isfinite(res.p))
        assert np.all(np.isfinite(res.mean_exp_reward(log=True))) and np.all(res.var_exp_reward(log=True) < 1400)
        assert np.all(np.isfinite(res.to_frame()["log_mean_exp_reward"]))
        np.testing.assert_allclose(res.p.sum(axis=-1), 1.0, atol=1e-12)
    # candidates all far below the top of the support: the Luce fallback in log space
    p = np.array([1e-9, 1 - 1e-9])
    res = simulate_curation(p, np.array([700.0, -700.0]), 3, 1, n=1000, reps=2, method="luce", rng=0)
    assert np.all(np.isfinite(res.p))


# --------------------------------------------------------------------------- laws (statistical)

@pytest.mark.slow
def test_one_step_mean_is_pH():
    """E[p_1] = p_0 H^K_{p_0}: the kept counts are Multinomial(n, p_0 H) (both methods)."""
    K, n, reps = 4, 200, 3000
    ph = curated_distribution(P0, R0, K)
    z = z_bonferroni(2 * P0.size)
    for method in ("exact", "luce"):
        res = simulate_curation(P0, R0, K, 1, n=n, reps=reps, method=method, rng=12)
        m, _ = mean_se(res.p[:, 1])
        se = np.sqrt(ph * (1 - ph) / (n * reps))
        assert np.all(np.abs(m - ph) <= z * se)


@pytest.mark.slow
def test_exact_and_luce_same_law_of_top_count():
    """Two-sample chi-square on the count of the top level at T (exact vs literal Luce)."""
    K, n, T, reps = 4, 60, 4, 4000
    a = simulate_curation(P0, R0, K, T, n=n, reps=reps, method="exact", rng=21, record="last")
    b = simulate_curation(P0, R0, K, T, n=n, reps=reps, method="luce", rng=22, record="last")
    ca = np.round(a.top_mass()[:, 0] * n).astype(int)
    cb = np.round(b.top_mass()[:, 0] * n).astype(int)
    edges = np.unique(np.quantile(np.concatenate([ca, cb]), np.linspace(0, 1, 12)))
    ha = np.histogram(ca, np.append(edges, n + 1))[0]
    hb = np.histogram(cb, np.append(edges, n + 1))[0]
    keep = (ha + hb) > 0
    _, pval, _, _ = stats.chi2_contingency(np.vstack([ha[keep], hb[keep]]))
    assert pval > 1e-6  # family level of one 5-SE test


@pytest.mark.slow
def test_wright_fisher_is_a_martingale():
    """K = 1: E[p_t] = p_0 at every t (no curation), also with real data anchored at p_0."""
    res = simulate_curation(P0, R0, 1, 30, n=25, reps=4000, rng=8)
    m, se = mean_se(res.p[:, [5, 30]])
    assert np.all(np.abs(m - P0) <= z_bonferroni(12) * se)


# --------------------------------------------------------------------------- results and bad input

def test_result_object_and_frames():
    res = simulate_curation(P0, R0, 4, 3, n=20, reps=2, rng=0)
    assert isinstance(res, CurationChain)
    with pytest.raises(ValueError):
        res.p[0, 0, 0] = 1.0
    g = res.to_frame()
    assert len(g) == 2 * 4 and {"rep", "generation", "mean_reward", "log_mean_exp_reward", "top_mass", "gini",
                                "support", "K", "lam", "n", "method"} <= set(g.columns)
    a = res.to_frame(per="atom")
    assert len(a) == 2 * 4 * 6 and a["p"].groupby([a["rep"], a["generation"]]).sum().round(12).eq(1).all()
    np.testing.assert_allclose(res.mean_exp_reward(), np.exp(res.mean_exp_reward(log=True)), rtol=1e-14)
    assert res.var_exp_reward().shape == (2, 4) and res.top_reward == 1.0
    with pytest.raises(ValueError, match="per"):
        res.to_frame(per="block")


BAD = [
    (dict(p0=[0.5, -0.1, 0.6]), ValueError, "p0"),
    (dict(p0=[0.5, 0.6, 0.1]), ValueError, "sum to 1"),
    (dict(reward=[0.0, np.nan, 1.0]), ValueError, "reward"),
    (dict(reward=[0.0, 1.0]), ValueError, "same shape"),
    (dict(K=0), ValueError, "K must be"),
    (dict(K=1.5), ValueError, "K must be"),
    (dict(generations=-1), ValueError, "generations"),
    (dict(lam=-0.5), ValueError, "lam"),
    (dict(lam=np.inf), ValueError, "lam"),
    (dict(p_ref=[0.2, 0.3, 0.5]), ValueError, "p_ref is used only with real data"),
    (dict(lam=0.5, p_ref=[0.5, 0.5]), ValueError, "same shape"),
    (dict(n=0), ValueError, "n must be"),
    (dict(n=10, reps=0), ValueError, "reps"),
    (dict(n=10, method="samples"), ValueError, "method"),
    (dict(method="luce"), ValueError, "give n"),
    (dict(n=10, method="luce", K=np.inf), ValueError, "finite integer"),
    (dict(n=10, lam=0.5, p_ref=[0.2, 0.3, 0.5]), ValueError, "p0 must be p_ref"),
    (dict(record="some"), ValueError, "record"),
    (dict(n=10, workers=0), ValueError, "workers"),
    (dict(rng="seed"), TypeError, "rng"),
]


@pytest.mark.parametrize("bad,exc,msg", BAD)
def test_bad_input(bad, exc, msg):
    kw = dict(p0=[0.5, 0.25, 0.25], reward=[0.0, 1.0, 2.0], K=3, generations=2) | bad
    with pytest.raises(exc, match=msg):
        simulate_curation(kw.pop("p0"), kw.pop("reward"), kw.pop("K"), kw.pop("generations"), **kw)
