"""Peers' claims (see :mod:`selfconsume.analysis.claims.peers`): survival of symbols and of count models.

Suresh, Thangaraj, Khandavally, *Rate of model collapse in recursive training* (AISTATS 2025,
arXiv 2412.17646; code ``berserank/rate-of-model-collapse``, ``simulations.ipynb``), run with
their protocols — Bernoulli from a model p₀ with n samples per refit, Poisson from λ₀, a
Zipf–Mandelbrot corpus drawn once and resampled — and checked against the exact chains of
:mod:`selfconsume.theory` (``shared/theory.md`` §3.1, 🧮). Their bounds are rows of their own:
deterministic comparisons (tol = 0) of the bound with the exact value, with how loose the
bound is in the note.
"""

from __future__ import annotations

import math

import numpy as np

from selfconsume import theory as th
from selfconsume.simulators import simulate_curation, simulate_multinomial, simulate_poisson

from .._registry import Comparison, register_claim
from .._stats import mean_se, proportion_se

SRC = ("Suresh, Thangaraj, Khandavally, AISTATS 2025 (arXiv 2412.17646), Theorems 1–2, Corollary 1, "
       "public notebook (🧮, theory.md §3.1)")
TAGS = ("peers", "discrete", "collapse")

#: The peer's Bernoulli cells (p₀, n): n·p₀ = 1 and 10 (their (0.001, 10⁴) cell in the full budget; the quick
#: one keeps n·p₀ = 10 with n = 1000), 50 generations as in their notebook.
BERNOULLI_QUICK = ((0.01, 100), (0.01, 1000))
BERNOULLI_FULL = ((0.01, 100), (0.01, 1000), (0.001, 10_000))


def _frequency(quantity, hits, reps, pred):
    """A simulated frequency vs its exact probability, or None when either outcome is expected fewer than 25 times
    (there the binomial count is far from normal: a 5-SE interval around ~1 expected event is not a 5-SE test)."""
    if reps * min(pred, 1.0 - pred) < 25:
        return None
    m, se = proportion_se(int(hits), reps, pred)
    return Comparison(quantity, float(pred), float(m), se=float(se))


def _rows_bernoulli_bounds(n, p0, T, ex, ez, ei):
    """Deterministic rows: Theorem 1 (and its two-atom extension), the headline 1 − e^{−np₀/k} and Seddik et al.'s
    interior bounds against the exact chain, k = 1..T."""
    out = []
    tag = f"n={n}, p₀={p0}"
    k = slice(1, T + 1)
    # survival bounds through P(P_k = 0), both computed directly (no 1 − x rounding near 1)
    lz, hz = th.bound_symbol_survival_suresh(n, p0, T, event="zero")
    lo, hi = th.bound_symbol_survival_suresh(n, p0, T)
    out.append(Comparison(f"Thm 1 lower: P(P_k = 0) ≤ e^{{−np₀g_k}}, max_k ratio, {tag}", 1.0,
                          float(np.max(ez[k] / hz[k])), tol=0.0, relation="<=",
                          note=f"survival at k=1, {T // 5}, {T}: exact {ex[1]:.4g}, {ex[T // 5]:.4g}, {ex[T]:.4g}; "
                               f"bound {lo[1]:.4g}, {lo[T // 5]:.4g}, {lo[T]:.4g}"))
    nontriv = lz[k] > 0.0
    if nontriv.any():
        out.append(Comparison(f"Thm 1 upper: P(P_k = 0) ≥ max(1 − 3np₀² − 3kp₀, 0)e^{{−np₀g_k}}, min_k ratio over "
                              f"{int(nontriv.sum())} non-trivial k, {tag}", 1.0,
                              float(np.min(ez[k][nontriv] / lz[k][nontriv])), tol=0.0, relation=">=",
                              note=f"upper bound on survival at k=1: {hi[1]:.4g} vs exact {ex[1]:.4g}; trivial (1) "
                                   f"for k > {int(np.flatnonzero(nontriv)[-1]) + 1}"))
    simple = th.bound_symbol_survival_simple(n * p0, T)
    out.append(Comparison(f"headline 1 − e^{{−np₀/k}} ≤ P(P_k ≠ 0), min_k gap, {tag}", 0.0,
                          float(np.min(ex[k] - simple[k])), tol=0.0, relation=">=",
                          note=f"at k={T}: bound {simple[T]:.4g}, exact {ex[T]:.4g} (ratio {simple[T] / ex[T]:.3f})"))
    li, hi_i = th.bound_symbol_survival_suresh(n, p0, T, event="interior")
    out.append(Comparison(f"Thm 1 ext. lower ≤ P(P_k ∉ {{0,1}}), min_k gap, {tag}", 0.0, float(np.min(ei[k] - li[k])),
                          tol=0.0, relation=">="))
    out.append(Comparison(f"Thm 1 ext. upper ≥ P(P_k ∉ {{0,1}}), min_k gap, {tag}", 0.0, float(np.min(hi_i[k] - ei[k])),
                          tol=0.0, relation=">="))
    sl, sh = th.bound_interior_seddik(n, p0, T)
    out.append(Comparison(f"Seddik lower 4p₀(1−p₀)(1−1/n)^k ≤ P(P_k ∉ {{0,1}}), min_k gap, {tag}", 0.0,
                          float(np.min(ei[k] - sl[k])), tol=0.0, relation=">=",
                          note=f"at k={T}: Seddik [{sl[T]:.3g}, {sh[T]:.3g}], Suresh [{li[T]:.3g}, {hi_i[T]:.3g}], "
                               f"exact {ei[T]:.4g}"))
    out.append(Comparison(f"Seddik upper ≥ P(P_k ∉ {{0,1}}), min_k gap, {tag}", 0.0, float(np.min(sh[k] - ei[k])),
                          tol=0.0, relation=">="))
    return out


