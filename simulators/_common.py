"""Small pieces shared by the simulators."""

from __future__ import annotations

import math

from numba import njit

__all__ = ["readonly", "cholesky_inplace"]


def readonly(a):
    """Mark a result array read-only (results are frozen); ``None`` passes through."""
    if a is not None and a.flags.writeable:
        a.setflags(write=False)
    return a


@njit(cache=True, nogil=True)
def cholesky_inplace(A):
    """Lower Cholesky factor of a symmetric positive-definite A, in place (upper part zeroed).

    Returns False if A is not numerically positive definite. Written out rather than
    ``np.linalg.cholesky`` because the matrices are tiny (d ≤ ~20) and this runs inside
    nogil kernels millions of times, where a LAPACK call's overhead and allocation dominate.
    """
    d = A.shape[0]
    for j in range(d):
        acc = A[j, j]
        for k in range(j):
            acc -= A[j, k] * A[j, k]
        if not acc > 0.0:
            return False
        ljj = math.sqrt(acc)
        A[j, j] = ljj
        for i in range(j + 1, d):
            acc = A[i, j]
            for k in range(j):
                acc -= A[i, k] * A[j, k]
            A[i, j] = acc / ljj
        for i in range(j):
            A[i, j] = 0.0
    return True
