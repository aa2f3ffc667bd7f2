"""Differential item functioning (DIF) between the two roles, screened item by item with ordinal
logits.

For every item, three nested proportional-odds (cumulative logit) models of the keyed answer are
fitted on the respondents who answered the item and have a matching score:

* ``M1``: matching score;
* ``M2``: matching score + role (focal group, marketing, coded 1; reference group, sales, coded 0);
* ``M3``: M2 + role x matching score.

Likelihood-ratio tests between them give the uniform (M2 vs M1), non-uniform (M3 vs M2) and omnibus
(M3 vs M1) DIF tests of Zumbo (1999), the ordinal counterpart of the logistic-regression DIF
procedure of Swaminathan & Rogers (1990). The log-likelihoods equal those of R's ``ordinal::clm``
and ``MASS::polr`` (checked in ``tests/r/dif_congruence.R``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit
from statsmodels.miscmodels.ordinal_model import OrderedModel

from research.analysis.effects import adjust

__all__ = ["DIF_COLUMNS", "DIF_EXTRA_COLUMNS", "dif_screen", "fit_cumulative_logit"]

DIF_COLUMNS = [
    "instrument",
    "item",
    "n",
    "uniform_chi2",
    "uniform_p",
    "nonuniform_chi2",
    "nonuniform_p",
    "omnibus_p",
    "p_holm",
    "dif",
    "note",
]
#: Columns returned after the contract's: group sizes, answer levels, the role coefficients (logit
#: scale) and the three log-likelihoods.
DIF_EXTRA_COLUMNS = [
    "n_focal",
    "n_reference",
    "n_levels",
    "uniform_coef",
    "uniform_se",
    "nonuniform_coef",
    "nonuniform_se",
    "ll1",
    "ll2",
    "ll3",
]

_MAXITER = 100
_TOL = 1e-10  # Newton stops when no parameter moves by more than this
_MAX_ABS_COEF = 25.0  # a logit coefficient or threshold beyond this signals (quasi-)separation
_MAX_SE = 100.0  # a standard error beyond this signals a flat (unidentified) likelihood
_LL_SLACK = 1e-6  # a larger model whose log-likelihood falls below the smaller one's by more failed


class _CumulativeLogit(OrderedModel):
    """statsmodels' ``OrderedModel`` (logit link) with frequency weights and the analytic score
    and Hessian.

    ``OrderedModel`` differentiates its log-likelihood numerically, which makes Newton's method
    about a hundred times slower than it needs to be. The parameterisation is unchanged: the
    coefficients first, then the lowest threshold and the logs of the increments between successive
    thresholds. Row ``i`` counts ``weights[i]`` times in the log-likelihood, its score and Hessian
    (and in the start values, the thresholds of the model without predictors).
    """

    def __init__(self, endog, exog, weights=None):
        super().__init__(endog, exog, distr="logit")
        if weights is None:
            self.weights = np.ones(self.nobs)
        else:
            self.weights = np.asarray(weights, dtype=float)
            if self.weights.shape != (self.nobs,):
                raise ValueError(f"weights must have one value per row ({self.nobs})")
            if not np.all(np.isfinite(self.weights)) or self.weights.min() <= 0:
                raise ValueError("weights must be finite and positive")

    @property
    def start_params(self):
        """Zero coefficients and the thresholds of the model without predictors (from the weighted
        answer frequencies), as ``OrderedModel.start_params`` computes them without weights."""
        freq = np.bincount(self.endog, weights=self.weights) / self.weights.sum()
        start_ppf = self.distr.ppf(np.clip(freq.cumsum(), 0, 1))
        return np.r_[np.zeros(self.k_vars), self.transform_reverse_threshold_params(start_ppf)]

    def loglikeobs(self, params):
        return super().loglikeobs(params) * self.weights

    def _derivatives(self, params: np.ndarray, hessian: bool):
        k, k1 = self.k_vars, self.k_levels - 1
        X = self.exog
        th = self.transform_threshold_params(params)  # -inf, theta_1 .. theta_{K-1}, +inf
        y = np.asarray(self.endog, dtype=np.intp)  # categories coded 0 .. K-1
        eta = X @ params[:k]
        upper, lower = th[y + 1] - eta, th[y] - eta
        f_up, f_lo = expit(upper), expit(lower)
        d_up, d_lo = f_up * (1 - f_up), f_lo * (1 - f_lo)
        prob = f_up - f_lo
        w = self.weights
        u, v = d_up / prob, -d_lo / prob  # d loglik / d upper, d loglik / d lower (one row)
        uw, vw = w * u, w * v
        has_up, has_lo = y < k1, y > 0
        grad_theta = (
            np.bincount(y[has_up], weights=uw[has_up], minlength=k1)[:k1]
            + np.bincount(y[has_lo] - 1, weights=vw[has_lo], minlength=k1)[:k1]
        )
        inc = np.exp(params[k + 1 :])
        jac = np.zeros((k1, k1))  # d theta_j / d (theta_1, log increments)
        jac[:, 0] = 1.0
        for m in range(1, k1):
            jac[m:, m] = inc[m - 1]
        score = np.r_[-(uw + vw) @ X, jac.T @ grad_theta]
        if not hessian:
            return score
        h_uu = w * (d_up * (1 - 2 * f_up) / prob - u * u)
        h_ll = w * (-d_lo * (1 - 2 * f_lo) / prob - v * v)
        h_ul = w * (-u * v)
        H = np.zeros((k + k1, k + k1))
        H[:k, :k] = (X * (h_uu + 2 * h_ul + h_ll)[:, None]).T @ X
        w_up, w_lo = -(h_uu + h_ul), -(h_ul + h_ll)
        for j in range(k1):
            as_up, as_lo = (
                y == j,
                y == j + 1,
            )  # theta_j bounds category j from above, j + 1 from below
            H[:k, k + j] = w_up[as_up] @ X[as_up] + w_lo[as_lo] @ X[as_lo]
            H[k + j, k + j] = h_uu[as_up].sum() + h_ll[as_lo].sum()
            if j + 1 < k1:
                H[k + j, k + j + 1] = H[k + j + 1, k + j] = h_ul[as_lo].sum()
        H[k:, :k] = H[:k, k:].T
        T = np.eye(k + k1)
        T[k:, k:] = jac
        H = T.T @ H @ T
        tail = np.cumsum(grad_theta[::-1])[
            ::-1
        ]  # second derivative of theta through exp(increment)
        H[k + np.arange(1, k1), k + np.arange(1, k1)] += inc * tail[1:]
        return score, H

    def score(self, params):
        return self._derivatives(np.asarray(params, dtype=float), hessian=False)

    def hessian(self, params):
        return self._derivatives(np.asarray(params, dtype=float), hessian=True)[1]


def fit_cumulative_logit(y, exog, weights=None, start=None):
    """Fit the cumulative (proportional-odds) logit ``logit P(Y <= j | x) = theta_j - x'beta`` by
    maximum likelihood.

    Newton's method with the analytic score and Hessian, from ``start`` (default: zero coefficients
    and the thresholds of the model without predictors), until no parameter moves by more than
    1e-10, at most 100 iterations. The sign convention and the log-likelihood are those of R's
    ``ordinal::clm`` and ``MASS::polr`` (checked against ``clm`` to about 1e-12 in
    ``tests/test_dif.py``).

    Parameters
    ----------
    y : array_like
        The ordered answers, one per row; the answer levels are the distinct values, in sorted
        order.
    exog : array_like
        The predictors, shape (rows, k), without a constant (the thresholds play it).
    weights : array_like, optional
        Frequency weights (finite, positive): row ``i`` stands for ``weights[i]`` identical
        observations, so a table of distinct rows with their counts gives the log-likelihood,
        estimates and (Hessian-based) standard errors of the individual observations.
    start : array_like, optional
        Start values in the order of ``params``.

    Returns
    -------
    statsmodels ``OrderedResults``
        ``params``: the ``k`` coefficients, then the lowest threshold and the logs of the increments
        between successive thresholds (``model.transform_threshold_params`` gives the thresholds);
        ``bse`` and ``pvalues`` (Wald z) from the inverse of the negative Hessian; ``llf``;
        ``mle_retvals["converged"]``; ``model.hessian(params)`` the analytic Hessian.

    Raises
    ------
    numpy.linalg.LinAlgError, ValueError, OverflowError, FloatingPointError
        When the data or the iterations break down (e.g. a singular Hessian under separation);
        warnings are raised, not recorded: callers record them.

    References
    ----------
    McCullagh, P. (1980). Regression models for ordinal data. *Journal of the Royal Statistical
    Society B*, 42(2), 109-142. doi:10.1111/j.2517-6161.1980.tb01109.x

    Examples
    --------
    >>> y, x, n = [1, 1, 2, 3, 2, 3], [[0.0], [1], [0], [1], [1], [0]], [3, 1, 2, 4, 2, 1]
    >>> table = fit_cumulative_logit(y, x, weights=n)
    >>> rows = fit_cumulative_logit(np.repeat(y, n), np.repeat(x, n, axis=0))
    >>> bool(np.allclose(table.params, rows.params) and np.isclose(table.llf, rows.llf))
    True
    """
    model = _CumulativeLogit(np.asarray(y), np.asarray(exog, dtype=float), weights)
    return model.fit(start_params=start, method="newton", maxiter=_MAXITER, tol=_TOL, disp=False)


def _fit(y: np.ndarray, exog: np.ndarray, start: np.ndarray | None):
    """Fit one cumulative logit (:func:`fit_cumulative_logit`); return (results or None, list of
    problems)."""
    problems: list[str] = []
    res = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = fit_cumulative_logit(y, exog, start=start)
        except (np.linalg.LinAlgError, ValueError, OverflowError, FloatingPointError) as err:
            problems.append(f"fit failed ({type(err).__name__}: {err})")
        if res is not None:
            try:  # computed inside the block: its warnings are recorded
                bse = np.asarray(res.bse, dtype=float)
            except (np.linalg.LinAlgError, ValueError) as err:
                problems.append(f"no standard errors ({type(err).__name__}: {err})")
                bse = np.full(len(res.params), np.nan)
    for w in caught:
        text = str(w.message).split("\n")[0]
        if text not in problems:
            problems.append(f"{w.category.__name__}: {text}")
    if res is None:
        return None, problems
    params = np.asarray(res.params, dtype=float)
    if not res.mle_retvals.get("converged", False):
        problems.append(f"no convergence in {_MAXITER} Newton iterations")
    if not np.isfinite(res.llf) or not np.all(np.isfinite(params)):
        problems.append("non-finite log-likelihood or estimates")
    hess = np.asarray(res.model.hessian(params))
    eig = np.linalg.eigvalsh(-hess) if np.all(np.isfinite(hess)) else np.array([np.nan])
    if not np.all(np.isfinite(eig)) or eig.min() <= 1e-10 * max(eig.max(), 1.0):
        problems.append("singular Hessian")
    thresholds = res.model.transform_threshold_params(params)[1:-1]
    coefs = np.r_[params[: res.model.k_vars], thresholds]
    if np.all(np.isfinite(coefs)) and np.abs(coefs).max() > _MAX_ABS_COEF:
        problems.append(f"a coefficient or threshold beyond +-{_MAX_ABS_COEF:g} (separation?)")
    if np.any(~np.isfinite(bse)) or np.nanmax(bse) > _MAX_SE:
        problems.append(f"a standard error beyond {_MAX_SE:g} or missing (separation?)")
    return res, problems


def _screen_item(y: np.ndarray, match: np.ndarray, focal: np.ndarray) -> dict:
    """The three models and their likelihood-ratio tests for one item (complete cases given)."""
    designs = {
        "M1": match[:, None],
        "M2": np.column_stack([match, focal]),
        "M3": np.column_stack([match, focal, focal * match]),
    }
    lls, fits, notes = {}, {}, []
    start = None
    for name, exog in designs.items():
        if start is not None:  # the smaller model's estimates with 0 for the new coefficient
            k = exog.shape[1] - 1
            start = np.r_[start[:k], 0.0, start[k:]]
        res, problems = _fit(y, exog, start)
        if problems and start is not None:  # a second try from statsmodels' own start values
            res2, problems2 = _fit(y, exog, None)
            if not problems2:
                res, problems = res2, problems2
        if problems or res is None:
            notes.append(f"{name}: " + "; ".join(problems or ["not fitted"]))
            return {"note": "; ".join(notes)}
        lls[name], fits[name] = float(res.llf), res
        start = np.asarray(res.params, dtype=float)
    if lls["M2"] < lls["M1"] - _LL_SLACK or lls["M3"] < lls["M2"] - _LL_SLACK:
        return {
            "note": "a larger model fits worse than the smaller one (optimiser failure)",
            "ll1": lls["M1"],
            "ll2": lls["M2"],
            "ll3": lls["M3"],
        }
    uni = 2 * (lls["M2"] - lls["M1"])
    non = 2 * (lls["M3"] - lls["M2"])
    omni = 2 * (lls["M3"] - lls["M1"])
    return {
        "uniform_chi2": uni,
        "uniform_p": float(stats.chi2.sf(uni, 1)),
        "nonuniform_chi2": non,
        "nonuniform_p": float(stats.chi2.sf(non, 1)),
        "omnibus_p": float(stats.chi2.sf(omni, 2)),
        "uniform_coef": float(fits["M2"].params[1]),
        "uniform_se": float(fits["M2"].bse[1]),
        "nonuniform_coef": float(fits["M3"].params[2]),
        "nonuniform_se": float(fits["M3"].bse[2]),
        "ll1": lls["M1"],
        "ll2": lls["M2"],
        "ll3": lls["M3"],
    }


def _collinear(match: np.ndarray, focal: np.ndarray) -> bool:
    """Whether a constant, the matching score, the role and their product are linearly dependent:
    then the proportional-odds models (whose thresholds play the constant) are not identified."""
    design = np.column_stack([np.ones_like(match), match, focal, match * focal])
    return np.linalg.matrix_rank(design) < design.shape[1]


def _matching_score(values: np.ndarray) -> np.ndarray:
    """The mean of each respondent's answered matching items; missing when none is answered."""
    answered = np.isfinite(values).sum(axis=1)
    return np.divide(
        np.nansum(values, axis=1), answered, out=np.full(len(values), np.nan), where=answered > 0
    )


