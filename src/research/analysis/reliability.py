"""Measurement quality: Cronbach's alpha with its interval, McDonald's omega, item statistics.

Every function takes the tidy ``responses`` frame (one row per respondent and item, keyed values)
and an :class:`~research.instruments.Instrument`, and returns a tidy DataFrame.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

RELIABILITY_COLUMNS = [
    "instrument",
    "scale",
    "group",
    "n",
    "n_items",
    "alpha",
    "ci_low",
    "ci_high",
    "omega",
    "note",
]


def _wide(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    part = responses[responses["instrument"] == instrument.id]
    wide = part.pivot(index="respondent_id", columns="item", values="keyed").reindex(
        columns=instrument.item_ids
    )
    roles = part.drop_duplicates("respondent_id").set_index("respondent_id")["role"]
    wide.insert(0, "role", roles.reindex(wide.index))
    return wide


def _groups(wide: pd.DataFrame):
    yield "all", wide
    for role in ("marketing", "sales"):
        yield role, wide[wide["role"] == role]


#: Fewest listwise-complete respondents for the one-factor model behind omega.
OMEGA_MIN_RESPONDENTS = 5


def omega_with_reason(items: pd.DataFrame) -> tuple[float, str]:
    """McDonald's omega (total) and, when it is missing, the reason ("" when computed).

    The reason is one of: fewer than three items; too few respondents (fewer than
    :data:`OMEGA_MIN_RESPONDENTS` listwise-complete); a constant item (named); the fit failed (the
    error); no convergence of the maximum-likelihood optimiser; a Heywood case (a uniqueness at or
    below zero, the items named). Warnings raised by the fit are appended to the reason when omega
    is missing.

    References
    ----------
    McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum. doi:10.4324/9781410601087

    Dillon, W. R., Kumar, A. & Mulani, N. (1987). Offending estimates in covariance structure
    analysis: Comments on the causes of and solutions to Heywood cases. *Psychological Bulletin*,
    101(1), 126-135. doi:10.1037/0033-2909.101.1.126
    """
    data = items.dropna()
    return _omega(data.to_numpy(float), data.columns, lambda: data.std(ddof=1) == 0)


def _omega(data: np.ndarray, columns, zero_sd) -> tuple[float, str]:
    """:func:`omega_with_reason` on the listwise-complete rows ``data`` (columns named ``columns``).

    ``zero_sd()`` says which columns have a zero standard deviation as pandas computes it; it is
    asked only when a column holds one value (a constant that is not a whole number can have a
    tiny non-zero SD, and the fit then goes ahead as it always has).
    """
    from statsmodels.multivariate.factor import Factor

    if data.shape[1] < 3:
        return float("nan"), f"fewer than three items ({data.shape[1]})"
    if len(data) < OMEGA_MIN_RESPONDENTS:
        return float(
            "nan"
        ), f"too few respondents: {len(data)} complete ({OMEGA_MIN_RESPONDENTS} needed)"
    if (data == data[0]).all(axis=0).any():
        constant = [str(c) for c in columns[np.asarray(zero_sd())]]
        if constant:
            return float(
                "nan"
            ), f"constant item{'s' if len(constant) > 1 else ''}: {', '.join(constant)}"
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = Factor(data, n_factor=1, method="ml").fit(rng=0)
    except (np.linalg.LinAlgError, ValueError, RuntimeError) as err:
        return float("nan"), f"the one-factor fit failed ({type(err).__name__}: {err})"
    warned = "; ".join(
        dict.fromkeys(f"{c.category.__name__}: {' '.join(str(c.message).split())}" for c in caught)
    )
    loadings = np.asarray(fit.loadings).ravel()
    unique = np.asarray(fit.uniqueness).ravel()
    reason = ""
    if np.any(unique <= 1e-6):
        names = ", ".join(str(c) for c in columns[unique <= 1e-6])
        reason = f"Heywood case: uniqueness at or below zero for {names}"
    elif not fit.mle_retvals.success or not np.all(np.isfinite(loadings)):
        reason = "no convergence of the one-factor maximum-likelihood fit"
    if reason:
        return float("nan"), reason + (f" ({warned})" if warned else "")
    s = abs(loadings.sum())
    return float(s**2 / (s**2 + unique.sum())), ""


def omega_total(items: pd.DataFrame) -> float:
    """McDonald's omega (total) from a one-factor maximum-likelihood model on the items'
    correlations.

    ``omega = (sum of loadings)^2 / ((sum of loadings)^2 + sum of uniquenesses)``. Missing (NaN)
    when the model cannot be fitted: fewer than three items or five respondents, a constant item, no
    convergence, or a Heywood case (a uniqueness at or below zero); :func:`omega_with_reason` says
    which. The EM start values are seeded (``rng=0``), so the value is reproducible.

    References
    ----------
    McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum. doi:10.4324/9781410601087

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=2000)
    >>> items = pd.DataFrame({f"i{k}": 0.7 * f + rng.normal(scale=0.714, size=2000)
    ...                       for k in range(4)})
    >>> round(omega_total(items), 2)  # population value 4(.7)^2 / (4(.7)^2 + 4(.51)) = .79
    0.79
    """
    return omega_with_reason(items)[0]


def spearman_brown(items: pd.DataFrame) -> float:
    """Spearman-Brown reliability of a two-item scale: ``2r / (1 + r)``, r the items' Pearson
    correlation.

    For two items this, not alpha, is the recommended coefficient (Eisinga, Te Grotenhuis & Pelzer,
    2013): alpha assumes essentially tau-equivalent items and underestimates reliability otherwise.
    Computed on the listwise-complete rows; missing with fewer than three rows, not exactly two
    items, a constant item, or items correlated exactly -1 (where ``1 + r`` is zero).

    References
    ----------
    Eisinga, R., Te Grotenhuis, M. & Pelzer, B. (2013). The reliability of a two-item scale:
    Pearson, Cronbach, or Spearman-Brown? *International Journal of Public Health*, 58(4), 637-642.
    doi:10.1007/s00038-012-0416-3

    Examples
    --------
    >>> spearman_brown(pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, 5]}))  # r = .8
    0.888888888888889
    """
    data = items.dropna()
    if data.shape[1] != 2 or len(data) < 3 or (data.std(ddof=1) == 0).any():
        return float("nan")
    r = float(np.corrcoef(data.to_numpy(float).T)[0, 1])
    if (
        r <= -1 + 1e-9
    ):  # two items in exactly opposite order: the coefficient is undefined (division by zero)
        return float("nan")
    return 2 * r / (1 + r)


def alpha_with_ci(items: pd.DataFrame, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Cronbach's alpha on the listwise-complete rows with Feldt's F-based interval: (alpha, low,
    high, n).

    ``alpha = k/(k-1) (1 - tr(C) / sum(C))``, ``C`` the items' covariance matrix, as pingouin's
    ``cronbach_alpha`` computes it; the interval ``1 - (1 - alpha) F_{a/2}`` and ``1 - (1 - alpha)
    F_{1-a/2}`` (upper quantiles of F with ``n - 1`` and ``(n - 1)(k - 1)`` df), unrounded (pingouin
    rounds it to three decimals). Missing with fewer than two items, fewer than three complete
    rows, or no variance in the sum of the items.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16(3), 297-334. doi:10.1007/BF02310555

    Feldt, L. S., Woodruff, D. J. & Salih, F. A. (1987). Statistical inference for coefficient
    alpha. *Applied Psychological Measurement*, 11(1), 93-103. doi:10.1177/014662168701100107
    """
    return _alpha(items.dropna().to_numpy(float), confidence)


