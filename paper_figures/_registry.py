"""The figure registry behind ``selfconsume figures``.

A figure script ``paper_figures/fig_<slug>.py`` registers one figure: the analysis
function that produces (and caches) its tidy table, and a ``plot(table)`` function that
only draws. Style is set once, here.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

__all__ = ["FigureSpec", "register_figure", "list_figures", "get_figure", "set_style"]


@dataclass(frozen=True)
class FigureSpec:
    """slug, caption, ``table(quick: bool) -> DataFrame`` (analysis, cached), ``plot(df) -> Figure``,
    and the optional modules the table needs (``requires``, e.g. ``("torch",)``)."""

    slug: str
    caption: str
    table: Callable
    plot: Callable
    requires: tuple = ()

    def missing(self) -> list[str]:
        """The modules of ``requires`` that cannot be imported here."""
        import importlib.util

        return [m for m in self.requires if importlib.util.find_spec(m) is None]


_FIGURES: dict[str, FigureSpec] = {}


def register_figure(*, slug: str, caption: str, table: Callable, requires=()):
    """Decorator for a script's ``plot`` function (``requires``: optional modules its table needs)."""

    def deco(plot):
        if slug in _FIGURES:
            raise ValueError(f"figure slug {slug!r} is already registered")
        _FIGURES[slug] = FigureSpec(slug, caption, table, plot, tuple(requires))
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


def set_style():
    """One style for every figure."""
    import matplotlib

    matplotlib.use("Agg")
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.1)
    matplotlib.rcParams.update({"figure.dpi": 110, "savefig.dpi": 200, "savefig.bbox": "tight"})
