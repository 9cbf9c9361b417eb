"""Self-consuming loops go MAD: collapse under sampling bias, and when synthetic data stop helping.

Alemohammad et al. (ICLR 2024), Gaussian loops in 1-D, real law N(0, 1), unbiased refits; a model samples with bias b from N(μ_t, b σ_t²). (a, b) Fully synthetic loop, each generation fitted to n = 20 samples of the previous one: (a) E σ_t²/σ_0² on a log axis, (b) the mean drift E(μ_t − μ_0)², for b ∈ {1, 0.9, 0.8, 0.7}; lines: exact expectations, b^t and (b/n) Σ_{s<t} b^s; open circles: Monte Carlo mean ± 2 SE over 40 000 exact-in-law chains (200 000 at the full budget), every third generation. (c–h) Fresh-data loop: each generation fitted to n_r fresh real points pooled with n_s synthetic points from the previous fit; colour: log₂(n_e/n_r), where n_e is the number of real points whose single fit has the loop's limit distance WD(n_r, n_s, b) = lim_t E W₂²(G_t, P_r), i.e. f(n_e) = WD with f(n) = E W₂² of one fit to n real points, exact in 1-D; blue (n_e > n_r): synthetic data help, red: they hurt (admissible / inadmissible). WD is a Monte Carlo average over 256 exact-in-law chains per cell (512 at the full budget), each averaged over a window of generations after the exact first moments have settled; its mean part is exact. (c–e) Over (n_r, n_s) for b = 0.7, 0.85, 1, n_s/n_r from 0.02 to 20 on a geometric grid (cells at the smallest n_r that round to the same n_s repeat it); (f–h) over (b, n_s) for n_r = 100, 250, 1000. Black curve: the contour n_e = n_r of the grid; black markers: the admissibility threshold n_s* (the last crossing of WD − f(n_r) from below to above 0 over the n_s of the column, interpolated in log n_s) with the same crossing for WD ± 2 SE as its bar; dotted grey: n_s = n_r. Sampling bias makes the fully synthetic loop collapse faster (E σ_t² = b^t) while it stops the mean's random walk (E(μ_t − μ_0)² → b/(n(1 − b))). In the fresh-data loop every b < 1 has a threshold: a little synthetic data helps, beyond n_s* it hurts, and n_e falls to a few points. The threshold is lower for more bias and grows much more slowly than n_r (b = 0.7: n_s* ≈ 45 at n_r = 10 and ≈ 70 at n_r = 1000; b = 0.85: ≈ 90 and ≈ 210), so a larger real sample tolerates a smaller fraction of synthetic data; with b = 1 synthetic data are admissible everywhere scanned (n_e ≥ n_r up to n_s = 20 n_r).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from selfconsume.analysis.tables import mad_phase_table

from ._registry import (PAGE_WIDTH, categorical, encoding_handles, panel_letters, register_figure, ref_line,
                        sim_points, theory_line, value_legend)

#: Diverging colour map of log2(n_e/n_r): red below 0 (synthetic data hurt), blue above (they help).
CMAP = "RdBu"


def _edges(x, log=True):
    """Cell edges around sorted centres ``x`` (geometric midpoints on a log axis)."""
    x = np.asarray(x, float)
    v = np.log(x) if log else x
    mid = (v[1:] + v[:-1]) / 2
    step0 = (v[1] - v[0]) / 2 if v.size > 1 else 0.5
    step1 = (v[-1] - v[-2]) / 2 if v.size > 1 else 0.5
    e = np.concatenate([[v[0] - step0], mid, [v[-1] + step1]])
    return np.exp(e) if log else e


def _thresholds(ax, th, x_col):
    """Threshold markers n_s* with their ±2 SE interval (finite ones; an infinite upper end runs to the top)."""
    th = th[np.isfinite(th["threshold"].to_numpy(float))]
    if th.empty:
        return
    x = th[x_col].to_numpy(float)
    y = th["threshold"].to_numpy(float)
    top = ax.get_ylim()[1]
    lo = th["threshold_lo"].to_numpy(float)
    hi = np.minimum(th["threshold_hi"].to_numpy(float), top)
    ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt="o", ms=3.0, mfc="white", mec="k", mew=0.8, color="k",
                ecolor="k", elinewidth=0.8, capsize=1.5, zorder=4)


def _heatmap(ax, X, Y, C, Xc, Yc, norm):
    mesh = ax.pcolormesh(X, Y, C, cmap=CMAP, norm=norm, shading="flat", rasterized=True)
    ax.grid(False)
    if np.nanmin(C) < 0 < np.nanmax(C):
        ax.contour(Xc, Yc, C, levels=[0.0], colors="k", linewidths=1.0, zorder=3)
    return mesh


@register_figure(slug="mad_phase", caption=__doc__.split("\n\n")[1], table=mad_phase_table,
                 claims=("mad.biased_collapse", "mad.fresh_limit", "mad.admissibility"))
def plot(df):
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.ticker import FixedLocator

    fig = plt.figure(figsize=(PAGE_WIDTH, 7.0))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 2.05])

    # ---------------------------------------------------------------- (a, b) fully synthetic loop
    col = df[df["panel"] == "collapse"]
    biases = sorted(col["bias"].unique(), reverse=True)
    colors = dict(zip(biases, categorical(len(biases))))
    ax_v, ax_m = top.subplots(1, 2)
    n = int(col["n"].iloc[0])
    for k, b in enumerate(biases):
        c = colors[b]
        for ax, metric in ((ax_v, "var"), (ax_m, "mean_drift")):
            g = col[(col["bias"] == b) & (col["metric"] == metric)].sort_values("generation")
            t = g["generation"].to_numpy()
            theory_line(ax, t, g["exact"].to_numpy(), color=c)
            sel = (t % 3 == k % 3) & (t > 0)  # every third generation, staggered by bias
            m, se = g["sim"].to_numpy()[sel], g["sim_se"].to_numpy()[sel]
            sim_points(ax, t[sel], m, m - 2 * se, m + 2 * se, color=c, floor=0.5 * m if metric == "var" else None)
    ax_v.set_yscale("log")
    ax_v.set_ylabel(r"$E\,\sigma_t^2/\sigma_0^2$")
    ax_m.set_ylabel(r"$E\,(\mu_t-\mu_0)^2/\sigma_0^2$")
    for ax in (ax_v, ax_m):
        ax.set_xlabel("generation $t$")
        ax.set_xlim(-0.5, col["generation"].max() + 0.5)
    ax_m.set_ylim(0, None)
    ax_v.set_title(f"fully synthetic loop, $n = {n}$", fontsize=8, loc="right")
    ax_m.set_title(f"fully synthetic loop, $n = {n}$", fontsize=8, loc="right")
    hs, ls = value_legend(colors, "$b = {:g}$")
    h2, l2 = encoding_handles(theory="exact", sim="Monte Carlo ± 2 SE")
    top.legend(hs + h2, ls + l2, loc="outside right center", ncol=1)

    # ---------------------------------------------------------------- (c–h) phase diagrams
    nr = df[df["panel"] == "phase_nr"]
    pb = df[df["panel"] == "phase_bias"]
    th = df[df["panel"] == "threshold"]
    vals = np.concatenate([nr["log2_ne_nr"].to_numpy(float), pb["log2_ne_nr"].to_numpy(float)])
    vmin = min(-1.0, math.floor(np.nanmin(vals)))
    vmax = max(1.0, math.ceil(np.nanmax(vals) * 2) / 2)
    norm = TwoSlopeNorm(vmin=vmin, vcenter=0.0, vmax=vmax)
    axes = bottom.subplots(2, 3)
    mesh = None
    ns_lo = min(nr["n_s"].min(), pb["n_s"].min()) * 0.7
    ns_hi = max(nr["n_s"].max(), pb["n_s"].max()) * 1.4
    for j, b in enumerate(sorted(nr["bias"].unique())[:3]):
        ax = axes[0, j]
        g = nr[nr["bias"] == b]
        n_r = np.sort(g["n_r"].unique())
        ratio = np.sort(g["ratio"].unique())
        C = g.pivot_table(index="n_r", columns="ratio", values="log2_ne_nr").loc[n_r, ratio].to_numpy()
        ns = g.pivot_table(index="n_r", columns="ratio", values="n_s").loc[n_r, ratio].to_numpy()
        er, eq = _edges(n_r), _edges(ratio)
        X = np.repeat(er[:, None], eq.size, axis=1)
        Y = er[:, None] * eq[None, :]
        Xc = np.repeat(n_r[:, None], ratio.size, axis=1)
        mesh = _heatmap(ax, X, Y, C, Xc, ns, norm)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(er[0], er[-1])
        ax.set_ylim(ns_lo, ns_hi)
        ax.plot(er, er, color="0.45", ls=":", lw=0.9, zorder=2)
        _thresholds(ax, th[(th["source"] == "phase_nr") & (th["bias"] == b)], "n_r")
        ax.set_xlabel("real points per generation $n_r$")
        ax.set_title(f"$b = {b:g}$", fontsize=8, loc="right")
    for j, n_r in enumerate(sorted(pb["n_r"].unique())[:3]):
        ax = axes[1, j]
        g = pb[pb["n_r"] == n_r]
        bs = np.sort(g["bias"].unique())
        ratio = np.sort(g["ratio"].unique())
        C = g.pivot_table(index="bias", columns="ratio", values="log2_ne_nr").loc[bs, ratio].to_numpy()
        ns = g.pivot_table(index="bias", columns="ratio", values="n_s").loc[bs, ratio].to_numpy()
        eb, eq = _edges(bs, log=False), _edges(ratio) * n_r
        Xc = np.repeat(bs[:, None], ratio.size, axis=1)
        mesh = _heatmap(ax, eb, eq, C.T, Xc.T, ns.T, norm)
        ax.set_yscale("log")
        ax.set_xlim(eb[0], eb[-1])
        ax.set_ylim(ns_lo, ns_hi)
        ref_line(ax, n_r)
        _thresholds(ax, th[(th["source"] == "phase_bias") & (th["n_r"] == n_r)], "bias")
        ax.set_xlabel("sampling bias $b$")
        ax.set_title(f"$n_r = {int(n_r)}$", fontsize=8, loc="right")
    for ax in axes[:, 0]:
        ax.set_ylabel("synthetic points $n_s$")
    ticks = [v for v in range(int(vmin), int(math.floor(vmax)) + 1) if v % 2 == 0 or v > 0]
    cb = bottom.colorbar(mesh, ax=list(axes.ravel()), location="right", shrink=0.85, aspect=30, pad=0.02)
    cb.set_label(r"$\log_2(n_e/n_r)$  (red: synthetic data hurt, blue: help)")
    cb.ax.yaxis.set_major_locator(FixedLocator(ticks))
    from matplotlib.lines import Line2D

    hs = [Line2D([], [], color="k", lw=1.0),
          Line2D([], [], ls="none", marker="o", ms=3.0, mfc="white", mec="k", mew=0.8),
          Line2D([], [], color="0.45", ls=":", lw=0.9)]
    ls = ["$n_e = n_r$ (grid contour)", r"threshold $n_s^*$, WD $\pm$ 2 SE", "$n_s = n_r$"]
    bottom.legend(hs, ls, loc="outside lower center", ncol=3)
    panel_letters([ax_v, ax_m, *axes.ravel()])
    return fig
