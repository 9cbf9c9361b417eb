"""Claims of the Gaussian collapse slice (Bertrand et al. 2024 §2.2; Shumailov et al. 2024 Thm 3.1).

Every check simulates with :func:`selfconsume.simulators.simulate_gaussian` and compares
with the exact values of :mod:`selfconsume.theory`. Skewed quantities (σ_t under collapse)
are compared through means of σ_t (finite variance σ_0²(1 − α^{2t})), log-moments,
medians and proportions, never raw means of σ_t² at large t.
"""

from __future__ import annotations

import math

import numpy as np

from selfconsume import theory as th
from selfconsume.simulators import simulate_gaussian

from .._registry import Comparison, register_claim
from .._stats import FAMILY_LEVEL, ks_critical, mean_se, proportion_se, variance_se

SRC_B = "Bertrand et al., ICLR 2024, §2.2 Gaussian warm-up (🔶; exact law 🧮, theory.md §2.2)"
SRC_S = "Shumailov et al., Nature 2024, Thm 3.1 (✅; exact 1-D form 🧮, theory.md §3.1)"


def _checkpoints(T: int, k: int = 8) -> np.ndarray:
    """Up to ``k`` distinct generations spread geometrically over 1..T."""
    return np.unique(np.round(np.geomspace(1, T, k)).astype(int))


def _t_max(n: int, keep: float = 0.1) -> int:
    """Largest t with α^{2t} ≥ keep: beyond it E σ_t is too skewed for a mean-based check."""
    return max(1, int(math.log(keep) / (2.0 * math.log(th.alpha(n)))))


@register_claim(
    id="gauss.alpha_law",
    title="E[σ_t] = α(n)^t σ_0 exactly (unbiased refit)",
    source=SRC_B,
    statement="Retraining N(μ,σ²) on n of its own samples with the unbiased variance gives "
              "E[σ_t] = α(n)^t σ_0, α(n) = sqrt(2/(n−1)) Γ(n/2)/Γ((n−1)/2) < 1 — an equality, "
              "not only the bound E[σ_t] ≤ α(n)^t σ_0.",
    assumptions=("generation 0 is N(μ_0, σ_0²)", "n ≥ 2 fresh samples per generation", "ddof = 1"),
    tags=("gaussian", "collapse"),
)
def _alpha_law(ctx):
    reps = ctx.size(40_000, 400_000)
    out = []
    for n in (3, 10, 100):
        T = _t_max(n)
        res = simulate_gaussian(n, T, reps=reps, mu0=1.0, sigma0=2.0, rng=ctx.rng, workers=ctx.workers)
        for t in _checkpoints(T, 6):
            m, se = mean_se(res.sigma[:, t])
            out.append(Comparison(f"E σ_t, n={n}, t={t}", th.expected_sigma(n, t, 2.0), m, se=se))
    # α(n) itself, through its public name: the one-step ratio on many cheap exact replicates
    # (minimal detectable effect ≈ 0.2–0.5%: a 1% error in the rate is caught), and its Γ-ratio
    # formula evaluated independently (lgamma), to rounding.
    reps1 = ctx.size(1_000_000, 8_000_000)
    for n in (3, 10, 100):
        res = simulate_gaussian(n, 1, reps=reps1, sigma0=1.0, rng=ctx.rng, workers=ctx.workers)
        m, se = mean_se(res.sigma[:, 1])
        out.append(Comparison(f"α(n) = E σ_1/σ_0, n={n}", th.alpha(n), m, se=se))
        direct = math.sqrt(2.0 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))
        out.append(Comparison(f"α(n) vs sqrt(2/(n−1))·Γ(n/2)/Γ((n−1)/2) by lgamma, n={n}", th.alpha(n), direct,
                              tol=1e-12 * direct))
    # the derived asymptotic series 1 − 1/(4n) − 7/(32n²) + O(n⁻³) (alpha_series): within 1/n³ of α(n)
    ser = th.alpha_series(3).removeO()
    for n in (200, 2000):
        val = float(ser.subs({x: n for x in ser.free_symbols}))
        out.append(Comparison(f"alpha_series(3) at n={n} = α(n) + O(n⁻³)", th.alpha(n), val, tol=1.0 / n**3))
    return out


