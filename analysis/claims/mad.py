"""Claims of Model Autophagy Disorder (Alemohammad et al., *Self-consuming generative models go MAD*,
ICLR 2024, arXiv 2307.01850; ``shared/theory.md`` §3.2, checklist row A1).

Sampling bias b (their λ: points from N(μ_t, b Σ_t)) in the fully synthetic loop, whose first
moments are exact (E Σ_t = b^t Σ_0, Cov(μ_t − μ_0) = Σ_0/n Σ_{s≤t} b^s); the fresh-data loop,
whose first moments follow an exact linear recursion and whose limit does not depend on the
initial sample size; and the admissibility of synthetic data (the effective sample size and the
threshold on n_s of the paper's phase diagrams), measured on exact chains with the exact real-only
curve (:mod:`selfconsume.analysis._mad`).
"""

from __future__ import annotations

import math

import numpy as np

from selfconsume import theory as th
from selfconsume.simulators import simulate_gaussian

from .._mad import admissibility_threshold, fresh_limit_distance
from .._registry import Comparison, register_claim
from .._stats import mean_se

SRC = ("Alemohammad et al., Self-consuming generative models go MAD, ICLR 2024 (arXiv 2307.01850), §3–5 and the "
       "Gaussian model of §4 (✅ loops; 🧮 closed forms, theory.md §3.2)")
TAGS = ("mad", "gaussian", "bias")

#: A heterogeneous, correlated Σ_0 (eigenvalues ≈ 2.36, 0.96, 0.18): a mistake that treats Σ_0 as
#: σ_0² I, drops the off-diagonal or scales by the wrong factor shows.
SIGMA0 = np.array([[2.0, 0.6, 0.1], [0.6, 1.0, -0.3], [0.1, -0.3, 0.5]])


@register_claim(
    id="mad.biased_collapse",
    title="Sampling bias b in the fully synthetic loop: E Σ_t = (b c)^t Σ_0 and Cov(μ_t − μ_0) = (b/n) Σ_{s<t} (b c)^s Σ_0",
    source=SRC,
    statement="Generation t + 1 is the fit (sample mean; covariance with divisor n − 1, c = 1, or n, c = (n − 1)/n) "
              "to n points from N(μ_t, b Σ_t). Then E[Σ_{t+1} | Σ_t] = b c Σ_t and E[μ_{t+1} | μ_t] = μ_t with "
              "conditional covariance b Σ_t/n, so E Σ_t = (b c)^t Σ_0 and Cov(μ_t − μ_0) = (b/n) Σ_{s<t} (b c)^s Σ_0 "
              "(unbiased: Σ_0/n Σ_{s=1}^t b^s, bounded for b < 1: bias stops the random walk but kills diversity "
              "faster), and in 1-D E σ_t = α_c(n)^t b^{t/2} σ_0. theory.md: n = 20, b = 0.8, t = 15 give 0.03518 "
              "and 0.19296.",
    assumptions=("Gaussian model refitted by sample mean and covariance", "fully synthetic (no real data after t = 0)",
                 "any positive-definite Σ_0; exact chains and the literal loop"),
    tags=TAGS,
)
def _biased_collapse(ctx):
    out = []
    # 1-D, theory.md's setting, both methods: b^t vs b^{t−1} is a 25 % gap, b vs √b a 5× one (SE ≈ 1.3 %)
    for method, reps in (("exact", ctx.size(20_000, 200_000)), ("samples", ctx.size(20_000, 100_000))):
        for n, b, T, est in ((20, 0.8, 15, "unbiased"), (10, 0.9, 10, "mle")):
            res = simulate_gaussian(n, T, reps=reps, bias=b, estimator=est, method=method, mu0=1.0, sigma0=2.0,
                                    rng=ctx.rng, workers=ctx.workers)
            tag = f"1-D {method}, n={n}, b={b}, {est}, t={T}"
            m, se = mean_se(res.sigma[:, T] ** 2 / 4.0)
            out.append(Comparison(f"E σ_t²/σ_0², {tag}", float(th.biased_cov_factor(n, T, b, est)), m, se=se))
            m, se = mean_se((res.mu[:, T] - 1.0) ** 2 / 4.0)
            out.append(Comparison(f"E (μ_t − μ_0)²/σ_0², {tag}", float(th.biased_mean_cov_factor(n, T, b, est)), m,
                                  se=se))
            m, se = mean_se(res.sigma[:, T])
            out.append(Comparison(f"E σ_t, {tag}", float(th.expected_biased_sigma(n, T, b, 2.0, est)), m, se=se))
    # d = 3, a correlated Σ_0: the whole matrix E Σ_t (trace and the (0, 1) entry) and E‖μ_t − μ_0‖²
    n, b, T = 10, 0.7, 8
    for method, reps in (("exact", ctx.size(20_000, 200_000)), ("samples", ctx.size(10_000, 100_000))):
        res = simulate_gaussian(n, T, reps=reps, dim=3, sigma0=SIGMA0, bias=b, method=method, return_cov=True,
                                rng=ctx.rng, workers=ctx.workers)
        f_cov = float(th.biased_cov_factor(n, T, b))
        f_mean = float(th.biased_mean_cov_factor(n, T, b))
        tag = f"d=3 correlated Σ_0, {method}, n={n}, b={b}, t={T}"
        m, se = mean_se(res.trace[:, T])
        out.append(Comparison(f"E tr Σ_t, {tag}", f_cov * np.trace(SIGMA0), m, se=se))
        m, se = mean_se(res.cov[:, T, 0, 1])
        out.append(Comparison(f"E (Σ_t)₀₁, {tag}", f_cov * SIGMA0[0, 1], m, se=se))
        m, se = mean_se(((res.mu[:, T] - res.mu0) ** 2).sum(axis=-1))
        out.append(Comparison(f"E‖μ_t − μ_0‖², {tag}", f_mean * np.trace(SIGMA0), m, se=se))
    return out


