r"""Stability of iterative retraining with real data (Bertrand et al. 2024; Ferbach et al. 2024).

The population ("infinite-sample") retraining operator of a parametric family
:math:`p_\theta` fitted by maximum likelihood to real data :math:`p_\text{data}` mixed with
a fraction :math:`\lambda` of its own samples is

.. math:: \mathcal G_\lambda(\theta)=\arg\max_{\theta'}\;
          \mathbb E_{p_\text{data}}\log p_{\theta'}+\lambda\,\mathbb E_{p_\theta}\log p_{\theta'},

with fixed point :math:`\theta^*=\arg\max_\theta\mathbb E_{p_\text{data}}\log p_\theta` for every
:math:`\lambda` (``shared/theory.md`` §1.6, §2.1, §2.3). This module computes the operator by
quadrature and root finding, its exact Jacobian at :math:`\theta^*` (sympy implicit
differentiation, :math:`J=\lambda(A+\lambda B)^{-1}B`), the constants
:math:`\alpha, L, \varepsilon` of the stability theorems, the contraction factors
:math:`\rho_B` ([B] Thm 1), :math:`\rho_F` ([F] Thm 2.2) and a sharper one derived here,
the stability boundary in :math:`\lambda`, and the finite-sample / accumulate closed forms
of §2.4, §3.3–3.5.

Scope (what this module will not do): families are one-dimensional in :math:`x`; the data
law is a fixed 1-D distribution; the global argmax is searched on a grid for 1-parameter
families and by a multi-start Newton search for several parameters.

Quadrature: every expectation is a double-exponential (tanh-sinh / exp-sinh / sinh-sinh)
rule built once per law, split at the law's kinks, in log-space weights so that
heavy-tailed laws keep their tails (abscissae up to :math:`10^{100}` scales). It
integrates the moments of the built-in laws to ~1e-14 (tested against exact moments and
``scipy.integrate.quad``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Callable

import numpy as np
import sympy as sp
from scipy import integrate, optimize, special, stats

from selfconsume._validation import check_choice, check_int, check_real

__all__ = [
    # symbols and laws
    "x_sym", "lam_sym", "data_density_sym",
    "Family", "Truth",
    "gaussian_family", "exponential_family", "student_t_family", "mixture_weight_family",
    "abstract_exponential_family",
    "gaussian_truth", "student_t_truth", "laplace_truth", "mixture_truth", "truth_from_scipy",
    # population operator
    "retraining_map", "fixed_point", "iterate_retraining_map",
    "jacobian_expr", "stability_jacobian", "StabilityJacobian",
    "model_constants", "ModelConstants",
    "rho_B", "rho_F", "rho_sharp", "rho_B_expr", "rho_F_expr", "rho_sharp_expr",
    "condition_B", "condition_F",
    "stability_boundary", "StabilityBoundary",
    # finite sample / accumulate / regression
    "expected_stationary_mean_var", "expected_stationary_mean_var_expr",
    "expected_mean_var", "expected_mean_var_expr",
    "bound_error_recursion", "bound_error_recursion_expr",
    "expected_accumulate_cov", "expected_accumulate_cov_expr",
    "accumulate_cov_limit", "accumulate_cov_limit_expr",
    "expected_accumulate_mean_err", "expected_accumulate_mean_err_expr",
    "bound_accumulate_mean_err", "bound_accumulate_mean_err_expr",
    "expected_regression_risk", "expected_regression_risk_expr",
    "bound_regression_risk",
]

#: The data coordinate x (real).
X = sp.Symbol("x", real=True)
#: The synthetic-to-real ratio λ of [B], [F] (``shared/theory.md`` §0).
LAM = sp.Symbol("lambda", nonnegative=True)
#: The (abstract) density q(x) of p_data in symbolic expectations E_data[f] = ∫ q f dx.
DATA_DENSITY = sp.Function("q")
# Public names of the symbols (``x_sym`` like the Gaussian module's ``n_sym``): short
# capitals are kept for this module's own formulas only.
x_sym, lam_sym, data_density_sym = X, LAM, DATA_DENSITY
_P = sp.Function("p")  # the model density p_θ(x), abstract while differentiating

ALPHA = sp.Symbol("alpha", positive=True)
LIPSCHITZ = sp.Symbol("L", nonnegative=True)
EPS = sp.Symbol("epsilon", nonnegative=True)

WORKFLOWS = ("replace", "accumulate")

# --------------------------------------------------------------------------------------
# Quadrature: double-exponential rules in log-space weights
# --------------------------------------------------------------------------------------

_DE_H = 1.0 / 32.0  # step in t; the error of the DE trapezoid decays like exp(-c/h)
_DE_TMAX = 6.0  # |t| ≤ 6: sinh-sinh reaches |x| ~ e^{300} before the cap below
_X_CAP = 1e60  # nodes beyond 1e60 scales are dropped: polynomials up to x⁵ stay finite there
_LOGW_MIN = -740.0  # weights below e^-740 underflow to 0 anyway


def _logcosh(u):
    a = np.abs(u)
    return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0)


def _de_rule(logpdf, support, breakpoints, center, scale, level=0):
    """Nodes and weights (density included) of E f = Σ w_i f(x_i) for a 1-D law.

    The support is cut at ``breakpoints`` (kinks of the density); each piece gets its own
    DE map, so every piece's integrand is analytic and the rule converges
    double-exponentially. ``scale`` sets the width of the bulk for infinite pieces.
    Level 0 is the trapezoid rule in t with step h₀ = 1/32; level k ≥ 1 returns only the
    nodes it adds (odd multiples of h₀/2^k), so I_k = I_{k-1}/2 + Σ_new w f.
    """
    lo, hi = float(support[0]), float(support[1])
    pts = sorted({float(b) for b in breakpoints if lo < b < hi})
    edges = [lo, *pts, hi]
    h = _DE_H / 2**level
    m = int(round(_DE_TMAX / h))
    j = np.arange(-m, m + 1)
    if level > 0:
        j = j[j % 2 == 1]
    t = j * h
    u = 0.5 * math.pi * np.sinh(t)
    ldu = np.log(0.5 * math.pi * np.cosh(t))
    xs, lws = [], []
    cap = _X_CAP * max(scale, 1.0)
    for a, b in zip(edges[:-1], edges[1:]):
        with np.errstate(over="ignore"):
            if math.isinf(a) and math.isinf(b):
                x = center + scale * np.sinh(u)
                ldx = math.log(scale) + ldu + _logcosh(u)
            elif math.isinf(b):
                x = a + scale * np.exp(u)
                ldx = math.log(scale) + ldu + u
            elif math.isinf(a):
                x = b - scale * np.exp(u)
                ldx = math.log(scale) + ldu + u
            else:
                half = 0.5 * (b - a)
                # distance to the nearer end, computed without cancellation
                d = 2.0 * half / (np.exp(2.0 * np.abs(u)) + 1.0)
                x = np.where(u < 0, a + d, b - d)
                ldx = math.log(half) + ldu - 2.0 * _logcosh(u)
        ok = np.isfinite(x) & (np.abs(x - center) < cap)
        if not math.isinf(a):
            ok &= x > a
        if not math.isinf(b):
            ok &= x < b
        x, ldx = x[ok], ldx[ok]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            lw = math.log(h) + ldx + logpdf(x)
        keep = np.isfinite(lw) & (lw > _LOGW_MIN)
        xs.append(x[keep])
        lws.append(lw[keep])
    x = np.concatenate(xs)
    w = np.exp(np.concatenate(lws))
    return x, w


def _wsum(vals, w):
    """Σ_i vals[..., i] w_i, where overflowed values are allowed only at negligible weight.

    A NaN/inf far out in a tail is a 0/0 or inf/inf of a bounded quantity in floating
    point (e.g. x⁴/(1+x²)² at x = 1e60); at weight < 1e-30 its contribution is dropped.
    """
    vals = np.asarray(vals, dtype=float)
    bad = ~np.isfinite(vals)
    if bad.any():
        if np.any(bad & (w > 1e-30)):
            raise FloatingPointError("an integrand overflowed where the quadrature weight is not negligible")
        vals = np.where(bad, 0.0, vals)
    return vals @ w


_LEVEL_TOL = 1e-8  # DE error at step h/2 is ~ (error at h)²: agreeing to 1e-8 means ~1e-16
_LEVEL_ABS = 1e-13  # integrands that are rounding noise (differences of equal log-densities) never settle
_MAX_LEVEL = 8


def _expect(law, fn, atol=None):
    """E_law f by nested DE levels: stop when |I_k − I_{k−1}| ≤ 1e-8 · E|f| (then I_k is accurate
    to ~1e-16, since the DE trapezoid error squares when h halves) or ≤ 1e-13 absolutely; raise
    if level 8 is reached."""
    x, w = law.rule_level(0)
    v = np.asarray(fn(x), dtype=float)
    I = _wsum(v, w)
    S = _wsum(np.abs(v), w)
    for k in range(1, _MAX_LEVEL + 1):
        x, w = law.rule_level(k)
        v = np.asarray(fn(x), dtype=float)
        I_new = 0.5 * I + _wsum(v, w)
        S = 0.5 * S + _wsum(np.abs(v), w)
        if np.all((np.abs(I_new - I) <= _LEVEL_TOL * S) | (np.abs(I_new - I) <= (atol or _LEVEL_ABS))):
            return I_new
        I = I_new
    raise FloatingPointError(f"quadrature against {law.label} did not converge in {_MAX_LEVEL} levels")


def _mexpect(measure, fn):
    """Σ_i c_i E_{law_i} f for a measure given as [(law, c), ...]."""
    return sum(c * _expect(law, fn) for law, c in measure if c != 0.0)


class _Law:
    """A 1-D law for quadrature and Wasserstein distances.

    ``logpdf`` is vectorised; ``cdf``/``sf``/``ppf`` are used for W1 and for grids (a
    generic fallback integrates the density when they are not given).
    """

    def __init__(self, logpdf, *, support=(-math.inf, math.inf), breakpoints=(), center=0.0, scale=1.0,
                 cdf=None, sf=None, ppf=None, mean=None, label="law"):
        self.logpdf = logpdf
        self.support = (float(support[0]), float(support[1]))
        self.breakpoints = tuple(float(b) for b in breakpoints)
        self.center = float(center)
        self.scale = float(scale)
        self._cdf, self._sf, self._ppf = cdf, sf, ppf
        self.exact_cdf = cdf is not None
        self._mean = mean
        self.label = label
        self._levels = {}

    def rule_level(self, k):
        if k not in self._levels:
            self._levels[k] = _de_rule(self.logpdf, self.support, self.breakpoints, self.center, self.scale, k)
        return self._levels[k]

    @property
    def rule(self):
        """The level-0 rule (for grids and coarse searches)."""
        return self.rule_level(0)

    def expect(self, vals_fn):
        """E f by nested DE levels until two successive levels agree (see :func:`_expect`)."""
        return _expect(self, vals_fn)

    @cached_property
    def mean(self):
        if self._mean is not None:
            return float(self._mean)
        return float(self.expect(lambda x: x))

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        if self._cdf is not None:
            return self._cdf(x)
        lo = self.support[0]
        f = lambda v: integrate.quad(lambda s: math.exp(self.logpdf(np.array([s]))[0]), lo, v,  # noqa: E731
                                     points=[p for p in self.breakpoints if lo < p < v] or None, limit=200,
                                     epsabs=1e-14, epsrel=1e-12)[0]
        return np.vectorize(lambda v: 0.0 if v <= lo else min(f(v), 1.0))(x)

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        if self._sf is not None:
            return self._sf(x)
        hi = self.support[1]
        # integrate the upper tail itself: 1 − cdf would leave ~1e-16 noise out to x = 1e60
        f = lambda v: integrate.quad(lambda s: math.exp(self.logpdf(np.array([s]))[0]), v, hi,  # noqa: E731
                                     points=[p for p in self.breakpoints if v < p < hi] or None, limit=200,
                                     epsabs=1e-300, epsrel=1e-12)[0]
        return np.vectorize(lambda v: 0.0 if v >= hi else min(f(v), 1.0))(x)

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        if self._ppf is not None:
            return self._ppf(u)
        lo = self.center - self.scale
        hi = self.center + self.scale
        while self.cdf(lo) > u.min() and lo > self.support[0]:
            lo = max(self.center - 2 * (self.center - lo), self.support[0] + 1e-300)
        while self.cdf(hi) < u.max() and hi < self.support[1]:
            hi = self.center + 2 * (hi - self.center)
        return np.vectorize(lambda v: optimize.brentq(lambda s: float(self.cdf(s)) - v, lo, hi, xtol=1e-14))(u)


def _scipy_law(dist, *, breakpoints=(), center=None, scale=None, label="law"):
    lo, hi = dist.support()
    if center is None:
        center = float(dist.median())
    if scale is None:
        q1, q3 = dist.ppf([0.25, 0.75])
        scale = float(q3 - q1) / 1.349
    m = None
    try:
        mm = float(dist.mean())
        m = mm if math.isfinite(mm) else None
    except Exception:  # noqa: BLE001 - scipy raises for undefined means on some laws
        m = None
    return _Law(dist.logpdf, support=(lo, hi), breakpoints=breakpoints, center=center, scale=scale,
                cdf=dist.cdf, sf=dist.sf, ppf=dist.ppf, mean=m, label=label)


class _Mixture2:
    """w N(m1, s1²) + (1-w) N(m2, s2²): log-density, CDF, SF and PPF (by root finding)."""

    def __init__(self, w, m1, s1, m2, s2):
        self.w, self.m1, self.s1, self.m2, self.s2 = float(w), float(m1), float(s1), float(m2), float(s2)

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.logaddexp(math.log(self.w) + stats.norm.logpdf(x, self.m1, self.s1),
                            math.log1p(-self.w) + stats.norm.logpdf(x, self.m2, self.s2))

    def cdf(self, x):
        return self.w * stats.norm.cdf(x, self.m1, self.s1) + (1 - self.w) * stats.norm.cdf(x, self.m2, self.s2)

    def sf(self, x):
        return self.w * stats.norm.sf(x, self.m1, self.s1) + (1 - self.w) * stats.norm.sf(x, self.m2, self.s2)

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        lo = min(self.m1 - 40 * self.s1, self.m2 - 40 * self.s2)
        hi = max(self.m1 + 40 * self.s1, self.m2 + 40 * self.s2)

        def one(v):
            if v <= 0:
                return -math.inf
            if v >= 1:
                return math.inf
            if v > 0.5:  # solve on the survival function: keeps precision in the upper tail
                return optimize.brentq(lambda s: float(self.sf(s)) - (1 - v), lo, hi, xtol=1e-13, rtol=1e-15)
            return optimize.brentq(lambda s: float(self.cdf(s)) - v, lo, hi, xtol=1e-13, rtol=1e-15)

        return np.vectorize(one, otypes=[float])(u)

    @property
    def mean(self):
        return self.w * self.m1 + (1 - self.w) * self.m2

    @property
    def var(self):
        m = self.mean
        return self.w * (self.s1**2 + (self.m1 - m) ** 2) + (1 - self.w) * (self.s2**2 + (self.m2 - m) ** 2)

    def law(self, label):
        sd = math.sqrt(self.var)
        bps = (self.m1, self.m2) if self.m1 != self.m2 else ()
        return _Law(self.logpdf, breakpoints=bps, center=self.mean, scale=min(self.s1, self.s2, sd),
                    cdf=self.cdf, sf=self.sf, ppf=self.ppf, mean=self.mean, label=label)


# --------------------------------------------------------------------------------------
# Truths (p_data)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Truth:
    """The real-data law p_data (1-D), with what the stability computations need.

    Attributes
    ----------
    name : str
    params : dict
        Its parameters.
    max_moment : float
        Moments :math:`\\mathbb E|x|^k` are finite exactly for ``k < max_moment`` (∞ for light tails).
    support : tuple of float
    """

    name: str
    params: dict
    max_moment: float
    support: tuple
    law: _Law = field(repr=False)
    moment_fn: Callable = field(repr=False, default=None)

    def moment(self, k: int) -> float:
        """Raw moment :math:`\\mathbb E x^k` (exact, from scipy / closed form)."""
        if k >= self.max_moment:
            return math.inf
        return float(self.moment_fn(k))

    @property
    def mean(self) -> float:
        return self.moment(1)

    @property
    def var(self) -> float:
        return self.moment(2) - self.moment(1) ** 2


def _check_loc_scale(loc, scale):
    return check_real("loc", loc), check_real("scale", scale, min_value=0.0, min_inclusive=False)


@lru_cache(maxsize=256)  # one object per parameter set: the θ*, quadrature and sympy caches hit
def gaussian_truth(loc=0.0, scale=1.0) -> Truth:
    """p_data = N(loc, scale²)."""
    loc, scale = _check_loc_scale(loc, scale)
    d = stats.norm(loc, scale)
    return Truth("gaussian", {"loc": loc, "scale": scale}, math.inf, (-math.inf, math.inf),
                 _scipy_law(d, center=loc, scale=scale, label="gaussian"), d.moment)


@lru_cache(maxsize=256)
def student_t_truth(nu, loc=0.0, scale=1.0) -> Truth:
    """p_data = loc + scale · t_ν (moments of order < ν exist)."""
    nu = check_real("nu", nu, min_value=0.0, min_inclusive=False)
    loc, scale = _check_loc_scale(loc, scale)
    d = stats.t(nu, loc, scale)
    return Truth("student_t", {"nu": nu, "loc": loc, "scale": scale}, nu, (-math.inf, math.inf),
                 _scipy_law(d, center=loc, scale=scale, label="student_t"), d.moment)


@lru_cache(maxsize=256)
def laplace_truth(loc=0.0, scale=1.0) -> Truth:
    """p_data = Laplace(loc, scale) (density kink at ``loc``: a quadrature breakpoint)."""
    loc, scale = _check_loc_scale(loc, scale)
    d = stats.laplace(loc, scale)
    return Truth("laplace", {"loc": loc, "scale": scale}, math.inf, (-math.inf, math.inf),
                 _scipy_law(d, breakpoints=(loc,), center=loc, scale=scale, label="laplace"), d.moment)


@lru_cache(maxsize=256)
def mixture_truth(weight, loc1, loc2, scale1=1.0, scale2=1.0) -> Truth:
    """p_data = weight · N(loc1, scale1²) + (1 − weight) · N(loc2, scale2²)."""
    w = check_real("weight", weight, min_value=0.0, max_value=1.0, min_inclusive=False, max_inclusive=False)
    m1 = check_real("loc1", loc1)
    m2 = check_real("loc2", loc2)
    s1 = check_real("scale1", scale1, min_value=0.0, min_inclusive=False)
    s2 = check_real("scale2", scale2, min_value=0.0, min_inclusive=False)
    mix = _Mixture2(w, m1, s1, m2, s2)

    def moment(k):
        return w * stats.norm(m1, s1).moment(k) + (1 - w) * stats.norm(m2, s2).moment(k)

    return Truth("mixture", {"weight": w, "loc1": m1, "loc2": m2, "scale1": s1, "scale2": s2}, math.inf,
                 (-math.inf, math.inf), mix.law("mixture"), moment)


def truth_from_scipy(dist, *, name=None, breakpoints=()) -> Truth:
    """Any frozen continuous ``scipy.stats`` law as p_data (kinks given as ``breakpoints``).

    Moment existence is read from ``dist.moment(k)`` (scipy returns inf/nan when it diverges).
    """
    if not hasattr(dist, "logpdf") or not hasattr(dist, "support"):
        raise TypeError(f"dist must be a frozen continuous scipy.stats distribution; got {dist!r}")
    mm = math.inf
    for k in range(1, 9):
        with np.errstate(all="ignore"):
            v = float(dist.moment(k))
        if not math.isfinite(v):
            mm = k
            break
    nm = name or getattr(dist.dist, "name", "scipy")
    return Truth(nm, dict(zip(("args", "kwds"), (dist.args, dist.kwds))), mm, tuple(map(float, dist.support())),
                 _scipy_law(dist, breakpoints=breakpoints, label=nm), dist.moment)


@lru_cache(maxsize=256)
def _quantile_span(truth):
    """The 0.1% and 99.9% quantiles of p_data: the range a location search must cover."""
    q = truth.law.ppf(np.array([1e-3, 1 - 1e-3]))
    return float(q[0]), float(q[1])


_TRUTHS = {"gaussian": gaussian_truth, "laplace": laplace_truth,
           "student_t": lambda: student_t_truth(5.0), "mixture": lambda: mixture_truth(0.5, -1.0, 1.0)}


def _as_truth(truth) -> Truth:
    if isinstance(truth, Truth):
        return truth
    if isinstance(truth, str):
        check_choice("truth", truth, tuple(_TRUTHS))
        return _TRUTHS[truth]()
    raise TypeError(f"truth must be a Truth (see gaussian_truth, student_t_truth, ...) or one of "
                    f"{tuple(_TRUTHS)}; got {truth!r}")


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
    support = (float(support[0]), float(support[1]))
    eta_bounds = (float(eta_bounds[0]), float(eta_bounds[1]))
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


@lru_cache(maxsize=256)
def abstract_exponential_family(k: int = 1) -> Family:
    r"""The generic k-parameter exponential family, symbolic only (for :func:`jacobian_expr`).

    .. math:: \log p_\eta(x)=\sum_{i=1}^k\eta_i T_i(x)+\log h(x)-\psi(\eta_1,\dots,\eta_k)

    with undefined functions :math:`T_i, h, \psi`: the Jacobian computed from it holds for
    every exponential family in natural parameters.
    """
    k = check_int("k", k, min_value=1)
    etas = tuple(sp.Symbol(f"eta_{i}", real=True) for i in range(1, k + 1))
    Ts = tuple(sp.Function(f"T_{i}")(X) for i in range(1, k + 1))
    psi = sp.Function("psi")(*etas)
    lp = sum(e * t for e, t in zip(etas, Ts)) + sp.log(sp.Function("h")(X)) - psi
    return Family(f"exponential_family[{k}]", etas, lp, (-math.inf, math.inf), ((-math.inf, math.inf),) * k,
                  Ts, 0, True, {}, None, None, None, None, symbolic_only=True)


@lru_cache(maxsize=256)
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
    lp = (sp.loggamma((nu_s + 1) / 2) - sp.loggamma(nu_s / 2) - sp.log(nu_s * sp.pi) / 2 - sp.log(s)
          - (nu_s + 1) / 2 * sp.log(1 + (X - mu) ** 2 / (nu_s * s**2)))

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


@lru_cache(maxsize=256)
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
        return _Mixture2(float(th[0]), a1, s1, a2, s2).law("mixture_weight")

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
    if isinstance(family, Family):
        return family
    if isinstance(family, str):
        check_choice("family", family, tuple(_FAMILIES))
        return _FAMILIES[family]()
    raise TypeError(f"family must be a Family (see gaussian_family, student_t_family, ...) or one of "
                    f"{tuple(_FAMILIES)}; got {family!r}")


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


def _check_lam(lam) -> float:
    return check_real("lam", lam, min_value=0.0)


def _check_theta(family, theta) -> np.ndarray:
    th = np.atleast_1d(np.asarray(theta, dtype=float)).ravel()
    if th.size != family.dim:
        raise ValueError(f"theta must have {family.dim} entries {tuple(map(str, family.params))}; got {theta!r}")
    for v, (lo, hi), p in zip(th, family.bounds, family.params):
        if not (math.isfinite(v) and lo < v < hi):
            raise ValueError(f"theta[{p}] must be in ({lo}, {hi}); got {v}")
    return th


# --------------------------------------------------------------------------------------
# Maximisation of θ' ↦ Σ w_i log p_θ'(x_i)
# --------------------------------------------------------------------------------------


def _inside(family, th):
    return all(lo < v < hi for v, (lo, hi) in zip(th, family.bounds)) and np.all(np.isfinite(th))


def _newton(family, measure, start, *, max_iter=200):
    """Modified Newton ascent of θ' ↦ Σ c E_law log p_θ' with backtracking on the objective.

    ``measure`` is [(law, c), ...]; expectations are adaptive DE quadratures. The objective
    is taken relative to ``start`` (finite even where E log p itself is not).
    """
    num = family._num
    th = np.array(start, dtype=float)

    def f(t):
        return _objective(family, measure, t, start)

    fval = 0.0
    for _ in range(max_iter):
        d = th.size
        # score and Hessian in one quadrature pass (one set of nodes, one level schedule)
        gh = _mexpect(measure, lambda x: np.concatenate([num.score(x, th), num.hess(x, th).reshape(d * d, -1)]))
        g, H = gh[:d], gh[d:].reshape(d, d)
        ev, V = np.linalg.eigh(0.5 * (H + H.T))
        aev = np.maximum(np.abs(ev), 1e-14 * max(np.abs(ev).max(), 1e-300))
        step = V @ ((V.T @ g) / aev)  # Newton where concave; ascent along |eigenvalues| otherwise
        concave = ev.max() < 0
        small = np.linalg.norm(step) <= 1e-6 * (1.0 + np.linalg.norm(th))
        t = 1.0
        while True:
            cand = th + t * step
            if _inside(family, cand):
                if concave and small:  # quadratic convergence: objective differences are rounding
                    fc = None
                    break
                fc = f(cand)
                if fc >= fval - 1e-13 * (1.0 + abs(fval)):
                    break
            t *= 0.5
            if t < 1e-30:
                return th
        moved = np.linalg.norm(cand - th)
        th = cand
        if fc is not None:
            fval = fc
        if moved <= 2e-15 * (1.0 + np.linalg.norm(th)):
            return th
    return th


def _objective(family, measure, th, base_th):
    num = family._num
    try:
        v = _mexpect(measure, lambda x: num.logpdf(x, th) - num.logpdf(x, base_th))
    except FloatingPointError:  # log p = -inf where the measure has mass: a useless candidate
        return -math.inf
    return float(v) if math.isfinite(v) else -math.inf


def _grid_values(family, measure, grid, base_th):
    """Objective on a 1-D grid of θ' (level-0 rules: a coarse search before Newton)."""
    num = family._num
    vals = np.zeros(grid.size)
    for law, c in measure:
        if c == 0.0:
            continue
        x, w = law.rule
        vals += c * _wsum(num.logpdf(x[:, None], (grid[None, :],)).T - num.logpdf(x, base_th)[None, :], w)
    return vals


