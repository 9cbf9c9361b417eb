"""Retraining a Gaussian mixture on the 8-Gaussian ring: fully synthetic, with real data, curated.

Left: 1 000 evaluation samples of one replicate after 0, 5, 10, 15 and 20 retrainings (crosses: the
true modes). The learner is an 8-component Gaussian mixture refitted by EM warm-started from the
previous generation (a parametric, well-specified model, so every change is accumulated
estimation error, not model bias; a KDE would also spread by its bandwidth at every generation).
Rows: fully synthetic (1 000 own samples per generation); λ = 1/2 (the 1 000 real points plus 500
own samples); λ = 0 (real data only: the reference); curated fully synthetic, K = 4, with the
clipped reward −5·max(0, d − 0.5), d the distance to the nearer of two opposite modes (dashed
circles: the top set). Right: mode coverage (share of the 8 modes holding ≥ 1/32 of the samples
within 3σ; the three uncurated regimes overlap at 1) and sliced Wasserstein distance SW₂ to a
held-out real sample (log scale), mean ± 2 SE over replicates (markers, bars); dotted: SW₂
between two independent real samples of the same size. Fully synthetic refitting drifts away
from the data (SW₂ more than doubles in 20 generations) though it keeps all 8 modes this long; mixing
in real data keeps SW₂ near the real-data-only reference; curation collapses onto the two
rewarded modes within 2–3 generations. In the spirit of Bertrand et al., ICLR 2024
(shared/theory.md §2.5), who retrain diffusion and flow models.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.gridspec import GridSpec
from matplotlib.patches import Circle

from selfconsume.analysis.tables import continuous_grid_table

from ._registry import register_figure

LIM = 4.6


@register_figure(slug="continuous_grid", caption=__doc__.split("\n\n")[1], table=continuous_grid_table)
def plot(df):
    metric = df[df["kind"] == "metric"]
    regimes = list(dict.fromkeys(metric["regime"]))
    samples = df[df["kind"] == "sample"]
    gens = sorted(samples["generation"].unique())
    modes = df[df["kind"] == "mode"]
    centres = df[df["kind"] == "reward_centre"]
    colors = dict(zip(regimes, sns.color_palette("colorblind", len(regimes))))

    nr, nc = len(regimes), len(gens)
    fig = plt.figure(figsize=(2.15 * nc + 5.2, 2.15 * nr + 0.4))
    gs = GridSpec(nr, nc + 2, figure=fig, width_ratios=[1] * nc + [0.22, 2.3], wspace=0.06, hspace=0.1)
    for i, regime in enumerate(regimes):
        for j, g in enumerate(gens):
            ax = fig.add_subplot(gs[i, j])
            s = samples[(samples["regime"] == regime) & (samples["generation"] == g)]
            ax.scatter(s["x"], s["y"], s=1.2, alpha=0.45, color=colors[regime], lw=0, rasterized=True)
            ax.scatter(modes["x"], modes["y"], marker="x", s=22, color="k", lw=1.0, zorder=3)
            for _, c in centres[centres["regime"] == regime].iterrows():
                ax.add_patch(Circle((c["x"], c["y"]), c["radius"], fill=False, ls="--", lw=0.9, color="C3",
                                    zorder=4))
            ax.set_xlim(-LIM, LIM)
            ax.set_ylim(-LIM, LIM)
            ax.set_aspect("equal")
            ax.set_xticks([-3, 0, 3])
            ax.set_yticks([-3, 0, 3])
            ax.tick_params(labelsize=7, pad=1)
            if i < nr - 1:
                ax.set_xticklabels([])
            if j > 0:
                ax.set_yticklabels([])
            if i == 0:
                ax.set_title(f"t = {g:g}", fontsize=10)
            if j == 0:
                ax.set_ylabel(regime.replace(" (", "\n("), fontsize=9, color=colors[regime])

    right = gs[:, nc + 1].subgridspec(2, 1, hspace=0.28)
    cov_ax, sw_ax = fig.add_subplot(right[0]), fig.add_subplot(right[1])
    for k, regime in enumerate(regimes):
        c = colors[regime]
        for ax, q in ((cov_ax, "mode_coverage"), (sw_ax, "sliced_wasserstein")):
            d = metric[(metric["regime"] == regime) & (metric["quantity"] == q)]
            x = d["generation"] + 0.12 * (k - 1.5)  # small dodge so the bars do not hide each other
            ax.errorbar(x, d["mean"], yerr=[d["mean"] - d["lo"], d["hi"] - d["mean"]], fmt="o-", ms=3, lw=0.8,
                        elinewidth=0.8, capsize=0, color=c, label=regime)
    floor = df.loc[df["kind"] == "floor", "mean"]
    if len(floor):
        sw_ax.axhline(float(floor.iloc[0]), color="0.3", ls=":", lw=1.0, label="two real samples")
    reps = int(metric["reps"].iloc[0])
    cov_ax.set_ylim(-0.03, 1.08)
    cov_ax.set_ylabel("mode coverage")
    cov_ax.set_title(f"mean ± 2 SE over {reps} replicates", fontsize=10)
    cov_ax.legend(fontsize=8, loc="center right", frameon=True)
    cov_ax.set_xticklabels([])
    sw_ax.set_yscale("log")
    sw_ax.set_ylabel("SW₂ to held-out real data")
    sw_ax.set_xlabel("generation t")
    handles = [h for h, lab in zip(*sw_ax.get_legend_handles_labels()) if lab == "two real samples"]
    if handles:
        sw_ax.legend(handles=handles, fontsize=8, loc="lower right", frameon=True)
    for ax in (cov_ax, sw_ax):
        ax.set_xlim(-0.8, max(gens) + 0.8)
    return fig
