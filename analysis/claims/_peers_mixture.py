"""Peers' claims (see :mod:`selfconsume.analysis.claims.peers`): the mixture refit of Suresh et al. and
Kazdan et al.'s discrete and regression experiments.

* Suresh, Thangaraj, Khandavally, *Rate of model collapse in recursive training* (AISTATS 2025,
  arXiv 2412.17646; code ``berserank/rate-of-model-collapse``, ``simulations.ipynb``, section
  "Gaussian Mixture Model Bounds"): the symmetric mixture ½N(μ, σ²) + ½N(−μ, σ²) refit by the joint
  MLE or by their approximate joint MLE (Algorithm 1), against their Theorem 4 and the exact
  one-step moments of :mod:`selfconsume.theory` (``shared/theory.md`` §3.1).
* Kazdan et al., *Collapse or Thrive?* (ICML 2025, arXiv 2410.16713; code
  ``RylanSchaeffer/KoyejoLab-Collapse-or-Thrive``, ``src/fit_discrete_distributions`` and
  ``src/fit_linear_regressions`` with their sweeps): a categorical law refit by frequencies, and
  linear regression, under replace, accumulate and accumulate-subsample (§3.5).

Index crosswalk: Suresh et al.'s generation k is the mixture chain's column k (column 0 is the
true law); Kazdan et al.'s iteration k is the discrete chain's model t = k − 1 and the regression's
round k.
"""

from __future__ import annotations

import math

import numpy as np

from selfconsume import theory as th
from selfconsume.simulators import simulate_discrete, simulate_mixture_refit, simulate_regression

from .._registry import Comparison, register_claim
from .._stats import mean_se, proportion_se

SRC_S = ("Suresh, Thangaraj, Khandavally, Rate of model collapse in recursive training, AISTATS 2025 "
         "(arXiv 2412.17646), Thm 4 and Algorithm 1 (App. E) as released in berserank/rate-of-model-collapse "
         "(🔶; exact moments 🧮, theory.md §3.1)")
SRC_K = ("Kazdan et al., Collapse or Thrive?, ICML 2025 (arXiv 2410.16713); released code "
         "src/fit_discrete_distributions, src/fit_linear_regressions (🧮, theory.md §3.5)")

#: The paper's figure: n = 10, μ0 = σ0 = 1, ε = 0.1, 200 generations.
FIG_N, FIG_EPS, FIG_T = 10, 0.1, 200