def _argmax(family, measure, start, *, search, truth, extra_starts=()):
    """Global (grid / multi-start) or local (warm start) argmax of Σ c E log p_θ'."""
    start = np.asarray(start, dtype=float)
    if search == "local" or family.unimodal:
        return _newton(family, measure, start)
    cands = [start, *extra_starts]
    if family.dim == 1 and family.grid is not None:
        grid = family.grid(truth, start)
        vals = _grid_values(family, measure, grid, start)
        loc = [i for i in range(1, grid.size - 1) if vals[i] >= vals[i - 1] and vals[i] >= vals[i + 1]]
        loc = sorted(loc, key=lambda i: -vals[i])[:4]
        cands += [np.array([grid[i]]) for i in loc]
    else:
        cands += list(family.starts(truth))
    best, bval = None, -math.inf
    for c in cands:
        th = _newton(family, measure, c)
        v = _objective(family, measure, th, start)
        if v > bval + 1e-12 * (1 + abs(bval)) or best is None:
            best, bval = th, v
    return best


@lru_cache(maxsize=512)
def _fixed_point_cached(family, truth):
    starts = list(family.starts(truth))
    return _argmax(family, [(truth.law, 1.0)], starts[0], search="global", truth=truth, extra_starts=starts[1:])


def fixed_point(family, truth) -> np.ndarray:
    r"""The real-data optimum :math:`\theta^*=\arg\max_\theta\mathbb E_{p_\text{data}}\log p_\theta`.

    Parameters
    ----------
    family : Family or str
    truth : Truth or str

    Returns
    -------
    ndarray, shape (family.dim,)

    Notes
    -----
    Solves the population first-order condition
    :math:`\mathbb E_{p_\text{data}}\nabla_\theta\log p_\theta=0` by Newton's method on a
    double-exponential quadrature of :math:`p_\text{data}`; non-concave 1-parameter families
    are first searched on a grid (the global maximum, [B] §2, ``theory.md`` §2.1).

    Examples
    --------
    >>> from selfconsume.theory import fixed_point, gaussian_family, laplace_truth
    >>> [round(float(v), 10) for v in fixed_point(gaussian_family(), laplace_truth(1.0, 2.0))]  # (mean, sd)
    [1.0, 2.8284271247]
    """
    family, truth = _check_pair(family, truth)
    return _fixed_point_cached(family, truth).copy()


