r"""Numba kernels of Bradley–Terry curation on a finite space (pure: arrays in, arrays out).

The curation factor :math:`H^K_p` comes from :func:`selfconsume.theory._curation_kernels.log_h_levels`
(the exact Laplace quadrature, documented there); the kernels here apply it to whole
distributions and run the population and finite-sample chains.

Random draws of the finite-sample kernels, in this order (the NumPy references in the tests
follow it):

* real data (when ``kept`` is the synthetic count of a mixed chain): the n real counts by
  conditional binomials over the atoms in index order, once per replicate, before
  generation 1;
* ``exact``: each generation, the kept counts by conditional binomials
  ``binomial(left, prob_i / Σ_{j≥i} prob_j)`` over the atoms with positive probability in
  index order (the last such atom takes what is left);
* ``luce``: each generation, for each kept sample, K uniforms ``random()`` choosing the K
  candidates by inverse CDF over the atoms in index order, then (K ≥ 2) one uniform
  choosing the kept candidate with probability ∝ e^{r}.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from selfconsume.theory._curation_kernels import log_h_levels_gapped as log_h_levels

__all__ = [
    "step_population",
    "population_chain",
    "finite_chain",
]


@njit(cache=True, nogil=True)
def _curate_atoms(p, level, lv, K, out):
    """out ← p·H^K_p on atoms, renormalised (the exact map conserves mass; dividing by
    the computed sum only removes rounding so that 1000 generations do not drift).

    ``level[x]``: index of atom x's reward in ``lv`` (distinct rewards, decreasing).
    K == 1: out = p. K == inf: the tilt p e^{r}/E_p e^{r}.
    """
    m = p.shape[0]
    L = lv.shape[0]
    qlev = np.zeros(L)
    for x in range(m):
        if p[x] > 0.0:
            qlev[level[x]] += p[x]
    if K == 1.0:
        for x in range(m):
            out[x] = p[x]
        return
    ns = 0
    for l in range(L):
        if qlev[l] > 0.0:
            ns += 1
    idx = np.empty(ns, dtype=np.int64)
    ns = 0
    tot = 0.0
    for l in range(L):
        if qlev[l] > 0.0:
            idx[ns] = l
            tot += qlev[l]
            ns += 1
    top = lv[idx[0]]
    lw = np.empty(ns)
    qs = np.empty(ns)
    for i in range(ns):
        lw[i] = lv[idx[i]] - top
        qs[i] = qlev[idx[i]] / tot
    logH = np.empty(ns)
    if K == np.inf:
        acc = 0.0
        for i in range(ns):
            acc += qs[i] * math.exp(lw[i])
        lz = math.log(acc)
        for i in range(ns):
            logH[i] = lw[i] - lz
    elif ns == 1:
        logH[0] = 0.0
    else:
        log_h_levels(lw, qs, lw, K, logH)
    Hl = np.zeros(L)
    for i in range(ns):
        Hl[idx[i]] = math.exp(logH[i])
    s = 0.0
    for x in range(m):
        v = p[x] * Hl[level[x]] if p[x] > 0.0 else 0.0
        out[x] = v
        s += v
    inv = 1.0 / s
    for x in range(m):
        out[x] *= inv


@njit(cache=True, nogil=True)
def step_population(p, p_ref, lam, level, lv, K, out):
    """One generation of the population chain: p H (lam < 0) or (p_ref + λ p H)/(1 + λ)."""
    _curate_atoms(p, level, lv, K, out)
    if lam >= 0.0:
        c = 1.0 / (1.0 + lam)
        for x in range(p.shape[0]):
            out[x] = (p_ref[x] + lam * out[x]) * c


@njit(cache=True, nogil=True)
def population_chain(p0, p_ref, lam, level, lv, K, out):
    """Population chain; ``out``: (generations+1, m), row 0 = p0."""
    T1, m = out.shape
    for x in range(m):
        out[0, x] = p0[x]
    for t in range(1, T1):
        step_population(out[t - 1], p_ref, lam, level, lv, K, out[t])


@njit(cache=True, nogil=True)
def _multinomial(gen, n, prob, counts):
    """counts ← Multinomial(n, prob) by conditional binomials over atoms in index order.

    ``prob`` need not be normalised; zero entries get zero counts without a draw.
    """
    m = prob.shape[0]
    rem = np.empty(m + 1)
    rem[m] = 0.0
    for x in range(m - 1, -1, -1):
        rem[x] = rem[x + 1] + prob[x]
    last = -1
    for x in range(m):
        counts[x] = 0
        if prob[x] > 0.0:
            last = x
    left = n
    for x in range(m):
        if left == 0:
            break
        if prob[x] <= 0.0:
            continue
        if x == last:
            counts[x] = left
            break
        pi = prob[x] / rem[x]
        if pi >= 1.0:
            c = left
        else:
            c = gen.binomial(left, pi)
        counts[x] = c
        left -= c


@njit(cache=True, nogil=True)
def _luce_counts(gen, n, p, reward, K, counts):
    """counts of n kept samples, each the Bradley–Terry choice among K iid candidates from p."""
    m = p.shape[0]
    ns = 0
    for x in range(m):
        counts[x] = 0
        if p[x] > 0.0:
            ns += 1
    atoms = np.empty(ns, dtype=np.int64)
    cum = np.empty(ns)
    acc = 0.0
    i = 0
    rtop = -np.inf
    for x in range(m):
        if p[x] > 0.0:
            atoms[i] = x
            acc += p[x]
            cum[i] = acc
            if reward[x] > rtop:
                rtop = reward[x]
            i += 1
    wt = np.empty(ns)
    for i in range(ns):
        wt[i] = math.exp(reward[atoms[i]] - rtop)
    Ki = int(K)
    cand = np.empty(Ki, dtype=np.int64)
    for _ in range(n):
        for k in range(Ki):
            u = gen.random() * acc
            lo = 0
            hi = ns - 1
            while lo < hi:  # first i with cum[i] > u
                mid = (lo + hi) >> 1
                if cum[mid] > u:
                    hi = mid
                else:
                    lo = mid + 1
            cand[k] = lo
        if Ki == 1:
            counts[atoms[cand[0]]] += 1
            continue
        S = 0.0
        for k in range(Ki):
            S += wt[cand[k]]
        if S > 0.0:
            u = gen.random() * S
            chosen = cand[Ki - 1]
            a = 0.0
            for k in range(Ki):
                a += wt[cand[k]]
                if u < a:
                    chosen = cand[k]
                    break
        else:
            # every candidate is > 745 below the top of the support: shift by their own max
            cm = -np.inf
            for k in range(Ki):
                rk = reward[atoms[cand[k]]]
                if rk > cm:
                    cm = rk
            S = 0.0
            for k in range(Ki):
                S += math.exp(reward[atoms[cand[k]]] - cm)
            u = gen.random() * S
            chosen = cand[Ki - 1]
            a = 0.0
            for k in range(Ki):
                a += math.exp(reward[atoms[cand[k]]] - cm)
                if u < a:
                    chosen = cand[k]
                    break
        counts[atoms[chosen]] += 1


@njit(cache=True, nogil=True)
def finite_chain(gen, p0, p_ref, mixed, n_real, kept, level, lv, reward, K, luce,
                 generations, record_all, out, fix):
    """Finite-sample chains of one block of replicates.

    Without real data (``mixed`` false) the model is refit to ``kept`` curated samples
    per generation, starting from p0. With real data, ``n_real`` real counts are drawn once
    from p_ref per replicate, generation 0 is their empirical law and generation t ≥ 1 is
    the empirical law of the real sample ∪ ``kept`` curated samples from generation t − 1.
    ``out``: (reps, generations+1, m) when ``record_all`` else (reps, 1, m) holding the last
    generation. ``fix[r]``: first generation whose support is one atom (−1 if none).
    A fully synthetic chain on one atom is absorbed, so it stops drawing there.
    """
    reps = out.shape[0]
    m = p0.shape[0]
    p = np.empty(m)
    prob = np.empty(m)
    creal = np.zeros(m, dtype=np.int64)
    ck = np.zeros(m, dtype=np.int64)
    for r in range(reps):
        if mixed:
            _multinomial(gen, n_real, p_ref, creal)
            for x in range(m):
                p[x] = creal[x] / n_real
            ntot = n_real + kept
        else:
            for x in range(m):
                p[x] = p0[x]
            ntot = kept
        if record_all:
            for x in range(m):
                out[r, 0, x] = p[x]
        ns = 0
        for x in range(m):
            if p[x] > 0.0:
                ns += 1
        fix[r] = 0 if ns == 1 else -1
        for t in range(1, generations + 1):
            if ns == 1 and not mixed:
                if not record_all:
                    break
                for x in range(m):
                    out[r, t, x] = p[x]
                continue
            if kept > 0:
                if luce:
                    _luce_counts(gen, kept, p, reward, K, ck)
                else:
                    _curate_atoms(p, level, lv, K, prob)
                    _multinomial(gen, kept, prob, ck)
            ns = 0
            for x in range(m):
                c = ck[x] + creal[x] if mixed else ck[x]
                if kept == 0:
                    c = creal[x]
                p[x] = c / ntot
                if c > 0:
                    ns += 1
            if ns == 1 and fix[r] < 0:
                fix[r] = t
            if record_all:
                for x in range(m):
                    out[r, t, x] = p[x]
        if not record_all:
            for x in range(m):
                out[r, 0, x] = p[x]
