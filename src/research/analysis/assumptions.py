"""Assumption checks beside each scale test: normality, equal variances, outliers.

They do not change the contract's default tests; they tell a reader how much weight a t-test can
bear. The report layer puts them in words (:func:`research.report.prose.assumption_words`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

ROLES = ("marketing", "sales")


def assumption_checks(scores: pd.DataFrame, instrument, alpha: float = 0.05) -> pd.DataFrame:
    """Per scale: n, Shapiro-Wilk p and outliers beyond 3 SD per function, and Levene's
    (median-centred) p.

    Parameters
    ----------
    alpha : float
        Kept for the façade's signature; the checks themselves return p-values, not verdicts.

    References
    ----------
    Shapiro, S. S., & Wilk, M. B. (1965). An analysis of variance test for normality. *Biometrika,
    52*, 591–611. https://doi.org/10.1093/biomet/52.3-4.591

    Brown, M. B., & Forsythe, A. B. (1974). Robust tests for the equality of variances. *Journal of
    the American Statistical Association, 69*, 364–367.
    https://doi.org/10.1080/01621459.1974.10482955
    """
    part = scores[scores["instrument"] == instrument.id]
    rows = []
    for scale in instrument.scales:
        groups = {
            role: part.loc[part["role"] == role, scale].dropna().to_numpy(float) for role in ROLES
        }
        row = {"instrument": instrument.id, "scale": scale}
        for role, x in groups.items():
            row[f"n_{role}"] = len(x)
            row[f"shapiro_p_{role}"] = (
                stats.shapiro(x).pvalue if len(x) >= 3 and np.ptp(x) > 0 else np.nan
            )
            spread = x.std(ddof=1) if len(x) > 2 else 0.0
            z = (x - x.mean()) / spread if spread > 0 else np.zeros(len(x))
            row[f"outliers_{role}"] = int((np.abs(z) > 3).sum())
        both = all(len(x) > 1 for x in groups.values())
        row["levene_p"] = (
            stats.levene(groups["marketing"], groups["sales"], center="median").pvalue
            if both
            else np.nan
        )
        rows.append(row)
    return pd.DataFrame(rows)
