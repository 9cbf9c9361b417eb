"""The figure registry behind ``selfconsume figures``, and the one style every figure uses.

A figure script ``paper_figures/fig_<slug>.py`` registers one figure: the analysis
function that produces (and caches) its tidy table, the claims it illustrates, and a
``plot(table)`` function that only draws. Style is set once, here (:func:`set_style`), and
every script draws with the same encoding:

* **theory** (an exact value, a closed form, a population chain): a solid line,
  :func:`theory_line`;
* **simulation** (Monte-Carlo, a learned loop): open markers with confidence bars, or a band,
  :func:`sim_points`;
* **bounds** (a theorem's inequality, a sufficient condition): a dashed line, :func:`bound_line`;
* reference levels (1/10, r*, a noise floor): a thin dotted grey line, :func:`ref_line`.

Widths are the two of a two-column paper, :data:`COLUMN_WIDTH` and :data:`PAGE_WIDTH`; fonts
are 7–8 pt at that size, mathtext for symbols, TrueType (Type 42) in PDFs. Colours are the
Okabe–Ito palette (colour-blind safe), Paul Tol's *muted* set where ten categories are
needed, and a truncated viridis for ordered parameters.

The runner (:func:`render`) writes ``NAME.png``, ``NAME.pdf`` and ``NAME.caption.md``;
:func:`write_index` writes ``index.md`` showing every figure with its caption.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from collections.abc import Callable

import numpy as np

__all__ = ["FigureSpec", "register_figure", "list_figures", "get_figure", "set_style", "STYLE",
           "COLUMN_WIDTH", "PAGE_WIDTH", "OKABE_ITO", "TOL_MUTED", "categorical", "sequential",
           "theory_line", "sim_points", "bound_line", "ref_line", "encoding_handles", "panel_letters",
           "caption_markdown", "load_verify", "render", "save_figure", "write_index", "sim_handle", "value_legend",
           "fingerprint", "png_fingerprint", "FINGERPRINT_KEY"]

#: Width of one column of a two-column paper, in inches.
COLUMN_WIDTH = 3.3
#: Width of the full text block (both columns), in inches.
PAGE_WIDTH = 6.75

#: Okabe & Ito's colour-blind-safe palette (blue, vermillion, green, reddish purple, orange,
#: sky blue, black, yellow: yellow last, it is faint on white).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
#: Paul Tol's colour-blind-safe *muted* scheme (nine colours) and a dark grey: ten categories.
TOL_MUTED = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255",
             "#AA4499", "#555555")

#: The one rc dictionary behind every figure (applied by :func:`set_style`).
STYLE = {
    "figure.dpi": 150,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "figure.constrained_layout.use": True,
    "figure.constrained_layout.h_pad": 0.02,
    "figure.constrained_layout.w_pad": 0.02,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "mathtext.fontset": "dejavusans",
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "figure.titlesize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "pdf.fonttype": 42,  # TrueType, no Type 3
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "axes.linewidth": 0.6,
    "axes.titlepad": 3.0,
    "axes.labelpad": 2.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.linewidth": 0.4,
    "grid.color": "0.88",
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.minor.width": 0.4,
    "ytick.minor.width": 0.4,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "xtick.minor.size": 1.5,
    "ytick.minor.size": 1.5,
    "xtick.major.pad": 2.0,
    "ytick.major.pad": 2.0,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "lines.markeredgewidth": 0.8,
    "errorbar.capsize": 0,
    "legend.frameon": False,
    "legend.handlelength": 2.0,
    "legend.handletextpad": 0.5,
    "legend.labelspacing": 0.3,
    "legend.borderaxespad": 0.3,
    "legend.columnspacing": 1.0,
    "image.cmap": "viridis",
}


def set_style():
    """Apply the one style (:data:`STYLE`, the Okabe–Ito colour cycle) and the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    from cycler import cycler

    matplotlib.rcParams.update(STYLE)
    matplotlib.rcParams["axes.prop_cycle"] = cycler(color=list(OKABE_ITO))