@register_claim(
    id="peers.symbol_survival",
    title="A symbol seen c times of n survives t refits with the exact Wright–Fisher probability; Suresh's bounds hold",
    source=SRC,
    statement="Under multinomial resampling a symbol's count is the chain c_{t+1} | c_t ~ Bin(n, c_t/n): P(c_t > 0) "
              "= (P^t 1_{>0})(c_0) exactly, for a symbol of a vocabulary and for the Bernoulli process from p₀. "
              "Suresh et al.'s Theorem 1 brackets it, "
              "1 − e^{−np₀g_k} ≤ P(P_k ≠ 0) ≤ 1 − max(1 − 3np₀² − 3kp₀, 0)e^{−np₀g_k} "
              "(g_k = g^{∘k}(∞) ≥ 1/k, so ≥ 1 − e^{−np₀/k}), and so do its two-atom extension and "
              "Seddik et al.'s bounds on P(P_k ∉ {0, 1}). Starting from K equally likely symbols, the time T to "
              "fixation has E T = 1 + K E w(c_1), w = (I − Q)⁻¹ h (Q the interior binomial block, h(c) = c/n).",
    assumptions=("n samples per refit, the maximum-likelihood (empirical) frequencies",
                 "vocabulary case: generation 0 is the corpus; Bernoulli case: generation 0 is the model p₀"),
    tags=TAGS,
)
def _symbol_survival(ctx):
    reps = ctx.size(20_000, 200_000)
    out = []
    # n = 10 with unequal counts: Bin(n − 1, ·) instead of Bin(n, ·) moves P(c_1 > 0 | c = 1) from 0.651 to 0.613
    # (≈ 11 SE), a generation offset moves it by more, and the symbols' survivals differ
    n, counts, T = 10, np.array([1, 2, 3, 4]), 8
    res = simulate_multinomial(n, T, counts=counts, reps=reps, return_freq=True, rng=ctx.rng, workers=ctx.workers)
    alive = res.freq > 0.0
    inside = alive & (res.freq < 1.0)
    s_ex = th.symbol_survival(n, counts, T)
    i_ex = th.symbol_survival(n, counts, T, event="interior")
    for j, c in enumerate(counts):
        for t in (1, 2, 4, 8):
            out.append(_frequency(f"P(c_t > 0), n={n}, c₀={c}, t={t}", alive[:, t, j].sum(), reps, s_ex[j, t]))
        for t in (2, 8):
            out.append(_frequency(f"P(0 < c_t < n), n={n}, c₀={c}, t={t}", inside[:, t, j].sum(), reps, i_ex[j, t]))
        simple = th.bound_symbol_survival_simple(c, T)
        out.append(Comparison(f"1 − e^{{−c₀/k}} ≤ P(c_k > 0), min over k ≤ {T} of the gap, n={n}, c₀={c}", 0.0,
                              float(np.min(s_ex[j, 1:] - simple[1:])), tol=0.0, relation=">="))
    # the peer's Bernoulli cells: P_0 = p₀ (a model), P_k the mean of n Bernoulli(P_{k−1}) draws
    T = 50
    for p0, n in ctx.size(BERNOULLI_QUICK, BERNOULLI_FULL):
        res = simulate_multinomial(n, T, p=[p0, 1.0 - p0], reps=reps, return_freq=True, rng=ctx.rng,
                                   workers=ctx.workers)
        P = res.freq[:, :, 0]
        ez = th.bernoulli_survival(n, p0, T, event="zero")
        ex = th.bernoulli_survival(n, p0, T) if n <= 2048 else 1.0 - ez  # (one pass fewer at n = 10⁴, full budget)
        ei = th.bernoulli_survival(n, p0, T, event="interior")
        for t in (1, 2, 10, 50):
            out.append(_frequency(f"P(P_k ≠ 0), Bernoulli n={n}, p₀={p0}, k={t}", (P[:, t] > 0).sum(), reps, ex[t]))
            out.append(_frequency(f"P(P_k ∉ {{0,1}}), Bernoulli n={n}, p₀={p0}, k={t}",
                                  ((P[:, t] > 0) & (P[:, t] < 1)).sum(), reps, ei[t]))
        out += _rows_bernoulli_bounds(n, p0, T, ex, ez, ei)
    # fixation: K symbols, uniform at generation 0, resampled (n draws) until one is left; E T by one
    # (n − 1)-dimensional solve. An off-by-one generation moves it by 1 (≈ 5 SE at this size)
    for K, n in ((2, 10), (5, 20)):
        fx = simulate_curation(np.full(K, 1.0 / K), np.zeros(K), 1, 200 * n, n=n, reps=ctx.size(4_000, 40_000),
                               record="last", rng=ctx.rng).fixation
        m, se = mean_se(fx.astype(float))
        out.append(Comparison(f"E fixation time, K={K} symbols, n={n} (every run fixed: {bool((fx >= 0).all())})",
                              th.expected_fixation_time(K, n), m if (fx >= 0).all() else math.inf, se=se))
    return [c for c in out if c is not None]


