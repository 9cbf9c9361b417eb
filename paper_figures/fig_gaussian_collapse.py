"""Gaussian collapse under self-consuming refitting.

(a) σ_t over generations for several n (log scale): Monte-Carlo mean of σ_t with a ±2 SE
band, median and 5–95 % quantile band, against the exact E σ_t = α(n)^t σ_0 (dashed).
The mean follows α(n)^t while the median falls much faster: σ_t → 0 almost surely while
E σ_t² = σ_0² stays constant. Once α(n)^{2t} is small the sample mean is carried by rare
paths and undershoots its (correct) expectation: a finite-sample effect, not a
disagreement. (b) Fraction of paths with σ_t < 10⁻³σ_0 against the exact probability.
Source: Bertrand et al., ICLR 2024, §2.2; exact law derived in shared/theory.md.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

from selfconsume.analysis.tables import collapse_table

from ._registry import register_figure


@register_figure(slug="gaussian_collapse", caption=__doc__.split("\n\n")[1], table=collapse_table)
def plot(df):
    ns = sorted(df["n"].unique())
    colors = dict(zip(ns, sns.color_palette("colorblind", len(ns))))
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    for n in ns:
        d = df[df["n"] == n]
        c = colors[n]
        ax.fill_between(d["generation"], d["q05"], d["q95"], color=c, alpha=0.12, lw=0)
        ax.fill_between(d["generation"], d["mean_lo"].clip(lower=1e-300), d["mean_hi"], color=c, alpha=0.35, lw=0)
        ax.plot(d["generation"], d["mean"], color=c, lw=1.6, label=f"n = {n}: mean σ_t")
        ax.plot(d["generation"], d["median"], color=c, lw=1.0, ls=":")
        ax.plot(d["generation"], d["predicted_mean"], color="k", lw=0.9, ls="--")
        p = d.dropna(subset=["predicted_frac"])
        bx.plot(d["generation"], d["frac_collapsed"], color=c, lw=1.6, label=f"n = {n}")
        bx.plot(p["generation"], p["predicted_frac"], color="k", lw=0.9, ls="--")
    ax.set_yscale("log")
    ax.set_ylim(1e-8, 3)
    ax.set_xlabel("generation t")
    ax.set_ylabel("σ_t / σ_0")
    ax.set_title("(a) mean (band ±2 SE), median (dotted), 5–95% band;\n dashed: α(n)^t", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    bx.set_xlabel("generation t")
    bx.set_ylabel("P(σ_t < 10⁻³ σ_0)")
    bx.set_title("(b) collapsed fraction; dashed: exact probability", fontsize=10)
    bx.set_ylim(-0.02, 1.02)
    bx.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
