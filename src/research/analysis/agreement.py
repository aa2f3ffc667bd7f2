"""Agreement within companies: partner correlation and ICC, r_wg(j), Bland-Altman limits, weighted
kappa.

These answer "do the two functions of one company see the same relationship?", beside the mean
differences of :mod:`research.compare`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from research.analysis.compare import dyads


def uniform_null_variance(n_points: int) -> float:
    """Expected variance of a uniform (random) response on an A-point scale: ``(A^2 - 1) / 12``.

    Examples
    --------
    >>> uniform_null_variance(5), uniform_null_variance(7)
    (2.0, 4.0)
    """
    return (n_points**2 - 1) / 12


def rwg_j(ratings: np.ndarray, n_points: int) -> float:
    """r_wg(j) of James, Demaree & Wolf (1984) for one group: rows raters, columns the J items of a
    scale.

    ``r = J(1 - s2/σ2) / (J(1 - s2/σ2) + s2/σ2)`` with ``s2`` the mean of the items' variances
    across raters and ``σ2`` the uniform null variance; truncated to 0 when ``s2`` exceeds ``σ2``
    (more disagreement than random answering). Missing when fewer than two raters answered every
    item.
    """
    ratings = ratings[~np.isnan(ratings).any(axis=1)]
    if ratings.shape[0] < 2:
        return float("nan")
    j = ratings.shape[1]
    ratio = ratings.var(axis=0, ddof=1).mean() / uniform_null_variance(n_points)
    if ratio >= 1:
        return 0.0
    return float(j * (1 - ratio) / (j * (1 - ratio) + ratio))


def rwg_star_j(ratings: np.ndarray, n_points: int) -> float:
    """r*_wg(j) of Lindell, Brandt & Whitney (1999): ``1 - s2/σ2``, the same variance ratio as
    :func:`rwg_j` without the Spearman-Brown step, so it does not rise with the number of items.
    Negative when the raters disagree more than random answering would; missing with fewer than two
    complete raters.

    References
    ----------
    Lindell, M. K., Brandt, C. J. & Whitney, D. J. (1999). A revised index of interrater agreement
    for multi-item ratings of a single target. *Applied Psychological Measurement*, 23(2), 127-135.

    Examples
    --------
    >>> rwg_star_j(np.array([[4, 4, 5], [5, 4, 4.0]]), 5)  # mean item variance 1/3, null variance 2
    0.8333333333333334
    """
    ratings = ratings[~np.isnan(ratings).any(axis=1)]
    if ratings.shape[0] < 2:
        return float("nan")
    return float(1 - ratings.var(axis=0, ddof=1).mean() / uniform_null_variance(n_points))


def rwg_by_company(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """r_wg(j) per company and scale over all of the company's respondents (both functions).

    Vectorised form of :func:`rwg_j`: raters are the company's respondents who answered every item
    of the scale. Returns ``company_id``, ``scale``, ``n_raters``, ``n_items``, ``rwg_j`` and
    ``rwg_star_j`` (:func:`rwg_star_j`, the index that does not rise with the number of items). Both
    are missing for a company with fewer than two such raters.
    """
    part = responses[(responses["instrument"] == instrument.id) & responses["company_id"].notna()]
    wide = part.pivot(index="respondent_id", columns="item", values="keyed")
    companies = part.drop_duplicates("respondent_id").set_index("respondent_id")["company_id"]
    all_companies = pd.Index(part["company_id"].unique())
    codes = all_companies.get_indexer(companies.reindex(wide.index))
    sigma = uniform_null_variance(instrument.n_points)
    n_raters, rwg, star = [], [], []
    for items in instrument.scales.values():
        block = wide.reindex(columns=items).to_numpy(float)
        complete = ~np.isnan(block).any(axis=1)
        n, s2 = _mean_item_variance(block[complete], codes[complete], len(all_companies))
        j = len(items)
        ratio = s2 / sigma
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(ratio < 1, j * (1 - ratio) / (j * (1 - ratio) + ratio), 0.0)
        n_raters.append(n)
        rwg.append(np.where(n >= 2, value, np.nan))
        star.append(np.where(n >= 2, 1 - ratio, np.nan))
    full = pd.MultiIndex.from_product(
        [all_companies, list(instrument.scales)], names=["company_id", "scale"]
    )
    out = pd.DataFrame(
        {
            "n_raters": _by_company(n_raters, len(full)).astype(int),
            "n_items": 0,
            "rwg_j": _by_company(rwg, len(full)),
            "rwg_star_j": _by_company(star, len(full)),
        },
        index=full,
    ).reset_index()
    out["n_items"] = out["scale"].map({k: len(v) for k, v in instrument.scales.items()})
    return out[["company_id", "scale", "n_raters", "n_items", "rwg_j", "rwg_star_j"]]


def _mean_item_variance(block: np.ndarray, codes: np.ndarray, n_groups: int):
    """Per group (``codes`` 0..n_groups-1): the number of rows of ``block`` and the mean over its
    columns of their variance (ddof 1; NaN below two rows)."""
    n = np.bincount(codes, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = _group_sums(block, codes, n_groups) / n[:, None]
        dev = block - means[codes]
        var = _group_sums(dev * dev, codes, n_groups) / (n[:, None] - 1)
    var[n < 2] = np.nan
    return n, var.mean(axis=1) if block.shape[1] else np.full(n_groups, np.nan)


def _group_sums(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``values`` per group (``codes`` 0..n_groups-1): memory linear in the rows (a
    groups × rows membership matrix would take 24 GB at 40,000 companies)."""
    sums = np.zeros((n_groups, values.shape[1]))
    for column in range(values.shape[1]):
        sums[:, column] = np.bincount(codes, weights=values[:, column], minlength=n_groups)
    return sums


