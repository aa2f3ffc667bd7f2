"""Assumption checks beside each scale test, in words (normality, equal variances, outliers).

They do not change the contract's default tests; they tell a reader how much weight a t-test can bear.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def assumption_checks(scores: pd.DataFrame, instrument, alpha: float = 0.05) -> pd.DataFrame:
    """Per scale: Shapiro-Wilk p per function, Levene (median-centred) p, outliers beyond 3 SD, and a sentence."""
    part = scores[scores["instrument"] == instrument.id]
    rows = []
    for scale in instrument.scales:
        groups = {role: part.loc[part["role"] == role, scale].dropna().to_numpy(float) for role in ("marketing", "sales")}
        row = {"instrument": instrument.id, "scale": scale}
        notes = []
        for role, x in groups.items():
            p = stats.shapiro(x).pvalue if len(x) >= 3 and np.ptp(x) > 0 else np.nan
            row[f"shapiro_p_{role}"] = p
            z = (x - x.mean()) / x.std(ddof=1) if len(x) > 2 and x.std(ddof=1) > 0 else np.zeros(len(x))
            row[f"outliers_{role}"] = int((np.abs(z) > 3).sum())
            if not np.isnan(p) and p < alpha:
                notes.append(f"{role} scores depart from a normal shape (Shapiro-Wilk p = {p:.3f})"
                             + ("; with this many respondents the t-test is still robust" if len(x) >= 30 else
                                "; with few respondents, lean on the rank test beside it"))
        both = all(len(x) > 1 for x in groups.values())
        lev = stats.levene(groups["marketing"], groups["sales"], center="median").pvalue if both else np.nan
        row["levene_p"] = lev
        if not np.isnan(lev) and lev < alpha:
            notes.append(f"the two functions' spreads differ (Levene p = {lev:.3f}); Welch's test does not assume equal spreads")
        n_out = row["outliers_marketing"] + row["outliers_sales"]
        if n_out:
            notes.append(f"{n_out} score(s) lie more than 3 SD from their group's mean")
        text = "; ".join(notes)
        row["in_words"] = text[:1].upper() + text[1:] + "." if notes else "No concerns: shapes near normal, similar spreads, no outliers."
        rows.append(row)
    return pd.DataFrame(rows)
