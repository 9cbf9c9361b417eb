"""Retraining on a mix of real and synthetic data converges to the optimum at the rate the Jacobian gives.

Exact population loop θ_{t+1} = G_λ(θ_t) of a Student-t₅ location model fitted to Laplace data
(misspecified), started 0.5 away from the optimum θ*, for λ = 0.05, 0.25, 1 and 4. Markers: the
distance |θ_t − θ*| (exact, down to the rounding of θ* near 1e-16). Solid lines: |θ_0 − θ*| ρ(J)^t with
ρ(J) the spectral radius of the exact Jacobian of G_λ at θ*, which the iteration follows once it
is linear. Dashed: the rates the theorems prove, ρ_F (Ferbach et al. 2024, Thm 2.2) and, where its
condition holds (small λ), ρ_B (Bertrand et al., ICLR 2024, Thm 1), each an upper bound on the
contraction. Bertrand et al. 2024, §2.3 (their stability figure, with the exact rate added).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from selfconsume.analysis.tables import stability_rates_table

from ._registry import COLUMN_WIDTH, bound_line, register_figure, sequential, theory_line, value_legend


@register_figure(slug="stability_rates", caption=__doc__.split("\n\n")[1], table=stability_rates_table,
                 claims=("stability.jacobian_bounds", "stability.contraction_rate"))
def plot(df):
    lams = sorted(df["lam"].unique())
    colors = dict(zip(lams, sequential(len(lams))))
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.2))
    for lam in lams:
        d = df[df["lam"] == lam].sort_values("generation")
        col = colors[lam]
        t = d["generation"].to_numpy()
        e = d["error"].to_numpy()
        keep = e > 1e-14  # below: the rounding of θ* itself
        ax.plot(t[keep], e[keep], ls="none", marker="o", ms=2.8, mfc="none", color=col, zorder=4)
        e0 = e[0]
        theory_line(ax, t, e0 * d["spectral_radius"].iloc[0] ** t, color=col)
        for name, lw in (("rho_F", 1.0), ("rho_B", 1.8)):
            r = d[name].iloc[0]
            if np.isfinite(r):
                bound_line(ax, t, e0 * r**t, color=col, lw=lw)
    ax.set_yscale("log")
    ax.set_ylim(1e-15, 2.0)
    ax.set_xlabel("generation $t$")
    ax.set_ylabel(r"$|\theta_t - \theta^*|$")
    hs, ls = value_legend({lam: colors[lam] for lam in lams}, r"$\lambda = {:g}$")
    hs += [Line2D([], [], color="k", ls="none", marker="o", mfc="none", ms=2.8), Line2D([], [], color="k", lw=1.2),
           Line2D([], [], color="k", ls="--", lw=1.0), Line2D([], [], color="k", ls="--", lw=1.8)]
    ls += ["exact loop", r"$\rho(J)^t$ (exact Jacobian)", r"$\rho_F^t$ (bound)", r"$\rho_B^t$ (bound)"]
    fig.legend(hs, ls, loc="outside lower center", ncol=2)
    return fig
