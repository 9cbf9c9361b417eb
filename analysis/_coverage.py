"""Which public theory functions each claim checks (``checks`` in ``reports/verify.json``).

Read from the source, not traced at run time (tracing every Python call would cost the verify
budget): a claim checks a public name of :mod:`selfconsume.theory` when its check function —
or a function or module-level constant of the same claims module that the check uses,
followed transitively — references it as ``th.<name>`` (``th`` any alias of
``selfconsume.theory``) or as a name imported from ``selfconsume.theory``. Only functions
count: the result classes they return and the sympy symbols are not "functions checked".

A public function that another public function is computed from is checked with it: the
numeric twins lambdify their sympy derivations (``expected_mean_var`` evaluates
``expected_mean_var_expr``), so a claim comparing the twin with a simulation checks the
derivation too — a mistake in the derivation moves the twin. :func:`theory_dependencies` reads
that graph from the theory's source the same way (a public function's body, its private
helpers and module-level constants, followed transitively, across modules through their
imports); :func:`claim_checks` returns the direct references and everything they depend on.

:func:`theory_coverage` inverts the map: public function → the claims that check it; the
functions no claim reaches are the ones a mistake could hide in.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys

__all__ = ["claim_checks", "theory_coverage", "public_theory_functions", "theory_dependencies"]


@functools.cache
def public_theory_functions() -> tuple[str, ...]:
    """The public functions of :mod:`selfconsume.theory` (its ``__all__``: functions, cached ones such as the
    sympy derivations ``*_expr`` included — not the result classes they return, nor the sympy symbols)."""
    import selfconsume.theory as th

    names = th.__all__ if "__all__" in vars(th) else th._load()
    return tuple(n for n in names if inspect.isfunction(inspect.unwrap(getattr(th, n))))


def _theory_aliases(tree) -> tuple[set[str], dict[str, str]]:
    """Module aliases of ``selfconsume.theory`` and names imported from it (local name → public name)."""
    aliases, names = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("selfconsume", "selfconsume.theory"):
            for a in node.names:
                if node.module == "selfconsume" and a.name == "theory":
                    aliases.add(a.asname or a.name)
                elif node.module == "selfconsume.theory":
                    names[a.asname or a.name] = a.name
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "selfconsume.theory" and a.asname:
                    aliases.add(a.asname)
    return aliases, names


def _top_level(tree) -> dict[str, ast.AST]:
    """The module's top-level names (defs, classes, assigned constants) and their nodes."""
    top: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        top[n.id] = node
    return top


@functools.cache
def _module_graph(modname: str):
    """(direct theory references, referenced module-level names) for every top-level def and constant."""
    src = inspect.getsource(sys.modules[modname])
    tree = ast.parse(src)
    aliases, imported = _theory_aliases(tree)
    top = _top_level(tree)
    graph = {}
    for name, node in top.items():
        refs, uses = set(), set()
        for n in ast.walk(node):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in aliases:
                refs.add(n.attr)
            elif isinstance(n, ast.Name):
                if n.id in imported:
                    refs.add(imported[n.id])
                elif n.id in top and n.id != name:
                    uses.add(n.id)
        graph[name] = (refs, uses)
    return graph


def _reach(graph, start: str) -> set[str]:
    """Names referenced from ``start`` and, transitively, from the module-level names it uses."""
    seen, todo, refs = set(), [start], set()
    while todo:
        name = todo.pop()
        if name in seen or name not in graph:
            continue
        seen.add(name)
        r, uses = graph[name]
        refs |= r
        todo += list(uses)
    return refs


@functools.cache
def _theory_module_graph(modname: str):
    """Per top-level name of a theory module: (public theory names it references, module-level names it uses)."""
    src = inspect.getsource(sys.modules[modname])
    tree = ast.parse(src)
    public = set(public_theory_functions())
    top = _top_level(tree)
    graph = {}
    for name, node in top.items():
        refs, uses = set(), set()
        body = node.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else [node]
        for stmt in body:  # the body only: a docstring's or decorator's mention is not a use
            for n in ast.walk(stmt):
                if isinstance(n, ast.Name) and n.id != name:
                    if n.id in public:
                        refs.add(n.id)
                    if n.id in top:
                        uses.add(n.id)
        graph[name] = (refs - {name}, uses)
    return graph


@functools.cache
def theory_dependencies(name: str) -> frozenset[str]:
    """The public theory functions ``name`` is computed from, transitively (``name`` excluded).

    >>> from selfconsume.analysis._coverage import theory_dependencies
    >>> "expected_mean_var_expr" in theory_dependencies("expected_mean_var")
    True
    """
    import selfconsume.theory as th

    if name not in public_theory_functions():
        raise ValueError(f"name must be a public function of selfconsume.theory; got {name!r}")
    seen, todo = set(), [name]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        fn = inspect.unwrap(getattr(th, n))
        todo += list(_reach(_theory_module_graph(fn.__module__), fn.__name__))
    return frozenset(seen - {name})


def claim_checks(claim) -> tuple[str, ...]:
    """The public theory functions ``claim``'s check exercises (sorted): those it references
    and those they are computed from (:func:`theory_dependencies`)."""
    fn = claim.check
    public = set(public_theory_functions())
    direct = _reach(_module_graph(fn.__module__), fn.__name__) & public
    out = set(direct)
    for name in direct:
        out |= theory_dependencies(name)
    return tuple(sorted(out))


def theory_coverage(claims=None) -> dict[str, tuple[str, ...]]:
    """Public theory function → ids of the claims that check it (empty tuple: unchecked)."""
    if claims is None:
        from .claims import list_claims

        claims = list_claims()
    cov = {name: [] for name in public_theory_functions()}
    for c in claims:
        for name in claim_checks(c):
            cov[name].append(c.id)
    return {k: tuple(v) for k, v in cov.items()}
