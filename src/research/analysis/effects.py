"""Effect sizes, their intervals and multiple-testing adjustments shared by every comparison.

Signs always run marketing minus sales (the first group minus the second): a positive effect means
the first group rates higher.
"""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests


def adjust(p: pd.Series, method: str) -> pd.Series:
    """Holm (``holm``) or Benjamini-Hochberg (``fdr_bh``) adjusted p-values; missing p-values stay missing.

    Examples
    --------
    >>> adjust(pd.Series([0.01, 0.04, np.nan, 0.03]), "holm").round(2).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    out = pd.Series(np.nan, index=p.index, dtype=float)
    ok = p.notna()
    if ok.any():
        # statsmodels' Holm branch calls gc.collect(), which walks every live object (0.1 s per call in a
        # large study); objects frozen beforehand are skipped, so the collection only sees what the call made.
        gc.freeze()
        try:
            out[ok] = multipletests(p[ok].to_numpy(float), method=method)[1]
        finally:
            gc.unfreeze()
    return out


def rank_biserial(u: float, n1: int, n2: int) -> float:
    """``2U/(n1*n2) - 1``: positive when the first group tends to rate higher."""
    return 2 * u / (n1 * n2) - 1


def u_from_counts(c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """Mann-Whitney U of group 1 from counts per ordered level (ties count one half); works row-wise."""
    below = np.cumsum(c2, axis=-1) - c2
    return (c1 * (below + 0.5 * c2)).sum(axis=-1)


def bootstrap_rank_biserial(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, n_boot: int = 2000,
                            confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the rank-biserial correlation, resampling within each group.

    Resampling a group of discrete answers with replacement is a multinomial draw of its level counts,
    so the bootstrap runs on counts (exactly equivalent, and fast for Likert items).
    """
    if len(x) < 2 or len(y) < 2:
        return float("nan"), float("nan")
    levels = np.union1d(x, y)
    px = np.array([(x == v).sum() for v in levels]) / len(x)
    py = np.array([(y == v).sum() for v in levels]) / len(y)
    cx = rng.multinomial(len(x), px, size=n_boot)
    cy = rng.multinomial(len(y), py, size=n_boot)
    r = 2 * u_from_counts(cx, cy) / (len(x) * len(y)) - 1
    tail = (1 - confidence) / 2
    return float(np.quantile(r, tail)), float(np.quantile(r, 1 - tail))


def hedges_g(x: np.ndarray, y: np.ndarray) -> float:
    """Hedges' g: ``d * (1 - 3/(4(n1+n2) - 9))``, d the mean difference over the pooled SD (n-1 weights)."""
    n1, n2 = len(x), len(y)
    pooled = np.sqrt(((n1 - 1) * np.var(x, ddof=1) + (n2 - 1) * np.var(y, ddof=1)) / (n1 + n2 - 2))
    if pooled == 0:
        return float("nan")
    d = (np.mean(x) - np.mean(y)) / pooled
    return float(d * (1 - 3 / (4 * (n1 + n2) - 9)))


def g_interval(g: float, n1: int, n2: int, confidence: float = 0.95) -> tuple[float, float]:
    """Normal-approximation interval of g with ``SE = sqrt((n1+n2)/(n1*n2) + g^2/(2(n1+n2)))`` (Hedges & Olkin)."""
    if np.isnan(g):
        return float("nan"), float("nan")
    se = np.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    return float(g - z * se), float(g + z * se)


def _nct_cdf(t: float, df: float, ncp: float) -> float:
    """``P(T <= t)`` for a non-central t, from whichever of scipy's two tails is finite.

    scipy's ``nct.cdf`` returns NaN for some arguments far in a tail (e.g. ``t = 5.5, df = 37, ncp = -5``),
    where the reflected form ``1 - P(T' <= -t)`` with ``T' ~ nct(df, -ncp)`` is well defined.
    """
    value = float(stats.nct.cdf(t, df, ncp))
    if not np.isfinite(value):
        value = 1.0 - float(stats.nct.cdf(-t, df, -ncp))
    if not np.isfinite(value):
        value = float(stats.nct.sf(-t, df, -ncp))
    return value