@register_claim(
    id="gauss.second_moment",
    title="E[σ_t²] = σ_0² (martingale) while E[σ_t] decays",
    source=SRC_B,
    statement="With the unbiased estimator σ_t² is a martingale: E[σ_t²] = σ_0² for every t.",
    assumptions=("ddof = 1", "checked at small t, where σ_t² has a usable finite fourth moment"),
    tags=("gaussian", "collapse"),
)
def _second_moment(ctx):
    reps = ctx.size(100_000, 1_000_000)
    out = []
    for n in (5, 20):
        res = simulate_gaussian(n, 5, reps=reps, sigma0=1.5, rng=ctx.rng, workers=ctx.workers)
        for t in range(1, 6):
            m, se = mean_se(res.sigma[:, t] ** 2)
            out.append(Comparison(f"E σ_t², n={n}, t={t}", th.expected_sigma2(n, t, 1.5), m, se=se))
    return out


@register_claim(
    id="gauss.as_collapse",
    title="σ_t → 0 almost surely: collapsed fraction → 1, median follows the log drift",
    source=SRC_B,
    statement="log σ_t² is a random walk with drift ψ((n−1)/2) − log((n−1)/2) < 0, so σ_t → 0 a.s. "
              "The fraction of paths with σ_t < 10⁻³σ_0 equals the exact probability P(σ_t < 10⁻³σ_0) "
              "(Gil–Pelaez inversion of the characteristic function of Σ log χ²) and rises to 1; the "
              "median of log σ_t² is the exact median of that law.",
    assumptions=("ddof = 1", "n = 10"),
    tags=("gaussian", "collapse"),
)
def _as_collapse(ctx):
    n, T = 10, 2000
    reps = ctx.size(4_000, 40_000)
    res = simulate_gaussian(n, T, reps=reps, rng=ctx.rng, workers=ctx.workers)
    ls2 = 2.0 * res.log_sigma  # exact even where σ underflows
    out = []
    for t in (25, 100, 250, 500, 1000, 2000):
        p = th.prob_collapsed(n, t, 1e-3)
        k = int(np.sum(ls2[:, t] < 2.0 * math.log(1e-3)))
        phat, _ = proportion_se(k, reps)
        se = math.sqrt(max(p * (1 - p), 1.0 / reps**2) / reps)
        out.append(Comparison(f"P(σ_t < 1e-3 σ_0), t={t}", p, phat, se=se))
        med = th.median_log_sigma2(n, t)
        frac = float(np.mean(ls2[:, t] <= med))
        drift = th.expected_log_sigma2(n, t)
        out.append(Comparison(f"P(log σ_t² ≤ exact median {med:.3f}), t={t}", 0.5, frac, se=math.sqrt(0.25 / reps),
                              note=f"median {med:.3f} vs t·drift {drift:.3f}"))
    # the exact CDF of log(σ_t²/σ_0²) through its public name, at its quartiles' neighbourhood
    for t in (25, 100):
        for x in (th.expected_log_sigma2(n, t) - 2.0, th.expected_log_sigma2(n, t) + 1.0):
            F = float(th.log_sigma2_cdf(x, n, t))
            phat = float(np.mean(ls2[:, t] <= x))
            out.append(Comparison(f"P(log σ_t²/σ_0² ≤ {x:.3f}) = log_sigma2_cdf, t={t}", F, phat,
                                  se=math.sqrt(F * (1 - F) / reps)))
    # the collapse probability where it moves fastest (P ≈ 1/2 by t = 40 for ε = 0.1): there one
    # generation changes it by ~0.014, about 12 SE at 200,000 replicates, so an index slip is caught
    reps_f, eps = ctx.size(200_000, 2_000_000), 0.1
    res = simulate_gaussian(n, 40, reps=reps_f, rng=ctx.rng, workers=ctx.workers)
    for t in (20, 30, 40):
        p = th.prob_collapsed(n, t, eps)
        k = int(np.sum(2.0 * res.log_sigma[:, t] < 2.0 * math.log(eps)))
        phat, _ = proportion_se(k, reps_f)
        out.append(Comparison(f"P(σ_t < {eps:g} σ_0), t={t}", p, phat, se=math.sqrt(p * (1 - p) / reps_f),
                              note=f"one generation earlier: {th.prob_collapsed(n, t - 1, eps):.4f}"))
    return out