def _alpha(data: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """:func:`alpha_with_ci` on the listwise-complete rows ``data``."""
    n, k = data.shape
    alpha = _alpha_value(data)
    if np.isnan(alpha):
        return alpha, float("nan"), float("nan"), n
    from scipy.stats import f

    tail = (1 - confidence) / 2
    upper = f.isf([tail, 1 - tail], n - 1, (n - 1) * (k - 1))
    low, high = 1 - (1 - alpha) * upper
    return alpha, float(low), float(high), n


def _alpha_value(data: np.ndarray) -> float:
    """Cronbach's alpha of the listwise-complete rows ``data`` alone (NaN as in :func:`_alpha`)."""
    n, k = data.shape
    if k < 2 or n < 3 or np.isclose(data.sum(axis=1).var(ddof=1), 0):
        return float("nan")
    cov = np.cov(data.T, ddof=1)
    return float((k / (k - 1)) * (1 - np.trace(cov) / cov.sum(axis=0).sum()))


def reliability(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """Alpha (95% interval) and omega per scale (subscales and total) and group (all, marketing,
    sales).

    Returns
    -------
    DataFrame
        ``reliability.csv`` columns: ``instrument``, ``scale``, ``group``, ``n`` (listwise-complete
        respondents), ``n_items``, ``alpha``, ``ci_low``, ``ci_high``, ``omega``, ``note``; then
        ``spearman_brown`` (two-item scales only: ``2r/(1+r)``, see :func:`spearman_brown`) and
        ``omega_reason`` (why omega is missing, "" when computed; also in ``note``).

    Examples
    --------
    >>> from research.inputs.study import read_study
    >>> from research.paths import demo_study
    >>> s = read_study(demo_study())
    >>> table = reliability(s.responses, s.instrument("smr"))
    >>> table.columns.tolist()[:len(RELIABILITY_COLUMNS)] == RELIABILITY_COLUMNS
    True
    """
    wide = _wide(responses, instrument)
    values = wide[instrument.item_ids].to_numpy(float)
    column = {item: j for j, item in enumerate(instrument.item_ids)}
    groups = [(g, part, _rows(wide, part)) for g, part in _groups(wide)]
    rows = []
    for scale, items in instrument.scales.items():
        cols = [column[i] for i in items]
        for group, part, at in groups:
            block = values[at][:, cols]
            data = block[~np.isnan(block).any(axis=1)]
            alpha, low, high, n = _alpha(data)
            omega, why = _omega(
                data,
                pd.Index(items),
                lambda part=part, items=items: part[items].dropna().std(ddof=1) == 0,
            )
            sb = spearman_brown(part[items]) if len(items) == 2 else float("nan")
            rows.append(
                {
                    "instrument": instrument.id,
                    "scale": scale,
                    "group": group,
                    "n": n,
                    "n_items": len(items),
                    "alpha": alpha,
                    "ci_low": low,
                    "ci_high": high,
                    "omega": omega,
                    "note": _note(len(items), n, alpha, omega, why),
                    "spearman_brown": sb,
                    "omega_reason": why,
                }
            )
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS + ["spearman_brown", "omega_reason"])


def _rows(wide: pd.DataFrame, part: pd.DataFrame) -> np.ndarray:
    """Positions in ``wide`` of the rows of ``part`` (one of :func:`_groups`)."""
    return wide.index.get_indexer(part.index)


def _note(n_items: int, n: int, alpha: float, omega: float, why: str) -> str:
    notes = []
    if np.isnan(alpha):
        notes.append(
            "alpha not computed: "
            + (
                "one item"
                if n_items < 2
                else f"{n} complete respondents (3 needed)"
                if n < 3
                else "no variance"
            )
        )
    if n_items == 2:
        notes.append(
            "two items: report the Spearman-Brown coefficient (spearman_brown); alpha is "
            "not the recommended coefficient for two items"
        )
    if np.isnan(omega):
        notes.append(f"omega not computed: {why}")
    return "; ".join(notes)


def item_statistics(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """Per item of each scale (all respondents): n, mean, SD, item-rest correlation, alpha if the
    item is dropped.

    The item-rest correlation is the Pearson correlation of the item with the sum of the scale's
    other items (listwise-complete respondents of the scale).
    """
    wide = _wide(responses, instrument)
    values = wide[instrument.item_ids].to_numpy(float)
    column = {item: j for j, item in enumerate(instrument.item_ids)}
    rows = []
    for scale, items in instrument.scales.items():
        block = values[:, [column[i] for i in items]]
        block = block[~np.isnan(block).any(axis=1)]
        total = block.sum(axis=1)
        for j, item in enumerate(items):
            r = (
                _pearson(block[:, j], total - block[:, j])
                if len(items) > 1 and len(block) > 2
                else float("nan")
            )
            dropped = _alpha_value(np.delete(block, j, axis=1)) if len(items) > 2 else float("nan")
            col = values[:, column[item]]
            col = col[~np.isnan(col)]
            rows.append(
                {
                    "instrument": instrument.id,
                    "scale": scale,
                    "item": item,
                    "n": len(col),
                    "mean": col.mean() if len(col) else float("nan"),
                    "sd": col.std(ddof=1) if len(col) > 1 else float("nan"),
                    "item_rest_r": r,
                    "alpha_if_dropped": dropped,
                }
            )
    return pd.DataFrame(rows)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's r as pandas' ``Series.corr`` computes it (each centred variable scaled by its
    largest absolute value first): missing when either is constant, clipped to [-1, 1]."""
    a, b = a - a.mean(), b - b.mean()
    a_scale, b_scale = np.max(np.abs(a)), np.max(np.abs(b))
    if a_scale == 0 or b_scale == 0:
        return float("nan")
    a, b = a / a_scale, b / b_scale
    fact = len(a) - 1
    r = np.dot(a, b) / fact / np.sqrt(np.dot(a, a) / fact)
    return float(np.clip(r / np.sqrt(np.dot(b, b) / fact), -1.0, 1.0))
