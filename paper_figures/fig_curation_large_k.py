"""Many candidates turn curation into the RLHF tilt, at rate 1/K.

max_x |p H^K_p − p e^r/E_p e^r| against K (log-log, solid) for two examples, with the
first-order term max_x |p c_1|/K (dashed, slope −1; c_1 derived with sympy) and the
remainder after it (dotted, slope −2). The exact operator stays accurate up to K = 10⁶.
Ferbach et al., NeurIPS 2024, Lemma 2.1; theory.md §1.2 item 4.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

from selfconsume.analysis.tables import curation_large_k_table

from ._registry import register_figure


@register_figure(slug="curation_large_k", caption=__doc__.split("\n\n")[1], table=curation_large_k_table)
def plot(df):
    names = list(dict.fromkeys(df["example"]))
    colors = dict(zip(names, sns.color_palette("colorblind", len(names))))
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for name in names:
        d = df[df["example"] == name]
        c = colors[name]
        ax.plot(d["K"], d["max_abs"], color=c, lw=1.8, marker="o", ms=3, label=name)
        ax.plot(d["K"], d["first_order"], color=c, lw=1.0, ls="--")
        ax.plot(d["K"], d["second_order_residual"], color=c, lw=1.0, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("K (candidates per curation)")
    ax.set_ylabel(r"$\max_x |p H^K_p - p e^r / E_p e^r|$")
    ax.set_title(r"dashed: $\max|p c_1|/K$;  dotted: remainder ($\propto K^{-2}$)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
