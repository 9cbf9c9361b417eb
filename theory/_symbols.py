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
