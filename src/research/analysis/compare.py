"""Marketing against sales: items (Mann-Whitney), scales (Welch), matched dyads (paired t,
Wilcoxon).

The defaults are exactly SPEC §3; columns beyond the contract (Benjamini-Hochberg, intervals) sit
beside. Signs always run marketing minus sales: a positive effect means marketing rates higher.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from research.analysis.effects import (
    DZ_EXACT,
    adjust,
    bootstrap_rank_biserial,
    dz_interval,
    g_interval,
    hedges_g,
    rank_biserial,
)

ITEM_COLUMNS = [
    "instrument",
    "item",
    "subscale",
    "n_marketing",
    "n_sales",
    "mean_marketing",
    "mean_sales",
    "median_marketing",
    "median_sales",
    "test",
    "statistic",
    "p",
    "p_holm",
    "effect",
    "effect_size",
]
SCALE_COLUMNS = [
    "instrument",
    "scale",
    "n_marketing",
    "n_sales",
    "mean_marketing",
    "sd_marketing",
    "mean_sales",
    "sd_sales",
    "test",
    "statistic",
    "df",
    "p",
    "p_holm",
    "effect",
    "effect_size",
    "ci_low",
    "ci_high",
]
DYAD_COLUMNS = [
    "instrument",
    "scale",
    "n_pairs",
    "mean_marketing",
    "mean_sales",
    "mean_diff",
    "test",
    "statistic",
    "df",
    "p",
    "p_holm",
    "wilcoxon_statistic",
    "wilcoxon_p",
    "effect",
    "effect_size",
]


def item_comparison(
    responses: pd.DataFrame, instrument, seed: int = 2026, n_boot: int = 2000
) -> pd.DataFrame:
    """Mann-Whitney U (two-sided) per item on keyed values, marketing against sales.

    Returns
    -------
    DataFrame
        ``item_comparison.csv``: SPEC's columns, then ``p_bh`` (Benjamini-Hochberg) and a seeded
        percentile bootstrap interval of the rank-biserial effect (``ci_low``, ``ci_high``).

    References
    ----------
    Mann, H. B., & Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. *Annals of Mathematical Statistics, 18*(1), 50-60.
    https://doi.org/10.1214/aoms/1177730491

    Kerby, D. S. (2014). The simple difference formula: An approach to teaching nonparametric
    correlation. *Comprehensive Psychology, 3*, 11.IT.3.1. https://doi.org/10.2466/11.IT.3.1

    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal
    of Statistics, 6*(2), 65-70. https://doi.org/10.2307/4615733

    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. *Journal of the
    Royal Statistical Society: Series B, 57*(1), 289-300.
    https://doi.org/10.1111/j.2517-6161.1995.tb02031.x

    Efron, B., & Tibshirani, R. J. (1993). *An introduction to the bootstrap*. Chapman & Hall.
    https://doi.org/10.1201/9780429246593

    Examples
    --------
    >>> r = pd.DataFrame({"respondent_id": list("abcdef"),
    ...                   "role": ["marketing"] * 3 + ["sales"] * 3,
    ...                   "instrument": "x", "item": "Q1", "subscale": "s",
    ...                   "keyed": [5, 4, 4, 2, 3, 1]})
    >>> from research.spec.instruments import instrument_from_dict
    >>> inst = instrument_from_dict({"id": "x", "response_scale": {"min": 1, "max": 5},
    ...                              "subscales": [{"id": "s"}],
    ...                              "items": [{"id": "Q1", "subscale": "s"}]})
    >>> item_comparison(r, inst)[["statistic", "effect_size"]].values.tolist()
    [[9.0, 1.0]]
    """
    rng = np.random.default_rng(seed)
    part = responses[(responses["instrument"] == instrument.id) & responses["keyed"].notna()]
    groups = {key: grp["keyed"].to_numpy(float) for key, grp in part.groupby(["item", "role"])}
    rows = []
    for item in instrument.items:
        x = groups.get((item.id, "marketing"), np.array([]))
        y = groups.get((item.id, "sales"), np.array([]))
        row = {
            "instrument": instrument.id,
            "item": item.id,
            "subscale": item.subscale,
            "n_marketing": len(x),
            "n_sales": len(y),
            "mean_marketing": _mean(x),
            "mean_sales": _mean(y),
            "median_marketing": np.median(x) if len(x) else np.nan,
            "median_sales": np.median(y) if len(y) else np.nan,
            "test": "mann-whitney",
            "statistic": np.nan,
            "p": np.nan,
            "effect": "rank-biserial",
            "effect_size": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "note": _missing_note({"marketing": len(x), "sales": len(y)}, 1),
        }
        if len(x) and len(y):
            res = stats.mannwhitneyu(x, y, alternative="two-sided")
            row.update(
                statistic=float(res.statistic),
                p=float(res.pvalue),
                effect_size=rank_biserial(res.statistic, len(x), len(y)),
            )
            row["ci_low"], row["ci_high"] = bootstrap_rank_biserial(x, y, rng, n_boot)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["p_holm"] = adjust(table["p"], "holm")
    table["p_bh"] = adjust(table["p"], "fdr_bh")
    return table[ITEM_COLUMNS + ["p_bh", "ci_low", "ci_high", "note"]]


def _missing_note(counts: dict[str, int], needed: int) -> str:
    """Why a test could not be computed ("" when it could): the groups with fewer than ``needed``
    values."""
    short = [f"{n} {role} value{'s' if n != 1 else ''}" for role, n in counts.items() if n < needed]
    return f"not computed: {' and '.join(short)} ({needed} needed per group)" if short else ""


def _kind(scale: str, instrument) -> str:
    return "total" if instrument.total and scale == instrument.total["id"] else "subscale"


def _mean(x) -> float:
    return float(np.mean(x)) if len(x) else float("nan")


def _sd(x) -> float:
    return float(np.std(x, ddof=1)) if len(x) > 1 else float("nan")


def scale_comparison(scores: pd.DataFrame, instrument, confidence: float = 0.95) -> pd.DataFrame:
    """Welch's t-test per subscale and total over respondents' scores, marketing minus sales, with
    Hedges' g.

    Returns
    -------
    DataFrame
        ``scale_comparison.csv``: SPEC's columns, then ``p_bh`` and ``mean_diff``.

    References
    ----------
    Welch, B. L. (1947). The generalization of 'Student's' problem when several different population
    variances are involved. *Biometrika, 34*(1-2), 28-35. https://doi.org/10.1093/biomet/34.1-2.28

    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
    estimators. *Journal of Educational Statistics, 6*(2), 107-128.
    https://doi.org/10.3102/10769986006002107

    Hedges, L. V., & Olkin, I. (1985). *Statistical methods for meta-analysis*. Academic Press.

    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal
    of Statistics, 6*(2), 65-70. https://doi.org/10.2307/4615733
    """
    part = scores[scores["instrument"] == instrument.id]
    rows = []
    for scale in instrument.scales:
        x = part.loc[part["role"] == "marketing", scale].dropna().to_numpy(float)
        y = part.loc[part["role"] == "sales", scale].dropna().to_numpy(float)
        row = {
            "instrument": instrument.id,
            "scale": scale,
            "n_marketing": len(x),
            "n_sales": len(y),
            "kind": _kind(scale, instrument),
            "mean_marketing": _mean(x),
            "sd_marketing": _sd(x),
            "mean_sales": _mean(y),
            "sd_sales": _sd(y),
            "test": "welch-t",
            "statistic": np.nan,
            "df": np.nan,
            "p": np.nan,
            "effect": "hedges-g",
            "effect_size": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "mean_diff": _mean(x) - _mean(y),
            "note": _missing_note({"marketing": len(x), "sales": len(y)}, 2),
        }
        if not row["note"] and np.var(x) == 0 and np.var(y) == 0:
            row["note"] = "no variance: every score is the same in both groups"
        if not row["note"]:
            res = stats.ttest_ind(x, y, equal_var=False)
            g = hedges_g(x, y)
            row.update(
                statistic=float(res.statistic), df=float(res.df), p=float(res.pvalue), effect_size=g
            )
            row["ci_low"], row["ci_high"] = g_interval(g, len(x), len(y), confidence)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["p_holm"] = adjust(table["p"], "holm")
    table["p_bh"] = adjust(table["p"], "fdr_bh")
    return table[SCALE_COLUMNS + ["p_bh", "mean_diff", "kind", "note"]]


def dyads(scores: pd.DataFrame, instrument) -> pd.DataFrame:
    """One row per company with a score from both functions: each function's mean over its
    respondents.

    Pairs are formed by ``company_id``, never by row order. Columns: ``company_id``, ``scale``,
    ``marketing``, ``sales``, ``n_marketing``, ``n_sales``, ``diff`` (marketing minus sales).
    """
    part = scores[(scores["instrument"] == instrument.id) & scores["company_id"].notna()]
    long = part.melt(
        id_vars=["company_id", "role"],
        value_vars=list(instrument.scales),
        var_name="scale",
        value_name="score",
    ).dropna(subset=["score"])
    means = (
        long.groupby(["company_id", "scale", "role"])["score"].agg(["mean", "size"]).unstack("role")
    )
    if means.empty or "marketing" not in means["mean"] or "sales" not in means["mean"]:
        return pd.DataFrame(
            columns=["company_id", "scale", "marketing", "sales", "n_marketing", "n_sales", "diff"]
        )
    out = pd.DataFrame(
        {
            "marketing": means[("mean", "marketing")],
            "sales": means[("mean", "sales")],
            "n_marketing": means[("size", "marketing")],
            "n_sales": means[("size", "sales")],
        }
    ).dropna()
    out["diff"] = out["marketing"] - out["sales"]
    out = out.reset_index()
    out["n_marketing"] = out["n_marketing"].astype(int)
    out["n_sales"] = out["n_sales"].astype(int)
    return out


def dyad_comparison(scores: pd.DataFrame, instrument, confidence: float = 0.95) -> pd.DataFrame:
    """Paired t-test (and Wilcoxon signed-rank beside it) on marketing minus sales within companies.

    Returns
    -------
    DataFrame
        ``dyad_comparison.csv``: SPEC's columns, then ``p_bh``, ``sd_diff``, an interval of d_z
        (``ci_low``, ``ci_high``) and ``ci_method``: ``"noncentral t"`` (exact inversion, see
        :func:`~research.analysis.effects.dz_interval`) or the normal approximation, which is then
        also named in ``note``. ``note`` also holds any warning raised by the Wilcoxon test (e.g.
        scipy's note that ties or zero differences make its p approximate).

    References
    ----------
    Wilcoxon, F. (1945). Individual comparisons by ranking methods. *Biometrics Bulletin, 1*(6),
    80-83. https://doi.org/10.2307/3001968

    Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.). Erlbaum.

    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal
    of Statistics, 6*(2), 65-70. https://doi.org/10.2307/4615733
    """
    pairs = dyads(scores, instrument)
    rows = []
    for scale in instrument.scales:
        p = pairs[pairs["scale"] == scale]
        d = p["diff"].to_numpy(float)
        row = _dyad_row(p, d, scale, instrument)
        if not row["note"] and np.std(d) == 0:
            row["note"] = "no variance: every company's difference is the same"
        if not row["note"]:
            row.update(_paired_tests(p, d, confidence))
        rows.append(row)
    table = pd.DataFrame(rows)
    table["p_holm"] = adjust(table["p"], "holm")
    table["p_bh"] = adjust(table["p"], "fdr_bh")
    return table[
        DYAD_COLUMNS + ["p_bh", "sd_diff", "ci_low", "ci_high", "ci_method", "kind", "note"]
    ]


def _dyad_row(p: pd.DataFrame, d: np.ndarray, scale: str, instrument) -> dict:
    """One scale's dyad row before its tests: the pairs' means, and a note when too few pairs."""
    return {
        "instrument": instrument.id,
        "scale": scale,
        "kind": _kind(scale, instrument),
        "n_pairs": len(p),
        "mean_marketing": _mean(p["marketing"]),
        "mean_sales": _mean(p["sales"]),
        "mean_diff": _mean(d),
        "test": "paired-t",
        "statistic": np.nan,
        "df": np.nan,
        "p": np.nan,
        "wilcoxon_statistic": np.nan,
        "wilcoxon_p": np.nan,
        "effect": "cohen-dz",
        "effect_size": np.nan,
        "sd_diff": _sd(d),
        "ci_low": np.nan,
        "ci_high": np.nan,
        "ci_method": "",
        "note": ""
        if len(d) > 1
        else f"{len(d)} compan{'y' if len(d) == 1 else 'ies'} with scores from both functions; "
        "2 needed",
    }


def _paired_tests(p: pd.DataFrame, d: np.ndarray, confidence: float) -> dict:
    """The paired t-test, d_z with its interval and the Wilcoxon test of one scale's pairs."""
    res = stats.ttest_rel(p["marketing"], p["sales"])
    out = {
        "statistic": float(res.statistic),
        "df": float(len(d) - 1),
        "p": float(res.pvalue),
        "effect_size": float(np.mean(d) / np.std(d, ddof=1)),
    }
    out["ci_low"], out["ci_high"], out["ci_method"] = dz_interval(
        float(res.statistic), len(d), confidence, return_method=True
    )
    notes = [] if out["ci_method"] == DZ_EXACT else [f"d_z interval: {out['ci_method']}"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = stats.wilcoxon(d)
    notes += [
        f"Wilcoxon: {m}" for m in dict.fromkeys(" ".join(str(c.message).split()) for c in caught)
    ]
    out.update(
        wilcoxon_statistic=float(w.statistic), wilcoxon_p=float(w.pvalue), note="; ".join(notes)
    )
    return out


def sensitivity(
    n_marketing: int, n_sales: int, n_pairs: int, alpha: float = 0.05, power: float = 0.8
) -> pd.DataFrame:
    """The smallest effect the study could detect with the given power: g for the role comparison,
    d_z for dyads.

    Two-sided tests; statsmodels' power solvers (``TTestIndPower``, ``TTestPower``).

    References
    ----------
    Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.). Erlbaum.
    """
    from statsmodels.stats.power import TTestIndPower, TTestPower

    rows = []
    if n_marketing > 1 and n_sales > 1:
        g = TTestIndPower().solve_power(
            nobs1=n_marketing, ratio=n_sales / n_marketing, alpha=alpha, power=power
        )
        rows.append(
            {
                "comparison": "marketing vs sales (Welch/independent t)",
                "n": f"{n_marketing} + {n_sales}",
                "effect": "hedges-g",
                "min_detectable": float(np.atleast_1d(g)[0]),
            }
        )
    if n_pairs > 2:
        dz = TTestPower().solve_power(nobs=n_pairs, alpha=alpha, power=power)
        rows.append(
            {
                "comparison": "matched dyads (paired t)",
                "n": f"{n_pairs} pairs",
                "effect": "cohen-dz",
                "min_detectable": float(np.atleast_1d(dz)[0]),
            }
        )
    out = pd.DataFrame(rows, columns=["comparison", "n", "effect", "min_detectable"])
    out["alpha"], out["power"] = alpha, power
    return out