@register_claim(
    id="peers.mixture_refit",
    title="Symmetric two-Gaussian mixture refit: Theorem 4's collapse bound holds, with exact one-step moments",
    source=SRC_S,
    statement="Refitting ½N(μ, σ²) + ½N(−μ, σ²) to n of its own points: Pr(σ_k > ε) ≤ (σ0/ε)·e^{−k/(4n)} "
              "(Theorem 4, approximate joint MLE; the paper's figure also plots the joint MLE under it). Exactly: "
              "both estimators return μ'² + σ'² = m2 = mean y², so E[μ_k² + σ_k²] = μ0² + σ0² at every k; "
              "Algorithm 1 sets σ'² = (1+κ)s² (s² the 1/n variance of |y|) outside a fallback that only lowers "
              "it, so E σ'² = (1+κ)(1−1/n)·Var|μ+σZ| from states where the fallback is negligible, and "
              "E σ_k ≤ σ0·((1+κ)(1−1/n))^{k/2} ≤ σ0·e^{−k/(4n)} (n ≥ 3), which implies Theorem 4 by Markov.",
    assumptions=("Algorithm 1 with η = 2 as released (κ = e^c − 1; a = 50 in its fallback branch)",
                 "joint MLE: the stationary point of largest likelihood (the released notebook takes the root "
                 "fsolve reaches from μ0, often θ = 0)",
                 "figure setting n = 10, μ0 = σ0 = 1, ε = 0.1; the exact checks at other (μ0, σ0, n)"),
    tags=("peers", "mixture", "bound"),
)
def _mixture_refit(ctx):
    out = []
    ks = np.array([93, 100, 150, 200])  # 93: the first k where the bound is below 1 (σ0/ε = 10, e^{−k/40})
    ks_mean = np.array([5, 20, 50])
    for est, reps in (("approx_mle", ctx.size(4_000, 40_000)), ("mle", ctx.size(1_000, 10_000))):
        res = simulate_mixture_refit(FIG_N, FIG_T, mu0=1.0, sigma0=1.0, estimator=est, reps=reps, rng=ctx.rng,
                                     workers=ctx.workers)
        bound = th.bound_mixture_collapse(ks, FIG_N, 1.0, FIG_EPS)
        what = "Thm 4" if est == "approx_mle" else "Thm 4 as plotted for the joint MLE"
        for k, b in zip(ks, bound):
            hits = int(np.count_nonzero(res.sigma[:, k] > FIG_EPS))
            p, se = proportion_se(hits, reps)
            out.append(Comparison(f"Pr(σ_k > {FIG_EPS}) ≤ (σ0/ε)e^(−k/4n), {est}, n={FIG_N}, k={k} ({what})",
                                  float(b), float(p), se=float(se), relation="<=",
                                  note=f"margin bound − measured = {b - p:.4f}; Markov on the derived bound: "
                                       f"{min(1.0, th.bound_mixture_sigma(int(k), FIG_N) / FIG_EPS):.4f}"))
        if est == "approx_mle":
            rho_k = th.bound_mixture_sigma(ks_mean, FIG_N, 1.0)
            for k, b in zip(ks_mean, rho_k):
                m, se = mean_se(res.sigma[:, k])
                out.append(Comparison(f"E σ_k ≤ σ0((1+κ)(1−1/n))^(k/2), approx_mle, n={FIG_N}, k={k}", float(b), m,
                                      se=se, relation="<=",
                                      note=f"paper's rate σ0 e^(−k/4n) = {math.exp(-k / (4 * FIG_N)):.4f}; "
                                           f"fallback refits: {res.fallback.sum() / (reps * FIG_T):.1%}"))
    # the derived rate is at least Theorem 4's for n ≥ 3 (so the derived bound implies it), not at n = 2
    for n in (3, 10, 1000):
        out.append(Comparison(f"ρ = ((1+κ)(1−1/n))^(1/2) ≤ e^(−1/(4n)), n={n}", math.exp(-1.0 / (4 * n)),
                              float(th.bound_mixture_sigma(1, n)), tol=0.0, relation="<="))
    # exact: the fitted second moment is a martingale (both estimators); n = 7, (μ0, σ0) ≠ (1, 1)
    mu0, s0, n = 1.3, 0.7, 7
    m2_0, _ = th.expected_mixture_step(mu0, s0, n)
    for est, reps in (("approx_mle", ctx.size(20_000, 200_000)), ("mle", ctx.size(6_000, 60_000))):
        res = simulate_mixture_refit(n, 10, mu0=mu0, sigma0=s0, estimator=est, reps=reps, rng=ctx.rng,
                                     workers=ctx.workers)
        for k in (1, 3, 10):
            m, se = mean_se(res.mu[:, k] ** 2 + res.sigma[:, k] ** 2)
            out.append(Comparison(f"E[μ_k² + σ_k²] = μ0² + σ0², {est}, n={n}, μ0={mu0}, σ0={s0}, k={k}", m2_0, m,
                                  se=se))
    # exact: one step of Algorithm 1 from states where its fallback (s² ≤ κ m1²) has negligible probability
    for mu0, s0, n in ((0.6, 1.2, 10), (0.0, 1.0, 13)):
        res = simulate_mixture_refit(n, 1, mu0=mu0, sigma0=s0, reps=ctx.size(40_000, 400_000), rng=ctx.rng,
                                     workers=ctx.workers)
        _, v1 = th.expected_mixture_step(mu0, s0, n)
        m, se = mean_se(res.sigma[:, 1] ** 2)
        out.append(Comparison(f"E σ_1² = (1+κ)(1−1/n)Var|μ+σZ|, approx_mle, n={n}, μ0={mu0}, σ0={s0}", v1, m, se=se,
                              note=f"κ = {th.approx_mle_kappa(n):.5f}; fallback refits in the run: "
                                   f"{int(res.fallback.sum())}"))
    # the sympy derivation against its numeric twin
    m2_expr, v_expr = th.mixture_step_expr()
    syms = {s.name: s for s in (m2_expr.free_symbols | v_expr.free_symbols)}
    for mu0, s0, n in ((0.6, 1.2, 10), (2.5, 0.4, 7), (0.0, 1.0, 13)):
        sub = {syms["mu"]: mu0, syms["sigma"]: s0, syms["n"]: n, syms["kappa"]: th.approx_mle_kappa(n)}
        twin = th.expected_mixture_step(mu0, s0, n)
        out.append(Comparison(f"mixture_step_expr (sympy) = expected_mixture_step, σ'² term, μ={mu0}, σ={s0}, n={n}",
                              twin[1], float(v_expr.subs(sub).evalf(30)), tol=1e-12 * twin[1]))
        out.append(Comparison(f"mixture_step_expr (sympy) = expected_mixture_step, m2 term, μ={mu0}, σ={s0}, n={n}",
                              twin[0], float(m2_expr.subs(sub).evalf(30)), tol=1e-12 * twin[0]))
    return out