#: The paper's Gaussian fresh-data experiment (§5): d = 100, P_r = N(0, I), n_r = 100, n_s = 900.
PAPER_FRESH = dict(n=100, lam=9.0, dim=100)


@register_claim(
    id="mad.fresh_limit",
    title="Fresh data each generation: exact first-moment recursion, and a limit distance independent of n_init",
    source=SRC,
    statement="Generation t ≥ 1 fits n_r fresh real points pooled with n_s = ⌊λ n_r⌋ points from N(μ_{t−1}, b Σ_{t−1}) "
              "(N = n_r + n_s, unbiased covariance). With v_t = E Σ_t/Σ_0 and δ_t = E(μ_t − μ_0)(μ_t − μ_0)ᵀ/Σ_0: "
              "δ_t = (n_s/N)² δ_{t−1} + n_r/N² + n_s b v_{t−1}/N² and (N − 1) v_t = (n_r − 1) + (n_s − 1) b v_{t−1} + "
              "(n_r n_s/N)(δ_{t−1} + 1/n_r + b v_{t−1}/n_s), a contraction: the limit (v_∞, δ_∞), and with it "
              "lim_t E W₂²(G_t, P_r) = WD(n_r, n_s, b), does not depend on the n_init real points of generation 0 "
              "(the paper's Eq. 3). With n_s = 0 every generation is one fit to n_r real points: WD = f(n_r), the "
              "exact real-only distance.",
    assumptions=("Gaussian real law; unbiased mean and covariance of the pooled sample",
                 "exact chains (pooled sufficient statistics drawn from their laws)",
                 "W₂²'s covariance part (E Σ^{1/2}) by Monte Carlo across chains"),
    tags=TAGS + ("fresh",),
)
def _fresh_limit(ctx):
    out = []
    # the paper's setting, d = 100: the recursion at t = 1, 5, 30 from n_init = 100 and 1000, b = 1 and 0.8
    T = 30
    reps = ctx.size(8, 64)
    last = {}
    for b in (1.0, 0.8):
        for n_init in (100, 1000):
            res = simulate_gaussian(PAPER_FRESH["n"], T, reps=reps, dim=PAPER_FRESH["dim"], lam=PAPER_FRESH["lam"],
                                    workflow="fresh", bias=b, n_init=n_init, rng=ctx.rng, workers=ctx.workers)
            mom = th.fresh_moments(PAPER_FRESH["n"], T, lam=PAPER_FRESH["lam"], bias=b, n_init=n_init)
            d = PAPER_FRESH["dim"]
            tag = f"d=100, n_r=100, n_s=900, b={b}, n_init={n_init}"
            for t in (1, 5, T):
                m, se = mean_se(res.trace[:, t] / d)
                out.append(Comparison(f"E tr Σ_t/tr Σ_0, {tag}, t={t}", float(mom.cov[t]), m, se=se))
                m, se = mean_se((res.mu[:, t] ** 2).sum(axis=-1) / d)
                out.append(Comparison(f"E‖μ_t − μ_0‖²/d, {tag}, t={t}", float(mom.mean_sq[t]), m, se=se))
            last[b, n_init] = res.trace[:, T] / d
        cov_inf, _ = th.fresh_limit(PAPER_FRESH["n"], lam=PAPER_FRESH["lam"], bias=b)
        (m1, s1), (m2, s2) = mean_se(last[b, 100]), mean_se(last[b, 1000])
        out.append(Comparison(f"E tr Σ_30/tr Σ_0, n_init = 1000 minus n_init = 100, b={b} (limit {cov_inf:.4f})",
                              0.0, m2 - m1, se=math.hypot(s1, s2)))
    # 1-D, small samples (n_r = 5, λ n_r = 8.5 → n_s = 8, b = 0.7, n_init = 3), exact chain and literal loop
    T = 6
    mom = th.fresh_moments(5, T, lam=1.7, bias=0.7, n_init=3)
    for method in ("exact", "samples"):
        res = simulate_gaussian(5, T, reps=ctx.size(20_000, 200_000), lam=1.7, workflow="fresh", bias=0.7, n_init=3,
                                method=method, mu0=1.0, sigma0=2.0, rng=ctx.rng, workers=ctx.workers)
        for t in (1, 2, T):
            m, se = mean_se(res.sigma[:, t] ** 2 / 4.0)
            out.append(Comparison(f"E σ_t²/σ_0², 1-D {method}, n_r=5, n_s=8, b=0.7, n_init=3, t={t}", float(mom.cov[t]),
                                  m, se=se))
            m, se = mean_se((res.mu[:, t] - 1.0) ** 2 / 4.0)
            out.append(Comparison(f"E (μ_t − μ_0)²/σ_0², 1-D {method}, n_r=5, n_s=8, b=0.7, n_init=3, t={t}",
                                  float(mom.mean_sq[t]), m, se=se))
    # d = 3, the correlated Σ_0: E Σ_t = v_t Σ_0 entry by entry, E‖μ_t − μ_0‖² = δ_t tr Σ_0 (n_r = 6, n_s = 7, b = 0.8)
    T = 5
    mom = th.fresh_moments(6, T, lam=1.2, bias=0.8, n_init=8)
    res = simulate_gaussian(6, T, reps=ctx.size(20_000, 200_000), dim=3, sigma0=SIGMA0, lam=1.2, workflow="fresh",
                            bias=0.8, n_init=8, return_cov=True, rng=ctx.rng, workers=ctx.workers)
    for t in (1, T):
        tag = f"d=3 correlated Σ_0, exact, n_r=6, n_s=7, b=0.8, n_init=8, t={t}"
        m, se = mean_se(res.cov[:, t, 0, 1])
        out.append(Comparison(f"E (Σ_t)₀₁, {tag}", float(mom.cov[t]) * SIGMA0[0, 1], m, se=se))
        m, se = mean_se(res.cov[:, t, 2, 2])
        out.append(Comparison(f"E (Σ_t)₂₂, {tag}", float(mom.cov[t]) * SIGMA0[2, 2], m, se=se))
        m, se = mean_se(((res.mu[:, t] - res.mu0) ** 2).sum(axis=-1))
        out.append(Comparison(f"E‖μ_t − μ_0‖², {tag}", float(mom.mean_sq[t]) * np.trace(SIGMA0), m, se=se))
    # W₂² itself (1-D): the limit is the same from n_init = 10 and 1000 (λ n not an integer: n_s = 25)
    reps = ctx.size(2_000, 20_000)
    wd = {}
    for n_init in (10, 1000):
        wd[n_init] = fresh_limit_distance(10, 2.55, 0.8, n_init=n_init, reps=reps, rng=ctx.rng, workers=ctx.workers)
    a, c = wd[10], wd[1000]
    out.append(Comparison("WD(10, 25, 0.8): n_init = 1000 minus n_init = 10 (1-D W₂², window after burn-in)", 0.0,
                          c.distance - a.distance, se=math.hypot(a.se, c.se),
                          note=f"WD ≈ {a.distance:.4f}; burn-in {a.burn} and {c.burn} generations"))
    # n_s = 0: each generation is a fit to n real points, WD = f(n) exactly, and n_e = n
    for n in (10, 100):
        r = fresh_limit_distance(n, 0.0, reps=ctx.size(2_000, 20_000), rng=ctx.rng, workers=ctx.workers)
        out.append(Comparison(f"WD(n_r={n}, n_s=0) = f(n_r), the real-only distance", float(th.real_fit_w2(n)),
                              r.distance, se=r.se))
        lo = float(th.w2_equivalent_sample_size(r.distance + 5 * r.se))
        hi = float(th.w2_equivalent_sample_size(max(r.distance - 5 * r.se, 1e-12)))
        out.append(Comparison(f"n_e(n_r={n}, n_s=0) = n_r (f⁻¹ of the measured WD, interval from WD ± 5 SE)", float(n),
                              float(th.w2_equivalent_sample_size(r.distance)), ci=(lo, hi)))
    return out


