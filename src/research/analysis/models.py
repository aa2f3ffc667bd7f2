"""Robustness models beside the default tests: an ordinal logit per item and a mixed model per scale.

They answer "would a model that respects the data's shape say the same?": the ordinal logit treats
answers as ordered categories; the mixed model lets respondents of one company share a random intercept.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd


def _counted_ordered_model():
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    class CountedOrderedModel(OrderedModel):
        """OrderedModel on a collapsed table: row ``i`` stands for ``counts[i]`` identical observations.

        With one binary predictor the data are a 2 x K table, so the fit runs on at most 2K rows whatever the
        sample size; the log-likelihood (and so the estimates and their Hessian-based SEs) are those of the
        full data.
        """

        def __init__(self, endog, exog, counts, **kwargs):
            super().__init__(endog, exog, **kwargs)
            self.counts = np.asarray(counts, float)

        def loglikeobs(self, params):
            return super().loglikeobs(params) * self.counts

    return CountedOrderedModel


def ordinal_logit(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """Proportional-odds logit per item: answer ~ marketing (vs sales), statsmodels ``OrderedModel``.

    ``coef`` > 0 means marketing answers higher; ``odds_ratio`` = exp(coef). Missing where the model does
    not converge or an item has fewer than two answered levels. Fitted on the item's role × answer table
    (see ``CountedOrderedModel``), which gives the same likelihood as the individual answers.
    """
    model_class = _counted_ordered_model()

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
            table = pd.DataFrame({"y": y.to_numpy(), "marketing": x["marketing"].to_numpy()}).value_counts().reset_index()
            endog = pd.Series(pd.Categorical(table["y"], categories=levels, ordered=True))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = model_class(endog, table[["marketing"]], table["count"], distr="logit").fit(
                        method="bfgs", disp=False, maxiter=200)
                row.update(coef=float(fit.params["marketing"]), se=float(fit.bse["marketing"]),
                           p=float(fit.pvalues["marketing"]), odds_ratio=float(np.exp(fit.params["marketing"])))
            except (np.linalg.LinAlgError, ValueError):
                pass
        rows.append(row)
    order = {it: k for k, it in enumerate(instrument.item_ids)}
    return pd.DataFrame(rows).sort_values("item", key=lambda s: s.map(order)).reset_index(drop=True)


#: Above this many companies the random-intercept model is fitted by :func:`random_intercept_reml`, which gives
#: MixedLM's REML estimates in linear time; statsmodels' MixedLM loops over groups in Python (about 3 s per fit
#: at 4,000 companies).
MIXEDLM_MAX_GROUPS = 300


def random_intercept_reml(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> dict:
    """REML fit of ``y = b0 + b1 x + u_group + e`` with ``u ~ N(0, tau2)``, ``e ~ N(0, sigma2)``, vectorised.

    Each group's covariance ``V_i = sigma2 I + tau2 J`` has the closed-form inverse
    ``(I - w_i J) / sigma2`` with ``w_i = tau2 / (sigma2 + n_i tau2)`` and log-determinant
    ``(n_i - 1) log sigma2 + log(sigma2 + n_i tau2)``, so the restricted log-likelihood needs only group sums.
    The variance components are found with L-BFGS on their logarithms; the coefficient's standard error is
    ``sqrt((X' V^-1 X)^-1)`` and its p-value two-sided normal, as statsmodels' MixedLM reports them.

    Returns a dict with ``coef``, ``se``, ``p`` (of ``x``), ``intercept``, ``group_variance``, ``residual_variance``.
    """
    from scipy import optimize, stats

    codes, _ = pd.factorize(groups)
    n_i = np.bincount(codes).astype(float)
    X = np.column_stack([np.ones_like(y), x])
    sx = np.column_stack([np.bincount(codes, X[:, j]) for j in range(2)])  # per-group column sums
    sy = np.bincount(codes, y)
    xtx, xty, yty = X.T @ X, X.T @ y, y @ y
    n, p = len(y), X.shape[1]

    def pieces(log_params):
        sigma2, tau2 = np.exp(log_params)
        w = tau2 / (sigma2 + n_i * tau2)
        a = (xtx - (sx * w[:, None]).T @ sx) / sigma2  # X' V^-1 X
        b = (xty - (sx * (w * sy)[:, None]).sum(axis=0)) / sigma2  # X' V^-1 y
        c = (yty - (w * sy**2).sum()) / sigma2  # y' V^-1 y
        beta = np.linalg.solve(a, b)
        quad = c - b @ beta  # r' V^-1 r at the GLS estimate
        logdet = ((n_i - 1) * np.log(sigma2) + np.log(sigma2 + n_i * tau2)).sum()
        return 0.5 * (logdet + np.linalg.slogdet(a)[1] + quad), beta, a

    scale = max(float(np.var(y)), 1e-12)
    start = np.log([scale / 2, scale / 2])
    # Bounds relative to the outcome's variance keep X' V^-1 X well conditioned (a huge tau2 would absorb the intercept).
    bounds = [(np.log(scale) - 20, np.log(scale) + 3)] * 2
    best = optimize.minimize(lambda v: pieces(v)[0], start, method="L-BFGS-B", bounds=bounds)
    _, beta, a = pieces(best.x)
    se = float(np.sqrt(np.linalg.inv(a)[1, 1]))
    sigma2, tau2 = np.exp(best.x)
    return {"coef": float(beta[1]), "se": se, "p": float(2 * stats.norm.sf(abs(beta[1] / se))),
            "intercept": float(beta[0]), "group_variance": float(tau2), "residual_variance": float(sigma2),
            "converged": bool(best.success), "n": n, "k": p}


def mixed_model(scores: pd.DataFrame, instrument) -> pd.DataFrame:
    """Linear mixed model per scale: score ~ marketing + (1 | company), REML.

    statsmodels' ``MixedLM`` up to :data:`MIXEDLM_MAX_GROUPS` companies, :func:`random_intercept_reml` (the same
    estimates, in linear time) above; ``engine`` says which. Fitted only when some company has several
    respondents (else the random intercept is not identified apart from the residual): ``fitted`` says
    whether it was. ``coef`` is marketing minus sales.
    """
    import statsmodels.formula.api as smf

    part = scores[(scores["instrument"] == instrument.id) & scores["company_id"].notna()]
    several = part.groupby("company_id").size().gt(1).any()
    rows = []
    for scale in instrument.scales:
        d = part[["company_id", "role", scale]].dropna().rename(columns={scale: "score"})
        d["marketing"] = (d["role"] == "marketing").astype(float)
        n_groups = d["company_id"].nunique()
        row = {"instrument": instrument.id, "scale": scale, "n": len(d), "companies": n_groups,
               "fitted": False, "engine": "", "coef": np.nan, "se": np.nan, "p": np.nan, "company_variance": np.nan}
        if several and len(d) > 5 and d["marketing"].nunique() == 2:
            try:
                if n_groups <= MIXEDLM_MAX_GROUPS:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        fit = smf.mixedlm("score ~ marketing", d, groups=d["company_id"]).fit(reml=True)
                    row.update(fitted=True, engine="statsmodels MixedLM", coef=float(fit.params["marketing"]),
                               se=float(fit.bse["marketing"]), p=float(fit.pvalues["marketing"]),
                               company_variance=float(fit.cov_re.iloc[0, 0]))
                else:
                    fit = random_intercept_reml(d["score"].to_numpy(float), d["marketing"].to_numpy(float),
                                                d["company_id"].to_numpy())
                    row.update(fitted=fit["converged"], engine="vectorised REML", coef=fit["coef"], se=fit["se"],
                               p=fit["p"], company_variance=fit["group_variance"])
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