def retraining_map(family, truth, lam, *, search="auto") -> Callable:
    r"""The population retraining operator :math:`\mathcal G_\lambda` as a callable.

    .. math:: \mathcal G_\lambda(\theta)=\arg\max_{\theta'}\ \mathbb E_{p_\text{data}}\log p_{\theta'}
              +\lambda\,\mathbb E_{p_\theta}\log p_{\theta'}

    Parameters
    ----------
    family : Family or str
    truth : Truth or str
        :math:`p_\text{data}`.
    lam : float
        Synthetic-to-real ratio :math:`\lambda\ge0`.
    search : {"auto", "global", "local"}
        ``"local"`` follows the branch of maxima from the warm start :math:`\theta` (what a
        warm-started optimiser does); ``"global"`` searches the whole parameter range (grid
        for 1-parameter families, multi-start Newton otherwise). ``"auto"``: global for
        non-unimodal families, otherwise local (which is then global).

    Returns
    -------
    callable
        ``G(theta) -> ndarray`` of shape (family.dim,).

    Notes
    -----
    Solves the first-order condition
    :math:`\mathbb E_{p_\text{data}}\nabla\log p_{\theta'}+\lambda\mathbb E_{p_\theta}\nabla\log p_{\theta'}=0`
    by modified Newton ascent on quadrature rules of :math:`p_\text{data}` (built once) and of
    :math:`p_\theta` (built per call). Bertrand et al. 2024 §2 (``theory.md`` §2.1).

    Examples
    --------
    >>> from selfconsume.theory import retraining_map, gaussian_family, laplace_truth
    >>> G = retraining_map(gaussian_family(), laplace_truth(), lam=1.0)
    >>> [round(float(v), 10) for v in G([2.0, 1.0])]   # moments move half-way to the data's
    [1.0, 1.5811388301]
    """
    family, truth = _check_pair(family, truth)
    lam = _check_lam(lam)
    search = check_choice("search", search, ("auto", "global", "local"))
    if search == "auto":
        search = "local" if family.unimodal else "global"
    def G(theta):
        th = _check_theta(family, theta)
        if lam == 0.0:
            return _fixed_point_cached(family, truth).copy()
        return _argmax(family, [(truth.law, 1.0), (family.law(th), lam)], th, search=search, truth=truth)

    return G


def iterate_retraining_map(family, truth, lam, theta0, steps, *, search="auto") -> np.ndarray:
    r"""Population iterates :math:`\theta_{t+1}=\mathcal G_\lambda(\theta_t)`, ``t = 0..steps``.

    Returns
    -------
    ndarray, shape (steps + 1, family.dim)

    Examples
    --------
    >>> from selfconsume.theory import iterate_retraining_map, gaussian_family, gaussian_truth
    >>> th = iterate_retraining_map(gaussian_family(), gaussian_truth(), 1.0, [1.0, 1.0], 3)
    >>> [round(float(v), 10) for v in th[:, 0]]     # mean error halves each step: λ/(1+λ)
    [1.0, 0.5, 0.25, 0.125]
    """
    family, truth = _check_pair(family, truth)
    steps = check_int("steps", steps, min_value=0)
    G = retraining_map(family, truth, lam, search=search)
    th = _check_theta(family, theta0)
    out = np.empty((steps + 1, family.dim))
    out[0] = th
    for t in range(steps):
        th = G(th)
        out[t + 1] = th
    return out


# --------------------------------------------------------------------------------------
# The exact Jacobian: sympy implicit differentiation
# --------------------------------------------------------------------------------------


def _moment_symbol(k):
    return sp.Symbol(f"m_{k}", real=True)  # E_data[x^k]


def _reduce_data(g):
    """E_data[g] as moments m_k when g is polynomial in x, else an unevaluated ∫ q g dx."""
    ge = sp.expand(g)
    if not ge.has(X):
        return ge  # ∫ q = 1
    if ge.is_polynomial(X):
        poly = sp.Poly(ge, X)
        return sum(c * (_moment_symbol(m[0]) if m[0] else 1) for m, c in zip(poly.monoms(), poly.coeffs()))
    return sp.Integral(DATA_DENSITY(X) * sp.factor(sp.cancel(g)), (X, -sp.oo, sp.oo))


@lru_cache(maxsize=64)
def _model_moment(family, k):
    dens = sp.exp(family.logpdf)
    lo = -sp.oo if math.isinf(family.support[0]) else sp.nsimplify(family.support[0])
    hi = sp.oo if math.isinf(family.support[1]) else sp.nsimplify(family.support[1])
    r = sp.integrate(X**k * dens, (X, lo, hi), conds="none")
    return None if r.has(sp.Integral) else sp.simplify(r)


def _reduce_model(family, g):
    """E_θ[g]: g if x-free (∫p = 1); model moments (sympy integrals) if polynomial; else ∫ p g."""
    ge = sp.expand(g)
    if not ge.has(X):
        return ge
    if ge.is_polynomial(X) and not family.symbolic_only:
        poly = sp.Poly(ge, X)
        total = 0
        for m, c in zip(poly.monoms(), poly.coeffs()):
            mk = _model_moment(family, m[0]) if m[0] else 1
            if mk is None:
                break
            total += c * mk
        else:
            return total
    lo = -sp.oo if math.isinf(family.support[0]) else sp.nsimplify(family.support[0])
    hi = sp.oo if math.isinf(family.support[1]) else sp.nsimplify(family.support[1])
    return sp.Integral(sp.exp(family.logpdf) * sp.factor(sp.cancel(g)), (X, lo, hi))


