"""Timing and row helpers shared by every benchmark module.

The machines are shared and noisy, so nothing here compares absolute seconds across runs:
each benchmark times its contenders *interleaved* in one loop (ours, reference, ours,
reference, ... with the order alternating) and reports the ratio of the best repeats,
together with the median of the per-repeat ratios as a noise indicator.
"""

from __future__ import annotations

import math
import os
import platform
import time

import numpy as np

__all__ = ["ROW_KEYS", "make_row", "interleaved", "summary", "machine_facts", "mean_z"]

#: Keys of every row, in table order (``notes`` last).
ROW_KEYS = ("workload", "metric", "ours", "reference", "ratio", "target", "met", "notes")


def make_row(workload, metric, ours, reference, ratio, target="—", met=None, notes="") -> dict:
    """One benchmark row.

    ``met`` is a bool for a row with a target and ``None`` for a diagnostic row
    (``target == "—"``): a diagnostic has nothing to meet.
    """
    f = lambda x: float("nan") if x is None else float(x)  # noqa: E731
    return {
        "workload": str(workload),
        "metric": str(metric),
        "ours": f(ours),
        "reference": f(reference),
        "ratio": f(ratio),
        "target": str(target),
        "met": None if met is None else bool(met),
        "notes": str(notes),
    }


def interleaved(fns: dict, repeats: int, *, warmup: bool = True) -> dict:
    """Time each zero-argument callable in ``fns`` ``repeats`` times, interleaved.

    Each repeat runs every callable once; the order is reversed on odd repeats so that no
    contender always runs right after another (caches, turbo, a neighbour's burst).
    ``warmup`` first calls each once untimed (numba dispatch, page faults of fresh buffers).

    Returns
    -------
    dict
        name -> ndarray of ``repeats`` wall-clock seconds.
    """
    names = list(fns)
    if warmup:
        for name in names:
            fns[name]()
    times = {name: [] for name in names}
    for rep in range(repeats):
        order = names if rep % 2 == 0 else names[::-1]
        for name in order:
            t0 = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t0)
    return {name: np.asarray(v) for name, v in times.items()}


def summary(times: dict, num: str, den: str) -> tuple[float, float, str]:
    """Best-of ratio ``min(times[num]) / min(times[den])`` and a note with its spread.

    The note gives the median of the per-repeat ratios (repeats were interleaved, so
    repeat ``i`` of both ran under the same load) and the repeat count.
    """
    a, b = times[num], times[den]
    best = float(a.min() / b.min())
    med = float(np.median(a / b)) if len(a) == len(b) else float(np.median(a) / np.median(b))
    return best, med, f"best of {len(a)} interleaved; median ratio {med:.3g}"


def mean_z(a, b) -> tuple[float, float, float]:
    """Means of two independent samples and the z-score of their difference (two-sample SE)."""
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    diff = float(a.mean() - b.mean())
    z = diff / se if se > 0 else (0.0 if diff == 0 else math.inf)
    return float(a.mean()), float(b.mean()), z


def machine_facts(workers: int) -> dict:
    """Machine facts written into every report (benchmarks.md: cores, versions, threads)."""
    import numba
    import pandas

    try:
        import selfconsume

        version = selfconsume.__version__
    except Exception:  # pragma: no cover - the package is always importable here
        version = None
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "cores": os.cpu_count(),
        "workers": int(workers),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "pandas": pandas.__version__,
        "numba_threading_layer_threads": numba.config.NUMBA_NUM_THREADS,
        "selfconsume": version,
        "loadavg_at_start": load,
    }
