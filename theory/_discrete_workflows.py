r"""Exact moments of a categorical law refit by empirical frequencies under three workflows (Kazdan et al., ICML 2025).

Model 0 is the empirical law of n real draws from :math:`p_0`; n points are drawn from each
model; the next model is the empirical law of the newest n points (``replace``, multinomial
Wright–Fisher), of every point so far (``accumulate``, a Pólya-urn-like pool) or of a uniform
subsample of n pool points without replacement (``accumulate-subsample``, the released protocol)
— ``shared/theory.md`` §3.5, 🧮.

Two exact facts carry everything here:

* **one category is a Markov chain.** A multinomial's (hypergeometric's) marginal count is
  binomial (hypergeometric), so the pool count :math:`C_t` of one category, with the pool size
  :math:`N_t=(t+1)n` (n under replace), moves on its own: :math:`C_{t+1}=C_t+\mathrm{Bin}(n,q_t)`
  (replace: :math:`C_{t+1}=\mathrm{Bin}(n,q_t)`), :math:`q_t=C_t/N_t` or, subsampled,
  :math:`q_t=H_t/n` with :math:`H_t\sim\mathrm{Hyp}(N_t,C_t,n)`. Its law, computed by dynamic
  programming, gives every per-category expectation exactly: :math:`\mathbb E\,q_t=p_0`,
  the entropy :math:`\mathbb E\sum_i-q_t(i)\log q_t(i)` and the lost categories
  :math:`\mathbb E\#\{i:q_t(i)=0\}` (:func:`expected_discrete_entropy`,
  :func:`expected_discrete_zeros`).
* **the diversity is multiplied by a constant.** :math:`\mathbb E[q(1-q)]` of the next model is a
  fixed multiple of this one's (the multinomial and hypergeometric second moments are linear in
  :math:`q(1-q)`), so :math:`\mathbb E[1-\sum_iq_t(i)^2]=(1-\sum_ip_0(i)^2)\,F_t` with a
  product :math:`F_t` (:func:`discrete_gini_factor_expr`, :func:`expected_discrete_gini`); under
  accumulate it is :math:`\prod_{j\le t+1}(1-\frac1{nj^2})\to\frac{\sin(\pi/\sqrt n)}{\pi/\sqrt n}`,
  the product of the Gaussian accumulate workflow.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import special, stats

from selfconsume._validation import check_choice, check_int, check_memory, check_probability_vector, hashable_cache

__all__ = [
    "discrete_gini_factor_expr",
    "expected_discrete_gini",
    "expected_discrete_entropy",
    "expected_discrete_zeros",
]

WORKFLOWS = ("replace", "accumulate", "accumulate-subsample")

_N = sp.Symbol("N", integer=True, positive=True)   # pool size of model t
_n = sp.Symbol("n", integer=True, positive=True)   # points per generation
_p = sp.Symbol("p", positive=True)                 # one category's pool frequency C/N


def _het_ratio(expr_C2, mean_C, total):
    """E[C'(N' − C')]/N'² divided by p(1 − p), given E C'² and E C' (must not depend on p)."""
    het = (total * mean_C - expr_C2) / total**2
    ratio = sp.factor(sp.simplify(het / (_p * (1 - _p))))
    if ratio.has(_p):
        raise RuntimeError(f"the one-step diversity ratio depends on p: {ratio}")
    return ratio


@hashable_cache(None)
def discrete_gini_factor_expr(workflow: str = "replace") -> sp.Expr:
    r"""One-step factor :math:`\mathbb E[D_{t+1}]/\mathbb E[D_t]` of the model's diversity
    :math:`D=1-\sum_iq(i)^2`, as a function of the pool size N of model t and of n.

    Derived per category (D is the sum of :math:`q(1-q)` over categories) from the moments
    :math:`\mathbb E B=nq,\ \mathbb E B^2=nq(1-q)+n^2q^2` of a binomial batch count and
    :math:`\mathbb E H=np,\ \mathbb E H^2=np(1-p)\frac{N-n}{N-1}+n^2p^2` of a hypergeometric
    subsample count (p = C/N, the pool frequency): sympy forms :math:`\mathbb E[C'(N'-C')]/N'^2`
    and checks that its ratio to :math:`p(1-p)` is free of p.

    * replace (pool = the n newest points, N = n): :math:`1-\frac1n`;
    * accumulate (model = pool): :math:`1-\frac{n}{(N+n)^2}`;
    * accumulate-subsample: the pool's factor
      :math:`\frac{(N+n)^2-n-(n-1)\frac{N-n}{N-1}}{(N+n)^2}` times the ratio
      :math:`r(N+n)/r(N)` of the subsample's read-out factors
      :math:`r(N)=\mathbb E[H(n-H)]/(n^2p(1-p))=\frac{N(n-1)}{n(N-1)}`.

    Kazdan et al., ICML 2025 (``theory.md`` §3.5, 🧮). Symbols ``N`` and ``n``.

    Examples
    --------
    >>> from selfconsume.theory import discrete_gini_factor_expr
    >>> discrete_gini_factor_expr("accumulate")
    -n/(N + n)**2 + 1
    """
    workflow = check_choice("workflow", workflow, WORKFLOWS)
    C = _p * _N
    if workflow == "replace":
        # C' ~ Bin(n, p), N = n
        EC, EC2 = _n * _p, _n * _p * (1 - _p) + _n**2 * _p**2
        return _het_simplified(EC2, EC, _n)
    if workflow == "accumulate":
        # C' = C + B, B ~ Bin(n, p)
        EB, EB2 = _n * _p, _n * _p * (1 - _p) + _n**2 * _p**2
        EC2 = C**2 + 2 * C * EB + EB2
        return _het_simplified(EC2, C + EB, _N + _n)
    # subsample H ~ Hyp(N, C, n); batch B | H ~ Bin(n, H/n): E B = E H, E B² = E H + (1 − 1/n) E H²
    EH = _n * _p
    EH2 = _n * _p * (1 - _p) * (_N - _n) / (_N - 1) + _n**2 * _p**2
    EB, EB2 = EH, EH + (1 - 1 / _n) * EH2
    EC2 = C**2 + 2 * C * EB + EB2  # E[C·B] = C·E B: the subsample and batch are drawn given the pool
    pool = _het_simplified(EC2, C + EB, _N + _n)
    read = sp.factor(sp.simplify((_n * EH - EH2) / _n**2 / (_p * (1 - _p))))  # E[H(n − H)]/n² ÷ p(1 − p)
    if read.has(_p):
        raise RuntimeError(f"the subsample read-out ratio depends on p: {read}")
    return sp.simplify(pool * read.subs(_N, _N + _n) / read)


def _het_simplified(EC2, EC, total):
    r = _het_ratio(EC2, EC, total)
    # present it as 1 − (…)/(N + n)²: the deficit is the diversity lost in one step
    return 1 - sp.factor(sp.simplify(1 - r))


@lru_cache(maxsize=None)
def _factor_func(workflow):
    return sp.lambdify((_N, _n), discrete_gini_factor_expr(workflow), "numpy")


def _check_common(p0, n, generations, workflow):
    p0 = check_probability_vector("p0", p0)
    if p0.size < 2:
        raise ValueError(f"p0 must have at least 2 categories (K >= 2); got K = {p0.size}")
    n = check_int("n", n, min_value=1)
    generations = check_int("generations", generations, min_value=0)
    workflow = check_choice("workflow", workflow, WORKFLOWS)
    return p0, n, generations, workflow


def expected_discrete_gini(p0, n, generations, workflow="replace") -> np.ndarray:
    r"""Exact :math:`\mathbb E[1-\sum_iq_t(i)^2]` of models t = 0..generations.

    :math:`(1-\sum_ip_0(i)^2)\,(1-\frac1n)\prod_{j=1}^{t}f(jn,n)`, f the one-step factor of
    :func:`discrete_gini_factor_expr` at the pool size jn of model j − 1 (model 0 is the
    empirical law of the n real draws). The same factor holds per category:
    :math:`\mathbb E[q_t(i)(1-q_t(i))]=p_0(i)(1-p_0(i))\,F_t`.

    Parameters
    ----------
    p0 : array_like
        True law over K ≥ 2 categories.
    n : int
        Points per generation, :math:`n\ge1`.
    generations : int
        Last model index, :math:`\ge0`.
    workflow : {"replace", "accumulate", "accumulate-subsample"}

    Returns
    -------
    ndarray, shape (generations + 1,)

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import expected_discrete_gini
    >>> g = expected_discrete_gini(np.full(10, 0.1), 10, 3, "replace")
    >>> np.round(g, 6).tolist()       # 0.9 · 0.9^(t+1)
    [0.81, 0.729, 0.6561, 0.59049]
    """
    p0, n, generations, workflow = _check_common(p0, n, generations, workflow)
    check_memory("the factors of every generation", 2 * (generations + 1), names="generations")
    d0 = 1.0 - float(np.sum(p0 * p0))
    if n == 1:  # one point per generation: every model is a point mass
        return np.zeros(generations + 1)
    j = np.arange(1, generations + 1, dtype=float)
    steps = np.asarray(_factor_func(workflow)(j * n, float(n)), dtype=float) * np.ones_like(j)
    F = (1.0 - 1.0 / n) * np.concatenate([[1.0], np.cumprod(steps)])
    return d0 * F


# --------------------------------------------------------------------------- the one-category chain


def _binom_rows(n, probs):
    """P(B = b | row) for B ~ Bin(n, probs[row]), b = 0..n: a (len(probs), n + 1) matrix."""
    return stats.binom.pmf(np.arange(n + 1)[None, :], n, np.asarray(probs, dtype=float)[:, None])


def _hyp_rows(N, n):
    """P(H = h | C) for a subsample of n from a pool of N holding C of the category: (N + 1, n + 1)."""
    C = np.arange(N + 1)[:, None]
    h = np.arange(n + 1)[None, :]
    ok = (h <= C) & (n - h <= N - C)
    lg = special.gammaln
    with np.errstate(invalid="ignore"):
        logp = (lg(C + 1) - lg(h + 1) - lg(np.maximum(C - h, 0) + 1)
                + lg(N - C + 1) - lg(n - h + 1) - lg(np.maximum(N - C - n + h, 0) + 1)
                - (lg(N + 1) - lg(n + 1) - lg(N - n + 1)))
    return np.where(ok, np.exp(np.where(ok, logp, 0.0)), 0.0)


def _category_laws(p, n, generations, workflow):
    """Yield, for t = 0..generations, (values of q_t, their probabilities): the exact law of the model
    frequency of one category, for each initial probability in ``p`` (rows of the matrix)."""
    k = np.arange(n + 1)
    law = _binom_rows(n, p)                  # pool counts of model 0 (N = n), one row per category
    N = n
    B_read = _binom_rows(n, k / n)           # Bin(n, h/n) for a read-out count h = 0..n
    for t in range(generations + 1):
        Hmat = _hyp_rows(N, n) if workflow == "accumulate-subsample" and N > n else None
        if Hmat is not None:
            yield k / n, law @ Hmat
        else:
            yield np.arange(N + 1) / N, law
        if t == generations:
            return
        if workflow == "replace":
            law = law @ B_read
            continue
        if workflow == "accumulate":
            step = _binom_rows(n, np.arange(N + 1) / N)       # P(B = b | C)
        else:
            step = B_read if Hmat is None else Hmat @ B_read   # model 0 reads the whole pool
        new = np.zeros((law.shape[0], N + n + 1))
        for b in range(n + 1):
            new[:, b:b + N + 1] += law * step[:, b]
        law = new
        N += n


def _per_category(p0, n, generations, workflow, fn):
    """Σ_i E fn(q_t(i)) for t = 0..generations: one dynamic programme, one row per distinct p0(i) > 0."""
    check_memory("the expectations of every generation", 2 * (generations + 1), names="generations")
    pool_max = n * (generations + 1 if workflow != "replace" else 1)
    values, mult = np.unique(p0, return_counts=True)
    check_memory("the one-category laws and transition matrices", (pool_max + 1) * (values.size + 2 * (n + 1)),
                 names="n, generations, p0")
    out = np.zeros(generations + 1)
    zero = values == 0.0
    if zero.any():  # never drawn: q = 0 at every t
        out += mult[zero].sum() * fn(np.zeros(1), np.ones((1, 1)))[0]
    pos = ~zero
    for t, (q, prob) in enumerate(_category_laws(values[pos], n, generations, workflow)):
        out[t] += mult[pos] @ fn(q, prob)
    return out


def _entropy_term(q, prob):
    h = -q * np.log(np.where(q > 0, q, 1.0))  # 0 at q = 0
    return prob @ h


def _zero_term(q, prob):
    return prob[:, q == 0].sum(axis=1)


def expected_discrete_entropy(p0, n, generations, workflow="replace") -> np.ndarray:
    r"""Exact :math:`\mathbb E[-\sum_iq_t(i)\log q_t(i)]` (nats) of models t = 0..generations.

    The entropy is a sum over categories, and each category's model frequency has an exact
    law: its pool count is a Markov chain of its own (binomial batches; a hypergeometric
    subsample read-out), propagated by dynamic programming over the count (cost
    O(generations²·n²), times n under accumulate-subsample). Kazdan et al. plot this metric.

    Parameters
    ----------
    p0 : array_like
        True law over K ≥ 2 categories.
    n : int
        Points per generation, :math:`n\ge1`.
    generations : int
        Last model index, :math:`\ge0`.
    workflow : {"replace", "accumulate", "accumulate-subsample"}

    Returns
    -------
    ndarray, shape (generations + 1,)

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import expected_discrete_entropy
    >>> h = expected_discrete_entropy([0.5, 0.5], 2, 1, "replace")
    >>> np.round(h, 6).tolist()       # P(q = ½) = ½, then ½·½
    [0.346574, 0.173287]
    """
    p0, n, generations, workflow = _check_common(p0, n, generations, workflow)
    return _per_category(p0, n, generations, workflow, _entropy_term)


def expected_discrete_zeros(p0, n, generations, workflow="replace") -> np.ndarray:
    r"""Exact expected number of categories with :math:`q_t(i)=0` ("Num. Zero Proportions"), t = 0..generations.

    :math:`\sum_i\Pr(q_t(i)=0)` from the one-category chains (see
    :func:`expected_discrete_entropy`). Under accumulate a category lost at model 0 stays lost
    and no other is ever lost (the pool only grows), so the value is
    :math:`\sum_i(1-p_0(i))^n` at every t; under replace loss is absorbing; a subsample can miss
    a category the pool still holds.

    Parameters
    ----------
    p0 : array_like
        True law over K ≥ 2 categories.
    n : int
        Points per generation, :math:`n\ge1`.
    generations : int
        Last model index, :math:`\ge0`.
    workflow : {"replace", "accumulate", "accumulate-subsample"}

    Returns
    -------
    ndarray, shape (generations + 1,)

    Examples
    --------
    >>> import numpy as np
    >>> from selfconsume.theory import expected_discrete_zeros
    >>> z = expected_discrete_zeros([0.5, 0.5], 2, 2, "accumulate")
    >>> np.round(z, 6).tolist()       # 2 · (1/2)²
    [0.5, 0.5, 0.5]
    """
    p0, n, generations, workflow = _check_common(p0, n, generations, workflow)
    return _per_category(p0, n, generations, workflow, _zero_term)
