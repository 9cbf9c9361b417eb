"""Curated retraining converges to the best samples present at the start, at the predicted geometric rate.

Population chain of the 6-atom example of theory.md §1.2 (top gap 0.2), K = 2, 4, 16 and ∞.
(a) KL(p*‖p_t), p* = p_0 restricted to its top reward level, computed from the definition at
every generation (circles, every 8th generation drawn), against Theorem 2.1's geometric rate
C·ρ_2^t, ρ_2 = K e^{−0.2}/(e^{−0.2} + K − 1) (lines, anchored at the last generation). (b) The
check that can fail: the measured one-step ratio KL(p*‖p_{t+1})/KL(p*‖p_t) of the chain
(circles) converges to the predicted ρ_2 (lines). The identity KL(p*‖p_t) = −log P_t(r = r*)
holds to rounding at every t (claim curation.kl_to_top; not drawn). Ferbach et al., NeurIPS 2024,
Theorem 2.1.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import curation_kl_table

from ._registry import (PAGE_WIDTH, encoding_handles, panel_letters, register_figure, sequential, sim_points,
                        theory_line, value_legend)


def _klabel(K):
    return r"$K = \infty$" if np.isinf(K) else f"$K = {K:g}$"


@register_figure(slug="curation_kl", caption=__doc__.split("\n\n")[1], table=curation_kl_table,
                 claims=("curation.kl_to_top",))
def plot(df):
    Ks = sorted(df["K"].unique())
    colors = dict(zip(Ks, sequential(len(Ks))))
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.5))
    for k, K in enumerate(Ks):
        d = df[(df["K"] == K) & (df["kl"] > 1e-15)].sort_values("generation")
        c = colors[K]
        t, kl = d["generation"].to_numpy(), d["kl"].to_numpy()
        theory_line(ax, t, d["geometric"], color=c)
        sim_points(ax, t[k * 2::8], kl[k * 2::8], color=c)
        ratio = kl[1:] / kl[:-1]
        rho2 = float(d["rho2"].iloc[0])
        theory_line(bx, [t[0], t[-1]], [rho2, rho2], color=c)
        sim_points(bx, t[:-1][k::4], ratio[k::4], color=c, ms=2.6)
    ax.set_yscale("log")
    ax.set_ylabel(r"$\mathrm{KL}(p^*\,\|\,p_t)$")
    bx.set_ylabel(r"$\mathrm{KL}(p^*\|p_{t+1})\,/\,\mathrm{KL}(p^*\|p_t)$")
    for a in (ax, bx):
        a.set_xlabel("generation $t$")
    from matplotlib.lines import Line2D
    hs, ls = value_legend({K: colors[K] for K in Ks},
                          lambda K: f"{_klabel(K)} ($\\rho_2$ = {df.loc[df['K'] == K, 'rho2'].iloc[0]:.3f})")
    h2, l2 = encoding_handles(theory=r"Theorem 2.1: rate $\rho_2$", sim="population chain, from the definition")
    h2[1] = Line2D([], [], ls="none", marker="o", ms=3.2, mfc="white", mec="k", mew=0.8)
    fig.legend(hs + h2, ls + l2, loc="outside lower center", ncol=3)
    panel_letters([ax, bx])
    return fig
