"""Many candidates turn curation into the RLHF tilt, at rate 1/K.

The distance max_x |p H^K_p − p e^r/E_p e^r| between the curated law with K candidates and its
K = ∞ limit, the RLHF tilt, computed with the exact operator for K = 2 … 10⁶ (circles), for two
examples: 6 atoms on 4 reward levels in [0, 1] (p = (0.3, 0.2, 0.15, 0.2, 0.1, 0.05)) and 50
atoms with p ~ Dirichlet(1) and r ~ N(0, 1) (fixed seed). Lines: the first-order prediction
max_x |p c_1|/K, with c_1 derived in closed form (sympy); it meets the exact distance from
K ≈ 10 on. Triangles: the remainder after the first-order term, max_x |p H^K_p − tilt − p c_1/K|,
which falls like K⁻² (dotted guide). The exact operator stays accurate up to K = 10⁶.
Ferbach et al., NeurIPS 2024, Lemma 2.1.
"""

from __future__ import annotations


import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import curation_large_k_table

from ._registry import COLUMN_WIDTH, categorical, register_figure, sim_points, theory_line, value_legend

def _name(example: str) -> str:
    """The table's example name with its formula in mathtext."""
    return example.replace("r ~ N(0, 1)", r"$r \sim N(0,1)$")


@register_figure(slug="curation_large_k", caption=__doc__.split("\n\n")[1], table=curation_large_k_table,
                 claims=("curation.large_K", "curation.rlhf_tilt"))
def plot(df):
    names = list(dict.fromkeys(df["example"]))
    colors = dict(zip(names, categorical(len(names))))
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.3))
    for name in names:
        d = df[df["example"] == name].sort_values("K")
        c = colors[name]
        sim_points(ax, d["K"], d["max_abs"], color=c)
        theory_line(ax, d["K"], d["first_order"], color=c, lw=1.0)
        sim_points(ax, d["K"], d["second_order_residual"], color=c, marker="^", ms=2.8)
    K = np.array([df["K"].min(), df["K"].max()], float)
    r0 = df[df["K"] == df["K"].max()]["second_order_residual"].max()
    ax.plot(K, 3 * r0 * (K / K[1]) ** -2.0, ls=":", color="0.45", lw=0.9)  # guide of slope −2
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$K$ (candidates per curation)")
    ax.set_ylabel(r"$\max_x |p H^K_p - p\,e^r / E_p e^r|$")
    from matplotlib.lines import Line2D
    hs, ls = value_legend({n: colors[n] for n in names}, _name)
    mk = {"ls": "none", "mfc": "white", "mew": 0.8, "mec": "k"}
    hs += [Line2D([], [], ls="none", marker="o", ms=3.2, mfc="white", mec="k", mew=0.8),
           Line2D([], [], color="k", lw=1.0),
           Line2D([], [], marker="^", ms=2.8, **mk), Line2D([], [], ls=":", color="0.45", lw=0.9)]
    ls += ["exact operator", r"first order $\max|p\,c_1|/K$", "remainder after it", r"slope $K^{-2}$"]
    fig.legend(hs, ls, loc="outside lower center", ncol=2)
    return fig
