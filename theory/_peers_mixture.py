r"""The symmetric two-Gaussian mixture refit of Suresh, Thangaraj & Khandavally (AISTATS 2025).

The model is :math:`\tfrac12N(\mu,\sigma^2)+\tfrac12N(-\mu,\sigma^2)`; each generation draws n
points from the current fit and refits :math:`(\mu,\sigma)` by the joint maximum-likelihood
estimator or by the paper's approximate joint MLE (Algorithm 1 of their Appendix E, as released
in ``berserank/rate-of-model-collapse``). Their Theorem 4 bounds the collapse probability,

.. math:: \Pr(\sigma_k>\varepsilon)\le\frac{\sigma_0}{\varepsilon}\,e^{-k/(4n)}

(``shared/theory.md`` §3.1, 🔶). Beside it this module gives what can be derived exactly
(🧮): both estimators return fits with :math:`\mu'^2+\sigma'^2=m_2` (the sample second moment),
so :math:`\mathbb E[\mu_k^2+\sigma_k^2]=\mu_0^2+\sigma_0^2` for every k; Algorithm 1 is a moment
estimator, :math:`\sigma'^2=(1+\kappa)\,s^2` (:math:`s^2` the 1/n variance of the :math:`|y_i|`)
outside a fallback branch that only lowers it, so one step has an exact conditional mean and
:math:`\mathbb E\sigma_k\le\sigma_0\rho^k` with :math:`\rho^2=(1+\kappa)(1-1/n)`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp

from selfconsume._validation import check_int, check_int_array, check_real

from ._symbols import cached_derivation

__all__ = [
    "approx_mle_kappa",
    "mixture_step_expr",
    "expected_mixture_step",
    "bound_mixture_sigma",
    "bound_mixture_collapse",
]

_MU = sp.Symbol("mu", real=True)
_SIGMA = sp.Symbol("sigma", positive=True)
_N = sp.Symbol("n", integer=True, positive=True)
_KAPPA = sp.Symbol("kappa", nonnegative=True)
_Z = sp.Symbol("z", real=True)


#: Largest |μ|, σ accepted: μ² + σ² stays finite.
_BIG = 1e150


def _check_n(n):
    return check_int("n", n, min_value=2)


def _check_eta(eta):
    return check_real("eta", eta, min_value=1.0, min_inclusive=False)


def approx_mle_kappa(n, eta=2.0) -> float:
    r"""The inflation :math:`\kappa` of Algorithm 1 (approximate joint MLE) for n samples.

    :math:`\kappa=e^{c}-1` with :math:`c=\frac{(\eta-1)\,((n-1)/2+4\eta)}{\eta\,(n-1)\,(n+4\eta-1)}`,
    as in the authors' released code (``eta`` = their "bounding constant", any number > 1; they
    use 2). Algorithm 1 sets :math:`\sigma'^2=(1+\kappa)s^2` when :math:`s^2>\kappa m_1^2`.

    Parameters
    ----------
    n : int
        Samples per generation, :math:`n\ge2`.
    eta : float
        :math:`\eta>1`.

    Returns
    -------
    float

    Examples
    --------
    >>> from selfconsume.theory import approx_mle_kappa
    >>> round(approx_mle_kappa(10), 6)
    0.041695
    """
    n = _check_n(n)
    eta = _check_eta(eta)
    c = (eta - 1.0) * ((n - 1) / 2.0 + 4.0 * eta) / (eta * (n - 1) * (n + 4.0 * eta - 1.0))
    return math.expm1(c)


def _derive() -> dict:
    """The derivation behind :func:`mixture_step_expr` (about 2 s of sympy integration)."""
    z, u = _Z, sp.Symbol("u", real=True)
    phi = sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)
    # F(μ) = E|μ + σZ|: F(0) = σ E|Z|, and dF/dμ = E sign(μ + σZ) = P(Z > −μ/σ) − P(Z < −μ/σ)
    F0 = sp.integrate(_SIGMA * sp.Abs(z) * phi, (z, -sp.oo, sp.oo))
    dF = sp.integrate(phi, (z, -u / _SIGMA, sp.oo)) - sp.integrate(phi, (z, -sp.oo, -u / _SIGMA))
    F = sp.simplify(F0 + sp.integrate(sp.simplify(dF), (u, 0, _MU)))
    m2 = sp.expand(sp.integrate((_MU + _SIGMA * z) ** 2 * phi, (z, -sp.oo, sp.oo)))
    Fs = sp.Symbol("F", positive=True)  # kept whole while the moments are combined
    # E m1² = F² + Var|y|/n, Var|y| = E m2 − F², so E s² = E m2 − E m1²
    e_s2 = sp.factor(m2 - (Fs**2 + (m2 - Fs**2) / _N)).subs(Fs, F)
    return {"m2": m2, "step_var": (1 + _KAPPA) * e_s2, "F": F}


def _load_derivations() -> dict:
    """:func:`_derive`'s dict, cached on disk (:func:`._symbols.cached_derivation`)."""
    return cached_derivation(__file__, _derive)


