"""How tight are the stability bounds? Contraction rate of retraining with real data vs λ.

For three misspecified non-exponential models (population loop, perfect optimisation), the
measured contraction rate (circles: iterating the retraining map from θ* + 0.05) equals the
spectral radius of the exact Jacobian J = λ(M + λN)⁻¹N (solid line) and sits just below
λ/(1+λ) (dotted: the exact rate of any exponential family). Dashed: sufficient bounds,
Ferbach et al.'s ρ_F, Bertrand et al.'s ρ_B (drawn only where its condition λ(1 + Lε/α) < 1
holds) and the sharper ρ_♯ derived here; the grey line marks rate 1. Diamonds: the
finite-sample Gaussian loop (n = 200 real points, 2 000 paths), the slope of D_{t+1} on D_t
with ±2 SE, against its exact value ⌊λn⌋/(n + ⌊λn⌋) (thin solid line, same colour). Each
panel's title gives the model's constants α, L, ε.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from selfconsume.analysis.tables import contraction_table

from ._registry import (OKABE_ITO, PAGE_WIDTH, bound_line, encoding_handles, panel_letters, ref_line,
                        register_figure, sim_points, theory_line)


def _title(name):
    fam, _, truth = name.partition(" | ")
    return f"{fam},\n{truth}" if truth else name


@register_figure(slug="contraction", caption=__doc__.split("\n\n")[1], table=contraction_table,
                 claims=("stability.contraction_rate", "stability.jacobian_bounds",
                         "stability.exact_jacobian_expfamily", "mixing.contraction_slope"))
def plot(df):
    pop = [m for m in dict.fromkeys(df["model"]) if "finite sample" not in m]
    fin = [m for m in dict.fromkeys(df["model"]) if "finite sample" in m]
    blue, verm, green, purple, orange = OKABE_ITO[:5]
    fig, axes = plt.subplots(1, len(pop), figsize=(PAGE_WIDTH, 2.75), sharey=True)
    for ax, name in zip(axes, pop):
        d = df[df["model"] == name]
        ref_line(ax, 1.0)
        ax.plot(d["lam"], d["lam_ratio"], ":", color="k", lw=1.0, zorder=2)
        theory_line(ax, d["lam"], d["spectral_radius"], color=blue)
        sim_points(ax, d["lam"], d["measured"], color=blue)
        bound_line(ax, d["lam"], d["rho_sharp"], color=green)
        bound_line(ax, d["lam"], d["rho_F"], color=verm)
        bound_line(ax, d["lam"], d["rho_B"], color=purple)
        for f in fin:
            g = df[df["model"] == f]
            theory_line(ax, g["lam"], g["spectral_radius"], color=orange, lw=0.8)
            sim_points(ax, g["lam"], g["measured"], g["measured"] - 2 * g["measured_se"],
                       g["measured"] + 2 * g["measured_se"], color=orange, marker="D", ms=2.8)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.3)
        ax.set_xlabel(r"$\lambda$ (synthetic-to-real ratio)")
        c = d.iloc[0]
        ax.set_title(f"{_title(name)}\n" + rf"$\alpha$ = {c['alpha']:.3f}, $L$ = {c['L']:.3f}, "
                     rf"$\varepsilon$ = {c['eps']:.3f}", fontsize=7)
    axes[0].set_ylabel("contraction rate per generation")
    from matplotlib.lines import Line2D

    hs, ls = encoding_handles(theory=r"$\rho(J)$, exact Jacobian", sim="measured by iterating the map",
                              color=blue)
    hs[1] = Line2D([], [], ls="none", marker="o", ms=3.2, mfc="white", mec=blue, mew=0.8)
    hs += [Line2D([], [], color="k", ls=":", lw=1.0),
           Line2D([], [], color=green, ls="--"), Line2D([], [], color=verm, ls="--"),
           Line2D([], [], color=purple, ls="--")]
    ls += [r"$\lambda/(1+\lambda)$ (exponential families)", r"bound $\rho_\sharp$ (derived here)",
           r"bound $\rho_F$ (Ferbach et al.)", r"bound $\rho_B$ (Bertrand et al.)"]
    if fin:
        h, l = encoding_handles(theory=r"exact $\lfloor\lambda n\rfloor/(n+\lfloor\lambda n\rfloor)$",
                                sim=fin[0] + ", ±2 SE", color=orange)
        h[1] = Line2D([], [], ls="none", marker="D", ms=2.8, mfc="white", mec=orange, mew=0.8)
        hs += h
        ls += l
    fig.legend(hs, ls, loc="outside lower center", ncol=3)
    panel_letters(axes, offset=(-2.0, 24.0))
    return fig
