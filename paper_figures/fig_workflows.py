"""Replace vs accumulate vs accumulate-subsample.

MLE Gaussian fits (Kazdan et al., ICML 2025 protocol), n = 20 real points, λ = 1. Generation 0
is, for every workflow, the model fitted on the n real points, so all curves start together.
(a) Mean-squared error of μ_t (log scale); (b) E σ_t²/σ²; (c) the same, zoomed on the workflows
that keep real data. Lines: exact values (closed forms or exact finite-n recursions, for every
workflow; the accumulate-subsample recursion is derived here); markers and bands: Monte Carlo
mean ± 2 SE (fully synthetic: ten times as many runs, because its errors are heavy-tailed —
a few runs whose σ_t grew early carry the mean). Fully synthetic refitting drifts (with the MLE, up to E(μ_t − μ)² → σ²) and
collapses; refitting on real + fresh synthetic data stays at its stationary error; accumulating
every generation's data keeps the error below π²/6 times the first generation's and σ² above
σ²·sin(π/√n)/(π/√n) (dashed: the two bounds; the exact accumulate curve approaches the variance
bound from above); fitting each model on a subsample of n points of the pool (fixed compute, the
authors' released protocol) settles too, but further from the truth: a larger mean error and a
smaller variance (E σ_t²/σ² → 0.862 for n = 20, below the accumulate bound).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import workflows_table

from ._registry import (PAGE_WIDTH, bound_line, categorical, encoding_handles, panel_letters, register_figure,
                        sim_points, theory_line, value_legend)


@register_figure(slug="workflows", caption=__doc__.split("\n\n")[1], table=workflows_table,
                 claims=("mixing.accumulate_pi2_6", "mixing.replace_moments", "gauss.mle_variant",
                         "peers.accumulate_subsample"))
def plot(df):
    names = list(dict.fromkeys(df["workflow"]))
    colors = dict(zip(names, categorical(len(names))))
    n, reps = int(df["n"].iloc[0]), int(df["reps"].min())
    fig, (ax, bx, cx) = plt.subplots(1, 3, figsize=(PAGE_WIDTH, 2.5))
    T = int(df["generation"].max())
    every = max(1, T // 10)
    for k, name in enumerate(names):
        d = df[df["workflow"] == name].sort_values("generation")
        c = colors[name]
        t = d["generation"].to_numpy()
        sel_off = (k * every) // len(names)
        for axes, col in (((ax,), "mse_mu"), ((bx, cx), "sigma2")):
            y, se = d[col].to_numpy(), d[col + "_se"].to_numpy()
            ex = d["exact_" + col].to_numpy()
            for a in axes:
                if np.isfinite(ex).any():
                    theory_line(a, t, ex, color=c)
                sim_points(a, t, y, y - 2 * se, y + 2 * se, band=True, color=c, every=None, marker="None")
                sim_points(a, t[sel_off::every], y[sel_off::every], color=c)
    x = np.array([0, T])
    bound_line(ax, x, [math.pi**2 / 6 / n] * 2, color="0.2")
    sinc = math.sin(math.pi / math.sqrt(n)) / (math.pi / math.sqrt(n))
    for a in (bx, cx):
        bound_line(a, x, [sinc] * 2, color="0.2")
    ax.set_yscale("log")
    ax.set_ylabel(r"$E\,(\mu_t - \mu)^2/\sigma^2$")
    bx.set_ylabel(r"$E\,\sigma_t^2/\sigma^2$")
    bx.set_ylim(-0.03, 1.03)
    real = df[~df["workflow"].str.contains("fully")]
    lo = float(np.nanmin([real["sigma2"].min() - 2 * real["sigma2_se"].max(), sinc]))
    cx.set_ylim(lo - 0.01, 0.97)
    cx.set_ylabel(r"$E\,\sigma_t^2/\sigma^2$ (zoom)")
    for a in (ax, bx, cx):
        a.set_xlabel("generation $t$")
        a.set_xlim(-T * 0.02, T * 1.02)
    hs, ls = value_legend({nm: colors[nm] for nm in names})
    sim = f"Monte Carlo mean ± 2 SE ({reps} runs; fully synthetic {int(df['reps'].max())})"
    h2, l2 = encoding_handles(theory="exact (theory)", sim=sim, band=True,
                              bound=r"bounds: $\frac{\pi^2}{6}\frac{\sigma^2}{n}$ (a), "
                                    r"$\sigma^2\,\frac{\sin(\pi/\sqrt{n})}{\pi/\sqrt{n}}$ (b, c)")
    fig.legend(hs + h2, ls + l2, loc="outside lower center", ncol=3)
    panel_letters([ax, bx, cx])
    return fig
