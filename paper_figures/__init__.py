"""One plotting script per figure (``fig_<slug>.py``); they read cached tables, never simulate.
The style, the widths and the drawing helpers every script uses live in :mod:`._registry`."""

from ._registry import (COLUMN_WIDTH, PAGE_WIDTH, FigureSpec, bound_line, caption_markdown, categorical,
                        encoding_handles, fingerprint, get_figure, list_figures, load_verify, panel_letters,
                        png_fingerprint, ref_line, register_figure, render, save_figure, sequential, set_style,
                        sim_handle, sim_points, theory_line, value_legend, write_index)

__all__ = ["FigureSpec", "register_figure", "list_figures", "get_figure", "set_style", "COLUMN_WIDTH", "PAGE_WIDTH",
           "categorical", "sequential", "theory_line", "sim_points", "sim_handle", "bound_line", "ref_line",
           "encoding_handles", "panel_letters", "caption_markdown", "load_verify", "render", "save_figure", "write_index",
           "value_legend", "fingerprint", "png_fingerprint"]
