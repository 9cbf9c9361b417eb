r"""The numeric core of Bradley–Terry curation: :func:`log_h_levels`, a Numba kernel (pure: arrays in, arrays out).

:func:`log_h_levels` computes, the exact curated-retraining factor
:math:`H^K_p` (Ferbach et al. 2024, Eq. 6) on the distinct reward levels of ``p``, through
the one-dimensional Laplace representation (``selfconsume.theory`` derives it with sympy)

.. math:: H^K_p(x) = K\int_{-\infty}^{\infty} G(u+\alpha)\,\varphi_p(e^u)^{K-1}\,du,
          \qquad G(v)=e^{v}e^{-e^{v}},\quad \alpha=r(x)-r^*,\quad
          \varphi_p(s)=\mathbb E_p\big[e^{-s\,e^{r(X)-r^*}}\big],

(the substitution :math:`s=e^u` of :math:`K e^{r}\int_0^\infty e^{-se^{r}}\varphi_p(s)^{K-1}ds`,
rewards shifted by the top level :math:`r^*` of the support so every weight is ≤ 1).

Quadrature and its error (why the constants below are what they are):

* trapezoidal rule on the u-line with step ``H_STEP = 0.2``. The integrand is entire for
  integer K, and on the line :math:`u+iy` it is bounded by :math:`1/\cos y` times the
  integrand at :math:`u+\log\cos y` (since :math:`|\varphi(se^{iy})|\le\varphi(s\cos y)`),
  so :math:`\int|f(u+iy)|du\le I/\cos y`. The strip bound of Trefethen & Weideman (2014,
  Thm 5.1) then gives a relative error :math:`\le 2/(\cos d\,(e^{2\pi d/h}-1))` for every
  :math:`d<\pi/2`: at :math:`h=0.2`, :math:`d=1.55`, about :math:`7\cdot10^{-20}`, for every
  K, p and reward; the width of the integrand in u is O(1) whatever K is.
* no left truncation: left of :math:`t=e^u(K-1+e^{\alpha_{\max}})=e^{-2}` the lattice sum is
  done in closed form from the Taylor series of :math:`\varphi^{K-1}(s)=\mathbb E e^{-sS_{K-1}}`
  (coefficients bounded by :math:`1/i!` in the scaled variable; 14 terms). The right end is
  where :math:`\varphi^{K-1}` times the Gumbel tail of :math:`G` falls below :math:`10^{-18}` of
  the sandwich lower bound :math:`H\ge Ke^{\alpha}/(e^{\alpha}+K-1)`.
* no cancellation: :math:`\log\varphi` comes from :math:`\log1p(-D)` with
  :math:`D=1-\varphi=\sum_j q_j(1-e^{-w_js})` summed from positive terms (moment series
  for the levels with :math:`w_js\le\tfrac12`, ``expm1`` for the others), and the part of
  the sum where :math:`u+\alpha\le\log\tfrac12` is summed through the Taylor series of
  :math:`G` and running, rescaled moments :math:`Q_k` of :math:`\varphi^{K-1}`, so each
  target costs O(25) exponentials instead of O(grid).

Everything is in log space (the result is :math:`\log H`), so rewards ±700 (weights
:math:`e^{-1400}`) and :math:`K=10^6` stay finite. Cost per call:
O(NK·L + grid·(levels with :math:`w s` in the active window) + 25·targets).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["H_STEP", "log_h_levels", "log_h_levels_gapped"]

#: Trapezoidal step on the u = log s line (see the module docstring for the error bound).
H_STEP = 0.2
#: Terms of the moment series of D = 1 − φ and of the Taylor series of G: with argument
#: ≤ 1/2 the remainder is ≤ 0.5**NK/NK! ≈ 1e-20 relative.
NK = 18
#: Series are used where the argument is ≤ 1/2.
LOG_SC = math.log(0.5)
#: Relative size of each neglected piece (truncations, dropped negligible terms).
LOG_EPS = math.log(1e-18)
#: Left end of the explicit lattice: t = e^{u}(K − 1 + max target weight) = δ. Left of it the
#: lattice sum is done in closed form from the Taylor series of φ^{K−1} (NT terms).
LOG_DELTA = -2.0
DELTA = math.exp(LOG_DELTA)
NT = 14
#: Dropped-term cut in the direct part of φ: terms below e^{-CUT}·(sum so far) are skipped,
#: and all later ones are smaller still (weights sorted).
CUT = 41.45
#: Right end of the per-target direct sum: G(v)·e^{0.9} < e^{−50} for v ≥ 4.
V_STOP = 4.0


@njit(cache=True, nogil=True)
def _logaddexp(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@njit(cache=True, nogil=True)
def _log_lower_F(alpha, Km1):
    """log of the sandwich lower bound e^α/(e^α + K − 1) of H/K (weights ≤ 1)."""
    return -_logaddexp(0.0, math.log(Km1) - alpha)


@njit(cache=True, nogil=True)
def log_h_levels(lw, q, tg, K, out):
    """log H^K_p at target log-weights ``tg`` (out[i]), for 2 ≤ K < ∞.

    ``lw``: log-weights of the support levels, strictly decreasing, ``lw[0] == 0`` (the
    top level of the support); ``q``: their masses (> 0, summing to 1); ``tg``: any
    log-weights (rewards minus the top support reward). Returns the number of grid points.
    """
    L = lw.shape[0]
    T = tg.shape[0]
    Km1 = K - 1.0
    h = H_STEP
    NK1 = NK + 1
    # Backward-recursive suffix moments, each scaled by its own top weight so nothing
    # under- or overflows: SM[j, k] = Σ_{i≥j} q_i (w_i / w_j)^k.
    SM = np.empty((L, NK1))
    for k in range(NK1):
        SM[L - 1, k] = q[L - 1]
    for j in range(L - 2, -1, -1):
        ratio = math.exp(lw[j + 1] - lw[j])
        pw = 1.0
        for k in range(NK1):
            SM[j, k] = q[j] + pw * SM[j + 1, k]
            pw *= ratio
    # Prefix masses: Pm[j] = Σ_{i<j} q_i.
    Pm = np.empty(L + 1)
    Pm[0] = 0.0
    for j in range(L):
        Pm[j + 1] = Pm[j] + q[j]
    w = np.empty(L)
    for j in range(L):
        w[j] = math.exp(lw[j]) if lw[j] > -700.0 else 0.0

    amin = tg[0]
    amax = tg[0]
    for i in range(T):
        if tg[i] < amin:
            amin = tg[i]
        if tg[i] > amax:
            amax = tg[i]
    # The lattice starts at u0, where t = e^{u} c = δ (c ≥ K − 1 + every target weight); all
    # lattice points left of it are summed in closed form below (no left truncation).
    logc = _logaddexp(max(amax, 0.0), math.log(Km1))
    u0 = LOG_DELTA - logc
    low_min = _log_lower_F(amin, Km1)
    need = LOG_EPS + low_min  # log of the absolute size allowed for the right remainder
    # Since φ ≤ 1, the Gumbel tail alone ends the grid here.
    u_hi = math.log(-need) - amin
    N_max = int(math.ceil((u_hi - u0) / h)) + 3

    psi = np.empty(N_max)
    J = 0
    N_end = N_max
    for n in range(N_max):
        u = u0 + n * h
        while J < L and lw[J] + u > LOG_SC:
            J += 1
        Dsm = 0.0
        phis = 0.0
        if J < L:
            x = math.exp(lw[J] + u)
            term = 1.0
            sgn = 1.0
            for k in range(1, NK1):
                term *= x / k
                t_k = term * SM[J, k]
                Dsm += sgn * t_k
                sgn = -sgn
                # terms decrease (x ≤ 1/2, SM[J, k] ≤ SM[J, 1]), so the rest is below t_k
                if t_k < 1e-20 * Dsm:
                    break
            phis = SM[J, 0] - Dsm
        # Direct part (levels with w s > 1/2, so 1 − e^{−ws} ≥ 0.39: no cancellation).
        # Levels are visited from small to large w s; the loop stops once e^{−ws} is below
        # e^{−CUT} of the sum so far (all later terms are smaller still). When no level is in
        # the series part, φ may underflow: the sum is then kept relative to e^{−c}.
        s_ok = u < 600.0  # then every direct level has lw > −601 and w[j]·s is exact enough
        s = math.exp(u) if s_ok else 0.0
        Dmid = 0.0
        j = J - 1
        if J < L:
            c = 0.0
            acc = phis
        else:
            c = math.exp(lw[L - 1] + u)
            acc = q[L - 1]
            Dmid = q[L - 1] * (-math.expm1(-c))
            j = L - 2
        lcut = c + CUT - math.log(acc)  # acc only grows: a fixed cut is conservative
        if s_ok:
            # every direct level has lw > LOG_SC − u > −601 here, so w[j]·s is exact enough;
            # e^{−x} = e^{c−x}·e^{−c} (e^{−c} may underflow: then 1 − e^{−x} = 1 to 1e-300)
            em_c = math.exp(-c)
            while j >= 0:
                x = w[j] * s
                if x > lcut:
                    break
                e = math.exp(c - x)
                acc += q[j] * e
                Dmid += q[j] * (1.0 - e * em_c)
                j -= 1
        else:
            while j >= 0:
                x = math.exp(lw[j] + u)
                if x > lcut:
                    break
                acc += q[j] * math.exp(c - x)
                Dmid += q[j] * (-math.expm1(-x))
                j -= 1
        D = Dsm + Dmid + Pm[j + 1]
        if D <= 0.5:
            lphi = math.log1p(-D)
        else:
            lphi = math.log(acc) - c
        psi[n] = Km1 * lphi
        # Right end: remainder ≤ Φ_n · (Gumbel tail beyond u_n + α_min).
        v = u + amin
        if v >= 0.0:
            tail = -math.exp(v)
        else:
            tail = math.log(1.1)
        if psi[n] + tail <= need:
            N_end = n + 1
            break

    # Running moments Q_k(n) = Σ_{m≤n} e^{-(k+1)(n−m)h} e^{ψ_m} = e^{C_n} Qs[n, k], with the
    # scale C_n moved only when Qs[., 0] falls below 1e-100 (ψ decreases, so Qs never grows
    # past 1/(1 − e^{−h})): no under/overflow, and no log per grid point.
    #
    # Q_k(0) sums the whole left half-lattice m ≤ 0 in closed form. There t_m = δe^{mh} and
    # Φ = φ^{K−1} = E[e^{−s S_{K−1}}] = Σ_i E_i t^i with |E_i| ≤ E[(S/c)^i]/i! ≤ 1/i!, so
    # Q_k(0) = Σ_i E_i δ^i / (1 − e^{−(k+1+i)h}), truncated after NT terms (δ^NT/NT! < 1e-20).
    # E_i: power series of log φ (scaled moments), times K − 1, exponentiated.
    g = np.empty(NT + 1)
    g[0] = 1.0
    ic = math.exp(-logc)
    fk = 1.0
    for k in range(1, NT + 1):
        fk *= -ic / k  # (−1/c)^k / k!
        g[k] = fk * SM[0, k] if k < NK1 else 0.0
    f = np.zeros(NT + 1)  # log φ(t/c) = Σ f_k t^k
    for n in range(1, NT + 1):
        acc = g[n]
        for k in range(1, n):
            acc -= k * f[k] * g[n - k] / n
        f[n] = acc
    E = np.zeros(NT + 1)  # Φ(t/c) = exp((K−1) Σ f_k t^k) = Σ E_n t^n
    E[0] = 1.0
    for n in range(1, NT + 1):
        acc = 0.0
        for k in range(1, n + 1):
            acc += k * Km1 * f[k] * E[n - k]
        E[n] = acc / n
    Qs = np.empty((N_end, NK1))
    C = np.empty(N_end)
    dec = np.empty(NK1)
    for k in range(NK1):
        dec[k] = math.exp(-(k + 1) * h)
    qt = np.empty(NK1)
    for k in range(NK1):
        acc = 0.0
        di = 1.0
        for i in range(NT + 1):
            acc += E[i] * di / (1.0 - math.exp(-(k + 1 + i) * h))
            di *= DELTA
        qt[k] = acc
    cst = 0.0
    C[0] = cst
    for k in range(NK1):
        Qs[0, k] = qt[k]
    for n in range(1, N_end):
        e = math.exp(psi[n] - cst)
        for k in range(NK1):
            qt[k] = qt[k] * dec[k] + e
        if qt[0] < 1e-100:
            inv = 1.0 / qt[0]
            cst += math.log(qt[0])
            for k in range(NK1):
                qt[k] *= inv
        C[n] = cst
        for k in range(NK1):
            Qs[n, k] = qt[k]

    nj = int(V_STOP / h - LOG_SC / h) + 3
    jh = np.empty(nj)
    ejh = np.empty(nj)
    for j in range(nj):
        jh[j] = j * h
        ejh[j] = math.exp(j * h)
    logh = math.log(h)
    logK = math.log(K)
    for i in range(T):
        a = tg[i]
        Ni = int(math.floor((LOG_SC - a - u0) / h))
        if Ni > N_end - 1:
            Ni = N_end - 1
        x = u0 + Ni * h + a
        ex = math.exp(x)
        # Left part: Σ_k (−1)^k e^{(k+1)x} Q_k / k!, relative to e^{x} Q_0.
        inv0 = 1.0 / Qs[Ni, 0]
        term = 1.0
        left = 1.0
        for k in range(1, NK1):
            term *= -ex / k
            left += term * (Qs[Ni, k] * inv0)
            if abs(term) < 1e-20:  # Q_k/Q_0 ≤ 1 and the terms decrease
                break
        # Everything relative to the k = 0 left term e^{x} Q_0 (the series is in [1/2, 1]
        # of it, right-part terms are at most ~1 of it), so e^{x} never underflows alone.
        ref = C[Ni] + math.log(Qs[Ni, 0]) + x
        # Right part. ψ_n ≤ ψ_{Ni} ≤ ref − x, so each term is ≤ G(v)e^{−x} ≤ G(v)e^{0.9}, which
        # is below e^{−50} (relative) once v ≥ V_STOP: a fixed, branch-free trip count.
        nr = min(N_end - 1 - Ni, int((V_STOP - x) / h) + 1)
        base = x - ref
        right = 0.0
        for j in range(1, nr + 1):
            right += math.exp(base + jh[j] - ex * ejh[j] + psi[Ni + j])
        out[i] = logK + logh + ref + math.log(left + right)
    return N_end


#: Reward gaps (in log-weight) at least this many times (log K + 47) split the levels into groups
#: handled separately (:func:`log_h_levels_gapped`): across such a gap every cross term of the
#: Laplace integral is below 1e-20 relative, and without the split the lattice would have to
#: span the gap (a reward span of 1e8 meant 5e8 grid points; 1e20, a negative array size).
GAP_FACTOR = 4.0
#: Log-weight of the stand-in for a group's lower groups ("never kept against this group"):
#: far enough below every target of the group that its weight is 0 to double precision.
NULL_DROP = 800.0


@njit(cache=True, nogil=True)
def _log_expm1(t):
    """log(e^t − 1) for t ≥ 0 (−inf at 0), without overflow."""
    if t <= 0.0:
        return -np.inf
    if t > 1.0:
        return t + math.log(-math.expm1(-t))
    return math.log(math.expm1(t))


@njit(cache=True, nogil=True)
def _log_B(lw, q, log_qb, Km1):
    r"""log of :math:`B=K\int_{\mathbb R}e^u\,[(\varphi_a(e^u)+Q_b)^{K-1}-Q_b^{K-1}]\,du`, where
    :math:`\varphi_a(s)=\sum_j q_je^{-sw_j}` over a group's levels (``lw`` relative to its top,
    decreasing; ``q`` their masses, summing to :math:`1-Q_b`) and :math:`Q_b=e^{\text{log\_qb}}`
    is the mass of the groups below, whose weights count as 0.

    :math:`B=K\,\mathbb E[1/S;\,S>0]` with S the weight of the K − 1 other candidates: a target
    far below the group (weight :math:`e^{\alpha}`) is kept with :math:`H=e^{\alpha}B+Q_b^{K-1}H_b`.
    Trapezoidal rule on the u-line (step ``H_STEP``, the integrand is entire); left of
    :math:`u_L` (where :math:`(K-1)s\,\mathbb E w<10^{-20}`) the integrand is :math:`e^u D_{-\infty}`
    and its lattice sum is done in closed form; the right end is where the terms fall below
    1e-20 of the sum, once every level has :math:`ws>1`.
    """
    L = lw.shape[0]
    h = H_STEP
    K = Km1 + 1.0
    lq = np.empty(L)
    for j in range(L):
        lq[j] = math.log(q[j])
    log_b_all = Km1 * log_qb  # log Q_b^{K−1}
    log_dinf = math.log(-math.expm1(log_b_all)) if log_b_all < 0.0 else -np.inf  # D(−∞) = 1 − Q_b^{K−1}
    uL = -48.0 - math.log(K)
    # lattice points left of u_L: h e^{u_L} D∞ Σ_{k≥1} e^{−kh}
    total = log_dinf + uL + math.log(h) - h - math.log(-math.expm1(-h))
    ws = np.empty(L)
    n = 0
    while True:
        u = uL + n * h
        # 1 − φ_a − Q_b = Σ q_j (1 − e^{−s w_j}) (no cancellation) and log φ_a (for large s)
        one_minus = 0.0
        mx = -np.inf
        for j in range(L):
            ws[j] = math.exp(u + lw[j])
            one_minus += q[j] * (-math.expm1(-ws[j]))
            v = lq[j] - ws[j]
            if v > mx:
                mx = v
        acc = 0.0
        for j in range(L):
            acc += math.exp(lq[j] - ws[j] - mx)
        log_phi = mx + math.log(acc)
        if one_minus <= 0.5:
            a = Km1 * math.log1p(-one_minus)  # (K−1) log(φ_a + Q_b)
        else:
            a = Km1 * _logaddexp(log_phi, log_qb)
        t = Km1 * _logaddexp(0.0, log_phi - log_qb)  # (K−1) log1p(φ_a/Q_b) = a − log Q_b^{K−1}
        log_d = a + math.log(-math.expm1(-t)) if t > 0.0 else -np.inf
        term = log_d + u + math.log(h)
        total = _logaddexp(total, term)
        if u + lw[L - 1] > 1.0 and term < total + LOG_EPS - 5.0:
            break
        n += 1
    return math.log(K) + total


@njit(cache=True, nogil=True)
def log_h_levels_gapped(lw, q, tg, K, out):
    """:func:`log_h_levels` for any reward span: the support levels are split into groups at every
    gap of at least ``GAP_FACTOR · (log K + 47)`` in log-weight, and ``H`` is assembled from each
    group's own lattice (same arguments and result as :func:`log_h_levels`).

    For a target x below group g (log-weight α relative to its top), with :math:`Q_b` the mass of
    the groups below g and :math:`H_b` the factor of the (renormalised) law below,
    :math:`H(x)=e^{\\alpha}B_g+Q_b^{K-1}H_b(x)` (:func:`_log_B`), up to terms below 1e-20 relative:
    across the gap the upper group's candidates beat x by a factor :math:`e^{-\\text{gap}/2}` or more and the
    lower groups' weights vanish beside x's. Targets in or near group g (within a quarter gap)
    use the group's lattice with the lower groups as one atom of weight 0; targets deep inside
    a gap have :math:`H_b(x)=K` to the same accuracy.
    """
    L = lw.shape[0]
    T = tg.shape[0]
    Km1 = K - 1.0
    G = GAP_FACTOR * (math.log(K) + 47.0)
    ncut = 0
    for j in range(L - 1):
        if lw[j] - lw[j + 1] >= G:
            ncut += 1
    if ncut == 0:
        log_h_levels(lw, q, tg, K, out)
        return
    starts = np.empty(ncut + 2, dtype=np.int64)  # group g = levels starts[g] .. starts[g+1]−1
    starts[0] = 0
    c = 1
    for j in range(L - 1):
        if lw[j] - lw[j + 1] >= G:
            starts[c] = j + 1
            c += 1
    starts[ncut + 1] = L
    ng = ncut + 1
    # masses of the groups at and below g (from the bottom, no cancellation)
    below = np.zeros(ng + 1)
    for g in range(ng - 1, -1, -1):
        acc = 0.0
        for j in range(starts[g], starts[g + 1]):
            acc += q[j]
        below[g] = below[g + 1] + acc
    log_qb = np.empty(ng)  # log of the mass below group g, relative to the law from group g down
    log_B = np.empty(ng)
    for g in range(ng):
        a0, a1 = starts[g], starts[g + 1]
        top = lw[a0]
        if g == ng - 1:
            log_qb[g] = -np.inf
            log_B[g] = -np.inf
            continue
        log_qb[g] = math.log(below[g + 1]) - math.log(below[g])
        lwa = np.empty(a1 - a0)
        qa = np.empty(a1 - a0)
        for j in range(a0, a1):
            lwa[j - a0] = lw[j] - top
            qa[j - a0] = q[j] / below[g]
        log_B[g] = _log_B(lwa, qa, log_qb[g], Km1)
    # assign targets: group g if above its bottom − G/4; gap after g if above the next top + G/4
    grp = np.empty(T, dtype=np.int64)
    gap = np.zeros(T, dtype=np.bool_)
    for i in range(T):
        x = tg[i]
        for g in range(ng):
            if g == ng - 1 or x >= lw[starts[g + 1] - 1] - G / 4.0:
                grp[i] = g
                break
            if x > lw[starts[g + 1]] + G / 4.0:
                grp[i] = g
                gap[i] = True
                break
    val = np.empty(T)
    for g in range(ng):
        a0, a1 = starts[g], starts[g + 1]
        top = lw[a0]
        nt = 0
        for i in range(T):
            if grp[i] == g and not gap[i]:
                nt += 1
        if nt > 0:
            extra = 0 if g == ng - 1 else 1
            lwg = np.empty(a1 - a0 + extra)
            qg = np.empty(a1 - a0 + extra)
            for j in range(a0, a1):
                lwg[j - a0] = lw[j] - top
                qg[j - a0] = q[j] / below[g]
            if extra:
                lwg[a1 - a0] = lw[a1 - 1] - top - NULL_DROP
                qg[a1 - a0] = below[g + 1] / below[g]
            tgg = np.empty(nt)
            k = 0
            for i in range(T):
                if grp[i] == g and not gap[i]:
                    tgg[k] = tg[i] - top
                    k += 1
            og = np.empty(nt)
            log_h_levels(lwg, qg, tgg, K, og)
            k = 0
            for i in range(T):
                if grp[i] == g and not gap[i]:
                    val[i] = og[k]
                    k += 1
        for i in range(T):
            if grp[i] == g and gap[i]:
                val[i] = _logaddexp(tg[i] - top + log_B[g], Km1 * log_qb[g] + math.log(K))
    # fold the groups above each target's: H ← e^{α_k} B_k + Q_b,k^{K−1} H
    for i in range(T):
        v = val[i]
        for g in range(grp[i] - 1, -1, -1):
            v = _logaddexp(tg[i] - lw[starts[g]] + log_B[g], Km1 * log_qb[g] + v)
        out[i] = v
