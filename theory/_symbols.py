r"""The sympy symbols shared by the derivations, with their assumptions.

Public symbols carry a ``_sym`` suffix (``n_sym``, ``lam_sym``, ...) and are the ones a user
substitutes into the exported expressions; the capitals are this package's own shorthands
for the population computations (``X`` is ``x_sym``, ``LAM`` is ``lam_sym``).
"""

from __future__ import annotations

import sympy as sp

__all__ = [
    "n_sym", "t_sym", "d_sym", "sigma0_sym", "u_sym", "SYMBOLS",
    "x_sym", "lam_sym", "data_density_sym",
]

# ---------------------------------------------------------------- Gaussian collapse (§2.2)

#: n, samples per generation ([B] n, [S] M); the derivations use k = n - 1 > 0, i.e. n >= 2.
n_sym = sp.Symbol("n", integer=True, positive=True)
#: t, generation index (t = 0 is the true law).
t_sym = sp.Symbol("t", integer=True, nonnegative=True)
#: d, dimension of the d-dimensional Gaussian (1 <= d < n).
d_sym = sp.Symbol("d", integer=True, positive=True)
#: sigma0, standard deviation of generation 0 (the true law).
sigma0_sym = sp.Symbol("sigma0", positive=True)
#: u, argument of the characteristic function of log(sigma_t^2 / sigma0^2).
u_sym = sp.Symbol("u", real=True)
#: The Gaussian-collapse symbols by name.
SYMBOLS = {"n": n_sym, "t": t_sym, "d": d_sym, "sigma0": sigma0_sym, "u": u_sym}

# ---------------------------------------------------------------- population loop (§1.6, §2.3)

#: The data coordinate x (real).
X = sp.Symbol("x", real=True)
#: The synthetic-to-real ratio λ of [B], [F] (``shared/theory.md`` §0).
LAM = sp.Symbol("lambda", nonnegative=True)
#: The (abstract) density q(x) of p_data in symbolic expectations E_data[f] = ∫ q f dx.
DATA_DENSITY = sp.Function("q")
x_sym, lam_sym, data_density_sym = X, LAM, DATA_DENSITY
_P = sp.Function("p")  # the model density p_θ(x), abstract while differentiating

# The constants of the stability theorems: strong concavity α, Lipschitz constant L of the
# score, distance ε of the truth to the model.
ALPHA = sp.Symbol("alpha", positive=True)
LIPSCHITZ = sp.Symbol("L", nonnegative=True)
EPS = sp.Symbol("epsilon", nonnegative=True)


# ---------------------------------------------------------------- derivations cached on disk

def cached_derivation(module_file: str, derive):
    """``derive()`` (a dict of sympy results), pickled next to the bytecode of ``module_file``
    under a key of that file's bytes and the sympy and Python versions, so that a derivation
    runs once per installation and source. ``SELFCONSUME_REDERIVE=1`` ignores and rewrites it;
    a read-only install keeps the in-memory result. Writes are atomic (concurrent importers
    never read half a file) and older pickles of the same module are removed."""
    import hashlib
    import os
    import pickle
    import sys
    from pathlib import Path

    from selfconsume._io import atomic_write

    here = Path(module_file)
    key = hashlib.sha256(
        here.read_bytes() + f"|sympy {sp.__version__}|python {sys.version_info[:2]}".encode()
    ).hexdigest()[:16]
    cache = here.parent / "__pycache__" / f"{here.stem}.derived-{key}.pickle"
    if not os.environ.get("SELFCONSUME_REDERIVE"):
        try:
            with open(cache, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # missing, stale format or unreadable: derive again
            pass
    derived = derive()
    try:
        cache.parent.mkdir(exist_ok=True)
        atomic_write(cache, lambda tmp: Path(tmp).write_bytes(pickle.dumps(derived, protocol=pickle.HIGHEST_PROTOCOL)))
        for old in cache.parent.glob(f"{here.stem}.derived-*.pickle"):
            if old != cache:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return derived
