"""Claims of the public peers' experiments, run here with their conventions and exact theory beside them.

Suresh et al., *Rate of model collapse in recursive training* (AISTATS 2025): survival of a
symbol, of a Poisson count model and of a vocabulary, and the symmetric two-Gaussian mixture
refit; Kazdan et al., *Collapse or Thrive?* (ICML 2025): the accumulate-subsample workflow as
released and the n ≤ d cells of their grid. The checks live in private modules by topic and
register here, in this order.
"""

from __future__ import annotations

from . import _peers_gaussian, _peers_counts, _peers_mixture  # noqa: F401  (registration order)
