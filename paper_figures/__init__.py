"""One plotting script per figure (``fig_<slug>.py``); they read cached tables, never simulate."""

from ._registry import FigureSpec, get_figure, list_figures, register_figure, set_style

__all__ = ["FigureSpec", "register_figure", "list_figures", "get_figure", "set_style"]
