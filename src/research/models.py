"""Robustness models beside the default tests: an ordinal logit per item and a mixed model per scale.

They answer "would a model that respects the data's shape say the same?": the ordinal logit treats
answers as ordered categories; the mixed model lets respondents of one company share a random intercept.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd


def ordinal_logit(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """Proportional-odds logit per item: answer ~ marketing (vs sales), statsmodels ``OrderedModel``.

    ``coef`` > 0 means marketing answers higher; ``odds_ratio`` = exp(coef). Missing where the model does
    not converge or an item has fewer than two answered levels.
    """
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    part = responses[(responses["instrument"] == instrument.id) & responses["keyed"].notna()
                     & responses["role"].isin(["marketing", "sales"])]
    rows = []
    for item, grp in part.groupby("item", sort=False):
        row = {"instrument": instrument.id, "item": item, "n": len(grp), "coef": np.nan, "se": np.nan, "p": np.nan,
               "odds_ratio": np.nan}
        y = grp["keyed"].astype(int)
        x = (grp["role"] == "marketing").astype(float).to_frame("marketing")
        if y.nunique() >= 2 and x["marketing"].nunique() == 2:
            levels = sorted(y.unique())
            endog = pd.Series(pd.Categorical(y, categories=levels, ordered=True), index=grp.index)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = OrderedModel(endog, x, distr="logit").fit(method="bfgs", disp=False, maxiter=200)
                row.update(coef=float(fit.params["marketing"]), se=float(fit.bse["marketing"]),
                           p=float(fit.pvalues["marketing"]), odds_ratio=float(np.exp(fit.params["marketing"])))
            except (np.linalg.LinAlgError, ValueError):
                pass
        rows.append(row)
    order = {it: k for k, it in enumerate(instrument.item_ids)}
    return pd.DataFrame(rows).sort_values("item", key=lambda s: s.map(order)).reset_index(drop=True)


def mixed_model(scores: pd.DataFrame, instrument) -> pd.DataFrame:
    """Linear mixed model per scale: score ~ marketing + (1 | company), statsmodels ``MixedLM`` (REML).

    Fitted only when some company has several respondents (else the random intercept is not identified
    apart from the residual): ``fitted`` says whether it was. ``coef`` is marketing minus sales.
    """
    import statsmodels.formula.api as smf

    part = scores[(scores["instrument"] == instrument.id) & scores["company_id"].notna()]
    several = part.groupby("company_id").size().gt(1).any()
    rows = []
    for scale in instrument.scales:
        d = part[["company_id", "role", scale]].dropna().rename(columns={scale: "score"})
        d["marketing"] = (d["role"] == "marketing").astype(float)
        row = {"instrument": instrument.id, "scale": scale, "n": len(d), "companies": d["company_id"].nunique(),
               "fitted": False, "coef": np.nan, "se": np.nan, "p": np.nan, "company_variance": np.nan}
        if several and len(d) > 5 and d["marketing"].nunique() == 2:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = smf.mixedlm("score ~ marketing", d, groups=d["company_id"]).fit(reml=True)
                row.update(fitted=True, coef=float(fit.params["marketing"]), se=float(fit.bse["marketing"]),
                           p=float(fit.pvalues["marketing"]), company_variance=float(fit.cov_re.iloc[0, 0]))
            except (np.linalg.LinAlgError, ValueError):
                pass
        rows.append(row)
    return pd.DataFrame(rows)


def disagreements(default: pd.DataFrame, robust: pd.DataFrame, key: str, alpha: float = 0.05) -> pd.DataFrame:
    """Rows where a robustness model and the default test disagree on significance at ``alpha`` or on direction.

    ``default`` needs ``key``, ``p`` and ``effect_size``; ``robust`` needs ``key``, ``p`` and ``coef``.
    """
    m = default[[key, "p", "effect_size"]].merge(robust[[key, "p", "coef"]], on=key, suffixes=("_default", "_model"))
    sig_d, sig_m = m["p_default"] < alpha, m["p_model"] < alpha
    sign_differs = np.sign(m["effect_size"]) != np.sign(m["coef"])
    m["disagreement"] = np.where(sig_d != sig_m, np.where(sig_d, "significant by default test only",
                                                          "significant by model only"),
                                 np.where(sig_d & sign_differs, "opposite directions", ""))
    m.loc[m["p_model"].isna(), "disagreement"] = "model not fitted"
    return m[m["disagreement"] != ""].reset_index(drop=True)
