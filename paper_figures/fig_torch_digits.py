"""Curated retraining of a trained image generator: the digits miniature of Ferbach et al.'s CIFAR-10 experiment.

A variational auto-encoder (64 → 256 → 16-dimensional latent) pretrained on scikit-learn's 1 797
8 × 8 digits is fine-tuned each generation (150 Adam steps) on 1 000 samples, each kept by the
Luce choice among K = 16 candidates by the reward of a classifier trained once (an MLP; its
held-out accuracy is printed above the figure). Rows:
single-class reward 10·q₃(x) (a–d) and confidence reward 10·maxᵢ qᵢ(x) (e–h). Columns: (a, e)
predicted class proportions, curated only; (b, f) the same with the real digits mixed in
(λ = 1); dotted: 1/10; (c, g) mean reward, both regimes; all three: mean ± 2 SE over replicates
(markers and bars, or bands for the ten classes); (d, h) samples of the first and last
generations, curated only. The single-class reward drives its class to almost every sample; the
confidence reward slowly unbalances the classes towards those the classifier is surest of (bias
amplification); real data hold the proportions near their start. A ten-class miniature on a
laptop CPU, not CIFAR-10.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import torch_digits_table

from ._registry import PAGE_WIDTH, categorical, panel_letters, ref_line, register_figure, sim_points


@register_figure(slug="torch_digits", caption=__doc__.split("\n\n")[1], table=torch_digits_table,
                 claims=("torch.digits_bias",), requires=("torch",))
def plot(df):
    share = df[df["kind"] == "share"]
    rew = df[df["kind"] == "reward"]
    img = df[df["kind"] == "image"]
    acc = float(df.loc[df["kind"] == "meta", "accuracy"].iloc[0])
    rewards = list(dict.fromkeys(share["reward"]))
    regimes = list(dict.fromkeys(share["regime"]))
    classes = sorted(share["class"].astype(int).unique())
    pal = categorical(len(classes))
    rcol = categorical(len(regimes))
    fig = plt.figure(figsize=(PAGE_WIDTH, 2.05 * len(rewards) + 0.7))
    gs = fig.add_gridspec(len(rewards), 4, width_ratios=[1, 1, 1, 1.05])
    lettered = []
    for i, rname in enumerate(rewards):
        row = []
        for j, regime in enumerate(regimes):
            ax = fig.add_subplot(gs[i, j])
            row.append(ax)
            d = share[(share["reward"] == rname) & (share["regime"] == regime)]
            for k in classes:
                dk = d[d["class"] == k].sort_values("generation")
                sim_points(ax, dk["generation"], dk["mean"], dk["lo"], dk["hi"], band=True, color=pal[k], ms=2.4)
                ax.plot(dk["generation"], dk["mean"], color=pal[k], lw=0.6, zorder=2)
            ref_line(ax, 0.1)
            ax.set_ylim(0, 1.02 if "single" in rname else max(0.35, float(d["hi"].max()) + 0.02))
            ax.set_title(regime.replace("λ", r"$\lambda$"), fontsize=7)
            ax.set_xlabel("generation $t$")
            if j == 0:
                ax.set_ylabel(f"{rname} reward\nclass proportion")
        ax = fig.add_subplot(gs[i, 2])
        row.append(ax)
        for j, regime in enumerate(regimes):
            d = rew[(rew["reward"] == rname) & (rew["regime"] == regime)].sort_values("generation")
            sim_points(ax, d["generation"], d["mean"], d["lo"], d["hi"], color=rcol[j],
                       label=regime.replace("λ", r"$\lambda$") if i == 0 else None, ls="-", lw=0.6)
        ax.set_title("mean reward", fontsize=7)
        ax.set_xlabel("generation $t$")
        sub = gs[i, 3].subgridspec(2, 1)
        d = img[(img["reward"] == rname) & (img["regime"] == regimes[0])]
        pix = [c for c in df.columns if c.startswith("p") and c[1:].isdigit()]
        for r, g in enumerate(sorted(d["generation"].unique())):
            rows = d[d["generation"] == g].sort_values("index")[pix].to_numpy()
            side = round(np.sqrt(rows.shape[1]))
            tiles = [np.pad(x.reshape(side, side), 1, constant_values=0.0) for x in rows]
            half = (len(tiles) + 1) // 2  # two rows of tiles
            tiles += [np.zeros_like(tiles[0])] * (2 * half - len(tiles))
            strip = np.concatenate([np.concatenate(tiles[:half], axis=1), np.concatenate(tiles[half:], axis=1)], axis=0)
            ax = fig.add_subplot(sub[r])
            ax.imshow(strip, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for sp in ax.spines.values():
                sp.set_visible(False)
            ax.set_ylabel(f"$t = {int(g)}$", fontsize=7)
            if r == 0:
                ax.set_title(f"samples, {regimes[0]}", fontsize=7)
                row.append(ax)
        lettered += row
    reps = int(share["reps"].iloc[0])
    from matplotlib.lines import Line2D

    h1, l1 = [Line2D([], [], color=pal[k], lw=3) for k in classes], [str(k) for k in classes]
    h2, l2 = lettered[2].get_legend_handles_labels()
    fig.legend(h1, l1, loc="outside lower left", ncol=10, title="predicted class (mean ± 2 SE)",
               handlelength=1.2, columnspacing=0.6)
    fig.legend(h2, l2, loc="outside lower right", ncol=1, title=f"mean reward ± 2 SE, {reps} replicates")
    fig.suptitle(f"reward classifier: held-out accuracy {acc:.3f}", fontsize=8)
    panel_letters(lettered)
    return fig