@lru_cache(maxsize=32)
def _jacobian_derivation(family):
    th = family.params
    thp = tuple(sp.Symbol(f"{p.name}'", **p.assumptions0) for p in th)
    lp = family.logpdf
    lpp = lp.subs(dict(zip(th, thp)), simultaneous=True)
    score_p = [sp.diff(lpp, a) for a in thp]
    lo = -sp.oo if math.isinf(family.support[0]) else sp.nsimplify(family.support[0])
    hi = sp.oo if math.isinf(family.support[1]) else sp.nsimplify(family.support[1])
    p_abs = _P(X, *th)
    # first-order condition of θ' = G_λ(θ): F(θ, θ') = 0
    F = sp.Matrix([sp.Integral(DATA_DENSITY(X) * s, (X, lo, hi)) + LAM * sp.Integral(p_abs * s, (X, lo, hi))
                   for s in score_p])
    F_thp = F.jacobian(thp)
    F_th = F.jacobian(th)
    # score identity ∇_θ p_θ = p_θ ∇_θ log p_θ, then evaluate at the fixed point θ' = θ = θ*
    subs_d = {sp.Derivative(p_abs, a): p_abs * sp.diff(lp, a) for a in th}
    at = dict(zip(thp, th))
    unsub = lambda e: e.replace(lambda a: isinstance(a, sp.Subs), lambda a: a.doit())  # noqa: E731
    F_th = unsub(F_th.xreplace(subs_d).subs(at, simultaneous=True))
    F_thp = unsub(F_thp.subs(at, simultaneous=True))
    d = len(th)
    score = [sp.diff(lp, a) for a in th]
    hess = [[sp.diff(lp, a, b) for b in th] for a in th]
    # Bartlett's identity, checked pointwise: ∂²p = p (∂² log p + ∂log p ∂log p^T); with
    # ∫∂²p = ∂²∫p = 0 (normalisation) the cross term λ∫p s sᵀ equals −λ B.
    dens = sp.exp(lp)
    if not family.symbolic_only:
        for i in range(d):
            for j in range(d):
                gap = sp.diff(dens, th[i], th[j]) - dens * (hess[i][j] + score[i] * score[j])
                if sp.simplify(gap) != 0:
                    raise RuntimeError(f"Bartlett identity failed for {family.name}: {gap}")
    A = sp.Matrix(d, d, lambda i, j: _reduce_data(hess[i][j]))
    B = sp.Matrix(d, d, lambda i, j: _reduce_model(family, hess[i][j]))
    # check the derived F-blocks are the integrals claimed: F_thp = ∫q H + λ∫p H, F_th = λ∫p s sᵀ
    for i in range(d):
        for j in range(d):
            integrands = [a.function for a in F_thp[i, j].atoms(sp.Integral)]
            want = (DATA_DENSITY(X) * hess[i][j], p_abs * hess[i][j])
            if not all(any(sp.simplify(e - w) == 0 for w in want) for e in integrands):
                raise RuntimeError(f"unexpected F_θ' integrands {integrands}")
            cross = [a.function for a in F_th[i, j].atoms(sp.Integral)]
            if not all(sp.simplify(c - p_abs * score[i] * score[j]) == 0 for c in cross):
                raise RuntimeError(f"unexpected F_θ integrands {cross}")
    J = LAM * (A + LAM * B).inv() * B if d > 1 else sp.Matrix([[LAM * B[0, 0] / (A[0, 0] + LAM * B[0, 0])]])
    return F, A, B, J, score


@lru_cache(maxsize=32)
def _jacobian_expr_cached(family):
    F, A, B, J, score = _jacobian_derivation(family)
    if family.exponential:
        # Exponential family: E_data[∇ log p_θ*] = 0 is moment matching; eliminate the data
        # moments that appear through it. (Natural parameters: H is x-free and A = B at once.)
        foc = [_reduce_data(s) for s in score]
        ms = sorted(set().union(*(e.free_symbols for e in list(A) + foc)) - set(family.params) - {LAM},
                    key=lambda s: s.name)
        ms = [m for m in ms if m.name.startswith("m_")]
        if ms:
            sol = sp.solve(foc, ms, dict=True)
            if len(sol) != 1:
                raise RuntimeError(f"moment matching did not determine {ms}: {sol}")
            A = A.subs(sol[0])
        J = LAM * (A + LAM * B).inv() * B
        return sp.simplify(J)
    return J


def jacobian_expr(family) -> sp.Matrix:
    r"""The exact Jacobian of :math:`\mathcal G_\lambda` at :math:`\theta^*`, derived by sympy.

    Implicit differentiation of the first-order condition
    :math:`F(\theta,\theta')=\int q\,\nabla_{\theta'}\log p_{\theta'}+\lambda\int p_\theta\nabla_{\theta'}\log p_{\theta'}=0`
    gives :math:`\partial_\theta\mathcal G=-F_{\theta'}^{-1}F_\theta` with, at :math:`\theta=\theta'=\theta^*`,
    :math:`F_{\theta'}=A+\lambda B` and :math:`F_\theta=\lambda\int p\,\nabla\log p\,\nabla\log p^\top=-\lambda B`
    (Bartlett's identity, checked pointwise in sympy), hence

    .. math:: J=\lambda\,(A+\lambda B)^{-1}B,\qquad A=\mathbb E_\text{data}\nabla^2\log p_{\theta^*},\quad
              B=\mathbb E_{\theta^*}\nabla^2\log p_{\theta^*}=-\mathcal I(\theta^*).

    Parameters
    ----------
    family : Family or str

    Returns
    -------
    sympy.Matrix
        In :data:`LAM` and the symbols ``family.params`` (standing for :math:`\theta^*`).
        Data expectations appear as moments ``m_k`` = :math:`\mathbb E_\text{data}x^k` or as
        ``Integral(q(x)*f, x)`` with :data:`DATA_DENSITY` ``q``; model expectations are
        evaluated by sympy where it can (polynomial integrands) and otherwise left as
        ``Integral(p_θ(x)*f, x)``. For exponential families (``family.statistics`` set) the
        first-order condition (moment matching) eliminates the data moments, and the result
        simplifies to :math:`\frac{\lambda}{1+\lambda}I` — for *any* truth with the moments
        the fit needs (``theory.md`` §1.6, "Exact Jacobian", 🧮).

    Examples
    --------
    >>> from selfconsume.theory import jacobian_expr, gaussian_family, abstract_exponential_family
    >>> jacobian_expr(gaussian_family())
    Matrix([
    [lambda/(lambda + 1),                   0],
    [                  0, lambda/(lambda + 1)]])
    >>> jacobian_expr(abstract_exponential_family(1))
    Matrix([[lambda/(lambda + 1)]])
    """
    family = _as_family(family)
    return _jacobian_expr_cached(family)


@dataclass(frozen=True)
class StabilityJacobian:
    r"""Numeric Jacobian of :math:`\mathcal G_\lambda` at :math:`\theta^*` (quadrature).

    Attributes
    ----------
    lam : float
    theta_star : ndarray
    A, B : ndarray
        :math:`\mathbb E_\text{data}\nabla^2\log p_{\theta^*}` and
        :math:`\mathbb E_{\theta^*}\nabla^2\log p_{\theta^*}=-\mathcal I(\theta^*)`.
    J : ndarray
        :math:`\lambda(A+\lambda B)^{-1}B`.
    """

    lam: float
    theta_star: np.ndarray
    A: np.ndarray
    B: np.ndarray
    J: np.ndarray

    @property
    def eigenvalues(self) -> np.ndarray:
        return np.sort(np.linalg.eigvals(self.J).real)

    @property
    def spectral_radius(self) -> float:
        return float(np.max(np.abs(np.linalg.eigvals(self.J))))

    @property
    def norm(self) -> float:
        """Operator 2-norm ‖J‖₂ (what [B] Thm 1 bounds)."""
        return float(np.linalg.norm(self.J, 2))


def _curvatures(family, truth, th):
    num = family._num
    A = _expect(truth.law, lambda x: num.hess(x, th))
    B = _expect(family.law(th), lambda x: num.hess(x, th))
    return 0.5 * (A + A.T), 0.5 * (B + B.T)


def stability_jacobian(family, truth, lam) -> StabilityJacobian:
    r"""Numeric :math:`J=\lambda(A+\lambda B)^{-1}B` at :math:`\theta^*` by quadrature.

    Notes
    -----
    :math:`A` and :math:`B` are double-exponential quadratures of the family's lambdified
    Hessian against :math:`p_\text{data}` and :math:`p_{\theta^*}`. Its eigenvalues are
    :math:`\lambda\kappa_i/(1+\lambda\kappa_i)` with :math:`\kappa_i` the generalised
    eigenvalues of :math:`(N, M)=(-B,-A)`, so the spectral radius is below 1 for every
    :math:`\lambda` when :math:`M\succ0` (see :func:`stability_boundary`).

    Examples
    --------
    >>> from selfconsume.theory import stability_jacobian, student_t_family, gaussian_truth
    >>> sj = stability_jacobian(student_t_family(4.0), gaussian_truth(), lam=1.0)
    >>> round(sj.spectral_radius, 6)
    0.476002
    """
    family, truth = _check_pair(family, truth)
    lam = _check_lam(lam)
    th = _fixed_point_cached(family, truth)
    A, B = _curvatures(family, truth, th)
    J = lam * np.linalg.solve(A + lam * B, B)
    return StabilityJacobian(lam, th.copy(), A, B, J)


# --------------------------------------------------------------------------------------
# Constants of the theorems and the contraction factors
# --------------------------------------------------------------------------------------


def _w1(p: _Law, q: _Law) -> float:
    """W1(p, q) = ∫|F_p − F_q| dx, split at the crossings of the two CDFs."""
    # crossing search on both laws' quadrature nodes: dense in the bulk, spread into the tails
    g = np.unique(np.concatenate([p.rule[0], q.rule[0], p.breakpoints, q.breakpoints]))
    g = g[np.isfinite(g)]
    med = 0.5 * (float(p.ppf(np.array([0.5]))[0]) + float(q.ppf(np.array([0.5]))[0]))

    def D(x):
        x = np.asarray(x, dtype=float)
        # right of the median use survival functions: no cancellation in the upper tail
        return np.where(x > med, q.sf(x) - p.sf(x), p.cdf(x) - q.cdf(x))

    dg = D(g)
    nz = np.nonzero(dg)[0]  # exact zeros (saturated tails) carry no sign
    g, dg = g[nz], dg[nz]
    roots = []
    for a, b, fa, fb in zip(g[:-1], g[1:], dg[:-1], dg[1:]):
        if fa * fb < 0:
            roots.append(optimize.brentq(lambda s: float(D(s)), a, b, xtol=1e-15, rtol=1e-15))
    # pieces end at crossings (kinks of |D|), at the laws' own kinks (kinks of D') and at
    # finite ends of the supports (where D starts)
    ends = {v for v in (*p.support, *q.support) if math.isfinite(v)}
    edges = [-math.inf, *sorted(set(roots) | {med} | set(p.breakpoints) | set(q.breakpoints) | ends), math.inf]
    lo = min(p.support[0], q.support[0])
    hi = max(p.support[1], q.support[1])
    edges = [v for v in edges if lo <= v <= hi] if math.isfinite(lo) or math.isfinite(hi) else edges
    edges = sorted(set(edges) | {lo, hi})
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        if a == b:
            continue
        # integrate D (one sign per piece) with DE rules on the piece (density-free: log 1 = 0)
        piece = _Law(lambda s: np.zeros_like(s), support=(a, b), center=med, scale=max(p.scale, q.scale),
                     label="W1 piece")
        # a CDF integrated numerically (generic families) carries ~1e-12 noise: accept 1e-10 there
        atol = None if (p.exact_cdf and q.exact_cdf) else 1e-10
        total += abs(float(_expect(piece, D, atol=atol)))
    return total


