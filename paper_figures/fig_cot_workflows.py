"""Collapse or Thrive? Kazdan et al.'s Gaussian workflows, with exact curves, also for n ≤ d.

N(0, I_d) data refitted by maximum likelihood (mean and covariance, divisor n), n points per
model-fitting iteration k, as in Kazdan et al. (ICML 2025) and their released code; k = 1 is the
fit to the n real points in every workflow. Replace: each model fitted only to n samples of the
previous one (fully synthetic); accumulate: to every real and synthetic point so far;
accumulate-subsample: to a uniform subsample of n points of that pool (fixed compute, their
protocol). Columns: four of their (d, n) cells, two with n > d and two with n ≤ d; rows:
E tr Σ̂_k/tr Σ_0 (linear axis), E‖μ̂_k − μ‖² and E det Σ̂_k/det Σ_0 (log axes). Lines: exact
expectations (closed forms and exact recursions, for every workflow; accumulate-subsample's
determinant has none, so its markers stand alone); open circles: Monte Carlo mean ± 2 SE (exact
chains for replace and accumulate, 2 000 runs for d ≤ 10 and 300 for d = 100; the literal loop
for accumulate-subsample, 2 000, 500, 2 000 and 50 runs from left to right; ten times as many
at the full budget); dashed: accumulate's limits, sin(π/√n)/(π/√n) for the trace and (π²/6)·d/n
for the mean error. Replace collapses (E tr ratio (1 − 1/n)^k, E det ratio (Π_{i≤d}(n − i)/n)^k)
while its mean drifts to E‖μ̂ − μ‖² → d; accumulate stays within π²/6 of its first fit;
accumulate-subsample degrades slowly, to a lower level (0.739 for n = 10 as k → ∞). With n ≤ d
every fitted covariance has rank n − 1, so det Σ̂ is exactly 0 in every run, workflow and
iteration (the released code reports floating-point noise there), while the trace and the mean
error follow the same per-coordinate laws as for n > d. Replace's trace and determinant are
heavy-tailed: where fewer than a tenth of the runs carry the Monte Carlo mean (triangles;
effective count (Σx)²/Σx²) it falls below the exact expectation, which rare runs dominate, and
its SE understates the error; a 100-seed mean, as in the paper, undershoots earlier still.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import cot_workflows_table

from ._registry import (PAGE_WIDTH, bound_line, categorical, panel_letters, register_figure, sim_handle,
                        sim_points, theory_line, value_legend)

#: when fewer than this fraction of the runs carry the Monte Carlo mean (effective count (Σx)²/Σx²), its
#: markers are triangles: the rare-run regime of a heavy tail (a light-tailed positive metric keeps about half)
MIN_ESS_FRACTION = 0.1
METRICS = (("trace", r"$E\,\mathrm{tr}\,\hat\Sigma_k/\mathrm{tr}\,\Sigma_0$"),
           ("mean_err", r"$E\,\|\hat\mu_k - \mu\|^2$"),
           ("det", r"$E\,\det\hat\Sigma_k/\det\Sigma_0$"))


@register_figure(slug="cot_workflows", caption=__doc__.split("\n\n")[1], table=cot_workflows_table,
                 claims=("peers.accumulate_subsample", "peers.n_le_d", "mixing.accumulate_pi2_6"))
def plot(df):
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    cells = list(dict.fromkeys(zip(df["d"], df["n"])))
    names = list(dict.fromkeys(df["workflow"]))
    colors = dict(zip(names, categorical(len(names))))
    K = int(df["iteration"].max())
    every = max(1, K // 10)
    fig, axes = plt.subplots(len(METRICS), len(cells), figsize=(PAGE_WIDTH, 5.6), sharex=True)
    for j, (d, n) in enumerate(cells):
        cell = df[(df["d"] == d) & (df["n"] == n)]
        singular = bool(cell["singular"].iloc[0])
        for i, (metric, label) in enumerate(METRICS):
            ax = axes[i, j]
            sub = cell[cell["metric"] == metric]
            if metric == "det" and singular:
                ax.text(0.5, 0.5, "det $\\hat\\Sigma_k = 0$ exactly\nin every run, workflow\nand iteration\n"
                        f"(rank $\\leq n - 1 = {n - 1} < d$)", transform=ax.transAxes, ha="center", va="center",
                        fontsize=7)
                ax.set_yticks([])
                ax.grid(False)
            else:
                for w, name in enumerate(names):
                    g = sub[sub["workflow"] == name].sort_values("iteration")
                    c = colors[name]
                    k = g["iteration"].to_numpy()
                    ex = g["exact"].to_numpy()
                    if np.isfinite(ex).any():
                        theory_line(ax, k, ex, color=c)
                    b = g["bound"].to_numpy()
                    if np.isfinite(b).any():
                        bound_line(ax, [1, K], [b[0], b[0]], color=c, lw=0.9)
                    sel = np.arange(1 + (w * every) // len(names), K + 1, every) - 1  # staggered by workflow
                    m, se, ess = (g[col].to_numpy()[sel] for col in ("sim", "sim_se", "ess"))
                    ok = ess >= MIN_ESS_FRACTION * g["reps"].to_numpy()[sel]
                    floor = 0.3 * float(np.nanmin(np.where(m > 0, m, np.nan)))
                    sim_points(ax, k[sel][ok], m[ok], (m - 2 * se)[ok], (m + 2 * se)[ok], color=c, floor=floor)
                    few = ~ok & (m > 0)
                    if few.any():
                        sim_points(ax, k[sel][few], m[few], (m - 2 * se)[few], (m + 2 * se)[few], color=c,
                                   marker="v", floor=floor)
                if metric == "trace":  # linear: the floors of the real-data workflows apart
                    ax.set_ylim(0.0, 1.04)
                else:
                    ax.set_yscale("log")
                if metric == "mean_err":  # spans one or two decades: plain tick labels at 1, 2, 5
                    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
                    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                    ax.yaxis.set_minor_formatter(NullFormatter())
            if j == 0:
                ax.set_ylabel(label)
            if i == len(METRICS) - 1:
                ax.set_xlabel("iteration $k$")
            ax.set_xlim(0, K * 1.03)
        rel = r"n \leq d" if singular else "n > d"
        axes[0, j].set_title(rf"$d = {d}$, $n = {n}$ (${rel}$)", fontsize=8, loc="right")
    hs, ls = value_legend(colors)
    hs += [Line2D([], [], color="k", lw=1.2), sim_handle("k")[0],
           Line2D([], [], ls="none", marker="v", ms=3.2, mfc="white", mec="k", mew=0.8),
           Line2D([], [], color="k", lw=0.9, ls="--")]
    ls += ["exact", "Monte Carlo mean ± 2 SE", f"the same, carried by < {MIN_ESS_FRACTION:.0%} of the runs",
           r"accumulate's limits: $\frac{\sin(\pi/\sqrt{n})}{\pi/\sqrt{n}}$, $\frac{\pi^2}{6}\frac{d}{n}$"]
    fig.legend(hs, ls, loc="outside lower center", ncol=4)
    panel_letters(list(axes.ravel()))
    return fig