@lru_cache(maxsize=None)
def _derivations() -> dict:
    return _load_derivations()


def mixture_step_expr() -> tuple[sp.Expr, sp.Expr]:
    r"""One refit step from :math:`(\mu,\sigma)`, derived: :math:`(\mathbb E[m_2],\ (1+\kappa)\,\mathbb E[s^2])`.

    The refit only sees :math:`|y_i|`, and :math:`|\mu X+\sigma Z|` has the law of
    :math:`|\mu+\sigma Z|` (X = ±1 with probability ½), a folded normal. With
    :math:`m_1=\frac1n\sum|y_i|`, :math:`m_2=\frac1n\sum y_i^2` and :math:`s^2=m_2-m_1^2`,

    .. math:: \mathbb E m_2=\mu^2+\sigma^2,\qquad
              \mathbb E s^2=\Big(1-\frac1n\Big)\big(\mu^2+\sigma^2-F^2\big),\qquad
              F=\mathbb E|\mu+\sigma Z|,

    F integrated by sympy from :math:`F(0)=\sigma\,\mathbb E|Z|` and
    :math:`F'(\mu)=\mathbb E\,\mathrm{sign}(\mu+\sigma Z)`. Both estimators give
    :math:`\mu'^2+\sigma'^2=m_2`, so the first entry is :math:`\mathbb E[\mu'^2+\sigma'^2]`
    (a martingale); the second is :math:`\mathbb E\sigma'^2` for Algorithm 1's moment branch
    :math:`\sigma'^2=(1+\kappa)s^2` (its fallback, taken when :math:`s^2\le\kappa m_1^2`, gives
    less). Symbols ``mu``, ``sigma``, ``n``, ``kappa``; derived once and cached on disk.

    Examples
    --------
    >>> from selfconsume.theory import mixture_step_expr
    >>> mixture_step_expr()[0]
    mu**2 + sigma**2
    """
    d = _derivations()
    return d["m2"], d["step_var"]


def expected_mixture_step(mu, sigma, n, eta=2.0) -> tuple[float, float]:
    r"""Exact one-step moments of the mixture refit from :math:`(\mu,\sigma)`.

    Returns :math:`\mathbb E[\mu'^2+\sigma'^2]=\mu^2+\sigma^2` (both estimators: the second moment
    of the fitted mixture is a martingale, so :math:`\mathbb E[\mu_k^2+\sigma_k^2]=\mu_0^2+\sigma_0^2`
    for all k) and :math:`(1+\kappa)(1-\frac1n)\,\mathrm{Var}|\mu+\sigma Z|`, the mean of
    Algorithm 1's moment branch :math:`\sigma'^2=(1+\kappa)s^2` — equal to :math:`\mathbb E\sigma'^2`
    for the approximate MLE up to the fallback event :math:`s^2\le\kappa m_1^2`, which lowers
    σ'² and is negligible from states with :math:`|\mu|\lesssim\sigma` (see :func:`mixture_step_expr`).

    Parameters
    ----------
    mu : float
        Component mean, :math:`|\mu|\le10^{150}` (the law depends on :math:`|\mu|`).
    sigma : float
        Component standard deviation, :math:`0<\sigma\le10^{150}`.
    n : int
        Samples per generation, :math:`n\ge2`.
    eta : float
        Algorithm 1's :math:`\eta>1` (sets κ, :func:`approx_mle_kappa`).

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> from selfconsume.theory import expected_mixture_step
    >>> m2, v = expected_mixture_step(0.0, 1.0, 10)
    >>> round(m2, 12), round(v, 6)   # (1 + κ)(1 − 1/10)(1 − 2/π)
    (1.0, 0.340678)
    """
    # |μ|, σ ≤ 1e150 keep μ² + σ² finite
    mu = check_real("mu", mu, min_value=-_BIG, max_value=_BIG)
    sigma = check_real("sigma", sigma, min_value=0.0, max_value=_BIG, min_inclusive=False)
    n = _check_n(n)
    kappa = approx_mle_kappa(n, eta)
    # the numeric twin of mixture_step_expr, written to stay accurate for |μ| ≫ σ: with r = |μ|/σ and
    # F/σ = r + δ, δ = √(2/π) e^{−r²/2} − r erfc(r/√2) ≥ 0 tiny, Var|y|/σ² = 1 + r² − (r + δ)² = 1 − δ(2r + δ)
    r = abs(mu) / sigma
    if r < 40.0:
        delta = math.sqrt(2.0 / math.pi) * math.exp(-0.5 * r * r) - r * math.erfc(r / math.sqrt(2.0))
    else:  # below e^{−800}: zero in double precision (and r·erfc(r/√2) would be inf·0 for r = inf)
        delta = 0.0
    var_abs = sigma * sigma * (1.0 - delta * (2.0 * r + delta))
    return mu * mu + sigma * sigma, (1.0 + kappa) * (1.0 - 1.0 / n) * var_abs


