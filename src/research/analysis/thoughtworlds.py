"""Thought worlds (Homburg & Jensen, 2007): how each function rates itself and the other one.

An instrument takes part when its items carry ``target`` (the function rated: marketing or sales) and
``dimension`` (the trait). The rater's own role decides whether a rating is a self- or an other-rating.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from research.analysis.effects import adjust, hedges_g


def has_thought_worlds(instrument) -> bool:
    return bool(instrument.items) and all({"target", "dimension"} <= set(it.extra) for it in instrument.items)


def perception_ratings(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """One row per respondent and rating: ``respondent_id``, ``rater`` (role), ``target``, ``dimension``,
    ``view`` (``self`` or ``other``) and ``rating`` (keyed)."""
    meta = pd.DataFrame([{"item": it.id, "target": it.extra["target"], "dimension": it.extra["dimension"]}
                         for it in instrument.items])
    part = responses[(responses["instrument"] == instrument.id) & responses["keyed"].notna()]
    long = part.merge(meta, on="item")[["respondent_id", "company_id", "role", "target", "dimension", "keyed"]]
    long = long.rename(columns={"role": "rater", "keyed": "rating"})
    long["view"] = np.where(long["rater"] == long["target"], "self", "other")
    return long


def mixed_anova_by_dimension(ratings: pd.DataFrame) -> pd.DataFrame:
    """Per dimension, a mixed ANOVA of rater function (between) × rated function (within), pingouin.

    Respondents who rated only one of the two functions on a dimension are left out of that dimension.
    Returns ``dimension``, ``source`` (rater, target, rater × target), ``F``, ``df1``, ``df2``, ``p``, ``np2``.
    """
    import pingouin as pg

    rows = []
    for dim, d in ratings.groupby("dimension", sort=False):
        complete = d.groupby("respondent_id")["target"].transform("nunique") == 2
        d = d[complete]
        if d["rater"].nunique() < 2 or d["respondent_id"].nunique() < 4:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            aov = pg.mixed_anova(data=d, dv="rating", within="target", between="rater", subject="respondent_id")
        names = {"rater": "rater function", "target": "rated function", "Interaction": "rater × rated function"}
        for rec in aov.to_dict("records"):
            rows.append({"dimension": dim, "source": names.get(rec["Source"], rec["Source"]), "F": rec["F"],
                         "df1": rec["DF1"], "df2": rec["DF2"], "p": rec["p_unc"], "np2": rec["np2"]})
    return pd.DataFrame(rows, columns=["dimension", "source", "F", "df1", "df2", "p", "np2"])


def perception_gaps(ratings: pd.DataFrame) -> pd.DataFrame:
    """For each dimension and function rated: its own people's view against the other function's view.

    ``gap = self_view - other_view``; Welch's t-test between the two groups of raters, Hedges' g,
    Holm over all rows.
    """
    rows = []
    for (dim, target), d in ratings.groupby(["dimension", "target"], sort=False):
        own = d.loc[d["view"] == "self", "rating"].to_numpy(float)
        other = d.loc[d["view"] == "other", "rating"].to_numpy(float)
        row = {"dimension": dim, "rated_function": target, "n_self": len(own), "n_other": len(other),
               "self_view": own.mean() if len(own) else np.nan, "other_view": other.mean() if len(other) else np.nan,
               "statistic": np.nan, "df": np.nan, "p": np.nan, "effect_size": np.nan}
        row["gap"] = row["self_view"] - row["other_view"]
        if len(own) > 1 and len(other) > 1 and (own.var() > 0 or other.var() > 0):
            res = stats.ttest_ind(own, other, equal_var=False)
            row.update(statistic=float(res.statistic), df=float(res.df), p=float(res.pvalue), effect_size=hedges_g(own, other))
        rows.append(row)
    out = pd.DataFrame(rows)
    if not out.empty:
        out["p_holm"] = adjust(out["p"], "holm")
    return out
