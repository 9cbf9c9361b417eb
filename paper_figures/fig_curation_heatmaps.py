"""Curation converges to p₀ restricted to the reward's top set (Theorem 2.1), as KL ~ C/t.

8-Gaussian ring, reward r = −5·max(0, ‖x − c‖ − 1.2) with c on the ring half-way between two
modes, so the top set {r = r* = 0} (dashed circle) holds 55 % of each of them, P₀(r = r*) ≈ 0.14.
(a) Reward level sets (grey: contours of p₀). (b) Initial density p₀ (dotted square: the window
of c and d). (c) The limit predicted by Theorem 2.1, p* = p₀·1{r = r*}/P₀(r = r*): two truncated
modes, not a mode, with p₀'s shape inside the disc. (d) One replicate of an
8-component Gaussian mixture retrained fully synthetically on its own curated samples (K = 4,
1 000 kept points per generation): samples after 30 generations, over contours of the exact
population density p₃₀ = p₀·g₃₀(r). (e) KL(p*‖p_t) = −log P_t(r = r*) of the exact population
chain on the law of the reward (line) and its asymptote C/t (dashed), C = K/(K−1)·f(r*⁻)/P₀(r = r*)
with f the density of the reward just below r*: the mass just below the flat top decays only
like 1/t, not geometrically as with a gap below r*. Markers: −log of the learned loops' share of
samples in the top set (mean ± 2 SE over replicates), which falls faster than the population
value, the finite-sample loop shrinking its components inside the disc. Ferbach et al., NeurIPS
2024, Theorem 2.1 and its heat-map figure (shared/theory.md §1.5, §1.8, §6).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.gridspec import GridSpec
from matplotlib.patches import Circle, Rectangle

from selfconsume.analysis.tables import curation_heatmaps_table

from ._registry import register_figure


def _field(grid, col):
    xs, ys = np.unique(grid["x"]), np.unique(grid["y"])
    g = grid.sort_values(["x", "y"])
    return xs, ys, g[col].to_numpy().reshape(xs.size, ys.size).T  # rows = y for pcolormesh


@register_figure(slug="curation_heatmaps", caption=__doc__.split("\n\n")[1], table=curation_heatmaps_table)
def plot(df):
    grid = df[df["kind"] == "grid"]
    samples = df[df["kind"] == "sample"]
    kl = df[df["kind"] == "kl_exact"]
    kll = df[df["kind"] == "kl_learned"]
    centre = df[df["kind"] == "reward_centre"].iloc[0]
    K, atom, C = df["K"].iloc[0], df["atom"].iloc[0], df["C"].iloc[0]
    T = int(samples["generation"].iloc[0])

    fig = plt.figure(figsize=(14, 8.8))
    gs = GridSpec(2, 3, figure=fig, hspace=0.32, wspace=0.45)
    axes = [fig.add_subplot(gs[0, j]) for j in range(3)] + [fig.add_subplot(gs[1, 0])]
    ex = fig.add_subplot(gs[1, 1:])

    xs, ys, r = _field(grid, "reward")
    levels = [-20, -15, -10, -7.5, -5, -2.5, -1, -1e-9, 0.01]
    cf = axes[0].contourf(xs, ys, np.maximum(r, -20), levels=levels, cmap="viridis")
    axes[0].contour(xs, ys, r, levels=levels[1:-1], colors="w", linewidths=0.5)
    _, _, p0 = _field(grid, "p0")
    axes[0].contour(xs, ys, p0, levels=[0.2 * p0.max()], colors="0.6", linewidths=0.8)
    fig.colorbar(cf, ax=axes[0], shrink=0.85, label="r(x)", ticks=[-20, -15, -10, -5, 0])
    axes[0].set_title("(a) reward level sets", fontsize=10)

    for ax, col, title in ((axes[1], "p0", "(b) initial density $p_0$"),
                           (axes[2], "limit", "(c) predicted limit $p^*$")):
        _, _, z = _field(grid, col)
        im = ax.pcolormesh(xs, ys, z, cmap="magma", shading="nearest", rasterized=True)
        fig.colorbar(im, ax=ax, shrink=0.85, label="density")
        ax.set_title(title, fontsize=10)

    ax = axes[3]
    _, _, pT = _field(grid, "p_T")
    ax.scatter(samples["x"], samples["y"], s=1.5, alpha=0.5, lw=0, color="C0", rasterized=True,
               label="learned loop")
    top = np.sort(pT[pT > 0].ravel())[::-1]
    mass = np.cumsum(top) / top.sum()
    lv = sorted({float(top[np.searchsorted(mass, q)]) for q in (0.5, 0.9, 0.99)})
    ax.contour(xs, ys, pT, levels=lv, colors="k", linewidths=0.8)
    ax.set_title(f"(d) learned samples at t = {T};\ncontours: exact $p_{{{T}}}$ (50, 90, 99% mass)", fontsize=10)

    for a in axes:
        a.add_patch(Circle((centre["x"], centre["y"]), centre["radius"], fill=False, ls="--", lw=1.0,
                           color="w" if a is not axes[3] else "C3"))
        a.set_aspect("equal")
        a.set_xlabel("$x_1$")
        a.set_ylabel("$x_2$")
    for a in axes[:2]:
        a.set_xlim(xs.min(), xs.max())
        a.set_ylim(ys.min(), ys.max())
    zoom = 2.0  # (c) and (d) zoom on the top set
    for a in axes[2:]:
        a.set_xlim(centre["x"] - zoom, centre["x"] + zoom)
        a.set_ylim(centre["y"] - zoom, centre["y"] + zoom)
    axes[1].add_patch(Rectangle((centre["x"] - zoom, centre["y"] - zoom), 2 * zoom, 2 * zoom, fill=False, ls=":",
                                lw=1.0, color="w"))

    ex.loglog(kl["generation"], kl["kl"], color="k", lw=1.6, label=r"exact chain: KL$(p^*\|p_t)$")
    ex.loglog(kl["generation"], kl["asymptote"], color="C3", lw=1.2, ls="--", label=f"C/t, C = {C:.3f}")
    lo = np.clip(kll["lo"], 1e-12, None)
    ex.errorbar(kll["generation"], kll["mean"], yerr=[kll["mean"] - lo, kll["hi"] - kll["mean"]], fmt="o", ms=3.5,
                mfc="white", color="C0", elinewidth=0.9, capsize=0,
                label=r"learned loop: $-\log\hat P_t(r=r^*)$, mean ± 2 SE" + f" ({int(kll['reps'].iloc[0])} runs)")
    ex.axhline(-np.log(atom), color="0.5", lw=0.8, ls=":", label=f"$-\\log P_0(r=r^*)$ = {-np.log(atom):.2f}")
    ex.set_xlabel("generation t")
    ex.set_ylabel(r"KL$(p^*\|p_t)$")
    ex.set_title(f"(e) convergence to the top set, K = {K:g}", fontsize=10)
    ex.legend(fontsize=8.5, loc="upper right", bbox_to_anchor=(1.0, 0.92), frameon=True)
    return fig
