"""Curated retraining in 2-D: fully curated loops collapse onto the reward's top set; real data keeps the support.

Top row: 1 000 evaluation samples of one replicate of an 8-component Gaussian mixture retrained
on its own curated samples (K = 4 candidates per kept point, Luce choice on the reward
r = −5·max(0, d − 0.5), d the distance to one point; dashed circle: the top set r = 0); second
row: curated samples plus the 1 000 real points (λ = 1/2: 500 curated points per generation).
Left block: the 8-Gaussian ring, reward around one mode; right block: two moons (noise 0.1),
reward around the tip of the outer moon. Bottom: mean reward E_{p_t} r of the learned loops
(markers, mean ± 2 SE over replicates) against the population chain of a perfect learner
(lines): exact, on the law of the reward, for the ring; a 2-D grid chain (cell width 0.05) for two
moons, whose reward law has no closed form. Curated only, the loop collapses onto the top set and
the mean reward goes to r* = 0 (Theorem 2.1); with real data it rises and then stabilises well
below r* while the other modes and the second moon survive (Theorems 2.3–2.4). Ferbach et al.,
NeurIPS 2024, appendix 2-D figures (shared/theory.md §1.8).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.gridspec import GridSpec
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from selfconsume.analysis.tables import curation_2d_table

from ._registry import register_figure

#: Axis limits per data set (x, y).
LIMITS = {"8-Gaussian ring": ((-4.6, 4.6), (-4.6, 4.6)), "two moons": ((-1.8, 2.8), (-2.05, 2.55))}


@register_figure(slug="curation_2d", caption=__doc__.split("\n\n")[1], table=curation_2d_table)
def plot(df):
    samples = df[df["kind"] == "sample"]
    datasets = list(dict.fromkeys(samples["dataset"]))
    regimes = list(dict.fromkeys(samples["regime"]))
    gens = sorted(samples["generation"].unique())
    colors = dict(zip(regimes, sns.color_palette("colorblind", len(regimes))))
    learned, pop = df[df["kind"] == "learned"], df[df["kind"] == "population"]
    centres = df[df["kind"] == "reward_centre"]

    nc = len(gens)
    fig = plt.figure(figsize=(2.05 * nc * len(datasets) + 0.6, 2.1 * len(regimes) + 3.4))
    gs = GridSpec(len(regimes) + 1, len(datasets) * nc + len(datasets) - 1, figure=fig,
                  width_ratios=([1] * nc + [0.12]) * (len(datasets) - 1) + [1] * nc,
                  height_ratios=[1] * len(regimes) + [1.35], hspace=0.12, wspace=0.06)
    for b, name in enumerate(datasets):
        col0 = b * (nc + 1)
        (x0, x1), (y0, y1) = LIMITS.get(name, (None, None)) or (None, None)
        cen = centres[centres["dataset"] == name]
        for i, regime in enumerate(regimes):
            for j, g in enumerate(gens):
                ax = fig.add_subplot(gs[i, col0 + j])
                s = samples[(samples["dataset"] == name) & (samples["regime"] == regime) & (samples["generation"] == g)]
                ax.scatter(s["x"], s["y"], s=1.2, alpha=0.45, lw=0, color=colors[regime], rasterized=True)
                for _, c in cen.iterrows():
                    ax.add_patch(Circle((c["x"], c["y"]), c["radius"], fill=False, ls="--", lw=0.9, color="k"))
                ax.set_xlim(x0, x1)
                ax.set_ylim(y0, y1)
                ax.set_aspect("equal", adjustable="box")
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_title(f"t = {g:g}", fontsize=9.5)
                if j == 0 and b == 0:
                    ax.set_ylabel(regime.replace(" (", "\n("), fontsize=9, color=colors[regime])
        box = gs[0, col0:col0 + nc].get_position(fig)
        fig.text(0.5 * (box.x0 + box.x1), box.y1 + 0.035, name, ha="center", va="bottom", fontsize=11,
                 fontweight="bold")
        # the mean-reward panel under this block
        ax = fig.add_subplot(gs[len(regimes), col0:col0 + nc])
        for k, regime in enumerate(regimes):
            c = colors[regime]
            p = pop[(pop["dataset"] == name) & (pop["regime"] == regime)]
            ax.plot(p["generation"], p["mean"], color=c, lw=1.6)
            d = learned[(learned["dataset"] == name) & (learned["regime"] == regime)]
            ax.errorbar(d["generation"] + 0.1 * (2 * k - 1), d["mean"], yerr=[d["mean"] - d["lo"], d["hi"] - d["mean"]],
                        fmt="o", ms=4, mfc="white", mew=1.2, elinewidth=1.0, capsize=2, color=c)
        ax.axhline(0.0, color="0.4", lw=0.8, ls=":")
        method = p["method"].iloc[0] if len(p) else ""
        ax.set_title(f"{name}: mean reward; lines: {method}", fontsize=9.5)
        ax.set_xlabel("generation t")
        if b == 0:
            ax.set_ylabel(r"$E_{p_t}[r]$")
        if b == 0:
            handles = [Line2D([], [], color=colors[r], lw=6, alpha=0.8, label=r) for r in regimes]
            handles += [Line2D([], [], color="k", lw=1.6, label="population chain (perfect learner)"),
                        Line2D([], [], color="k", marker="o", mfc="white", ls="none",
                               label=f"learned loop, mean ± 2 SE ({int(learned['reps'].iloc[0])} runs)"),
                        Line2D([], [], color="0.4", lw=0.8, ls=":", label="r* = 0 (top of the reward)")]
            fig.legend(handles=handles, fontsize=8.5, loc="upper center", ncol=len(handles), frameon=False,
                       bbox_to_anchor=(0.5, 0.045))
    return fig
