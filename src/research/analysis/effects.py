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
    """Holm (``holm``) or Benjamini-Hochberg (``fdr_bh``) adjusted p-values; missing p-values stay
    missing.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal
    of Statistics, 6*(2), 65-70. https://doi.org/10.2307/4615733

    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. *Journal of the
    Royal Statistical Society: Series B, 57*(1), 289-300.
    https://doi.org/10.1111/j.2517-6161.1995.tb02031.x

    Examples
    --------
    >>> adjust(pd.Series([0.01, 0.04, np.nan, 0.03]), "holm").round(2).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    out = pd.Series(np.nan, index=p.index, dtype=float)
    ok = p.notna()
    if ok.any():
        # statsmodels' Holm branch calls gc.collect(), which walks every live object (0.1 s per call
        # in a large study); objects frozen beforehand are skipped, so the collection only sees what
        # the call made.
        gc.freeze()
        try:
            out[ok] = multipletests(p[ok].to_numpy(float), method=method)[1]
        finally:
            gc.unfreeze()
    return out


def rank_biserial(u: float, n1: int, n2: int) -> float:
    """``2U/(n1*n2) - 1``: positive when the first group tends to rate higher.

    References
    ----------
    Kerby, D. S. (2014). The simple difference formula: An approach to teaching nonparametric
    correlation. *Comprehensive Psychology, 3*, 11.IT.3.1. https://doi.org/10.2466/11.IT.3.1
    """
    return 2 * u / (n1 * n2) - 1


def u_from_counts(c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """Mann-Whitney U of group 1 from counts per ordered level (ties count one half); works
    row-wise."""
    below = np.cumsum(c2, axis=-1) - c2
    return (c1 * (below + 0.5 * c2)).sum(axis=-1)


def bootstrap_rank_biserial(
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    n_boot: int = 2000,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the rank-biserial correlation, resampling within each group.

    Resampling a group of discrete answers with replacement is a multinomial draw of its level
    counts, so the bootstrap runs on counts (exactly equivalent, and fast for Likert items).

    References
    ----------
    Efron, B., & Tibshirani, R. J. (1993). *An introduction to the bootstrap*. Chapman & Hall.
    https://doi.org/10.1201/9780429246593
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
    """Hedges' g: ``d * (1 - 3/(4(n1+n2) - 9))``, d the mean difference over the pooled SD (n-1
    weights).

    References
    ----------
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
    estimators. *Journal of Educational Statistics, 6*(2), 107-128.
    https://doi.org/10.3102/10769986006002107
    """
    n1, n2 = len(x), len(y)
    pooled = np.sqrt(((n1 - 1) * np.var(x, ddof=1) + (n2 - 1) * np.var(y, ddof=1)) / (n1 + n2 - 2))
    if pooled == 0:
        return float("nan")
    d = (np.mean(x) - np.mean(y)) / pooled
    return float(d * (1 - 3 / (4 * (n1 + n2) - 9)))


def g_interval(g: float, n1: int, n2: int, confidence: float = 0.95) -> tuple[float, float]:
    """Normal-approximation interval of g with ``SE = sqrt((n1+n2)/(n1*n2) + g^2/(2(n1+n2)))``
    (Hedges & Olkin).

    References
    ----------
    Hedges, L. V., & Olkin, I. (1985). *Statistical methods for meta-analysis*. Academic Press.
    """
    if np.isnan(g):
        return float("nan"), float("nan")
    se = np.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    return float(g - z * se), float(g + z * se)


def _nct_cdf(t: float, df: float, ncp: float) -> float:
    """``P(T <= t)`` for a non-central t, from whichever of scipy's two tails is finite.

    scipy's ``nct.cdf`` returns NaN for some arguments far in a tail (e.g. ``t = 5.5, df = 37, ncp =
    -5``), where the reflected form ``1 - P(T' <= -t)`` with ``T' ~ nct(df, -ncp)`` is well defined.
    """
    value = float(stats.nct.cdf(t, df, ncp))
    if not np.isfinite(value):
        value = 1.0 - float(stats.nct.cdf(-t, df, -ncp))
    if not np.isfinite(value):
        value = float(stats.nct.sf(-t, df, -ncp))
    return value


def _nct_ncp(t: float, df: float, target: float) -> float | None:
    """The non-centrality ``ncp`` with ``P(T <= t | ncp) = target``; None when no finite bracket is
    found.

    The cdf falls monotonically in ``ncp``; the bracket starts at ``t`` and widens geometrically on
    the side where the root lies (up to 60 + 4|t| from ``t``), so it never depends on a fixed width.
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


def dz_interval(
    t: float, n: int, confidence: float = 0.95, return_method: bool = False
) -> tuple[float, float] | tuple[float, float, str]:
    """Exact interval of Cohen's d_z by inverting the non-central t distribution of the paired t
    statistic.

    The limits are ``ncp / sqrt(n)`` for the non-centralities at which the observed ``t`` is the
    upper and the lower ``(1 - confidence)/2`` quantile (Steiger & Fouladi 1997; Cumming & Finch
    2001). The bracket for the root widens until it holds a sign change, and a NaN from scipy's
    ``nct.cdf`` in a far tail is replaced by the reflected tail, so the exact inversion works over
    the whole practical range. Only when it still fails does the interval fall back to the normal
    approximation ``d_z ± z sqrt(1/n + d_z^2/(2n))``, and then it says so.

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

    Cumming, G. & Finch, S. (2001). A primer on the understanding, use, and calculation of
    confidence intervals that are based on central and noncentral distributions. *Educational and
    Psychological Measurement*, 61(4), 532-574. doi:10.1177/0013164401614002

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
    """``2 asin(sqrt(p1)) - 2 asin(sqrt(p2))``.

    References
    ----------
    Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.). Erlbaum.
    """
    return float(2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2)))


#: Size words and the lower bounds (absolute values) at which each begins: ``|value| < small`` is
#: "negligible", ``small <= |value| < medium`` "small", ``medium <= |value| < large`` "medium", else
#: "large". Sources: g and h, Cohen (1988, pp. 25-27 and 184-185: 0.2, 0.5, 0.8); rank-biserial,
#: Vargha & Delaney (2000), whose A = .56, .64, .71 (Cohen's d of 0.2, 0.5, 0.8 under normality) are
#: r = 2A - 1 = .12, .28, .42; d_z, see :func:`dz_size_word`.
SIZE_THRESHOLDS = {
    "hedges-g": (0.2, 0.5, 0.8),
    "cohen-h": (0.2, 0.5, 0.8),
    "rank-biserial": (0.12, 0.28, 0.42),
    "cohen-dz": (0.2, 0.5, 0.8),  # at rho = 0.5; dz_size_word scales them for another rho
}
SIZE_WORDS = ("negligible", "small", "medium", "large")
_ALIASES = {
    "g": "hedges-g",
    "d": "hedges-g",
    "h": "cohen-h",
    "r": "rank-biserial",
    "rank_biserial": "rank-biserial",
    "dz": "cohen-dz",
    "d_z": "cohen-dz",
}


def _word(value: float, cuts: tuple[float, float, float]) -> str:
    if value is None or not np.isfinite(value):
        return "not computed"
    a = abs(value)
    return SIZE_WORDS[int(np.searchsorted(np.asarray(cuts), a, side="right"))]


def dz_size_word(dz: float, rho: float = 0.5) -> str:
    """Size word for Cohen's d_z, from Cohen's d benchmarks carried over to the paired design.

    Cohen (1988, p. 48) relates the paired-design index to d by ``d_z = d / sqrt(2 (1 - rho))``, rho
    the correlation of the paired scores; so d's 0.2, 0.5 and 0.8 are d_z's ``0.2 / sqrt(2(1 -
    rho))`` and so on. At ``rho = 0.5`` (the default) d_z and d coincide and the bounds are 0.2,
    0.5, 0.8; pass the partner correlation to judge d_z on the scale of d (a high correlation makes
    the same d_z a smaller d). Lakens (2013) explains why d_z is not comparable with between-subject
    d without this step.

    References
    ----------
    Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.). Erlbaum.
    doi:10.4324/9780203771587

    Lakens, D. (2013). Calculating and reporting effect sizes to facilitate cumulative science: a
    practical primer for t-tests and ANOVAs. *Frontiers in Psychology*, 4, 863.
    doi:10.3389/fpsyg.2013.00863

    Examples
    --------
    >>> dz_size_word(0.49), dz_size_word(0.5), dz_size_word(0.5, rho=0.8)
    ('small', 'medium', 'small')
    """
    if not -1 < rho < 1:
        raise ValueError("rho must lie strictly between -1 and 1")
    if dz is None or not np.isfinite(dz):
        return "not computed"
    return _word(dz * np.sqrt(2 * (1 - rho)), SIZE_THRESHOLDS["cohen-dz"])


def size_word(effect: str, value: float, rho: float = 0.5) -> str:
    """The one place that defines size words: ``negligible``, ``small``, ``medium`` or ``large``.

    ``effect`` is a table's ``effect`` column value (``hedges-g``, ``cohen-dz``, ``cohen-h``,
    ``rank-biserial``) or a short name (``g``, ``dz``, ``h``, ``r``); bounds in
    :data:`SIZE_THRESHOLDS` (a value exactly at a bound takes the larger word); ``rho`` is used for
    d_z only (:func:`dz_size_word`). "not computed" for a missing value.

    References
    ----------
    Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.). Erlbaum.
    doi:10.4324/9780203771587

    Vargha, A. & Delaney, H. D. (2000). A critique and improvement of the CL common language effect
    size statistics of McGraw and Wong. *Journal of Educational and Behavioral Statistics*, 25(2),
    101-132. doi:10.3102/10769986025002101

    Examples
    --------
    >>> size_word("hedges-g", -0.52), size_word("r", 0.3), size_word("cohen-h", 0.1)
    ('medium', 'medium', 'negligible')
    """
    key = _ALIASES.get(effect, effect)
    if key not in SIZE_THRESHOLDS:
        raise ValueError(f"no size words for effect {effect!r}")
    if key == "cohen-dz":
        return dz_size_word(value, rho)
    return _word(value, SIZE_THRESHOLDS[key])
