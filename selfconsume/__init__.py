"""selfconsume: exact, fast numerical verification of self-consuming generative-model theory.

Subpackages
-----------
theory
    sympy derivations of the papers' closed forms and bounds, each with a numeric twin.
simulators
    exact-in-law (and literal, sample-level) Numba simulators of retraining loops.
analysis
    statistics, the claim registry behind ``selfconsume verify``, and cached figure tables.
paper_figures
    one plotting script per figure; they read tables, never simulate.
benchmarks
    speed measurements against the machine's limit and the public-code baseline.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
