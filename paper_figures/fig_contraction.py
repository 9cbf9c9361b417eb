"""How tight are the stability bounds? Contraction rate of retraining with real data vs λ.

For three misspecified non-exponential models (population loop, perfect optimisation),
the measured contraction rate (dots: iterating the retraining map from θ* + 0.05) equals
the spectral radius of the exact Jacobian J = λ(M + λN)⁻¹N (solid) and sits just below
λ/(1+λ) (the exact rate of any exponential family, dotted); Ferbach et al.'s ρ_F (dashed)
and Bertrand et al.'s ρ_B (dash-dotted, drawn only where its condition λ(1 + Lε/α) < 1
holds) are sufficient bounds, with ρ_♯ (thin) a sharper one derived here. Diamonds: the
finite-sample Gaussian loop (n = 200 real points), slope of D_{t+1} on D_t with ±2 SE,
against its exact value ⌊λn⌋/(n + ⌊λn⌋).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

from selfconsume.analysis.tables import contraction_table

from ._registry import register_figure


@register_figure(slug="contraction", caption=__doc__.split("\n\n")[1], table=contraction_table)
def plot(df):
    pop = [m for m in dict.fromkeys(df["model"]) if "finite sample" not in m]
    fin = [m for m in dict.fromkeys(df["model"]) if "finite sample" in m]
    fig, axes = plt.subplots(1, len(pop), figsize=(4.2 * len(pop), 4.0), sharey=True)
    colors = sns.color_palette("colorblind", 6)
    for ax, name in zip(axes, pop):
        d = df[df["model"] == name]
        ax.plot(d["lam"], d["lam_ratio"], ":", color="k", lw=1.2, label="λ/(1+λ)")
        ax.plot(d["lam"], d["spectral_radius"], "-", color=colors[0], lw=1.8, label="ρ(J) exact")
        ax.plot(d["lam"], d["measured"], "o", color=colors[0], ms=4, label="measured (iteration)")
        ax.plot(d["lam"], d["rho_sharp"], "-", color=colors[2], lw=0.9, label="ρ_♯ (derived here)")
        ax.plot(d["lam"], d["rho_F"], "--", color=colors[1], lw=1.4, label="ρ_F (Ferbach et al.)")
        ax.plot(d["lam"], d["rho_B"], "-.", color=colors[3], lw=1.4, label="ρ_B (Bertrand et al.)")
        for f in fin:
            g = df[df["model"] == f]
            ax.errorbar(g["lam"], g["measured"], yerr=2 * g["measured_se"], fmt="D", ms=4, color=colors[4],
                        elinewidth=1, label=f)
        ax.axhline(1.0, color="0.6", lw=0.8)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.3)
        ax.set_xlabel("λ (synthetic-to-real ratio)")
        c = d.iloc[0]
        ax.set_title(f"{name}\nα = {c['alpha']:.3f}, L = {c['L']:.3f}, ε = {c['eps']:.3f}", fontsize=9)
    axes[0].set_ylabel("contraction rate per generation")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
