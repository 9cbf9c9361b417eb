"""Every Examples section in the package runs as a doctest (numpydoc examples must stay true)."""

import doctest
import importlib
import pkgutil

import pytest

import selfconsume

MODULES = sorted(
    m.name
    for pkg in ("theory", "simulators", "analysis")
    for m in pkgutil.walk_packages(importlib.import_module(f"selfconsume.{pkg}").__path__, f"selfconsume.{pkg}.")
) + ["selfconsume._parallel", "selfconsume._validation"]


#: Modules whose examples need an optional dependency (skipped without it: the README's test command
#: runs in an environment without torch; CI installs it and runs them).
NEEDS = {"selfconsume.simulators.torch": "torch"}


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name):
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"


def test_some_examples_exist():
    finder = doctest.DocTestFinder()
    total = sum(len(t.examples) for n in MODULES for t in finder.find(importlib.import_module(n)))
    assert total >= 30 and selfconsume.__version__