# -------------------------------------------------------------------------------- palettes
def categorical(n: int) -> list[str]:
    """``n`` colour-blind-safe colours for unordered categories: Okabe–Ito up to 7 (no yellow),
    Paul Tol's *muted* set plus dark grey up to 10."""
    if n <= 7:
        return list(OKABE_ITO[:n])
    if n <= len(TOL_MUTED):
        return list(TOL_MUTED[:n])
    raise ValueError(f"at most {len(TOL_MUTED)} categorical colours; got {n}")


def sequential(n: int, cmap: str = "viridis", lo: float = 0.0, hi: float = 0.85) -> list:
    """``n`` colours for an ordered parameter (λ, K, n), from ``cmap`` between ``lo`` and ``hi``
    (viridis without its faint yellow end)."""
    import matplotlib

    cm = matplotlib.colormaps[cmap]
    return [cm(v) for v in (np.linspace(lo, hi, n) if n > 1 else [lo])]


# -------------------------------------------------------------------------------- encoding
def theory_line(ax, x, y, *, color="k", label=None, **kw):
    """Theory (exact value, closed form, population chain): a solid line, drawn above the data."""
    kw = {"ls": "-", "lw": 1.2, "zorder": 3, **kw}
    return ax.plot(x, y, color=color, label=label, **kw)[0]


def bound_line(ax, x, y, *, color="k", label=None, **kw):
    """A bound (a theorem's inequality, a sufficient condition): a dashed line."""
    kw = {"ls": "--", "lw": 1.0, "zorder": 2.5, **kw}
    return ax.plot(x, y, color=color, label=label, **kw)[0]


def ref_line(ax, y=None, *, x=None, color="0.45", label=None, **kw):
    """A reference level (``y``: horizontal, ``x``: vertical): a thin dotted grey line."""
    kw = {"ls": ":", "lw": 0.9, "zorder": 1, **kw}
    if x is not None:
        return ax.axvline(x, color=color, label=label, **kw)
    return ax.axhline(y, color=color, label=label, **kw)


