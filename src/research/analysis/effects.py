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


def dz_interval(t: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact interval of Cohen's d_z by inverting the noncentral t distribution of the paired t statistic."""
    if n < 3 or not np.isfinite(t):
        return float("nan"), float("nan")
    df = n - 1
    tail = (1 - confidence) / 2

    spread = 8 * np.sqrt(1 + t**2 / (2 * df)) + 1  # the ncp lies well within t +/- spread

    def solve(target):
        f = lambda ncp: stats.nct.cdf(t, df, ncp) - target  # noqa: E731
        return optimize.brentq(f, t - spread, t + spread)

    try:
        return float(solve(1 - tail) / np.sqrt(n)), float(solve(tail) / np.sqrt(n))
    except ValueError:  # nct.cdf underflows far in the tails: fall back to the normal approximation
        dz = t / np.sqrt(n)
        se = np.sqrt(1 / n + dz**2 / (2 * n))
        z = stats.norm.ppf(1 - tail)
        return float(dz - z * se), float(dz + z * se)


def cohen_h(p1: float, p2: float) -> float:
    """``2 asin(sqrt(p1)) - 2 asin(sqrt(p2))``."""
    return float(2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2)))
