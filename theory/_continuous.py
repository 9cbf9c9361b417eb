r"""Curated retraining on densities in any dimension, exact through the law of the reward (``shared/theory.md`` §6).

With :math:`p_0=p_\text{ref}` a density on :math:`\mathbb R^d` and a perfect learner, the curated
chain of Ferbach et al. (2024) keeps the form :math:`p_t(x)=p_0(x)\,g_t(r(x))` with

.. math:: g_{t+1}=g_t\,H^K_{Q_t}\ \text{(fully synthetic)},\qquad
          g_{t+1}=\frac{1+\lambda\,g_tH^K_{Q_t}}{1+\lambda}\ \text{(λ synthetic per real)},\qquad
          Q_t(d\rho)=g_t(\rho)\,Q_0(d\rho),

where :math:`Q_0` is the law of :math:`R=r(X)`, :math:`X\sim p_0` (§6 item 1). So the chain in any
dimension is a one-dimensional problem: :class:`RewardLaw` holds :math:`Q_0` as an atom at the top
reward (mass :math:`P_0(r=r^*)`, for flat-top rewards) plus a double-exponential quadrature of its
continuous part, and :func:`curate_reward_law` runs the chain on it in log space with the exact
:math:`H^K` of :mod:`._curation_kernels` (any :math:`K\ge1` and :math:`K=\infty`). Reward statistics
need no d-dimensional grid, and :meth:`RewardLawChain.log_g` evaluates :math:`g_t` at any reward,
hence :math:`p_t` at any point.

:func:`reward_law` knows :math:`Q_0` in closed form for a Gaussian mixture :math:`p_0` (any d) with
a linear reward (a normal mixture), or, with isotropic components, a quadratic reward (scaled
non-central :math:`\chi^2_d`) or a clipped distance to one centre (an atom plus a transformed
non-central :math:`\chi_d`); :func:`reward_law_from_scipy` takes any 1-D law of :math:`R`.
The accuracy is that of the quadrature (relative ~1e-12 on smooth :math:`g_t`) as long as the
mass stays where the nodes resolve it; :attr:`RewardLawChain.edge_mass` reports the mass on the
outermost nodes (an unbounded reward drives it out, e.g. a linear reward at large t).

Closed forms checked against the chain (§6 items 2–4): :func:`gaussian_tilt` (K = ∞ with a
quadratic or linear reward), :func:`mixture_tilt` (mode selection), :func:`best_of_k_cdf` and
:func:`best_of_k_kl_step` (hard selection), :func:`top_set_kl_constant` (the 1/t decay of
KL(p*‖p_t) to the top set when the reward law has no gap below :math:`r^*`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from selfconsume._validation import check_finite_array, check_int, check_lam, check_memory, check_real

from ._curation_kernels import log_h_levels_gapped as log_h_levels
from ._curation_operator import _check_K
from ._mixture import GaussianMixture, gaussian_mixture
from ._quadrature import _Law
from ._rewards import Reward
from ._targets import logpdf_at_points

__all__ = [
    "RewardLaw", "reward_law", "reward_law_from_scipy",
    "RewardLawChain", "curate_reward_law",
    "gaussian_tilt", "gaussian_tilt_expr", "mixture_tilt",
    "best_of_k_cdf", "best_of_k_kl_step", "best_of_k_kl_step_expr",
    "top_set_kl_constant",
    "curated_gaussian_moments", "expected_kde_trace",
]

#: Masses below this (relative to the total) are not part of the support that H^K sees; their
#: log-mass keeps evolving, so they can come back.
_SUPPORT_FLOOR = 1e-300


# --------------------------------------------------------------------------- the law of the reward


@dataclass(frozen=True, eq=False)
class RewardLaw:
    r"""The law :math:`Q_0` of :math:`R=r(X)`, :math:`X\sim p_0`, as nodes and log-masses.

    Attributes
    ----------
    nodes : ndarray
        Increasing, distinct reward values: quadrature nodes of the continuous part and,
        when ``atom > 0``, the top :math:`r^*` itself.
    logw : ndarray
        Log-masses of the nodes (their exponentials sum to 1).
    top : float or None
        :math:`r^*=\sup r` on the support, when known.
    atom : float
        :math:`P_0(r=r^*)` (0 for rewards without a flat top).
    label : str
    density : callable or None
        Log-density of the continuous part of :math:`Q_0` (for :func:`top_set_kl_constant`).
    """

    nodes: np.ndarray = field(repr=False)
    logw: np.ndarray = field(repr=False)
    top: float | None
    atom: float
    label: str
    density: object = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return self.nodes.size

    def expect(self, f) -> float:
        """:math:`\\mathbb E_{Q_0} f(R)` by the quadrature."""
        return float(np.exp(self.logw) @ np.asarray(f(self.nodes), dtype=float))


def _rule(law: _Law, level: int):
    """Nodes and log-weights of the nested DE rule of ``law`` up to ``level`` (I_L = Σ_j 2^{j-L} S_j)."""
    xs, lws = [], []
    for j in range(level + 1):
        x, w = law.rule_level(j)
        xs.append(x)
        lws.append(np.log(w) + (j - level) * math.log(2.0))
    return np.concatenate(xs), np.concatenate(lws)


def _assemble(x, lw, *, top, atom, label, density=None) -> RewardLaw:
    """Sort, merge equal nodes, append the atom, normalise exactly (the rule's mass is 1 − atom up to ~1e-15)."""
    order = np.argsort(x, kind="stable")
    x, lw = x[order], lw[order]
    uniq, inv = np.unique(x, return_inverse=True)
    if uniq.size < x.size:
        merged = np.full(uniq.size, -np.inf)
        np.logaddexp.at(merged, inv, lw)
        x, lw = uniq, merged
    lw = lw - special.logsumexp(lw) + (math.log1p(-atom) if atom > 0 else 0.0)
    if atom > 0:
        if top is None or (x.size and x[-1] >= top):
            raise ValueError("an atom needs a top above every node of the continuous part")
        x = np.append(x, top)
        lw = np.append(lw, math.log(atom))
    x.setflags(write=False)
    lw.setflags(write=False)
    return RewardLaw(x, lw, top, float(atom), label, density)


def reward_law_from_scipy(dist, *, top=None, atom=0.0, level=1, label=None) -> RewardLaw:
    r"""A law of the reward from a frozen continuous ``scipy.stats`` law of its continuous part.

    ``atom`` is :math:`P_0(r=r^*)` at ``top`` (then the continuous part has mass 1 − atom and
    lies below ``top``). ``level`` refines the double-exponential rule (each level doubles the
    nodes; level 1 integrates smooth :math:`g_t` to ~1e-12).

    Examples
    --------
    >>> from scipy import stats
    >>> law = reward_law_from_scipy(stats.norm(1.0, 2.0))
    >>> round(law.expect(lambda r: r), 12), round(law.expect(lambda r: (r - 1.0) ** 2), 12)
    (1.0, 4.0)
    """
    if not (hasattr(dist, "logpdf") and hasattr(dist, "support")):
        raise TypeError(f"dist must be a frozen continuous scipy.stats law; got {dist!r}")
    atom = check_real("atom", atom, min_value=0.0, max_value=1.0, max_inclusive=False)
    level = check_int("level", level, min_value=0, max_value=4)
    lo, hi = map(float, dist.support())
    if top is not None:
        top = check_real("top", top)
        hi = min(hi, top)
    q1, q3 = dist.ppf([0.25, 0.75])
    law = _Law(dist.logpdf, support=(lo, hi), center=float(dist.median()), scale=max(float(q3 - q1) / 1.349, 1e-300))
    x, lw = _rule(law, level)
    return _assemble(x, lw, top=top, atom=atom, label=label or f"scipy {dist.dist.name}", density=dist.logpdf)


def _components(p0: GaussianMixture):
    w, m, S, _ = p0._arrays
    return w, m, S


def _isotropic(p0: GaussianMixture, what: str):
    w, m, S = _components(p0)
    d = m.shape[1]
    s2 = S[:, 0, 0]
    if not np.allclose(S, s2[:, None, None] * np.eye(d)[None], rtol=1e-12, atol=0.0):
        raise ValueError(f"reward_law knows Q_0 in closed form for a {what} only with isotropic components "
                         "(covariances s_k² I); use a grid (selfconsume.simulators.curate_density) otherwise")
    return w, m, s2, d


def _logsumexp_rows(lws):
    return special.logsumexp(np.stack(lws), axis=0)


def reward_law(p0, reward: Reward, *, level=1) -> RewardLaw:
    r"""The law :math:`Q_0` of :math:`r(X)`, :math:`X\sim p_0`, in closed form.

    ``p0`` a :class:`~._mixture.GaussianMixture` (on the line or in d dimensions) and ``reward``
    a built-in :class:`~._rewards.Reward`:

    * linear :math:`\gamma a^\top x`: :math:`Q_0=\sum_kw_kN(\gamma a^\top m_k,\gamma^2a^\top S_ka)`;
    * quadratic :math:`-\tfrac\gamma2\|x-c\|^2`, isotropic :math:`S_k=s_k^2I`:
      :math:`R=-\tfrac{\gamma s_k^2}2Y_k`, :math:`Y_k\sim\chi'^2_d(\|m_k-c\|^2/s_k^2)`;
    * clipped distance to one centre, radius :math:`\rho`, isotropic components: an atom
      :math:`\sum_kw_kP(Y_k\le\rho^2/s_k^2)` at :math:`r^*=0` and, below it, the law of
      :math:`-\gamma(D-\rho)` with :math:`D=\|X-c\|`.

    Other pairs (several centres, general covariances, non-Gaussian :math:`p_0`) have no
    closed form here: use :func:`selfconsume.simulators.curate_density` on a grid.

    Examples
    --------
    >>> from selfconsume.theory import gaussian_mixture, quadratic_reward
    >>> p0 = gaussian_mixture([1.0], [[0.0, 0.0]], [1.0])
    >>> law = reward_law(p0, quadratic_reward([1.0, 0.0], gamma=2.0))
    >>> round(law.expect(lambda r: r), 10)     # E r = -(γ/2) E‖X - c‖² = -(d + ‖c‖²)
    -3.0
    """
    from scipy import stats

    if not isinstance(p0, GaussianMixture):
        raise TypeError(f"p0 must be a GaussianMixture for the closed-form reward law; got {type(p0).__name__} "
                        "(use selfconsume.simulators.curate_density on a grid)")
    if not isinstance(reward, Reward):
        raise TypeError(f"reward must be a built-in Reward (linear_reward, quadratic_reward, clipped_distance_reward); "
                        f"got {reward!r}")
    level = check_int("level", level, min_value=0, max_value=4)
    w, m, S = _components(p0)
    d = m.shape[1]
    if reward.dim is not None and reward.dim != d:
        raise ValueError(f"reward has dim {reward.dim} but p0 has dim {d}")
    g = reward.gamma
    lwk = np.log(w)
    if reward.name == "linear":
        a = reward.params["direction"]
        means, sds = g * (m @ a), g * np.sqrt(np.einsum("i,kij,j->k", a, S, a))
        line = gaussian_mixture(w, means, sds)
        sd_all = math.sqrt(line.var())
        law = _Law(line.logpdf, breakpoints=tuple(dict.fromkeys(means.tolist())) if len(set(means.tolist())) > 1
                   else (), center=line.mean(), scale=min(sds.min(), sd_all))
        x, lw = _rule(law, level)
        return _assemble(x, lw, top=None, atom=0.0, label=f"linear reward on {p0.name}", density=line.logpdf)
    if reward.name == "quadratic":
        w, m, s2, d = _isotropic(p0, "quadratic reward")
        c = reward.params["centre"]
        nc = ((m - c) ** 2).sum(axis=1) / s2
        scale_k = 0.5 * g * s2  # R = -scale_k · Y_k

        def logpdf(r):
            y = -np.asarray(r, dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                return _logsumexp_rows([lwk[k] + stats.ncx2.logpdf(y / scale_k[k], d, nc[k]) - math.log(scale_k[k])
                                        for k in range(len(w))])

        mean = -float(w @ (scale_k * (d + nc)))
        sd = math.sqrt(float(w @ (scale_k**2 * (2 * d + 4 * nc + (d + nc) ** 2))) - mean**2)
        law = _Law(logpdf, support=(-math.inf, 0.0), center=mean, scale=sd)
        x, lw = _rule(law, level)
        return _assemble(x, lw, top=0.0, atom=0.0, label=f"quadratic reward on {p0.name}", density=logpdf)
    if reward.name == "clipped_distance":
        centres = reward.params["centres"]
        if centres.shape[0] != 1:
            raise ValueError("reward_law knows the clipped distance in closed form for one centre only; "
                             f"this reward has {centres.shape[0]} (use a grid: selfconsume.simulators.curate_density)")
        w, m, s2, d = _isotropic(p0, "clipped-distance reward")
        c, rho = centres[0], reward.params["radius"]
        nc = ((m - c) ** 2).sum(axis=1) / s2
        atom = float(w @ stats.ncx2.cdf(rho**2 / s2, d, nc)) if rho > 0 else 0.0

        def logpdf(r):
            r = np.asarray(r, dtype=float)
            dist = rho - r / g  # D > rho for r < 0
            with np.errstate(divide="ignore", invalid="ignore"):
                parts = [lwk[k] + math.log(2.0) + np.log(dist) - math.log(s2[k])
                         + stats.ncx2.logpdf(dist**2 / s2[k], d, nc[k]) - math.log(g) for k in range(len(w))]
                return np.where(r < 0, _logsumexp_rows(parts), -np.inf)

        centre_r = -g * max(math.sqrt(float(w @ (s2 * (d + nc)))) - rho, float(np.sqrt(s2.min())))
        law = _Law(logpdf, support=(-math.inf, 0.0), center=centre_r, scale=g * float(np.sqrt(s2.min())))
        x, lw = _rule(law, level)
        return _assemble(x, lw, top=0.0, atom=atom, label=f"clipped distance on {p0.name}", density=logpdf)
    raise ValueError(f"reward_law has no closed form for reward {reward.name!r}; use a grid "
                     "(selfconsume.simulators.curate_density)")


# --------------------------------------------------------------------------- the chain


def _log_h(nodes, q, targets, K):
    """log H^K at ``targets`` for the law with masses ``q`` on increasing ``nodes`` (q > 0 on the support)."""
    if K == 1:
        return np.zeros(targets.size)
    sup = q > 0
    rho, qs = nodes[sup][::-1], q[sup][::-1]  # decreasing, as the kernel wants
    top = rho[0]
    lw = rho - top
    qs = qs / qs.sum()
    tg = targets - top
    if K == math.inf:
        return tg - special.logsumexp(lw, b=qs)
    out = np.empty(targets.size)
    log_h_levels(np.ascontiguousarray(lw), np.ascontiguousarray(qs), np.ascontiguousarray(tg), float(K), out)
    return out


@dataclass(frozen=True, eq=False)
class RewardLawChain:
    r"""The population chain on the law of the reward (result of :func:`curate_reward_law`).

    Attributes
    ----------
    law : RewardLaw
        :math:`Q_0`.
    K, lam, generations
        The run's parameters (``lam`` None: fully synthetic).
    log_g : ndarray, shape (generations + 1, law.size)
        :math:`\log g_t` at the nodes.
    logq : ndarray, shape (generations + 1, law.size)
        Log-masses of :math:`Q_t` at the nodes.
    """

    law: RewardLaw
    K: float
    lam: float | None
    generations: int
    log_g: np.ndarray = field(repr=False)
    logq: np.ndarray = field(repr=False)

    @property
    def t(self) -> np.ndarray:
        return np.arange(self.generations + 1)

    def _q(self):
        return np.exp(self.logq)

    def mean_reward(self) -> np.ndarray:
        """:math:`\\mathbb E_{p_t}r`, shape (generations + 1,)."""
        return self._q() @ self.law.nodes

    def var_reward(self) -> np.ndarray:
        """:math:`\\mathrm{Var}_{p_t}r` (centred), shape (generations + 1,)."""
        q, x = self._q(), self.law.nodes
        m = q @ x
        return np.einsum("tj,tj->t", q, (x[None, :] - m[:, None]) ** 2)

    def mean_exp_reward(self, *, log=False) -> np.ndarray:
        """:math:`\\mathbb E_{p_t}e^r` (or its log, finite for any reward)."""
        v = special.logsumexp(self.logq + self.law.nodes[None, :], axis=1)
        return v if log else np.exp(v)

    def prob_top(self) -> np.ndarray:
        """:math:`P_t(r=r^*)`: the mass of the top atom (0 when the reward has no flat top)."""
        if self.law.atom == 0:
            return np.zeros(self.generations + 1)
        return np.exp(self.logq[:, -1])

    def kl_to_initial(self) -> np.ndarray:
        """:math:`\\mathrm{KL}(p_t\\|p_0)=\\mathbb E_{p_t}\\log g_t` (exact: the density ratio is :math:`g_t(r)`)."""
        return np.einsum("tj,tj->t", self._q(), self.log_g)

    def kl_to_top(self) -> np.ndarray:
        """:math:`\\mathrm{KL}(p^*\\|p_t)=-\\log P_t(r=r^*)`, :math:`p^*` = :math:`p_0` restricted to the top set."""
        if self.law.atom == 0:
            raise ValueError("kl_to_top needs a flat-top reward (an atom of Q_0 at r*); this law has none")
        # log(1 + mass below / mass at the top): accurate when the mass below is far under 1e-16
        below = special.logsumexp(self.logq[:, :-1], axis=1)
        return np.log1p(np.exp(below - self.logq[:, -1]))

    @property
    def edge_mass(self) -> np.ndarray:
        """Mass on the lowest and highest continuous nodes per generation (≲ 1e-12: the nodes resolve the chain)."""
        cont = self.logq[:, :-1] if self.law.atom > 0 else self.logq
        return np.exp(np.maximum(cont[:, 0], cont[:, -1]))

    def log_g_at(self, rewards, t: int) -> np.ndarray:
        """:math:`\\log g_t` at any rewards (recomputed exactly from the stored :math:`Q_s`, s < t)."""
        t = check_int("t", t, min_value=0, max_value=self.generations)
        r = np.atleast_1d(np.asarray(rewards, dtype=float))
        lg = np.zeros(r.size)
        for s in range(t):
            q = np.exp(self.logq[s])
            q = np.where(q > _SUPPORT_FLOOR, q, 0.0)
            lh = _log_h(self.law.nodes, q, r, self.K)
            lg = _step_log_g(lg, lh, self.lam)
        return lg

    def log_density(self, p0, reward: Reward, x, t: int) -> np.ndarray:
        """:math:`\\log p_t(x)=\\log p_0(x)+\\log g_t(r(x))` at points ``x`` (rows)."""
        pts = reward.points(x)
        return logpdf_at_points(p0, pts) + self.log_g_at(reward(pts), t)

    def to_frame(self):
        """Tidy table: one row per generation with the reward statistics."""
        import pandas as pd

        df = pd.DataFrame({"generation": self.t, "mean_reward": self.mean_reward(), "var_reward": self.var_reward(),
                           "log_mean_exp_reward": self.mean_exp_reward(log=True),
                           "kl_to_initial": self.kl_to_initial(), "prob_top": self.prob_top(),
                           "edge_mass": self.edge_mass})
        df["K"], df["lam"] = self.K, np.nan if self.lam is None else self.lam
        return df


def _step_log_g(log_g, log_h, lam):
    if lam is None:
        return log_g + log_h
    # g' = (1 + λ g H)/(1 + λ), in log space
    if lam == 0:
        return np.zeros_like(log_g)
    return np.logaddexp(0.0, math.log(lam) + log_g + log_h) - math.log1p(lam)


def curate_reward_law(law: RewardLaw, K, generations, *, lam=None) -> RewardLawChain:
    r"""Run the population curated chain on the law of the reward (``theory.md`` §6 item 1).

    Parameters
    ----------
    law : RewardLaw
        :math:`Q_0` (see :func:`reward_law`, :func:`reward_law_from_scipy`).
    K : int or numpy.inf
        Candidates per curation, :math:`K\ge1`.
    generations : int
    lam : float, optional
        Synthetic-to-real ratio :math:`\lambda\ge0` with :math:`p_\text{ref}=p_0` (None: fully synthetic).

    Examples
    --------
    >>> from scipy import stats
    >>> law = reward_law_from_scipy(stats.norm(0.0, 1.0))
    >>> chain = curate_reward_law(law, np.inf, 3)   # K = ∞: tilt p_0 e^{t r}, so Q_t = N(t, 1)
    >>> np.round(chain.mean_reward(), 10).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    if not isinstance(law, RewardLaw):
        raise TypeError(f"law must be a RewardLaw (see reward_law, reward_law_from_scipy); got {law!r}")
    K = _check_K(K)
    generations = check_int("generations", generations, min_value=0, max_value=10**6)
    lam = None if lam is None else check_lam(lam)
    L = law.size
    log_g = np.zeros((generations + 1, L))
    logq = np.empty((generations + 1, L))
    logq[0] = law.logw
    for t in range(generations):
        q = np.exp(logq[t])
        q = np.where(q > _SUPPORT_FLOOR, q, 0.0)
        lh = _log_h(law.nodes, q, law.nodes, K)
        log_g[t + 1] = _step_log_g(log_g[t], lh, lam)
        lq = law.logw + log_g[t + 1]
        mx = lq.max()  # logsumexp without scipy's per-call overhead (the chain's hot loop)
        logq[t + 1] = lq - (mx + math.log(np.exp(lq - mx).sum()))  # g_t normalises exactly; this removes rounding
    log_g.setflags(write=False)
    logq.setflags(write=False)
    return RewardLawChain(law, K, lam, generations, log_g, logq)


# --------------------------------------------------------------------------- closed forms (§6 items 2–4)


@functools.cache
def gaussian_tilt_expr():
    r"""sympy: :math:`N(\mu_0,\sigma_0^2)\,e^{t\,r}` with :math:`r=-\tfrac\gamma2(x-c)^2` is
    :math:`N(\mu_t,\sigma_t^2)`, :math:`\sigma_t^{-2}=\sigma_0^{-2}+t\gamma`,
    :math:`\mu_t=\sigma_t^2(\mu_0/\sigma_0^2+t\gamma c)` — derived by matching the coefficients of
    :math:`x^2` and :math:`x` in the log-density. Returns ``{"mu": ..., "sigma2": ...}``.
    """
    import sympy as sp

    x, c, mu0 = sp.symbols("x c mu0", real=True)
    s0, gam, t = sp.symbols("sigma0 gamma t", positive=True)
    mu, s2 = sp.symbols("mu sigma2")
    log_tilted = sp.expand(-(x - mu0) ** 2 / (2 * s0**2) - t * gam * (x - c) ** 2 / 2)
    log_target = sp.expand(-(x - mu) ** 2 / (2 * s2))
    sol = sp.solve([sp.Eq(log_tilted.coeff(x, 2), log_target.coeff(x, 2)),
                    sp.Eq(log_tilted.coeff(x, 1), log_target.coeff(x, 1))], [mu, s2], dict=True)[0]
    return {"mu": sp.simplify(sol[mu]), "sigma2": sp.simplify(sol[s2])}


def _mean_cov(mean, cov):
    """A finite mean vector (d,) and a covariance of shape (d, d), or a clear error."""
    mu = np.atleast_1d(check_finite_array("mean", mean))
    S = np.atleast_2d(check_finite_array("cov", cov))
    if mu.ndim != 1 or S.shape != (mu.size, mu.size):
        raise ValueError(f"mean must have shape (d,) and cov shape (d, d); got {mu.shape} and {S.shape}")
    return mu, S


def _check_reward(reward, kinds: tuple, what: str) -> Reward:
    """``reward`` if it is a :class:`Reward` of one of ``kinds`` (by name), else a clear error naming it."""
    makers = " or ".join(f"{k}_reward" for k in kinds)
    if not isinstance(reward, Reward):
        raise TypeError(f"reward must be a Reward built by {makers} ({what}); got {reward!r}")
    if reward.name not in kinds:
        raise ValueError(f"reward must be a {' or '.join(kinds)} reward ({makers}) for {what}; "
                         f"got {reward.name!r}")
    return reward


def _check_reward_dim(reward: Reward, d: int, other: str) -> None:
    if reward.dim is not None and reward.dim != d:
        raise ValueError(f"reward must act on points of dimension {d} (that of {other}); got a reward of "
                         f"dimension {reward.dim}")


def gaussian_tilt(mean, cov, reward: Reward, t):
    r"""K = ∞ curation of :math:`N(\mu_0,\Sigma_0)` for t generations: :math:`p_t\propto p_0e^{t\,r}` (Lemma 2.1).

    Quadratic :math:`r=-\tfrac\gamma2\|x-c\|^2`: :math:`\Sigma_t=(\Sigma_0^{-1}+t\gamma I)^{-1}`,
    :math:`\mu_t=\Sigma_t(\Sigma_0^{-1}\mu_0+t\gamma c)` (diversity vanishes like 1/(tγ));
    linear :math:`r=\gamma a^\top x`: :math:`\mu_t=\mu_0+t\gamma\Sigma_0a`, :math:`\Sigma_t=\Sigma_0`
    (``theory.md`` §6 item 2; the 1-D form is :func:`gaussian_tilt_expr`). Returns ``(mean, cov)``.

    Examples
    --------
    >>> from selfconsume.theory import quadratic_reward
    >>> m, S = gaussian_tilt([0.0], [[1.0]], quadratic_reward([2.0], gamma=1.0), 3)
    >>> m.tolist(), S.tolist()
    ([1.5], [[0.25]])
    """
    mu0, S0 = _mean_cov(mean, cov)
    reward = _check_reward(reward, ("linear", "quadratic"), "gaussian_tilt")
    _check_reward_dim(reward, mu0.size, "mean")
    t = check_real("t", t, min_value=0.0)
    g = reward.gamma
    if reward.name == "linear":
        return mu0 + t * g * S0 @ reward.params["direction"], S0.copy()
    P = np.linalg.inv(S0) + t * g * np.eye(mu0.size)
    St = np.linalg.inv(P)
    return St @ (np.linalg.solve(S0, mu0) + t * g * reward.params["centre"]), St


def mixture_tilt(p0: GaussianMixture, reward: Reward, t) -> GaussianMixture:
    r"""K = ∞ curation of a Gaussian mixture with a quadratic reward: still a mixture (§6 item 3).

    Each component tilts as in :func:`gaussian_tilt`, and the weights become
    :math:`w_k^{(t)}\propto w_k\,N\big(c;\,m_k,\,S_k+I/(t\gamma)\big)` — the exact law of mode
    selection (the mode nearest :math:`c` in the :math:`S_k` metric wins).

    Examples
    --------
    >>> from selfconsume.theory import gaussian_mixture, quadratic_reward
    >>> p0 = gaussian_mixture([0.5, 0.5], [[-2.0, 0.0], [3.0, 0.0]], [1.0, 1.0])
    >>> w = mixture_tilt(p0, quadratic_reward([0.0, 0.0], gamma=1.0), 10).weights
    >>> round(w[0], 6)      # 1/(1 + exp(-(3² - 2²)/(2(1 + 1/10))))
    0.906593
    """
    if not isinstance(p0, GaussianMixture):
        raise TypeError(f"p0 must be a GaussianMixture (see gaussian_mixture); got {p0!r}")
    reward = _check_reward(reward, ("quadratic",), "mixture_tilt")
    w, m, S = _components(p0)
    d = m.shape[1]
    _check_reward_dim(reward, d, "p0")
    t = check_real("t", t, min_value=0.0)
    if t == 0:
        return p0
    c = reward.params["centre"]
    g = reward.gamma
    logw, means, covs = [], [], []
    for k in range(len(w)):
        mk, Sk = gaussian_tilt(m[k], S[k], reward, t)
        C = S[k] + np.eye(d) / (t * g)
        L = np.linalg.cholesky(C)
        y = np.linalg.solve(L, c - m[k])
        logw.append(math.log(w[k]) - 0.5 * y @ y - np.log(np.diag(L)).sum() - 0.5 * d * math.log(2 * math.pi))
        means.append(mk)
        covs.append(Sk)
    logw = np.array(logw)
    wt = np.exp(logw - special.logsumexp(logw))
    if p0.covs is None:  # on the line
        return gaussian_mixture(wt, np.array(means)[:, 0], np.sqrt(np.array(covs)[:, 0, 0]))
    return gaussian_mixture(wt, np.array(means), covs=np.array(covs))


def best_of_k_cdf(F0, K, t):
    r"""Hard selection (keep the best of K): :math:`F_t=F_0^{K^t}` for a continuous reward law (§6 item 4).

    Computed as :math:`F_0` to the power :math:`K^t` while :math:`K^t` is a float, and past that (t log K > 700)
    as :math:`\exp(-\exp(t\log K+\log(-\log F_0)))`: exact for any t (no power towers, no
    overflow; :math:`F_t` is then 0 for every :math:`F_0<1`, and 1 at :math:`F_0=1`).

    Examples
    --------
    >>> round(best_of_k_cdf(0.5, 2, 3), 15)    # 0.5**8
    0.00390625
    >>> best_of_k_cdf([0.5, 1.0], 2, 10**15).tolist()
    [0.0, 1.0]
    """
    K = check_int("K", K, min_value=1)
    t = check_int("t", t, min_value=0)
    try:
        F0 = np.asarray(F0, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"F0 must be CDF values in [0, 1] (a float or an array of floats); got {F0!r}") from None
    if np.any((F0 < 0) | (F0 > 1)) or not np.all(np.isfinite(F0)):
        raise ValueError("F0 must be CDF values in [0, 1]")
    if K == 1 or t == 0:
        out = F0.copy()
    else:
        log_kt = t * math.log(K)  # log K^t
        with np.errstate(divide="ignore", over="ignore"):
            if log_kt <= 700.0:  # K^t exact as an int, rounded once; pow is exact to an ulp
                out = np.power(F0, float(K**t))
            else:  # F0 = 1: log(−log F0) = −inf, F_t = 1; F0 = 0: F_t = 0
                out = np.exp(-np.exp(log_kt + np.log(-np.log(F0))))
    return float(out) if out.ndim == 0 else out


@functools.cache
def best_of_k_kl_step_expr():
    r"""sympy: :math:`\mathrm{KL}(p_{t+1}\|p_t)=\mathbb E\log\big(KU^{K-1}\big)` with :math:`U=F_t(R_{t+1})\sim\mathrm{Beta}(K,1)`
    (density :math:`Ku^{K-1}` on (0, 1)) :math:`=\log K-\frac{K-1}K`."""
    import sympy as sp

    u = sp.Symbol("u", positive=True)
    K = sp.Symbol("K", positive=True)
    return sp.simplify(sp.integrate(K * u ** (K - 1) * sp.log(K * u ** (K - 1)), (u, 0, 1), conds="none"))


def best_of_k_kl_step(K) -> float:
    r""":math:`\log K-(K-1)/K`: the KL gained by every best-of-K generation, whatever :math:`p_0` and r.

    Examples
    --------
    >>> round(best_of_k_kl_step(2), 10)
    0.1931471806
    """
    K = check_int("K", K, min_value=1)
    return math.log(K) - (K - 1) / K


def top_set_kl_constant(law: RewardLaw, K) -> float:
    r"""The constant C of :math:`\mathrm{KL}(p^*\|p_t)\sim C/t` for a flat-top reward whose law has no gap below :math:`r^*`.

    Near the top, :math:`H^K_{\delta_{r^*}}(r^*-\Delta)=Ke^{-\Delta}/(e^{-\Delta}+K-1)=1-\frac{K-1}K\Delta+O(\Delta^2)`, so
    the mass below the top decays like :math:`\int f(r^*-\Delta)\,e^{-t\frac{K-1}K\Delta}d\Delta/a`, with
    :math:`f` the density of :math:`Q_0` just below :math:`r^*` and :math:`a=P_0(r=r^*)`: not geometrically
    (the discrete rate of Theorem 2.1 needs a gap below :math:`r^*`), but as
    :math:`C/t` with :math:`C=\frac{K}{K-1}\,\frac{f(r^{*-})}{a}` (:math:`K=\infty`: :math:`f(r^{*-})/a`). Derived
    here (🧮); checked against :func:`curate_reward_law`.
    """
    if not isinstance(law, RewardLaw):
        raise TypeError(f"law must be a RewardLaw (see reward_law, reward_law_from_scipy); got {law!r}")
    K = _check_K(K)
    if K == 1:
        raise ValueError("K must be >= 2: without curation p_t = p_0 and KL(p*‖p_t) = -log a stays constant")
    if law.atom == 0 or law.density is None or law.top is None:
        raise ValueError("top_set_kl_constant needs a flat-top reward law with a known density below the top")
    eps = 1e-9 * max(1.0, abs(law.top))
    f_top = math.exp(float(np.asarray(law.density(np.array([law.top - eps])))[0]))
    ratio = 1.0 if K == math.inf else K / (K - 1)
    return ratio * f_top / law.atom


# --------------------------------------------------------------------------- learned loops (§6 item 5)


def curated_gaussian_moments(mean, cov, reward: Reward, K):
    r"""Mean and covariance of the curated law :math:`p\,H^K_p` for :math:`p=N(\mu,\Sigma)` and a linear reward.

    With :math:`R=\gamma a^\top X`, :math:`X=\mathbb E[X\mid R]+\varepsilon` with
    :math:`\mathbb E[X\mid R]=\mu+\Sigma a\,(R-\mathbb E_0R)/(\gamma\,a^\top\Sigma a)` and :math:`\varepsilon` independent of
    :math:`R`; curation reweights by a function of :math:`R` only, so

    .. math:: \mu'=\mu+\Sigma a\,\frac{\mathbb E_1R-\mathbb E_0R}{\gamma\,a^\top\Sigma a},\qquad
              \Sigma'=\Sigma+\Sigma aa^\top\Sigma\,\frac{\mathrm{Var}_1R/\gamma^2-a^\top\Sigma a}{(a^\top\Sigma a)^2},

    with :math:`\mathbb E_1R`, :math:`\mathrm{Var}_1R` from one step of :func:`curate_reward_law` (any K). A learned
    Gaussian refitted (sample mean, ddof-1 covariance) on n curated samples has exactly these
    conditional expectations (``theory.md`` §6 item 5); K = ∞ gives :math:`\mu+\gamma\Sigma a`, :math:`\Sigma`.

    Examples
    --------
    >>> from selfconsume.theory import linear_reward
    >>> m, S = curated_gaussian_moments([0.0, 0.0], np.eye(2), linear_reward([1.0, 0.0]), np.inf)
    >>> np.round(m, 10).tolist(), np.round(S, 10).tolist()
    ([1.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])
    """
    mu, S = _mean_cov(mean, cov)
    reward = _check_reward(reward, ("linear",), "curated_gaussian_moments")
    _check_reward_dim(reward, mu.size, "mean")
    a = reward.params["direction"]
    g = reward.gamma
    p = gaussian_mixture([1.0], mu[None, :], covs=S[None])
    ch = curate_reward_law(reward_law(p, reward), K, 1)
    s2 = float(a @ S @ a)
    Sa = S @ a
    m1 = mu + Sa * (ch.mean_reward()[1] - ch.mean_reward()[0]) / (g * s2)
    S1 = S + np.outer(Sa, Sa) * (ch.var_reward()[1] / g**2 - s2) / s2**2
    return m1, S1


def expected_kde_trace(trace0, dim, bandwidth, generations, *, n_synthetic, n_real=None):
    r"""Exact :math:`\mathbb E\,\mathrm{tr}\,S_t` of a KDE retrained on its own samples (:math:`S_t` the
    training covariance, divisor = size; the model's covariance is :math:`S_t+h^2I`).

    Fully synthetic (``n_real`` None): the training set is :math:`n` draws of the KDE, so
    :math:`\mathbb E[S_{t+1}\mid S_t]=\frac{n-1}n(S_t+h^2I)`: the loop spreads to
    :math:`\mathrm{tr}\,S_\infty=(n-1)dh^2`. With the :math:`N` real points kept and :math:`m` synthetic
    added (λ = m/N), with :math:`D_t` the training mean minus the real mean:
    :math:`\mathbb E\|D_{t+1}\|^2=\big(\tfrac m{N+m}\big)^2(\|D_t\|^2+\mathrm{tr}\,C_t/m)` and
    :math:`\mathbb E\,\mathrm{tr}S_{t+1}=\big[N\,\mathrm{tr}S_r+(m-1)\mathrm{tr}C_t+\tfrac{Nm}{N+m}(\|D_t\|^2+\mathrm{tr}C_t/m)\big]/(N+m)`,
    :math:`C_t=S_t+h^2I` — a linear recursion, so it holds in expectation exactly (derived here, 🧮).
    Returns an array of length ``generations + 1`` (:math:`t=0` is the fit to the real data).

    Examples
    --------
    >>> np.round(expected_kde_trace(2.0, 2, 0.5, 3, n_synthetic=10), 6).tolist()
    [2.0, 2.25, 2.475, 2.6775]
    """
    trace0 = check_real("trace0", trace0, min_value=0.0)
    dim = check_int("dim", dim, min_value=1)
    h2 = check_real("bandwidth", bandwidth, min_value=0.0, min_inclusive=False) ** 2
    generations = check_int("generations", generations, min_value=0)
    m = check_int("n_synthetic", n_synthetic, min_value=1)
    N = None if n_real is None else check_int("n_real", n_real, min_value=1)
    check_memory("storing the trace trajectory", generations + 1, names="generations")
    out = np.empty(generations + 1)
    out[0] = trace0
    tr, dd = trace0, 0.0
    for t in range(generations):
        c = tr + dim * h2
        if N is None:
            tr = (m - 1) / m * c
        else:
            cross = dd + c / m
            tr_new = (N * trace0 + (m - 1) * c + N * m / (N + m) * cross) / (N + m)
            dd = (m / (N + m)) ** 2 * cross
            tr = tr_new
        out[t + 1] = tr
    return out

