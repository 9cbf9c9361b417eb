"""Closed forms and bounds, derived with sympy, each with a numeric twin."""

from . import _curation, _gaussian, _mixing, _stability
from ._curation import *  # noqa: F401,F403
from ._gaussian import *  # noqa: F401,F403
from ._mixing import *  # noqa: F401,F403
from ._stability import *  # noqa: F401,F403

__all__ = [*_gaussian.__all__, *_mixing.__all__, *_curation.__all__, *_stability.__all__]