def bound_mixture_sigma(k, n, sigma0=1.0, eta=2.0):
    r"""Derived bound :math:`\mathbb E\sigma_k\le\sigma_0\rho^k`, :math:`\rho=\sqrt{(1+\kappa)(1-1/n)}`,
    for the approximate joint MLE (Algorithm 1).

    Both branches of Algorithm 1 give :math:`\sigma'^2\le(1+\kappa)s^2`, and
    :math:`\mathbb E[s^2\mid\mu,\sigma]=(1-\frac1n)\mathrm{Var}|\mu+\sigma Z|\le(1-\frac1n)\sigma^2`
    (Gaussian Poincaré inequality: :math:`|\cdot|` is 1-Lipschitz), so
    :math:`\mathbb E[\sigma_{k+1}\mid\mathcal F_k]\le\sqrt{\mathbb E[\sigma_{k+1}^2\mid\mathcal F_k]}\le\rho\,\sigma_k`.
    For :math:`n\ge3` and :math:`\eta\le2` (the paper's :math:`\eta=2`), :math:`\rho\le e^{-1/(4n)}`, the rate
    of Theorem 4 (:func:`bound_mixture_collapse`), so Markov's inequality on this bound implies it;
    :math:`\kappa` grows with :math:`\eta`, and at :math:`n=3,\ \eta=7` already :math:`\rho>1`.
    ``k`` may be an int array.

    Parameters
    ----------
    k : int or array of int
        Generations :math:`\ge0`.
    n : int
        Samples per generation, :math:`n\ge2`.
    sigma0 : float
        :math:`\sigma_0>0`.
    eta : float
        :math:`\eta>1`.

    Examples
    --------
    >>> from selfconsume.theory import bound_mixture_sigma
    >>> round(float(bound_mixture_sigma(20, 10)), 4)
    0.5246
    """
    k = check_int_array("k", k, min_value=0)
    n = _check_n(n)
    sigma0 = check_real("sigma0", sigma0, min_value=0.0, min_inclusive=False)
    log_rho = 0.5 * (math.log1p(approx_mle_kappa(n, eta)) + math.log1p(-1.0 / n))
    out = sigma0 * np.exp(np.asarray(k, dtype=float) * log_rho)
    return out if np.ndim(k) else float(out)


def bound_mixture_collapse(k, n, sigma0=1.0, eps=0.1):
    r"""Theorem 4 of Suresh et al.: :math:`\Pr(\sigma_k>\varepsilon)\le\min\{1,\frac{\sigma_0}{\varepsilon}e^{-k/(4n)}\}`.

    Stated for the approximate joint MLE (Algorithm 1); the paper's figure also plots the joint
    MLE under it. ``k`` may be an int array.

    Parameters
    ----------
    k : int or array of int
        Generations :math:`\ge0`.
    n : int
        Samples per generation, :math:`n\ge1`.
    sigma0 : float
        :math:`\sigma_0>0`.
    eps : float
        Collapse threshold :math:`\varepsilon>0`.

    Examples
    --------
    >>> from selfconsume.theory import bound_mixture_collapse
    >>> round(float(bound_mixture_collapse(200, 10, 1.0, 0.1)), 4)
    0.0674
    """
    k = check_int_array("k", k, min_value=0)
    n = check_int("n", n, min_value=1)
    sigma0 = check_real("sigma0", sigma0, min_value=0.0, min_inclusive=False)
    eps = check_real("eps", eps, min_value=0.0, min_inclusive=False)
    log_b = math.log(sigma0) - math.log(eps) - np.asarray(k, dtype=float) / (4.0 * n)
    out = np.exp(np.minimum(log_b, 0.0))
    return out if np.ndim(k) else float(out)
