r"""Recursive refit of the symmetric two-Gaussian mixture (Suresh, Thangaraj & Khandavally, AISTATS 2025).

Generation 0 is :math:`\tfrac12N(\mu_0,\sigma_0^2)+\tfrac12N(-\mu_0,\sigma_0^2)`; generation
:math:`k+1` is the fit of :math:`(\mu,\sigma)` to n points of generation k, by the joint MLE or by
the paper's approximate joint MLE (their Algorithm 1, as released in
``berserank/rate-of-model-collapse``; ``shared/theory.md`` §3.1).

Kernels (in this module; pure: arrays and scalars in, results written into preallocated arrays):

* draws per replicate and generation, in this order: ``"exact"`` — n standard normals
  :math:`z_i`, and the fit sees :math:`|\mu+\sigma z_i|` (both estimators depend on the points
  only through :math:`|y_i|`, and :math:`|\mu X+\sigma Z|` has the law of :math:`|\mu+\sigma Z|`);
  ``"samples"`` — for each point a uniform :math:`u_i` (component :math:`X_i=+1` iff
  :math:`u_i<\tfrac12`) then a normal :math:`z_i`, :math:`y_i=\mu X_i+\sigma z_i` (the literal loop).
* approximate MLE: :math:`m_1=\overline{|y|}`, :math:`m_2=\overline{y^2}`, :math:`s^2=\overline{(|y|-m_1)^2}`
  (two passes, so the late, nearly collapsed generations keep their precision; the released
  code forms :math:`m_2-m_1^2`). If :math:`s^2\le\kappa m_1^2`, :math:`a=50`, else
  :math:`a=2(1+\kappa)m_2/(s^2-\kappa m_1^2)`; if :math:`m_2\le\frac{2a}{a-2}m_1^2`,
  :math:`\sigma'^2=a\,m_2s^2/(a m_1^2+2m_2)` (:math:`=(1+\kappa)s^2` when a is not 50), else
  :math:`\sigma'^2=m_2`; :math:`\mu'=\sqrt{m_2-\sigma'^2}`.
* joint MLE: the stationary points of the likelihood satisfy :math:`\sigma^2=m_2-\theta^2` and
  :math:`g(\theta)=\overline{|y|\tanh(\theta|y|/\sigma^2)}-\theta=0`, and along that curve the
  log-likelihood increases where g > 0. θ = 0 is one (the single Gaussian
  :math:`N(0,m_2)`); the others lie at :math:`\sigma^2>s^2`. They are bracketed by the signs of g
  on 12 points of :math:`\sigma^2\in(s^2,m_2)` (the sign next to θ = 0 is that of
  :math:`3-\overline{y^4}/m_2^2`), refined (Illinois; bisection in θ next to θ = 0), and the one of
  largest likelihood is returned (θ = 0 included). The released notebook instead takes the root
  ``scipy.optimize.fsolve`` reaches from :math:`\theta=\mu_0`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from selfconsume._lazy import lazy
from selfconsume._parallel import as_generator, block_reps, replicate_blocks, run_blocks, seed_info
from selfconsume._validation import check_choice, check_int, check_memory, check_real

from ._common import readonly

pd = lazy("pandas")

__all__ = ["simulate_mixture_refit", "MixtureRefitChain"]

ESTIMATORS = ("approx_mle", "mle")
METHODS = ("exact", "samples")
#: Points of the sign scan of g in the joint MLE.
SCAN_POINTS = 12


@dataclass(frozen=True)
class MixtureRefitChain:
    """Result of :func:`simulate_mixture_refit` (frozen; arrays are read-only).

    Attributes
    ----------
    n, generations, reps, mu0, sigma0, estimator, eta, method
        The parameters of the run.
    seed : dict
        Entropy and spawn key of the SeedSequence behind the run.
    mu, sigma : ndarray
        Fitted :math:`\\mu_k\\ge0` and :math:`\\sigma_k`, shape (reps, generations + 1); column 0
        is :math:`(|\\mu_0|, \\sigma_0)`, column k the fit after k refits (:attr:`t`, alias :attr:`k`).
    fallback : ndarray
        Per replicate, the number of refits that took Algorithm 1's fallback branch (a = 50,
        when :math:`s^2\\le\\kappa m_1^2`; ``"approx_mle"``), or that returned θ = 0, the single
        Gaussian (``"mle"``). Shape (reps,).
    """

    n: int
    generations: int
    reps: int
    mu0: float
    sigma0: float
    estimator: str
    eta: float
    method: str
    seed: dict
    mu: np.ndarray = field(repr=False)
    sigma: np.ndarray = field(repr=False)
    fallback: np.ndarray = field(repr=False)

    @property
    def t(self) -> np.ndarray:
        """Generation index 0..generations (column t is the fit after t refits)."""
        return np.arange(self.generations + 1)

    @property
    def k(self) -> np.ndarray:
        """The same index in the paper's notation (k refits); equal to :attr:`t`."""
        return self.t

    def to_frame(self) -> pd.DataFrame:
        """Tidy long table: one row per (rep, generation) with ``mu`` and ``sigma`` columns."""
        R, K1 = self.reps, self.generations + 1
        df = pd.DataFrame({"rep": np.repeat(np.arange(R), K1), "generation": np.tile(np.arange(K1), R),
                           "mu": self.mu.ravel(), "sigma": self.sigma.ravel()})
        for name in ("n", "mu0", "sigma0", "estimator", "eta", "method"):
            df[name] = getattr(self, name)
        return df


