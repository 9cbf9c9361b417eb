"""Rate of model collapse: Suresh et al.'s four settings with the exact survival curves their figures lack.

Each panel redraws a figure of Suresh, Thangaraj and Khandavally (AISTATS 2025; public notebook
berserank/rate-of-model-collapse) with its protocol: the model refitted by maximum likelihood to n
samples of the previous fit, generation k the k-th refit (generation 1 is the first sample).
Solid lines: exact values; open markers: Monte Carlo ± 2 SE (quick budget: 20 000 runs per
curve, 1 000 in (d); full: ten times as many); dashed: the paper's lower bounds, dash-dotted:
its upper bounds. (a) Gaussian refitted with the unbiased variance (their ddof = 1), σ_0 = 1,
ε = 0.1, n = 10 (their setting) and 20: P(σ_k > ε) by Gil–Pelaez inversion of the exact law of
log σ_k², against the paper's bound (σ_0/ε)e^{−k/(4n)} as the paper states it (the notebook's
markdown has e^{−k/(4n−1)}, and the curve it plots is the Markov bound
(σ_0/ε)^{0.7}(E[(χ²_{n−1}/(n−1))^{0.35}])^k, about half as large here); the bound is
non-trivial only past k = 4n ln(σ_0/ε), where it lies 8–26 times above the exact probability.
(b) Bernoulli from P_0 = p_0 = 0.01: P(P_k ≠ 0) for n = 100, 300, 1000 (np_0 = 1, 3, 10), the
exact Wright–Fisher chain, Theorem 1's bracket [1 − e^{−np_0 g_k},
1 − max(1 − 3np_0² − 3kp_0, 0)e^{−np_0 g_k}] (the upper one drawn while below 1, up to
k = (1 − 3np_0²)/(3p_0), 23–32 here) and its headline 1 − e^{−np_0/k} (dotted); the lower
bound is nearly exact until the exact curves bend toward their limit p_0, the fixation
probability. (c) Poisson from Λ_0 = λ_0, n = 10: P(Λ_k ≠ 0) = 1 − exp(−nλ_0 g_k) exactly (a
critical Galton–Watson process), between Theorem 2's 1 − e^{−nλ_0/k} and 1 − e^{−3nλ_0/k};
λ_0 = 0.1, 1, 10 (their 1 and 10). (d) A Zipf–Mandelbrot corpus, p_i ∝ (i + b)^{−a},
m = n = 1000, drawn once and resampled n at a time (their protocol): the expected surviving
fraction of the symbols it contains, exact as the mean of their Wright–Fisher survivals, inside
Corollary 1's bracket (the lower bound nearly exact; the upper one loosens and turns up past
k ≈ 20). (a) has a linear generation axis (exponential decay); (b)–(d) logarithmic ones
(survival falls like 1/k).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import roc_panels_table

from ._registry import (PAGE_WIDTH, bound_line, categorical, panel_letters, register_figure, sequential,
                        sim_handle, sim_points, theory_line, value_legend)

#: line styles of the bounds: lower (dashed), upper (dash-dot), the headline 1 − e^{−np₀/k} (dotted)
LOWER, UPPER, HEADLINE = (0, (4, 2)), (0, (5, 1.5, 1, 1.5)), (0, (1, 1.2))
#: the lowest probability drawn on the log axes
FLOOR = {"gaussian": 1e-4, "bernoulli": 7e-3, "poisson": 2e-3, "vocabulary": 3e-2}


def _marks(t, k, log, offset=0.0):
    """About ``k`` generations of ``t`` (>= 1) for the markers: even on a log or linear scale,
    shifted by ``offset`` of one step (so that the series' markers do not sit on one another)."""
    t = np.asarray(t)
    lo, hi = max(int(t.min()), 1), int(t.max())
    if log:
        step = (np.log(hi) - np.log(lo)) / (k - 1)
        x = np.exp(np.log(lo) + step * (np.arange(k) + offset))
    else:
        step = (hi - lo) / (k - 1)
        x = lo + step * (np.arange(k) + offset)
    return np.unique(np.clip(np.round(x).astype(int), lo, hi))


def _panel(ax, d, key, colors, *, log_x, k_marks=11):
    d = d.sort_values([key, "generation"]) if key else d
    groups = list(colors)
    for j, val in enumerate(groups):
        g = d[d[key] == val].set_index("generation")
        c = colors[val]
        t = g.index.to_numpy()
        pos = t >= (1 if log_x else 0)
        theory_line(ax, t[pos], g["exact"].to_numpy()[pos], color=c)
        for col, ls in (("bound_lo", LOWER), ("bound_hi", UPPER), ("bound_simple", HEADLINE)):
            y = g[col].to_numpy()
            keep = pos & np.isfinite(y) & (y < 1.0 if col == "bound_hi" else True) & (t >= 1)
            if keep.any():
                bound_line(ax, t[keep], y[keep], color=c, ls=ls, lw=0.9)
        sel = _marks(t, k_marks, log_x, offset=j / len(groups) * 0.8)
        m, se = g.loc[sel, "sim"].to_numpy(), g.loc[sel, "sim_se"].to_numpy()
        ok = m > 0  # a frequency of 0 has no place on a log axis
        sim_points(ax, sel[ok], m[ok], (m - 2 * se)[ok], (m + 2 * se)[ok], color=c, floor=FLOOR[d["panel"].iloc[0]])
    ax.set_yscale("log")
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel("generation $k$")


def _header(ax, title, colors, fmt):
    """The panel's title and colour key, above the axes (off the data)."""
    leg = ax.legend(*value_legend(colors, fmt), title=title, loc="lower left", bbox_to_anchor=(0.0, 1.0),
                    ncol=len(colors), alignment="left", handlelength=1.4, columnspacing=0.8, borderaxespad=0.2)
    leg.get_title().set_fontsize(8)


@register_figure(slug="roc_panels", caption=__doc__.split("\n\n")[1], table=roc_panels_table,
                 claims=("peers.symbol_survival", "peers.poisson_extinction", "peers.vocabulary_survival",
                         "gauss.as_collapse"))
def plot(df):
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(2, 2, figsize=(PAGE_WIDTH, 4.6))
    (ax, bx), (cx, dx) = axes

    g = df[df["panel"] == "gaussian"]
    ns = sorted(g["n"].unique())
    col = dict(zip(ns, sequential(len(ns), lo=0.15, hi=0.7)))
    _panel(ax, g, "n", col, log_x=False, k_marks=12)
    eps = float(g["eps"].iloc[0])
    ax.set_ylim(FLOOR["gaussian"], 1.6)
    ax.set_xlim(0, g["generation"].max() * 1.02)
    ax.set_ylabel(r"$P(\sigma_k > \varepsilon)$")
    _header(ax, rf"Gaussian, unbiased refit, $\sigma_0 = 1$, $\varepsilon = {eps:g}$", col, lambda v: f"$n = {v:g}$")

    b = df[df["panel"] == "bernoulli"]
    ns = sorted(b["n"].unique())
    p0 = float(b["p0"].iloc[0])
    col = dict(zip(ns, sequential(len(ns), lo=0.15, hi=0.8)))
    _panel(bx, b, "n", col, log_x=True)
    bx.set_ylim(FLOOR["bernoulli"], 1.4)
    bx.set_ylabel(r"$P(P_k \neq 0)$")
    nps = ", ".join(f"{v * p0:g}" for v in ns)
    _header(bx, rf"Bernoulli, $P_0 = p_0 = {p0:g}$ ($np_0 = {nps}$)", col, lambda v: rf"$n = {v:g}$")

    p = df[df["panel"] == "poisson"]
    rates = sorted(p["rate"].unique())
    n = int(p["n"].iloc[0])
    col = dict(zip(rates, sequential(len(rates), lo=0.15, hi=0.8)))
    _panel(cx, p, "rate", col, log_x=True)
    cx.set_ylim(FLOOR["poisson"], 1.4)
    cx.set_ylabel(r"$P(\Lambda_k \neq 0)$")
    _header(cx, rf"Poisson, $\Lambda_0 = \lambda_0$, $n = {n}$", col, lambda v: rf"$n\lambda_0 = {n * v:g}$")

    v = df[df["panel"] == "vocabulary"].copy()
    v["ab"] = list(zip(v["a"], v["b"]))
    abs_ = list(dict.fromkeys(v["ab"]))
    col = dict(zip(abs_, categorical(len(abs_) + 2)[2:]))
    _panel(dx, v, "ab", col, log_x=True)
    m = int(v["n"].iloc[0])
    seen = {ab: int(v.loc[v["ab"] == ab, "symbols"].iloc[0]) for ab in abs_}
    dx.set_ylim(FLOOR["vocabulary"], 1.4)
    dx.set_ylabel(r"$E[\mathrm{uniq}_k]/m$")
    _header(dx, rf"Zipf–Mandelbrot, $m = n = {m}$: $(a, b)$, symbols seen", col,
            lambda ab: rf"$({ab[0]:g}, {ab[1]:g})$: {seen[ab]}")

    reps = {k: int(df.loc[df["panel"] == k, "reps"].iloc[0]) for k in ("gaussian", "vocabulary")}
    hs = [Line2D([], [], color="k", lw=1.2), sim_handle("k")[0],
          Line2D([], [], color="k", lw=0.9, ls=LOWER), Line2D([], [], color="k", lw=0.9, ls=UPPER),
          Line2D([], [], color="k", lw=0.9, ls=HEADLINE)]
    ls = ["exact", f"Monte Carlo ± 2 SE ({reps['gaussian']:,} runs; (d) {reps['vocabulary']:,})".replace(",", " "),
          "paper's lower bound", "paper's upper bound", r"headline $1 - e^{-np_0/k}$"]
    fig.legend(hs, ls, loc="outside lower center", ncol=3)
    panel_letters([ax, bx, cx, dx])
    return fig
