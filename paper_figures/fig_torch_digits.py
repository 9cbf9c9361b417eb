"""Curated retraining of a trained image generator: the digits miniature of Ferbach et al.'s CIFAR-10 experiment.

A variational auto-encoder (64 → 256 → 16-dimensional latent) pretrained on scikit-learn's 1 797
8 × 8 digits is fine-tuned each generation (150 Adam steps) on 1 000 samples, each kept by the
Luce choice among K = 16 candidates by the reward of a classifier trained once (an MLP, held-out
accuracy in the title). Rows: single-class reward 10·q₃(x) and confidence reward
10·maxᵢ qᵢ(x). Columns: (a) predicted class proportions, curated only; (b) the same with the
real digits mixed in (λ = 1); (c) mean reward, both regimes, mean ± 2 SE over replicates;
(d) samples of the first and last generations, curated only. The single-class reward drives its
class to almost every sample; the confidence reward slowly unbalances the classes towards those
the classifier is surest of (bias amplification); real data hold the proportions near their
start. A ten-class miniature on a laptop CPU, not CIFAR-10.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.gridspec import GridSpec

from selfconsume.analysis.tables import torch_digits_table

from ._registry import register_figure


@register_figure(slug="torch_digits", caption=__doc__.split("\n\n")[1], table=torch_digits_table,
                 requires=("torch",))
def plot(df):
    share = df[df["kind"] == "share"]
    rew = df[df["kind"] == "reward"]
    img = df[df["kind"] == "image"]
    acc = float(df.loc[df["kind"] == "meta", "accuracy"].iloc[0])
    rewards = list(dict.fromkeys(share["reward"]))
    regimes = list(dict.fromkeys(share["regime"]))
    classes = sorted(share["class"].astype(int).unique())
    pal = sns.color_palette("tab10", len(classes))
    fig = plt.figure(figsize=(13.0, 3.1 * len(rewards) + 0.5))
    gs = GridSpec(len(rewards), 4, figure=fig, width_ratios=[1, 1, 1, 1.25], wspace=0.32, hspace=0.42)
    for i, rname in enumerate(rewards):
        for j, regime in enumerate(regimes):
            ax = fig.add_subplot(gs[i, j])
            d = share[(share["reward"] == rname) & (share["regime"] == regime)]
            for k in classes:
                dk = d[d["class"] == k]
                ax.plot(dk["generation"], dk["mean"], "o-", ms=2.5, lw=1.1, color=pal[k], label=str(k))
                ax.fill_between(dk["generation"], dk["lo"], dk["hi"], color=pal[k], alpha=0.15, lw=0)
            ax.axhline(0.1, color="0.4", ls=":", lw=0.9)
            ax.set_ylim(0, 1.02 if "single" in rname else max(0.35, float(d["hi"].max()) + 0.02))
            ax.set_title(f"({'ab'[j]}) {regime}", fontsize=9)
            ax.set_xlabel("generation t")
            if j == 0:
                ax.set_ylabel(f"{rname}\nclass proportion")
            if i == 0 and j == 1:
                ax.legend(title="class", fontsize=7, title_fontsize=7, ncol=2, loc="upper right", frameon=True)
        ax = fig.add_subplot(gs[i, 2])
        for j, regime in enumerate(regimes):
            d = rew[(rew["reward"] == rname) & (rew["regime"] == regime)]
            ax.errorbar(d["generation"], d["mean"], yerr=[d["mean"] - d["lo"], d["hi"] - d["mean"]], fmt="o-", ms=3,
                        lw=1.0, capsize=0, color=f"C{j}", label=regime)
        ax.set_title("(c) mean reward", fontsize=9)
        ax.set_xlabel("generation t")
        ax.legend(fontsize=7, loc="lower right", frameon=True)
        sub = gs[i, 3].subgridspec(2, 1, hspace=0.25)
        d = img[(img["reward"] == rname) & (img["regime"] == regimes[0])]
        pix = [c for c in df.columns if c.startswith("p") and c[1:].isdigit()]
        for r, g in enumerate(sorted(d["generation"].unique())):
            rows = d[d["generation"] == g].sort_values("index")[pix].to_numpy()
            side = int(round(np.sqrt(rows.shape[1])))
            strip = np.concatenate([np.pad(x.reshape(side, side), 1, constant_values=1.0) for x in rows], axis=1)
            ax = fig.add_subplot(sub[r])
            ax.imshow(strip, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_ylabel(f"t = {int(g)}", fontsize=8)
            if r == 0:
                ax.set_title(f"(d) samples, {regimes[0]}", fontsize=9)
    reps = int(share["reps"].iloc[0])
    fig.suptitle(f"reward classifier held-out accuracy {acc:.3f}; mean ± 2 SE over {reps} replicates; dotted: 1/10",
                 fontsize=9, y=1.0)
    return fig
