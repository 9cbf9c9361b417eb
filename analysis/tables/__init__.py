"""Tables behind the figures: simulated and computed here, cached by the CLI
(:func:`selfconsume.analysis.cached_table`), plotted by :mod:`selfconsume.paper_figures`.

One module per area, each function ``<name>_table(quick=True, ...) -> pandas.DataFrame``
(tidy: one row per point, parameters as columns).
"""

from .continuous import continuous_grid_table, curation_2d_table, curation_heatmaps_table
from .curation import (curation_cifar_table, curation_kl_table, curation_large_k_table, curation_reward_table,
                       thm23_24_table)
from .gaussian import collapse_table
from .mad import mad_phase_table
from .mixing import mixing_paths_table, workflows_table
from .peers import cot_workflows_table, roc_panels_table
from .stability import boundary_map_table, contraction_table, stability_rates_table
from .torch import torch_digits_table, torch_ring_table

__all__ = [
    "collapse_table", "mixing_paths_table", "workflows_table", "contraction_table", "boundary_map_table", "stability_rates_table",
    "curation_reward_table", "curation_kl_table", "curation_large_k_table", "curation_cifar_table",
    "thm23_24_table",
    "continuous_grid_table", "curation_2d_table", "curation_heatmaps_table",
    "torch_ring_table", "torch_digits_table",
    "roc_panels_table", "cot_workflows_table",
    "mad_phase_table",
]
