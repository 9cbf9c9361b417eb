r"""Numba kernels of the count models refit to their own samples (pure: arrays in, arrays out).

Setting (Suresh, Thangaraj, Khandavally 2025; ``shared/theory.md`` §3.1): a discrete model
(vocabulary of k symbols) refit by its empirical frequencies to n samples of the previous
model, and a Poisson model refit by the mean of n draws. Generation 0 is the initial model;
generation t ≥ 1 is the fit to n samples of generation t − 1.

Random draws per replicate, in this order (the NumPy references in the tests follow it):

* multinomial, ``exact`` (in law): each generation, the n new counts by conditional binomials
  ``binomial(left, c_i / Σ_{j≥i} c_j)`` over the symbols still alive, in index order (the last
  alive symbol takes what is left, without a draw); from a law ``p`` (generation 0 a law, not
  counts) the first generation uses ``p_i / Σ_{j≥i} p_j`` over the symbols with ``p_i > 0``.
  Nothing is drawn once one symbol is left (the chain is absorbed).
* multinomial, ``samples`` (literal): each generation, n draws from the current model by
  inverse CDF: ``integers(0, n)`` against the cumulative counts of the alive symbols in
  index order (from a law: ``random()`` against the cumulative ``p``); then counted.
* Poisson, ``exact``: ``S_1 = poisson(n·λ₀)``, ``S_{t+1} = poisson(S_t)`` (the sum of n
  Poisson(S_t/n) draws is Poisson(S_t)); ``samples``: n draws ``poisson(Λ_t)`` summed. Nothing
  is drawn after extinction (S = 0 is absorbing).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["multinomial_chain", "poisson_chain"]


@njit(cache=True, nogil=True)
def _compact(cur, idx, na):
    """Keep in idx[:na] only the symbols with cur > 0 (order kept); return their number."""
    m = 0
    for ii in range(na):
        i = idx[ii]
        if cur[i] > 0:
            idx[m] = i
            m += 1
    return m


@njit(cache=True, nogil=True)
def _resample_exact(gen, n, cur, idx, na):
    """cur[idx[:na]] ← Multinomial(n, cur/n) by conditional binomials (cur sums to n)."""
    left = n
    rem = n
    for ii in range(na):
        i = idx[ii]
        ci = cur[i]
        if left == 0:
            cur[i] = 0
            continue
        if ii == na - 1 or ci >= rem:
            x = left
        else:
            x = gen.binomial(left, ci / rem)
        rem -= ci
        left -= x
        cur[i] = x


@njit(cache=True, nogil=True)
def _resample_samples(gen, n, cur, idx, na, cum):
    """cur[idx[:na]] ← counts of n inverse-CDF draws from the model cur/n (literal loop)."""
    acc = 0
    for ii in range(na):
        acc += cur[idx[ii]]
        cum[ii] = acc
        cur[idx[ii]] = 0
    for _ in range(n):
        u = gen.integers(0, n)
        lo, hi = 0, na - 1
        while lo < hi:  # first ii with cum[ii] > u
            mid = (lo + hi) // 2
            if cum[mid] > u:
                hi = mid
            else:
                lo = mid + 1
        cur[idx[lo]] += 1


@njit(cache=True, nogil=True)
def _draw_from_law(gen, n, p, samples, cur, idx, na, cum):
    """cur ← counts of n draws from the law p (support idx[:na], index order)."""
    for ii in range(na):
        cur[idx[ii]] = 0
    if not samples:
        rem = 0.0
        for ii in range(na):
            rem += p[idx[ii]]
        left = n
        for ii in range(na):
            i = idx[ii]
            if left == 0:
                break
            if ii == na - 1:
                x = left
            else:
                q = p[i] / rem
                x = left if q >= 1.0 else gen.binomial(left, q)
            rem -= p[i]
            left -= x
            cur[i] = x
        return
    acc = 0.0
    for ii in range(na):
        acc += p[idx[ii]]
        cum[ii] = acc
    for _ in range(n):
        u = gen.random() * acc
        lo, hi = 0, na - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[mid] > u:
                hi = mid
            else:
                lo = mid + 1
        cur[idx[lo]] += 1


@njit(cache=True, nogil=True)
def multinomial_chain(gen, n, p, c0, from_law, samples, alive, freq, record_freq):
    """Multinomial resampling chains of one block of replicates.

    ``p``: the generation-0 law (k,) when ``from_law``; else ``c0`` (k,) are the generation-0
    counts (summing to n). ``alive``: (reps, T+1) output, the number of symbols with positive
    probability; ``freq``: (reps, T+1, k) output of the model probabilities when
    ``record_freq`` (else unused).
    """
    reps, T1 = alive.shape
    k = p.shape[0]
    cur = np.zeros(k, dtype=np.int64)
    idx = np.empty(k, dtype=np.int64)
    cumf = np.empty(k)
    cumi = np.empty(k, dtype=np.int64)
    for r in range(reps):
        na = 0
        if from_law:
            for i in range(k):
                if p[i] > 0.0:
                    idx[na] = i
                    na += 1
            alive[r, 0] = na
            if record_freq:
                for i in range(k):
                    freq[r, 0, i] = p[i]
            if T1 == 1:
                continue
            _draw_from_law(gen, n, p, samples, cur, idx, na, cumf)
            na = _compact(cur, idx, na)
            t0 = 1
        else:
            for i in range(k):
                cur[i] = c0[i]
                if c0[i] > 0:
                    idx[na] = i
                    na += 1
            t0 = 0
        alive[r, t0] = na
        if record_freq:
            for i in range(k):
                freq[r, t0, i] = cur[i] / n
        for t in range(t0 + 1, T1):
            if na > 1:
                if samples:
                    _resample_samples(gen, n, cur, idx, na, cumi)
                else:
                    _resample_exact(gen, n, cur, idx, na)
                na = _compact(cur, idx, na)
            alive[r, t] = na
            if record_freq:
                for i in range(k):
                    freq[r, t, i] = cur[i] / n


@njit(cache=True, nogil=True)
def poisson_chain(gen, n, rate0, samples, out):
    """Poisson refits of one block: out[r, t] = Λ_t (out[:, 0] = rate0), shape (reps, T+1)."""
    reps, T1 = out.shape
    for r in range(reps):
        out[r, 0] = rate0
        lam = rate0
        mean = n * rate0
        for t in range(1, T1):
            if samples:
                s = 0
                for _ in range(n):
                    s += gen.poisson(lam)
            else:
                s = gen.poisson(mean)
            lam = s / n
            mean = float(s)
            out[r, t] = lam
            if s == 0:
                for u in range(t + 1, T1):
                    out[r, u] = 0.0
                break
