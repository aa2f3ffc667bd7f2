"""Agreement within companies: partner correlation and ICC, r_wg(j), Bland-Altman limits, weighted kappa.

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
    """r_wg(j) of James, Demaree & Wolf (1984) for one group: rows raters, columns the J items of a scale.

    ``r = J(1 - s2/σ2) / (J(1 - s2/σ2) + s2/σ2)`` with ``s2`` the mean of the items' variances across raters
    and ``σ2`` the uniform null variance; truncated to 0 when ``s2`` exceeds ``σ2`` (more disagreement than
    random answering). Missing when fewer than two raters answered every item.
    """
    ratings = ratings[~np.isnan(ratings).any(axis=1)]
    if ratings.shape[0] < 2:
        return float("nan")
    j = ratings.shape[1]
    ratio = ratings.var(axis=0, ddof=1).mean() / uniform_null_variance(n_points)
    if ratio >= 1:
        return 0.0
    return float(j * (1 - ratio) / (j * (1 - ratio) + ratio))


def rwg_by_company(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """r_wg(j) per company and scale over all of the company's respondents (both functions).

    Vectorised form of :func:`rwg_j`: raters are the company's respondents who answered every item of the
    scale. Returns ``company_id``, ``scale``, ``n_raters``, ``n_items``, ``rwg_j``.
    """
    part = responses[(responses["instrument"] == instrument.id) & responses["company_id"].notna()]
    wide = part.pivot(index="respondent_id", columns="item", values="keyed")
    companies = part.drop_duplicates("respondent_id").set_index("respondent_id")["company_id"]
    sigma = uniform_null_variance(instrument.n_points)
    frames = []
    for scale, items in instrument.scales.items():
        block = wide.reindex(columns=items).dropna()
        grouped = block.groupby(companies.reindex(block.index).to_numpy())
        s2 = grouped.var(ddof=1).mean(axis=1)
        n = grouped.size()
        j = len(items)
        ratio = s2 / sigma
        rwg = (j * (1 - ratio) / (j * (1 - ratio) + ratio)).where(ratio < 1, 0.0).where(n >= 2)
        frames.append(pd.DataFrame({"company_id": n.index, "scale": scale, "n_raters": n.to_numpy(), "n_items": j,
                                    "rwg_j": rwg.reindex(n.index).to_numpy()}))
    all_companies = pd.Index(part["company_id"].unique())
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    full = pd.MultiIndex.from_product([all_companies, list(instrument.scales)], names=["company_id", "scale"])
    out = out.set_index(["company_id", "scale"]).reindex(full).reset_index()
    out["n_raters"] = out["n_raters"].fillna(0).astype(int)
    out["n_items"] = out["scale"].map({k: len(v) for k, v in instrument.scales.items()})
    return out[["company_id", "scale", "n_raters", "n_items", "rwg_j"]]


def partner_agreement(scores: pd.DataFrame, instrument) -> pd.DataFrame:
    """Per scale over matched companies: Pearson partner correlation and ICC(1), with r_wg summaries added by
    :func:`agreement_summary`.

    ICC(1) is the one-way random-effects, single-rater intraclass correlation of pingouin
    (``intraclass_corr``, type ``ICC(1,1)``), companies as targets and the two functions as raters.
    """
    import pingouin as pg

    pairs = dyads(scores, instrument)
    rows = []
    for scale in instrument.scales:
        p = pairs[pairs["scale"] == scale]
        row = {"instrument": instrument.id, "scale": scale, "n_pairs": len(p), "r": np.nan, "r_p": np.nan,
               "icc1": np.nan, "icc1_ci_low": np.nan, "icc1_ci_high": np.nan,
               "note": "" if len(p) >= 3 else f"{len(p)} matched companies (3 needed)"}
        if not row["note"] and not (p["marketing"].std() > 0 and p["sales"].std() > 0):
            row["note"] = "no variance in one function's scores"
        if not row["note"]:
            r, rp = stats.pearsonr(p["marketing"], p["sales"])
            long = p.melt(id_vars="company_id", value_vars=["marketing", "sales"], var_name="role", value_name="score")
            icc = pg.intraclass_corr(data=long, targets="company_id", raters="role", ratings="score").iloc[0]
            # pingouin rounds its interval; recompute it unrounded from its F (Shrout & Fleiss, ICC(1,1)).
            f_stat, df1, df2 = float(icc["F"]), float(icc["df1"]), float(icc["df2"])
            f_low = f_stat / stats.f.ppf(0.975, df1, df2)
            f_high = f_stat * stats.f.ppf(0.975, df2, df1)
            row.update(r=float(r), r_p=float(rp), icc1=float(icc["ICC"]), icc1_ci_low=(f_low - 1) / (f_low + 1),
                       icc1_ci_high=(f_high - 1) / (f_high + 1))
        rows.append(row)
    return pd.DataFrame(rows)


def agreement_summary(scores: pd.DataFrame, responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """Partner correlation and ICC(1) per scale, with the median r_wg(j) and the share of companies at or above .70."""
    table = partner_agreement(scores, instrument)
    rwg = rwg_by_company(responses, instrument)
    summary = rwg.groupby("scale")["rwg_j"].agg(rwg_median="median", rwg_share_70=lambda s: (s.dropna() >= 0.7).mean()
                                                if s.notna().any() else np.nan, rwg_companies="count")
    return table.merge(summary.reset_index(), on="scale", how="left")


def bland_altman(scores: pd.DataFrame, instrument, scale: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Bland-Altman analysis of marketing against sales within companies, on the total by default.

    Returns
    -------
    points : DataFrame
        ``company_id``, ``mean`` (of the two functions), ``diff`` (marketing minus sales).
    limits : dict
        ``bias`` (mean difference), ``sd``, ``loa_low``/``loa_high`` (bias ± 1.96 SD), ``n_pairs``.
    """
    scale = scale or (instrument.total["id"] if instrument.total else instrument.subscale_ids[0])
    p = dyads(scores, instrument)
    p = p[p["scale"] == scale]
    points = pd.DataFrame({"company_id": p["company_id"], "mean": (p["marketing"] + p["sales"]) / 2, "diff": p["diff"]})
    bias = float(points["diff"].mean()) if len(points) else float("nan")
    sd = float(points["diff"].std(ddof=1)) if len(points) > 1 else float("nan")
    return points.reset_index(drop=True), {"scale": scale, "n_pairs": len(points), "bias": bias, "sd": sd,
                                           "loa_low": bias - 1.96 * sd, "loa_high": bias + 1.96 * sd}


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
    table = pd.crosstab(pd.Categorical(bm, labels), pd.Categorical(bs, labels), dropna=False)
    table.index.name, table.columns.name = "marketing stage", "sales stage"
    result = {"n_pairs": len(p), "exact_agreement": float((bm == bs).mean()) if len(p) else np.nan,
              "kappa_linear": np.nan, "kappa_ci_low": np.nan, "kappa_ci_high": np.nan}
    if len(p) >= 3 and table.to_numpy().sum() > 0 and (table.sum(axis=1) > 0).sum() + (table.sum(axis=0) > 0).sum() > 2:
        res = cohens_kappa(table.to_numpy(), wt="linear")
        result.update(kappa_linear=float(res.kappa), kappa_ci_low=float(res.kappa_low), kappa_ci_high=float(res.kappa_upp))
    return table, result
