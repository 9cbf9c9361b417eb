"""Speed measurements for ``selfconsume bench`` (see shared/benchmarks.md)."""