def _nct_ncp(t: float, df: float, target: float) -> float | None:
    """The non-centrality ``ncp`` with ``P(T <= t | ncp) = target``; None when no finite bracket is found.

    The cdf falls monotonically in ``ncp``; the bracket starts at ``t`` and widens geometrically on the side
    where the root lies (up to 60 + 4|t| from ``t``), so it never depends on a fixed width.
    """
    def f(ncp):
        return _nct_cdf(t, df, ncp) - target

    f0 = f(t)
    if not np.isfinite(f0):
        return None
    if f0 == 0:
        return float(t)
    direction = 1.0 if f0 > 0 else -1.0  # cdf too high: the root lies at a larger ncp
    step, inner = 1.0, float(t)
    limit = 60.0 + 4.0 * abs(t)
    while step <= limit:
        outer = t + direction * step
        fo = f(outer)
        if np.isfinite(fo) and np.sign(fo) != np.sign(f0):
            a, b = sorted((inner, outer))
            return float(optimize.brentq(f, a, b, xtol=1e-14, rtol=1e-14, maxiter=500))
        if np.isfinite(fo):
            inner = outer
        step *= 2
    return None


def dz_interval(t: float, n: int, confidence: float = 0.95,
                return_method: bool = False) -> tuple[float, float] | tuple[float, float, str]:
    """Exact interval of Cohen's d_z by inverting the non-central t distribution of the paired t statistic.

    The limits are ``ncp / sqrt(n)`` for the non-centralities at which the observed ``t`` is the upper and the
    lower ``(1 - confidence)/2`` quantile (Steiger & Fouladi 1997; Cumming & Finch 2001). The bracket
    for the root widens until it holds a sign change, and a NaN from scipy's ``nct.cdf`` in a far tail is
    replaced by the reflected tail, so the exact inversion works over the whole practical range. Only
    when it still fails does the interval fall back to the normal approximation
    ``d_z ± z sqrt(1/n + d_z^2/(2n))``, and then it says so.

    Parameters
    ----------
    t : float
        Paired t statistic (marketing minus sales).
    n : int
        Number of pairs (``df = n - 1``).
    confidence : float
        Coverage of the interval.
    return_method : bool
        Also return how the interval was found: ``"noncentral t"`` or
        ``"normal approximation (non-central t did not converge)"``.

    Returns
    -------
    (low, high) or (low, high, method)

    References
    ----------
    Steiger, J. H. & Fouladi, R. T. (1997). Noncentrality interval estimation and the evaluation of
    statistical models. In *What if there were no significance tests?* (pp. 221-257). Erlbaum.

    Cumming, G. & Finch, S. (2001). A primer on the understanding, use, and calculation of confidence
    intervals that are based on central and noncentral distributions. *Educational and Psychological
    Measurement*, 61(4), 532-574. doi:10.1177/0013164401614002

    Examples
    --------
    >>> low, high, how = dz_interval(4.7, 38, return_method=True)
    >>> how, round(low, 4), round(high, 4)
    ('noncentral t', 0.3964, 1.1205)
    """
    if n < 3 or not np.isfinite(t):
        nan = float("nan")
        return (nan, nan, "not computed") if return_method else (nan, nan)
    df = n - 1
    tail = (1 - confidence) / 2
    low_ncp, high_ncp = _nct_ncp(t, df, 1 - tail), _nct_ncp(t, df, tail)
    if low_ncp is not None and high_ncp is not None:
        out = (float(low_ncp / np.sqrt(n)), float(high_ncp / np.sqrt(n)), DZ_EXACT)
    else:
        dz = t / np.sqrt(n)
        se = np.sqrt(1 / n + dz**2 / (2 * n))
        z = stats.norm.ppf(1 - tail)
        out = (float(dz - z * se), float(dz + z * se), DZ_NORMAL)
    return out if return_method else out[:2]


#: ``method`` values of :func:`dz_interval`.
DZ_EXACT = "noncentral t"
DZ_NORMAL = "normal approximation (non-central t did not converge)"


def cohen_h(p1: float, p2: float) -> float:
    """``2 asin(sqrt(p1)) - 2 asin(sqrt(p2))``."""
    return float(2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2)))
