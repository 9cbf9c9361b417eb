r"""Learners for the retraining loop: one small protocol, three reference models.

A learner follows scikit-learn's estimator habits:

* hyper-parameters in ``__init__``, never changed by ``fit``;
* ``fit(X, random_state=None) -> self`` on an ``(n, d)`` array (``random_state`` seeds any
  random initialisation; a learner may warm-start from its previous fit, as the papers
  fine-tune the previous generation's model);
* ``random_state``: None, an int seed >= 0, a numpy ``SeedSequence``, ``BitGenerator``,
  ``Generator`` (used as is, so a caller's stream advances) or legacy ``RandomState``; anything
  else (a negative or fractional seed, a bool, a string) is refused with an error naming
  ``random_state``;
* fitted state in attributes ending in ``_``;
* ``sample(n, random_state=None) -> (n, d)`` array;
* optional ``log_prob(X) -> (n,)`` (the name torch.distributions and zuko use).

:func:`selfconsume.simulators.retrain` clones the learner once per replicate (``clone()``),
so replicates never share fitted state. The reference learners:

* :class:`GaussianLearner` — :math:`N(\hat\mu,\hat\Sigma)` by maximum likelihood (``ddof=1`` by
  default, the toolkit's unbiased refit);
* :class:`MixtureLearner` — a Gaussian mixture with full covariances by EM (k-means++ start,
  warm-started afterwards); agrees with scikit-learn's ``GaussianMixture`` started from the
  same parameters (tested);
* :class:`KDELearner` — a Gaussian kernel density estimate with a fixed bandwidth; its
  ``log_prob`` equals scikit-learn's ``KernelDensity.score_samples`` (tested).
"""

from __future__ import annotations

import copy
import math

import numpy as np

from selfconsume._lazy import lazy
from selfconsume._parallel import as_generator
from selfconsume._validation import check_choice, check_int, check_memory, check_points, check_real

from ._learners_kernels import em_fit, lloyd, mixture_log_joint

linalg, special = lazy("scipy.linalg"), lazy("scipy.special")

__all__ = ["GaussianLearner", "MixtureLearner", "KDELearner", "check_learner"]

#: Lloyd (k-means) iterations after the k-means++ seeding of a cold EM start.
_LLOYD_ITER = 20


def _points(X, name="X", min_rows=1):
    return check_points(name, X, min_rows=min_rows)


def _generator(random_state) -> np.random.Generator:
    """``random_state`` as a Generator; errors name ``random_state``.

    A Generator is used as is (the caller's stream advances, as :func:`retrain` relies on);
    everything else goes through :func:`selfconsume._parallel.as_generator` (an int seed gives
    the same stream as ``numpy.random.default_rng(seed)``).
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    try:
        return as_generator(random_state)
    except (TypeError, ValueError) as exc:
        msg = str(exc)
        if msg.startswith("rng "):
            msg = "random_state " + msg[len("rng "):]
        raise type(exc)(msg) from None


def _check_random_state(random_state) -> None:
    """Validate ``random_state`` where it is not drawn from, without advancing a caller's generator."""
    if not isinstance(random_state, (np.random.Generator, np.random.RandomState, np.random.BitGenerator)):
        _generator(random_state)  # None, a seed or a SeedSequence: building a Generator consumes nothing


def _sample_size(n, values_per_point: int, dim: int) -> int:
    """``n`` (points to draw) as an int >= 0, refused when the draw cannot fit in memory."""
    n = check_int("n", n, min_value=0)
    check_memory(f"a sample of n = {n} points in d = {dim} dimensions", n * values_per_point, names="n")
    return n


class _Base:
    def clone(self):
        """An unfitted copy with the same hyper-parameters."""
        new = copy.copy(self)
        for k in list(vars(new)):
            if k.endswith("_"):
                delattr(new, k)
        return new

    def _check_fitted(self):
        if not hasattr(self, "dim_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(X) first")


def check_learner(learner):
    """``learner`` if it has ``fit`` and ``sample`` (and ``clone`` or is deep-copyable), else TypeError."""
    if not (callable(getattr(learner, "fit", None)) and callable(getattr(learner, "sample", None))):
        raise TypeError(f"learner must have fit(X) and sample(n, random_state) (see GaussianLearner); got {learner!r}")
    return learner


