r"""A categorical law refit by empirical frequencies, under replace, accumulate and accumulate-subsample.

The discrete experiment of Kazdan et al., *Collapse or Thrive?* (ICML 2025; released code
``src/fit_discrete_distributions``; ``shared/theory.md`` §3.5). Model 0 is the empirical law of n
real draws from :math:`p_0`; each later model is refit from the data of its workflow, and n new
points are drawn from it:

* ``replace`` — the data are the n newest points (multinomial Wright–Fisher);
* ``accumulate`` — the data are every point so far, :math:`(t+1)n` at model t;
* ``accumulate-subsample`` — the data pool accumulates, and each model is fit to a uniform
  subsample of n pool points without replacement (their released protocol).

Kernels (in this module; pure: arrays and scalars in, results written into preallocated arrays),
draws per replicate in this order:

* ``"exact"`` (counts): model 0's counts by conditional binomials
  :math:`c_i\sim\mathrm{Bin}(n-\sum_{j<i}c_j,\ p_i/\sum_{j\ge i}p_j)`; a new batch from counts
  :math:`C` (total N) by the same conditional binomials with :math:`C_i/(N-\sum_{j<i}C_j)`; a
  subsample of the pool by n draws without replacement, each a uniform integer below the
  remaining pool size located in the remaining counts (a Fenwick tree).
* ``"samples"`` (the literal loop): the data as an array of labels; model 0 by n inverse-CDF
  draws from :math:`p_0` (one uniform each); a draw from a fitted empirical law is a uniform
  pick among the points it was fitted to (one integer each); the subsample by a partial
  Fisher–Yates shuffle of the pool (n integers), whose order carries no information.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from selfconsume._lazy import lazy
from selfconsume._parallel import as_generator, block_reps, replicate_blocks, run_blocks, seed_info
from selfconsume._validation import (check_choice, check_int, check_memory, check_probability_vector)

from ._common import readonly

pd = lazy("pandas")

__all__ = ["simulate_discrete", "DiscreteChain"]

WORKFLOWS = ("replace", "accumulate", "accumulate-subsample")
METHODS = ("exact", "samples")


@dataclass(frozen=True)
class DiscreteChain:
    """Result of :func:`simulate_discrete` (frozen; arrays are read-only).

    Attributes
    ----------
    n, generations, reps, workflow, method
        The parameters of the run.
    seed : dict
        Entropy and spawn key of the SeedSequence behind the run.
    p0 : ndarray
        The true law, K categories.
    gini, entropy : ndarray
        Diversity :math:`1-\\sum_iq_t(i)^2` and entropy :math:`-\\sum_iq_t(i)\\log q_t(i)` (nats) of
        model t, shape (reps, generations + 1); column 0 is the fit to the real sample
        (Kazdan et al.'s iteration t + 1).
    zeros : ndarray
        Categories with :math:`q_t(i)=0` (their "Num. Zero Proportions"), same shape, int.
    probs : ndarray
        The last model's proportions :math:`q_T`, shape (reps, K).
    """

    n: int
    generations: int
    reps: int
    workflow: str
    method: str
    seed: dict
    p0: np.ndarray = field(repr=False)
    gini: np.ndarray = field(repr=False)
    entropy: np.ndarray = field(repr=False)
    zeros: np.ndarray = field(repr=False)
    probs: np.ndarray = field(repr=False)

    @property
    def K(self) -> int:
        """Number of categories."""
        return int(self.p0.size)

    @property
    def t(self) -> np.ndarray:
        """Generation index 0..generations (model t; Kazdan et al.'s iteration t + 1)."""
        return np.arange(self.generations + 1)

    def to_frame(self) -> pd.DataFrame:
        """Tidy long table: one row per (rep, generation) with ``gini``, ``entropy`` and ``zeros``."""
        R, T1 = self.reps, self.generations + 1
        df = pd.DataFrame({"rep": np.repeat(np.arange(R), T1), "generation": np.tile(np.arange(T1), R),
                           "gini": self.gini.ravel(), "entropy": self.entropy.ravel(),
                           "zeros": self.zeros.ravel()})
        for name in ("K", "n", "workflow", "method"):
            df[name] = getattr(self, name)
        return df


# --------------------------------------------------------------------------- kernels


@njit(cache=True, nogil=True)
def _metrics(counts, total, G, H, Z, r, t):
    """Write the diversity, entropy and zero count of the law counts/total into G, H, Z at [r, t]."""
    s2 = 0.0
    h = 0.0
    z = 0
    for i in range(counts.size):
        c = counts[i]
        if c == 0:
            z += 1
        else:
            q = c / total
            s2 += q * q
            h -= q * math.log(q)
    G[r, t] = 1.0 - s2
    H[r, t] = h
    Z[r, t] = z


@njit(cache=True, nogil=True)
def _multinomial_p(gen, n, p, tail, out):
    """out ~ Multinomial(n, p); tail[i] = Σ_{j ≥ i} p_j."""
    left = n
    for i in range(p.size):
        if left == 0 or p[i] <= 0.0:
            out[i] = 0
            continue
        q = p[i] / tail[i]
        b = left if q >= 1.0 else gen.binomial(left, q)
        out[i] = b
        left -= b


@njit(cache=True, nogil=True)
def _multinomial_counts(gen, n, counts, total, out):
    """out ~ Multinomial(n, counts/total) for integer counts (exact conditional probabilities)."""
    left = n
    rest = total
    for i in range(counts.size):
        c = counts[i]
        if left == 0 or c == 0:
            out[i] = 0
        elif c >= rest:
            out[i] = left
            left = 0
        else:
            b = gen.binomial(left, c / rest)
            out[i] = b
            left -= b
        rest -= c


@njit(cache=True, nogil=True)
def _fenwick_build(counts, tree):
    K = counts.size
    for i in range(K):
        tree[i + 1] = counts[i]
    for i in range(1, K + 1):
        j = i + (i & -i)
        if j <= K:
            tree[j] += tree[i]


@njit(cache=True, nogil=True)
def _fenwick_take(tree, u, top):
    """Index of the category holding pool position u (0-based), and remove one item from it."""
    pos = 0
    step = top
    while step > 0:
        nxt = pos + step
        if nxt < tree.size and tree[nxt] <= u:
            pos = nxt
            u -= tree[nxt]
        step >>= 1
    i = pos + 1  # 1-based category
    while i < tree.size:
        tree[i] -= 1
        i += i & -i
    return pos


@njit(cache=True, nogil=True)
def discrete_exact(gen, p0, n, workflow, G, H, Z, P):
    """Counts-level chains. workflow: 0 replace, 1 accumulate, 2 accumulate-subsample."""
    reps, T1 = G.shape
    K = p0.size
    tail = np.empty(K)
    acc = 0.0
    for i in range(K - 1, -1, -1):
        acc += p0[i]
        tail[i] = acc
    pool = np.zeros(K, dtype=np.int64)
    fit = np.zeros(K, dtype=np.int64)
    batch = np.zeros(K, dtype=np.int64)
    tree = np.zeros(K + 1, dtype=np.int64)
    top = 1
    while top * 2 <= K:
        top *= 2
    for r in range(reps):
        _multinomial_p(gen, n, p0, tail, pool)
        N = n
        for t in range(T1):
            if t > 0:  # draw n points from model t − 1 (counts `fit`, total n or N) into the data
                tot = N if workflow == 1 else n
                _multinomial_counts(gen, n, fit, tot, batch)
                if workflow == 0:
                    for i in range(K):
                        pool[i] = batch[i]
                else:
                    for i in range(K):
                        pool[i] += batch[i]
                    N += n
            if workflow == 2 and N > n:
                _fenwick_build(pool, tree)
                for i in range(K):
                    fit[i] = 0
                for j in range(n):
                    fit[_fenwick_take(tree, gen.integers(0, N - j), top)] += 1
            else:
                for i in range(K):
                    fit[i] = pool[i]
            tot = N if workflow == 1 else n
            _metrics(fit, tot, G, H, Z, r, t)
        tot = N if workflow == 1 else n
        for i in range(K):
            P[r, i] = fit[i] / tot


@njit(cache=True, nogil=True)
def discrete_samples(gen, cum0, n, workflow, G, H, Z, P):
    """The literal loops on labels; cum0 = cumulative sums of p0 (last entry 1)."""
    reps, T1 = G.shape
    K = cum0.size
    cap = n * (T1 if workflow != 0 else 1)
    pool = np.empty(cap, dtype=np.int64)
    new = np.empty(n, dtype=np.int64)
    counts = np.zeros(K, dtype=np.int64)
    for r in range(reps):
        for j in range(n):
            u = gen.random()
            lo, hi = 0, K - 1
            while lo < hi:  # first category with cum0 > u
                mid = (lo + hi) // 2
                if cum0[mid] > u:
                    hi = mid
                else:
                    lo = mid + 1
            pool[j] = lo
        N = n
        for t in range(T1):
            if t > 0:
                # n draws from model t − 1: uniform picks among the points it was fitted to (pool[:m])
                m = N if workflow == 1 else n
                for j in range(n):
                    new[j] = pool[gen.integers(0, m)]
                if workflow == 0:
                    for j in range(n):
                        pool[j] = new[j]
                else:
                    for j in range(n):
                        pool[N + j] = new[j]
                    N += n
            if workflow == 2:  # the subsample: a partial Fisher–Yates shuffle moves it to pool[:n]
                for j in range(n):
                    k = j + gen.integers(0, N - j)
                    tmp = pool[j]
                    pool[j] = pool[k]
                    pool[k] = tmp
            m = N if workflow == 1 else n
            for i in range(K):
                counts[i] = 0
            for j in range(m):
                counts[pool[j]] += 1
            _metrics(counts, m, G, H, Z, r, t)
        m = N if workflow == 1 else n
        for i in range(K):
            P[r, i] = counts[i] / m


# --------------------------------------------------------------------------- front function


def simulate_discrete(p0, n, generations, *, workflow="replace", reps=1, method="exact", rng=None, workers=None,
                      progress=False) -> DiscreteChain:
    r"""Refit a categorical law by empirical frequencies, replacing, accumulating or subsampling the data.

    Kazdan et al. (ICML 2025), the discrete-distribution experiment (their default
    :math:`p_0` is uniform over K outcomes); see the module notes for the three workflows.

    Parameters
    ----------
    p0 : array_like
        True law over K ≥ 2 categories (non-negative, summing to 1).
    n : int
        Points per generation, :math:`n\ge1` (also the real sample and the subsample size).
    generations : int
        Refits after the first fit, :math:`\ge0`; models 0..generations are returned.
    workflow : {"replace", "accumulate", "accumulate-subsample"}
    reps : int
        Independent replicates, :math:`\ge1`.
    method : {"exact", "samples"}
        ``"exact"`` moves counts (cost O(K + n log K) per generation); ``"samples"`` runs the
        literal loop on labels (O(n + K)). Same law.
    rng : None, int, SeedSequence or Generator
    workers : int, optional
        Threads; results do not depend on it.
    progress : bool

    Returns
    -------
    DiscreteChain

    Notes
    -----
    Every workflow keeps :math:`\mathbb E\,q_t(i)=p_0(i)` and multiplies the expected diversity by a
    factor per generation (:func:`selfconsume.theory.expected_discrete_gini`):

    .. math:: \mathbb E\Big[1-\sum_iq_t(i)^2\Big]=\Big(1-\sum_ip_0(i)^2\Big)\Big(1-\frac1n\Big)\prod_{j=1}^{t}f_j,

    :math:`f_j=1-\frac1n` (replace), :math:`1-\frac1{n(j+1)^2}` (accumulate); the entropy and the
    number of lost categories follow from the exact law of one category's count
    (:func:`selfconsume.theory.expected_discrete_entropy`, :func:`selfconsume.theory.expected_discrete_zeros`).

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.simulators import simulate_discrete
    >>> res = simulate_discrete(np.full(10, 0.1), 10, 20, workflow="accumulate", reps=50, rng=0)
    >>> res.gini.shape, res.probs.shape
    ((50, 21), (50, 10))
    >>> bool(np.allclose(res.probs.sum(axis=1), 1.0))
    True
    """
    p0 = check_probability_vector("p0", p0)
    if p0.size < 2:
        raise ValueError(f"p0 must have at least 2 categories (K >= 2); got K = {p0.size}")
    n = check_int("n", n, min_value=1)
    generations = check_int("generations", generations, min_value=0)
    workflow = check_choice("workflow", workflow, WORKFLOWS)
    reps = check_int("reps", reps, min_value=1)
    method = check_choice("method", method, METHODS)
    if workers is not None:
        check_int("workers", workers, min_value=1)
    K = p0.size
    T1 = generations + 1
    check_memory("the output (reps × (generations + 1) × 3 metrics and reps × K proportions)",
                 reps * (3 * T1 + K), names="reps, generations, p0")
    pool = n * (T1 if workflow != "replace" else 1)
    check_memory("a block's data pool and counts", 4 * (pool + 4 * K + n), names="n, generations, p0")
    gen = as_generator(rng)
    seed = seed_info(gen)
    G, H = np.empty((2, reps, T1))
    Z = np.empty((reps, T1), dtype=np.int64)
    P = np.empty((reps, K))
    code = WORKFLOWS.index(workflow)
    if method == "exact":
        per_gen = K + (n * math.log2(K + 1) if workflow == "accumulate-subsample" else 0.0)
    else:
        per_gen = K + 2.0 * n
    blocks = replicate_blocks(reps, block_reps(T1 * per_gen / 4.0))
    cum0 = np.cumsum(p0)
    # a uniform draw below 1 always lands in a category of positive probability: categories of zero
    # probability keep a zero-width step, and the steps from the last positive one on are set to 1
    cum0[np.flatnonzero(p0 > 0)[-1]:] = 1.0
    p = np.ascontiguousarray(p0)

    def work(b, g):
        sl = slice(b.start, b.stop)
        if method == "exact":
            discrete_exact(g, p, n, code, G[sl], H[sl], Z[sl], P[sl])
        else:
            discrete_samples(g, cum0, n, code, G[sl], H[sl], Z[sl], P[sl])

    run_blocks(work, blocks, gen, workers=workers, progress=progress, desc="discrete chain")
    p0 = p0.copy()
    p0.setflags(write=False)
    return DiscreteChain(n, generations, reps, workflow, method, seed, p0, gini=readonly(G), entropy=readonly(H),
                         zeros=readonly(Z), probs=readonly(P))