def sim_points(ax, x, y, lo=None, hi=None, *, band=False, color="k", label=None, marker="o", ms=3.2,
               every=None, floor=None, **kw):
    """Simulation: open markers; with ``lo``/``hi`` (a confidence interval), error bars, or a
    shaded band when ``band`` (for dense series; then markers only every ``every`` points).
    ``floor`` clips ``lo`` from below (log axes)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if lo is not None:
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        if floor is not None:
            lo = np.maximum(lo, floor)
    sel = slice(None, None, every)
    mk = {"marker": marker, "ms": ms, "mfc": "white", "mec": color, "mew": 0.8}
    if lo is not None and band:
        ax.fill_between(x, lo, hi, color=color, alpha=0.22, lw=0, zorder=1)
    kw.setdefault("zorder", 2.2)
    if lo is not None and not band:
        return ax.errorbar(x[sel], y[sel], yerr=[(y - lo)[sel], (hi - y)[sel]], fmt=marker, ms=ms, mfc="white",
                           mec=color, mew=0.8, color=color, ecolor=color, elinewidth=0.8, capsize=0, label=label,
                           **kw)
    return ax.plot(x[sel], y[sel], ls="none", color=color, label=label, **mk, **kw)[0]


def sim_handle(color="k", label=None, bars=True, band=False):
    """A legend handle for :func:`sim_points` (an open marker, with a bar or a band)."""
    from matplotlib.collections import LineCollection
    from matplotlib.container import ErrorbarContainer
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    mk = Line2D([], [], ls="none", marker="o", ms=3.2, mfc="white", mec=color, mew=0.8, color=color)
    if band:
        return (Patch(color=color, alpha=0.22, lw=0), mk), label
    if bars:
        bar = LineCollection([], colors=[color], linewidths=0.8)
        return ErrorbarContainer((mk, [], [bar]), has_xerr=False, has_yerr=True, label=label), label
    return mk, label


def value_legend(colors, fmt="{}"):
    """Legend entries (handles, labels) for the values a colour stands for: one thick swatch per
    entry of ``colors`` (a mapping value → colour, in legend order). ``fmt`` is a format string
    (``"$K = {:g}$"``) or a callable value → label."""
    from matplotlib.lines import Line2D

    label = fmt if callable(fmt) else fmt.format
    return [Line2D([], [], color=c, lw=3) for c in colors.values()], [label(v) for v in colors]


def encoding_handles(*, theory=None, sim=None, bound=None, ref=None, band=False, color="k"):
    """Legend entries (handles, labels) for the encoding itself, in neutral colour: pass the label
    of each kind drawn (``theory``: solid line, ``sim``: open markers with bars or a band,
    ``bound``: dashed, ``ref``: dotted grey)."""
    from matplotlib.lines import Line2D

    hs, ls = [], []
    if theory:
        hs.append(Line2D([], [], color=color, lw=1.2))
        ls.append(theory)
    if sim:
        h, _ = sim_handle(color, sim, band=band)
        hs.append(h)
        ls.append(sim)
    if bound:
        hs.append(Line2D([], [], color=color, lw=1.0, ls="--"))
        ls.append(bound)
    if ref:
        hs.append(Line2D([], [], color="0.45", lw=0.9, ls=":"))
        ls.append(ref)
    return hs, ls


def panel_letters(fig_or_axes, *, start: int = 0, offset=(-2.0, 3.0), **kw):
    """Label panels (a), (b), … at their top-left corner, just outside the axes.

    ``fig_or_axes``: a Figure (its axes in creation order, colour bars skipped) or a sequence
    of axes (``None`` entries are skipped but use up a letter)."""
    from matplotlib.figure import Figure

    axes = [a for a in fig_or_axes.axes if a.get_label() != "<colorbar>"] if isinstance(fig_or_axes, Figure) \
        else list(fig_or_axes)
    kw = {"fontsize": 8, "fontweight": "bold", "ha": "right", "va": "bottom", **kw}
    out = []
    for i, ax in enumerate(axes):
        if ax is None:
            continue
        out.append(ax.annotate(f"({chr(ord('a') + start + i)})", xy=(0, 1), xycoords="axes fraction",
                               xytext=offset, textcoords="offset points", annotation_clip=False, **kw))
    return out


# -------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class FigureSpec:
    """slug, caption, ``table(quick: bool) -> DataFrame`` (analysis, cached), ``plot(df) -> Figure``,
    the optional modules the table needs (``requires``, e.g. ``("torch",)``), the ids of the
    claims the figure illustrates (``claims``, as listed by ``selfconsume verify --list``) and its
    title (the first paragraph of the script's docstring)."""

    slug: str
    caption: str
    table: Callable
    plot: Callable
    requires: tuple = ()
    claims: tuple = ()
    title: str = ""

    def missing(self) -> list[str]:
        """The modules of ``requires`` that cannot be imported here."""
        import importlib.util

        return [m for m in self.requires if importlib.util.find_spec(m) is None]


_FIGURES: dict[str, FigureSpec] = {}


def register_figure(*, slug: str, caption: str, table: Callable, claims=(), requires=(), title: str | None = None):
    """Decorator for a script's ``plot`` function (``claims``: the claim ids it illustrates;
    ``requires``: optional modules its table needs; ``title``: default, the first paragraph of
    the script's docstring)."""
    if isinstance(claims, str):
        claims = (claims,)

    def deco(plot):
        if slug in _FIGURES:
            raise ValueError(f"figure slug {slug!r} is already registered")
        t = title
        if t is None:
            doc = getattr(sys.modules.get(plot.__module__), "__doc__", None) or ""
            t = " ".join(doc.strip().split("\n\n")[0].split())
        _FIGURES[slug] = FigureSpec(slug, caption, table, plot, tuple(requires), tuple(claims), t)
        return plot

    return deco


def _load_all():
    import selfconsume.paper_figures as pkg

    for m in pkgutil.iter_modules(pkg.__path__):
        if m.name.startswith("fig_"):
            importlib.import_module(f"{pkg.__name__}.{m.name}")


def list_figures() -> list[FigureSpec]:
    _load_all()
    return [_FIGURES[k] for k in sorted(_FIGURES)]


def get_figure(slug: str) -> FigureSpec:
    _load_all()
    try:
        return _FIGURES[slug]
    except KeyError:
        raise ValueError(f"figure must be one of {', '.join(sorted(_FIGURES))}; got {slug!r}") from None


# -------------------------------------------------------------------------------- captions
def load_verify(paths=("reports/verify.json", "reports/verify_torch.json")) -> dict:
    """Verdicts of the claims in the verify reports found at ``paths``:
    ``{claim_id: {"verdict", "failed", "comparisons", "budget", "seed", "report", "date"}}``
    (empty when none exists or a report cannot be read)."""
    out = {}
    for p in map(Path, paths):
        try:
            rep = json.loads(p.read_text())
            date = datetime.fromtimestamp(p.stat().st_mtime).strftime("%Y-%m-%d")
            for c in rep.get("claims", []):
                out[c["claim"]] = {"verdict": c.get("verdict", "?"), "failed": c.get("failed"),
                                   "comparisons": c.get("comparisons"), "budget": rep.get("budget"),
                                   "seed": rep.get("seed"), "report": str(p), "date": date}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


def _fmt_int(v) -> str:
    return f"{int(v):,}".replace(",", " ")


def _data_line(spec: FigureSpec, table, budget: str) -> str:
    """Budget, replicates and seed of the table behind the figure."""
    parts = [f"`{budget}` budget"]
    reps = None
    if table is not None:
        for col in ("reps", "runs"):
            if col in getattr(table, "columns", ()):
                vals = sorted({int(v) for v in table[col].dropna().unique()})
                if vals:
                    reps = " or ".join(_fmt_int(v) for v in vals)
                    break
    try:
        params = inspect.signature(spec.table).parameters
    except (TypeError, ValueError):
        params = {}
    if reps is None and "runs" in params and params["runs"].default is not inspect.Parameter.empty:
        reps = _fmt_int(params["runs"].default)
    seed = params["seed"].default if "seed" in params else None
    if reps is not None:
        parts.append(f"{reps} replicates per curve")
    if seed is not None and seed is not inspect.Parameter.empty:
        parts.append(f"seed {seed} (fixed in `{spec.table.__name__}`)")
    elif reps is None:
        parts.append("computed exactly, no random draws")
    return "; ".join(parts)


def _claims_line(spec: FigureSpec, verify: dict | None) -> str:
    if not spec.claims:
        return "none"
    verify = verify or {}
    items, sources = [], {}
    for cid in spec.claims:
        v = verify.get(cid)
        if v is None:
            items.append(f"`{cid}` (not run)")
            continue
        extra = f", {v['failed']} of {v['comparisons']} comparisons failed" if v.get("failed") else ""
        items.append(f"`{cid}` ({v['verdict']}{extra})")
        sources.setdefault(v["report"], f"{v['report']} of {v['date']}: `selfconsume verify`, {v['budget']} budget, "
                                        f"seed {v['seed']}")
    line = "; ".join(items)
    if sources:
        line += " — verdicts from " + "; ".join(sources.values())
    return line


def _md(text: str) -> str:
    """Plain caption text for Markdown: ``*`` and ``_`` escaped (p*, σ_t are not emphasis), code spans kept."""
    parts = text.split("``")
    out = []
    for i, part in enumerate(parts):
        out.append(f"`{part}`" if i % 2 else part.replace("\\", "\\\\").replace("*", r"\*").replace("_", r"\_"))
    return "".join(out)


def caption_markdown(spec: FigureSpec, table=None, *, budget: str = "quick", verify: dict | None = None) -> str:
    """The caption file's Markdown: title, what is drawn and its parameters (the caption), the
    table's budget, replicates and seed, and the claims illustrated with their verdicts (from
    ``verify``, :func:`load_verify`; "not run" where a claim is absent)."""
    return (f"**Figure `{spec.slug}`.** {_md(spec.title)}\n\n"
            f"{_md(' '.join(spec.caption.split()))}\n\n"
            f"*Data:* {_data_line(spec, table, budget)}.\n\n"
            f"*Claims:* {_claims_line(spec, verify)}.\n")


#: PNG text key holding :func:`fingerprint` of the code that drew the image.
FINGERPRINT_KEY = "selfconsume-fingerprint"


def fingerprint(spec: FigureSpec) -> str:
    """SHA-256 (16 hex digits) of the code that draws ``spec``: its script, this style module and
    the module of its table function. Written into every PNG (text key :data:`FINGERPRINT_KEY`),
    so an image copied elsewhere (the README's) can be checked against the code that draws it
    now (:func:`png_fingerprint`)."""
    import hashlib
    import inspect

    h = hashlib.sha256()
    for mod in (spec.plot.__module__, __name__, spec.table.__module__):
        h.update(inspect.getsource(sys.modules[mod]).encode())
    return h.hexdigest()[:16]


def png_fingerprint(path) -> str | None:
    """The fingerprint a PNG written by :func:`save_figure` carries (None if it has none)."""
    from PIL import Image

    with Image.open(path) as im:
        return im.text.get(FINGERPRINT_KEY) if hasattr(im, "text") else None


def save_figure(spec: FigureSpec, fig, out, table=None, *, budget: str = "quick", verify: dict | None = None,
                close: bool = True) -> list[Path]:
    """Write ``fig`` (drawn by ``spec.plot``) as ``NAME.png`` and ``NAME.pdf`` and its caption
    ``NAME.caption.md`` into ``out``; returns the three paths. The PNG carries the
    :func:`fingerprint` of the code that drew it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    try:
        for ext in ("png", "pdf"):
            meta = {FINGERPRINT_KEY: fingerprint(spec)} if ext == "png" else None
            fig.savefig(out / f"{spec.slug}.{ext}", metadata=meta)
            paths.append(out / f"{spec.slug}.{ext}")
    finally:
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
    cap = out / f"{spec.slug}.caption.md"
    cap.write_text(caption_markdown(spec, table, budget=budget, verify=verify), encoding="utf-8")
    paths.append(cap)
    return paths


def render(spec: FigureSpec, table, out, *, budget: str = "quick", verify: dict | None = None) -> list[Path]:
    """Draw ``spec`` from ``table`` in the one style (:func:`set_style`) and write ``NAME.png``,
    ``NAME.pdf`` and ``NAME.caption.md`` into ``out`` (:func:`save_figure`); returns the three paths."""
    set_style()
    return save_figure(spec, spec.plot(table), out, table, budget=budget, verify=verify)


def write_index(out, specs=None) -> Path:
    """Write ``index.md`` in ``out``: every registered figure (``specs``, default all) whose
    caption file is there, image then caption; the others listed as not drawn."""
    out = Path(out)
    specs = list_figures() if specs is None else list(specs)
    drawn = [s for s in specs if (out / f"{s.slug}.caption.md").exists() and (out / f"{s.slug}.png").exists()]
    lines = ["# Figures", "",
             ("Written by `selfconsume figures` from the cached tables of `selfconsume.analysis`. Each figure "
              "comes as PNG and PDF (TrueType fonts) at paper width "
              f"({COLUMN_WIDTH} in for one column, {PAGE_WIDTH} in for two), with its caption in "
              "`NAME.caption.md`. Theory is drawn as solid lines, simulations as open markers with confidence "
              "bars or bands, bounds dashed, reference levels dotted."), ""]
    lines += [f"- [`{s.slug}`](#{s.slug}): {_md(s.title)}" for s in drawn]
    missing = [s for s in specs if s not in drawn]
    for s in missing:
        why = f"needs {', '.join(s.missing())}" if s.missing() else "not drawn in this folder"
        lines.append(f"- `{s.slug}`: {why} (`selfconsume figures --figure {s.slug}`)")
    lines.append("")
    for s in drawn:
        cap = (out / f"{s.slug}.caption.md").read_text(encoding="utf-8").strip()
        lines += [f"## {s.slug}", "", f"![{s.slug}]({s.slug}.png)", "", cap, "",
                  f"[PDF]({s.slug}.pdf) · [caption]({s.slug}.caption.md)", ""]
    path = out / "index.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