# --------------------------------------------------------------------------- kernels


@njit(cache=True, nogil=True)
def _moments(x, n):
    """(m1, m2, s2, m4) of the nonnegative values x[:n]; s2 by a second pass."""
    m1 = 0.0
    m2 = 0.0
    m4 = 0.0
    for i in range(n):
        v = x[i]
        m1 += v
        v2 = v * v
        m2 += v2
        m4 += v2 * v2
    m1 /= n
    m2 /= n
    m4 /= n
    s2 = 0.0
    for i in range(n):
        d = x[i] - m1
        s2 += d * d
    return m1, m2, s2 / n, m4


@njit(cache=True, nogil=True)
def fit_approx_mle(x, n, kappa):
    """Algorithm 1 on |y| = x[:n]: returns (mu, sigma, took_fallback)."""
    m1, m2, s2, _ = _moments(x, n)
    if not m2 > 0.0:  # every point is 0 (or its square underflows): a point mass at 0
        return 0.0, 0.0, True
    fallback = not (s2 > kappa * m1 * m1)
    if fallback:
        a = 50.0
        v = a * m2 * s2 / (a * m1 * m1 + 2.0 * m2) if m2 <= (2.0 * a / (a - 2.0)) * m1 * m1 else m2
    else:
        # with a = 2(1+κ)m2/(s2 − κm1²), "m2 ≤ 2a/(a − 2)·m1²" is "(1+κ)s2 ≤ m2" and a m2 s2/(a m1² + 2 m2)
        # is (1+κ)s2: the same branch and value, without a's overflow when s2 is just above κ m1²
        v = (1.0 + kappa) * s2 if (1.0 + kappa) * s2 <= m2 else m2
    if v > m2:
        v = m2
    return math.sqrt(m2 - v), math.sqrt(v), fallback


@njit(cache=True, nogil=True)
def _g(x, n, m1, s2, e):
    """g at σ² = s2 + e, θ = √(m1² − e), in the better-conditioned of two equal forms: (g, θ, σ², scale),
    scale = the sum of the magnitudes of the two terms g is the difference of (its rounding level)."""
    th2 = m1 * m1 - e
    th = math.sqrt(th2) if th2 > 0.0 else 0.0
    v = s2 + e
    if th < 0.5 * m1:
        acc = 0.0
        for i in range(n):
            acc += x[i] * math.tanh(th * x[i] / v)
        return acc / n - th, th, v, acc / n + th
    # mean(x tanh) − θ = (m1 − θ) − 2 mean(x / (1 + e^{2θx/v})), m1 − θ = e / (m1 + θ)
    acc = 0.0
    for i in range(n):
        a = 2.0 * th * x[i] / v
        if a < 700.0:  # beyond, the term is below 1e-304 of x: skipped (overflow and denormals are slow)
            acc += x[i] / (1.0 + math.exp(a))
    t1 = e / (m1 + th)
    t2 = 2.0 * acc / n
    return t1 - t2, th, v, t1 + t2


@njit(cache=True, nogil=True)
def _g_theta(x, n, m2, th):
    """g(θ) with σ² = m2 − θ² (accurate for small θ)."""
    v = m2 - th * th
    acc = 0.0
    for i in range(n):
        acc += x[i] * math.tanh(th * x[i] / v)
    return acc / n - th


@njit(cache=True, nogil=True)
def _loglik(x, n, m1, s2, th, v):
    """Log-likelihood of ½N(θ, v) + ½N(−θ, v) at |y| = x, without the constant −n log(2√(2π))."""
    d = m1 - th
    acc = 0.0
    for i in range(n):
        a = 2.0 * th * x[i] / v
        if a < 700.0:
            acc += math.log1p(math.exp(-a))
    return -n * (s2 + d * d) / (2.0 * v) + acc - 0.5 * n * math.log(v)


@njit(cache=True, nogil=True)
def fit_mle(x, n, scan):
    """Joint MLE on |y| = x[:n]: returns (mu, sigma, is_single_gaussian)."""
    m1, m2, s2, m4 = _moments(x, n)
    if m2 <= 0.0:
        return 0.0, 0.0, True
    if not s2 > 0.0:  # all |y| equal: the likelihood grows without bound at θ = m1, σ → 0
        return m1, 0.0, False
    best_th = 0.0
    best_v = m2
    best_l = -0.5 * n + n * math.log(2.0) - 0.5 * n * math.log(m2)
    top = m1 * m1  # e ranges over (0, m1²): σ² = s2 + e from s2 to m2
    near0_pos = m4 < 3.0 * m2 * m2  # sign of g next to θ = 0: that of 3 − kurtosis
    # walk e downwards (θ upwards): a + → − change of g along θ is a local maximum in θ
    g_hi = 1.0 if near0_pos else -1.0
    e_hi = top
    for j in range(scan - 1, -1, -1):
        e_lo = top * j / scan
        g_lo, _, _, _ = _g(x, n, m1, s2, e_lo)
        if g_lo <= 0.0 and g_hi > 0.0:
            # θ(e_lo) > θ(e_hi), and g > 0 at the smaller θ, ≤ 0 at the larger: a maximum in between
            if j == scan - 1:
                # next to θ = 0: bisection in θ on (0, θ(e_lo)), g > 0 at θ → 0+
                a_th = 0.0
                b_th = math.sqrt(m1 * m1 - e_lo)
                for _ in range(200):
                    mid = 0.5 * (a_th + b_th)
                    if mid <= a_th or mid >= b_th:
                        break
                    if _g_theta(x, n, m2, mid) > 0.0:
                        a_th = mid
                    else:
                        b_th = mid
                th = 0.5 * (a_th + b_th)
                v = m2 - th * th
            else:
                # Illinois on e in (e_lo, e_hi): g(e_lo) ≤ 0 < g(e_hi)
                a_e, fa = e_lo, g_lo
                b_e, fb = e_hi, g_hi
                side = 0
                e = a_e
                for _ in range(200):
                    e = (a_e * fb - b_e * fa) / (fb - fa)
                    if not (e > a_e and e < b_e):
                        e = 0.5 * (a_e + b_e)
                    fe, th, v, scale = _g(x, n, m1, s2, e)
                    if fe > 0.0:
                        b_e, fb = e, fe
                        if side == 1:
                            fa *= 0.5
                        side = 1
                    else:
                        a_e, fa = e, fe
                        if side == -1:
                            fb *= 0.5
                        side = -1
                    # stop at a bracket of relative width 1e-15 in σ², or once g is at its rounding level
                    # (the first interpolation already lands there when the components are well apart)
                    if b_e - a_e <= 1e-15 * (s2 + b_e) or abs(fe) <= 4e-16 * scale:
                        break
            ll = _loglik(x, n, m1, s2, th, v)
            if ll > best_l:
                best_l, best_th, best_v = ll, th, v
        g_hi, e_hi = g_lo, e_lo
    return best_th, math.sqrt(best_v), best_th == 0.0


@njit(cache=True, nogil=True)
def refit_chain(gen, n, mu0, sigma0, mle, kappa, scan, literal, MU, SIG, FB):
    """Paths of (μ_k, σ_k): MU, SIG of shape (reps, generations + 1); FB: fallback counts (reps,)."""
    reps, K1 = MU.shape
    x = np.empty(n)
    for r in range(reps):
        mu = abs(mu0)
        s = sigma0
        MU[r, 0] = mu
        SIG[r, 0] = s
        count = 0
        for k in range(1, K1):
            if literal:
                for i in range(n):
                    sign = 1.0 if gen.random() < 0.5 else -1.0
                    x[i] = abs(sign * mu + s * gen.standard_normal())
            else:
                for i in range(n):
                    x[i] = abs(mu + s * gen.standard_normal())
            if mle:
                mu, s, fb = fit_mle(x, n, scan)
            else:
                mu, s, fb = fit_approx_mle(x, n, kappa)
            if fb:
                count += 1
            MU[r, k] = mu
            SIG[r, k] = s
        FB[r] = count


# --------------------------------------------------------------------------- front function


def simulate_mixture_refit(n, generations, *, mu0=1.0, sigma0=1.0, estimator="approx_mle", eta=2.0, reps=1,
                           method="exact", rng=None, workers=None, progress=False) -> MixtureRefitChain:
    r"""Refit the symmetric mixture :math:`\tfrac12N(\mu,\sigma^2)+\tfrac12N(-\mu,\sigma^2)` to its own samples.

    Suresh, Thangaraj & Khandavally, *Rate of model collapse in recursive training* (AISTATS 2025),
    the Gaussian-mixture experiment of their released notebook (``shared/theory.md`` §3.1).

    Parameters
    ----------
    n : int
        Samples per generation, :math:`n\ge2`.
    generations : int
        Refits :math:`\ge0`.
    mu0, sigma0 : float
        Generation 0: component mean (:math:`|\mu_0|\le10^{150}`; only :math:`|\mu_0|` matters) and
        standard deviation :math:`0<\sigma_0\le10^{150}`. The paper's figure uses :math:`\mu_0=\sigma_0=1`, n = 10.
    estimator : {"approx_mle", "mle"}
        The approximate joint MLE (Algorithm 1) or the joint MLE (see the module notes).
    eta : float
        Algorithm 1's constant :math:`\eta>1` (they use 2); sets
        :math:`\kappa` (:func:`selfconsume.theory.approx_mle_kappa`). Unused by ``"mle"``.
    reps : int
        Independent replicates, :math:`\ge1`.
    method : {"exact", "samples"}
        ``"exact"`` draws the folded points :math:`|\mu+\sigma z|` (what both fits depend on);
        ``"samples"`` draws each point's component too (the literal loop). Same law.
    rng : None, int, SeedSequence or Generator
    workers : int, optional
        Threads; results do not depend on it.
    progress : bool

    Returns
    -------
    MixtureRefitChain

    Notes
    -----
    Both fits return :math:`\mu'^2+\sigma'^2=m_2=\frac1n\sum y_i^2`, so
    :math:`\mathbb E[\mu_k^2+\sigma_k^2]=\mu_0^2+\sigma_0^2`; Algorithm 1 gives
    :math:`\sigma'^2\le(1+\kappa)s^2`, hence :math:`\mathbb E\sigma_k\le\sigma_0\rho^k` and Theorem 4,
    :math:`\Pr(\sigma_k>\varepsilon)\le\frac{\sigma_0}{\varepsilon}e^{-k/(4n)}`
    (:func:`selfconsume.theory.expected_mixture_step`, :func:`selfconsume.theory.bound_mixture_sigma`,
    :func:`selfconsume.theory.bound_mixture_collapse`).

    Examples
    --------
    >>> from selfconsume.simulators import simulate_mixture_refit
    >>> res = simulate_mixture_refit(10, 50, reps=100, rng=0)
    >>> res.sigma.shape
    (100, 51)
    >>> bool(((res.mu**2 + res.sigma**2)[:, 1] > 0).all())
    True
    """
    n = check_int("n", n, min_value=2)
    generations = check_int("generations", generations, min_value=0)
    mu0 = check_real("mu0", mu0, min_value=-1e150, max_value=1e150)  # μ0² + σ0² (and every m2) stays finite
    sigma0 = check_real("sigma0", sigma0, min_value=0.0, max_value=1e150, min_inclusive=False)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    eta = check_real("eta", eta, min_value=1.0, min_inclusive=False)
    reps = check_int("reps", reps, min_value=1)
    method = check_choice("method", method, METHODS)
    if workers is not None:
        check_int("workers", workers, min_value=1)
    check_memory("the output (reps × (generations + 1) paths of μ and σ)", 2 * reps * (generations + 1) + reps,
                 names="reps, generations")
    check_memory("a block's n points", 64 * n, names="n")
    from selfconsume.theory._peers_mixture import approx_mle_kappa  # the one formula for κ

    kappa = approx_mle_kappa(n, eta)
    gen = as_generator(rng)
    seed = seed_info(gen)
    MU, SIG = np.empty((2, reps, generations + 1))
    FB = np.empty(reps, dtype=np.int64)
    mle = estimator == "mle"
    literal = method == "samples"
    unit = n * (SCAN_POINTS + 4 if mle else 1.0) * (2.0 if literal else 1.0) / 4.0
    blocks = replicate_blocks(reps, block_reps(max(generations, 1) * unit))

    def work(b, g):
        sl = slice(b.start, b.stop)
        refit_chain(g, n, mu0, sigma0, mle, kappa, SCAN_POINTS, literal, MU[sl], SIG[sl], FB[sl])

    run_blocks(work, blocks, gen, workers=workers, progress=progress, desc="mixture refit")
    return MixtureRefitChain(n, generations, reps, mu0, sigma0, estimator, eta, method, seed,
                             mu=readonly(MU), sigma=readonly(SIG), fallback=readonly(FB))