@dataclass(frozen=True)
class ModelConstants:
    r"""The constants of [B] Thm 1 / [F] Thm 2.2 measured on a model (``theory.md`` §1.6, §2.3).

    Attributes
    ----------
    alpha : float
        :math:`\alpha=\lambda_{\min}(-A)`, :math:`A=\mathbb E_\text{data}\nabla^2\log p_{\theta^*}`.
    L : float
        :math:`\sup_{x\in\text{domain}}\|\partial_x\nabla^2_\theta\log p_{\theta^*}(x)\|_2`.
    eps : float
        :math:`\varepsilon=W_1(p_{\theta^*},p_\text{data})`.
    domain : tuple of float
        Where the sup defining ``L`` was taken.
    theta_star : ndarray
    A, B : ndarray
    mismatch : float
        :math:`\|A-B\|_2=\|N-M\|_2`; Kantorovich–Rubinstein gives ``mismatch <= L*eps``
        when ``L`` is a global Lipschitz constant.
    """

    alpha: float
    L: float
    eps: float
    domain: tuple
    theta_star: np.ndarray
    A: np.ndarray
    B: np.ndarray
    mismatch: float

    def rho_B(self, lam):
        return rho_B(lam, self.alpha, self.L, self.eps)

    def rho_F(self, lam):
        return rho_F(lam, self.alpha, self.L, self.eps)

    def rho_sharp(self, lam):
        return rho_sharp(lam, self.alpha, self.L, self.eps)

    def condition_B(self, lam):
        return condition_B(lam, self.alpha, self.L, self.eps)

    def condition_F(self, lam):
        return condition_F(lam, self.alpha, self.L, self.eps)


def _lipschitz(family, th, domain, extra=()):
    num = family._num
    lo, hi = domain
    g = np.unique(np.concatenate([np.linspace(lo, hi, 4001), [v for v in extra if lo <= v <= hi]]))

    def size(x):
        D = num.dxhess(np.atleast_1d(np.asarray(x, dtype=float)), th)  # (d, d, n)
        if family.dim == 1:
            return np.abs(D[0, 0])
        return np.abs(np.linalg.eigvalsh(np.moveaxis(D, -1, 0))).max(axis=-1)

    v = size(g)
    if not np.all(np.isfinite(v)):
        raise FloatingPointError("the x-derivative of the Hessian is not finite on the domain")
    best = float(v.max())
    order = np.argsort(v)[::-1][:5]
    for i in order:  # polish the largest grid values: the sup lies between neighbours
        a, b = g[max(i - 1, 0)], g[min(i + 1, g.size - 1)]
        if b > a:
            r = optimize.minimize_scalar(lambda s: -float(size(s)[0]), bounds=(a, b), method="bounded",
                                         options={"xatol": 1e-12 * (1 + abs(a))})
            best = max(best, -float(r.fun))
    return best


def model_constants(family, truth, domain=None) -> ModelConstants:
    r"""Measure :math:`\alpha`, :math:`L`, :math:`\varepsilon` of the stability theorems on a model.

    Parameters
    ----------
    family : Family or str
    truth : Truth or str
    domain : (float, float), optional
        Bounded interval on which the Lipschitz constant of
        :math:`x\mapsto\nabla^2_\theta\log p_{\theta^*}(x)` is taken. Default: the smallest
        interval holding all but :math:`10^{-6}` of the mass of :math:`p_\text{data}` and of
        :math:`p_{\theta^*}` in each tail. (For the Student-t and mixture-weight families the
        derivative is bounded on :math:`\mathbb R` and its sup lies well inside this
        interval; for the Gaussian family it grows linearly and ``L`` depends on the domain.)

    Returns
    -------
    ModelConstants

    Notes
    -----
    :math:`\alpha=\lambda_{\min}(-\mathbb E_\text{data}\nabla^2\log p_{\theta^*})` (quadrature);
    :math:`L=\sup_x\|\partial_x\nabla^2_\theta\log p_{\theta^*}(x)\|_2` (grid of 4001 points,
    the five largest values polished by bounded scalar maximisation);
    :math:`\varepsilon=W_1=\int|F_{\theta^*}-F_\text{data}|\,dx` split at the crossings of the
    CDFs (double-exponential quadrature per piece). Assumptions of [B] Thm 1 (§2.3) and
    [F] Thm 2.2 (§1.6).

    Examples
    --------
    >>> from selfconsume.theory import model_constants, student_t_family, gaussian_truth
    >>> mc = model_constants(student_t_family(4.0), gaussian_truth())
    >>> bool(mc.mismatch <= mc.L * mc.eps)      # Kantorovich–Rubinstein
    True
    """
    family, truth = _check_pair(family, truth)
    if truth.max_moment <= 1:
        raise ValueError(f"truth {truth.name!r} has no finite mean: W1(p_θ*, p_data) is infinite")
    th = _fixed_point_cached(family, truth)
    law = family.law(th)
    if law.mean is None or not math.isfinite(law.mean):
        raise ValueError(f"the fitted model {family.name!r} at θ* = {th} has no finite mean: W1 is infinite")
    if domain is None:
        u = np.array([1e-6, 1 - 1e-6])
        qa, qb = truth.law.ppf(u), law.ppf(u)
        domain = (float(min(qa[0], qb[0])), float(max(qa[1], qb[1])))
    else:
        lo = check_real("domain[0]", domain[0])
        hi = check_real("domain[1]", domain[1])
        if not lo < hi:
            raise ValueError(f"domain must be a bounded interval (lo < hi); got {domain}")
        domain = (lo, hi)
    A, B = _curvatures(family, truth, th)
    alpha = float(np.linalg.eigvalsh(-A).min())
    if not alpha > 0:
        raise ValueError(f"E_data ∇² log p at θ* is not negative definite (alpha = {alpha:g}): θ* is not a strict maximum")
    L = _lipschitz(family, th, domain, extra=[*truth.law.breakpoints, *law.breakpoints, float(th[0])])
    eps = _w1(law, truth.law)
    mismatch = float(np.linalg.norm(A - B, 2))
    return ModelConstants(alpha, L, eps, domain, th.copy(), A, B, mismatch)


@lru_cache(maxsize=None)
def rho_B_expr() -> sp.Expr:
    r""":math:`\rho_B` of [B] Thm 1, derived from its Neumann-series proof.

    With :math:`K=A^{-1}B` and :math:`\|K\|\le\kappa=1+L\varepsilon/\alpha`,
    :math:`J=\lambda(I+\lambda K)^{-1}K=\sum_{k\ge0}(-1)^k\lambda^{k+1}K^{k+1}`, so
    :math:`\|J\|\le\sum_k(\lambda\kappa)^{k+1}=\lambda\kappa/(1-\lambda\kappa)`, i.e.

    .. math:: \rho_B=\frac{\lambda(\alpha+\varepsilon L)}{\alpha-\lambda(\alpha+\varepsilon L)}.
    """
    k = sp.Symbol("k", integer=True, nonnegative=True)
    kappa = sp.Symbol("kappa", positive=True)
    series = sp.summation((LAM * kappa) ** (k + 1), (k, 0, sp.oo))
    conv = [a for a in series.atoms(sp.Piecewise)][0].args[0][0]  # the convergent branch λκ < 1
    closed = series.subs([a for a in series.atoms(sp.Piecewise)][0], conv)
    return sp.factor(sp.cancel(closed.subs(kappa, 1 + LIPSCHITZ * EPS / ALPHA)))


@lru_cache(maxsize=None)
def rho_F_expr() -> sp.Expr:
    r""":math:`\rho_F` of [F] Thm 2.2 (as reported, 🔶, ``theory.md`` §1.6).

    It is the bound :math:`\lambda\,\sup\|N\|/\inf\lambda_{\min}(M+\lambda N)` with
    :math:`M=\alpha I` and :math:`\|N-M\|\le L\varepsilon`:

    .. math:: \rho_F=\frac{\lambda(\alpha+\varepsilon L)}{\alpha+\lambda(\alpha-\varepsilon L)}.
    """
    n_sup = ALPHA + LIPSCHITZ * EPS
    den_inf = ALPHA + LAM * (ALPHA - LIPSCHITZ * EPS)
    return LAM * n_sup / den_inf


@lru_cache(maxsize=None)
def rho_sharp_expr() -> sp.Expr:
    r"""A sharper bound on :math:`\|J\|_2` derived here (beyond [B], [F]).

    With :math:`N=M+\Delta`, :math:`c=\lambda/(1+\lambda)`: :math:`J-cI=c(M+\lambda N)^{-1}\Delta`
    (sympy-checked identity), and :math:`\lambda_{\min}(M+\lambda N)\ge\alpha+\lambda(\alpha-L\varepsilon)`,
    :math:`\|\Delta\|\le L\varepsilon`, so

    .. math:: \|J\|_2\le\rho_\sharp=\frac{\lambda}{1+\lambda}\Big(1+\frac{L\varepsilon}{\alpha+\lambda(\alpha-L\varepsilon)}\Big),
              \qquad \rho_F-\rho_\sharp=\frac{2\lambda^2L\varepsilon}{(1+\lambda)(\alpha+\lambda(\alpha-L\varepsilon))}\ge0.

    :math:`\rho_\sharp<1\iff\lambda(2L\varepsilon-\alpha)<\alpha`: for :math:`L\varepsilon\le\alpha/2`
    every :math:`\lambda` contracts, where [F] needs :math:`\lambda<\alpha/(2L\varepsilon)`.
    """
    # the identity J − cI = c (M + λN)^{-1}(N − M), for generic symmetric 2×2 M, N
    m = sp.symbols("m11 m12 m22")
    nn = sp.symbols("n11 n12 n22")
    M = sp.Matrix([[m[0], m[1]], [m[1], m[2]]])
    N = sp.Matrix([[nn[0], nn[1]], [nn[1], nn[2]]])
    c = LAM / (1 + LAM)
    gap = LAM * (M + LAM * N).inv() * N - c * sp.eye(2) - c * (M + LAM * N).inv() * (N - M)
    if sp.simplify(gap) != sp.zeros(2, 2):
        raise RuntimeError("J − cI = c(M+λN)⁻¹(N−M) failed")
    lmin = ALPHA + LAM * (ALPHA - LIPSCHITZ * EPS)
    return sp.factor(c * (1 + LIPSCHITZ * EPS / lmin))


def _lambdify_rho(expr):
    return sp.lambdify((LAM, ALPHA, LIPSCHITZ, EPS), expr, modules="numpy")


@lru_cache(maxsize=None)
def _rho_funcs():
    return {"B": _lambdify_rho(rho_B_expr()), "F": _lambdify_rho(rho_F_expr()), "sharp": _lambdify_rho(rho_sharp_expr())}


def _check_constants(lam, alpha, L, eps):
    lam = _check_lam(lam)
    alpha = check_real("alpha", alpha, min_value=0.0, min_inclusive=False)
    L = check_real("L", L, min_value=0.0)
    eps = check_real("eps", eps, min_value=0.0)
    return lam, alpha, L, eps


def rho_B(lam, alpha, L, eps) -> float:
    r"""[B] Thm 1 contraction factor :math:`\lambda(\alpha+\varepsilon L)/(\alpha-\lambda(\alpha+\varepsilon L))`.

    ``inf`` where the denominator is :math:`\le0` (no bound). See :func:`rho_B_expr`.

    Examples
    --------
    >>> from selfconsume.theory import rho_B
    >>> rho_B(0.25, 1.0, 0.0, 0.0)   # λ/(1-λ) when well specified
    0.3333333333333333
    """
    lam, alpha, L, eps = _check_constants(lam, alpha, L, eps)
    if alpha - lam * (alpha + eps * L) <= 0:
        return math.inf
    return float(_rho_funcs()["B"](lam, alpha, L, eps))


