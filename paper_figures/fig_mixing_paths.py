"""Real data keeps the loop near the data; λ sets how near.

A Gaussian refitted with the unbiased estimator on n = 50 points per generation: fully
synthetic (black), or on the n real points reused plus ⌊λn⌋ fresh synthetic points per
generation for λ ∈ {0.1, 0.5, 1, 2} (colours). (a) σ_t/σ on a log scale, Monte-Carlo median
(markers) and 5–95 % range of the paths (bands): fully synthetic paths collapse (σ_t → 0 almost
surely) while the mixed paths stay within O(1/√n) of the data for every λ. (b) What λ changes:
the squared distance of the fitted mean μ_t to the real sample's mean μ̂_real, in units of that
mean's own variance σ²/n, on a linear axis — exact finite-n recursion (lines) against the
Monte-Carlo mean ± 2 SE over the paths (markers), and the paper's stationary value λ/(1+2λ)
(dashed, at the right; Bertrand et al., ICLR 2024), over the first 30 generations (the
stationary regime continues unchanged to t = 200). The more synthetic data per real point, the
farther the loop wanders from the real sample: n·E(μ_t − μ̂_real)²/σ² climbs from 0 to about
λ/(1+2λ) (0.083, 0.25, 0.33, 0.40), never to 1/2. The statistic has finite variance, so the
Monte-Carlo means are precise; E σ_t²/σ² (not drawn: it is λ-insensitive, within a percent of 1
for every λ) and the fully synthetic mean, which random-walks away (n·E(μ_t − μ̂_0)²/σ² = t),
are checked by the claims named below.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import mixing_paths_table

from ._registry import (PAGE_WIDTH, bound_line, encoding_handles, panel_letters, register_figure, sequential,
                        sim_points, theory_line, value_legend)


@register_figure(slug="mixing_paths", caption=__doc__.split("\n\n")[1], table=mixing_paths_table,
                 claims=("mixing.replace_moments", "gauss.as_collapse"))
def plot(df):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    lams = sorted(df["lam"].dropna().unique())
    colors = {None: "k", **dict(zip(lams, sequential(len(lams), lo=0.15, hi=0.85)))}
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.7))
    groups = [(None, df[df["lam"].isna()])] + [(lam, df[df["lam"] == lam]) for lam in lams]
    T = int(df["generation"].max())
    every = max(1, T // 12)
    TB = min(T, 30)  # panel (b): the approach to stationarity takes a few generations
    for k, (lam, d) in enumerate(groups):
        d = d.sort_values("generation")
        c = colors[lam]
        t = d["generation"].to_numpy()
        ax.fill_between(t, d["q05"], d["q95"], color=c, alpha=0.12 if lam is not None else 0.18, lw=0, zorder=0.5)
        off = (k * every) // len(groups)  # stagger the markers of the five curves
        sel = slice(off, None, every)
        sim_points(ax, t[sel], d["median"].to_numpy()[sel], color=c, marker="v")
        if lam is None:
            continue  # panel (b): no real sample to stay near
        near = t <= TB
        theory_line(bx, t[near], d["exact_drift2"].to_numpy()[near], color=c)
        m, se = d["mean_drift2"].to_numpy(), d["mean_drift2_se"].to_numpy()
        sb = slice(k % 2, TB + 1, 2)  # every other generation, staggered
        sim_points(bx, t[sb], m[sb], (m - 2 * se)[sb], (m + 2 * se)[sb], color=c)
        stat = float(d["paper_drift2"].iloc[0])
        bound_line(bx, [0.85 * TB, 1.08 * TB], [stat, stat], color=c)
    n, reps = int(df["n"].iloc[0]), int(df["reps"].iloc[0])
    ax.set_yscale("log")
    ax.set_xlabel("generation $t$")
    ax.set_ylabel(r"$\sigma_t/\sigma$")
    ax.set_xlim(-T * 0.02, T * 1.02)
    bx.set_xlabel("generation $t$")
    bx.set_ylabel(r"$n\,E(\mu_t - \hat\mu_{\mathrm{real}})^2/\sigma^2$")
    bx.set_xlim(-TB * 0.02, TB * 1.09)
    bx.set_ylim(0.0, 1.12 * float(np.nanmax(df["paper_drift2"])))
    hs, ls = value_legend(colors, lambda lam: "fully synthetic" if lam is None else rf"$\lambda = {lam:g}$")
    h2, l2 = encoding_handles(theory="exact recursion", sim=f"Monte Carlo mean ± 2 SE ({reps} paths, n = {n})",
                              bound=r"stationary $\lambda/(1+2\lambda)$ (paper)")
    hs += h2 + [Line2D([], [], ls="none", marker="v", ms=3.2, mfc="white", mec="k", mew=0.8),
                Patch(color="k", alpha=0.15, lw=0)]
    ls += l2 + ["Monte Carlo median", "5–95 % of paths"]
    fig.legend(hs, ls, loc="outside lower center", ncol=4)
    panel_letters([ax, bx])
    return fig
