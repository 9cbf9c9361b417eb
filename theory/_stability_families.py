r"""Parametric families :math:`p_\theta(x)` for the population retraining loop.

A :class:`Family` is a log-density given as a sympy expression in ``x_sym`` and its
parameters (with bounds, support and optional closed-form numeric overrides); its score,
Hessian and :math:`\partial_x` Hessian are lambdified once. Built-ins: Gaussian, one- and
k-parameter exponential families (log-partition derived), Student-t location(-scale) and
the two-Gaussian mixture weight (``shared/theory.md`` §1.6, §2.3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Callable

import numpy as np
import sympy as sp
from scipy import special, stats

from selfconsume._validation import check_int, check_interval, check_named, check_real, hashable_cache

from ._laws import _as_truth, _mixture_law, _quantile_span
from ._mixture import GaussianMixture
from ._quadrature import _Law, _scipy_law
from ._symbols import X

__all__ = [
    'Family',
    'gaussian_family',
    'exponential_family',
    'student_t_family',
    'mixture_weight_family',
    'abstract_exponential_family',
]

# --------------------------------------------------------------------------------------
# Families p_θ
# --------------------------------------------------------------------------------------


class _Numeric:
    """Vectorised log p, score, Hessian and ∂_x Hessian of a family (lambdified once)."""

    def __init__(self, family: "Family"):
        th = family.params
        lp = family.logpdf
        mods = [{"loggamma": special.gammaln}, "scipy", "numpy"]
        args = (X, *th)
        self.d = len(th)
        self._lp = sp.lambdify(args, lp, modules=mods)
        sc = [sp.diff(lp, a) for a in th]
        he = [[sp.diff(lp, a, b) for b in th] for a in th]
        dx = [[sp.diff(h, X) for h in row] for row in he]
        self._sc = [sp.lambdify(args, e, modules=mods) for e in sc]
        self._he = [[sp.lambdify(args, e, modules=mods) for e in row] for row in he]
        self._dx = [[sp.lambdify(args, e, modules=mods) for e in row] for row in dx]
        self.override = family.numeric or {}

    @staticmethod
    def _bc(v, x, th=()):
        v = np.asarray(v, dtype=float)
        if v.shape == np.shape(x) and all(np.ndim(t) == 0 for t in th):
            return v  # the common case: scalar θ, an array of nodes
        shape = np.broadcast_shapes(np.shape(x), *(np.shape(t) for t in th))
        return np.broadcast_to(v, shape)

    def logpdf(self, x, th):
        if "logpdf" in self.override:
            return self.override["logpdf"](x, *th)
        with np.errstate(all="ignore"):
            return self._bc(self._lp(x, *th), x, th)

    def score(self, x, th):
        if "score" in self.override:
            return self.override["score"](x, *th)
        with np.errstate(all="ignore"):
            return np.stack([self._bc(f(x, *th), x, th) for f in self._sc])

    def hess(self, x, th):
        if "hess" in self.override:
            return self.override["hess"](x, *th)
        with np.errstate(all="ignore"):
            return np.stack([np.stack([self._bc(f(x, *th), x, th) for f in row]) for row in self._he])

    def dxhess(self, x, th):
        if "dxhess" in self.override:
            return self.override["dxhess"](x, *th)
        with np.errstate(all="ignore"):
            return np.stack([np.stack([self._bc(f(x, *th), x, th) for f in row]) for row in self._dx])


@dataclass(frozen=True, eq=False)
class Family:
    r"""A parametric family :math:`p_\theta(x)` given by its log-density as a sympy expression.

    Attributes
    ----------
    name : str
    params : tuple of sympy.Symbol
        :math:`\theta`.
    logpdf : sympy.Expr
        :math:`\log p_\theta(x)` in :data:`X` and ``params``.
    support : tuple of float
        Support in :math:`x` (the quadrature domain of the model law).
    bounds : tuple of (float, float)
        Open parameter domain, per parameter.
    statistics : tuple of sympy.Expr or None
        Sufficient statistics :math:`T(x)` when the family is an exponential family
        (:math:`\log p_\theta=\eta(\theta)\cdot T(x)-\psi(\theta)+\log h(x)`), else None.
    moments_required : float
        The fit needs :math:`\mathbb E_\text{data}|x|^k` finite for ``k = moments_required``.
    unimodal : bool
        True when the objective :math:`\theta'\mapsto\mathcal H(\theta,\theta')` has a single
        stationary point (exponential families, mixture weight): a local search is global.
    """

    name: str
    params: tuple
    logpdf: sp.Expr
    support: tuple
    bounds: tuple
    statistics: tuple | None
    moments_required: float
    unimodal: bool
    hyper: dict = field(default_factory=dict)
    make_law: Callable | None = field(default=None, repr=False)
    starts: Callable | None = field(default=None, repr=False)
    grid: Callable | None = field(default=None, repr=False)
    numeric: dict | None = field(default=None, repr=False)
    symbolic_only: bool = False

    @property
    def dim(self) -> int:
        return len(self.params)

    @property
    def exponential(self) -> bool:
        return self.statistics is not None

    @cached_property
    def _num(self) -> _Numeric:
        return _Numeric(self)

    def law(self, theta) -> _Law:
        """The model law :math:`p_\\theta` as a quadrature-ready object."""
        return self.make_law(np.asarray(theta, dtype=float))


@lru_cache(maxsize=256)
def gaussian_family() -> Family:
    r""":math:`N(\mu,\sigma^2)`, parameters :math:`(\mu,\sigma)`; an exponential family with
    :math:`T(x)=(x,x^2)`."""
    mu = sp.Symbol("mu", real=True)
    sg = sp.Symbol("sigma", positive=True)
    lp = -(X - mu) ** 2 / (2 * sg**2) - sp.log(sg) - sp.log(2 * sp.pi) / 2

    def make_law(th):
        d = stats.norm(th[0], th[1])
        return _Law(d.logpdf, center=th[0], scale=th[1], cdf=d.cdf, sf=d.sf, ppf=d.ppf, mean=th[0], label="gaussian")

    def starts(truth):
        return [np.array([truth.mean, math.sqrt(truth.var)])]

    return Family("gaussian", (mu, sg), lp, (-math.inf, math.inf), ((-math.inf, math.inf), (0.0, math.inf)),
                  (X, X**2), 2, True, {}, make_law, starts, None, None)


def exponential_family(statistic=None, *, log_base=0, support=(-math.inf, math.inf), eta_bounds=(-math.inf, 0.0),
                       name=None, scipy_law=None) -> Family:
    r"""A 1-parameter exponential family in its natural parameter :math:`\eta`.

    .. math:: \log p_\eta(x)=\eta\,T(x)+\log h(x)-\psi(\eta),\qquad
              \psi(\eta)=\log\int h(x)e^{\eta T(x)}\,dx,

    with :math:`\psi` *derived* by sympy integration. The default :math:`T(x)=x^2`,
    :math:`h=1` on :math:`\mathbb R`, :math:`\eta<0` is the zero-mean Gaussian scale family
    (:math:`\sigma^2=-1/(2\eta)`). ``statistic`` and ``log_base`` are sympy expressions in
    :data:`X` (or strings); ``eta_bounds`` is the natural parameter space (open).
    ``scipy_law``: optional ``η -> frozen scipy law`` used for CDFs (otherwise integrated).
    """
    support = check_interval("support", support)
    eta_bounds = check_interval("eta_bounds", eta_bounds)
    statistic = None if statistic is None else sp.sympify(statistic, locals={"x": X})
    return _exponential_family(statistic, sp.sympify(log_base, locals={"x": X}), support, eta_bounds, name, scipy_law)


@lru_cache(maxsize=256)
def _exponential_family(statistic, log_base, support, eta_bounds, name, scipy_law):
    T = X**2 if statistic is None else sp.sympify(statistic, locals={"x": X})
    hb = sp.sympify(log_base, locals={"x": X})
    if not T.has(X):
        raise ValueError(f"statistic must depend on x; got {T}")
    lo_e, hi_e = float(eta_bounds[0]), float(eta_bounds[1])
    if not lo_e < hi_e:
        raise ValueError(f"eta_bounds must be an interval (lo < hi); got {eta_bounds}")
    assum = {"negative": True} if hi_e <= 0 else ({"positive": True} if lo_e >= 0 else {"real": True})
    eta = sp.Symbol("eta", **assum)
    s_lo = -sp.oo if math.isinf(support[0]) else sp.nsimplify(support[0])
    s_hi = sp.oo if math.isinf(support[1]) else sp.nsimplify(support[1])
    # integrate with a positive symbol for |η| so that sympy returns the real branch
    b = sp.Symbol("b", positive=True)
    if hi_e <= 0 or lo_e >= 0:
        sign = -1 if hi_e <= 0 else 1
        Zb = sp.integrate(sp.exp(sign * b * T + hb), (X, s_lo, s_hi), conds="none")
        sub = {b: sign * eta}
    else:  # η of both signs (bounded support): integrate in η itself
        Zb = sp.integrate(sp.exp(eta * T + hb), (X, s_lo, s_hi), conds="none")
        sub = {}
    if Zb.has(sp.Integral) or Zb.has(sp.I) or Zb.is_finite is False:
        raise ValueError(f"could not derive the log-partition of T(x) = {T} on {support}")
    psi = sp.log(sp.simplify(Zb)).subs(sub)
    lp = eta * T + hb - psi
    if statistic is None and scipy_law is None:
        scipy_law = lambda e: stats.norm(0.0, math.sqrt(-1.0 / (2.0 * e)))  # noqa: E731
    elif scipy_law is None and sp.simplify(T - X) == 0 and hb == 0 and tuple(support) == (0.0, math.inf):
        scipy_law = lambda e: stats.expon(scale=-1.0 / e)  # noqa: E731  (the exponential distribution)
    deg = sp.Poly(T, X).total_degree() if T.is_polynomial(X) else 1
    fam_name = name or ("gaussian_scale" if statistic is None else f"expfam[{T}]")
    num_lp = sp.lambdify((X, eta), lp, modules=["scipy", "numpy"])

    def make_law(th):
        if scipy_law is not None:
            d = scipy_law(float(th[0]))
            return _scipy_law(d, label=fam_name)
        f = lambda x: np.broadcast_to(num_lp(x, float(th[0])), np.shape(x))  # noqa: E731
        law = _Law(f, support=support, label=fam_name)
        # second pass: centre and scale the rule on the law's own mean and sd
        m = law.expect(lambda x: x)
        sd = math.sqrt(max(law.expect(lambda x: (x - m) ** 2), 1e-300))
        return _Law(f, support=support, center=m, scale=sd, label=fam_name)

    def starts(truth):
        if math.isinf(lo_e) and hi_e <= 0:
            grid = -np.logspace(-4, 4, 33)
        elif lo_e >= 0 and math.isinf(hi_e):
            grid = np.logspace(-4, 4, 33)
        else:
            grid = np.linspace(max(lo_e, -50), min(hi_e, 50), 35)[1:-1]
        return [np.array([g]) for g in grid]

    return Family(fam_name, (eta,), lp, tuple(map(float, support)), ((lo_e, hi_e),), (T,), deg, True,
                  {"statistic": str(T), "log_base": str(hb)}, make_law, starts, None, None)


@hashable_cache(256)
def abstract_exponential_family(k: int = 1) -> Family:
    r"""The generic k-parameter exponential family, symbolic only (for :func:`jacobian_expr`).

    .. math:: \log p_\eta(x)=\sum_{i=1}^k\eta_i T_i(x)+\log h(x)-\psi(\eta_1,\dots,\eta_k)

    with undefined functions :math:`T_i, h, \psi`: the Jacobian computed from it holds for
    every exponential family in natural parameters.
    """
    k = check_int("k", k, min_value=1, max_value=64)  # a k×k symbolic Jacobian: beyond ~64 sympy takes hours
    etas = tuple(sp.Symbol(f"eta_{i}", real=True) for i in range(1, k + 1))
    Ts = tuple(sp.Function(f"T_{i}")(X) for i in range(1, k + 1))
    psi = sp.Function("psi")(*etas)
    lp = sum(e * t for e, t in zip(etas, Ts)) + sp.log(sp.Function("h")(X)) - psi
    return Family(f"exponential_family[{k}]", etas, lp, (-math.inf, math.inf), ((-math.inf, math.inf),) * k,
                  Ts, 0, True, {}, None, None, None, None, symbolic_only=True)


@hashable_cache(256)
def student_t_family(nu, *, scale=1.0) -> Family:
    r"""Student-t location family :math:`\mu+s\,t_\nu` with fixed :math:`\nu` and scale
    :math:`s` (parameter :math:`\mu`); ``scale=None`` makes it location-scale, :math:`(\mu, s)`.

    Not an exponential family: :math:`\partial^2_\mu\log p` depends on :math:`x`.
    """
    nu = check_real("nu", nu, min_value=0.0, min_inclusive=False)
    nu_s = sp.nsimplify(nu, rational=True)
    mu = sp.Symbol("mu", real=True)
    if scale is None:
        s = sp.Symbol("s", positive=True)
        params = (mu, s)
        bounds = ((-math.inf, math.inf), (0.0, math.inf))
        fixed = None
    else:
        fixed = check_real("scale", scale, min_value=0.0, min_inclusive=False)
        s = sp.nsimplify(fixed, rational=True)
        params = (mu,)
        bounds = ((-math.inf, math.inf),)
    if nu <= 1e4:
        const = sp.loggamma((nu_s + 1) / 2) - sp.loggamma(nu_s / 2) - sp.log(nu_s * sp.pi) / 2
    else:  # sympy would expand Γ of a huge rational exactly (minutes, then MemoryError at ν = 1e300);
        # log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(νπ) = −½ log 2π − 1/(4ν) + 1/(24ν³) + O(ν⁻⁵) (Stirling;
        # within 1e-16 of mpmath for ν ≥ 1e4), without the cancellation of two huge log Γ
        const = sp.Float(-0.5 * math.log(2 * math.pi) - 1 / (4 * nu) + 1 / (24 * nu) / nu / nu, 17)
    lp = const - sp.log(s) - (nu_s + 1) / 2 * sp.log(1 + (X - mu) ** 2 / (nu_s * s**2))

    def make_law(th):
        sc = fixed if fixed is not None else float(th[1])
        d = stats.t(nu, float(th[0]), sc)
        return _Law(d.logpdf, center=float(th[0]), scale=sc, cdf=d.cdf, sf=d.sf, ppf=d.ppf,
                    mean=float(th[0]) if nu > 1 else math.inf, label="student_t")  # ν ≤ 1: no mean

    def _span(truth):
        return _quantile_span(truth)

    def grid(truth, th):
        a, b = _span(truth)
        sc = fixed if fixed is not None else 1.0
        lo = min(a, float(th[0])) - 2 * sc
        hi = max(b, float(th[0])) + 2 * sc
        return np.linspace(lo, hi, 401)

    def starts(truth):
        if fixed is not None:
            return [np.array([q]) for q in truth.law.ppf(np.linspace(0.05, 0.95, 13))]
        iqr = float(np.subtract(*truth.law.ppf(np.array([0.75, 0.25]))))
        return [np.array([q, f * iqr / 1.349]) for q in truth.law.ppf(np.linspace(0.1, 0.9, 5)) for f in (0.5, 1.0)]

    name = "student_t" if fixed is not None else "student_t_ls"
    return Family(name, params, lp, (-math.inf, math.inf), bounds, None, 0, False,
                  {"nu": nu, "scale": fixed}, make_law, starts, grid if fixed is not None else None, None)


@hashable_cache(256)
def mixture_weight_family(loc1=-1.0, loc2=1.0, scale1=1.0, scale2=1.0) -> Family:
    r"""Weight :math:`w\in(0,1)` of :math:`w\,N(a_1,s_1^2)+(1-w)\,N(a_2,s_2^2)` with fixed
    components. Not an exponential family; its objective is concave in :math:`w`."""
    a1, a2 = check_real("loc1", loc1), check_real("loc2", loc2)
    s1 = check_real("scale1", scale1, min_value=0.0, min_inclusive=False)
    s2 = check_real("scale2", scale2, min_value=0.0, min_inclusive=False)
    if a1 == a2 and s1 == s2:
        raise ValueError("mixture_weight_family needs two different components (loc1, scale1) != (loc2, scale2)")
    w = sp.Symbol("w", positive=True)
    A1, A2, S1, S2 = (sp.nsimplify(v, rational=True) for v in (a1, a2, s1, s2))
    phi = lambda a, s: sp.exp(-(X - a) ** 2 / (2 * s**2)) / (s * sp.sqrt(2 * sp.pi))  # noqa: E731
    lp = sp.log(w * phi(A1, S1) + (1 - w) * phi(A2, S2))

    # Stable numerics: the lambdified expression gives 0/0 where both components underflow;
    # these forms (posterior responsibility g = w φ1 / p) are exact rewrites, tested against it.
    def _parts(x, wv):
        x = np.asarray(x, dtype=float)
        la = stats.norm.logpdf(x, a1, s1)
        lb = stats.norm.logpdf(x, a2, s2)
        lp_ = np.logaddexp(np.log(wv) + la, np.log1p(-wv) + lb)
        g = np.exp(np.log(wv) + la - lp_)
        return x, lp_, g

    def n_logpdf(x, wv):
        return _parts(x, wv)[1]

    def n_score(x, wv):
        _, _, g = _parts(x, wv)
        return ((g - wv) / (wv * (1 - wv)))[None, :]

    def n_hess(x, wv):
        s = n_score(x, wv)[0]
        return (-s * s)[None, None, :]

    def n_dxhess(x, wv):
        x, _, g = _parts(x, wv)
        s = (g - wv) / (wv * (1 - wv))
        dlr = -(x - a1) / s1**2 + (x - a2) / s2**2  # d/dx log(φ1/φ2)
        ds = g * (1 - g) * dlr / (wv * (1 - wv))
        return (-2.0 * s * ds)[None, None, :]

    def make_law(th):
        return _mixture_law(GaussianMixture._two(float(th[0]), a1, s1, a2, s2), "mixture_weight")

    def grid(truth, th):
        return special.expit(np.linspace(-14, 14, 401))

    def starts(truth):
        return [np.array([0.5])]

    return Family("mixture_weight", (w,), lp, (-math.inf, math.inf), ((0.0, 1.0),), None, 0, True,
                  {"loc1": a1, "loc2": a2, "scale1": s1, "scale2": s2}, make_law, starts, grid,
                  {"logpdf": n_logpdf, "score": n_score, "hess": n_hess, "dxhess": n_dxhess})


_FAMILIES = {"gaussian": gaussian_family, "exponential": exponential_family,
             "student_t": lambda: student_t_family(3.0), "mixture_weight": mixture_weight_family}


def _as_family(family) -> Family:
    return check_named("family", family, Family, _FAMILIES, hint="see gaussian_family, student_t_family, ...")


def _check_pair(family, truth):
    family, truth = _as_family(family), _as_truth(truth)
    if family.symbolic_only:
        raise ValueError(f"family {family.name!r} is symbolic only (use it with jacobian_expr)")
    lo, hi = truth.support
    if lo < family.support[0] or hi > family.support[1]:
        raise ValueError(f"truth {truth.name!r} has support {truth.support}, outside the support "
                         f"{family.support} of family {family.name!r}: E_data log p_θ is -inf")
    k = family.moments_required
    if k > 0 and truth.max_moment <= k:
        raise ValueError(f"truth {truth.name!r} {truth.params} has finite moments only of order < "
                         f"{truth.max_moment:g}; fitting family {family.name!r} needs E_data|x|^{k:g} < inf")
    return family, truth


def _check_theta(family, theta, name: str = "theta") -> np.ndarray:
    """``theta`` as a float vector of ``family.dim`` parameters inside their bounds, or an error naming ``name``."""
    want = f"{family.dim} real numbers {tuple(map(str, family.params))}"
    if isinstance(theta, (str, bytes)) or theta is None:
        raise TypeError(f"{name} must be {want}; got {theta!r}")
    try:
        th = np.atleast_1d(np.asarray(theta, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be {want}; got {theta!r}") from None
    if th.size != family.dim:
        raise ValueError(f"{name} must have {family.dim} entries {tuple(map(str, family.params))}; got {theta!r}")
    for v, (lo, hi), p in zip(th, family.bounds, family.params):
        if not (math.isfinite(v) and lo < v < hi):
            raise ValueError(f"{name}[{p}] must be in ({lo}, {hi}); got {v}")
    return th