class GaussianLearner(_Base):
    """:math:`N(\\hat\\mu,\\hat\\Sigma)` fitted by the sample mean and covariance.

    Parameters
    ----------
    estimator : {"unbiased", "mle"}
        Covariance divisor n − 1 or n.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> g = GaussianLearner().fit(rng.normal(size=(500, 2)))
    >>> g.mean_.shape, g.cov_.shape, g.sample(3, random_state=1).shape
    ((2,), (2, 2), (3, 2))
    """

    def __init__(self, estimator="unbiased"):
        self.estimator = check_choice("estimator", estimator, ("unbiased", "mle"))

    def fit(self, X, random_state=None):
        X = _points(X, min_rows=2)
        _check_random_state(random_state)  # not used (the fit is deterministic), but validated
        self.dim_ = X.shape[1]
        self.mean_ = X.mean(axis=0)
        self.cov_ = np.atleast_2d(np.cov(X, rowvar=False, ddof=1 if self.estimator == "unbiased" else 0))
        jitter = 0.0
        while True:  # a collapsed fit (σ → 0) stays sampleable
            try:
                self.chol_ = np.linalg.cholesky(self.cov_ + jitter * np.eye(self.dim_))
                break
            except np.linalg.LinAlgError:
                jitter = max(jitter * 10, 1e-300)
        return self

    def sample(self, n, random_state=None):
        self._check_fitted()
        n = _sample_size(n, 3 * self.dim_, self.dim_)  # the normals, their transform and the result
        g = _generator(random_state)
        return self.mean_ + g.standard_normal((n, self.dim_)) @ self.chol_.T

    def log_prob(self, X):
        self._check_fitted()
        X = _points(X)
        y = linalg.solve_triangular(self.chol_, (X - self.mean_).T, lower=True)
        return (-0.5 * (y * y).sum(axis=0) - np.log(np.diag(self.chol_)).sum()
                - 0.5 * self.dim_ * math.log(2 * math.pi))


class MixtureLearner(_Base):
    """A Gaussian mixture with full covariances, fitted by EM.

    The first fit starts from greedy k-means++ centres (drawn with ``random_state``) refined by up to
    20 Lloyd (k-means) steps and a hard assignment — the best of ``n_init`` such starts by mean log-likelihood, as scikit-learn's
    ``n_init`` (one start can leave two modes under one component); later fits warm-start from
    the previous parameters (``warm_start=True``),
    like fine-tuning the previous generation. EM stops when the mean log-likelihood changes
    by less than ``tol`` or after ``max_iter`` iterations; ``reg_covar`` is added to every
    covariance diagonal (as in scikit-learn).

    Parameters
    ----------
    components : int
    max_iter : int
    tol : float
    reg_covar : float
    warm_start : bool
    n_init : int
        k-means++ starts of the first (cold) fit; the best is kept.

    Examples
    --------
    >>> from selfconsume.theory import ring_of_gaussians
    >>> X = ring_of_gaussians().rvs(2000, random_state=0)
    >>> m = MixtureLearner(8).fit(X, random_state=0)
    >>> m.weights_.shape, m.means_.shape, m.covariances_.shape
    ((8,), (8, 2), (8, 2, 2))
    """

    def __init__(self, components, *, max_iter=100, tol=1e-6, reg_covar=1e-6, warm_start=True, n_init=1):
        self.components = check_int("components", components, min_value=1)
        self.n_init = check_int("n_init", n_init, min_value=1)
        self.max_iter = check_int("max_iter", max_iter, min_value=1)
        self.tol = check_real("tol", tol, min_value=0.0)
        self.reg_covar = check_real("reg_covar", reg_covar, min_value=0.0)
        self.warm_start = bool(warm_start)

    # -- pieces (the loops are Numba kernels: simulators/_learners_kernels.py)
    def _log_joint(self, X):
        """log w_k + log N(x; m_k, S_k), shape (n, k), all components at once."""
        out = np.empty((X.shape[0], self.components))
        c = np.ascontiguousarray
        mixture_log_joint(c(X, dtype=float), c(self.weights_, dtype=float), c(self.means_, dtype=float),
                          c(self.chol_, dtype=float), out)
        return out

    def _m_step(self, X, resp):
        """Parameters from responsibilities ``resp`` (the cold start's hard assignment; NumPy: it runs
        once per cold fit, and a compiled twin would cost more to compile than it saves)."""
        nk = resp.sum(axis=0) + 10 * np.finfo(float).eps
        self.weights_ = nk / X.shape[0]
        self.means_ = (resp.T @ X) / nk[:, None]
        d = X.shape[1]
        c = X[None, :, :] - self.means_[:, None, :]  # (k, n, d)
        covs = np.matmul(np.swapaxes(resp.T[:, :, None] * c, 1, 2), c) / nk[:, None, None]
        covs[:, np.arange(d), np.arange(d)] += self.reg_covar
        self.covariances_ = covs
        chol = np.empty_like(covs)
        for k in range(self.components):
            try:
                chol[k] = np.linalg.cholesky(covs[k])
            except np.linalg.LinAlgError:
                self._raise_unless(False)
        self.chol_ = chol

    def _raise_unless(self, ok):
        if not ok:
            raise ValueError(f"EM produced a covariance that is not positive definite (a component collapsed onto "
                             f"fewer than d + 1 distinct points); raise reg_covar (now {self.reg_covar:g}) or lower "
                             f"components (now {self.components})")

    def _init(self, X, rng):
        n = X.shape[0]
        centres = [X[rng.integers(n)]]
        d2 = ((X - centres[0]) ** 2).sum(axis=1)
        trials = 2 + int(math.log(self.components))  # greedy k-means++ (as scikit-learn): best of a few draws
        for _ in range(1, self.components):
            p = d2 / d2.sum() if d2.sum() > 0 else np.full(n, 1.0 / n)
            cand = X[rng.choice(n, size=trials, p=p)]
            pot = np.minimum(d2[None, :], ((X[None, :, :] - cand[:, None, :]) ** 2).sum(axis=2))
            best = int(pot.sum(axis=1).argmin())
            centres.append(cand[best])
            d2 = pot[best]
        C = np.array(centres)
        lab = np.empty(n, dtype=np.int64)
        lloyd(X, C, _LLOYD_ITER, lab)  # a few k-means (Lloyd) steps from the k-means++ seeds, as scikit-learn
        resp = np.zeros((n, self.components))
        resp[np.arange(n), lab] = 1.0
        self._m_step(X, resp)

    def fit(self, X, random_state=None):
        X = np.ascontiguousarray(_points(X))
        if X.shape[0] < self.components:
            raise ValueError(f"X must have at least components = {self.components} points for EM; got {X.shape[0]}")
        _check_random_state(random_state)  # also when warm-starting, where it is not used
        if not (self.warm_start and hasattr(self, "means_") and self.means_.shape[1] == X.shape[1]):
            rng = _generator(random_state)
            if self.n_init > 1:
                best, score = None, -np.inf
                for _ in range(self.n_init):
                    cand = self.clone()
                    cand.n_init = 1
                    cand.fit(X, random_state=rng)
                    s = float(np.mean(cand.log_prob(X)))
                    if s > score:
                        best, score = cand, s
                vars(self).update({k: v for k, v in vars(best).items() if k.endswith("_")})
                return self
            self._init(X, rng)
        self.dim_ = X.shape[1]
        # fresh arrays: a fitted model handed out earlier (retrain's records, a user's copy) is never mutated
        w, m = self.weights_.copy(), self.means_.copy()
        cv, ch = self.covariances_.copy(), self.chol_.copy()
        it, conv, _, ok = em_fit(X, w, m, cv, ch, self.max_iter, self.tol, self.reg_covar)
        self._raise_unless(ok)
        self.weights_, self.means_, self.covariances_, self.chol_ = w, m, cv, ch
        self.n_iter_, self.converged_ = int(it), bool(conv)
        return self

    def sample(self, n, random_state=None):
        self._check_fitted()
        d = self.dim_
        n = _sample_size(n, 1 + 3 * d + d * d, d)  # labels, normals, gathered factors (n, d, d), result
        g = _generator(random_state)
        k = g.choice(self.components, size=n, p=self.weights_ / self.weights_.sum())
        z = g.standard_normal((n, self.dim_))
        return self.means_[k] + np.einsum("nij,nj->ni", self.chol_[k], z)

    def log_prob(self, X):
        self._check_fitted()
        return special.logsumexp(self._log_joint(_points(X)), axis=1)


