"""Gaussian retraining chains: fit N(μ, Σ) to n samples of the previous fit, repeat."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from selfconsume._lazy import lazy
from selfconsume._parallel import as_generator, block_reps, replicate_blocks, run_blocks, seed_info
from selfconsume._validation import check_choice, check_int, check_lam, check_memory, check_real

from ._common import readonly
from . import _gaussian_kernels as _k
from . import _mixing_kernels as _mk
from . import _mixing_nd_kernels as _mnd

pd = lazy("pandas")

__all__ = ["simulate_gaussian", "GaussianChain"]

ESTIMATORS = ("unbiased", "mle")
METHODS = ("exact", "samples")
WORKFLOWS = ("replace", "accumulate", "accumulate-subsample", "fresh")




@dataclass(frozen=True)
class GaussianChain:
    """Result of :func:`simulate_gaussian` (frozen; arrays are read-only).

    Attributes
    ----------
    n, generations, reps, dim, mu0, sigma0, estimator, method
        The parameters of the run; ``sigma0`` is the (d, d) covariance Σ_0 when one was given.
    seed : dict
        Entropy and spawn key of the SeedSequence behind the run.
    mu : ndarray
        Fitted means μ_t, shape (reps, generations+1) for dim = 1, else (reps, generations+1, dim).
    sigma, log_sigma : ndarray or None
        Fitted standard deviation σ_t and its log (dim = 1 only), shape (reps, generations+1).
        ``log_sigma`` stays exact when ``sigma`` underflows to 0 after many generations.
    logdet, trace : ndarray or None
        log det Σ_t and tr Σ_t (dim > 1 only), shape (reps, generations+1). A fit to n ≤ d
        points is singular: its log det is exactly ``-inf`` (det 0).
    cov : ndarray or None
        Full covariances Σ_t, shape (reps, generations+1, dim, dim), when ``return_cov=True``.
    lam, workflow, truth
        Real-data mixing parameters (``lam=None``: fully synthetic).
    subsample : int or None
        Subsample size of ``workflow="accumulate-subsample"`` (None for the other workflows).
    bias : float
        Sampling bias b ∈ (0, 1]: synthetic points come from N(μ_t, b Σ_t) (1: unbiased sampling).
    n_init : int or None
        ``workflow="fresh"``: the real sample size of generation 0 (None for the other workflows).
    real_mean, real_sigma, real_cov : ndarray or None
        With ``lam``: the real sample's fitted mean (reps,[ dim]) and standard deviation
        (reps,; dim = 1) or covariance (reps, dim, dim; dim > 1).
    """

    n: int
    generations: int
    reps: int
    dim: int
    mu0: float
    sigma0: float | np.ndarray
    estimator: str
    method: str
    seed: dict
    mu: np.ndarray = field(repr=False)
    sigma: np.ndarray | None = field(default=None, repr=False)
    log_sigma: np.ndarray | None = field(default=None, repr=False)
    logdet: np.ndarray | None = field(default=None, repr=False)
    trace: np.ndarray | None = field(default=None, repr=False)
    cov: np.ndarray | None = field(default=None, repr=False)
    lam: float | None = None
    workflow: str = "replace"
    truth: str = "gaussian"
    real_mean: np.ndarray | None = field(default=None, repr=False)
    real_sigma: np.ndarray | None = field(default=None, repr=False)
    real_cov: np.ndarray | None = field(default=None, repr=False)
    subsample: int | None = None
    bias: float = 1.0
    n_init: int | None = None

    @property
    def t(self) -> np.ndarray:
        """Generation index 0..generations."""
        return np.arange(self.generations + 1)

    def to_frame(self) -> pd.DataFrame:
        """Tidy long table: one row per (rep, generation); parameters as columns.

        Metric columns: ``mu``, ``sigma``, ``log_sigma`` for dim = 1; ``mu_0..mu_{d-1}``,
        ``logdet``, ``trace`` for dim > 1. With a (d, d) ``sigma0`` its column holds NaN (the
        matrix is ``self.sigma0``).
        """
        R, T1 = self.reps, self.generations + 1
        cols = {
            "rep": np.repeat(np.arange(R), T1),
            "generation": np.tile(np.arange(T1), R),
        }
        if self.dim == 1:
            cols["mu"] = self.mu.ravel()
            cols["sigma"] = self.sigma.ravel()
            cols["log_sigma"] = self.log_sigma.ravel()
        else:
            for i in range(self.dim):
                cols[f"mu_{i}"] = self.mu[:, :, i].ravel()
            cols["logdet"] = self.logdet.ravel()
            cols["trace"] = self.trace.ravel()
        df = pd.DataFrame(cols)
        for name in ("n", "dim", "estimator", "method", "mu0", "sigma0", "lam", "workflow", "truth", "subsample",
                     "bias", "n_init"):
            value = getattr(self, name)
            df[name] = float("nan") if isinstance(value, np.ndarray) else value
        return df


def chain_blocks(reps, n, generations, dim=1, method="exact"):
    """The replicate blocks of a fully synthetic chain: sized by the work per replicate, in
    units of one exact 1-D step (a samples step draws n normals; a d-D step costs ~d², or
    ~n·d² with samples), never by the thread count."""
    if dim == 1:
        unit = 1.0 if method == "exact" else n / 4.0
    else:
        unit = dim * dim * (n if method == "samples" else 1.0)
    return replicate_blocks(reps, block_reps((generations + 1) * unit))


def chain_1d_block(method, g, n, divisor, L, M, S, mu0=0.0, sigma0=1.0, bias=1.0):
    """One replicate block of the fully synthetic 1-D chain.

    Writes ``L = log σ_t``, ``M = μ_t`` and ``S = σ_t`` (rows = replicates), computed in
    standardised units and mapped back by one multiplication/addition each.
    ``method="exact"`` runs the split pipeline of :mod:`._gaussian_kernels` (compiled draws,
    vectorised ``log``/``exp``, compiled cumulative sums); ``"samples"`` the literal loop.
    With a sampling bias b (points from N(μ_t, b σ_t²)) the exact chain is the unbiased one with
    log σ_t raised by (t/2) log b and the mean steps scaled by √b — the same draws, exactly.
    """
    if method == "exact":
        _k.gauss1d_exact_draws(g, n, divisor, L, M)
        np.log(L, out=L)
        _k.half_cumsum_rows(L)
        if bias != 1.0:
            L += (0.5 * math.log(bias)) * np.arange(L.shape[1])
    else:
        _k.gauss1d_samples(g, n, divisor, L, M, bias)
    np.exp(L, out=S)
    _k.finish_rows(L, M, S, method == "exact", 1.0 / math.sqrt(n) * math.sqrt(bias), mu0, sigma0, math.log(sigma0))


def simulate_gaussian(
    n,
    generations,
    *,
    reps=1,
    dim=1,
    mu0=0.0,
    sigma0=1.0,
    estimator="unbiased",
    method="exact",
    lam=None,
    workflow="replace",
    subsample=None,
    bias=1.0,
    n_init=None,
    truth=None,
    return_cov=False,
    rng=None,
    workers=None,
    progress=False,
) -> GaussianChain:
    r"""Retrain a Gaussian on its own samples, ``generations`` times, ``reps`` times.

    Generation 0 is :math:`N(\mu_0, \Sigma_0)`, :math:`\Sigma_0 = \sigma_0^2 I_d` or a given covariance; generation :math:`t+1` is the
    Gaussian fitted (sample mean, and covariance with divisor :math:`n-1` or :math:`n`) to
    :math:`n` samples of generation :math:`t` (Bertrand et al. 2024 §2.2; Shumailov et al.
    2024 Thm 3.1).

    Parameters
    ----------
    n : int
        Samples per generation, :math:`n \ge 2`. With ``lam``, the size of the real sample
        (``workflow="fresh"``: of each generation's fresh real sample, :math:`n \ge 1`).
        With :math:`n \le d` every fitted covariance is singular (rank :math:`\le n-1`):
        ``logdet`` is ``-inf``, while the trace and the mean keep their exact laws (see Notes).
    generations : int
        Number of retraining steps :math:`T \ge 0`.
    reps : int
        Independent replicates (paths), :math:`\ge 1`.
    dim : int
        Dimension :math:`d \ge 1`.
    mu0 : float
        Initial mean (every coordinate).
    sigma0 : float or array_like (dim, dim)
        Initial standard deviation (:math:`\Sigma_0 = \sigma_0^2 I`), or the initial covariance
        :math:`\Sigma_0` itself, any symmetric positive-definite matrix (the real data's law with
        ``lam``). The chains run in the original coordinates, from :math:`C_0 = \mathrm{chol}\,\Sigma_0`.
    estimator : {"unbiased", "mle"}
        Variance divisor :math:`n-1` (ddof 1) or :math:`n` (ddof 0).
    method : {"exact", "samples"}
        ``"samples"`` runs the literal loop (n draws per step). ``"exact"`` draws the
        sufficient statistics from their sampling laws — :math:`\bar x\sim N(\mu,\Sigma/n)`
        independent of the scatter matrix :math:`\sim W_d(\Sigma, n-1)` (χ² for d = 1,
        Bartlett for d > 1) — at a cost independent of n. Both give the same law.
    lam : float or None
        Synthetic-to-real ratio λ ≥ 0 (Bertrand et al. 2024). ``None``: the fully synthetic
        loop above. Otherwise n real points are drawn once per replicate from ``truth``,
        generation 0 is the fit to them, and each generation draws ``m = ⌊λn⌋`` fresh points
        from the current fit. With ``dim > 1`` the real data are N(mu0·1, Σ_0).
    workflow : {"replace", "accumulate", "accumulate-subsample", "fresh"}
        With ``lam``: refit on real ∪ the m new points (``replace``; Alemohammad et al.'s
        synthetic augmentation loop), on every point so far
        (``accumulate``, Gerstgrasser et al. 2024), on n *fresh* real points of each generation
        ∪ the m new points (``fresh``, Alemohammad et al. 2024's fresh-data loop: ``n`` is
        :math:`n_r`, ``lam`` is :math:`n_s/n_r`; generation 0 is the fit to ``n_init`` real
        points; real data Gaussian, ``truth=None``; with ``dim > 1`` it needs
        :math:`n + m > d`; with :math:`n_\mathrm{init} \le d` generation 0 is singular), or on a uniform subsample, without
        replacement, of ``subsample`` points of that pool (``accumulate-subsample``, Kazdan et
        al. 2025; ``method="samples"`` only, since a subsample's statistics are not functions
        of the batches' sufficient statistics). Generation 0 is always the fit to all n real
        points; Kazdan et al.'s iteration k is generation t = k − 1.
    subsample : int, optional
        ``accumulate-subsample`` only: the subsample size k, :math:`2 \le k \le n + m` (the
        pool at generation 1). Default ``n``, as in Kazdan et al.'s released code
        (``src/fit_gaussians/fit_gaussians.py``: ``np.random.choice(..., size=n,
        replace=False)``); ``n + m`` fits on as many points as the accumulate workflow's
        second model.
    bias : float
        Sampling bias :math:`b \in (0, 1]` of Alemohammad et al. (2024) (their λ): every
        synthetic point is drawn from :math:`N(\mu_t, b\,\Sigma_t)` — truncation or guidance
        trading diversity for quality. The fully synthetic chain then has
        :math:`\mathbb E\Sigma_t = (bc)^t\Sigma_0` (c = 1 unbiased, (n − 1)/n MLE) and
        :math:`\mathrm{Cov}(\mu_t-\mu_0)=\frac{b\,\Sigma_0}{n}\sum_{s=0}^{t-1} (bc)^s`
        (:func:`selfconsume.theory.biased_cov_factor`, :func:`~selfconsume.theory.biased_mean_cov_factor`).
        The real data are never biased.
    n_init : int, optional
        ``workflow="fresh"`` only: the real sample size of generation 0 (default ``n``),
        :math:`\ge 2`.
    truth : scipy.stats frozen continuous distribution or GaussianMixture, optional
        Law of the real data (with ``lam``); default N(mu0, Σ_0). A non-Gaussian truth
        (``stats.t(5)``, ``stats.laplace()``, :func:`gaussian_mixture`) makes the Gaussian
        family misspecified. It must have a finite variance; ``mu0`` and ``sigma0`` are then
        not used.
    return_cov : bool
        Also return full covariances (dim > 1); memory ``reps·(T+1)·d²`` doubles.
    rng : None, int, SeedSequence or Generator
        Random state (normalised once with :func:`numpy.random.default_rng`).
    workers : int, optional
        Threads (default: all cores). Results do not depend on it.
    progress : bool
        Show a progress bar with ETA.

    Returns
    -------
    GaussianChain

    Notes
    -----
    With the unbiased estimator, :math:`\sigma_t^2=\sigma_0^2\prod_{s\le t}\chi^2_{n-1,s}/(n-1)`, so

    .. math:: \mathbb E\,\sigma_t = \alpha(n)^t\sigma_0,\qquad
              \alpha(n)=\sqrt{\tfrac{2}{n-1}}\,\frac{\Gamma(n/2)}{\Gamma((n-1)/2)},

    while :math:`\mathbb E\sigma_t^2=\sigma_0^2` and :math:`\sigma_t\to0` almost surely.

    With :math:`n\le d` the scatter of n points is a singular Wishart :math:`GG^\top`, G a
    :math:`d\times(n-1)` standard normal matrix, and every later point lies in the affine span
    of the fitted ones (the real sample's, with ``lam``). The exact method draws
    :math:`G=QR` and runs the chain in the coordinates :math:`Q` of that span, where it is
    the :math:`(n-1)`-dimensional chain with a non-singular scatter (Bartlett with
    :math:`n-1` degrees of freedom for the fully synthetic chain; the mixed kernels with real
    scatter :math:`RR^\top`), then maps means and covariances back by :math:`Q`. The samples
    method factors the singular fit exactly (the centred points, or a pivoted Cholesky of
    known rank) and draws the points from it.

    Examples
    --------
    >>> from selfconsume.simulators import simulate_gaussian
    >>> res = simulate_gaussian(10, 5, reps=3, rng=0)
    >>> res.sigma.shape
    (3, 6)
    >>> bool((res.sigma[:, 0] == 1.0).all())
    True
    """
    workflow = check_choice("workflow", workflow, WORKFLOWS)
    n = check_int("n", n, min_value=1 if workflow == "fresh" else 2)
    generations = check_int("generations", generations, min_value=0)
    reps = check_int("reps", reps, min_value=1)
    dim = check_int("dim", dim, min_value=1)
    mu0 = check_real("mu0", mu0)
    sigma0, chol0 = _check_sigma0(sigma0, dim)
    bias = check_real("bias", bias, min_value=0.0, max_value=1.0, min_inclusive=False)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    method = check_choice("method", method, METHODS)
    if workers is not None:
        check_int("workers", workers, min_value=1)
    if n_init is not None:
        if workflow != "fresh":
            raise ValueError(f"n_init is the generation-0 real sample size of workflow='fresh'; got "
                             f"n_init={n_init!r} with workflow={workflow!r}")
        n_init = check_int("n_init", n_init, min_value=2)
    if subsample is not None:
        if workflow != "accumulate-subsample":
            raise ValueError(f"subsample is the subsample size of workflow='accumulate-subsample'; got "
                             f"subsample={subsample!r} with workflow={workflow!r}")
        subsample = check_int("subsample", subsample, min_value=2)
    per_gen = 3 if dim == 1 else dim + 2 + (dim * dim if return_cov else 0)
    check_memory("the output (reps × (generations + 1) paths)", reps * (generations + 1) * per_gen,
                 names="reps, generations" if dim == 1 else "reps, generations, dim")
    if method == "samples" and lam is None and workflow == "replace":  # the literal loop holds n points
        check_memory("a block of 8 replicates' samples", 8 * n * dim, names="n" if dim == 1 else "n, dim")
    if lam is not None or truth is not None or workflow != "replace":
        return _simulate_mixed(n, generations, reps, dim, mu0, sigma0, estimator, method, lam, workflow,
                               truth, rng, workers, progress, return_cov, subsample, bias, chol0, n_init)
    gen = as_generator(rng)
    seed = seed_info(gen)
    divisor = float(n - 1 if estimator == "unbiased" else n)
    T1 = generations + 1
    blocks = chain_blocks(reps, n, generations, dim, method)

    if dim == 1:
        # One allocation for the three outputs: freeing three large arrays returns them to
        # the OS and the next call page-faults them in again.
        L, M, S = np.empty((3, reps, T1))

        def work(b, g):
            sl = slice(b.start, b.stop)
            chain_1d_block(method, g, n, divisor, L[sl], M[sl], S[sl], mu0, sigma0, bias)

        run_blocks(work, blocks, gen, workers=workers, progress=progress, desc="gaussian chain")
        return GaussianChain(n, generations, reps, dim, mu0, sigma0, estimator, method, seed,
                             mu=readonly(M), sigma=readonly(S), log_sigma=readonly(L), bias=bias)

    M = np.empty((reps, T1, dim))
    logdet = np.empty((reps, T1))
    trace = np.empty((reps, T1))
    cov = np.empty((reps, T1, dim, dim)) if return_cov else np.empty((1, 1, 1, 1))
    ok = np.ones(len(blocks), dtype=bool)
    C0, s0, hld0 = _start_factor(chol0, dim)

    def work(b, g):
        sl = slice(b.start, b.stop)
        c = cov[sl] if return_cov else cov
        if n <= dim and method == "exact":
            _lowrank_exact_block(g, n, divisor, M[sl], logdet[sl], trace[sl], c, return_cov, bias, chol0)
        elif n <= dim:
            _k.gaussnd_samples_lowrank(g, n, divisor, M[sl], logdet[sl], trace[sl], c, return_cov, bias, C0, s0)
        elif method == "exact":
            _k.gaussnd_exact(g, n, divisor, M[sl], logdet[sl], trace[sl], c, return_cov, bias, C0, s0, hld0)
        else:
            ok[b.index] = _k.gaussnd_samples(g, n, divisor, M[sl], logdet[sl], trace[sl], c, return_cov, bias,
                                             C0, s0, hld0)

    run_blocks(work, blocks, gen, workers=workers, progress=progress, desc="gaussian chain")
    if not ok.all():  # probability 0 for n > d; reported rather than returning garbage
        raise FloatingPointError("a sample scatter matrix was numerically singular; the samples method cannot continue")
    if chol0 is not None:  # the kernels ran in the original coordinates (from C0 = chol Σ_0)
        return GaussianChain(n, generations, reps, dim, mu0, sigma0, estimator, method, seed,
                             mu=readonly(mu0 + M), logdet=readonly(logdet), trace=readonly(trace),
                             cov=readonly(cov) if return_cov else None, bias=bias)
    mu = mu0 + sigma0 * M
    logdet = logdet + 2.0 * dim * math.log(sigma0)
    trace = trace * sigma0**2
    return GaussianChain(n, generations, reps, dim, mu0, sigma0, estimator, method, seed,
                         mu=readonly(mu), logdet=readonly(logdet), trace=readonly(trace),
                         cov=readonly(cov * sigma0**2) if return_cov else None, bias=bias)


def _check_sigma0(sigma0, dim):
    """``sigma0`` as (scalar σ_0, None) or, for a (dim, dim) covariance, (the read-only matrix, its
    lower Cholesky factor); a clear error for anything else."""
    if np.ndim(sigma0) == 0 and not isinstance(sigma0, np.ndarray):
        return check_real("sigma0", sigma0, min_value=0.0, min_inclusive=False), None
    try:
        S0 = np.array(sigma0, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"sigma0 must be a positive number or a ({dim}, {dim}) covariance matrix; got {sigma0!r}") from exc
    if S0.ndim == 0:
        return check_real("sigma0", float(S0), min_value=0.0, min_inclusive=False), None
    if S0.shape != (dim, dim):
        raise ValueError(f"sigma0 must be a positive number or a (dim, dim) = ({dim}, {dim}) covariance matrix; "
                         f"got shape {S0.shape}")
    if not np.all(np.isfinite(S0)):
        raise ValueError("sigma0 must be a finite covariance matrix; it has non-finite entries")
    if not np.allclose(S0, S0.T, rtol=1e-12, atol=0.0):
        raise ValueError("sigma0 must be a symmetric covariance matrix; it is not symmetric")
    S0 = 0.5 * (S0 + S0.T)
    try:
        A = np.linalg.cholesky(S0)
    except np.linalg.LinAlgError:
        A = None
    if A is None or not np.all(np.diag(A) > 0) or not np.all(np.isfinite(A)):
        lo = float(np.linalg.eigvalsh(S0)[0])
        raise ValueError(f"sigma0 must be positive definite; its smallest eigenvalue is {lo:.3g}")
    if dim == 1:
        return float(A[0, 0]), None
    return readonly(S0), A


def _start_factor(chol0, dim):
    """(C0, s0, ½ log det Σ_0) for the d-D kernels: Σ_0 = e^{2 s0} C0 C0ᵀ with max|C0| = 1 (the
    identity and zeros in standardised units)."""
    if chol0 is None:
        return np.eye(dim), 0.0, 0.0
    mx = float(np.abs(chol0).max())
    C0 = np.ascontiguousarray(chol0 / mx)
    return C0, math.log(mx), float(np.log(np.diag(C0)).sum() + dim * math.log(mx))


def _span_coordinates(g, rows, n, dim, chol0=None):
    """The scatter of n ≤ dim standard normal points, G Gᵀ with G (rows, dim, n − 1) standard normal,
    as G = Q R: orthonormal coordinates Q of its span and R Rᵀ, the scatter in them. With ``chol0``
    = A the points are N(0, A Aᵀ): the same for A G."""
    G = g.standard_normal((rows, dim, n - 1))
    if chol0 is not None:
        G = chol0 @ G
    Q, R = np.linalg.qr(G)
    return Q, R @ np.swapaxes(R, 1, 2)


def _lowrank_exact_block(g, n, divisor, M, logdet, trace, cov, want_cov, bias=1.0, chol0=None):
    """One block of the exact fully synthetic chain for n ≤ d (standardised units, or the original
    coordinates from ``chol0`` = chol Σ_0).

    Generation 1 is the fit to n points of N(0, b Σ_0): mean x̄ ~ N(0, b Σ_0/n), scatter
    b (A G)(A G)ᵀ (rank r = n − 1, A = chol Σ_0); the rest runs in the coordinates of its span
    (:func:`_k.gaussnd_exact_lowrank`)."""
    rows, T1, dim = M.shape
    r = n - 1
    M[:, 0] = 0.0
    S0 = np.eye(dim) if chol0 is None else chol0 @ chol0.T
    logdet[:, 0] = 0.0 if chol0 is None else 2.0 * np.log(np.diag(chol0)).sum()
    trace[:, 0] = dim if chol0 is None else np.trace(S0)
    if want_cov:
        cov[:, 0] = S0
    if T1 < 2:
        return
    xbar = g.standard_normal((rows, dim)) / math.sqrt(n)
    Q, S1 = _span_coordinates(g, rows, n, dim, chol0)
    if bias != 1.0:
        xbar *= math.sqrt(bias)
        S1 *= bias
    if chol0 is not None:
        xbar = xbar @ chol0.T
    C1 = np.linalg.cholesky(S1 / divisor)
    Mr = np.empty((rows, T1, r))
    covr = np.empty((rows, T1, r, r)) if want_cov else np.empty((1, 1, 1, 1))
    _k.gaussnd_exact_lowrank(g, n, divisor, C1, Mr, logdet, trace, covr, want_cov, bias)
    M[:, 1:] = xbar[:, None, :] + Mr[:, 1:] @ np.swapaxes(Q, 1, 2)
    if want_cov:
        cov[:, 1:] = Q[:, None] @ covr[:, 1:] @ np.swapaxes(Q, 1, 2)[:, None]


def _describe_truth(truth) -> str:
    if isinstance(getattr(truth, "name", None), str):
        return truth.name
    dist = getattr(truth, "dist", None)
    name = getattr(dist, "name", type(truth).__name__)
    args = ", ".join([*(f"{a:g}" for a in getattr(truth, "args", ())),
                      *(f"{k}={v:g}" for k, v in getattr(truth, "kwds", {}).items())])
    return f"{name}({args})"


def _check_truth(truth):
    if not (hasattr(truth, "rvs") and hasattr(truth, "var") and hasattr(truth, "mean")):
        raise TypeError(f"truth must be a frozen scipy.stats continuous distribution; got {truth!r}")
    if getattr(truth, "dist", None) is not None and not hasattr(truth.dist, "pdf"):
        raise TypeError(f"truth must be a continuous distribution (a Gaussian is fitted to it); got {truth!r}")
    var, mean = float(truth.var()), float(truth.mean())
    if not (math.isfinite(var) and math.isfinite(mean)) or var <= 0:
        raise ValueError(
            f"truth must have a finite mean and a finite positive variance (the Gaussian fit needs "
            f"both); {_describe_truth(truth)} has mean {mean} and variance {var}"
        )
    return mean, math.sqrt(var)


def _simulate_mixed(n, generations, reps, dim, mu0, sigma0, estimator, method, lam, workflow, truth, rng,
                    workers, progress, return_cov=False, subsample=None, bias=1.0, chol0=None, n_init=None):
    if lam is None:
        raise ValueError(f"lam must be a real number >= 0 when workflow={workflow!r} or a truth is given "
                         "(synthetic points per generation = floor(lam * n)); got None")
    lam = check_lam(lam)
    if dim != 1 and truth is not None:
        raise ValueError(f"truth must be None when dim > 1 (the real data are N(mu0·1, Σ_0)); got {truth!r}")
    if workflow == "fresh" and truth is not None:
        raise ValueError(f"truth must be None for workflow='fresh' (fresh real data are drawn every generation "
                         f"from N(mu0, Σ_0)); got {truth!r}")
    if workflow == "accumulate-subsample" and method == "exact":
        raise ValueError("method must be 'samples' for workflow='accumulate-subsample': a random subsample's "
                         "statistics are not functions of the batches' sufficient statistics")
    if truth is None:
        # Standardised real data z; mapped back exactly by mu0 + sigma0·(·) below.
        draw_real = lambda g, size: g.standard_normal(size)  # noqa: E731
        shift, scale, tname = mu0, sigma0, "gaussian"
    else:
        mu0, sigma0 = _check_truth(truth)
        draw_real = lambda g, size: np.asarray(truth.rvs(size=size, random_state=g), dtype=float)  # noqa: E731
        shift, scale, tname = 0.0, 1.0, _describe_truth(truth)
    m = int(math.floor(lam * n + 1e-9))  # ⌊λn⌋, robust to λn = 1.9999999 from decimal λ
    sb = math.sqrt(bias)
    if workflow == "fresh":
        n_init = n if n_init is None else n_init
        if n + m < 2:
            raise ValueError(f"workflow='fresh' fits n + m = n + floor(lam·n) points per generation, which must be "
                             f">= 2; got n={n}, lam={lam} (m={m})")
        if n_init < 2:
            raise ValueError(f"n_init must be an integer >= 2 (the generation-0 fit); got {n_init} (default n = {n})")
        if dim > 1 and n + m <= dim:
            raise ValueError(f"workflow='fresh' with dim={dim} needs n + m > dim (a non-singular pooled fit); got "
                             f"n + m = {n + m}")
    k = None
    if workflow == "accumulate-subsample":
        k = n if subsample is None else subsample
        if k > n + m:
            raise ValueError(f"subsample must be an integer in [2, n + m] = [2, {n + m}]: the pool holds n + m = "
                             f"{n} + {m} points at the first subsampled fit (generation 1, m = floor(lam·n)); got {k}")
    if method == "samples":  # the literal loops hold the points (accumulate: the whole growing pool)
        pool = n + m * (generations if workflow not in ("replace", "fresh") else 1) + (n_init or 0)
        check_memory("a block of 8 replicates' samples", 8 * pool * dim, names="n, lam, generations")
    elif truth is not None:  # a non-Gaussian real sample is drawn point by point
        check_memory("a block of 8 replicates' real samples", 8 * n, names="n")
    unbiased = estimator == "unbiased"
    gen = as_generator(rng)
    seed = seed_info(gen)
    T1 = generations + 1
    if dim > 1:
        return _simulate_mixed_nd(n, m, generations, reps, dim, mu0, sigma0, estimator, method, lam, workflow,
                                  gen, seed, workers, progress, return_cov, k, bias, chol0, n_init)
    if workflow == "fresh":
        return _simulate_fresh_1d(n, m, n_init, generations, reps, mu0, sigma0, estimator, method, lam, bias,
                                  gen, seed, workers, progress)
    L = np.empty((reps, T1))
    M = np.empty((reps, T1))
    real_mean = np.empty(reps)
    real_ss = np.empty(reps)

    def work(b, g):
        sl = slice(b.start, b.stop)
        rows = b.stop - b.start
        if method == "exact" and truth is None:
            # the Gaussian real sample through its sufficient statistics, like the synthetic batches:
            # x̄ ~ N(0, 1/n) and the scatter ~ χ²_{n−1}, independent (memory and time O(1) in n)
            real_mean[sl] = g.standard_normal(rows) / math.sqrt(n)
            real_ss[sl] = g.chisquare(n - 1, rows)
        else:
            x = draw_real(g, (rows, n))
            if not np.all(np.isfinite(x)):
                raise FloatingPointError("the truth produced non-finite real samples")
            real_mean[sl] = x.mean(axis=1)
            real_ss[sl] = ((x - real_mean[sl, None]) ** 2).sum(axis=1)
        if method == "exact":
            kern = _mk.replace_exact if workflow == "replace" else _mk.accumulate_exact
            kern(g, m, unbiased, real_mean[sl], real_ss[sl], n, L[sl], M[sl], sb)
        else:
            if workflow == "accumulate-subsample":
                _mk.subsample_samples(g, m, k, unbiased, np.ascontiguousarray(x), L[sl], M[sl], sb)
            else:
                kern = _mk.replace_samples if workflow == "replace" else _mk.accumulate_samples
                kern(g, m, unbiased, np.ascontiguousarray(x), L[sl], M[sl], sb)

    unit = 1.0 if method == "exact" else (m + (k if workflow == "accumulate-subsample" else 0)) / 4.0
    blocks = replicate_blocks(reps, block_reps((generations + 1) * max(unit, 1.0) + n))
    run_blocks(work, blocks, gen, workers=workers, progress=progress, desc=f"gaussian {workflow}")
    log_scale = math.log(scale)
    return GaussianChain(
        n, generations, reps, 1, mu0, sigma0, estimator, method, seed,
        mu=readonly(shift + scale * M), sigma=readonly(scale * np.exp(L)), log_sigma=readonly(L + log_scale),
        lam=lam, workflow=workflow, truth=tname,
        real_mean=readonly(shift + scale * real_mean),
        real_sigma=readonly(scale * np.sqrt(real_ss / (n - 1 if unbiased else n))), subsample=k, bias=bias,
    )


def _simulate_fresh_1d(n, m, n_init, generations, reps, mu0, sigma0, estimator, method, lam, bias, gen, seed,
                       workers, progress):
    """The 1-D fresh-data loop in standardised units (real law N(0, 1)), mapped back by μ_0 + σ_0·(·).

    Generation 0 is the fit to ``n_init`` real points: exact, through x̄ ~ N(0, 1/n_init) and
    the scatter ~ χ²_{n_init−1}; literal, the points themselves. ``real_mean``/``real_sigma``
    are that first fit's."""
    unbiased = estimator == "unbiased"
    sb = math.sqrt(bias)
    T1 = generations + 1
    L = np.empty((reps, T1))
    M = np.empty((reps, T1))
    init_mean = np.empty(reps)
    init_ss = np.empty(reps)

    def work(b, g):
        sl = slice(b.start, b.stop)
        rows = b.stop - b.start
        if method == "exact":
            init_mean[sl] = g.standard_normal(rows) / math.sqrt(n_init)
            init_ss[sl] = g.chisquare(n_init - 1, rows)
            _mk.fresh_exact(g, n, m, unbiased, sb, init_mean[sl], init_ss[sl], n_init, L[sl], M[sl])
        else:
            x = g.standard_normal((rows, n_init))
            init_mean[sl] = x.mean(axis=1)
            init_ss[sl] = ((x - init_mean[sl, None]) ** 2).sum(axis=1)
            _mk.fresh_samples(g, n, m, unbiased, sb, x, L[sl], M[sl])

    unit = 2.0 if method == "exact" else (n + m) / 4.0
    blocks = replicate_blocks(reps, block_reps((generations + 1) * max(unit, 1.0) + n_init))
    run_blocks(work, blocks, gen, workers=workers, progress=progress, desc="gaussian fresh")
    return GaussianChain(
        n, generations, reps, 1, mu0, sigma0, estimator, method, seed,
        mu=readonly(mu0 + sigma0 * M), sigma=readonly(sigma0 * np.exp(L)), log_sigma=readonly(L + math.log(sigma0)),
        lam=lam, workflow="fresh", truth="gaussian", real_mean=readonly(mu0 + sigma0 * init_mean),
        real_sigma=readonly(sigma0 * np.sqrt(init_ss / (n_init - 1 if unbiased else n_init))),
        bias=bias, n_init=n_init,
    )


def _simulate_mixed_nd(n, m, generations, reps, dim, mu0, sigma0, estimator, method, lam, workflow, gen, seed,
                       workers, progress, return_cov, k=None, bias=1.0, chol0=None, n_init=None):
    """d-dimensional real-data loops (truth N(mu0·1, Σ_0)).

    With a scalar ``sigma0`` the kernels run in standardised units (Σ_0 = I) and the outputs are
    mapped back by μ_0 + σ_0·(·); with a covariance (``chol0`` = A = chol Σ_0) the real data are
    drawn as A z and the chain runs in the original coordinates. With n ≤ d and
    ``method="exact"`` the real sample is drawn as x̄ and A G = Q R (its scatter) and the chain runs
    in the (n − 1)-dimensional coordinates Q of its span, where the real scatter R Rᵀ is
    non-singular; means and covariances are mapped back by Q."""
    T1 = generations + 1
    unbiased = estimator == "unbiased"
    sb = math.sqrt(bias)
    M = np.empty((reps, T1, dim))
    logdet = np.empty((reps, T1))
    trace = np.empty((reps, T1))
    cov = np.empty((reps, T1, dim, dim)) if return_cov else np.empty((1, 1, 1, 1))
    n_real = n_init if workflow == "fresh" else n
    real_mean = np.empty((reps, dim))
    real_cov = np.empty((reps, dim, dim))
    ok = np.ones(reps, dtype=bool)
    code = {"replace": 0, "accumulate": 1, "accumulate-subsample": 2, "fresh": 3}[workflow]
    A = np.eye(dim) if chol0 is None else np.ascontiguousarray(chol0)

    lowrank = n <= dim and method == "exact" and code != 3

    def work(b, g):
        sl = slice(b.start, b.stop)
        rows = b.stop - b.start
        if lowrank:
            _mixed_lowrank_block(g, n, m, unbiased, workflow == "accumulate", M[sl], logdet[sl], trace[sl],
                                 cov[sl] if return_cov else None, real_mean[sl], real_cov[sl], sb, chol0)
            return
        if method == "exact":
            # the real sample through its sufficient statistics: x̄ ~ N(0, I/n) and, independent,
            # the scatter ~ W_d(I, n − 1) by Bartlett's decomposition A Aᵀ (A lower triangular,
            # A_ii² ~ χ²_{n−1−i}, A_ij ~ N(0, 1) below the diagonal); then mapped by chol Σ_0
            xm = g.standard_normal((rows, dim)) / math.sqrt(n_real)
            if n_real <= dim:  # fresh, generation 0 singular: the scatter G Gᵀ of rank n_init − 1
                Bt = g.standard_normal((rows, dim, n_real - 1))
            else:
                Bt = np.zeros((rows, dim, dim))
                idx = np.arange(dim)
                Bt[:, idx, idx] = np.sqrt(g.chisquare(n_real - 1 - idx, (rows, dim)))
                lo = np.tril_indices(dim, -1)
                Bt[:, lo[0], lo[1]] = g.standard_normal((rows, lo[0].size))
            if chol0 is not None:
                xm = xm @ chol0.T
                Bt = chol0 @ Bt
            scatter = np.einsum("rik,rjk->rij", Bt, Bt)
        else:
            x = g.standard_normal((rows, n_real, dim))
            if chol0 is not None:
                x = x @ chol0.T
            xm = x.mean(axis=1)
            xc = x - xm[:, None, :]
            scatter = np.einsum("rai,raj->rij", xc, xc)
        real_mean[sl] = xm
        real_cov[sl] = scatter / (n_real - 1 if unbiased else n_real)
        c = cov[sl] if return_cov else cov
        if code == 3 and method == "exact":
            ok[b.start] = _mnd.mixnd_fresh_exact(g, n, m, unbiased, sb, A, np.ascontiguousarray(xm),
                                                 np.ascontiguousarray(scatter), n_real, M[sl], logdet[sl], trace[sl],
                                                 c, return_cov)
        elif code == 3:
            ok[b.start] = _mnd.mixnd_fresh_samples(g, n, m, unbiased, sb, A, np.ascontiguousarray(x), M[sl],
                                                   logdet[sl], trace[sl], c, return_cov)
        elif method == "exact":
            ok[b.start] = _mnd.mixnd_exact(g, m, unbiased, workflow == "accumulate", xm, scatter, n, M[sl],
                                           logdet[sl], trace[sl], c, return_cov, sb)
        else:
            ok[b.start] = _mnd.mixnd_samples(g, m, n + m if k is None else k, unbiased, code,
                                             np.ascontiguousarray(x), M[sl], logdet[sl], trace[sl], c, return_cov, sb)

    per_gen = (2.0 if code == 3 else 1.0) if method == "exact" else max(m, 1) + (k if code == 2 else 0) + (n if code == 3 else 0)
    unit = dim * dim * per_gen
    blocks = replicate_blocks(reps, block_reps((generations + 1) * unit + n_real * dim * dim))
    run_blocks(work, blocks, gen, workers=workers, progress=progress, desc=f"gaussian {workflow}, d={dim}",
               blas=code == 2 and method == "samples")
    if not ok.all():  # probability 0 for n > d; reported rather than returning garbage
        raise FloatingPointError("a scatter matrix was numerically singular; the chain cannot continue")
    extra = dict(lam=lam, workflow=workflow, truth="gaussian", subsample=k, bias=bias, n_init=n_init)
    if chol0 is not None:
        return GaussianChain(
            n, generations, reps, dim, mu0, sigma0, estimator, method, seed,
            mu=readonly(mu0 + M), logdet=readonly(logdet), trace=readonly(trace),
            cov=readonly(cov) if return_cov else None,
            real_mean=readonly(mu0 + real_mean), real_cov=readonly(real_cov), **extra,
        )
    s2 = sigma0**2
    return GaussianChain(
        n, generations, reps, dim, mu0, sigma0, estimator, method, seed,
        mu=readonly(mu0 + sigma0 * M), logdet=readonly(logdet + 2.0 * dim * math.log(sigma0)),
        trace=readonly(trace * s2), cov=readonly(cov * s2) if return_cov else None,
        real_mean=readonly(mu0 + sigma0 * real_mean), real_cov=readonly(real_cov * s2), **extra,
    )


def _mixed_lowrank_block(g, n, m, unbiased, accumulate, M, logdet, trace, cov, real_mean, real_cov, sb=1.0,
                         chol0=None):
    """One block of the exact d-D replace/accumulate chain for n ≤ d (standardised units, or the
    original coordinates from ``chol0``)."""
    rows, T1, dim = M.shape
    r = n - 1
    xbar = g.standard_normal((rows, dim)) / math.sqrt(n)
    if chol0 is not None:
        xbar = xbar @ chol0.T
    Q, Sr = _span_coordinates(g, rows, n, dim, chol0)
    Qt = np.swapaxes(Q, 1, 2)
    real_mean[:] = xbar
    real_cov[:] = Q @ (Sr / (n - 1 if unbiased else n)) @ Qt
    Mr = np.empty((rows, T1, r))
    covr = np.empty((rows, T1, r, r)) if cov is not None else np.empty((1, 1, 1, 1))
    if not _mnd.mixnd_exact(g, m, unbiased, accumulate, np.zeros((rows, r)), Sr, n, Mr, logdet, trace, covr,
                            cov is not None, sb):
        raise FloatingPointError("a scatter matrix was numerically singular in the real sample's span; "
                                 "the chain cannot continue")
    logdet[:] = -np.inf
    M[:] = xbar[:, None, :] + Mr @ Qt
    if cov is not None:
        cov[:] = Q[:, None] @ covr @ Qt[:, None]
