"""Modules imported on first use, so that ``import selfconsume.simulators`` does not pay for
them (pandas ≈ 0.3 s, scipy ≈ 0.3 s of a fresh process) when a run needs neither a table nor a
learner. ``pd = lazy("pandas")`` behaves like the module once an attribute is read."""

from __future__ import annotations

import importlib
import types


class _LazyModule(types.ModuleType):
    def __init__(self, name: str):
        super().__init__(name)
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr):
        mod = importlib.import_module(self.__dict__["_lazy_name"])
        self.__dict__.update(mod.__dict__)  # later reads skip this hook
        return getattr(mod, attr)

    def __repr__(self):
        return f"<lazy module {self.__dict__['_lazy_name']!r}>"


def lazy(name: str) -> types.ModuleType:
    """A stand-in for ``import name`` that imports ``name`` when an attribute is first read."""
    return _LazyModule(name)