@register_claim(
    id="gauss.log_moments",
    title="E log σ_t² and Var log σ_t² (digamma drift, trigamma diffusion)",
    source=SRC_B,
    statement="E log σ_t² = log σ_0² + t[ψ((n−1)/2) − log((n−1)/2)], Var log σ_t² = t ψ'((n−1)/2).",
    assumptions=("ddof = 1",),
    tags=("gaussian", "collapse"),
)
def _log_moments(ctx):
    reps = ctx.size(50_000, 500_000)
    out = []
    for n in (3, 10):
        T = 100
        res = simulate_gaussian(n, T, reps=reps, sigma0=0.5, rng=ctx.rng, workers=ctx.workers)
        ls2 = 2.0 * res.log_sigma
        for t in (1, 10, 30, 100):
            m, se = mean_se(ls2[:, t])
            out.append(Comparison(f"E log σ_t², n={n}, t={t}", th.expected_log_sigma2(n, t, 0.5), m, se=se))
            v, vse = variance_se(ls2[:, t])
            out.append(Comparison(f"Var log σ_t², n={n}, t={t}", th.var_log_sigma2(n, t), v, se=vse))
    return out


@register_claim(
    id="gauss.mean_random_walk",
    title="The mean is a random walk: E(μ_t − μ_0)² = tσ_0²/n",
    source=SRC_B,
    statement="μ_{t+1} = μ_t + σ_t Z_t/√n with E σ_t² = σ_0², so E μ_t = μ_0 and E(μ_t − μ_0)² = tσ_0²/n.",
    assumptions=("ddof = 1",),
    tags=("gaussian", "collapse"),
)
def _mean_walk(ctx):
    reps = ctx.size(100_000, 1_000_000)
    n = 10
    res = simulate_gaussian(n, 50, reps=reps, mu0=3.0, sigma0=2.0, rng=ctx.rng, workers=ctx.workers)
    out = []
    for t in (1, 5, 10, 25, 50):
        d = res.mu[:, t] - 3.0
        m, se = mean_se(d)
        out.append(Comparison(f"E μ_t − μ_0, t={t}", 0.0, m, se=se))
        m2, se2 = mean_se(d**2)
        out.append(Comparison(f"E(μ_t − μ_0)², t={t}", th.expected_mean_sq_drift(n, t, 2.0), m2, se=se2))
    return out


@register_claim(
    id="gauss.mle_variant",
    title="MLE (1/n) variance: E σ_t² = ((n−1)/n)^t σ_0², mean error saturates",
    source="Bertrand et al. 2024 §2.2 variant / Kazdan et al. 2025 replace workflow (🧮, theory.md §2.2, §3.5)",
    statement="With divisor n: E σ_t² = ((n−1)/n)^t σ_0², E σ_t = (sqrt(2/n)Γ(n/2)/Γ((n−1)/2))^t σ_0, "
              "E(μ_t − μ_0)² = σ_0²(1 − ((n−1)/n)^t).",
    assumptions=("ddof = 0",),
    tags=("gaussian", "collapse"),
)
def _mle(ctx):
    reps = ctx.size(100_000, 1_000_000)
    n = 10
    res = simulate_gaussian(n, 40, reps=reps, sigma0=1.0, estimator="mle", rng=ctx.rng, workers=ctx.workers)
    out = []
    for t in (1, 5, 10, 20, 40):
        m, se = mean_se(res.sigma[:, t])
        out.append(Comparison(f"E σ_t, t={t}", th.expected_sigma(n, t, 1.0, estimator="mle"), m, se=se))
        if t <= 10:
            m, se = mean_se(res.sigma[:, t] ** 2)
            out.append(Comparison(f"E σ_t², t={t}", th.expected_sigma2(n, t, 1.0, estimator="mle"), m, se=se))
        m, se = mean_se(res.mu[:, t] ** 2)
        out.append(Comparison(f"E(μ_t − μ_0)², t={t}", th.expected_mean_sq_drift(n, t, 1.0, estimator="mle"), m, se=se))
    # the MLE factor α_mle(n) through its public name (one step, 10⁶ cheap exact replicates), and the
    # half-life: E σ at half_life(n) generations is σ_0/2 (both estimators; deterministic)
    res1 = simulate_gaussian(n, 1, reps=ctx.size(1_000_000, 8_000_000), sigma0=1.0, estimator="mle", rng=ctx.rng,
                             workers=ctx.workers)
    m, se = mean_se(res1.sigma[:, 1])
    out.append(Comparison(f"α_mle(n) = E σ_1/σ_0 (MLE), n={n}", th.alpha_mle(n), m, se=se))
    for est in ("unbiased", "mle"):
        h = th.half_life(n, est)
        out.append(Comparison(f"E σ at t = half_life(n) = {h:.4f} is σ_0/2, {est}, n={n}", 0.5,
                              float(th.expected_sigma(n, h, 1.0, estimator=est)), tol=1e-12))
    return out


