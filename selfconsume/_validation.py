"""Input validation shared by every public function.

Each checker raises ``ValueError`` (or ``TypeError`` for a wrong kind of object) whose
message names the parameter and its valid range, so that bad input never turns into a
silent NaN, a hang or a crash deep inside a compiled kernel.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "check_int",
    "check_real",
    "check_choice",
    "check_probability_vector",
    "check_finite_array",
    "check_int_array",
    "check_lam",
    "check_named",
    "check_points",
    "check_memory",
    "check_interval",
    "hashable_cache",
]


def check_int(name: str, value, *, min_value: int | None = None, max_value: int | None = None) -> int:
    """Return ``value`` as a Python int, or raise naming ``name`` and its valid range."""
    rng_txt = _range_text(min_value, max_value, integer=True)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, float, np.floating)):
        raise TypeError(f"{name} must be an integer {rng_txt}; got {value!r}")
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"{name} must be an integer {rng_txt}; got {value!r}")
    v = int(value)
    if (min_value is not None and v < min_value) or (max_value is not None and v > max_value):
        raise ValueError(f"{name} must be an integer {rng_txt}; got {v}")
    return v


def check_real(
    name: str,
    value,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    allow_inf: bool = False,
) -> float:
    """Return ``value`` as a float, or raise naming ``name`` and its valid range.

    NaN is always rejected; infinities only when ``allow_inf`` is true.
    """
    lo = "[" if min_inclusive else "("
    hi = "]" if max_inclusive else ")"
    rng_txt = (
        f"in {lo}{'-inf' if min_value is None else min_value}, "
        f"{'inf' if max_value is None else max_value}{hi}"
    )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number {rng_txt}; got {value!r}")
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be a finite real number {rng_txt}; got {v}")
    if min_value is not None and (v < min_value or (v == min_value and not min_inclusive)):
        raise ValueError(f"{name} must be {rng_txt}; got {v}")
    if max_value is not None and (v > max_value or (v == max_value and not max_inclusive)):
        raise ValueError(f"{name} must be {rng_txt}; got {v}")
    return v


def check_int_array(name: str, value, *, min_value: int = 0):
    """An int (scalar input) or an int64 array of integers >= ``min_value``, or raise.

    Integer-valued floats are accepted, as by :func:`check_int`.
    """
    if np.ndim(value) == 0:
        return check_int(name, value, min_value=min_value)
    arr = np.asarray(value)
    if arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) and not np.all(np.mod(arr, 1) == 0):
        raise ValueError(f"{name} must be integers >= {min_value}; got {value!r}")
    arr = arr.astype(np.int64)
    if np.any(arr < min_value):
        raise ValueError(f"{name} must be integers >= {min_value}; got min {arr.min()}")
    return arr


def check_lam(lam) -> float:
    """The synthetic-to-real ratio λ (``lam``) as a float >= 0 (λ = 0: real data only)."""
    return check_real("lam", lam, min_value=0.0)


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}")
    return value


def check_named(name: str, value, cls: type, named: dict, *, hint: str):
    """``value`` if it is a ``cls``; else the name of a default, built by ``named[value]()``.

    For arguments that take an object or a short name for a standard one (``truth="laplace"``,
    ``family="gaussian"``). ``hint`` says where the objects come from, for the error message.
    """
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        check_choice(name, value, tuple(named))
        return named[value]()
    raise TypeError(f"{name} must be a {cls.__name__} ({hint}) or one of {tuple(named)}; got {value!r}")


def check_points(name: str, value, *, dim: int | None = None, min_rows: int = 1) -> np.ndarray:
    """Finite points as rows, shape ``(N, d)``; a 1-D array is ``N`` points on the line (d = 1)."""
    arr = check_finite_array(name, value)
    if arr.ndim == 1 and dim in (None, 1):
        arr = arr[:, None]
    if arr.ndim != 2:
        want = "(N, d)" if dim is None else f"(N, {dim})"
        raise ValueError(f"{name} must be an array of points of shape {want}; got shape {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} must have shape (N, {dim}); got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} points; got {arr.shape[0]}")
    return arr


def check_finite_array(name: str, value, *, ndim: int | None = None, shape=None, dtype=float) -> np.ndarray:
    """Return ``value`` as a finite float array of the required ``ndim``/``shape``."""
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers; got {value!r}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-dimensional array; got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def check_probability_vector(name: str, value, *, atol: float = 1e-9) -> np.ndarray:
    """Return a 1-D probability vector, or raise.

    Entries must be finite and non-negative and sum to 1 within ``atol``; the returned
    vector is renormalised exactly (division by its sum) so that downstream code sees a
    sum of 1 up to rounding.
    """
    p = check_finite_array(name, value, ndim=1)
    if np.any(p < 0):
        raise ValueError(f"{name} must have non-negative entries (probabilities in [0, 1]); got min {p.min()!r}")
    s = float(p.sum())
    if abs(s - 1.0) > atol:
        raise ValueError(f"{name} must sum to 1 (within {atol:g}); got sum {s!r}")
    return p / s


def _physical_memory() -> int:
    """Bytes of physical memory (0 when the platform does not say)."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 0


def check_memory(what: str, n_values, *, names: str, itemsize: int = 8) -> None:
    """Refuse a request whose arrays would need more than this machine's physical memory.

    ``n_values``: the number of values the call must hold at once (exact integer arithmetic, so
    10¹² × 10¹² does not overflow); ``names``: the parameters that set it, for the message.
    Checked before anything is allocated or looped over, so an impossible size is a clear
    ``ValueError`` instead of a hang, a ``MemoryError`` deep inside or the machine swapping.
    """
    need = int(n_values) * itemsize
    have = _physical_memory()
    if have and need > have:
        raise ValueError(f"{names} too large: {what} needs {_bytes_text(need)}, more than this machine's "
                         f"{_bytes_text(have)} of memory")


def _bytes_text(b: int) -> str:
    for unit, size in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if b >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b} bytes"


def _range_text(lo, hi, *, integer: bool) -> str:
    if lo is not None and hi is not None:
        return f"in [{lo}, {hi}]"
    if lo is not None:
        return f">= {lo}"
    if hi is not None:
        return f"<= {hi}"
    return ""


def check_interval(name: str, value, *, allow_inf: bool = True) -> tuple[float, float]:
    """Return ``value`` as a pair of floats ``(lo, hi)`` with ``lo < hi``, or raise naming ``name``."""
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (lo, hi) of real numbers with lo < hi; got {value!r}") from None
    lo = check_real(f"{name}[0]", lo, allow_inf=allow_inf)
    hi = check_real(f"{name}[1]", hi, allow_inf=allow_inf)
    if not lo < hi:
        raise ValueError(f"{name} must be a pair (lo, hi) with lo < hi; got {value!r}")
    return lo, hi


def hashable_cache(maxsize=256):
    """``functools.lru_cache`` that lets unhashable arguments through, uncached, to the function's
    own validation (so ``f(loc=[0, 1])`` says what ``loc`` must be, not "unhashable type: 'list'")."""
    import functools

    def deco(fn):
        cached = functools.lru_cache(maxsize=maxsize)(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                hash((args, tuple(kwargs.items())))
            except TypeError:
                return fn(*args, **kwargs)
            return cached(*args, **kwargs)

        wrapper.cache_info = cached.cache_info
        wrapper.cache_clear = cached.cache_clear
        return wrapper

    return deco