class KDELearner(_Base):
    """A Gaussian kernel density estimate with bandwidth ``bandwidth`` (fixed, isotropic).

    Sampling picks a training point uniformly and adds :math:`N(0, h^2I)`: every fully
    synthetic generation convolves the law with the kernel, so the KDE loop spreads (its
    covariance grows by :math:`h^2I` per generation in the population limit).

    Examples
    --------
    >>> k = KDELearner(0.2).fit(np.zeros((10, 2)))
    >>> k.sample(4, random_state=0).shape
    (4, 2)
    """

    def __init__(self, bandwidth):
        self.bandwidth = check_real("bandwidth", bandwidth, min_value=0.0, min_inclusive=False)

    def fit(self, X, random_state=None):
        X = _points(X)
        _check_random_state(random_state)  # not used (the fit is deterministic), but validated
        self.points_ = X.copy()
        self.dim_ = X.shape[1]
        return self

    def sample(self, n, random_state=None):
        self._check_fitted()
        n = _sample_size(n, 1 + 3 * self.dim_, self.dim_)  # indices, picked points, noise, result
        g = _generator(random_state)
        idx = g.integers(self.points_.shape[0], size=n)
        return self.points_[idx] + self.bandwidth * g.standard_normal((n, self.dim_))

    def log_prob(self, X):
        self._check_fitted()
        X = _points(X)
        h2 = self.bandwidth**2
        out = np.empty(X.shape[0])
        step = max(1, 4_000_000 // max(self.points_.shape[0], 1))
        for a in range(0, X.shape[0], step):
            d2 = ((X[a:a + step, None, :] - self.points_[None]) ** 2).sum(axis=2)
            out[a:a + step] = special.logsumexp(-0.5 * d2 / h2, axis=1)
        return out - math.log(self.points_.shape[0]) - 0.5 * self.dim_ * math.log(2 * math.pi * h2)
