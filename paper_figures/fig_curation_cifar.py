"""Curation amplifies the reward model's bias; real data suppresses it (CIFAR-10 in miniature).

Ten balanced classes of atoms; reward = 5 × classifier confidence, whose mean differs by class
(legend). K = 4. Top: class proportions of the model over 20 generations, retrained only on
curated synthetic samples (left: the most confidently classified classes take over) and on the
real data plus curated samples with λ = 1/2 (right: proportions stay near 1/10). Lines: perfect
learner (population chain); dots: three finite-sample runs (2 500 curated samples per
generation). Bottom: mean confidence — it rises to the top, or rises then plateaus with real
data. In the spirit of Ferbach et al., NeurIPS 2024, §4 (Theorems 2.1, 2.3, 2.4).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

from selfconsume.analysis.tables import curation_cifar_table

from ._registry import register_figure


@register_figure(slug="curation_cifar", caption=__doc__.split("\n\n")[1], table=curation_cifar_table)
def plot(df):
    regimes = list(dict.fromkeys(df["regime"]))
    props = df[df["quantity"] == "proportion"]
    order = props.groupby("cls")["class_mean_confidence"].first().sort_values()
    colors = dict(zip(order.index, sns.color_palette("viridis", len(order))))
    fig, axes = plt.subplots(2, len(regimes), figsize=(10, 6.5), sharex=True,
                             gridspec_kw={"height_ratios": [2, 1]})
    for j, regime in enumerate(regimes):
        ax = axes[0, j]
        d = props[props["regime"] == regime]
        for c, conf in order.items():
            pop = d[(d["source"] == "population") & (d["cls"] == c)]
            ax.plot(pop["generation"], pop["value"], color=colors[c], lw=1.5,
                    label=f"class {c} (mean conf. {conf:.2f})")
            run = d[(d["source"] == "run") & (d["cls"] == c)]
            ax.plot(run["generation"], run["value"], ls="none", marker=".", ms=2.5, color=colors[c], alpha=0.6)
        ax.axhline(0.1, color="0.5", lw=0.8, ls=":")
        ax.set_title(regime, fontsize=10)
        ax.set_ylabel("class proportion")
        rw = df[(df["regime"] == regime) & (df["quantity"] == "mean_reward")]
        ax2 = axes[1, j]
        pop = rw[rw["source"] == "population"]
        ax2.plot(pop["generation"], pop["value"], color="k", lw=1.5, label="population")
        for rep, run in rw[rw["source"] == "run"].groupby("rep"):
            ax2.plot(run["generation"], run["value"], color="C3", lw=0.8, alpha=0.7,
                     label="finite-sample runs" if rep == 0 else None)
        ax2.set_xlabel("generation t")
        ax2.set_ylabel("mean confidence")
    axes[0, 0].legend(fontsize=6.5, ncol=2, loc="upper left")
    axes[1, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig
