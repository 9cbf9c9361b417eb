r"""Model Autophagy Disorder, measured: the fresh-data loop's limit distance, the effective sample
size and the admissibility threshold of synthetic data (Alemohammad et al., ICLR 2024, §5;
``shared/theory.md`` §3.2).

The fresh-data loop pools :math:`n_r` fresh real points with :math:`n_s` synthetic points drawn,
with a sampling bias :math:`b`, from the previous fit (:func:`selfconsume.simulators.simulate_gaussian`
with ``workflow="fresh"``, ``n`` = :math:`n_r`, ``lam`` = :math:`n_s/n_r`). Its distance to the
real law, :math:`W_2^2(G_t, P_r)`, has a limit :math:`WD(n_r, n_s, b)` that does not depend on the
initial sample size (the paper's Eq. 3); the *effective sample size* :math:`n_e` is the number of
real points alone that give a fit at the same expected distance (Eq. 4), and synthetic data are
*admissible* when :math:`n_e \ge n_r`.

How each number is obtained, and why:

* :math:`W_2^2 = \lVert\mu_t-\mu_0\rVert^2 + \mathrm{tr}(\Sigma_t^{1/2}-\Sigma_0^{1/2})^2` (Σ_0 = σ_0² I).
  Its mean part is a first moment, exact by :func:`selfconsume.theory.fresh_moments`; its
  covariance part involves :math:`\mathbb E\,\Sigma_t^{1/2}`, which no finite set of moments gives, so
  it is a Monte Carlo average over exact-in-law chains (each chain's time average over a window
  of generations after the first moments have settled to 10⁻³ of their limit; the standard
  error is across independent chains, so autocorrelation inside a chain is accounted for).
* The real-only curve :math:`f(n)=\mathbb E W_2^2` of one fit to n real points is exact in 1-D
  (:func:`selfconsume.theory.real_fit_w2`), and so is its inverse
  (:func:`selfconsume.theory.w2_equivalent_sample_size`); :math:`n_e = f^{-1}(WD)` and its interval
  maps :math:`WD \pm z\,\mathrm{SE}` through the decreasing :math:`f^{-1}`. In d > 1 dimensions
  :math:`f_d(n) = d\sigma_0^2/n + \mathbb E\,\mathrm{tr}(\hat\Sigma^{1/2}-\sigma_0 I)^2` needs the mean square
  root of a Wishart matrix's eigenvalues, which has no closed form: its second term is a Monte
  Carlo average over exact Wishart draws (:func:`real_fit_distance`), and :math:`f_d^{-1}` interpolates
  it on a geometric grid of n (log-log, made monotone), the curve's error added to WD's.
* The threshold scans :math:`n_s` on a geometric grid and interpolates, in :math:`\log n_s`, the last
  sign change of :math:`WD(n_r, n_s, b) - f(n_r)`; its interval does the same for
  :math:`WD \mp z\,\mathrm{SE}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from selfconsume import theory as th
from selfconsume._validation import check_choice, check_int, check_memory, check_real
from selfconsume.simulators import simulate_gaussian

from ._sweep import _root_seed, cell_seed

__all__ = ["FreshDistance", "fresh_limit_distance", "real_fit_distance", "effective_sample_size", "Threshold",
           "admissibility_threshold"]

#: First moments within this relative distance of their limit count as settled (burn-in).
SETTLED = 1e-3
#: Cap on the burn-in (generations) a limit is run for.
MAX_BURN = 5_000
#: Covariance values (reps × generations × d²) one simulator call may return: larger d-D runs go in chunks.
_CHUNK_VALUES = 12_500_000


@dataclass(frozen=True)
class FreshDistance:
    """The fresh-data loop's limit distance :math:`WD(n_r, n_s, b)` (:func:`fresh_limit_distance`).

    Attributes
    ----------
    distance, se : float
        :math:`\\mathbb E W_2^2(G_t, P_r)` averaged over the window, and its standard error.
    mean_part : float
        Its exact mean part :math:`\\mathbb E\\lVert\\mu_t-\\mu_0\\rVert^2` (window average, from the
        first-moment recursion).
    cov_part, cov_part_se : float
        Its Monte Carlo covariance part :math:`\\mathbb E\\,\\mathrm{tr}(\\Sigma_t^{1/2}-\\sigma_0 I)^2`.
    real_distance, real_distance_se : float
        :math:`f(n_r)`, the distance of one fit to :math:`n_r` real points (exact in 1-D, SE 0; Monte
        Carlo for dim > 1, :func:`real_fit_distance`; NaN for :math:`n_r = 1`).
    n, m, n_init, bias, dim, sigma0, estimator, reps, burn, window
        The loop and the run.
    """

    distance: float
    se: float
    mean_part: float
    cov_part: float
    cov_part_se: float
    real_distance: float
    real_distance_se: float
    n: int
    m: int
    n_init: int
    bias: float
    dim: int
    sigma0: float
    estimator: str
    reps: int
    burn: int
    window: int


def _burn_in(n, lam, bias, n_init, estimator, mom=None):
    """First generation whose exact first moments are within :data:`SETTLED` of their limit (``mom``:
    :func:`selfconsume.theory.fresh_moments` over :data:`MAX_BURN` generations, if already at hand)."""
    cov_inf, ms_inf = th.fresh_limit(n, lam=lam, bias=bias, estimator=estimator)
    if mom is None:
        mom = th.fresh_moments(n, MAX_BURN, lam=lam, bias=bias, n_init=n_init, estimator=estimator)
    ok = (np.abs(mom.cov - cov_inf) <= SETTLED * cov_inf) & (np.abs(mom.mean_sq - ms_inf) <= SETTLED * ms_inf)
    # settled for good: from the last unsettled generation on
    bad = np.flatnonzero(~ok)
    burn = 0 if bad.size == 0 else int(bad[-1]) + 1
    if burn > MAX_BURN - 1:
        raise ValueError(f"the fresh-data loop with n={n}, lam={lam}, bias={bias} needs more than {MAX_BURN} "
                         "generations to settle; use a smaller lam")
    return burn


def _cov_part(res, t0, sigma0):
    """Per chain and generation ≥ t0: tr(Σ_t^{1/2} − σ_0 I)² (the covariance part of W₂²)."""
    if res.dim == 1:
        return (res.sigma[:, t0:] - sigma0) ** 2
    ev = np.linalg.eigvalsh(res.cov[:, t0:])
    return ((np.sqrt(np.clip(ev, 0.0, None)) - sigma0) ** 2).sum(axis=-1)


def _as_generator(rng, params):
    """A generator for one cell: a child of the root seed keyed by the cell's parameters."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(cell_seed(_root_seed(rng), params))


