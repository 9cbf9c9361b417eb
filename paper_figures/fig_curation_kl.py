"""Curated retraining converges to the best samples present at the start.

KL(p*‖p_t), p* = p_0 restricted to its top reward level (6-atom example of theory.md §1.2,
top gap 0.2), for K = 2, 4, 16 and ∞ (lines, from the definition); crosses: −log P_t(r = r*),
equal to it at every t; dashed: the geometric rate ρ_2^t, ρ_2 = K e^{−0.2}/(e^{−0.2} + K − 1),
anchored at the last generation. Ferbach et al., NeurIPS 2024, Theorem 2.1.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from selfconsume.analysis.tables import curation_kl_table

from ._registry import register_figure


@register_figure(slug="curation_kl", caption=__doc__.split("\n\n")[1], table=curation_kl_table)
def plot(df):
    Ks = sorted(df["K"].unique())
    colors = dict(zip(Ks, sns.color_palette("rocket", len(Ks) + 1)))
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for K in Ks:
        d = df[(df["K"] == K) & (df["kl"] > 1e-15)]
        c = colors[K]
        lab = "K = ∞" if np.isinf(K) else f"K = {K:g}"
        ax.plot(d["generation"], d["kl"], color=c, lw=1.6, label=f"{lab} (ρ₂ = {d['rho2'].iloc[0]:.3f})")
        ax.plot(d["generation"][::8], d["neg_log_top"][::8], ls="none", marker="x", ms=4, color=c)
        ax.plot(d["generation"], d["geometric"], color=c, lw=0.9, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("generation t")
    ax.set_ylabel(r"$\mathrm{KL}(p^* \| p_t)$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