def rho_F(lam, alpha, L, eps) -> float:
    r"""[F] Thm 2.2 factor :math:`\lambda(\alpha+\varepsilon L)/(\alpha+\lambda(\alpha-\varepsilon L))`.

    ``inf`` where the denominator is :math:`\le0`. See :func:`rho_F_expr`.

    Examples
    --------
    >>> from selfconsume.theory import rho_F
    >>> rho_F(1.0, 1.0, 0.0, 0.0)    # λ/(1+λ) when well specified
    0.5
    """
    lam, alpha, L, eps = _check_constants(lam, alpha, L, eps)
    if alpha + lam * (alpha - eps * L) <= 0:
        return math.inf
    return float(_rho_funcs()["F"](lam, alpha, L, eps))


def rho_sharp(lam, alpha, L, eps) -> float:
    r"""The sharper bound :math:`\frac{\lambda}{1+\lambda}(1+\frac{L\varepsilon}{\alpha+\lambda(\alpha-L\varepsilon)})`
    on :math:`\|J\|_2` (derived here; see :func:`rho_sharp_expr`). ``inf`` where the
    denominator is :math:`\le0`.

    Examples
    --------
    >>> from selfconsume.theory import rho_sharp, rho_F
    >>> rho_sharp(3.0, 1.0, 0.4, 1.0) < 1 <= rho_F(3.0, 1.0, 0.4, 1.0)
    True
    """
    lam, alpha, L, eps = _check_constants(lam, alpha, L, eps)
    if alpha + lam * (alpha - eps * L) <= 0:
        return math.inf
    return float(_rho_funcs()["sharp"](lam, alpha, L, eps))


def condition_B(lam, alpha, L, eps) -> bool:
    r"""[B] Thm 1's condition :math:`\lambda(1+L\varepsilon/\alpha)<1/2` (⇔ :math:`\rho_B<1`)."""
    lam, alpha, L, eps = _check_constants(lam, alpha, L, eps)
    return bool(lam * (1.0 + L * eps / alpha) < 0.5)


def condition_F(lam, alpha, L, eps) -> bool:
    r"""[F] Thm 2.2's conditions :math:`L\varepsilon<\alpha` and :math:`\lambda<\alpha/(2L\varepsilon)`."""
    lam, alpha, L, eps = _check_constants(lam, alpha, L, eps)
    le = L * eps
    return bool(le < alpha and (le == 0.0 or lam < alpha / (2.0 * le)))


# --------------------------------------------------------------------------------------
# The stability boundary
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _boundary_exprs():
    out = {}
    for key, e in (("B", rho_B_expr()), ("F", rho_F_expr()), ("sharp", rho_sharp_expr())):
        sol = [s for s in sp.solve(sp.Eq(e, 1), LAM)]
        out[key] = sol[0] if sol else sp.oo
    return out


def _boundary_value(key, alpha, L, eps):
    le = L * eps
    if key == "F" and le == 0:
        return math.inf
    if key == "sharp" and 2 * le <= alpha:
        return math.inf
    v = float(_boundary_exprs()[key].subs({ALPHA: alpha, LIPSCHITZ: L, EPS: eps}))
    return v if v > 0 else math.inf


@dataclass(frozen=True)
class StabilityBoundary:
    r"""Where the population loop stops contracting, and the sufficient conditions beside it.

    Attributes
    ----------
    lam_spectral : float
        :math:`\sup\{\lambda:\rho(J(\lambda))<1\}` (``inf``: locally stable for every λ).
    lam_norm : float
        First :math:`\lambda` with :math:`\|J(\lambda)\|_2\ge1` (one step may expand the
        Euclidean error though the spectral radius is < 1); ``inf`` if none (always in 1-D).
    lam_B, lam_F, lam_sharp : float
        Where :math:`\rho_B`, :math:`\rho_F`, :math:`\rho_\sharp` reach 1 (sufficient conditions).
    lam_bistable : float
        Smallest :math:`\lambda` at which a *second* local maximum :math:`\theta_2` of the
        real-data likelihood becomes a fixed point of the global-argmax operator (then an
        attracting one): the loop started near it never reaches :math:`\theta^*`. ``inf``
        when the likelihood has a single maximum.
    theta_star, theta_secondary : ndarray, ndarray or None
    kappa : ndarray
        Generalised eigenvalues of :math:`(N, M)`: :math:`\rho(J)=\max\lambda\kappa/(1+\lambda\kappa)`.
    constants : ModelConstants or None
        None when :math:`W_1(p_{\theta^*},p_\text{data})=\infty` (a model or truth without a
        mean); the sufficient conditions then never hold (``lam_B = lam_F = lam_sharp = 0``).
    confirmation : tuple of dict
        Population runs started near :math:`\theta_2` below and above ``lam_bistable``:
        ``{"lam", "theta0", "limit", "steps", "converged_to"}``.
    note : str
    """

    lam_spectral: float
    lam_norm: float
    lam_B: float
    lam_F: float
    lam_sharp: float
    lam_bistable: float
    theta_star: np.ndarray
    theta_secondary: np.ndarray | None
    kappa: np.ndarray
    constants: ModelConstants | None
    confirmation: tuple
    note: str


def _local_maxima(family, truth):
    """Distinct strict local maxima of θ ↦ E_data log p_θ (best first)."""
    data = [(truth.law, 1.0)]
    th_star = _fixed_point_cached(family, truth)
    if family.unimodal:
        return [th_star]
    num = family._num
    found = []
    if family.dim == 1 and family.grid is not None:
        grid = family.grid(truth, th_star)
        vals = _grid_values(family, data, grid, th_star)
        starts = [np.array([grid[i]]) for i in range(1, grid.size - 1) if vals[i] > vals[i - 1] and vals[i] > vals[i + 1]]
    else:
        starts = list(family.starts(truth))
    for s in [th_star, *starts]:
        th = _newton(family, data, s)
        H = _expect(truth.law, lambda x: num.hess(x, th))
        if np.linalg.eigvalsh(0.5 * (H + H.T)).max() >= 0:
            continue
        scale = np.maximum(np.abs(th), 1.0)
        if all(np.max(np.abs(th - f) / scale) > 1e-6 for f in found):
            found.append(th)
    vals = [_objective(family, data, th, th_star) for th in found]
    order = np.argsort(vals)[::-1]
    return [found[i] for i in order]


def _bistable_lambda(family, truth, th2):
    r"""λ_c(θ₂) = sup_{θ'} [ℓ(θ') − ℓ(θ₂)] / KL(p_θ₂ ‖ p_θ'): θ₂ is a fixed point of G_λ iff λ ≥ λ_c."""
    law2 = family.law(th2)

    def ratio(t):
        t = np.atleast_1d(np.asarray(t, dtype=float))
        gain = _objective(family, [(truth.law, 1.0)], t, th2)
        kl = -_objective(family, [(law2, 1.0)], t, th2)
        return gain / kl if kl > 0 and gain > 0 else 0.0

    th_star = _fixed_point_cached(family, truth)
    if family.dim == 1 and family.grid is not None:
        # coarse: level-0 rules on the whole grid; then polish the best cell adaptively
        grid = family.grid(truth, th2)
        gain = _grid_values(family, [(truth.law, 1.0)], grid, th2)
        kl = -_grid_values(family, [(law2, 1.0)], grid, th2)
        with np.errstate(divide="ignore", invalid="ignore"):
            vals = np.where((kl > 0) & (gain > 0), gain / kl, 0.0)
        i = int(np.argmax(vals))
        if vals[i] <= 0:
            return 0.0
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        r = optimize.minimize_scalar(lambda s: -ratio([s]), bounds=(a, b), method="bounded",
                                     options={"xatol": 1e-12})
        return max(ratio([grid[i]]), -float(r.fun))
    r = optimize.minimize(lambda t: -ratio(t) if _inside(family, t) else 0.0, th_star, method="Nelder-Mead",
                          options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})
    return max(-float(r.fun), ratio(th_star))


def _run_to_limit(G, th0, max_steps=400, tol=1e-11):
    th = np.asarray(th0, dtype=float)
    for k in range(1, max_steps + 1):
        nxt = G(th)
        if np.max(np.abs(nxt - th)) <= tol * (1 + np.max(np.abs(th))):
            return nxt, k
        th = nxt
    return th, max_steps


