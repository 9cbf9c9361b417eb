"""Curation converges to p₀ restricted to the reward's top set (Theorem 2.1), as KL ~ C/t.

8-Gaussian ring, reward r = −5·max(0, ‖x − c‖ − 1.2) with c on the ring half-way between two
modes, so the top set {r = r* = 0} (dashed circle) holds 55 % of each of them, P₀(r = r*) ≈ 0.14.
(a) Reward level sets (grey: contours of p₀). (b) Initial density p₀ (dotted square: the window
of c and d). (c) The limit predicted by Theorem 2.1, p* = p₀·1{r = r*}/P₀(r = r*): two truncated
modes, not a mode, with p₀'s shape inside the disc. (d) One replicate of an
8-component Gaussian mixture retrained fully synthetically on its own curated samples (K = 4,
1 000 kept points per generation): samples after 30 generations, over contours of the exact
population density p₃₀ = p₀·g₃₀(r) (black contours holding 50, 90 and 99 % of its mass; same
zoom as c). (e) KL(p*‖p_t) = −log P_t(r = r*) of the exact population chain on the law of the
reward (black line) and its asymptote C/t (orange line), C = K/(K−1)·f(r*⁻)/P₀(r = r*)
with f the density of the reward just below r*: the mass just below the flat top decays only
like 1/t, not geometrically as with a gap below r*. Markers: −log of the learned loops' share of
samples in the top set (mean ± 2 SE over replicates), which falls faster than the population
value, the finite-sample loop shrinking its components inside the disc. Ferbach et al., NeurIPS
2024, Theorem 2.1 and its heat-map figure (shared/theory.md §1.5, §1.8, §6).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, Rectangle

from selfconsume.analysis.tables import curation_heatmaps_table

from ._registry import PAGE_WIDTH, panel_letters, ref_line, register_figure, sim_points, theory_line


def _field(grid, col):
    xs, ys = np.unique(grid["x"]), np.unique(grid["y"])
    g = grid.sort_values(["x", "y"])
    return xs, ys, g[col].to_numpy().reshape(xs.size, ys.size).T  # rows = y for pcolormesh


@register_figure(slug="curation_heatmaps", caption=__doc__.split("\n\n")[1], table=curation_heatmaps_table,
                 claims=("continuous.top_set_limit", "continuous.reward_law"))
def plot(df):
    grid = df[df["kind"] == "grid"]
    samples = df[df["kind"] == "sample"]
    kl = df[df["kind"] == "kl_exact"]
    kll = df[df["kind"] == "kl_learned"]
    centre = df[df["kind"] == "reward_centre"].iloc[0]
    K, atom, C = df["K"].iloc[0], df["atom"].iloc[0], df["C"].iloc[0]
    T = int(samples["generation"].iloc[0])

    fig = plt.figure(figsize=(PAGE_WIDTH, 4.9))
    gs = fig.add_gridspec(2, 3)
    axes = [fig.add_subplot(gs[0, j]) for j in range(3)] + [fig.add_subplot(gs[1, 0])]
    ex = fig.add_subplot(gs[1, 1:])

    xs, ys, r = _field(grid, "reward")
    levels = [-20, -15, -10, -7.5, -5, -2.5, -1, -1e-9, 0.01]
    cf = axes[0].contourf(xs, ys, np.maximum(r, -20), levels=levels, cmap="viridis")
    axes[0].contour(xs, ys, r, levels=levels[1:-1], colors="w", linewidths=0.5)
    _, _, p0 = _field(grid, "p0")
    axes[0].contour(xs, ys, p0, levels=[0.2 * p0.max()], colors="0.6", linewidths=0.8)
    fig.colorbar(cf, ax=axes[0], shrink=0.85, label="$r(x)$", ticks=[-20, -15, -10, -5, 0])
    axes[0].set_title("reward level sets")

    for ax, col, title in ((axes[1], "p0", "initial density $p_0$"),
                           (axes[2], "limit", "limit $p^*$ (zoom)")):
        _, _, z = _field(grid, col)
        im = ax.pcolormesh(xs, ys, z, cmap="magma", shading="nearest", rasterized=True)
        fig.colorbar(im, ax=ax, shrink=0.85, label="density")
        ax.set_title(title)

    ax = axes[3]
    _, _, pT = _field(grid, "p_T")
    ax.scatter(samples["x"], samples["y"], s=0.8, alpha=0.5, lw=0, color="C0", rasterized=True,
               label="learned loop")
    top = np.sort(pT[pT > 0].ravel())[::-1]
    mass = np.cumsum(top) / top.sum()
    lv = sorted({float(top[np.searchsorted(mass, q)]) for q in (0.5, 0.9, 0.99)})
    ax.contour(xs, ys, pT, levels=lv, colors="k", linewidths=0.7)
    ax.set_title(f"learned, $t = {T}$ (zoom)")

    for a in axes:
        a.grid(False)
        a.add_patch(Circle((centre["x"], centre["y"]), centre["radius"], fill=False, ls="--", lw=0.8,
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

    ex.set_xscale("log")
    ex.set_yscale("log")
    theory_line(ex, kl["generation"], kl["kl"], color="k", label=r"exact chain: KL$(p^*\|p_t)$ (theory)")
    theory_line(ex, kl["generation"], kl["asymptote"], color="C1", lw=0.9, label=f"asymptote $C/t$, $C$ = {C:.3f}")
    sim_points(ex, kll["generation"], kll["mean"], kll["lo"], kll["hi"], floor=1e-12, color="C0",
               label=r"learned loop: $-\log\hat P_t(r=r^*)$, mean ± 2 SE" + f" ({int(kll['reps'].iloc[0])} runs)")
    ref_line(ex, -np.log(atom), label=f"$-\\log P_0(r=r^*)$ = {-np.log(atom):.2f}")
    ex.set_xlabel("generation $t$")
    ex.set_ylabel(r"KL$(p^*\|p_t)$")
    ex.set_title(f"convergence to the top set, $K = {K:g}$")
    fig.legend(*ex.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    panel_letters(axes + [ex])
    return fig