def _screen_complete(
    wide: pd.DataFrame,
    item: str,
    others: list[str],
    in_groups,
    is_focal,
    focal: str,
    reference: str,
) -> dict:
    """One item's row when the item and its matching items are in the data: the complete cases, the
    reasons the models cannot be fitted, else the three models (:func:`_screen_item`)."""
    y_all = wide[item].to_numpy(dtype=float)
    match_all = _matching_score(wide[others].to_numpy(dtype=float))
    keep = in_groups & np.isfinite(y_all) & np.isfinite(match_all)
    y, match, foc = y_all[keep], match_all[keep], is_focal[keep]
    n_focal, n_ref = int(foc.sum()), int((1 - foc).sum())
    levels = np.unique(y)
    row = {"n": int(keep.sum()), "n_focal": n_focal, "n_reference": n_ref, "n_levels": len(levels)}
    if n_focal == 0 or n_ref == 0:
        row["note"] = f"no {focal if n_focal == 0 else reference} respondents with the item"
        if n_focal == 0 and n_ref == 0:
            row["note"] = "no respondents with the item and its matching score"
    elif len(levels) < 2:
        row["note"] = "the item was answered at a single level"
    elif np.ptp(match) == 0:
        row["note"] = "the matching score is constant"
    elif _collinear(match, foc):
        row["note"] = (
            "the matching score, the role and their product are collinear "
            "(too few respondents): the models cannot be told apart"
        )
    else:
        row.update(_screen_item(y, match, foc))
    return row


