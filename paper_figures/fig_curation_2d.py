"""Curated retraining in 2-D: fully curated loops collapse onto the reward's top set; real data keeps the support.

(a, b) 1 000 evaluation samples of one replicate of an 8-component Gaussian mixture retrained on
its own curated samples (first row: K = 4 candidates per kept point, Luce choice on the reward
r = −5·max(0, d − 0.5), d the distance to one point; dashed circle: the top set r = 0), and on
curated samples plus the 1 000 real points (second row: λ = 1/2, 500 curated points per
generation). (a) The 8-Gaussian ring, reward around one mode; (b) two moons (noise 0.1), reward
around the tip of the outer moon. (c, d) Mean reward E_{p_t} r of the learned loops (open
markers, mean ± 2 SE over replicates) against the population chain of a perfect learner (solid
lines): exact, on the law of the reward, for the ring; a 2-D grid chain (cell width 0.05) for two
moons, whose reward law has no closed form. Curated only, the loop collapses onto the top set and
the mean reward goes to r* = 0 (dotted; Theorem 2.1); with real data it rises and then
stabilises well below r* while the other modes and the second moon survive (Theorem 2.3).
Ferbach et al., NeurIPS 2024, appendix 2-D figures (shared/theory.md §1.8).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Circle

from selfconsume.analysis.tables import curation_2d_table

from ._registry import (PAGE_WIDTH, categorical, encoding_handles, panel_letters, ref_line, register_figure,
                        sim_points, theory_line, value_legend)

#: Axis limits per data set (x, y).
LIMITS = {"8-Gaussian ring": ((-4.6, 4.6), (-4.6, 4.6)), "two moons": ((-1.8, 2.8), (-2.05, 2.55))}


@register_figure(slug="curation_2d", caption=__doc__.split("\n\n")[1], table=curation_2d_table,
                 claims=("continuous.reward_law", "continuous.top_set_limit", "continuous.with_real_data"))
def plot(df):
    samples = df[df["kind"] == "sample"]
    datasets = list(dict.fromkeys(samples["dataset"]))
    regimes = list(dict.fromkeys(samples["regime"]))
    gens = sorted(samples["generation"].unique())
    colors = dict(zip(regimes, categorical(len(regimes))))
    learned, pop = df[df["kind"] == "learned"], df[df["kind"] == "population"]
    centres = df[df["kind"] == "reward_centre"]

    nc, nr = len(gens), len(regimes)
    fig = plt.figure(figsize=(PAGE_WIDTH, 0.8 * nr + 2.3))
    top, bottom = fig.subfigures(2, 1, height_ratios=[0.8 * nr + 0.35, 1.95])
    blocks = top.subfigures(1, len(datasets), width_ratios=[nc + 0.45] + [nc] * (len(datasets) - 1))
    gs_bottom = bottom.add_gridspec(1, len(datasets))
    rewards = []
    for b, name in enumerate(datasets):
        (x0, x1), (y0, y1) = LIMITS.get(name, ((None, None), (None, None)))
        cen = centres[centres["dataset"] == name]
        sub = blocks[b]
        sub.suptitle(f"({chr(ord('a') + b)})  {name}", x=0.0, ha="left", fontweight="bold")
        lab = b == 0  # the first block carries the row labels in a column of its own
        grid = sub.add_gridspec(nr, nc + lab, width_ratios=[0.45] * lab + [1] * nc, wspace=0.04, hspace=0.04)
        for i, regime in enumerate(regimes):
            if lab:
                lx = sub.add_subplot(grid[i, 0])
                lx.axis("off")
                lx.text(0.5, 0.5, regime.replace(" (", "\n(").replace("λ", r"$\lambda$"), rotation=90, ha="center",
                        va="center", fontsize=7, color=colors[regime], transform=lx.transAxes)
            for j, g in enumerate(gens):
                ax = sub.add_subplot(grid[i, j + lab])
                ax.grid(False)
                s = samples[(samples["dataset"] == name) & (samples["regime"] == regime) & (samples["generation"] == g)]
                ax.scatter(s["x"], s["y"], s=0.6, alpha=0.45, lw=0, color=colors[regime], rasterized=True)
                for _, c in cen.iterrows():
                    ax.add_patch(Circle((c["x"], c["y"]), c["radius"], fill=False, ls="--", lw=0.7, color="k"))
                ax.set_xlim(x0, x1)
                ax.set_ylim(y0, y1)
                ax.set_aspect("equal", adjustable="box")
                ax.set_xticks([])
                ax.set_yticks([])
                for sp in ax.spines.values():
                    sp.set_visible(True)
                    sp.set_linewidth(0.4)
                if i == 0:
                    ax.set_title(f"$t = {g:g}$")
        ax = bottom.add_subplot(gs_bottom[0, b])
        rewards.append(ax)
        for k, regime in enumerate(regimes):
            c = colors[regime]
            p = pop[(pop["dataset"] == name) & (pop["regime"] == regime)].sort_values("generation")
            theory_line(ax, p["generation"], p["mean"], color=c)
            d = learned[(learned["dataset"] == name) & (learned["regime"] == regime)].sort_values("generation")
            sim_points(ax, d["generation"] + 0.1 * (2 * k - 1), d["mean"], d["lo"], d["hi"], color=c)
        ref_line(ax, 0.0)
        ax.set_title(f"{name}: mean reward")
        ax.set_xlabel("generation $t$")
        if b == 0:
            ax.set_ylabel(r"$E_{p_t}[r]$")
    hs, ls = value_legend({r: colors[r] for r in regimes}, lambda r: r.replace("λ", r"$\lambda$"))
    h2, l2 = encoding_handles(theory="population chain (perfect learner)",
                              sim=f"learned loop, mean ± 2 SE ({int(learned['reps'].iloc[0])} runs)",
                              ref=r"$r^* = 0$ (top of the reward)")
    bottom.legend(hs + h2, ls + l2, loc="outside lower center", ncol=3)
    panel_letters(rewards, start=len(datasets))
    return fig
