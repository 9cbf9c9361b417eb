"""The torch adapter's flow on the 8-Gaussian ring: fully synthetic, with real data, curated.

The ``continuous_grid`` figure with a trained neural network in place of the Gaussian mixture: a
flow-matching network (MLP velocity field 2 → 128 → 128 → 2, sampled by 32 Heun steps) pretrained
on 1 000 real points (1 500 Adam steps) and fine-tuned 100 Adam steps per generation on its
training set — the papers' protocol (Bertrand et al., ICLR 2024, retrain flows and diffusion
models). Panels, rows, reward and metrics as in ``continuous_grid`` ((a) samples, (b) mode
coverage, (c) SW₂ to held-out real data, mean ± 2 SE over replicates): fully synthetic drifts
(SW₂ to held-out data grows), λ = 1/2 stays near the real-data-only reference, curation with
K = 4 collapses onto the two rewarded modes. Quick budget: 8 generations, 2 replicates per
regime (full: 20 generations, 6 replicates).
"""

from __future__ import annotations

from selfconsume.analysis.tables import torch_ring_table

from ._registry import register_figure
from .fig_continuous_grid import plot as _grid_plot


@register_figure(slug="torch_ring", caption=__doc__.split("\n\n")[1], table=torch_ring_table,
                 claims=("torch.ring_stability",), requires=("torch",))
def plot(df):
    return _grid_plot(df)