def stability_boundary(family, truth, *, confirm=True, margin=0.1, domain=None) -> StabilityBoundary:
    r"""The largest :math:`\lambda` for which the population loop still converges to :math:`\theta^*`.

    Parameters
    ----------
    family : Family or str
    truth : Truth or str
    confirm : bool
        Iterate the population map from near :math:`\theta_2` at
        :math:`\lambda_c(1\mp\text{margin})` and record where it goes.
    margin : float
        Relative distance to :math:`\lambda_c` of the confirmation runs.
    domain : (float, float), optional
        Passed to :func:`model_constants`.

    Returns
    -------
    StabilityBoundary

    Notes
    -----
    *Local (spectral) boundary: none.* :math:`Jv=\mu v\iff Nv=\kappa Mv` with
    :math:`\mu=\lambda\kappa/(1+\lambda\kappa)`. At a strict maximum :math:`M=-A\succ0` and
    :math:`N=-B\succ0`, so every :math:`\kappa>0` and :math:`0<\mu<1` for **every**
    :math:`\lambda\ge0`: the spectral radius only tends to 1 as :math:`\lambda\to\infty`.
    No misspecification of the model or truth makes :math:`\theta^*` locally unstable; the
    sufficient conditions of [B] (:math:`\rho_B<1\iff\lambda<\alpha/(2(\alpha+L\varepsilon))`)
    and [F] (:math:`\lambda<\alpha/(2L\varepsilon)`) are only sufficient. In more than one
    dimension :math:`J` is not symmetric and :math:`\|J\|_2` may exceed 1 (``lam_norm``):
    errors can grow for a few steps before they shrink.

    *Global boundary: bistability.* Fixed points of :math:`\mathcal G_\lambda` are the
    stationary points :math:`\theta` of :math:`\ell(\theta)=\mathbb E_\text{data}\log p_\theta`
    that are global maximisers of :math:`\ell(\theta')+\lambda\mathbb E_\theta\log p_{\theta'}`.
    A second local maximum :math:`\theta_2` is one iff
    :math:`\ell(\theta')-\ell(\theta_2)\le\lambda\,\mathrm{KL}(p_{\theta_2}\|p_{\theta'})` for all
    :math:`\theta'`, i.e. iff

    .. math:: \lambda\ \ge\ \lambda_c=\sup_{\theta'}\frac{\ell(\theta')-\ell(\theta_2)}{\mathrm{KL}(p_{\theta_2}\,\|\,p_{\theta'})},

    and it is then attracting (its own :math:`\kappa>0`). Above :math:`\lambda_c` the loop
    started near :math:`\theta_2` (a poor initial model) stays there forever; below, it
    jumps to :math:`\theta^*`'s basin. This needs a multimodal likelihood — e.g. a
    heavy-tailed location model fitted to a bimodal truth; it cannot happen for exponential
    families or the mixture weight (concave objectives: ``lam_bistable = inf``).
    Derived here (🧮); [B] Thm 1 is local and assumes a good initial model (§2.3).

    Examples
    --------
    >>> from selfconsume.theory import stability_boundary, student_t_family, mixture_truth
    >>> sb = stability_boundary(student_t_family(3.0, scale=0.5), mixture_truth(0.6, -3.0, 3.0))
    >>> sb.lam_spectral, round(sb.lam_bistable, 4)
    (inf, 0.1948)
    >>> [c["converged_to"] for c in sb.confirmation]
    ['theta_star', 'theta_secondary']
    """
    family, truth = _check_pair(family, truth)
    margin = check_real("margin", margin, min_value=0.0, max_value=1.0, min_inclusive=False, max_inclusive=False)
    try:
        mc = model_constants(family, truth, domain=domain)
    except ValueError as exc:
        if "W1" not in str(exc):
            raise
        mc = None  # ε = W1 = ∞: ρ_B = ρ_F = ∞ for every λ > 0, the sufficient conditions never hold
    A, B = _curvatures(family, truth, _fixed_point_cached(family, truth))
    M, N = -A, -B
    if np.linalg.eigvalsh(M).min() <= 0:
        raise ValueError("E_data ∇² log p at θ* is not negative definite: θ* is not a strict maximum")
    kappa = np.sort(np.linalg.eigvals(np.linalg.solve(M, N)).real)
    if np.all(kappa > 0):
        lam_spec = math.inf
    else:  # not reachable at a strict maximum with positive Fisher information; kept general
        km = kappa.min()
        lam_spec = 1.0 / (2.0 * abs(km)) if km < 0 else math.inf
    lam_norm = math.inf
    if family.dim > 1:
        lams = np.logspace(-3, 8, 441)
        norms = np.array([np.linalg.norm(l * np.linalg.solve(M + l * N, N), 2) for l in lams])
        hit = np.nonzero(norms >= 1.0)[0]
        if hit.size:
            i = hit[0]
            lo = lams[i - 1] if i > 0 else 0.0
            f = lambda l: np.linalg.norm(l * np.linalg.solve(M + l * N, N), 2) - 1.0  # noqa: E731
            lam_norm = float(optimize.brentq(f, lo, lams[i], xtol=1e-14, rtol=1e-13)) if i > 0 else float(lams[0])
    if mc is None:
        lam_B = lam_F = lam_sh = 0.0
    else:
        lam_B = _boundary_value("B", mc.alpha, mc.L, mc.eps)
        lam_F = _boundary_value("F", mc.alpha, mc.L, mc.eps)
        lam_sh = _boundary_value("sharp", mc.alpha, mc.L, mc.eps)
    maxima = _local_maxima(family, truth)
    th_star = maxima[0]
    lam_bi, th2 = math.inf, None
    for cand in maxima[1:]:
        lc = _bistable_lambda(family, truth, cand)
        if lc < lam_bi:
            lam_bi, th2 = lc, cand
    runs = []
    if confirm and th2 is not None and math.isfinite(lam_bi) and lam_bi > 0:
        scale = np.maximum(np.abs(th2 - th_star), 1e-3)
        th0 = th2 + 0.02 * scale * np.sign(th2 - th_star + 1e-300)  # inside θ₂'s basin
        for lam in (lam_bi * (1 - margin), lam_bi * (1 + margin)):
            G = retraining_map(family, truth, lam, search="global")
            lim, k = _run_to_limit(G, th0)
            d_star = float(np.max(np.abs(lim - th_star)))
            d_two = float(np.max(np.abs(lim - th2)))
            to = "theta_star" if d_star < 1e-6 * (1 + np.max(np.abs(th_star))) else (
                "theta_secondary" if d_two < 1e-6 * (1 + np.max(np.abs(th2))) else "other")
            runs.append({"lam": float(lam), "theta0": th0, "limit": lim, "steps": k, "converged_to": to})
    if th2 is None:
        note = (f"{family.name} fitted to {truth.name}: a single maximum of the real-data likelihood; "
                "the population loop is locally stable for every λ (ρ(J) = λκ/(1+λκ) < 1) and has no "
                "second fixed point: no finite stability boundary exists.")
    else:
        note = (f"{family.name} fitted to {truth.name}: locally stable for every λ (ρ(J) < 1); a second "
                f"maximum θ₂ = {np.round(th2, 6).tolist()} becomes an attracting fixed point for "
                f"λ ≥ λ_c = {lam_bi:.6g} (bistability: global convergence to θ* is lost).")
    return StabilityBoundary(lam_spec, lam_norm, lam_B, lam_F, lam_sh, lam_bi, th_star.copy(),
                             None if th2 is None else th2.copy(), kappa, mc, tuple(runs), note)


# --------------------------------------------------------------------------------------
# Finite sample (§1.6 (iii), §2.4)
# --------------------------------------------------------------------------------------

_N = sp.Symbol("n", positive=True)
_SIGMA2 = sp.Symbol("sigma2", positive=True)
_T = sp.Symbol("t", integer=True, nonnegative=True)
_V = sp.Function("v")


@lru_cache(maxsize=None)
def expected_mean_var_expr() -> sp.Expr:
    r""":math:`\mathrm{Var}(\hat\mu_t-\hat\mu_\text{real})` from the AR(1) recursion, by ``rsolve``.

    :math:`e_{t+1}=a(e_t+\xi_t)`, :math:`a=\lambda/(1+\lambda)`, :math:`\mathrm{Var}\,\xi_t=\sigma^2/(\lambda n)`,
    :math:`e_0=0` (start at the real-data fit): :math:`v_{t+1}=a^2(v_t+\sigma^2/(\lambda n))`.
    """
    a = LAM / (1 + LAM)
    sol = sp.rsolve(_V(_T + 1) - a**2 * (_V(_T) + _SIGMA2 / (LAM * _N)), _V(_T), {_V(0): 0})
    # rsolve returns ratios of (λ+1)^t and λ^t that overflow for large t; return the same
    # function in the form v_∞ (1 − a^{2t}), after checking the two agree
    stable = expected_stationary_mean_var_expr() * (1 - a ** (2 * _T))
    if sp.simplify(sol - stable) != 0:
        raise RuntimeError(f"rsolve gave {sol}, not {stable}")
    return stable


@lru_cache(maxsize=None)
def expected_stationary_mean_var_expr() -> sp.Expr:
    r"""Stationary variance of the AR(1) recursion: the fixed point of :math:`v=a^2(v+\sigma^2/(\lambda n))`.

    .. math:: \mathrm{Var}_\infty=\frac{\lambda\sigma^2}{n(1+2\lambda)}.
    """
    v = sp.Symbol("v")
    a = LAM / (1 + LAM)
    sol = sp.solve(sp.Eq(v, a**2 * (v + _SIGMA2 / (LAM * _N))), v)
    return sp.factor(sol[0])


@lru_cache(maxsize=None)
def _mean_var_funcs():
    return (sp.lambdify((_N, LAM, _SIGMA2), expected_stationary_mean_var_expr(), "numpy"),
            sp.lambdify((_N, LAM, _SIGMA2, _T), expected_mean_var_expr(), "numpy"))


def expected_stationary_mean_var(n, lam, sigma2) -> float:
    r"""Stationary :math:`\mathrm{Var}(\hat\mu_t-\hat\mu_\text{real})=\lambda\sigma^2/(n(1+2\lambda))`.

    Gaussian-mean coordinate, real data (n points) reused every round, :math:`\lambda n`
    fresh synthetic points from the current fit (of variance :math:`\sigma^2`)
    (``theory.md`` §1.6 (iii), 🧮; [B] §2.4 setting). See :func:`expected_stationary_mean_var_expr`.

    Examples
    --------
    >>> from selfconsume.theory import expected_stationary_mean_var
    >>> round(expected_stationary_mean_var(200, 1.0, 1.0), 8)
    0.00166667
    """
    n = check_int("n", n, min_value=1)
    lam = _check_lam(lam)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    return float(_mean_var_funcs()[0](n, lam, sigma2))


def expected_mean_var(n, lam, sigma2, t):
    r""":math:`\mathrm{Var}(\hat\mu_t-\hat\mu_\text{real})=\frac{\lambda\sigma^2}{n(1+2\lambda)}\big(1-(\tfrac{\lambda}{1+\lambda})^{2t}\big)`
    (start at the real-data fit; see :func:`expected_mean_var_expr`). ``t`` may be an int array.

    Examples
    --------
    >>> from selfconsume.theory import expected_mean_var
    >>> round(float(expected_mean_var(10, 1.0, 1.0, 1)), 6)     # one round: a² σ²/(λ n)
    0.025
    """
    n = check_int("n", n, min_value=1)
    lam = _check_lam(lam)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    t = _check_int_array("t", t)
    if lam == 0.0:
        return np.zeros_like(t, dtype=float) if np.ndim(t) else 0.0
    return _mean_var_funcs()[1](n, lam, sigma2, t).astype(float) if np.ndim(t) else float(
        _mean_var_funcs()[1](n, lam, sigma2, int(t)))


def _check_int_array(name, t, min_value=0):
    if np.ndim(t) == 0:
        return check_int(name, t, min_value=min_value)
    arr = np.asarray(t)
    if arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) and not np.all(np.mod(arr, 1) == 0):
        raise ValueError(f"{name} must be integers >= {min_value}; got {t!r}")
    arr = arr.astype(np.int64)
    if np.any(arr < min_value):
        raise ValueError(f"{name} must be integers >= {min_value}; got min {arr.min()}")
    return arr


_E0, _RHO, _ETA = sp.symbols("e0 rho eta", nonnegative=True)


@lru_cache(maxsize=None)
def bound_error_recursion_expr() -> sp.Expr:
    r"""Solution of :math:`e_t=\rho e_{t-1}+\eta`, :math:`e_0` given, by ``rsolve``:
    :math:`\rho^te_0+\eta(1-\rho^t)/(1-\rho)` ([B] Thm 2, ``theory.md`` §2.4 ⚠️)."""
    sol = sp.rsolve(_V(_T) - _RHO * _V(_T - 1) - _ETA, _V(_T), {_V(0): _E0})
    return sp.collect(sp.simplify(sol), _E0)


@lru_cache(maxsize=None)
def _err_rec_func():
    e = bound_error_recursion_expr()
    return sp.lambdify((_E0, _RHO, _ETA, _T), e, "numpy"), sp.lambdify((_E0, _ETA, _T), sp.limit(e, _RHO, 1), "numpy")


def bound_error_recursion(e0, rho, eta, t):
    r"""Bound :math:`e_t\le\rho^te_0+\eta\frac{1-\rho^t}{1-\rho}` of the recursion :math:`e_{t+1}\le\rho e_t+\eta`.

    ``rho = 1`` gives the limit :math:`e_0+\eta t`. ``t`` may be an int array.
    Source: [B] Thm 2 (finite-sample stability), reconstructed (``theory.md`` §2.4 ⚠️);
    see :func:`bound_error_recursion_expr`.

    Examples
    --------
    >>> from selfconsume.theory import bound_error_recursion
    >>> bound_error_recursion(1.0, 0.5, 0.1, 2)
    0.4
    """
    e0 = check_real("e0", e0, min_value=0.0)
    rho = check_real("rho", rho, min_value=0.0)
    eta = check_real("eta", eta, min_value=0.0)
    t = _check_int_array("t", t)
    f, f1 = _err_rec_func()
    if rho == 1.0:
        out = f1(e0, eta, t)
    else:
        out = f(e0, rho, eta, t)
    return np.asarray(out, dtype=float) if np.ndim(t) else float(out)


# --------------------------------------------------------------------------------------
# Accumulate workflow (§3.4, §3.5) and regression (§3.3)
# --------------------------------------------------------------------------------------

_J = sp.Symbol("j", integer=True, positive=True)
_K = sp.Symbol("k", integer=True, nonnegative=True)
_TR0 = sp.Symbol("trace0", positive=True)