@register_claim(
    id="mad.admissibility",
    title="Admissibility of synthetic data: a threshold on n_s for b < 1, lower with more bias, not proportional to n_r",
    source=SRC,
    statement="In the fresh-data loop the effective sample size n_e(n_r, n_s, b) — the real sample size whose single fit "
              "is as far (E W₂²) from P_r as the loop's limit WD(n_r, n_s, b) — exceeds n_r (synthetic data help) "
              "only below a threshold n_s*(n_r, b) when b < 1; the threshold is lower for more bias and does not grow "
              "proportionally with n_r; with b = 1 synthetic data appear always admissible (the paper's §5 and phase "
              "diagrams, Gaussian case). Measured in 1-D on exact chains; f and f⁻¹ exact.",
    assumptions=("1-D Gaussian, P_r = N(0, 1), unbiased fits", "n_s scanned on a geometric grid from n_r/20 to 20 n_r",
                 "interval of n_s* from WD ± 2 SE (z = 2 per scan)"),
    tags=TAGS + ("fresh", "phase"),
)
def _admissibility(ctx):
    out = []
    reps = ctx.size(256, 2_048)
    thr = {}
    for n in (100, 1000):
        for b in (0.7, 0.85, 1.0):
            thr[n, b] = admissibility_threshold(n, b, reps=reps, rng=ctx.rng, workers=ctx.workers)
    for n in (100, 1000):
        top = 20 * n
        for b in (0.7, 0.85):
            t = thr[n, b]
            out.append(Comparison(f"n_s*(n_r={n}, b={b}) exists: the upper end of its interval is below 20 n_r", top,
                                  t.hi, tol=0.0, relation="<=", note=f"n_s* ≈ {t.threshold:.0f} [{t.lo:.0f}, {t.hi:.0f}]"))
        t7, t85 = thr[n, 0.7], thr[n, 0.85]
        out.append(Comparison(f"more bias, lower threshold: n_s*(0.85) − n_s*(0.7) (lower end of its interval), n_r={n}",
                              0.0, t85.lo - t7.hi, tol=0.0, relation=">=",
                              note=f"{t7.threshold:.0f} vs {t85.threshold:.0f}"))
        tab = thr[n, 1.0].table
        worst = int(np.argmax(tab["excess"] + 2 * tab["se"]))
        out.append(Comparison(f"b = 1: WD(n_r={n}, n_s) − f(n_r) ≤ 0 for every n_s ≤ 20 n_r (the largest, + 2 SE)", 0.0,
                              float(tab["excess"][worst] + 2 * tab["se"][worst]), tol=0.0, relation="<=",
                              note=f"at n_s = {int(tab['n_s'][worst])}"))
    for b in (0.7, 0.85):
        lo_ratio = thr[1000, b].hi / thr[100, b].lo
        out.append(Comparison(f"not proportional to n_r: n_s*(1000)/n_s*(100) < 10 (upper end of its interval), b={b}",
                              10.0, lo_ratio, tol=0.0, relation="<=",
                              note=f"ratio {thr[1000, b].threshold / thr[100, b].threshold:.2f}; the exponent "
                                   f"log₁₀ ratio ≈ {math.log10(thr[1000, b].threshold / thr[100, b].threshold):.2f}"))
    if ctx.full:  # the same laws in d = 10 (f_10 by Monte Carlo): about a minute
        thr10 = {(n, b): admissibility_threshold(n, b, dim=10, rng=ctx.rng, workers=ctx.workers)
                 for n in (100, 1000) for b in (0.7, 0.85)}
        for n in (100, 1000):
            t7, t85 = thr10[n, 0.7], thr10[n, 0.85]
            out.append(Comparison(f"d = 10: n_s*(n_r={n}, b=0.85) exists (upper end below 20 n_r)", 20 * n, t85.hi,
                                  tol=0.0, relation="<=", note=f"n_s* ≈ {t85.threshold:.0f}"))
            out.append(Comparison(f"d = 10: n_s*(0.85) − n_s*(0.7) (lower end of its interval), n_r={n}", 0.0,
                                  t85.lo - t7.hi, tol=0.0, relation=">=", note=f"{t7.threshold:.0f} vs {t85.threshold:.0f}"))
        out.append(Comparison("d = 10: n_s*(1000)/n_s*(100) < 10 (upper end of its interval), b=0.85", 10.0,
                              thr10[1000, 0.85].hi / thr10[100, 0.85].lo, tol=0.0, relation="<="))
    # the paper's fresh-data setting in 1-D (n_r = 100, n_s = 900): admissible at b = 1, not at b = 0.8
    for b, admissible in ((1.0, True), (0.8, False)):
        r = fresh_limit_distance(100, 9.0, b, reps=reps, rng=ctx.rng, workers=ctx.workers)
        n_e = float(th.w2_equivalent_sample_size(min(r.distance, float(th.real_fit_w2(2)))))
        lo = float(th.w2_equivalent_sample_size(min(r.distance + 2 * r.se, float(th.real_fit_w2(2)))))
        hi = float(th.w2_equivalent_sample_size(max(r.distance - 2 * r.se, 1e-12)))
        out.append(Comparison(f"n_e(100, 900, b={b}) {'≥' if admissible else '≤'} n_r = 100 "
                              f"({'lower' if admissible else 'upper'} end of its interval)", 100.0,
                              lo if admissible else hi, tol=0.0, relation=">=" if admissible else "<=",
                              note=f"n_e ≈ {n_e:.1f} [{lo:.1f}, {hi:.1f}]"))
    return out