#: Kazdan et al.'s default cell (uniform over K = 10, n = 10) and an asymmetric law with n not dividing 1.
DISCRETE_CELLS = ((np.full(10, 0.1), 10, "uniform K=10"), (np.array([0.5, 0.3, 0.15, 0.05]), 13, "p0=(.5,.3,.15,.05)"))
DISCRETE_WORKFLOWS = ("replace", "accumulate", "accumulate-subsample")


@register_claim(
    id="peers.cot_discrete",
    title="Discrete law refit by frequencies: exact diversity, entropy and lost categories under replace, "
          "accumulate, accumulate-subsample",
    source=SRC_K,
    statement="Model 0 = empirical law of n real draws from p0; n points drawn per generation; refit on the newest "
              "n (replace), on all (accumulate) or on a subsample of n of the pool without replacement "
              "(accumulate-subsample). E q_t = p0; E[1 − Σq_t²] = (1 − Σp0²)(1 − 1/n)Π_{j≤t} f(jn) with f = 1 − 1/n, "
              "1 − n/(N+n)² (accumulate: Π_{j≤t+1}(1 − 1/(nj²)) → sin(π/√n)/(π/√n)) and a rational f for the "
              "subsample; E entropy and E #zero categories exactly from the one-category count chain.",
    assumptions=("empirical-frequency (MLE) refit", "their iteration k = model t + 1",
                 "their loop stops once the entropy is below 1e-8; here every run goes on (a point mass is absorbing "
                 "under replace and accumulate, not under accumulate-subsample)"),
    tags=("peers", "discrete", "accumulate"),
)
def _cot_discrete(ctx):
    out = []
    T = 40
    ts = np.array([0, 5, T])
    for p0, n, tag in DISCRETE_CELLS:
        for wf in DISCRETE_WORKFLOWS:
            res = simulate_discrete(p0, n, T, workflow=wf, reps=ctx.size(10_000, 100_000), rng=ctx.rng,
                                    workers=ctx.workers)
            gini = th.expected_discrete_gini(p0, n, T, wf)
            ent = th.expected_discrete_entropy(p0, n, T, wf)
            zer = th.expected_discrete_zeros(p0, n, T, wf)
            for t in ts:
                m, se = mean_se(res.gini[:, t])
                out.append(Comparison(f"E[1 − Σq_t²], {wf}, {tag}, n={n}, t={t}", float(gini[t]), m, se=se))
            for t in ts[1:]:
                m, se = mean_se(res.entropy[:, t])
                out.append(Comparison(f"E entropy_t, {wf}, {tag}, n={n}, t={t}", float(ent[t]), m, se=se))
                m, se = mean_se(res.zeros[:, t].astype(float))
                out.append(Comparison(f"E #(q_t = 0), {wf}, {tag}, n={n}, t={t}", float(zer[t]), m, se=se))
            if p0[0] != p0[1]:  # per category: the mean is a martingale, q(1 − q) shrinks by the same factor
                F = gini[T] / (1.0 - float(np.sum(p0 * p0)))
                for i in (0, 3):
                    q = res.probs[:, i]
                    m, se = mean_se(q)
                    out.append(Comparison(f"E q_T({i}) = p0({i}), {wf}, {tag}, T={T}", float(p0[i]), m, se=se))
                    m, se = mean_se(q * (1.0 - q))
                    out.append(Comparison(f"E q_T({i})(1 − q_T({i})) = p0(1 − p0)·F_T, {wf}, {tag}, T={T}",
                                          float(p0[i] * (1.0 - p0[i]) * F), m, se=se))
    # the literal loop (labels, uniform picks, Fisher–Yates) has the law of the counts-level chain
    p0, n, tag = DISCRETE_CELLS[1]
    for wf in ("replace", "accumulate-subsample"):
        reps = ctx.size(5_000, 50_000)
        a = simulate_discrete(p0, n, 20, workflow=wf, reps=reps, rng=ctx.rng, workers=ctx.workers)
        b = simulate_discrete(p0, n, 20, workflow=wf, reps=reps, method="samples", rng=ctx.rng, workers=ctx.workers)
        for name, f in (("entropy", lambda r: r.entropy[:, -1]), ("#zeros", lambda r: r.zeros[:, -1].astype(float))):
            (ma, sa), (mb, sb) = mean_se(f(a)), mean_se(f(b))
            out.append(Comparison(f"E {name}_20: exact − samples, {wf}, {tag}", 0.0, float(ma - mb),
                                  se=float(math.hypot(sa, sb)), note=f"exact {ma:.5f}, samples {mb:.5f}"))
    # accumulate's diversity factor converges to the Gaussian accumulate product's limit
    for n in (10, 13):
        F = th.expected_discrete_gini(np.array([0.5, 0.5]), n, 10**4, "accumulate")[-1] / 0.5
        out.append(Comparison(f"accumulate: F_t → sin(π/√n)/(π/√n) (t = 10⁴), n={n}", th.accumulate_cov_limit(n),
                              float(F), tol=2.0 / (n * 10**4)))
    # the sympy factors at a point, against the one-step values they must take
    for wf, val in (("replace", 1 - 1 / 13), ("accumulate", 1 - 13 / 39**2),
                    ("accumulate-subsample", (39**2 - 13 - 12 * 13 / 25) / 39**2 * (39 * 12 / (13 * 38))
                     / (26 * 12 / (13 * 25)))):
        e = th.discrete_gini_factor_expr(wf)
        syms = {s.name: s for s in e.free_symbols}
        got = float(e.subs({syms[k]: v for k, v in (("N", 26), ("n", 13)) if k in syms}))
        out.append(Comparison(f"discrete_gini_factor_expr({wf!r}) at N=26, n=13", val, got, tol=1e-13))
    return out


