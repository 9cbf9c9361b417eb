"""Curation raises the expected reward by at least its variance.

Population chain p_{t+1} = p_t H^K_{p_t} on 200 atoms with 8 reward levels in [0, 2]:
E_{p_t}[e^r] (left) rises to e^{r*} and stays above the Lemma 2.2 floor
E_{p_{t-1}}[e^r] + (K−1)/K · Var_{p_{t-1}}[e^r]/e^{r*} (markers) at every step, while the
reward variance (right) vanishes — the loop loses diversity in reward. Ferbach et al.,
NeurIPS 2024, Lemma 2.2.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

from selfconsume.analysis.tables import curation_reward_table

from ._registry import register_figure


@register_figure(slug="curation_reward", caption=__doc__.split("\n\n")[1], table=curation_reward_table)
def plot(df):
    Ks = sorted(df["K"].unique())
    colors = dict(zip(Ks, sns.color_palette("viridis", len(Ks))))
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 3.8))
    for K in Ks:
        d = df[df["K"] == K]
        c = colors[K]
        a.plot(d["generation"], d["mean_exp_reward"], color=c, lw=1.6, label=f"K = {K:g}")
        a.plot(d["generation"], d["lemma22_floor"], ls="none", marker="o", ms=3, mfc="none", color=c)
        b.plot(d["generation"], d["var_exp_reward"], color=c, lw=1.6)
    a.axhline(df["e_rstar"].iloc[0], color="0.4", lw=0.8, ls=":", label=r"$e^{r^*}$")
    a.set_xlabel("generation t")
    a.set_ylabel(r"$E_{p_t}[e^r]$")
    a.set_title(r"lines: $E_{p_t}[e^r]$; circles: Lemma 2.2 floor", fontsize=10)
    a.legend(fontsize=8, loc="lower right")
    b.set_yscale("log")
    b.set_xlabel("generation t")
    b.set_ylabel(r"$\mathrm{Var}_{p_t}[e^r]$")
    fig.tight_layout()
    return fig
