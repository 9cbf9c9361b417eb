"""Real data keeps the loop near the data.

σ_t (median, 5–95 % band) of a Gaussian refitted with the unbiased estimator on n = 50
points per generation: fully synthetic (grey), and with the n real points reused plus
⌊λn⌋ fresh synthetic points per generation for λ ∈ {0.1, 0.5, 1, 2}. Fully synthetic paths
collapse (σ_t → 0 a.s.); mixed paths stay within O(1/√n) of the data, at the exact
stationary E σ_t² (dashed; exact finite-n recursion). Bertrand et al., ICLR 2024.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from selfconsume.analysis.tables import mixing_paths_table

from ._registry import register_figure


@register_figure(slug="mixing_paths", caption=__doc__.split("\n\n")[1], table=mixing_paths_table)
def plot(df):
    lams = sorted(df["lam"].dropna().unique())
    colors = dict(zip(lams, sns.color_palette("viridis", len(lams))))
    fig, ax = plt.subplots(figsize=(7.5, 4.3))
    syn = df[df["lam"].isna()]
    ax.fill_between(syn["generation"], syn["q05"], syn["q95"], color="0.5", alpha=0.2, lw=0)
    ax.plot(syn["generation"], syn["median"], color="0.3", lw=1.8, label="fully synthetic (median)")
    for lam in lams:
        d = df[df["lam"] == lam]
        c = colors[lam]
        ax.fill_between(d["generation"], d["q05"], d["q95"], color=c, alpha=0.18, lw=0)
        ax.plot(d["generation"], d["median"], color=c, lw=1.6, label=f"λ = {lam:g}")
        ax.plot(d["generation"], np.sqrt(d["exact_sigma2"]), color=c, lw=0.9, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("generation t")
    ax.set_ylabel("σ_t / σ")
    ax.set_title(f"n = {int(df['n'].iloc[0])}: median and 5–95% band; dashed: sqrt(exact E σ_t²)", fontsize=10)
    ax.legend(fontsize=8, loc="lower left", ncol=2)
    fig.tight_layout()
    return fig
