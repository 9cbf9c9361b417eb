"""Figures and rate summaries drawn from a sweep's table (:func:`selfconsume.analysis.sweep`).

Not registered figures (their data is a user's sweep, not a cached table): ``selfconsume sweep``
calls :func:`draw_sweep_figures` after a run, and a script may call it on any sweep table.
Every figure is written as ``NAME.png``, ``NAME.pdf`` (TrueType fonts) and ``NAME.caption.md``
in the one style of :mod:`._registry`: theory solid lines, simulation open markers with
± 2 SE bars, reference levels dotted.

* cell ``gaussian`` — Collapse-or-Thrive's panels (Kazdan et al. 2025), one figure per d:
  rows the trace, determinant and mean-error metrics, columns the workflows, colour n; lines
  the exact expectations (:mod:`selfconsume.theory`), markers the sweep's means ± 2 SE;
  and, where a workflow has a constant per-iteration rate (replace: E tr ratio and E det ratio
  are geometric), the fitted rate (:func:`selfconsume.analysis.estimate_rate`) over the theory
  rate with its confidence interval, against 1 (:func:`rate_summary`);
* cell ``fixation`` — the mean fixation time of neutral resampling against n, colour the
  number of categories K, with its exact expectation (:func:`selfconsume.theory.expected_fixation_time`).

Other cells (``curation``, a user's callable) get no figure: :func:`draw_sweep_figures`
returns an empty list.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from selfconsume.theory import expected_fixation_time

from ._registry import (PAGE_WIDTH, FINGERPRINT_KEY, FigureSpec, _md, categorical, fingerprint, panel_letters,
                        ref_line, sequential, set_style, sim_handle, sim_points, theory_line, value_legend)

__all__ = ["draw_sweep_figures", "rate_summary", "rates_markdown", "GAUSSIAN_OUTPUTS"]

#: The output columns of the ``gaussian`` cell; every other column of its table is a parameter.
GAUSSIAN_OUTPUTS = ("rep", "generation", "iteration", "tr_ratio", "det_ratio", "mean_sq_error")
_FIXATION_OUTPUTS = ("rep", "fixation_time", "fixed", "support")
_WORKFLOWS = ("replace", "accumulate", "accumulate-subsample")
_METRICS = (("tr_ratio", r"$E\,\mathrm{tr}\,\hat\Sigma_k/\mathrm{tr}\,\Sigma_0$"),
            ("det_ratio", r"$E\,\det\hat\Sigma_k/\det\Sigma_0$"),
            ("mean_sq_error", r"$E\,\|\hat\mu_k - \mu\|^2$"))
#: markers where fewer than this fraction of the replicates carry the mean (effective count (Σx)²/Σx²)
#: are triangles (the rare-run regime of a heavy tail), as in the registered ``cot_workflows`` figure
MIN_ESS_FRACTION = 0.1
#: the rate window of a cell ends before the first iteration whose mean is carried by fewer than
#: this fraction of the replicates (the rate of the mean is unreliable past it; ``estimate_rate``)
RATE_ESS_FRACTION = 0.5
#: determinant panels are clipped below here (replace's E det ratio at d = 31 falls below 1e-1000)
DET_FLOOR = 1e-30


# ------------------------------------------------------------------------------ helpers
def _cell_name(config) -> str:
    if isinstance(config, str):
        return config
    if isinstance(config, Mapping) and isinstance(config.get("cell"), str):
        return config["cell"]
    raise TypeError(f"config must be a cell name or a sweep configuration (a dict with a 'cell' name, as from "
                    f"load_config); got {config!r}")


def _data_line(table, config) -> str:
    info = dict(getattr(table, "attrs", {}).get("sweep") or {})
    parts = []
    if isinstance(config, Mapping) and config.get("source"):
        parts.append(f"sweep {config['source']}")
    reps = (info.get("config") or {}).get("reps") or (config.get("reps") if isinstance(config, Mapping) else None)
    if reps is None and "rep" in table.columns:
        reps = int(table["rep"].max()) + 1
    if reps is not None:
        parts.append(f"{int(reps)} replicates per cell")
    seed = (info.get("config") or {}).get("seed")
    if seed:
        parts.append(f"root seed entropy {seed.get('entropy')}")
    elif isinstance(config, Mapping) and config.get("rng") is not None:
        parts.append(f"seed {config['rng']}")
    if info.get("folder"):
        parts.append(f"table in `{info['folder']}`")
    return "; ".join(parts) or "a sweep table"


def _save(fig, out: Path, slug: str, title: str, caption: str, data: str) -> list[Path]:
    """PNG (with the drawing code's fingerprint), PDF and ``slug.caption.md`` into ``out``."""
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    spec = FigureSpec(slug, caption, draw_sweep_figures, draw_sweep_figures, title=title)
    paths = []
    try:
        for ext in ("png", "pdf"):
            meta = {FINGERPRINT_KEY: fingerprint(spec)} if ext == "png" else None
            fig.savefig(out / f"{slug}.{ext}", metadata=meta)
            paths.append(out / f"{slug}.{ext}")
    finally:
        plt.close(fig)
    cap = out / f"{slug}.caption.md"
    cap.write_text(f"**Figure `{slug}`.** {_md(title)}\n\n{_md(' '.join(caption.split()))}\n\n"
                   f"*Data:* {_md(data)}.\n", encoding="utf-8")
    paths.append(cap)
    return paths


def _plain_log_x(ax, values):
    """A log x axis labelled at ``values`` in plain numbers (10, 32, 100), no minor labels."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.set_xticks(sorted({float(v) for v in values}))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _mean_se_ess(x: np.ndarray):
    r = x.size
    m = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(r) if r > 1 else math.nan
    ss = float((x**2).sum())
    ess = float(x.sum()) ** 2 / ss if ss > 0 else math.nan
    return m, se, ess


# ------------------------------------------------------------------------------ gaussian: exact curves
def _gaussian_exact(workflow: str, n: int, d: int, k: np.ndarray, estimator: str) -> dict:
    """Exact expectations at Kazdan's iterations ``k`` (NaN where theory has none)."""
    from selfconsume import theory as th

    nan = np.full(k.size, np.nan)
    if workflow == "replace":
        t = k
        tr = np.asarray(th.expected_sigma2(n, t, 1.0, estimator=estimator), float)
        err = d * np.asarray(th.expected_mean_sq_drift(n, t, 1.0, estimator=estimator), float)
        det = np.asarray(th.expected_det_ratio(n, d, t, estimator=estimator), float)
        return {"tr_ratio": tr, "mean_sq_error": err, "det_ratio": det}
    t = k - 1  # generation 0 is the fit to the real sample (Kazdan's k = 1)
    if t.min() < 0:
        return {"tr_ratio": nan, "mean_sq_error": nan, "det_ratio": nan}
    if workflow == "accumulate":
        if estimator == "mle":
            tr = np.asarray(th.expected_accumulate_cov(n, k), float)
            err = np.asarray(th.expected_accumulate_mean_err(n, k, float(d)), float)
        else:
            tr = err = nan
        det = np.asarray(th.expected_det_ratio(n, d, t, lam=1.0, workflow="accumulate", estimator=estimator), float)
        return {"tr_ratio": tr, "mean_sq_error": err, "det_ratio": det}
    tr, err = th.expected_accumulate_subsample(n, t, d=d, estimator=estimator)
    det = np.asarray(tr, float) if d == 1 else nan  # no closed form for d > 1
    return {"tr_ratio": np.asarray(tr, float), "mean_sq_error": np.asarray(err, float), "det_ratio": det}


def _gaussian_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, SE and effective count per (d, n, workflow, estimator, iteration) and metric, with exact values."""
    df = table.copy()
    for col, default in (("d", 1), ("workflow", "replace"), ("estimator", "mle")):
        if col not in df.columns:
            df[col] = default
    keys = ["d", "n", "workflow", "estimator"]
    rows = []
    for (d, n, wf, est), g in df.groupby(keys, sort=True):
        its = np.sort(g["iteration"].unique())
        try:
            exact = _gaussian_exact(wf, int(n), int(d), its.astype(np.int64), est)
        except (ValueError, TypeError):
            exact = {m: np.full(its.size, np.nan) for m, _ in _METRICS}
        for metric, _ in _METRICS:
            piv = g.pivot_table(index="rep", columns="iteration", values=metric, aggfunc="first")
            piv = piv.reindex(columns=its)
            for j, k in enumerate(its):
                x = piv[k].to_numpy(dtype=float)
                x = x[np.isfinite(x)]
                m, se, ess = _mean_se_ess(x) if x.size else (math.nan,) * 3
                rows.append((d, n, wf, est, metric, int(k), m, se, ess, x.size, float(exact[metric][j])))
    return pd.DataFrame(rows, columns=[*keys, "metric", "iteration", "sim", "sim_se", "ess", "reps", "exact"])


def _gaussian_figure(s: pd.DataFrame, d: int):
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import LogLocator, NullFormatter

    workflows = [w for w in _WORKFLOWS if w in set(s["workflow"])] + \
        sorted(set(s["workflow"]) - set(_WORKFLOWS))
    ns = sorted(s["n"].unique())
    colors = dict(zip(ns, sequential(len(ns))))
    K = int(s["iteration"].max())
    k0 = int(s["iteration"].min())
    every = max(1, (K - k0 + 1) // 10)
    fig, axes = plt.subplots(len(_METRICS), len(workflows), figsize=(PAGE_WIDTH, 5.4), sharex=True, squeeze=False)
    any_few = False
    all_singular: set = set()
    for j, wf in enumerate(workflows):
        for i, (metric, label) in enumerate(_METRICS):
            ax = axes[i, j]
            sub = s[(s["workflow"] == wf) & (s["metric"] == metric)]
            singular = []
            for w, n in enumerate(ns):
                g = sub[sub["n"] == n].sort_values("iteration")
                if g.empty:
                    continue
                c = colors[n]
                k = g["iteration"].to_numpy()
                ex = g["exact"].to_numpy()
                if metric == "det_ratio" and n <= d:
                    singular.append(int(n))  # exactly 0: nothing to draw on a log axis
                    continue
                if metric != "tr_ratio":
                    ex = np.where(ex >= DET_FLOOR, ex, np.nan)
                if np.isfinite(ex).any():
                    theory_line(ax, k, ex, color=c)
                sel = np.arange(k0 + (w * every) // max(len(ns), 1), K + 1, every)
                sel = np.isin(k, sel)
                m, se, ess, r = (g[col].to_numpy()[sel] for col in ("sim", "sim_se", "ess", "reps"))
                kk = k[sel]
                keep = np.isfinite(m) & ((m > DET_FLOOR) if metric != "tr_ratio" else True)
                ok = keep & (ess >= MIN_ESS_FRACTION * r)
                few = keep & ~ok
                floor = DET_FLOOR if metric != "tr_ratio" else None
                if ok.any():
                    sim_points(ax, kk[ok], m[ok], (m - 2 * se)[ok], (m + 2 * se)[ok], color=c,
                               floor=None if floor is None else 0.3 * float(np.min(m[ok])))
                if few.any():
                    any_few = True
                    sim_points(ax, kk[few], m[few], (m - 2 * se)[few], (m + 2 * se)[few], color=c, marker="v",
                               floor=None if floor is None else 0.3 * float(np.min(m[few])))
            if metric == "tr_ratio":
                ax.set_ylim(0.0, 1.04)
            else:
                if ax.lines or ax.collections:
                    ax.set_yscale("log")
                    lo, hi = ax.get_ylim()
                    ax.set_ylim(max(lo, DET_FLOOR), hi)
                    ax.yaxis.set_major_locator(LogLocator(numticks=6))
                    ax.yaxis.set_minor_formatter(NullFormatter())
                else:
                    ax.set_yticks([])
                    ax.grid(False)
                if singular:
                    all_singular.update(singular)
                    if not ax.lines:  # nothing else in the panel: say why it is empty
                        ax.text(0.5, 0.5, "$n \\leq d$: det $= 0$ exactly", transform=ax.transAxes,
                                ha="center", va="center", fontsize=7)
            if j == 0:
                ax.set_ylabel(label)
            if i == len(_METRICS) - 1:
                ax.set_xlabel("iteration $k$")
            ax.set_xlim(k0 - 0.5 if K - k0 < 10 else 0, K * 1.03)
        axes[0, j].set_title(wf, fontsize=8)
    est = ", ".join(sorted(set(s["estimator"])))
    note = ""
    if all_singular:
        note = (f"; $n \\leq d$ for $n$ = {', '.join(map(str, sorted(all_singular)))}: "
                "det $\\hat\\Sigma_k = 0$ exactly, not drawn")
    fig.suptitle(f"$d = {d}$ (estimator {est}){note}", fontsize=8)
    hs, ls = value_legend(colors, "$n = {}$")
    hs += [Line2D([], [], color="k", lw=1.2), sim_handle("k")[0]]
    ls += ["exact", "sweep mean ± 2 SE"]
    if any_few:
        hs.append(Line2D([], [], ls="none", marker="v", ms=3.2, mfc="white", mec="k", mew=0.8))
        ls.append(f"the same, carried by < {MIN_ESS_FRACTION:.0%} of the runs")
    fig.legend(hs, ls, loc="outside lower center", ncol=min(len(hs), 5 if len(hs) > 6 else len(hs)))
    panel_letters(list(axes.ravel()))
    return fig


_GAUSS_CAPTION = (
    "Collapse-or-Thrive's Gaussian metrics (Kazdan et al. 2025) from a sweep, at d = {d}: rows "
    "E tr Σ̂_k/tr Σ_0 (linear), E det Σ̂_k/det Σ_0 and E‖μ̂_k − μ‖² (log axes, clipped at {floor:g}); "
    "columns the workflows; colour the samples per model n. Lines: the exact expectations "
    "(selfconsume.theory: expected_sigma2, expected_mean_sq_drift and expected_det_ratio for replace; "
    "expected_accumulate_cov, expected_accumulate_mean_err for accumulate; expected_accumulate_subsample; "
    "no line where theory has none — accumulate-subsample's determinant for d > 1, accumulate's trace and "
    "mean error for the unbiased estimator). Open circles: the sweep's mean over replicates ± 2 SE at every "
    "{every}-th iteration (staggered by n); triangles: the mean is carried by fewer than "
    "{few:.0%} of the replicates (effective count (Σx)²/Σx²), the heavy-tail regime where it falls below the "
    "exact expectation and its SE understates the error. For n ≤ d every fitted covariance is singular and "
    "det Σ̂ is exactly 0.")


# ------------------------------------------------------------------------------ gaussian: rates
def _param_columns(table: pd.DataFrame, outputs) -> list[str]:
    return [c for c in table.columns if c not in outputs]


def _rate_window(g: pd.DataFrame, value: str):
    """Generations of a cell from the first to the last before the mean is carried by fewer than
    ``RATE_ESS_FRACTION`` of the replicates; None when fewer than 2 remain."""
    piv = g.pivot_table(index="rep", columns="generation", values=value, aggfunc="first").sort_index(axis=1)
    X = piv.to_numpy(dtype=float)
    S, Q = X.sum(axis=0), (X**2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ess = np.where(Q > 0, S**2 / Q, 0.0)
    bad = np.nonzero(~(ess >= RATE_ESS_FRACTION * X.shape[0]))[0]
    last = bad[0] if bad.size else X.shape[1]
    if last < 2:
        return None
    gens = piv.columns.to_numpy()
    return float(gens[0]), float(gens[last - 1])


def rate_summary(table: pd.DataFrame, config="gaussian") -> pd.DataFrame:
    r"""Fitted per-iteration rates against the theory rates, per cell of a ``gaussian`` sweep.

    Where the workflow has a constant rate — replace, whose E tr Σ̂_k/tr Σ_0 and E det Σ̂_k/det Σ_0
    are geometric in k with rates (n − 1)/n (MLE; 1 for the unbiased refit) and
    :math:`\prod_{i\le d}(n-i)/n` (MLE; ``expected_det_ratio(n, d, 1)``; only for n > d) —
    :func:`~selfconsume.analysis.estimate_rate` (``method="ratio"``, the rate of the mean, with
    its replicate-jackknife interval at level 0.95) is run per cell, ``by`` every parameter
    column, over a window that ends before the mean is carried by fewer than half the replicates
    (:data:`RATE_ESS_FRACTION`). Returns estimate_rate's columns (``theory_rate``, ``ratio``,
    ``ratio_ci_low``, ``ratio_ci_high``, ``consistent``, ...) for both statistics; empty (with
    those columns) when no cell has a theory rate. Other cells: an empty frame.
    """
    from selfconsume.analysis import estimate_rate
    from selfconsume.theory import expected_det_ratio

    cols = ["statistic", "rate", "ci_low", "ci_high", "theory_rate", "ratio", "ratio_ci_low", "ratio_ci_high",
            "consistent"]
    if _cell_name(config) != "gaussian":
        return pd.DataFrame(columns=cols)
    params = _param_columns(table, GAUSSIAN_OUTPUTS)
    wf = table["workflow"] if "workflow" in table.columns else pd.Series("replace", index=table.index)
    rep = table[wf == "replace"]
    out = []
    if len(rep):
        for key, g in rep.groupby(params, sort=True, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            cell = dict(zip(params, key))
            n, d = int(cell["n"]), int(cell.get("d", 1))
            est = cell.get("estimator", "mle")
            rates = {"tr_ratio": (n - 1) / n if est == "mle" else 1.0}
            if n > d:
                rates["det_ratio"] = float(expected_det_ratio(n, d, 1, estimator=est))
            for value, th in rates.items():
                win = _rate_window(g, value)
                if win is None or not th > 0:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    r = estimate_rate(g, value, by=params, method="ratio", start=win[0], stop=win[1],
                                      theory=th, min_ess=0.0)
                out.append(r)
    if not out:
        return pd.DataFrame(columns=[*params, *cols])
    res = pd.concat(out, ignore_index=True)
    if "workflow" in res.columns:
        res = res.drop(columns="workflow")
    return res.sort_values(["statistic", *[p for p in params if p in res.columns]], kind="stable",
                           ignore_index=True)


def rates_markdown(rates: pd.DataFrame) -> str:
    """A Markdown summary of :func:`rate_summary`: one line per cell, the count consistent with theory."""
    if rates.empty:
        return "No cell of this sweep has a theory rate (only replace's geometric means have one).\n"
    fixed = {"statistic", "method", "fit", "n_reps", "generation_start", "generation_stop", "n_generations",
             "ess_min", "rate", "se", "ci_low", "ci_high", "log_rate", "log_rate_se", "level", "theory_rate",
             "ratio", "ratio_ci_low", "ratio_ci_high", "z", "consistent"}
    params = [c for c in rates.columns if c not in fixed and rates[c].nunique(dropna=False) > 1] or \
        [c for c in ("d", "n") if c in rates.columns]
    lvl = float(rates["level"].iloc[0]) if "level" in rates.columns else 0.95
    ok = int(rates["consistent"].sum())
    lines = [f"# Fitted rates against theory rates (replace workflow; {lvl:.0%} intervals)", "",
             (f"{ok} of {len(rates)} fitted rates are consistent with theory (theory rate inside the interval; "
              f"about {1 - lvl:.0%} of them are expected outside by chance). Rate of the mean "
              "(`estimate_rate(method='ratio')`), over iterations whose mean is carried by at least "
              f"{RATE_ESS_FRACTION:.0%} of the replicates."), "",
             "| statistic | " + " | ".join(params) + " | iterations | rate [CI] | theory | ratio [CI] | consistent |",
             "|---|" + "---|" * len(params) + "---|---|---|---|---|"]
    for _, r in rates.iterrows():
        vals = " | ".join(f"{r[p]}" for p in params)
        lines.append(f"| {r['statistic']} | {vals} | {r['generation_start']:g}–{r['generation_stop']:g} | "
                     f"{r['rate']:.5g} [{r['ci_low']:.5g}, {r['ci_high']:.5g}] | {r['theory_rate']:.5g} | "
                     f"{r['ratio']:.4f} [{r['ratio_ci_low']:.4f}, {r['ratio_ci_high']:.4f}] | "
                     f"{'yes' if r['consistent'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def _rates_figure(rates: pd.DataFrame):
    import matplotlib.pyplot as plt

    stats = [s for s in ("tr_ratio", "det_ratio") if s in set(rates["statistic"])]
    titles = {"tr_ratio": r"$E\,\mathrm{tr}\,\hat\Sigma_k$: theory $(n-1)/n$",
              "det_ratio": r"$E\,\det\hat\Sigma_k$: theory $\prod_{i\leq d}(n-i)/n$"}
    ds = sorted(rates["d"].unique()) if "d" in rates.columns else [1]
    colors = dict(zip(ds, categorical(len(ds)) if len(ds) <= 10 else sequential(len(ds))))
    fig, axes = plt.subplots(1, len(stats), figsize=(PAGE_WIDTH, 2.5), squeeze=False, sharey=False)
    for ax, stat in zip(axes[0], stats):
        sub = rates[rates["statistic"] == stat]
        for i, d in enumerate(ds):
            g = sub[sub["d"] == d] if "d" in sub.columns else sub
            if g.empty:
                continue
            x = g["n"].to_numpy(float) * 1.06 ** (i - (len(ds) - 1) / 2)  # staggered by d
            y = g["ratio"].to_numpy(float)
            sim_points(ax, x, y, g["ratio_ci_low"].to_numpy(float), g["ratio_ci_high"].to_numpy(float),
                       color=colors[d])
        ref_line(ax, 1.0)
        _plain_log_x(ax, sub["n"].unique())
        ax.set_xlabel("$n$")
        ax.set_title(titles[stat], fontsize=8)
    axes[0, 0].set_ylabel("fitted rate / theory rate")
    hs, ls = value_legend(colors, "$d = {}$")
    h, lab = sim_handle("k", "fitted / theory, 95 % CI")
    fig.legend(hs + [h], ls + [lab], loc="outside right upper")
    panel_letters(list(axes[0]))
    return fig


_RATES_CAPTION = (
    "Fitted per-iteration rates of the replace workflow over their theory rates, per sweep cell: "
    "E tr Σ̂_k/tr Σ_0 = ((n − 1)/n)^k and E det Σ̂_k/det Σ_0 = (Π_(i≤d) (n − i)/n)^k (MLE refit; for the "
    "unbiased refit the trace rate is 1), the determinant only for n > d. Markers: estimate_rate "
    "(method 'ratio', the rate of the mean, replicate-jackknife 95 % interval) divided by the theory rate, "
    "staggered by d; the window of each cell ends before the first iteration whose mean is carried by fewer "
    "than {ess:.0%} of the replicates (past it the heavy tail makes the rate of the mean unreliable). A "
    "correct simulator puts about 95 % of the intervals across the dotted line at 1.")


# ------------------------------------------------------------------------------ fixation
def _diffusion_level(K: int) -> float:
    """lim E T/n = −2K(1 − 1/K) ln(1 − 1/K) (the diffusion approximation over n)."""
    return -2.0 * K * (1 - 1 / K) * math.log1p(-1 / K) if K > 1 else 0.0


def _fixation_figure(table: pd.DataFrame):
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    Ks = sorted(table["categories"].unique())
    colors = dict(zip(Ks, sequential(len(Ks))))
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.6))
    unfixed = 0
    for i, K in enumerate(Ks):
        c = colors[K]
        g = table[table["categories"] == K]
        ns = sorted(g["n"].unique())
        grid = np.unique(np.concatenate([ns, np.round(np.geomspace(max(min(ns), 2), max(ns), 24))])).astype(int)
        grid = grid[grid >= 1]
        ex = np.array([expected_fixation_time(K, n) for n in grid])
        theory_line(axes[0], grid, ex, color=c)
        theory_line(axes[1], grid, ex / grid, color=c)
        if K > 1:
            ref_line(axes[1], _diffusion_level(K), color=c, lw=0.8)
        x, m, se = [], [], []
        for n in ns:
            t = g.loc[g["n"] == n, "fixation_time"].to_numpy(float)
            unfixed += int(np.sum(~np.isfinite(t)))
            t = t[np.isfinite(t)]
            if t.size >= 2:
                x.append(n)
                m.append(t.mean())
                se.append(t.std(ddof=1) / math.sqrt(t.size))
        x, m, se = np.array(x, float), np.array(m), np.array(se)
        xs = x * 1.05 ** (i - (len(Ks) - 1) / 2)
        if x.size:
            sim_points(axes[0], xs, m, m - 2 * se, m + 2 * se, color=c)
            sim_points(axes[1], xs, m / x, (m - 2 * se) / x, (m + 2 * se) / x, color=c)
    for ax in axes:
        _plain_log_x(ax, table["n"].unique())
        ax.set_xlabel("samples per generation $n$")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("mean fixation time $E\\,T$ (generations)")
    axes[1].set_ylabel("$E\\,T / n$")
    axes[1].set_ylim(bottom=0)
    hs, ls = value_legend(colors, "$K = {}$")
    hs += [Line2D([], [], color="k", lw=1.2), sim_handle("k")[0], Line2D([], [], color="0.45", lw=0.9, ls=":")]
    ls += ["exact", "sweep mean ± 2 SE", r"diffusion limit $-2K(1-\frac{1}{K})\ln(1-\frac{1}{K})$"]
    fig.legend(hs, ls, loc="outside right upper")
    panel_letters(list(axes))
    return fig, unfixed


_FIX_CAPTION = (
    "Neutral resampling (Wright–Fisher) of K equally likely categories, n samples per generation, until "
    "one category is left: the mean fixation time T against n, colour K, as is (a) and per sample, E T/n (b). "
    "Lines: the exact expectation E T = 1 + K E w(c_1), w = (I − Q)⁻¹h from the binomial transition matrix "
    "(selfconsume.theory.expected_fixation_time); dotted, in (b): the diffusion approximation's "
    "limit −2K(1 − 1/K) ln(1 − 1/K) of E T/n (2 ln 2 ≈ 1.39 for K = 2, → 2 as K grows), which the exact "
    "values approach from below as n grows. Open circles: the sweep's mean over the replicates that fixed "
    "within the generation cap ± 2 SE, staggered by K.{unfixed}")


# ------------------------------------------------------------------------------ entry point
def draw_sweep_figures(table: pd.DataFrame, config, out_dir, *, rates: pd.DataFrame | None = None) -> list[Path]:
    """Draw the figures of a sweep's table into ``out_dir``; returns the paths written (PNG, PDF, caption).

    ``config``: the configuration (a dict with ``cell``, as :func:`~selfconsume.analysis._sweep.load_config`
    returns; its ``source``, ``reps`` and ``rng`` go into the captions) or just the cell's name.
    ``gaussian``: ``sweep_gaussian_d<d>`` per dimension and, when some cell has a theory rate,
    ``sweep_rates`` (from ``rates``, default :func:`rate_summary`); ``fixation``:
    ``sweep_fixation``; any other cell: nothing (an empty list).
    """
    cell = _cell_name(config)
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise ValueError("table must be a non-empty sweep table (pandas DataFrame)")
    out = Path(out_dir)
    set_style()
    data = _data_line(table, config)
    paths: list[Path] = []
    if cell == "gaussian":
        missing = [c for c in ("n", "iteration", "tr_ratio") if c not in table.columns]
        if missing:
            raise ValueError(f"a gaussian sweep table needs the columns {missing}")
        s = _gaussian_summary(table)
        span = int(s["iteration"].max()) - int(s["iteration"].min()) + 1
        for d in sorted(s["d"].unique()):
            fig = _gaussian_figure(s[s["d"] == d], int(d))
            cap = _GAUSS_CAPTION.format(d=int(d), floor=DET_FLOOR, every=max(1, span // 10), few=MIN_ESS_FRACTION)
            paths += _save(fig, out, f"sweep_gaussian_d{int(d)}",
                           f"Collapse or Thrive from a sweep: the Gaussian workflows at d = {int(d)}.", cap, data)
        rates = rate_summary(table, cell) if rates is None else rates
        if not rates.empty:
            paths += _save(_rates_figure(rates), out, "sweep_rates",
                           "Fitted rates over theory rates, per sweep cell (replace workflow).",
                           _RATES_CAPTION.format(ess=RATE_ESS_FRACTION), data)
    elif cell == "fixation":
        missing = [c for c in ("categories", "n", "fixation_time") if c not in table.columns]
        if missing:
            raise ValueError(f"a fixation sweep table needs the columns {missing}")
        fig, unfixed = _fixation_figure(table)
        note = "" if not unfixed else (f" {unfixed} replicate(s) had not fixed within the cap and are left out "
                                       "of the means (which are then biased low).")
        paths += _save(fig, out, "sweep_fixation", "Fixation time of neutral resampling from a sweep.",
                       _FIX_CAPTION.format(unfixed=note), data)
    return paths
