"""Speed measurements behind ``selfconsume bench`` (see shared/benchmarks.md).

Each benchmark measures, side by side in one run, the toolkit against two references:
the machine's raw variate throughput for the draws a simulator cannot avoid (the physical
limit, ``ours / limit``), and a plain NumPy re-implementation of how public code runs the
same experiment (the baseline, ``baseline_time / ours_time`` on identical workloads and
identical output statistics). Benchmarks are not tests: nothing here fails on speed.

Functions
---------
run_benchmarks
    Run the suite (quick or full sizes) and return a table of rows.
write_report
    Write that table as Markdown and JSON, with the machine's facts.
"""

from ._run import run_benchmarks, write_report

__all__ = ["run_benchmarks", "write_report"]
