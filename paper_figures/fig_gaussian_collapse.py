"""Gaussian collapse under self-consuming refitting.

Refitting N(μ, σ²) with the unbiased variance on n of its own samples per generation, n = 3,
10, 30, 100, from σ_0 = 1. (a) σ_t/σ_0 on a log scale: the exact E σ_t = α(n)^t σ_0 (lines)
against the Monte-Carlo mean (open circles, ±2 SE), the Monte-Carlo median (triangles) and the
5–95 % range of the paths (band). E σ_t² = σ_0² stays constant while E σ_t → 0, so σ_t is
heavy-tailed relative to its mean: the exact relative standard error of the Monte-Carlo mean,
√(α(n)^{−2t} − 1)/√R over R replicates, grows without bound, and the mean is drawn only while it
is below 10 % (further on a typical sample of R paths undershoots the expectation). The median
falls much faster than the mean: σ_t → 0 almost surely. (b) Fraction of paths with
σ_t < 10⁻³σ_0 (circles, ±2 binomial SE) against its exact probability (lines, Gil–Pelaez
inversion of the law of log σ_t²). Bertrand et al., ICLR 2024, §2.2; exact law in
shared/theory.md §2.2.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import collapse_table

from ._registry import (PAGE_WIDTH, categorical, encoding_handles, panel_letters, register_figure, sim_points,
                        theory_line, value_legend)

#: the Monte-Carlo mean is drawn while its exact relative standard error is at most this
MAX_REL_SE = 0.10


def _spread(idx, k):
    """About ``k`` evenly spaced entries of ``idx`` (first and last kept)."""
    idx = np.asarray(idx)
    if idx.size <= k:
        return idx
    return idx[np.unique(np.round(np.linspace(0, idx.size - 1, k)).astype(int))]


@register_figure(slug="gaussian_collapse", caption=__doc__.split("\n\n")[1], table=collapse_table,
                 claims=("gauss.alpha_law", "gauss.second_moment", "gauss.as_collapse"))
def plot(df):
    ns = sorted(df["n"].unique())
    colors = dict(zip(ns, categorical(len(ns))))
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.7))
    for n in ns:
        d = df[df["n"] == n].sort_values("generation")
        c = colors[n]
        t = d["generation"].to_numpy()
        reps = float(d["reps"].iloc[0])
        a_t = d["predicted_mean"].to_numpy() / d["predicted_mean"].iloc[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            rel_se = np.sqrt(np.maximum(a_t ** -2.0 - 1.0, 0.0) / reps)
        ok = np.nonzero(rel_se <= MAX_REL_SE)[0]
        ax.fill_between(t, d["q05"], d["q95"], color=c, alpha=0.10, lw=0, zorder=0.5)
        theory_line(ax, t, d["predicted_mean"], color=c)
        k = _spread(ok, 12)
        sim_points(ax, t[k], d["mean"].to_numpy()[k], d["mean_lo"].to_numpy()[k], d["mean_hi"].to_numpy()[k],
                   color=c, floor=1e-300)
        med = d["median"].to_numpy()
        k = _spread(np.nonzero(med > 1e-8)[0], 12)
        ax.plot(t[k], med[k], ls="none", marker="v", ms=3.2, color=c, zorder=2.2)
        # (b): exact probability (lines) vs Monte-Carlo fraction with binomial bars
        p = d.dropna(subset=["predicted_frac"])
        theory_line(bx, p["generation"], p["predicted_frac"], color=c)
        f = d["frac_collapsed"].to_numpy()
        se = np.sqrt(f * (1 - f) / reps)
        k = _spread(np.arange(t.size), 16)
        sim_points(bx, t[k], f[k], (f - 2 * se)[k], (f + 2 * se)[k], color=c)
    reps = int(df["reps"].iloc[0])
    ax.set_yscale("log")
    ax.set_ylim(1e-8, 3)
    ax.set_xlabel("generation $t$")
    ax.set_ylabel(r"$\sigma_t/\sigma_0$")
    bx.set_xlabel("generation $t$")
    bx.set_ylabel(r"$P(\sigma_t < 10^{-3}\sigma_0)$")
    bx.set_ylim(-0.02, 1.02)
    for a in (ax, bx):
        a.set_xlim(-5, float(df["generation"].max()) + 5)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    hs, ls = value_legend({n: colors[n] for n in ns}, "$n = {}$")
    h2, l2 = encoding_handles(theory="exact (theory)", sim=f"Monte Carlo mean or fraction, ±2 SE ({reps} paths)")
    hs += h2 + [Line2D([], [], ls="none", marker="v", ms=3.2, color="k"), Patch(color="k", alpha=0.15, lw=0)]
    ls += l2 + ["Monte Carlo median", "5–95 % of paths"]
    fig.legend(hs, ls, loc="outside lower center", ncol=4)
    panel_letters([ax, bx])
    return fig