@register_claim(
    id="gauss.det_factor",
    title="d-dimensional: E det Σ_t^{1/2} shrinks by 2^{d/2}Γ(n/2)/(Γ((n−d)/2)(n−1)^{d/2}) per step",
    source=SRC_B + "; matrix form",
    statement="Σ_{t+1} = Σ_t^{1/2} W Σ_t^{1/2}/(n−1), W ~ W_d(I, n−1): E det Σ_t^{1/2} = f(n,d)^t det Σ_0^{1/2}, "
              "E log det Σ_t = log det Σ_0 + t(Σ_i[ψ((n−i)/2) + log 2] − d log(n−1)), E tr Σ_t = tr Σ_0.",
    assumptions=("ddof = 1", "n > d", "Σ_0 = σ_0² I"),
    tags=("gaussian", "collapse", "multivariate"),
)
def _det_factor(ctx):
    reps = ctx.size(40_000, 400_000)
    out = []
    for n, d, T in ((8, 3, 10), (30, 10, 20)):
        res = simulate_gaussian(n, T, reps=reps, dim=d, sigma0=1.3, rng=ctx.rng, workers=ctx.workers)
        for t in _checkpoints(T, 4):
            m, se = mean_se(np.exp(0.5 * res.logdet[:, t]))
            out.append(Comparison(f"E det Σ_t^(1/2), n={n}, d={d}, t={t}", th.expected_det_sqrt(n, d, t, 1.3), m, se=se))
            m, se = mean_se(res.logdet[:, t])
            pred = 2 * d * math.log(1.3) + t * th.expected_logdet_drift(n, d)
            out.append(Comparison(f"E log det Σ_t, n={n}, d={d}, t={t}", pred, m, se=se))
        m, se = mean_se(res.trace[:, 1])
        out.append(Comparison(f"E tr Σ_1, n={n}, d={d}", d * 1.3**2, m, se=se))
        # the one-step factor through its public name
        m, se = mean_se(np.exp(0.5 * (res.logdet[:, 1] - res.logdet[:, 0])))
        out.append(Comparison(f"det_factor(n, d) = E det^(1/2) ratio, one step, n={n}, d={d}", th.det_factor(n, d), m,
                              se=se))
    return out