@register_claim(
    id="peers.poisson_extinction",
    title="Poisson refit: P(Λ_k = 0) = exp(−nλ₀ q_{k−1}) exactly (critical Galton–Watson); q_t ~ 2/t",
    source=SRC,
    statement="With Λ_{k+1} the mean of n Poisson(Λ_k) draws, S_k = nΛ_k is a Galton–Watson process with Poisson(1) "
              "offspring from S_1 ~ Poisson(nλ₀): P(Λ_k = 0) = exp(−nλ₀ g_k), g_k = q_{k−1}, q_0 = 1, "
              "q_{t+1} = 1 − e^{−q_t} (one lineage's survival; Suresh et al.'s Theorem 2 is this identity). "
              "g_k ∈ [1/k, 3/k] gives their bracket [1 − e^{−nλ₀/k}, 1 − e^{−3nλ₀/k}]; in fact k·g_k ∈ [1, 2) and "
              "q_t = 2/t − (2/3) ln t/t² + O(1/t²).",
    assumptions=("Λ_0 = λ₀ a model (not a sample)", "n samples per refit, the sample mean"),
    tags=TAGS,
)
def _poisson_extinction(ctx):
    reps = ctx.size(20_000, 200_000)
    n, T = 10, 500
    out = []
    # the peer's λ₀ = 1, 10 (n = 10, 500 generations), and λ₀ = 0.1: S_0 = nλ₀ = 1, one lineage, survival q_t
    # (λ₀ = 10 keeps most paths alive for all 500 generations: fewer replicates; it detects no offset the others miss)
    for rate, method, r in ((1.0, "exact", reps), (10.0, "exact", reps // 4), (0.1, "exact", reps),
                            (1.0, "samples", reps // 8)):
        res = simulate_poisson(n, rate, T, reps=r, method=method, rng=ctx.rng, workers=ctx.workers)
        ext = th.poisson_extinction(n, rate, T)
        tag = f"n={n}, λ₀={rate}" + (", literal n draws" if method == "samples" else "")
        for t in (1, 2, 10, 100, 500):
            out.append(_frequency(f"P(Λ_k ≠ 0), {tag}, k={t}", (~res.extinct[:, t]).sum(), r, 1.0 - float(ext[t])))
        if rate == 0.1:  # one lineage: P(S_t > 0 | S_0 = 1) = q_t, through the recursion itself
            q = th.poisson_lineage_survival(T)
            for t in (5, 50):
                out.append(_frequency(f"one lineage (S₀ = nλ₀ = 1) survives t: q_t, t={t}",
                                      (~res.extinct[:, t]).sum(), r, float(q[t])))
    # the recursion and the peer's bracket, deterministic
    big = 10**6
    q = th.poisson_lineage_survival(big)
    k = np.arange(1, big + 1)
    kg = k * q[:-1]  # k·g_k, g_k = q_{k−1}
    out.append(Comparison("min_k k·g_k ≥ 1 (Thm 2: g_k ≥ 1/k), k ≤ 10⁶", 1.0, float(kg.min()), tol=0.0,
                          relation=">=", note="equality at k = 1 (g_1 = 1)"))
    out.append(Comparison("max_k k·g_k ≤ 3 (Thm 2: g_k ≤ 3/k), k ≤ 10⁶", 3.0, float(kg.max()), tol=0.0,
                          relation="<=", note=f"sharp constant 2: max = {kg.max():.6f}"))
    for t in (10**4, big):
        out.append(Comparison(f"t·q_t/2 − 1 = −ln t/(3t) + O(1/t), t={t:.0e}", -math.log(t) / (3 * t),
                              float(t * q[t] / 2 - 1.0), tol=2.0 / t,
                              note="the O(1/t) term is ≈ −1.80/t from q_0 = 1"))
    for rate in (1.0, 10.0):
        mu = n * rate
        ext = th.poisson_extinction(n, rate, T)
        lo, hi = th.bound_poisson_survival_suresh(n, rate, T)
        # in extinction form, computed directly: e^{−nλ₀/k} ≥ P(Λ_k = 0) ≥ e^{−3nλ₀/k} (equality at k = 1)
        kk = np.arange(2, T + 1)
        out.append(Comparison(f"Thm 2 at k = 1: P(Λ_1 = 0) = e^{{−nλ₀}} (g_1 = 1), n={n}, λ₀={rate}", math.exp(-mu),
                              float(ext[1]), tol=4e-16 * math.exp(-mu)))
        out.append(Comparison(f"Thm 2 lower: P(Λ_k = 0) ≤ e^{{−nλ₀/k}}, max over 2 ≤ k ≤ {T} of the log-ratio, "
                              f"n={n}, λ₀={rate}", 0.0,
                              float(np.max(np.log(ext[2:]) + mu / kk)), tol=0.0, relation="<=",
                              note=f"survival at k={T}: bound {lo[T]:.4g}, exact {1 - ext[T]:.4g}, upper {hi[T]:.4g}"))
        out.append(Comparison(f"Thm 2 upper: P(Λ_k = 0) ≥ e^{{−3nλ₀/k}}, min over 2 ≤ k ≤ {T} of the log-ratio, "
                              f"n={n}, λ₀={rate}", 0.0,
                              float(np.min(np.log(ext[2:]) + 3 * mu / kk)), tol=0.0, relation=">="))
        if rate == 1.0:  # (at λ₀ = 10 survival, bounds and all, rounds to 1 for small k: the log rows above say it)
            out.append(Comparison(f"bound_poisson_survival_suresh brackets 1 − P(Λ_k = 0), k ≥ 2, n={n}, λ₀={rate}",
                                  0.0, float(min(np.min((1 - ext[2:]) - lo[2:]), np.min(hi[2:] - (1 - ext[2:])))),
                                  tol=0.0, relation=">="))
    return [c for c in out if c is not None]


#: The peer's Zipf–Mandelbrot experiment: m = n = 1000, (a, b) = (1, 2.7) and (2, 5), generations 0..9 (10 here).
ZIPF = ((1.0, 2.7), (2.0, 5.0))


@register_claim(
    id="peers.vocabulary_survival",
    title="Zipf–Mandelbrot vocabulary: expected surviving fraction = mean of exact symbol survivals; Corollary 1 holds",
    source=SRC,
    statement="A corpus of n symbols resampled n at a time keeps E[uniq_t] = Σ_i P(c_{i,t} > 0), each term the exact "
              "Wright–Fisher survival of its initial count (corpus drawn once from p_i ∝ (i + b)^{−a}, every "
              "trajectory restarting from it, as in the peer's notebook); with a fresh corpus per trajectory it is "
              "Σ_i Σ_c Bin(n, p_i)(c)·P(c_{t−1} > 0 | c). Suresh et al.'s Corollary 1 brackets the first.",
    assumptions=("m = n = 1000 (the peer's)", "fraction over the symbols seen in the corpus (the peer's uniq_k/m)"),
    tags=TAGS,
)
def _vocabulary_survival(ctx):
    reps = ctx.size(600, 6000)
    m = n = 1000
    T = 10
    out = []
    for a, b in ZIPF:
        p = th.zipf_mandelbrot(m, a, b)
        corpus = ctx.rng.multinomial(n, p)
        counts = corpus[corpus > 0]
        exact = th.vocabulary_survival(counts, T)
        res = simulate_multinomial(n, T, counts=counts, reps=reps, rng=ctx.rng, workers=ctx.workers)
        frac = res.fraction
        tag = f"a={a}, b={b}, {counts.size} symbols seen"
        for t in (1, 2, 5, 10):
            mm, se = mean_se(frac[:, t])
            out.append(Comparison(f"E[uniq_t]/m, corpus fixed, {tag}, t={t}", float(exact[t]), float(mm), se=float(se)))
        lo, hi = th.bound_vocabulary_survival_suresh(counts, T)
        out.append(Comparison(f"Cor 1 lower ≤ E[uniq_t]/m, min over t ≤ {T} of the gap, {tag}", 0.0,
                              float(np.min(exact[1:] - lo[1:])), tol=0.0, relation=">=",
                              note=f"t={T}: [{lo[T]:.4f}, {hi[T]:.4f}] ∋ {exact[T]:.4f}"))
        out.append(Comparison(f"Cor 1 upper ≥ E[uniq_t]/m, min over t ≤ {T} of the gap, {tag}", 0.0,
                              float(np.min(hi[1:] - exact[1:])), tol=0.0, relation=">="))
        # a fresh corpus per trajectory: generation 0 is the law, generation 1 the corpus
        law = th.vocabulary_survival_from_law(p, n, T + 1, normalize=False)
        res = simulate_multinomial(n, T + 1, p=p, reps=reps, rng=ctx.rng, workers=ctx.workers)
        for t in (1, 6, 11):
            mm, se = mean_se(res.alive[:, t].astype(float))
            out.append(Comparison(f"E[uniq_t], fresh corpus per trajectory, a={a}, b={b}, t={t}", float(law[t]),
                                  float(mm), se=float(se)))
    return out
