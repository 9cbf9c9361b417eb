"""Replace vs accumulate vs accumulate-subsample.

MLE Gaussian fits (Kazdan et al., ICML 2025 protocol), n = 20 real points and λ = 1:
(a) mean-squared error of μ_t, (b) E σ_t²/σ². Fully synthetic refitting drifts (with the
MLE, up to E(μ_t − μ)² → σ²) and collapses; refitting on real + fresh synthetic data stays
at its stationary error; accumulating every generation's data keeps the error below π²/6
times the first generation's (dotted) and σ² above σ²·sin(π/√n)/(π/√n); the fixed-compute
subsample of the pool settles at a larger error and a smaller variance. Dashed: exact
values (closed forms or exact finite-n recursions); bands: ±2 SE.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import seaborn as sns

from selfconsume.analysis.tables import workflows_table

from ._registry import register_figure


@register_figure(slug="workflows", caption=__doc__.split("\n\n")[1], table=workflows_table)
def plot(df):
    names = list(dict.fromkeys(df["workflow"]))
    colors = dict(zip(names, sns.color_palette("colorblind", len(names))))
    n = int(df["n"].iloc[0])
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in names:
        d = df[df["workflow"] == name]
        c = colors[name]
        for axis, col in ((ax, "mse_mu"), (bx, "sigma2")):
            axis.fill_between(d["generation"], d[col] - 2 * d[col + "_se"], d[col] + 2 * d[col + "_se"],
                              color=c, alpha=0.25, lw=0)
            axis.plot(d["generation"], d[col], color=c, lw=1.6, label=name)
            axis.plot(d["generation"], d["exact_" + col], color="k", lw=0.8, ls="--")
    ax.axhline(math.pi**2 / 6 / n, color="k", ls=":", lw=1, label="π²/6 · σ²/n")
    bx.axhline(math.sin(math.pi / math.sqrt(n)) / (math.pi / math.sqrt(n)), color="k", ls=":", lw=1,
               label="sin(π/√n)/(π/√n)")
    ax.set_yscale("log")
    ax.set_xlabel("generation t")
    ax.set_ylabel("E (μ_t − μ)²")
    ax.set_title("(a) error of the mean", fontsize=10)
    bx.set_xlabel("generation t")
    bx.set_ylabel("E σ_t² / σ²")
    bx.set_title("(b) variance kept", fontsize=10)
    ax.legend(fontsize=8)
    bx.legend(fontsize=8)
    fig.tight_layout()
    return fig