@register_claim(
    id="gauss.w2_growth",
    title="Shumailov's W2 divergence: E W2² = σ_0²[t/n + 2(1 − α(n)^t)]",
    source=SRC_S,
    statement="E W2²(N(μ_t,σ_t²), N(μ_0,σ_0²)) = σ_0²[t/n + 2(1 − α(n)^t)] → ∞ (unbiased); "
              "with the MLE variance it saturates: 2σ_0²(1 − α_mle(n)^t) → 2σ_0².",
    assumptions=("1-D", "generation-0 model = truth"),
    tags=("gaussian", "collapse"),
)
def _w2(ctx):
    # 500,000 replicates: a 1% error in E W2² is caught where W2² has light tails (MLE: t ≤ 10;
    # unbiased: t ≤ 10). With the unbiased variance W2² at t = 30, 60 is dominated by rare huge σ_t
    # (σ_t² is a martingale with a growing right tail): those rows stay, with their wide CIs.
    big, small = ctx.size(500_000, 3_000_000), ctx.size(50_000, 500_000)
    n, s0 = 10, 1.0
    out = []
    for est, T, reps, ts in (("unbiased", 10, big, (1, 5, 10)), ("unbiased", 60, small, (30, 60)),
                             ("mle", 10, big, (1, 10)), ("mle", 60, small, (30, 60))):
        res = simulate_gaussian(n, T, reps=reps, sigma0=s0, estimator=est, rng=ctx.rng, workers=ctx.workers)
        w2 = (res.mu - 0.0) ** 2 + (res.sigma - s0) ** 2
        for t in ts:
            m, se = mean_se(w2[:, t])
            out.append(Comparison(f"E W2², {est}, t={t}", th.expected_w2_sq(n, t, s0, estimator=est), m, se=se))
    # the W2 the rows above measure, through the public closed form: 1-D, and 2-D with commuting
    # covariances (‖m₁ − m₂‖² + Σ(√a_i − √b_i)²) and with non-commuting ones against the Bures formula
    # evaluated by eigen-decomposition
    for (m1, c1), (m2, c2) in ((([0.7], [[2.25]]), ([0.0], [[1.0]])),
                               (([1.0, -2.0], [[4.0, 0.0], [0.0, 0.25]]), ([0.5, 0.0], [[1.0, 0.0], [0.0, 9.0]]))):
        direct = float(np.sum((np.array(m1) - m2) ** 2) + np.sum((np.sqrt(np.diag(c1)) - np.sqrt(np.diag(c2))) ** 2))
        out.append(Comparison(f"w2_gaussians = ‖Δm‖² + Σ(√a − √b)², d={len(m1)}", direct,
                              th.w2_gaussians(m1, c1, m2, c2), tol=1e-12 * max(direct, 1.0)))
    A, B = np.array([[2.0, 0.6], [0.6, 1.0]]), np.array([[1.0, -0.3], [-0.3, 0.5]])
    w, V = np.linalg.eigh(A)
    rA = (V * np.sqrt(w)) @ V.T
    w2m, V2 = np.linalg.eigh(rA @ B @ rA)
    bures = float(np.trace(A) + np.trace(B) - 2 * np.sum(np.sqrt(w2m)))
    out.append(Comparison("w2_gaussians = tr A + tr B − 2 tr (A^½BA^½)^½ (non-commuting, same means)", bures,
                          th.w2_gaussians([0.0, 0.0], A, [0.0, 0.0], B), tol=1e-12))
    return out


@register_claim(
    id="gauss.collapse_rates",
    title="Rates fitted from trajectories (estimate_rate) agree with the theory rates",
    source=SRC_B + "; Kazdan et al. 2025 replace workflow (🧮, theory.md §2.2, §3.5)",
    statement="From simulated paths, estimate_rate recovers the per-generation rate of E σ_t (α(n), "
              "'mean' with its replicate jackknife), the almost-sure rate of σ_t² "
              "(exp(ψ((n−1)/2) − log((n−1)/2)), 'log': per-path slopes) and, with the MLE, the rate "
              "(n−1)/n of E σ_t² ('ratio'); compared on the log scale.",
    assumptions=("the unbiased or MLE Gaussian refit", "'mean'/'ratio' over a window where the mean is "
                 "carried by many paths (effective sample size ≥ 100)"),
    tags=("gaussian", "collapse", "rates"),
)
def _collapse_rates(ctx):
    from .._rates import estimate_rate

    # mde at the quick budget: 6–8 % of the log rate for 'log', 18–24 % for 'mean' and 'ratio' (one slip of n
    # in α(n) or in the digamma drift at n = 5 moves them by about 20 %)
    reps = ctx.size(10_000, 100_000)
    out = []
    for n, T in ((5, 12), (20, 40)):
        res = simulate_gaussian(n, T, reps=reps, rng=ctx.rng, workers=ctx.workers)
        frame = res.to_frame()
        frame["sigma2"] = frame["sigma"] ** 2
        row = estimate_rate(frame, "sigma", method="mean", min_ess=100.0).iloc[0]
        out.append(Comparison(f"log rate of E σ_t ('mean'), n={n}, t ≤ {T}", math.log(th.alpha(n)),
                              float(row.log_rate), se=float(row.log_rate_se),
                              note=f"rate {row.rate:.5f}, ess_min {row.ess_min:.0f}"))
        drift = float(th.expected_log_sigma2(n, 1) - th.expected_log_sigma2(n, 0))
        row = estimate_rate(frame, "sigma2", method="log", fit="ends").iloc[0]
        out.append(Comparison(f"almost-sure log rate of σ_t² ('log'), n={n}, t ≤ {T}", drift,
                              float(row.log_rate), se=float(row.log_rate_se)))
        mle = simulate_gaussian(n, T, reps=reps, estimator="mle", rng=ctx.rng, workers=ctx.workers).to_frame()
        mle["sigma2"] = mle["sigma"] ** 2
        row = estimate_rate(mle, "sigma2", method="ratio", min_ess=100.0).iloc[0]
        rate = float(th.expected_sigma2(n, 1, 1.0, estimator="mle") / th.expected_sigma2(n, 0, 1.0, estimator="mle"))
        out.append(Comparison(f"log rate of E σ_t², MLE ('ratio'), n={n}, t ≤ {T}", math.log(rate),
                              float(row.log_rate), se=float(row.log_rate_se)))
    return out