def dif_screen(
    wide: pd.DataFrame,
    items: dict[str, str | None],
    instrument_id: str,
    group: str = "role",
    focal: str = "marketing",
    reference: str = "sales",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Screen every item of one instrument for differential item functioning between two groups.

    Parameters
    ----------
    wide : DataFrame
        One row per respondent: one column per item (keyed answers as floats, NaN when missing) and
        the ``group`` column. Respondents of any other group are ignored.
    items : dict
        Item id -> subscale id, or ``None`` / ``""`` for an item outside any subscale, in output
        order.
    instrument_id : str
        Written into the ``instrument`` column.
    group, focal, reference : str
        The grouping column, the group coded 1 (focal) and the group coded 0 (reference).
    alpha : float
        Level for ``dif`` (``p_holm < alpha``).

    Returns
    -------
    DataFrame
        One row per item, the columns of :data:`DIF_COLUMNS` then :data:`DIF_EXTRA_COLUMNS`.
        ``uniform_chi2 = 2(LL2 - LL1)`` and ``nonuniform_chi2 = 2(LL3 - LL2)`` (1 df each),
        ``omnibus_p`` from ``2(LL3 - LL1)`` on 2 df, ``p_holm`` Holm's adjustment of ``omnibus_p``
        over the items of the instrument, ``dif`` (nullable boolean) ``p_holm < alpha``, missing
        where ``p_holm`` is. ``uniform_coef`` is the role coefficient in M2 on the logit scale:
        positive means the focal group (marketing) answers higher than the reference group at the
        same matching score; ``uniform_se`` its standard error; ``nonuniform_coef`` /
        ``nonuniform_se`` the interaction in M3 (positive: the focal group's answers rise faster
        with the matching score). ``n_levels`` counts the answer levels observed among the ``n``
        respondents. A row whose models cannot be fitted has empty numbers and the reason in
        ``note``.

    Notes
    -----
    The matching score of an item is the mean of the respondent's *other* keyed items of the same
    subscale (of all the instrument's other items when the item has no subscale), over those
    answered; the item itself is left out so that DIF in the studied item does not contaminate its
    own matching criterion. An item whose subscale has no other item therefore has no matching
    score, and its row stays empty with a note (no fallback to the whole instrument, which would
    match on a different construct).

    The models are cumulative logits ``logit P(Y <= j) = theta_j - x'beta`` (the sign convention of
    ``MASS::polr`` and ``ordinal::clm``), fitted by Newton's method with an analytic score and
    Hessian on statsmodels' :class:`~statsmodels.miscmodels.ordinal_model.OrderedModel`. Thresholds
    are estimated for the answer levels observed among the item's respondents. Each larger model
    starts from the smaller model's estimates. A fit is rejected, and the row left empty with the
    reason in ``note``, when any warning is raised (recorded verbatim), Newton's method does not
    converge within 100 iterations, the Hessian is not negative definite (singular), a coefficient
    or threshold exceeds 25 in absolute value or a standard error exceeds 100 (complete or
    quasi-complete separation, where the estimates run off to infinity), or a larger model's
    log-likelihood falls below the smaller one's. Items answered at a single level, and items with
    respondents of only one group, are not fitted.

    Each test is a likelihood-ratio test with its chi-squared reference distribution, which is an
    asymptotic approximation; with few respondents per answer level the p-values are rough. Holm's
    method controls the family-wise error rate across the items of one instrument. The screen flags
    items; it does not say whether a flagged item's DIF matters for the scale's scores. No
    purification is done: an item with DIF enters its neighbours' matching scores and can make them
    show artificial DIF of the opposite sign, chiefly in short subscales (see the example and Choi,
    Gibbons & Crane, 2011, on iterative purification).

    References
    ----------
    .. [1] Zumbo, B. D. (1999). *A handbook on the theory and methods of differential item
           functioning
       (DIF): Logistic regression modeling as a unitary framework for binary and Likert-type
       (ordinal) item scores.* Ottawa: Directorate of Human Resources Research and Evaluation,
       Department of National Defense.
    .. [2] Swaminathan, H., & Rogers, H. J. (1990). Detecting differential item functioning using
           logistic
       regression procedures. *Journal of Educational Measurement*, 27(4), 361-370.
       doi:10.1111/j.1745-3984.1990.tb00754.x
    .. [3] McCullagh, P. (1980). Regression models for ordinal data. *Journal of the Royal
           Statistical
       Society B*, 42(2), 109-142. doi:10.1111/j.2517-6161.1980.tb01109.x
    .. [4] Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
       Journal of Statistics*, 6(2), 65-70. doi:10.2307/4615733
    .. [5] Choi, S. W., Gibbons, L. E., & Crane, P. K. (2011). lordif: An R package for detecting
       differential item functioning using iterative hybrid ordinal logistic regression/item
       response theory and Monte Carlo simulations. *Journal of Statistical Software*, 39(8), 1-30.
       doi:10.18637/jss.v039.i08

    Examples
    --------
    >>> rng = np.random.default_rng(7)
    >>> trait = rng.normal(size=400)
    >>> role = np.where(np.arange(400) % 2 == 0, "marketing", "sales")
    >>> shift = {"q3": 1.2}  # marketing answers q3 higher at the same trait level
    >>> wide = pd.DataFrame({q: np.clip(np.round(3 + trait + shift.get(q, 0) * (role == "marketing")
    ...                                          + rng.normal(scale=0.8, size=400)), 1, 5)
    ...                      for q in ["q1", "q2", "q3", "q4"]})
    >>> wide["role"] = role
    >>> out = dif_screen(wide, {"q1": "a", "q2": "a", "q3": "a", "q4": "a"}, "demo")
    >>> out.loc[out["dif"], "item"].tolist()  # q4: artificial DIF from q3 in its matching score
    ['q3', 'q4']
    >>> (out.set_index("item")["uniform_coef"] > 0).tolist()  # marketing higher on q3 only
    [False, False, True, False]
    """
    columns = DIF_COLUMNS + DIF_EXTRA_COLUMNS
    if group not in wide.columns:
        raise KeyError(f"the group column {group!r} is not in the data")
    roles = wide[group]
    in_groups = roles.isin([focal, reference]).to_numpy()
    is_focal = (roles == focal).to_numpy(dtype=float)
    subscale = {item: (s if isinstance(s, str) and s != "" else None) for item, s in items.items()}
    rows = []
    for item, scale in subscale.items():
        row: dict = {"instrument": instrument_id, "item": item}
        others = [o for o, s in subscale.items() if o != item and s == scale]
        missing_cols = [c for c in [item, *others] if c not in wide.columns]
        if item not in wide.columns:
            row.update(n=0, note="item not in the data")
        elif not others:
            row.update(
                n=0,
                note=f"no other item in subscale {scale!r} to form a matching score"
                if scale
                else "no other item in the instrument to form a matching score",
            )
        elif missing_cols:
            row.update(n=0, note="matching items not in the data: " + ", ".join(missing_cols))
        else:
            row.update(_screen_complete(wide, item, others, in_groups, is_focal, focal, reference))
        rows.append(row)
    out = pd.DataFrame(rows).reindex(columns=columns)
    out["note"] = ["" if pd.isna(v) else str(v) for v in out["note"]]
    for col in ("n", "n_focal", "n_reference", "n_levels"):
        out[col] = out[col].astype("Int64")
    num = [
        c
        for c in columns
        if c not in ("instrument", "item", "note", "dif", "n", "n_focal", "n_reference", "n_levels")
    ]
    out[num] = out[num].astype(float)
    out["p_holm"] = adjust(out["omnibus_p"], "holm")
    dif = pd.array([pd.NA] * len(out), dtype="boolean")
    ok = out["p_holm"].notna().to_numpy()
    dif[ok] = out["p_holm"].to_numpy()[ok] < alpha
    out["dif"] = dif
    return out[columns]