#: Kazdan et al.'s linear-regression cell: d = 10, n = 32 points per iteration (reused design), σ² = 1.
REG_T, REG_D = 32, 10


@register_claim(
    id="peers.cot_regression",
    title="Linear regression under replace, accumulate and accumulate-subsample (Kazdan et al.'s protocol)",
    source=SRC_K,
    statement="Design X (n × d, Gaussian rows) reused every iteration, labels from the previous fit plus fresh "
              "noise: E risk_k = k·c (replace) and c·Σ_{i≤k} 1/i² (accumulate), c = σ²d/(n − d − 1); accumulate-"
              "subsample (a uniform subsample of n of the kn pooled (row, label) pairs, minimum-norm least squares) "
              "equals them at k = 1 and has no closed form after; the paper finds it between the two: it "
              "degrades, but far more slowly than replace.",
    assumptions=("d = 10, n = 32, σ² = 1, 100 iterations (a cell of their sweep; n ≤ d + 1 has infinite "
                 "expected risk)", "w* ~ N(0, I_d) per run, as released",
                 "risk = ‖ŵ − w*‖², the expectation of their 1,000-point test MSE given the fit"),
    tags=("peers", "regression", "accumulate"),
)
def _cot_regression(ctx):
    out = []
    N = 100
    c = REG_D / (REG_T - REG_D - 1)
    checks = np.array([1, 10, N])
    exact = {}
    for wf in ("replace", "accumulate"):
        res = simulate_regression(REG_T, REG_D, N, workflow=wf, reps=ctx.size(10_000, 100_000), rng=ctx.rng,
                                  workers=ctx.workers)
        pred = th.expected_regression_risk(checks, REG_T, REG_D, 1.0, wf)
        exact[wf] = pred
        for k, p in zip(checks, pred):
            m, se = mean_se(res.risk[:, k - 1])
            out.append(Comparison(f"E risk_k, {wf}, d={REG_D}, n={REG_T}, k={k}", float(p), m, se=se))
    sub = simulate_regression(REG_T, REG_D, N, workflow="accumulate-subsample", method="samples",
                              reps=ctx.size(1_000, 10_000), rng=ctx.rng, workers=ctx.workers)
    m, se = mean_se(sub.risk[:, 0])
    out.append(Comparison(f"E risk_1, accumulate-subsample (= c: the first fit uses every real label), d={REG_D}, "
                          f"n={REG_T}", float(exact["accumulate"][0]), m, se=se, note=f"c = {c:.5f}"))
    for i, k in enumerate(checks[1:], start=1):
        m, se = mean_se(sub.risk[:, k - 1])
        out.append(Comparison(f"E risk_k, accumulate-subsample ≥ accumulate (their finding), k={k}",
                              float(exact["accumulate"][i]), m, se=se, relation=">=",
                              note=f"subsample/accumulate = {m / exact['accumulate'][i]:.2f}"))
        out.append(Comparison(f"E risk_k, accumulate-subsample ≤ replace (their finding), k={k}",
                              float(exact["replace"][i]), m, se=se, relation="<=",
                              note=f"subsample/replace = {m / exact['replace'][i]:.3f}"))
    return out
