"""Thought worlds (Homburg & Jensen, 2007): how each function rates itself and the other one.

An instrument takes part when its items carry ``target`` (the function rated: marketing or sales)
and ``dimension`` (the trait). The rater's own role decides whether a rating is a self- or an
other-rating.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from research.analysis.effects import adjust, hedges_g


def has_thought_worlds(instrument) -> bool:
    return bool(instrument.items) and all(
        {"target", "dimension"} <= set(it.extra) for it in instrument.items
    )


def perception_ratings(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """One row per respondent and rating: ``respondent_id``, ``rater`` (role), ``target``,
    ``dimension``, ``view`` (``self`` or ``other``) and ``rating`` (keyed)."""
    meta = pd.DataFrame(
        [
            {"item": it.id, "target": it.extra["target"], "dimension": it.extra["dimension"]}
            for it in instrument.items
        ]
    )
    part = responses[(responses["instrument"] == instrument.id) & responses["keyed"].notna()]
    long = part.merge(meta, on="item")[
        ["respondent_id", "company_id", "role", "target", "dimension", "keyed"]
    ]
    long = long.rename(columns={"role": "rater", "keyed": "rating"})
    long["view"] = np.where(long["rater"] == long["target"], "self", "other")
    return long


ANOVA_COLUMNS = ["dimension", "source", "F", "df1", "df2", "p", "np2", "ss_type"]
_SOURCES = {
    "rater": "rater function",
    "target": "rated function",
    "Interaction": "rater × rated function",
}


def _type3_two_levels(wide: pd.DataFrame) -> list[dict]:
    """Type III mixed ANOVA for a two-level within factor, from each respondent's mean and
    difference.

    ``wide``: one row per respondent, index level ``rater``, columns the two targets. With two
    within levels the between stratum is the one-way ANOVA of the respondents' means ``m`` (Type II
    = III there) and the within stratum that of their differences ``d``: the interaction tests
    whether the mean ``d`` differs between rater groups, and the Type III main effect of the within
    factor tests that the *unweighted* mean of the groups' mean ``d`` is zero, ``F = L^2 / (MSE_d *
    sum_g 1/(G^2 n_g))`` with ``L = sum_g dbar_g / G`` (sum-to-zero contrasts; Type II would use the
    weighted mean, ``F = N dbar^2 / MSE_d``). Sums of squares are on the rating scale (halved, as
    each respondent's two ratings give ``d^2/2``).
    """
    from scipy import stats as st

    x = wide.to_numpy(float)
    m, d = (x[:, 0] + x[:, 1]) / 2, x[:, 0] - x[:, 1]
    codes, levels = pd.factorize(wide.index.get_level_values("rater"), sort=True)
    n_g = np.bincount(codes, minlength=len(levels))
    big_n, g = len(d), len(n_g)
    m_g, d_g = _group_means(m, codes, g), _group_means(d, codes, g)
    ss_err_b = 2 * ((m - m_g[codes]) ** 2).sum()
    ss_b = 2 * (n_g * (m_g - m.mean()) ** 2).sum()
    ss_err_w = ((d - d_g[codes]) ** 2).sum() / 2
    contrast = d_g.mean()
    ss_w = contrast**2 / (1 / n_g / g**2).sum() / 2
    ss_i = (n_g * (d_g - d.mean()) ** 2).sum() / 2
    df_err = big_n - g
    out = []
    for source, ss, df1, ss_err in (
        ("rater", ss_b, g - 1, ss_err_b),
        ("target", ss_w, 1, ss_err_w),
        ("Interaction", ss_i, g - 1, ss_err_w),
    ):
        f_val = (ss / df1) / (ss_err / df_err)
        out.append(
            {
                "Source": source,
                "F": float(f_val),
                "DF1": df1,
                "DF2": df_err,
                "p_unc": float(st.f.sf(f_val, df1, df_err)),
                "np2": float(ss / (ss + ss_err)),
            }
        )
    return out


def _group_means(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``values`` per label ``0..n-1`` (each present), by pandas' grouped mean: summed as
    pandas sums them, so that the sums of squares built on them round as pingouin's do."""
    means = pd.Series(values).groupby(labels, sort=True).mean()
    return means.reindex(range(n)).to_numpy(float)


def _type2_mixed(cells: pd.DataFrame) -> list[dict]:
    """pingouin's ``mixed_anova`` (sums of squares, F, p, partial eta squared) for one dimension.

    ``cells``: one row per respondent (index levels ``respondent_id``, ``rater``), one column per
    rated function, each cell the respondent's mean rating; listwise complete. The sums of squares
    are pingouin's, step for step: between (rater groups), within (targets), the residual of the
    group × target cell means, the interaction as what remains of the total, the subjects' sum of
    squares; the between error is subjects minus between, the within error the total minus within,
    subjects and interaction. Numpy's warnings on the final divisions (a stratum without error
    variance) are raised as pingouin raises them.

    References
    ----------
    Vallat, R. (2018). Pingouin: statistics in Python. *Journal of Open Source Software*, 3(31),
    1026. doi:10.21105/joss.01026
    """
    from scipy.stats import f

    x = cells.to_numpy(float)
    codes, levels = pd.factorize(cells.index.get_level_values("rater"), sort=True)
    n_subj, n_rm = x.shape
    g = len(levels)
    # pingouin's long column: each rated function's respondents in turn, summed in that order
    long = x.T.ravel()
    rater = np.tile(codes, n_rm)
    target = np.repeat(np.arange(n_rm), n_subj)
    grand = long.mean()
    ss_total = ((long - grand) ** 2).sum()
    ss_betw = ((_group_means(long, rater, g) - grand) ** 2 * np.bincount(rater)).sum()
    ss_with = ((_group_means(long, target, n_rm) - grand) ** 2 * np.bincount(target)).sum()
    cell = rater * n_rm + target
    ss_resall = ((long - _group_means(long, cell, g * n_rm)[cell]) ** 2).sum()
    ss_inter = ss_total - (ss_resall + ss_with + ss_betw)
    ss_subj = n_rm * ((x.mean(axis=1) - grand) ** 2).sum()
    ss = np.array([ss_betw, ss_with, ss_inter])
    ss_reswith = ss_total - (ss_with + ss_subj + ss_inter)
    ss_err = np.array([ss_subj - ss_betw, ss_reswith, ss_reswith])
    df_betw, df_with = g - 1, n_rm - 1
    ddof1 = np.array([df_betw, df_with, df_with * df_betw])
    ddof2 = np.array([n_subj - g] + [df_with * (n_subj - g)] * 2)
    fval = ss / ddof1 / (ss_err / ddof2)
    p_unc = f(ddof1, ddof2).sf(fval)
    np2 = ss / (ss + ss_err)
    return [
        {
            "Source": src,
            "F": fval[i],
            "DF1": ddof1[i],
            "DF2": ddof2[i],
            "p_unc": p_unc[i],
            "np2": np2[i],
        }
        for i, src in enumerate(["rater", "target", "Interaction"])
    ]


def mixed_anova_by_dimension(ratings: pd.DataFrame, ss_type: int = 2) -> pd.DataFrame:
    """Per dimension, a mixed ANOVA of rater function (between) × rated function (within).

    Respondents who rated only one of the two functions on a dimension are left out of that
    dimension; a respondent's several items for one dimension and target are averaged (as pingouin
    does).

    Parameters
    ----------
    ratings : DataFrame
        :func:`perception_ratings`.
    ss_type : {2, 3}
        ``2`` (default, unchanged): pingouin's ``mixed_anova``, whose sums of squares are sequential
        (between factor, within factor, then the interaction as the remainder); computed by
        :func:`_type2_mixed` step for step as pingouin does (pingouin itself is called only for
        cells it does not cover, e.g. three rated functions). With every
        respondent rating both functions the within factor is orthogonal to the between factor, so
        these equal Type II (and Type I) sums of squares. ``3``: Type III with sum-to-zero
        contrasts, equal to R's ``afex::aov_ez(type = 3)`` / ``car::Anova(type = 3)``; computed by
        :func:`_type3_two_levels` (two rated functions). With unequal rater groups and an
        interaction, Type II and III differ for the *rated function* (within) main effect; the
        between effect and the interaction are the same under both.

    Returns
    -------
    DataFrame
        ``dimension``, ``source`` (rater function, rated function, rater × rated function), ``F``,
        ``df1``, ``df2``, ``p``, ``np2`` (partial eta squared), ``ss_type`` (2 or 3), ``note``
        (numerical warnings raised by the computation, e.g. a division by zero when a stratum has no
        error variance; "" when none).

    References
    ----------
    Vallat, R. (2018). Pingouin: statistics in Python. *Journal of Open Source Software*, 3(31),
    1026. doi:10.21105/joss.01026

    Langsrud, Ø. (2003). ANOVA for unbalanced data: Use Type II instead of Type III sums of squares.
    *Statistics and Computing*, 13(2), 163-167. doi:10.1023/A:1023260610025

    Singmann, H. & Kellen, D. (2019). An introduction to mixed models for experimental psychology.
    In *New methods in cognitive psychology* (pp. 4-31). Routledge. doi:10.4324/9780429318405-2
    """
    if ss_type not in (2, 3):
        raise ValueError(f"ss_type must be 2 or 3, not {ss_type!r}")
    rows = []
    for dim, d in ratings.groupby("dimension", sort=False):
        complete = d.groupby("respondent_id")["target"].transform("nunique") == 2
        d = d[complete]
        if d["rater"].nunique() < 2 or d["respondent_id"].nunique() < 4:
            continue
        caught = []
        if ss_type == 2:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                records = _type2_records(d)
        else:
            wide = _cells(d)
            if wide.shape[1] != 2:
                raise ValueError("Type III here needs exactly two rated functions")
            records = _type3_two_levels(wide)
        note = "; ".join(
            dict.fromkeys(
                f"{c.category.__name__}: {' '.join(str(c.message).split())}" for c in caught
            )
        )
        for rec in records:
            rows.append(
                {
                    "dimension": dim,
                    "source": _SOURCES.get(rec["Source"], rec["Source"]),
                    "F": rec["F"],
                    "df1": rec["DF1"],
                    "df2": rec["DF2"],
                    "p": rec["p_unc"],
                    "np2": rec["np2"],
                    "ss_type": ss_type,
                    "note": note,
                }
            )
    return pd.DataFrame(rows, columns=ANOVA_COLUMNS + ["note"])


def _cells(d: pd.DataFrame) -> pd.DataFrame:
    """Each respondent's mean rating per rated function (rows ``respondent_id``, ``rater``; a column
    per rated function), listwise complete: pingouin's pivot, by one grouped mean."""
    return (
        d.groupby(["respondent_id", "rater", "target"], observed=True)["rating"]
        .mean()
        .unstack("target")
        .dropna()
    )


def _type2_records(d: pd.DataFrame) -> list[dict]:
    """:func:`_type2_mixed` on the respondents' cell means (pingouin's own pivot: mean rating per
    respondent and rated function, listwise complete); pingouin's ``mixed_anova`` itself when the
    cells are not two rated functions, two or more rater groups and one group per respondent."""
    cells = _cells(d)
    subjects = cells.index.get_level_values("respondent_id")
    if cells.shape[1] == 2 and subjects.is_unique and cells.index.get_level_values(1).nunique() > 1:
        return _type2_mixed(cells)
    import pingouin as pg

    return pg.mixed_anova(
        data=d, dv="rating", within="target", between="rater", subject="respondent_id"
    ).to_dict("records")


def perception_gaps(ratings: pd.DataFrame) -> pd.DataFrame:
    """For each dimension and function rated: its own people's view against the other function's
    view.

    ``gap = self_view - other_view``; Welch's t-test between the two groups of raters, Hedges' g,
    Holm over all rows.

    References
    ----------
    Homburg, C., & Jensen, O. (2007). The thought worlds of marketing and sales: Which differences
    make a difference? *Journal of Marketing, 71*(3), 124-142. https://doi.org/10.1509/jmkg.71.3.124

    Welch, B. L. (1947). The generalization of 'Student's' problem when several different population
    variances are involved. *Biometrika, 34*(1-2), 28-35. https://doi.org/10.1093/biomet/34.1-2.28

    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
    estimators. *Journal of Educational Statistics, 6*(2), 107-128.
    https://doi.org/10.3102/10769986006002107

    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal
    of Statistics, 6*(2), 65-70. https://doi.org/10.2307/4615733
    """
    rows = []
    view, rating = ratings["view"].to_numpy(), ratings["rating"].to_numpy(float)
    for (dim, target), at in ratings.groupby(["dimension", "target"], sort=False).indices.items():
        own = rating[at[view[at] == "self"]]
        other = rating[at[view[at] == "other"]]
        row = {
            "dimension": dim,
            "rated_function": target,
            "n_self": len(own),
            "n_other": len(other),
            "self_view": own.mean() if len(own) else np.nan,
            "other_view": other.mean() if len(other) else np.nan,
            "statistic": np.nan,
            "df": np.nan,
            "p": np.nan,
            "effect_size": np.nan,
        }
        row["gap"] = row["self_view"] - row["other_view"]
        if len(own) > 1 and len(other) > 1 and (own.var() > 0 or other.var() > 0):
            res = stats.ttest_ind(own, other, equal_var=False)
            row.update(
                statistic=float(res.statistic),
                df=float(res.df),
                p=float(res.pvalue),
                effect_size=hedges_g(own, other),
            )
        rows.append(row)
    out = pd.DataFrame(rows)
    if not out.empty:
        out["p_holm"] = adjust(out["p"], "holm")
    return out
