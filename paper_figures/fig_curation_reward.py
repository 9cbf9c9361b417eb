"""Curation raises the expected reward by at least its variance.

Population chain p_{t+1} = p_t H^K_{p_t} on 200 atoms with 8 reward levels in [0, 2] (p_0 drawn
once from a Dirichlet(1) law, fixed seed), K = 2, 4, 16. (a) E_{p_t}[e^r] (solid) rises to
e^{r*} (dotted) and stays above the Lemma 2.2 floor E_{p_{t−1}}[e^r] + (K−1)/K ·
Var_{p_{t−1}}[e^r]/e^{r*} (dashed). (b) The check made visible: the gain of each generation,
E_{p_t}[e^r] − E_{p_{t−1}}[e^r], divided by the gain the lemma guarantees, (K−1)/K ·
Var_{p_{t−1}}[e^r]/e^{r*}; Lemma 2.2 holds where the ratio is at least 1 (dashed). (c) The reward
variance Var_{p_t}[e^r] vanishes: the loop loses diversity in reward. Ferbach et al., NeurIPS
2024, Lemma 2.2.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import curation_reward_table

from ._registry import (PAGE_WIDTH, bound_line, categorical, encoding_handles, panel_letters, ref_line,
                        register_figure, theory_line, value_legend)


@register_figure(slug="curation_reward", caption=__doc__.split("\n\n")[1], table=curation_reward_table,
                 claims=("curation.lemma22_gain",))
def plot(df):
    Ks = sorted(df["K"].unique())
    colors = dict(zip(Ks, categorical(len(Ks))))
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(PAGE_WIDTH, 2.4))
    for K in Ks:
        d = df[df["K"] == K].sort_values("generation")
        col = colors[K]
        t = d["generation"].to_numpy()
        m, v, fl = (d[k].to_numpy() for k in ("mean_exp_reward", "var_exp_reward", "lemma22_floor"))
        theory_line(a, t, m, color=col)
        bound_line(a, t, fl, color=col)
        gain, promised = m[1:] - m[:-1], fl[1:] - m[:-1]
        ok = promised > 1e-12 * np.abs(m[:-1])  # the ratio is meaningless once both gains are rounding noise
        theory_line(b, t[1:][ok], gain[ok] / promised[ok], color=col, marker="o", ms=2.2)
        theory_line(c, t, v, color=col)
    ref_line(a, float(df["e_rstar"].iloc[0]))
    bound_line(b, [0, float(df["generation"].max())], [1.0, 1.0], color="0.3")
    a.set_ylabel(r"$E_{p_t}[e^r]$")
    b.set_ylabel(r"gain / Lemma 2.2 guaranteed gain")
    b.set_ylim(bottom=0.0)
    c.set_yscale("log")
    c.set_ylabel(r"$\mathrm{Var}_{p_t}[e^r]$")
    for x in (a, b, c):
        x.set_xlabel("generation $t$")
    hs, ls = value_legend({K: colors[K] for K in Ks}, "$K = {:g}$")
    h2, l2 = encoding_handles(theory="population chain (exact)", bound="Lemma 2.2 floor (a), ratio 1 (b)",
                              ref=r"$e^{r^*}$")
    fig.legend(hs + h2, ls + l2, loc="outside lower center", ncol=6)
    panel_letters([a, b, c])
    return fig