@lru_cache(maxsize=None)
def expected_accumulate_cov_expr() -> sp.Expr:
    r""":math:`\sigma^2\prod_{j=1}^k(1-\frac{1}{nj^2})` evaluated by sympy (rising factorials).

    From :math:`\mathbb E[\hat\Sigma_j\mid\hat\Sigma_{j-1}]=(1-\frac1{nj^2})\hat\Sigma_{j-1}`
    (accumulate workflow, MLE covariance, n new points per round; Kazdan et al. 2024,
    ``theory.md`` §3.5 🧮).
    """
    return _SIGMA2 * sp.product(1 - 1 / (_N * _J**2), (_J, 1, _K))


@lru_cache(maxsize=None)
def accumulate_cov_limit_expr() -> sp.Expr:
    r""":math:`\lim_{k\to\infty}\prod_{j\le k}(1-\frac1{nj^2})=\frac{\sin(\pi/\sqrt n)}{\pi/\sqrt n}`
    (sympy ``limit`` of the product, then the reflection formula via ``gammasimp``)."""
    a = sp.Symbol("a", positive=True)  # a = 1/√n: sympy takes this limit far faster in a
    lim = sp.limit((expected_accumulate_cov_expr() / _SIGMA2).subs(_N, 1 / a**2), _K, sp.oo)
    return sp.gammasimp(lim).subs(a, 1 / sp.sqrt(_N))


@lru_cache(maxsize=None)
def _log_product_func():
    # log Π = Σ log Γ(·): overflow-free for any k (rising factorials rewritten as Γ ratios)
    P = expected_accumulate_cov_expr() / _SIGMA2
    P = P.replace(sp.RisingFactorial, lambda a, k: sp.gamma(a + k) / sp.gamma(a))
    P = P.replace(sp.factorial, lambda k: sp.gamma(k + 1))
    lg = sp.expand_log(sp.log(P), force=True)
    # an opaque log-Gamma: sympy would turn loggamma(k + 1) back into log(gamma(k + 1))
    LG = sp.Function("LG")
    lg = lg.replace(lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.gamma),
                    lambda e: LG(e.args[0].args[0]))
    return sp.lambdify((_N, _K), lg, modules=[{"LG": special.gammaln}, "numpy"])


def expected_accumulate_cov(n, k, sigma2=1.0):
    r""":math:`\mathbb E\hat\Sigma_k=\sigma^2\prod_{j=1}^{k}\big(1-\frac{1}{nj^2}\big)` (per coordinate).

    Accumulate workflow with MLE (1/n) refits, n samples per round, ``k`` rounds fitted
    (``k = 1``: the fit to the real data, :math:`(1-1/n)\sigma^2`). Kazdan et al. 2024,
    ``theory.md`` §3.5 (🧮). ``k`` may be an int array.

    Examples
    --------
    >>> from selfconsume.theory import expected_accumulate_cov
    >>> round(float(expected_accumulate_cov(10, 1)), 12)
    0.9
    """
    n = check_int("n", n, min_value=2)
    k = _check_int_array("k", k)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    out = sigma2 * np.exp(_log_product_func()(float(n), np.asarray(k, dtype=float)))
    return out if np.ndim(k) else float(out)


def accumulate_cov_limit(n) -> float:
    r""":math:`\lim_k\prod_{j\le k}(1-1/(nj^2))=\sin(\pi/\sqrt n)/(\pi/\sqrt n)` (0.8434 at n = 10).

    Examples
    --------
    >>> from selfconsume.theory import accumulate_cov_limit
    >>> round(accumulate_cov_limit(10), 4)
    0.8434
    """
    n = check_int("n", n, min_value=2)
    return float(sp.lambdify(_N, accumulate_cov_limit_expr(), "numpy")(float(n)))


@lru_cache(maxsize=None)
def expected_accumulate_mean_err_expr() -> sp.Expr:
    r""":math:`\mathbb E\|\hat\mu_k-\mu\|^2=\frac{\mathrm{tr}\Sigma_0}{n}\sum_{j=1}^k\frac{P_{j-1}}{j^2}`,
    :math:`P_j=\prod_{i\le j}(1-\frac1{ni^2})`.

    Martingale increments :math:`\hat\mu_j-\hat\mu_{j-1}=(\bar x_j-\hat\mu_{j-1})/j` of variance
    :math:`\mathbb E\,\mathrm{tr}\hat\Sigma_{j-1}/(nj^2)` (``theory.md`` §3.5 🧮); the sum is
    built by ``summation`` of the per-round increments.
    """
    P = expected_accumulate_cov_expr().subs(_SIGMA2, 1)
    term = P.subs(_K, _J - 1) / _J**2
    return _TR0 / _N * sp.Sum(term, (_J, 1, _K))


def expected_accumulate_mean_err(n, k, trace0):
    r""":math:`\mathbb E\|\hat\mu_k-\mu\|^2` in the accumulate workflow (MLE, n per round).

    See :func:`expected_accumulate_mean_err_expr`; ``trace0`` = :math:`\mathrm{tr}\Sigma_0`.
    Bounded by :func:`bound_accumulate_mean_err`. ``k`` may be an int array (k ≥ 1).

    Examples
    --------
    >>> from selfconsume.theory import expected_accumulate_mean_err
    >>> round(float(expected_accumulate_mean_err(10, 40, 1.0)), 4)
    0.1545
    """
    n = check_int("n", n, min_value=2)
    k = _check_int_array("k", k, min_value=1)
    trace0 = check_real("trace0", trace0, min_value=0.0, min_inclusive=False)
    kmax = int(np.max(k))
    j = np.arange(1, kmax + 1, dtype=float)
    terms = np.exp(_log_product_func()(float(n), j - 1.0)) / j**2
    cum = trace0 / n * np.cumsum(terms)
    out = cum[np.asarray(k) - 1]
    return out if np.ndim(k) else float(out)


@lru_cache(maxsize=None)
def bound_accumulate_mean_err_expr() -> sp.Expr:
    r""":math:`\frac{\mathrm{tr}\Sigma_0}{n}\sum_{j\ge1}j^{-2}=\frac{\pi^2}{6}\frac{\mathrm{tr}\Sigma_0}{n}` (``summation``;
    :math:`P_j\le1`)."""
    return _TR0 / _N * sp.summation(1 / _J**2, (_J, 1, sp.oo))


def bound_accumulate_mean_err(n, trace0) -> float:
    r"""The π²/6 bound :math:`\frac{\pi^2}{6}\,\mathrm{tr}\Sigma_0/n` on the accumulate mean error.

    Examples
    --------
    >>> from selfconsume.theory import bound_accumulate_mean_err
    >>> round(bound_accumulate_mean_err(10, 1.0), 6)
    0.164493
    """
    n = check_int("n", n, min_value=1)
    trace0 = check_real("trace0", trace0, min_value=0.0, min_inclusive=False)
    return float(sp.lambdify((_N, _TR0), bound_accumulate_mean_err_expr(), "numpy")(n, trace0))


_TT, _D = sp.symbols("T d", positive=True, integer=True)
_R = sp.Function("r")


@lru_cache(maxsize=None)
def expected_regression_risk_expr(workflow: str = "replace") -> sp.Expr:
    r"""Test risk :math:`\mathcal E_n=\mathbb E\|\hat w_n-w^*\|^2_\Sigma` of iterated least squares.

    Fixed Gaussian design :math:`X\in\mathbb R^{T\times d}` reused every round, labels of round
    n drawn from the previous fit plus fresh noise (Gerstgrasser et al. 2024, ``theory.md``
    §3.3). With :math:`c=\sigma^2\,\mathbb E\,\mathrm{tr}(\Sigma(X^\top X)^{-1})=\sigma^2d/(T-d-1)`
    (inverse-Wishart mean): replace adds :math:`c` per round (:math:`\hat w_n=\hat w_{n-1}+X^+E_n`,
    solved by ``rsolve``: :math:`nc`), accumulate adds :math:`c/n^2`
    (:math:`\hat w_n=\hat w_{n-1}+X^+E_n/n`, ``summation``: :math:`c\,H_n^{(2)}`).
    """
    workflow = check_choice("workflow", workflow, WORKFLOWS)
    c = _SIGMA2 * _D / (_TT - _D - 1)
    n = sp.Symbol("n", integer=True, nonnegative=True)
    if workflow == "replace":
        return sp.simplify(sp.rsolve(_R(n) - _R(n - 1) - c, _R(n), {_R(0): 0}))
    i = sp.Symbol("i", integer=True, positive=True)
    summed = sp.expand_func(sp.summation(c / i**2, (i, 1, n)))  # sympy's Lerch/Hurwitz form
    closed = c * sp.harmonic(n, 2)
    if sp.simplify(summed - closed.rewrite(sp.zeta)) != 0:
        raise RuntimeError(f"summation gave {summed}, not {closed}")
    return closed


@lru_cache(maxsize=None)
def _regression_funcs():
    n = sp.Symbol("n", integer=True, nonnegative=True)
    rep = expected_regression_risk_expr("replace")
    acc = expected_regression_risk_expr("accumulate").rewrite(sp.zeta)
    fr = sp.lambdify((n, _TT, _D, _SIGMA2), rep, "numpy")
    fa = sp.lambdify((n, _TT, _D, _SIGMA2), acc, ["scipy", "numpy"])
    return fr, fa


def expected_regression_risk(n_iter, T, d, sigma2=1.0, workflow="replace"):
    r"""Risk after ``n_iter`` rounds: :math:`n c` (replace) or :math:`c\sum_{i\le n}i^{-2}` (accumulate).

    :math:`c=\sigma^2d/(T-d-1)`; see :func:`expected_regression_risk_expr`. ``n_iter`` may
    be an int array.

    Examples
    --------
    >>> from selfconsume.theory import expected_regression_risk
    >>> round(float(expected_regression_risk(12, 40, 5, 1.0, "replace")), 4)
    1.7647
    >>> round(float(expected_regression_risk(12, 40, 5, 1.0, "accumulate")), 4)
    0.2301
    """
    n = _check_int_array("n_iter", n_iter, min_value=0)
    T, d = _check_design(T, d)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    workflow = check_choice("workflow", workflow, WORKFLOWS)
    fr, fa = _regression_funcs()
    f = fr if workflow == "replace" else fa
    out = np.asarray(f(np.asarray(n, dtype=float), T, d, sigma2), dtype=float) * np.ones(np.shape(n))
    if workflow == "accumulate":
        out = np.where(np.asarray(n) == 0, 0.0, out)  # ζ(2) − ζ(2, 1) rounds to ~1e-16
    return out if np.ndim(n) else float(out)


def _check_design(T, d):
    d = check_int("d", d, min_value=1)
    T = check_int("T", T, min_value=d + 2)
    return T, d


def bound_regression_risk(T, d, sigma2=1.0) -> float:
    r"""Accumulate-workflow bound :math:`\frac{\pi^2}{6}\,\sigma^2d/(T-d-1)` (the limit of the
    accumulate risk: its increments summed to infinity by sympy ``summation``).

    Examples
    --------
    >>> from selfconsume.theory import bound_regression_risk
    >>> round(bound_regression_risk(40, 5), 4)
    0.2419
    """
    T, d = _check_design(T, d)
    sigma2 = check_real("sigma2", sigma2, min_value=0.0, min_inclusive=False)
    return float(_regression_bound_expr().subs({_SIGMA2: sigma2, _D: d, _TT: T}))


@lru_cache(maxsize=None)
def _regression_bound_expr():
    # the n → ∞ limit of the accumulate risk: the same summation taken to infinity
    i = sp.Symbol("i", integer=True, positive=True)
    return sp.summation(_SIGMA2 * _D / (_TT - _D - 1) / i**2, (i, 1, sp.oo))