def _by_company(per_scale: list, size: int) -> np.ndarray:
    """Scale-major arrays (one per scale, one value per company) in company-major order."""
    if not per_scale:
        return np.full(size, np.nan)
    return np.column_stack(per_scale).ravel().astype(float)


def icc1_with_ci(x: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """ICC(1,1) of an ``n`` targets × ``k`` raters matrix without missing cells, and its F-based
    interval: (icc, low, high).

    From the two-way sums of squares as pingouin's ``intraclass_corr`` takes them (its balanced
    ``anova``, one rating per cell): ``MSB = SS_targets / (n - 1)`` and ``MSW = (SS_raters +
    SS_residual) / (n (k - 1))`` with ``SS_residual = SS_total - SS_targets - SS_raters``;
    ``ICC = (MSB - MSW) / (MSB + (k - 1) MSW)``. The interval is Shrout & Fleiss's for case 1:
    ``F = MSB/MSW``, ``F_L = F / F_{1-a/2}(n-1, n(k-1))``, ``F_U = F F_{1-a/2}(n(k-1), n-1)``,
    bounds ``(F_L - 1) / (F_L + k - 1)`` and ``(F_U - 1) / (F_U + k - 1)``, unrounded (pingouin
    rounds its own to two decimals).

    References
    ----------
    Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: Uses in assessing rater
    reliability. *Psychological Bulletin*, 86(2), 420-428. doi:10.1037/0033-2909.86.2.420

    McGraw, K. O. & Wong, S. P. (1996). Forming inferences about some intraclass correlation
    coefficients. *Psychological Methods*, 1(1), 30-46. doi:10.1037/1082-989X.1.1.30

    Examples
    --------
    >>> x = np.array([[1, 2], [3, 3], [5, 6], [8, 7.0]])
    >>> [round(v, 4) for v in icc1_with_ci(x)]
    [0.9483, 0.5811, 0.9965]
    """
    n, k = x.shape
    mu = x.mean()
    ss_total = ((x - mu) ** 2).sum()
    ss_targets = (k * (x.mean(axis=1) - mu) ** 2).sum()
    ss_raters = (n * (x.mean(axis=0) - mu) ** 2).sum()
    ss_residual = ss_total - (ss_targets + ss_raters)
    df1, df2 = n - 1, n * (k - 1)
    msb = ss_targets / df1
    msw = (ss_raters + ss_residual) / ((k - 1) + (n - 1) * (k - 1))
    f_stat = msb / msw
    upper = 1 - (1 - confidence) / 2
    f_low = f_stat / stats.f.ppf(upper, df1, df2)
    f_high = f_stat * stats.f.ppf(upper, df2, df1)
    return (
        float((msb - msw) / (msb + (k - 1) * msw)),
        float((f_low - 1) / (f_low + (k - 1))),
        float((f_high - 1) / (f_high + (k - 1))),
    )


def partner_agreement(scores: pd.DataFrame, instrument) -> pd.DataFrame:
    """Per scale over matched companies: Pearson partner correlation and ICC(1), with r_wg summaries
    added by :func:`agreement_summary`.

    ICC(1) is the one-way random-effects, single-rater intraclass correlation (:func:`icc1_with_ci`,
    pingouin's ``intraclass_corr`` type ``ICC(1,1)``), companies as targets and the two functions
    as raters.
    """
    pairs = dyads(scores, instrument)
    rows = []
    for scale, p in _by_scale(pairs, instrument):
        row = {
            "instrument": instrument.id,
            "scale": scale,
            "n_pairs": len(p),
            "r": np.nan,
            "r_p": np.nan,
            "icc1": np.nan,
            "icc1_ci_low": np.nan,
            "icc1_ci_high": np.nan,
            "note": "" if len(p) >= 3 else f"{len(p)} matched companies (3 needed)",
        }
        if not row["note"] and not (p[:, 0].std(ddof=1) > 0 and p[:, 1].std(ddof=1) > 0):
            row["note"] = "no variance in one function's scores"
        if not row["note"]:
            r, rp = stats.pearsonr(p[:, 0], p[:, 1])
            icc, low, high = icc1_with_ci(p)
            row.update(r=float(r), r_p=float(rp), icc1=icc, icc1_ci_low=low, icc1_ci_high=high)
        rows.append(row)
    return pd.DataFrame(rows)


def _by_scale(pairs: pd.DataFrame, instrument):
    """(scale, companies × [marketing, sales] float array) for every scale of the instrument."""
    values = pairs[["marketing", "sales"]].to_numpy(float)
    scale = pairs["scale"].to_numpy()
    for name in instrument.scales:
        yield name, values[scale == name]


#: Words for the lead beside every r_wg(j) summary (column ``rwg_caution``).
RWG_CAUTION = (
    "r_wg(j) rises with the number of items J even when agreement per item is unchanged (a "
    "Spearman-Brown step), so with many items it overstates agreement; r*_wg(j) does not "
    "(Lindell & Brandt 1999; LeBreton & Senter 2008)"
)


def agreement_summary(scores: pd.DataFrame, responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """Partner correlation and ICC(1) per scale, with r_wg(j) summaries over companies.

    Columns added to :func:`partner_agreement`: ``rwg_median`` and ``rwg_share_70`` (median r_wg(j)
    and the share of companies at or above .70), ``rwg_companies`` = the number of companies these
    summaries cover, i.e. companies with at least two respondents (either function) who answered
    every item of the scale (r_wg(j) is not defined for one rater); ``rwg_star_median`` (median
    r*_wg(j), :func:`rwg_star_j`); ``rwg_n_items`` (J) and ``rwg_caution`` (:data:`RWG_CAUTION`:
    r_wg(j)'s known inflation with many items).

    References
    ----------
    James, L. R., Demaree, R. G. & Wolf, G. (1984). Estimating within-group interrater reliability
    with and without response bias. *Journal of Applied Psychology*, 69(1), 85-98.
    doi:10.1037/0021-9010.69.1.85

    Lindell, M. K. & Brandt, C. J. (1999). Assessing interrater agreement on the job relevance of a
    test: A comparison of the CVI, T, rWG(J), and r*WG(J) indexes. *Journal of Applied Psychology*,
    84(4), 640-647. doi:10.1037/0021-9010.84.4.640

    LeBreton, J. M. & Senter, J. L. (2008). Answers to 20 questions about interrater reliability and
    interrater agreement. *Organizational Research Methods*, 11(4), 815-852.
    doi:10.1177/1094428106296642
    """
    out = partner_agreement(scores, instrument)
    rwg = rwg_by_company(responses, instrument)
    of_scale = rwg["scale"].to_numpy()
    summary = [_rwg_summary(rwg[of_scale == name]) for name in out["scale"]]
    for k, column in enumerate(["rwg_median", "rwg_share_70", "rwg_companies", "rwg_star_median"]):
        out[column] = [row[k] for row in summary]
    out["rwg_companies"] = out["rwg_companies"].astype(int)
    out["rwg_n_items"] = out["scale"].map({k: len(v) for k, v in instrument.scales.items()})
    out["rwg_caution"] = RWG_CAUTION
    return out


def _rwg_summary(rwg: pd.DataFrame) -> tuple[float, float, int, float]:
    """Median r_wg(j), share at or above .70, companies counted, median r*_wg(j) of one scale's
    rows of :func:`rwg_by_company` (missing values left out; NaN when none is left)."""
    r = rwg["rwg_j"].to_numpy(float)
    r = r[~np.isnan(r)]
    star = rwg["rwg_star_j"].to_numpy(float)
    star = star[~np.isnan(star)]
    return (
        float(np.median(r)) if len(r) else np.nan,
        float((r >= 0.7).mean()) if len(r) else np.nan,
        len(r),
        float(np.median(star)) if len(star) else np.nan,
    )


def bland_altman(
    scores: pd.DataFrame, instrument, scale: str | None = None, confidence: float = 0.95
) -> tuple[pd.DataFrame, dict]:
    """Bland-Altman analysis of marketing against sales within companies, on the total by default.

    Returns
    -------
    points : DataFrame
        ``company_id``, ``mean`` (of the two functions), ``diff`` (marketing minus sales).
    limits : dict
        ``bias`` (mean difference), ``sd``, ``loa_low``/``loa_high`` (bias ± 1.96 SD), ``n_pairs``,
        and their ``confidence`` intervals (t with n - 1 df):

        * ``bias_ci_low``/``bias_ci_high``: ``bias ± t SD/√n``;
        * ``loa_low_ci_low``, ``loa_low_ci_high``, ``loa_high_ci_low``, ``loa_high_ci_high``: Bland
          & Altman's (1986) approximate ``limit ± t √(3 SD²/n)``;
        * ``loa_low_exact_ci_low`` ... ``loa_high_exact_ci_high``: Carkeet's (2015) exact interval,
          ``bias ± SD q/√n`` with ``q`` the non-central t quantiles (df ``n - 1``, non-centrality
          ``1.96 √n``); it is asymmetric and wider than the approximation for small n.

        Missing with fewer than two pairs (intervals with fewer than three).

    References
    ----------
    Bland, J. M. & Altman, D. G. (1986). Statistical methods for assessing agreement between two
    methods of clinical measurement. *The Lancet*, 327(8476), 307-310.
    doi:10.1016/S0140-6736(86)90837-8

    Carkeet, A. (2015). Exact parametric confidence intervals for Bland-Altman limits of agreement.
    *Optometry and Vision Science*, 92(3), e71-e80. doi:10.1097/OPX.0000000000000513
    """
    scale = scale or (instrument.total["id"] if instrument.total else instrument.subscale_ids[0])
    p = dyads(scores, instrument)
    p = p[p["scale"] == scale]
    points = pd.DataFrame(
        {
            "company_id": p["company_id"],
            "mean": (p["marketing"] + p["sales"]) / 2,
            "diff": p["diff"],
        }
    )
    n = len(points)
    bias = float(points["diff"].mean()) if n else float("nan")
    sd = float(points["diff"].std(ddof=1)) if n > 1 else float("nan")
    limits = {
        "scale": scale,
        "n_pairs": n,
        "bias": bias,
        "sd": sd,
        "loa_low": bias - 1.96 * sd,
        "loa_high": bias + 1.96 * sd,
        "confidence": confidence,
    }
    limits.update(limit_intervals(bias, sd, n, confidence))
    return points.reset_index(drop=True), limits


def limit_intervals(
    bias: float, sd: float, n: int, confidence: float = 0.95, z: float = 1.96
) -> dict:
    """Confidence intervals of the Bland-Altman bias and limits (see :func:`bland_altman` for the
    formulas).

    Examples
    --------
    >>> ci = limit_intervals(0.0, 1.0, 10)
    >>> (round(ci["bias_ci_high"], 4), round(ci["loa_high_ci_low"], 4),
    ...  round(ci["loa_high_exact_ci_low"], 4))
    (0.7154, 0.721, 1.1632)
    """
    keys = [
        "bias_ci_low",
        "bias_ci_high",
        "loa_low_ci_low",
        "loa_low_ci_high",
        "loa_high_ci_low",
        "loa_high_ci_high",
        "loa_low_exact_ci_low",
        "loa_low_exact_ci_high",
        "loa_high_exact_ci_low",
        "loa_high_exact_ci_high",
    ]
    if n < 3 or not np.isfinite(sd):
        return dict.fromkeys(keys, float("nan"))
    tail = (1 - confidence) / 2
    t = stats.t.ppf(1 - tail, n - 1)
    se_bias, se_limit = sd / np.sqrt(n), np.sqrt(3 * sd**2 / n)
    low, high = bias - z * sd, bias + z * sd
    k_low = stats.nct.ppf(tail, n - 1, z * np.sqrt(n)) / np.sqrt(n)
    k_high = stats.nct.ppf(1 - tail, n - 1, z * np.sqrt(n)) / np.sqrt(n)
    values = [
        bias - t * se_bias,
        bias + t * se_bias,
        low - t * se_limit,
        low + t * se_limit,
        high - t * se_limit,
        high + t * se_limit,
        bias - k_high * sd,
        bias - k_low * sd,
        bias + k_low * sd,
        bias + k_high * sd,
    ]
    return {k: float(v) for k, v in zip(keys, values, strict=True)}


def stage_agreement(scores: pd.DataFrame, instrument) -> tuple[pd.DataFrame, dict]:
    """Cross-table of the two functions' stages per company, and Cohen's weighted kappa on them.

    The stage of a function is the band of its mean total in the company. Weights are linear
    (statsmodels ``cohens_kappa(wt="linear")``): neighbouring stages count as partial agreement.
    """
    from statsmodels.stats.inter_rater import cohens_kappa

    if not instrument.total or not instrument.total.get("bands"):
        return pd.DataFrame(), {}
    labels = [b["label"] for b in instrument.total["bands"]]
    p = dyads(scores, instrument)
    p = p[p["scale"] == instrument.total["id"]]
    bm = p["marketing"].map(instrument.band_of)
    bs = p["sales"].map(instrument.band_of)
    staged = (
        bm.notna() & bs.notna()
    )  # a total below every band has no stage: that company is left out
    bm, bs = bm[staged], bs[staged]
    table = pd.crosstab(
        pd.Categorical(bm, labels), pd.Categorical(bs, labels), dropna=False
    ).reindex(index=labels, columns=labels, fill_value=0)
    table.index.name, table.columns.name = "marketing stage", "sales stage"
    result = {
        "n_pairs": int(staged.sum()),
        "exact_agreement": float((bm == bs).mean()) if staged.any() else np.nan,
        "kappa_linear": np.nan,
        "kappa_ci_low": np.nan,
        "kappa_ci_high": np.nan,
    }
    if (
        staged.sum() >= 3
        and table.to_numpy().sum() > 0
        and (table.sum(axis=1) > 0).sum() + (table.sum(axis=0) > 0).sum() > 2
    ):
        res = cohens_kappa(table.to_numpy(), wt="linear")
        result.update(
            kappa_linear=float(res.kappa),
            kappa_ci_low=float(res.kappa_low),
            kappa_ci_high=float(res.kappa_upp),
        )
    return table, result
