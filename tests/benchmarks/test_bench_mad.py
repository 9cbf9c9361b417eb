"""Smoke test of the MAD phase-table benchmark (benchmarks/_mad.py) at a tiny size: a well-formed row and the
suite entry. Never asserts speed."""

import inspect
import math

from selfconsume.benchmarks import _mad, _run
from selfconsume.benchmarks._timing import ROW_KEYS

TINY = dict(biases_collapse=(1.0,), collapse_generations=3, collapse_reps=50, n_r_values=(10, 20), biases=(0.7,),
            n_r_fixed=(10,), bias_grid=(0.7, 1.0), ns_ratios=(0.5, 2.0), reps=8)


def test_phase_table_row_tiny():
    row, lit = _mad.bench_phase_table(quick=True, **TINY)
    assert tuple(lit) == ROW_KEYS and lit["ours"] == row["ours"] and lit["reference"] > 0
    assert "literal loop" in lit["workload"]
    assert tuple(row) == ROW_KEYS and row["target"] == "—" and row["met"] is None
    for k in ("ours", "reference", "ratio"):
        assert isinstance(row[k], float) and math.isfinite(row[k]) and row[k] > 0
    assert math.isclose(row["ratio"], row["reference"] / row["ours"])
    assert "8 cells, 6 unique" in row["workload"] and "× 8 chains" in row["notes"]


def test_chain_generations_counts_every_chain():
    from selfconsume.analysis.tables import mad_phase_table

    df = mad_phase_table(**TINY)
    gens, cells, uniq = _mad.chain_generations(df)
    assert (cells, uniq) == (8, 6) and gens >= 6 * 8 * 50 + 50 * 3


def test_suite_is_registered():
    for quick in (True, False):
        (entry,) = _mad.suite(quick)
        name, fn, kwargs, est = entry
        assert name == "mad" and est > 0
        inspect.signature(fn).bind(**kwargs)
        assert [e for e in _run._entries(quick, 1) if e[0] == name]
