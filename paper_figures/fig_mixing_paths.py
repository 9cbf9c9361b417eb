"""Real data keeps the loop near the data.

A Gaussian refitted with the unbiased estimator on n = 50 points per generation: fully
synthetic (black), or on the n real points reused plus ⌊λn⌋ fresh synthetic points per
generation for λ ∈ {0.1, 0.5, 1, 2} (colours). (a) σ_t/σ on a log scale, Monte-Carlo median
(markers) and 5–95 % range of the paths (band): fully synthetic paths collapse (σ_t → 0 almost
surely), mixed paths stay within O(1/√n) of the data for every λ. (b) The same loops on a linear
scale: E σ_t²/σ², exact finite-n recursion (lines) against the Monte-Carlo mean over the paths
(circles). With real data E σ_t² settles at a stationary value a fraction of a percent below σ²,
lower for larger λ; the Monte-Carlo means of the mixed loops carry no bars (their standard
error, about √(2/(n−1)/R) ≈ 0.005 for R = 2 000 paths, is as large as the differences between
the λ). Fully synthetic, E σ_t² = σ² exactly (a martingale, black line) while almost every path
collapses; its Monte-Carlo mean is not drawn: E σ_t⁴ = σ⁴((n+1)/(n−1))^t, so its standard error
(4 % at t = 16, 11 % at t = 80) is wider than this axis. Bertrand et al., ICLR 2024.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import mixing_paths_table

from ._registry import PAGE_WIDTH, encoding_handles, panel_letters, register_figure, sequential, sim_points, theory_line


@register_figure(slug="mixing_paths", caption=__doc__.split("\n\n")[1], table=mixing_paths_table,
                 claims=("mixing.replace_moments", "gauss.as_collapse"))
def plot(df):
    lams = sorted(df["lam"].dropna().unique())
    colors = {None: "k", **dict(zip(lams, sequential(len(lams), lo=0.15, hi=0.85)))}
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.7))
    groups = [(None, df[df["lam"].isna()])] + [(lam, df[df["lam"] == lam]) for lam in lams]
    T = int(df["generation"].max())
    every = max(1, T // 12)
    for k, (lam, d) in enumerate(groups):
        d = d.sort_values("generation")
        c = colors[lam]
        t = d["generation"].to_numpy()
        ax.fill_between(t, d["q05"], d["q95"], color=c, alpha=0.12 if lam is not None else 0.18, lw=0, zorder=0.5)
        off = (k * every) // len(groups)  # stagger the markers of the five curves
        sel = slice(off, None, every)
        ax.plot(t[sel], d["median"].to_numpy()[sel], ls="none", marker="o", ms=3.2, mfc="white", mec=c, mew=0.8,
                zorder=2.2)
        theory_line(bx, t, d["exact_sigma2"], color=c)
        m = d["mean_sigma2"].to_numpy()
        if lam is None:
            pass  # the Monte-Carlo mean of a heavy-tailed σ_t²: its exact SE exceeds this axis (see the caption)
        elif "mean_sigma2_se" in d.columns:
            se = d["mean_sigma2_se"].to_numpy()
            sim_points(bx, t[sel], m[sel], (m - 2 * se)[sel], (m + 2 * se)[sel], color=c)
        else:
            sim_points(bx, t[sel], m[sel], color=c)
    n, reps = int(df["n"].iloc[0]), int(df["reps"].iloc[0])
    ax.set_yscale("log")
    ax.set_xlabel("generation $t$")
    ax.set_ylabel(r"$\sigma_t/\sigma$ (median, 5–95 %)")
    bx.set_xlabel("generation $t$")
    bx.set_ylabel(r"$E\,\sigma_t^2/\sigma^2$")
    lo = min(float(np.nanmin(df.loc[df["lam"].notna(), "exact_sigma2"])), 0.985)
    bx.set_ylim(lo - 0.6 * (1.0 - lo) - 0.01, 1.0 + 0.5 * (1.0 - lo) + 0.006)
    for a in (ax, bx):
        a.set_xlim(-T * 0.02, T * 1.02)
    from matplotlib.lines import Line2D

    hs = [Line2D([], [], color="k", lw=3)] + [Line2D([], [], color=colors[lam], lw=3) for lam in lams]
    ls = ["fully synthetic"] + [rf"$\lambda = {lam:g}$" for lam in lams]
    h2, l2 = encoding_handles(theory=r"exact $E\,\sigma_t^2$ (theory)", sim=f"Monte Carlo ({reps} paths, n = {n})")
    hs[len(hs):] = [h2[0], Line2D([], [], ls="none", marker="o", ms=3.2, mfc="white", mec="k", mew=0.8)]
    ls += l2
    fig.legend(hs, ls, loc="outside lower center", ncol=4)
    panel_letters([ax, bx])
    return fig
