"""Fixtures shared by the analysis tests."""

import pytest

from selfconsume.analysis import register_claim
from selfconsume.analysis._registry import _REGISTRY


@pytest.fixture
def temp_claims():
    """Register throw-away claims for one test, then remove them."""
    added = []

    def add(cid, check):
        register_claim(id=cid, title=cid, source="test", statement="test")(check)
        added.append(cid)

    yield add
    for cid in added:
        _REGISTRY.pop(cid, None)
