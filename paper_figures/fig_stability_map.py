"""Stability map: where the sufficient conditions end, and where the loop really changes.

Student-t₃ location (scale 0.5) fitted by maximum likelihood to the truth
0.6·N(−δ, 1) + 0.4·N(δ, 1), retrained on real data plus λ times as many of its own samples.
Below each curve a theorem certifies local contraction: Bertrand et al. (ρ_B < 1), Ferbach
et al. (ρ_F < 1), and the sharper ρ_♯ < 1 derived here. The exact Jacobian's spectral
radius λκ/(1+λκ) is below 1 for every λ, so no local instability exists at any λ (top of the
map). What does change at a finite λ is global: once the truth is bimodal enough for the
real-data likelihood to have a second local maximum θ₂, above λ_c (red) θ₂ becomes an
attracting fixed point and a loop started near it never returns to θ*.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from selfconsume.analysis.tables import boundary_map_table

from ._registry import register_figure


@register_figure(slug="stability_map", caption=__doc__.split("\n\n")[1], table=boundary_map_table)
def plot(df):
    colors = sns.color_palette("colorblind", 6)
    fig, ax = plt.subplots(figsize=(7.2, 4.4))
    top = 10.0
    ax.fill_between(df["delta"], 1e-3, df["lam_B"], color=colors[3], alpha=0.25, lw=0)
    ax.plot(df["delta"], df["lam_B"], "-.", color=colors[3], lw=1.6, label="λ_B: ρ_B = 1 (Bertrand et al.)")
    ax.plot(df["delta"], df["lam_F"], "--", color=colors[1], lw=1.6, label="λ_F: ρ_F = 1 (Ferbach et al.)")
    ax.plot(df["delta"], df["lam_sharp"], "-", color=colors[2], lw=1.2, label="λ_♯: ρ_♯ = 1 (derived here)")
    bi = df[np.isfinite(df["lam_bistable"])]
    if len(bi):
        ax.plot(bi["delta"], bi["lam_bistable"], "o-", color="tab:red", lw=1.8,
                label="λ_c: a second fixed point attracts")
        ax.fill_between(bi["delta"], bi["lam_bistable"], top, color="tab:red", alpha=0.12, lw=0)
    ax.set_yscale("log")
    ax.set_ylim(1e-3, top)
    ax.set_xlabel("mode separation δ of the truth 0.6·N(−δ,1) + 0.4·N(δ,1)")
    ax.set_ylabel("λ")
    ax.text(0.02, 0.96, "local contraction for every λ (ρ(J) = λκ/(1+λκ) < 1)", transform=ax.transAxes,
            fontsize=8, va="top")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.45, 0.9))
    fig.tight_layout()
    return fig