def _default_reps(reps, dim):
    """256 chains in 1-D; in d dimensions every statistic averages d coordinates, so fewer (≥ 8)."""
    if reps is None:
        return 256 if dim == 1 else max(8, 2048 // dim)
    return check_int("reps", reps, min_value=2)


def real_fit_distance(n, *, dim=1, sigma0=1.0, estimator="unbiased", reps=None, rng=None) -> tuple[float, float]:
    r""":math:`f_d(n)=\mathbb E\,W_2^2(N(\bar x, \hat\Sigma), P_r)`, one fit to n real points of
    :math:`P_r = N(0, \sigma_0^2 I_d)`, and its standard error.

    The mean part :math:`d\sigma_0^2/n` is exact. In 1-D the whole curve is exact
    (:func:`selfconsume.theory.real_fit_w2`; SE 0). For d > 1 the covariance part
    :math:`\mathbb E\sum_i(\sqrt{\lambda_i}-\sigma_0)^2`, :math:`\lambda_i` the eigenvalues of
    :math:`\hat\Sigma = \sigma_0^2 W/\mathrm{div}`, :math:`W\sim W_d(I, n-1)`, is a Monte Carlo average over
    ``reps`` exact draws (Bartlett; for :math:`n \le d`, the :math:`n-1` nonzero eigenvalues of
    :math:`G^\top G` and :math:`d-n+1` zeros). Default reps: max(64, 50 000/d).

    Examples
    --------
    >>> from selfconsume.analysis import real_fit_distance
    >>> real_fit_distance(100)                           # 1-D: exact
    (0.015044047857472978, 0.0)
    >>> f, se = real_fit_distance(100, dim=10, rng=0)
    >>> 0.35 < f < 0.42 and se < 1e-3   # d/n = 0.1 from the mean, the rest from the covariance
    True
    """
    n = check_int("n", n, min_value=2)
    dim = check_int("dim", dim, min_value=1)
    sigma0 = check_real("sigma0", sigma0, min_value=0.0, min_inclusive=False)
    if dim == 1:
        return float(th.real_fit_w2(n, sigma0=sigma0, estimator=estimator)), 0.0
    estimator = check_choice("estimator", estimator, ("unbiased", "mle"))
    reps = max(64, 50_000 // dim) if reps is None else check_int("reps", reps, min_value=2)
    check_memory("the Wishart draws (reps × dim²)", reps * dim * dim, names="reps, dim")
    g = _as_generator(rng, dict(kind="real_fit", n=n, dim=dim, sigma0=sigma0, estimator=estimator, reps=reps))
    k = n - 1
    if k >= dim:
        B = np.zeros((reps, dim, dim))
        idx = np.arange(dim)
        B[:, idx, idx] = np.sqrt(g.chisquare(k - idx, (reps, dim)))
        lo = np.tril_indices(dim, -1)
        B[:, lo[0], lo[1]] = g.standard_normal((reps, lo[0].size))
        ev = np.linalg.eigvalsh(B @ np.swapaxes(B, 1, 2))
    else:
        G = g.standard_normal((reps, dim, k))
        ev = np.concatenate([np.linalg.eigvalsh(np.swapaxes(G, 1, 2) @ G), np.zeros((reps, dim - k))], axis=1)
    scale = 1.0 / (k if estimator == "unbiased" else n)  # Σ̂ = W/div in units of σ_0²
    per = ((np.sqrt(np.clip(ev * scale, 0.0, None)) - 1.0) ** 2).sum(axis=1) * sigma0**2
    return dim * sigma0**2 / n + float(per.mean()), float(per.std(ddof=1) / math.sqrt(reps))


def fresh_limit_distance(n, lam, bias=1.0, *, n_init=None, dim=1, sigma0=1.0, estimator="unbiased", reps=None,
                         window=None, rng=None, workers=None) -> FreshDistance:
    r"""The limit :math:`WD(n_r, n_s, b)=\lim_t\mathbb E\,W_2^2(G_t, P_r)` of the fresh-data loop.

    Parameters
    ----------
    n : int
        Fresh real points per generation :math:`n_r \ge 1`.
    lam : float
        Synthetic-to-real ratio: :math:`n_s = \lfloor\lambda n_r\rfloor` synthetic points per generation.
    bias : float
        Sampling bias :math:`b \in (0, 1]`.
    n_init : int, optional
        Real points of generation 0 (default ``n``); the limit does not depend on it.
    dim : int
        Dimension. In d > 1 the W₂ covariance part needs every window generation's covariance
        (its eigenvalues): the chains run in chunks of at most ~100 MB of covariances.
    sigma0 : float
        :math:`P_r = N(0, \sigma_0^2 I)`.
    estimator : {"unbiased", "mle"}
    reps : int, optional
        Independent chains (the standard error is across them), ≥ 2; default 256 in 1-D and
        max(8, 2048/d) in d dimensions.
    window : int, optional
        Generations averaged after the burn-in (default: the burn-in's length, at least 50).
    rng : None, int, SeedSequence or Generator
        A Generator is used as is; otherwise the run's seed is the root's child for these parameters.
    workers : int, optional
        Threads.

    Returns
    -------
    FreshDistance

    Examples
    --------
    >>> from selfconsume.analysis import fresh_limit_distance
    >>> r = fresh_limit_distance(100, 0.0, reps=64, rng=0)   # real data only: f(100), exact
    >>> abs(r.distance - r.real_distance) < 4 * r.se
    True
    """
    n = check_int("n", n, min_value=1)
    lam = check_real("lam", lam, min_value=0.0)
    bias = check_real("bias", bias, min_value=0.0, max_value=1.0, min_inclusive=False)
    dim = check_int("dim", dim, min_value=1)
    sigma0 = check_real("sigma0", sigma0, min_value=0.0, min_inclusive=False)
    reps = _default_reps(reps, dim)
    n_init = n if n_init is None else check_int("n_init", n_init, min_value=2)
    mom = th.fresh_moments(n, MAX_BURN, lam=lam, bias=bias, n_init=n_init, estimator=estimator)  # validates the rest
    m = mom.m
    burn = _burn_in(n, lam, bias, n_init, estimator, mom)
    window = max(burn, 50) if window is None else check_int("window", window, min_value=1)
    T = burn + window
    if T > MAX_BURN:
        mom = th.fresh_moments(n, T, lam=lam, bias=bias, n_init=n_init, estimator=estimator)
    params = dict(kind="fresh_limit", n=n, lam=lam, bias=bias, n_init=n_init, dim=dim, sigma0=sigma0,
                  estimator=estimator, reps=reps, window=window)
    g = _as_generator(rng, params)
    chunk = reps if dim == 1 else max(1, min(reps, _CHUNK_VALUES // ((T + 1) * dim * dim)))
    parts = []
    for start in range(0, reps, chunk):  # d-D: the chunks' streams are children of the run's generator
        gc = g if chunk == reps else g.spawn(1)[0]
        res = simulate_gaussian(n, T, reps=min(chunk, reps - start), dim=dim, sigma0=sigma0, lam=lam,
                                workflow="fresh", bias=bias, n_init=n_init, estimator=estimator, method="exact",
                                return_cov=dim > 1, rng=gc, workers=workers)
        parts.append(_cov_part(res, burn + 1, sigma0).mean(axis=1))
        del res
    per_chain = np.concatenate(parts)
    cov_part = float(per_chain.mean())
    cov_se = float(per_chain.std(ddof=1) / math.sqrt(reps))
    mean_part = float(mom.mean_sq[burn + 1:T + 1].mean()) * dim * sigma0**2
    if n >= 2:
        real, real_se = real_fit_distance(n, dim=dim, sigma0=sigma0, estimator=estimator,
                                          rng=g.spawn(1)[0] if dim > 1 else None)
    else:
        real, real_se = math.nan, math.nan
    return FreshDistance(mean_part + cov_part, cov_se, mean_part, cov_part, cov_se, real, real_se, n, m, n_init,
                         bias, dim, sigma0, estimator, reps, burn, window)


def _real_curve(n, dim, sigma0, estimator, rng):
    """f_d on a geometric grid of real sample sizes around n (d > 1): (grid, f, se), f made non-increasing."""
    hi = max(4 * n, 64)
    grid = np.unique(np.round(np.geomspace(2, hi, 48)).astype(int))
    vals, ses = [], []
    for k in grid:
        f, se = real_fit_distance(int(k), dim=dim, sigma0=sigma0, estimator=estimator,
                                  rng=rng.spawn(1)[0] if isinstance(rng, np.random.Generator) else
                                  cell_seed(_root_seed(rng), dict(kind="real_curve", n=int(k), dim=dim)))
        vals.append(f)
        ses.append(se)
    return grid.astype(float), np.minimum.accumulate(np.asarray(vals)), np.asarray(ses)


def _invert_curve(grid, f, w):
    """n with f(n) = w by log-log interpolation of a non-increasing curve; clipped to the grid."""
    w = float(np.clip(w, f[-1], f[0]))
    lf, lg = np.log(f[::-1]), np.log(grid[::-1])  # increasing in f
    return float(np.exp(np.interp(math.log(max(w, 1e-300)), lf, lg)))


def effective_sample_size(n, lam, bias=1.0, *, dim=1, estimator="unbiased", reps=None, z=2.0, rng=None,
                          workers=None) -> dict:
    r"""Alemohammad et al.'s effective sample size :math:`n_e(n_r, n_s, b)` (their Eq. 4).

    The real sample size whose single fit has the fresh-data loop's limit distance:
    :math:`f(n_e) = WD(n_r, n_s, b)`. In 1-D :math:`f` = :func:`selfconsume.theory.real_fit_w2` and its
    inverse are exact (n real, ≥ 2); in d dimensions :math:`f_d` is estimated on a geometric grid of
    n (:func:`real_fit_distance`, made non-increasing) and inverted by log-log interpolation within
    the grid (2 to max(4 n_r, 64)). Synthetic data are admissible when :math:`n_e \ge n_r`.

    Returns
    -------
    dict
        ``n_e`` and its interval ``n_e_lo``, ``n_e_hi`` (from WD ± z·SE, in d > 1 with the curve's SE
        at n_e added in quadrature), ``ratio`` = n_e/n_r, ``admissible`` (n_e ≥ n_r), ``distance``,
        ``se``, ``real_distance`` = f(n_r), ``n``, ``m``, ``bias``, ``dim``. A distance beyond f(2)
        (worse than a fit to 2 real points) reports n_e = 2.

    Examples
    --------
    >>> from selfconsume.analysis import effective_sample_size
    >>> r = effective_sample_size(100, 1.0, bias=1.0, reps=64, rng=0)   # unbiased synthetic data help
    >>> r["admissible"]
    True
    """
    n = check_int("n", n, min_value=2)
    z = check_real("z", z, min_value=0.0)
    dim = check_int("dim", dim, min_value=1)
    r = fresh_limit_distance(n, lam, bias, dim=dim, estimator=estimator, reps=reps, rng=rng, workers=workers)
    if dim == 1:
        f2 = float(th.real_fit_w2(2, estimator=estimator))

        def inv(w):
            return float(th.w2_equivalent_sample_size(min(max(w, 1e-300), f2), estimator=estimator))

        n_e, half = inv(r.distance), z * r.se
    else:
        grid, f, fse = _real_curve(n, dim, 1.0, estimator, rng if isinstance(rng, np.random.Generator) else
                                   cell_seed(_root_seed(rng), dict(kind="ess_curve", n=n, dim=dim)))

        def inv(w):
            return _invert_curve(grid, f, w)

        n_e = inv(r.distance)
        half = z * math.hypot(r.se, float(np.interp(n_e, grid, fse)))
    return dict(n_e=n_e, n_e_lo=inv(r.distance + half), n_e_hi=inv(r.distance - half), ratio=n_e / n,
                admissible=bool(n_e >= n), distance=r.distance, se=r.se, real_distance=r.real_distance, n=n,
                m=r.m, bias=r.bias, dim=dim)


@dataclass(frozen=True)
class Threshold:
    """The admissibility threshold of :func:`admissibility_threshold`.

    Attributes
    ----------
    threshold : float
        :math:`n_s^*`: above it :math:`WD(n_r, n_s, b) > f(n_r)` (synthetic data hurt); ``inf`` when
        no crossing was found on the scanned grid (admissible throughout).
    lo, hi : float
        Its interval (the same crossing for WD ± z·SE; ``inf`` where that band never crosses).
    n, bias, z
        The loop and the band width.
    table : pandas.DataFrame
        The scan: ``n_s``, ``distance``, ``se`` (of the excess: WD's and, in d > 1, f_d(n_r)'s in
        quadrature), ``real_distance``, ``excess`` = distance − f(n_r).
    """

    threshold: float
    lo: float
    hi: float
    n: int
    bias: float
    z: float
    table: object = field(repr=False)


def _last_crossing(ns, excess):
    """The n_s where ``excess`` last turns positive for good (log-linear interpolation); inf if never,
    ns[0] if it is positive throughout."""
    pos = excess > 0
    if not pos[-1]:
        return math.inf
    if pos.all():
        return float(ns[0])
    j = int(np.flatnonzero(~pos)[-1])  # last non-positive point; every later one is positive
    x0, x1 = math.log(ns[j]), math.log(ns[j + 1])
    e0, e1 = float(excess[j]), float(excess[j + 1])
    return float(math.exp(x0 + (x1 - x0) * (-e0) / (e1 - e0)))


def admissibility_threshold(n, bias, *, ns=None, dim=1, estimator="unbiased", reps=None, z=2.0, rng=None,
                            workers=None, progress=False) -> Threshold:
    r"""The synthetic sample size :math:`n_s^*` above which synthetic data stop helping.

    Alemohammad et al. (2024, §5, phase diagrams): with :math:`n_r` fresh real points per
    generation and :math:`n_s` synthetic ones drawn with bias :math:`b < 1`, the limit distance
    :math:`WD(n_r, n_s, b)` first falls below the real-only :math:`f(n_r)` and then, as the bias's
    shrinkage of the covariance accumulates, exceeds it: :math:`n_e < n_r` beyond :math:`n_s^*`.

    Parameters
    ----------
    n : int
        :math:`n_r \ge 2`.
    bias : float
        :math:`b \in (0, 1]`.
    ns : array_like of int, optional
        The synthetic sample sizes scanned (increasing, ≥ 1); default 16 geometric steps from
        :math:`n_r/20` to :math:`20 n_r`.
    dim : int
        Dimension; in d > 1, :math:`f_d(n_r)` is a Monte Carlo estimate (:func:`real_fit_distance`)
        and its SE joins WD's in the interval.
    estimator, reps, z, rng, workers
        As in :func:`fresh_limit_distance`; ``z`` sets the interval (WD ± z·SE).
    progress : bool
        A bar over the scanned sizes.

    Returns
    -------
    Threshold

    Examples
    --------
    >>> from selfconsume.analysis import admissibility_threshold
    >>> th_ = admissibility_threshold(100, 0.7, ns=[10, 30, 100, 300, 1000], reps=32, rng=0)
    >>> 10 < th_.threshold < 1000
    True
    """
    import pandas as pd

    n = check_int("n", n, min_value=2)
    bias = check_real("bias", bias, min_value=0.0, max_value=1.0, min_inclusive=False)
    z = check_real("z", z, min_value=0.0)
    if ns is None:
        ns = np.unique(np.maximum(1, np.round(np.geomspace(n / 20, 20 * n, 16)))).astype(int)
    else:
        ns = np.asarray(ns)
        if ns.ndim != 1 or ns.size < 2 or not np.issubdtype(ns.dtype, np.integer) or np.any(ns < 1) \
                or np.any(np.diff(ns) <= 0):
            raise ValueError(f"ns must be an increasing 1-D array of at least 2 integers >= 1; got {ns!r}")
    dim = check_int("dim", dim, min_value=1)
    root = rng if isinstance(rng, np.random.Generator) else _root_seed(rng)
    f, f_se = real_fit_distance(n, dim=dim, estimator=estimator,
                                rng=root.spawn(1)[0] if isinstance(root, np.random.Generator) else
                                cell_seed(root, dict(kind="threshold_real", n=n, dim=dim)))
    rows = []
    it = ns
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(ns, desc=f"admissibility n_r={n}, b={bias:g}", leave=False)
    for k in it:
        lam = (int(k) + 0.5) / n  # ⌊λ n⌋ = k exactly, away from rounding
        g = root if isinstance(root, np.random.Generator) else cell_seed(
            root, dict(kind="admissibility", n=n, n_s=int(k), bias=bias, dim=dim, estimator=estimator, reps=reps))
        r = fresh_limit_distance(n, lam, bias, dim=dim, estimator=estimator, reps=reps, rng=np.random.default_rng(g)
                                 if not isinstance(g, np.random.Generator) else g, workers=workers)
        rows.append(dict(n_s=int(k), distance=r.distance, se=math.hypot(r.se, f_se), real_distance=f,
                         excess=r.distance - f))
    table = pd.DataFrame(rows)
    ex, se = table["excess"].to_numpy(), table["se"].to_numpy()
    ns_ = table["n_s"].to_numpy(float)
    return Threshold(_last_crossing(ns_, ex), _last_crossing(ns_, ex + z * se), _last_crossing(ns_, ex - z * se),
                     n, bias, z, table)
