"""Curation amplifies the reward model's bias; real data suppresses it (CIFAR-10 in miniature).

Not CIFAR-10 and no images: a miniature with ten balanced classes of atoms (40 atoms per class at
the quick budget, 200 at the full one) whose "classifier confidence" is made up — drawn per atom
from a Beta law whose mean differs by class (0.55 to 0.90, legend) — and the reward is
5 × confidence; K = 4. Top: class proportions over 20 generations, retrained only on curated
synthetic samples (a: the most confidently classified classes take over) and on the real data
plus curated samples with λ = 1/2 (b: proportions stay near 1/10, dotted, ordered by
confidence; note the zoomed axis). Lines: perfect learner (population chain); circles: mean of
ten finite-sample runs (2 500 curated samples per generation) ± 2 SE, every fifth generation per
class. Bottom (c, d): mean confidence — it rises to the top, or rises then
plateaus with real data. In the spirit of Ferbach et al., NeurIPS 2024, §4 (Theorems 2.1, 2.3).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import curation_cifar_table

from ._registry import (OKABE_ITO, PAGE_WIDTH, categorical, encoding_handles, panel_letters, ref_line, register_figure,
                        sim_points, theory_line, value_legend)


def _runs(d):
    """Mean ± 2 SE over the finite-sample runs, per generation."""
    g = d.groupby("generation")["value"]
    s = g.agg(["mean", "std", "count"]).reset_index()
    m, se = s["mean"].to_numpy(), (s["std"] / np.sqrt(s["count"])).to_numpy()
    return s["generation"].to_numpy(), m, m - 2 * se, m + 2 * se


def _label_ends(ax, ends, colors, min_gap=0.075):
    """Class ids at the right end of their lines, pushed apart to at least ``min_gap`` (axes fraction)."""
    lo, hi = ax.get_ylim()
    items = sorted(((y - lo) / (hi - lo), c) for c, y in ends)
    pos = []
    for y, c in items:
        pos.append(max(y, pos[-1] + min_gap) if pos else y)
    over = pos[-1] - 1.0 if pos else 0
    if over > 0:  # shift down, keeping the gaps
        pos = [p - over for p in pos]
    for p, (_, c) in zip(pos, items):
        ax.annotate(str(c), xy=(1.0, p), xycoords="axes fraction", xytext=(2, 0), textcoords="offset points",
                    va="center", ha="left", fontsize=7, color=colors[c], annotation_clip=False)


@register_figure(slug="curation_cifar", caption=__doc__.split("\n\n")[1], table=curation_cifar_table,
                 claims=("curation.kl_to_top", "curation.thm23_reward_with_real", "curation.exact_equals_luce"))
def plot(df):
    regimes = list(dict.fromkeys(df["regime"]))
    props = df[df["quantity"] == "proportion"]
    order = props.groupby("cls")["class_mean_confidence"].first().sort_values(ascending=False)
    colors = dict(zip(order.index, categorical(len(order))))
    fig, axes = plt.subplots(2, len(regimes), figsize=(PAGE_WIDTH, 3.9), sharex=True,
                             gridspec_kw={"height_ratios": [2, 1]})
    runs = int(df.loc[df["source"] == "run", "rep"].nunique())
    for j, regime in enumerate(regimes):
        ax = axes[0, j]
        d = props[props["regime"] == regime]
        ends = []
        for k, (c, conf) in enumerate(order.items()):
            pop = d[(d["source"] == "population") & (d["cls"] == c)].sort_values("generation")
            theory_line(ax, pop["generation"], pop["value"], color=colors[c], lw=1.0)
            t, m, lo, hi = _runs(d[(d["source"] == "run") & (d["cls"] == c)])
            sel = slice(k % 5, None, 5)
            sim_points(ax, t[sel], m[sel], lo[sel], hi[sel], color=colors[c], ms=2.8)
            ends.append((c, float(pop["value"].iloc[-1])))
        ref_line(ax, 0.1)
        ax.set_ylabel("class proportion")
        ax.set_title(regime.replace("λ", r"$\lambda$"))
        if j > 0:  # with real data the proportions stay near 1/10: zoom
            v = d["value"]
            ax.set_ylim(min(0.1, v.min()) - 0.005, max(0.1, v.max()) + 0.005)
            _label_ends(ax, ends, colors)
        else:
            ax.set_ylim(-0.02, max(0.3, float(d["value"].max()) * 1.05))
            _label_ends(ax, [e for e in ends if e[1] > 0.05], colors)
        bx = axes[1, j]
        rw = df[(df["regime"] == regime) & (df["quantity"] == "mean_reward")]
        pop = rw[rw["source"] == "population"].sort_values("generation")
        theory_line(bx, pop["generation"], pop["value"], color="k")
        t, m, lo, hi = _runs(rw[rw["source"] == "run"])
        sim_points(bx, t[::2], m[::2], lo[::2], hi[::2], color=OKABE_ITO[1])
        bx.set_xlabel("generation $t$")
        bx.set_ylabel("mean confidence")
    hs, ls = value_legend({c: colors[c] for c in order.index}, lambda c: f"class {c} ({order[c]:.2f})")
    h2, l2 = encoding_handles(theory="population chain\n(perfect learner)", sim=f"{runs} finite-sample\nruns, mean ± 2 SE",
                              ref="1/10")
    leg = fig.legend(hs + h2, ls + l2, loc="outside right upper", ncol=1, title="class (mean\nconfidence)")
    leg.get_title().set_ha("left")
    panel_letters([axes[0, 0], axes[0, 1], axes[1, 0], axes[1, 1]])
    return fig

