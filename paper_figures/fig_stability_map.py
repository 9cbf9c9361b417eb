"""Stability map: where the sufficient conditions end, and where the loop really changes.

Student-t₃ location (scale 0.5) fitted by maximum likelihood to the truth
0.6·N(−δ, 1) + 0.4·N(δ, 1), retrained on real data plus λ times as many of its own samples; the
plane (δ, λ) split into labelled regions. Green: a theorem certifies local contraction at the
optimum θ* — below the dashed curves λ_B (ρ_B = 1, Bertrand et al.), λ_F (ρ_F = 1, Ferbach et
al.) and λ_♯ (ρ_♯ = 1, derived here), darker where more of the three do. These curves are where
the sufficient conditions end, not stability boundaries: the exact Jacobian's spectral radius
λκ/(1+λκ) is below 1 for every λ, so θ* stays locally stable in the whole plane, including the
white region that no bound covers. What changes at a finite λ is global: once the truth is
bimodal enough for the real-data likelihood to have a second local maximum θ₂, above λ_c (solid
curve; markers: computed points) θ₂ becomes an attracting fixed point too (hatched: two
attracting fixed points), and a loop started near θ₂ never returns to θ*. θ₂ is born at a fold
of the likelihood at δ₀ ≈ 2.68 (dotted vertical; located by bisection to 10⁻⁴), where λ_c jumps
from ∞ to a finite value (≈ 0.21): the bistable region has a vertical left edge.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import boundary_map_table

from ._registry import COLUMN_WIDTH, OKABE_ITO, bound_line, register_figure, theory_line

TOP, BOTTOM = 10.0, 1e-3


@register_figure(slug="stability_map", caption=__doc__.split("\n\n")[1], table=boundary_map_table,
                 claims=("stability.boundary", "stability.jacobian_bounds"))
def plot(df):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    verm, green, purple = OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[3]
    d = df.sort_values("delta")
    x = d["delta"].to_numpy()
    lb, lf, ls_ = (d[c].to_numpy() for c in ("lam_B", "lam_F", "lam_sharp"))
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6))
    ax.grid(False)
    ax.fill_between(x, BOTTOM, lb, color=green, alpha=0.55, lw=0)
    ax.fill_between(x, lb, lf, color=green, alpha=0.35, lw=0)
    ax.fill_between(x, lf, ls_, color=green, alpha=0.18, lw=0)
    bound_line(ax, x, lb, color=purple)
    bound_line(ax, x, lf, color=verm)
    bound_line(ax, x, ls_, color=green)
    bi = d[np.isfinite(d["lam_bistable"])]
    if len(bi):
        ax.fill_between(bi["delta"], bi["lam_bistable"], TOP, facecolor="none", edgecolor=verm, hatch="////",
                        lw=0, alpha=0.6)
        theory_line(ax, bi["delta"], bi["lam_bistable"], color="k", marker="o", ms=2.5)
        d0 = float(bi["delta"].iloc[0])
        ax.plot([d0] * 2, [bi["lam_bistable"].iloc[0], TOP], color="k", lw=0.8, ls=":")
        ax.text(d0, 0.55 * TOP, r"$\delta_0$ ", ha="right", va="top", fontsize=7)
        xm = 0.5 * (float(bi["delta"].iloc[0]) + x.max())
        ax.text(xm, 1.2, "bistable:\n$\\theta^*$ and $\\theta_2$\nattract", ha="center", va="center", fontsize=7,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.9})
    ax.text(0.05, 2.2, "locally stable at every $\\lambda$\n($\\rho(J) < 1$), not certified\nby any bound",
            ha="left", va="center", fontsize=7)
    ax.text(0.05, 0.0025, "certified: contraction\nproven by the bounds", ha="left", va="bottom", fontsize=7,
            color="k")
    ax.set_yscale("log")
    ax.set_ylim(BOTTOM, TOP)
    ax.set_xlim(x.min(), x.max())
    ax.set_xlabel(r"separation $\delta$ of the modes of the truth")
    ax.set_ylabel(r"$\lambda$ (synthetic-to-real ratio)")
    hs = [Line2D([], [], color=purple, ls="--"), Line2D([], [], color=verm, ls="--"),
          Line2D([], [], color=green, ls="--"), Line2D([], [], color="k", marker="o", ms=2.5),
          Patch(color=green, alpha=0.55, lw=0), Patch(facecolor="none", edgecolor=verm, hatch="////", lw=0)]
    labels = [r"$\lambda_B$: $\rho_B = 1$", r"$\lambda_F$: $\rho_F = 1$", r"$\lambda_\sharp$: $\rho_\sharp = 1$",
              r"$\lambda_c$: $\theta_2$ attracts above", "certified (darker: more bounds)", "two attracting points"]
    fig.legend(hs, labels, loc="outside lower center", ncol=2, columnspacing=0.8)
    return fig
