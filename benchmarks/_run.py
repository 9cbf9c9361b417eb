"""Run the benchmark suite and write its report (the library side of ``selfconsume bench``)."""

from __future__ import annotations

import importlib
import inspect
import json
import math
import time
import warnings
from pathlib import Path

import pandas as pd

from selfconsume._parallel import resolve_workers
from selfconsume.analysis._verify import markdown_cell

from . import _gaussian, _mad, _peers, _sweep
from ._timing import ROW_KEYS, machine_facts, make_row

__all__ = ["run_benchmarks", "write_report"]

#: Rough wall-clock seconds of the curation benchmarks (only used for the progress bar's ETA).
_CURATION_ESTIMATE = {True: 35.0, False: 75.0}
#: The same for the continuous-curation and learned-loop benchmarks.
_CONTINUOUS_ESTIMATE = {True: 55.0, False: 190.0}
#: The same for the torch adapter's benchmarks.
_TORCH_ESTIMATE = {True: 15.0, False: 25.0}

#: Written by other developers; the suite runs without them.
_CURATION = f"{__package__}._curation"
_CONTINUOUS = f"{__package__}._continuous"
_TORCH = f"{__package__}._torch"


def _load_optional(module: str):
    """An optional benchmarks module (e.g. ``benchmarks/_curation.py``), or None when it does not exist.

    Imported when the suite is assembled, not when this package is, so that a broken module
    (an error raised while importing it, a missing ``run``) becomes an error row of the report
    instead of making ``selfconsume.benchmarks`` unimportable. ``import_module`` rather than
    ``from . import _curation``: the latter turns a missing module into a plain ImportError,
    which cannot be told apart from an ImportError raised *inside* an existing module. Any
    other failure propagates to the caller.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None


def _load_curation():
    """The optional curation benchmarks module (``benchmarks/_curation.py``), or None."""
    return _load_optional(_CURATION)


def _load_continuous():
    """The optional continuous-curation benchmarks module (``benchmarks/_continuous.py``), or None."""
    return _load_optional(_CONTINUOUS)


def _optional_entry(name: str, module: str, estimate: float, workers: int, quick: bool):
    """``(name, fn, kwargs, est)`` of an optional module's ``run(quick)``, or None when there is no module.

    ``run(quick)`` receives ``workers`` too when its signature accepts it. A module that
    fails to import, or has no callable ``run``, gives an entry that raises that error when
    run, so the runner reports it as a failed row.
    """
    try:
        mod = _load_optional(module)
        if mod is None:
            return None
        fn = getattr(mod, "run", None)
        if not callable(fn):
            raise AttributeError(f"{module} has no callable run(quick)")
    except Exception as exc:  # reported when the entry runs, like any benchmark failure
        error = exc

        def fn(**kwargs):
            raise error

        return (name, fn, {}, estimate)
    kwargs = {"quick": quick}
    try:
        if "workers" in inspect.signature(fn).parameters:
            kwargs["workers"] = workers
    except (TypeError, ValueError):  # no introspectable signature: call as documented
        pass
    return (name, fn, kwargs, estimate)


def _curation_entry(quick: bool, workers: int):
    """``(name, fn, kwargs, est)`` of the curation benchmarks, or None when there are none."""
    return _optional_entry("curation", _CURATION, _CURATION_ESTIMATE[quick], workers, quick)


def _continuous_entry(quick: bool, workers: int):
    """``(name, fn, kwargs, est)`` of the continuous-curation benchmarks, or None when there are none."""
    return _optional_entry("continuous", _CONTINUOUS, _CONTINUOUS_ESTIMATE[quick], workers, quick)


def _torch_entry(quick: bool, workers: int):
    """``(name, fn, kwargs, est)`` of the torch adapter's benchmarks (a skipped row without torch)."""
    return _optional_entry("torch", _TORCH, _TORCH_ESTIMATE[quick], workers, quick)


def _entries(quick: bool, workers: int):
    entries = []
    for name, fn, kwargs, est in (*_gaussian.suite(quick), *_peers.suite(quick), *_sweep.suite(quick),
                                  *_mad.suite(quick)):
        # Benchmarks that take no ``workers`` (single-thread by design) are called without it.
        if "workers" in inspect.signature(fn).parameters:
            kwargs = dict(kwargs, workers=workers)
        entries.append((name, fn, kwargs, est))
    for optional in (_continuous_entry, _curation_entry, _torch_entry):
        entry = optional(quick, workers)
        if entry is not None:
            entries.append(entry)
    return entries


def _normalise(name: str, row) -> dict:
    """A row as :func:`make_row` builds it, tagged with its benchmark's name."""
    if not isinstance(row, dict):
        raise TypeError(f"benchmark {name!r} returned a row that is not a dict: {row!r}")
    missing = [k for k in ("workload", "metric", "ours", "reference", "ratio") if k not in row]
    if missing:
        raise ValueError(f"benchmark {name!r} returned a row without {missing}: {row!r}")
    out = make_row(**{k: row[k] for k in ROW_KEYS if k in row})
    return {"benchmark": name, **out}


