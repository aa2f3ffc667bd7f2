"""Measurement quality: Cronbach's alpha with its interval, McDonald's omega, item statistics.

Every function takes the tidy ``responses`` frame (one row per respondent and item, keyed values) and
an :class:`~research.instruments.Instrument`, and returns a tidy DataFrame.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

GROUPS = ("all", "marketing", "sales")
RELIABILITY_COLUMNS = ["instrument", "scale", "group", "n", "n_items", "alpha", "ci_low", "ci_high", "omega", "note"]


def _wide(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    part = responses[responses["instrument"] == instrument.id]
    wide = part.pivot(index="respondent_id", columns="item", values="keyed").reindex(columns=instrument.item_ids)
    roles = part.drop_duplicates("respondent_id").set_index("respondent_id")["role"]
    wide.insert(0, "role", roles.reindex(wide.index))
    return wide


def _groups(wide: pd.DataFrame):
    yield "all", wide
    for role in ("marketing", "sales"):
        yield role, wide[wide["role"] == role]


def omega_total(items: pd.DataFrame) -> float:
    """McDonald's omega (total) from a one-factor maximum-likelihood model on the items' correlations.

    ``omega = (sum of loadings)^2 / ((sum of loadings)^2 + sum of uniquenesses)``. Missing (NaN) when the
    model cannot be fitted: fewer than three items or five respondents, a constant item, no convergence,
    or a Heywood case (a uniqueness at or below zero).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=2000)
    >>> items = pd.DataFrame({f"i{k}": 0.7 * f + rng.normal(scale=0.714, size=2000) for k in range(4)})
    >>> round(omega_total(items), 2)  # population value 4(.7)^2 / (4(.7)^2 + 4(.51)) = .79
    0.79
    """
    from statsmodels.multivariate.factor import Factor

    data = items.dropna()
    if data.shape[1] < 3 or len(data) < 5 or (data.std(ddof=1) == 0).any():
        return float("nan")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = Factor(data.to_numpy(float), n_factor=1, method="ml").fit()
    except (np.linalg.LinAlgError, ValueError, RuntimeError):
        return float("nan")
    loadings = np.asarray(fit.loadings).ravel()
    unique = np.asarray(fit.uniqueness).ravel()
    if not np.all(np.isfinite(loadings)) or np.any(unique <= 1e-6):
        return float("nan")
    s = abs(loadings.sum())
    return float(s**2 / (s**2 + unique.sum()))


def alpha_with_ci(items: pd.DataFrame, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Cronbach's alpha on the listwise-complete rows with Feldt's F-based interval: (alpha, low, high, n)."""
    data = items.dropna()
    n, k = data.shape
    if k < 2 or n < 3 or np.isclose(data.sum(axis=1).var(ddof=1), 0):
        return float("nan"), float("nan"), float("nan"), n
    import pingouin as pg  # imported here: notebooks without reliability need not pay for it
    from scipy.stats import f

    alpha, _ = pg.cronbach_alpha(data=data, nan_policy="listwise", ci=confidence)
    # pingouin rounds its interval to three decimals; the interval is recomputed unrounded (same formula).
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1 - (1 - alpha) * f.isf((1 - confidence) / 2, df1, df2)
    high = 1 - (1 - alpha) * f.isf(1 - (1 - confidence) / 2, df1, df2)
    return float(alpha), float(low), float(high), n


def reliability(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """Alpha (95% interval) and omega per scale (subscales and total) and group (all, marketing, sales).

    Returns
    -------
    DataFrame
        ``reliability.csv`` columns: ``instrument``, ``scale``, ``group``, ``n`` (listwise-complete respondents),
        ``n_items``, ``alpha``, ``ci_low``, ``ci_high``, ``omega``.

    Examples
    --------
    >>> from research.inputs.study import read_study
    >>> from research.paths import demo_study
    >>> s = read_study(demo_study())
    >>> table = reliability(s.responses, s.instrument("smr"))
    >>> table.columns.tolist() == RELIABILITY_COLUMNS
    True
    """
    wide = _wide(responses, instrument)
    rows = []
    for scale, items in instrument.scales.items():
        for group, part in _groups(wide):
            block = part[items]
            alpha, low, high, n = alpha_with_ci(block)
            omega = omega_total(block) if len(items) >= 3 else float("nan")
            notes = []
            if np.isnan(alpha):
                notes.append("alpha not computed: " + ("one item" if len(items) < 2 else
                                                       f"{n} complete respondents (3 needed)" if n < 3 else "no variance"))
            if np.isnan(omega):
                notes.append("omega: no one-factor model " + ("for fewer than three items" if len(items) < 3 else "could be fitted"))
            rows.append({"instrument": instrument.id, "scale": scale, "group": group, "n": n, "n_items": len(items),
                         "alpha": alpha, "ci_low": low, "ci_high": high, "omega": omega, "note": "; ".join(notes)})
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)


def item_statistics(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """Per item of each scale (all respondents): n, mean, SD, item-rest correlation, alpha if the item is dropped.

    The item-rest correlation is the Pearson correlation of the item with the sum of the scale's other items
    (listwise-complete respondents of the scale).
    """
    wide = _wide(responses, instrument)
    rows = []
    for scale, items in instrument.scales.items():
        block = wide[items].dropna()
        for item in items:
            rest = block.drop(columns=item)
            r = block[item].corr(rest.sum(axis=1)) if len(items) > 1 and len(block) > 2 else float("nan")
            dropped = alpha_with_ci(rest)[0] if len(items) > 2 else float("nan")
            col = wide[item].dropna()
            rows.append({"instrument": instrument.id, "scale": scale, "item": item, "n": len(col), "mean": col.mean(),
                         "sd": col.std(ddof=1), "item_rest_r": r, "alpha_if_dropped": dropped})
    return pd.DataFrame(rows)