@register_claim(
    id="gauss.exact_equals_samples",
    title="The exact (sufficient-statistic) chain has the law of the literal sample loop",
    source="selfconsume (method='exact' vs method='samples'); Cochran/Bartlett sampling theorems",
    statement="Drawing x̄ ~ N(μ, Σ/n) and the scatter matrix ~ W_d(Σ, n−1) (χ² for d = 1) gives the same "
              "law of (μ_T, Σ_T) as drawing n points and refitting: two-sample KS distances are 0 "
              "within their critical values.",
    assumptions=("independent seeds for the two methods",),
    tags=("gaussian", "exactness"),
)
def _exact_vs_samples(ctx):
    reps = ctx.size(20_000, 200_000)
    cases = [
        dict(n=10, generations=20, dim=1, estimator="unbiased"),
        dict(n=5, generations=20, dim=1, estimator="mle"),
        dict(n=6, generations=10, dim=3, estimator="unbiased"),
        dict(n=12, generations=10, dim=4, estimator="mle"),
    ]
    stats = []
    moments = []  # two-sample mean comparisons: far more power than KS against a scale or step error
    for case in cases:
        a = simulate_gaussian(reps=reps, method="exact", rng=ctx.rng, workers=ctx.workers, **case)
        b = simulate_gaussian(reps=reps, method="samples", rng=ctx.rng, workers=ctx.workers, **case)
        tag = f"n={case['n']}, d={case['dim']}, {case['estimator']}, T={case['generations']}"
        sq = (lambda r: (r.mu[:, -1] ** 2) if r.mu.ndim == 2 else (r.mu[:, -1] ** 2).sum(axis=1))
        spread = (lambda r: r.log_sigma[:, -1]) if case["dim"] == 1 else (lambda r: r.logdet[:, -1])
        for what, f in (("E‖μ_T − μ_0‖²", sq), ("E log σ_T" if case["dim"] == 1 else "E log det Σ_T", spread)):
            xa, xb = f(a), f(b)
            ma, sa = mean_se(xa)
            mb, sb = mean_se(xb)
            moments.append(Comparison(f"{what}: exact − samples, {tag}", 0.0, float(ma - mb),
                                      se=float(math.hypot(sa, sb)), note=f"exact {ma:.5g}, samples {mb:.5g}"))
        if case["dim"] == 1:
            stats.append((f"KS log σ_T, {tag}", a.log_sigma[:, -1], b.log_sigma[:, -1]))
            stats.append((f"KS μ_T, {tag}", a.mu[:, -1], b.mu[:, -1]))
        else:
            stats.append((f"KS log det Σ_T, {tag}", a.logdet[:, -1], b.logdet[:, -1]))
            stats.append((f"KS tr Σ_T, {tag}", a.trace[:, -1], b.trace[:, -1]))
            stats.append((f"KS μ_T[0], {tag}", a.mu[:, -1, 0], b.mu[:, -1, 0]))
    from scipy.stats import ks_2samp

    out = []
    level = FAMILY_LEVEL / len(stats)
    for name, x, y in stats:
        D = float(ks_2samp(x, y).statistic)
        crit = ks_critical(x.size, y.size, level)
        out.append(Comparison(name, 0.0, D, ci=(D - crit, D + crit), note=f"critical D = {crit:.4f} at level {level:.1e}"))
    return out + moments