def run_benchmarks(*, quick=True, workers=None, progress=True, only=None) -> pd.DataFrame:
    """Run the speed benchmarks of benchmarks.md and return their rows.

    Parameters
    ----------
    quick : bool
        Reduced workloads (≲ 2 minutes on 2 cores); the baselines then run on a subset of
        each workload and are scaled by their per-path or per-step cost. ``False`` runs the
        workloads at the sizes stated in benchmarks.md.
    workers : int, optional
        Threads for the toolkit and for the limits it is compared with (default: all cores,
        or ``SELFCONSUME_WORKERS``). One-thread rows are always added when ``workers > 1``.
    progress : bool
        Show a progress bar over benchmarks, with an ETA.
    only : str or iterable of str, optional
        Run only the benchmarks whose name contains one of these strings (default: all);
        a string that matches no name raises ``ValueError`` listing the available ones.

    Returns
    -------
    pandas.DataFrame
        One row per measurement, columns ``benchmark, workload, metric, ours, reference,
        ratio, target, met, notes``. ``met`` is a bool where a target applies and ``None``
        for diagnostic rows. ``df.attrs`` holds ``machine`` (cores, threads, versions),
        ``quick``, ``elapsed_s``, ``completed`` and ``interrupted``. On ``KeyboardInterrupt``
        the rows of the benchmarks finished so far are returned with ``interrupted=True``.
        A benchmark that raises gives one row with ``met=False`` and the error in ``notes``,
        and a ``RuntimeWarning``; the others still run.
    """
    workers = resolve_workers(workers)
    entries = _entries(bool(quick), workers)
    if only is not None:
        wanted = [only] if isinstance(only, str) else list(only)
        names = [e[0] for e in entries]
        unknown = [w for w in wanted if not any(w in name for name in names)]
        if unknown:
            raise ValueError(f"no benchmark name contains {unknown}; available: {', '.join(names)}")
        entries = [e for e in entries if any(w in e[0] for w in wanted)]

    rows, completed, interrupted = [], [], False
    facts = machine_facts(workers)
    t_start = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(e[3] for e in entries), desc="benchmarks", unit="s",
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}")
    try:
        for name, fn, kwargs, est in entries:
            if bar is not None:
                bar.set_postfix_str(name)
            try:
                new = [_normalise(name, r) for r in fn(**kwargs)]
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one broken benchmark must not hide the others' results
                warnings.warn(f"benchmark {name!r} failed: {exc!r}", RuntimeWarning, stacklevel=2)
                new = [{"benchmark": name,
                        **make_row(name, "failed", None, None, None, "runs", False, notes=f"{type(exc).__name__}: {exc}")}]
            rows.extend(new)
            completed.append(name)
            if bar is not None:
                bar.update(est)
    except KeyboardInterrupt:
        interrupted = True
        if bar is not None:
            bar.write(f"interrupted: returning the {len(completed)} benchmark(s) finished so far")
    finally:
        if bar is not None:
            bar.close()
    df = pd.DataFrame(rows, columns=["benchmark", *ROW_KEYS])
    df.attrs.update(machine=facts, quick=bool(quick), elapsed_s=time.perf_counter() - t_start,
                    completed=completed, interrupted=interrupted)
    return df


def _num(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:.3g}"


def _met(x) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else ("yes" if x else "**no**")


def _jsonable(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if hasattr(x, "item"):  # numpy scalars
        return _jsonable(x.item())
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def write_report(df: pd.DataFrame, out_dir) -> tuple[Path, Path]:
    """Write ``bench.md`` (a table, then the notes) and ``bench.json`` into ``out_dir``.

    The JSON holds ``machine`` facts, ``quick``, ``elapsed_s``, ``interrupted`` and
    ``rows`` (non-finite numbers as ``null``). Returns ``(markdown_path, json_path)``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md_path, json_path = out / "bench.md", out / "bench.json"
    attrs = dict(df.attrs)
    machine = attrs.get("machine", {})
    records = [{k: r.get(k) for k in df.columns} for r in df.to_dict(orient="records")]

    lines = [
        "# selfconsume benchmarks",
        "",
        f"Mode: {'quick' if attrs.get('quick', True) else 'full'}"
        + (" (interrupted)" if attrs.get("interrupted") else "")
        + (f"; {attrs['elapsed_s']:.0f} s" if "elapsed_s" in attrs else ""),
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()),
        "",
        "Ratios are measured side by side in this run (best of interleaved repeats); "
        "absolute seconds are not comparable between runs.",
        "",
        "| # | workload | metric | ours | reference | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(records, 1):
        lines.append(f"| {i} | {markdown_cell(r['workload'])} | {markdown_cell(r['metric'])} | {_num(r['ours'])} | "
                     f"{_num(r['reference'])} | {_num(r['ratio'])} | {markdown_cell(r['target'])} | {_met(r['met'])} |")
    lines += ["", "## Notes", ""]
    # "- #i" rather than "i.": Markdown renumbers ordered lists, and rows without notes are skipped.
    lines += [f"- **#{i}** {markdown_cell(r['notes'])}" for i, r in enumerate(records, 1) if r.get("notes")]
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    payload = _jsonable({**{k: v for k, v in attrs.items()}, "rows": records})
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return md_path, json_path
