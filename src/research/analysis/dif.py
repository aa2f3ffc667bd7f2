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
from scipy.special import chdtrc, expit, logit, ndtr

from research.analysis.effects import adjust

__all__ = [
    "DIF_COLUMNS",
    "DIF_EXTRA_COLUMNS",
    "CumulativeLogitResults",
    "dif_screen",
    "fit_cumulative_logit",
]

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
_RIDGE = 1e-10  # added to the diagonal of the Newton matrix (statsmodels' ridge_factor)
_MAX_ABS_COEF = 25.0  # a logit coefficient or threshold beyond this signals (quasi-)separation
_MAX_SE = 100.0  # a standard error beyond this signals a flat (unidentified) likelihood
_LL_SLACK = 1e-6  # a larger model whose log-likelihood falls below the smaller one's by more failed


class _CumulativeLogit:
    """The cumulative logit's log-likelihood with its analytic score and Hessian, for fixed data
    and frequency weights.

    The parameterisation is statsmodels' ``OrderedModel``'s: the ``k_vars`` coefficients first, then
    the lowest threshold and the logs of the increments between successive thresholds (so any real
    vector gives increasing thresholds). Row ``i`` counts ``weights[i]`` times in the
    log-likelihood, its score and Hessian and in the start values.

    Parameters
    ----------
    endog : array_like
        The ordered answers, one per row; the answer levels are the distinct values, sorted.
    exog : array_like
        The predictors, shape (rows, k) (a 1-D array is one predictor), without a constant.
    weights : array_like, optional
        Frequency weights (finite, positive), one per row; default 1.
    check_constant : bool
        Refuse an ``exog`` with a constant column or a constant in its column space (the thresholds
        play the constant), as ``OrderedModel`` does. Skip only when the caller has checked it.

    Raises
    ------
    ValueError
        For missing answers, non-finite predictors, a constant among the predictors, or bad
        weights.
    """

    def __init__(self, endog, exog, weights=None, check_constant: bool = True):
        endog = np.asarray(endog)
        exog = np.asarray(exog, dtype=float)
        if exog.ndim == 1:
            exog = exog[:, None]
        if endog.ndim != 1 or exog.ndim != 2 or len(exog) != len(endog):
            raise ValueError("endog must be 1-D and exog 2-D with one row per answer")
        self.labels, codes = np.unique(endog, return_inverse=True)
        if self.labels.dtype.kind in "fc" and np.isnan(self.labels).any():
            raise ValueError(
                "NaN in dependent variable detected. Missing values need to be removed."
            )
        if not np.all(np.isfinite(exog)):
            raise ValueError("exog contains inf or nans")
        if check_constant and _has_constant(exog):
            raise ValueError("There should not be a constant in the model")
        self.endog, self.exog = codes.astype(np.intp), exog  # answers coded 0 .. K-1
        self.nobs, self.k_vars, self.k_levels = len(codes), exog.shape[1], len(self.labels)
        if weights is None:
            self.weights = np.ones(self.nobs)
        else:
            self.weights = np.asarray(weights, dtype=float)
            if self.weights.shape != (self.nobs,):
                raise ValueError(f"weights must have one value per row ({self.nobs})")
            if not np.all(np.isfinite(self.weights)) or self.weights.min() <= 0:
                raise ValueError("weights must be finite and positive")
        # the rows sorted by answer, so that one np.add.reduceat sums every per-level quantity
        order = np.argsort(self.endog, kind="stable")
        self._y, self._X, self._w = self.endog[order], self.exog[order], self.weights[order]
        self._XT = np.ascontiguousarray(self._X.T)
        self._bound = np.stack((self._y + 1, self._y))  # indices into (-inf, thresholds, +inf)
        self._starts = np.searchsorted(self._y, np.arange(self.k_levels))
        k1, p = self.k_levels - 1, self.k_vars + self.k_levels - 1
        self._tt_diag = np.arange(k1) * (k1 + 1)  # flat positions in a (k1, k1) matrix
        self._tt_upper, self._tt_lower = self._tt_diag[:-1] + 1, self._tt_diag[:-1] + k1
        self._log_increment_diag = (self.k_vars + np.arange(1, k1)) * (p + 1)  # in (p, p)
        self._lower_tri = np.tri(self.k_levels - 1)

    @property
    def start_params(self) -> np.ndarray:
        """Zero coefficients and the thresholds of the model without predictors: the logits of the
        cumulative (weighted) answer shares, the closed-form maximum-likelihood estimate that
        ``OrderedModel.start_params`` computes without weights."""
        freq = np.bincount(self.endog, weights=self.weights) / self.weights.sum()
        cutoffs = logit(np.clip(freq.cumsum()[:-1], 0, 1))
        return np.concatenate(
            (np.zeros(self.k_vars), self.transform_reverse_threshold_params(cutoffs))
        )

    def transform_threshold_params(self, params) -> np.ndarray:
        """The thresholds from ``params``, padded with -inf and +inf (``OrderedModel``'s helper)."""
        th = np.asarray(params, dtype=float)[self.k_vars :]
        return np.concatenate(
            ([-np.inf], np.concatenate((th[:1], np.exp(th[1:]))).cumsum(), [np.inf])
        )

    @staticmethod
    def transform_reverse_threshold_params(thresholds) -> np.ndarray:
        """The lowest threshold and the logs of the increments from the (finite) thresholds."""
        thresholds = np.asarray(thresholds, dtype=float)
        return np.concatenate((thresholds[:1], np.log(np.diff(thresholds))))

    def derivatives(self, params) -> tuple[float, np.ndarray, np.ndarray]:
        """The log-likelihood, its score and its Hessian at ``params``, in one pass over the rows.

        With ``F`` the logistic distribution function, a row answering level ``j`` contributes
        ``w log(F(theta_j - x'beta) - F(theta_{j-1} - x'beta))`` (``theta_{-1} = -inf``,
        ``theta_{K-1} = +inf``). Its first and second derivatives with respect to the two bounds
        are summed by answer level (one ``np.add.reduceat`` over the rows sorted by answer) and
        carried by the chain rule to the coefficients and the thresholds, then to the (lowest
        threshold, log increments) parameterisation: ``d theta_j / d a_m = c_m`` for ``m <= j``,
        with ``c = (1, exp(a_1), ..., exp(a_{K-2}))``, whose second derivatives add the score of
        ``a_m`` to the Hessian's diagonal (``m >= 1``).
        """
        params = np.asarray(params, dtype=float)
        k, k1 = self.k_vars, self.k_levels - 1
        X, w = self._X, self._w
        c = params[k:].copy()  # the lowest threshold and the increments, as OrderedModel
        np.exp(c[1:], out=c[1:])
        th = np.empty(k1 + 2)  # -inf, the thresholds, +inf
        th[0], th[-1] = -np.inf, np.inf
        th[1:-1] = c.cumsum()
        c[0] = 1.0  # now d theta_j / d (lowest threshold, log increment m) for m <= j
        # row i's upper bound theta_{y_i} - x_i'beta (first row) and lower bound (second row)
        F = expit(th[self._bound] - X @ params[:k])
        prob = F[0] - F[1]
        loglike = float(w @ np.log(np.maximum(prob, 0) + 1e-20))  # as OrderedModel.loglikeobs
        G = F * (1 - F) / prob  # u, v: d loglik / d upper bound, d loglik / d lower bound
        G[1] *= -1
        # per row (weighted): u, v, the second derivatives by the bounds (upper-upper with
        # F' = F(1 - F)(1 - 2F), lower-lower, upper-lower), then x times W
        Z = np.empty((5 + 2 * k, len(w)))
        WG = np.multiply(w, G, out=Z[:2])
        np.multiply(WG, 1 - 2 * F - G, out=Z[2:4])
        np.multiply(-WG[0], G[1], out=Z[4])
        W = -(Z[2:4] + Z[4])  # d2 loglik / d eta d upper bound, d eta d lower bound (eta = x'beta)
        np.multiply(self._XT, W[:, None, :], out=Z[5:].reshape(2, k, -1))
        # level j is bounded by theta_j from above (j < K-1) and by theta_{j-1} from below (j > 0)
        level = np.add.reduceat(Z, self._starts, axis=1)
        grad_theta = level[0, :k1] + level[1, 1:]
        score = np.empty(k + k1)
        score[:k] = -self._XT @ (WG[0] + WG[1])
        score[k:] = c * grad_theta[::-1].cumsum()[::-1]
        J = self._lower_tri * c  # d theta / d (lowest threshold, log increments)
        H_tt = np.zeros(k1 * k1)  # tridiagonal, flattened
        H_tt[self._tt_diag] = level[2, :k1] + level[3, 1:]
        H_tt[self._tt_upper] = H_tt[self._tt_lower] = level[4, 1:k1]
        H = np.empty((k + k1, k + k1))
        H[:k, :k] = -(self._XT * (W[0] + W[1])) @ X
        H[:k, k:] = (level[5 : 5 + k, :k1] + level[5 + k :, 1:]) @ J
        H[k:, :k] = H[:k, k:].T
        H[k:, k:] = J.T @ H_tt.reshape(k1, k1) @ J
        H.reshape(-1)[self._log_increment_diag] += score[k + 1 :]  # exp's second derivative
        return loglike, score, H

    def loglike(self, params) -> float:
        """The (weighted) log-likelihood at ``params``."""
        return self.derivatives(params)[0]

    def score(self, params) -> np.ndarray:
        """The score (gradient of the log-likelihood) at ``params``."""
        return self.derivatives(params)[1]

    def hessian(self, params) -> np.ndarray:
        """The Hessian of the log-likelihood at ``params``."""
        return self.derivatives(params)[2]


def _has_constant(exog: np.ndarray) -> bool:
    """Whether ``exog`` has a non-zero constant column or a constant in its column space
    (statsmodels' test for a constant)."""
    const = exog.max(axis=0) == exog.min(axis=0)
    if np.any(const & (exog.mean(axis=0) != 0)):
        return True
    augmented = np.column_stack((np.ones(len(exog)), exog))
    return bool(np.linalg.matrix_rank(augmented) == np.linalg.matrix_rank(exog))


class CumulativeLogitResults:
    """A cumulative logit fitted by :func:`fit_cumulative_logit`.

    Attributes
    ----------
    model : _CumulativeLogit
        The model: ``loglike``, ``score``, ``hessian`` and ``derivatives`` (all three) of a
        parameter vector, ``start_params``, ``transform_threshold_params``, ``k_vars``,
        ``k_levels``, ``nobs``, ``labels`` (the answer levels), ``weights``.
    params : ndarray
        The ``k`` coefficients, then the lowest threshold and the logs of the increments between
        successive thresholds.
    llf : float
        The log-likelihood at ``params``.
    hessian : ndarray
        The Hessian of the log-likelihood at ``params``.
    bse, pvalues : ndarray
        Standard errors from the inverse of the negative Hessian and two-sided Wald z p-values.
    mle_retvals : dict
        ``converged``, ``iterations``, ``warnflag`` and statsmodels' per-row scaled ``fopt``,
        ``score`` and ``Hessian`` (the negative log-likelihood and its derivatives divided by the
        number of rows).
    """

    def __init__(self, model, params, llf, score, hessian, iterations):
        self.model, self.params, self.llf, self.hessian = model, params, llf, hessian
        # a step to NaN or infinity ends the iterations early; that is no convergence either
        converged = iterations < _MAXITER and bool(np.isfinite(params).all() and np.isfinite(llf))
        n = model.nobs
        self.mle_retvals = {
            "fopt": -llf / n,
            "iterations": iterations,
            "score": -score / n,
            "Hessian": -hessian / n,
            "warnflag": int(not converged),
            "converged": converged,
        }
        # as statsmodels' LikelihoodModel.fit with method="newton"
        self._cov = np.linalg.inv(self.mle_retvals["Hessian"]) / n
        if not converged:
            from statsmodels.tools.sm_exceptions import ConvergenceWarning

            warnings.warn(
                "Maximum Likelihood optimization failed to converge. Check mle_retvals",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.bse = np.sqrt(np.diag(self._cov))
        self.pvalues = 2 * ndtr(-np.abs(params / self.bse))

    @property
    def thresholds(self) -> np.ndarray:
        """The ``K - 1`` thresholds."""
        return self.model.transform_threshold_params(self.params)[1:-1]

    def cov_params(self) -> np.ndarray:
        """The covariance matrix of ``params``: the inverse of the negative Hessian."""
        return self._cov


def _newton(model: _CumulativeLogit, start) -> CumulativeLogitResults:
    """Newton's method from ``start`` as statsmodels' ``_fit_newton`` runs it (the per-row scaled
    negative log-likelihood, a ridge of 1e-10 on the diagonal, stop when no parameter moves by more
    than 1e-10 or after 100 iterations), with one evaluation of the derivatives per iteration; a
    step to a non-finite value stops it (reported as not converged)."""
    n = model.nobs
    params = np.array(model.start_params if start is None else start, dtype=float)
    old = np.inf
    iterations = 0
    while iterations < _MAXITER and (np.abs(params - old) > _TOL).any():
        _, score, hessian = model.derivatives(params)
        step_matrix = -hessian / n
        step_matrix.flat[:: len(params) + 1] += _RIDGE  # the diagonal
        old = params
        params = old - np.linalg.solve(step_matrix, -score / n)
        iterations += 1
        if not np.isfinite(params).all():
            break
    llf, score, hessian = model.derivatives(params)
    return CumulativeLogitResults(model, params, llf, score, hessian, iterations)


def fit_cumulative_logit(y, exog, weights=None, start=None):
    """Fit the cumulative (proportional-odds) logit ``logit P(Y <= j | x) = theta_j - x'beta`` by
    maximum likelihood.

    Newton's method with the analytic score and Hessian (computed together, once per iteration),
    from ``start`` (default: zero coefficients and the thresholds of the model without predictors,
    the logits of the cumulative answer shares), until no parameter moves by more than 1e-10, at
    most 100 iterations; the steps, the stopping rule and the standard errors are those of
    statsmodels' ``OrderedModel(distr="logit").fit(method="newton")`` (whose own score and Hessian
    are numerical), and a ``ConvergenceWarning`` is raised when the iterations run out, as there.
    The sign convention and the log-likelihood are those of R's
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
    CumulativeLogitResults
        ``params``: the ``k`` coefficients, then the lowest threshold and the logs of the increments
        between successive thresholds (``thresholds`` gives the thresholds); ``bse`` and
        ``pvalues`` (Wald z) from the inverse of the negative Hessian; ``llf``; ``hessian`` the
        analytic Hessian at ``params``; ``mle_retvals["converged"]``; ``model`` the
        log-likelihood and its derivatives at any parameter vector.

    Raises
    ------
    numpy.linalg.LinAlgError, ValueError, OverflowError, FloatingPointError
        When the data or the iterations break down (e.g. a singular Hessian under separation), or
        ``exog`` has a constant (``ValueError``, as ``OrderedModel``); warnings are raised, not
        recorded: callers record them.

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
    return _newton(_CumulativeLogit(y, exog, weights), start)


def _fit(y: np.ndarray, exog: np.ndarray, start: np.ndarray | None):
    """Fit one cumulative logit (:func:`fit_cumulative_logit`, without its test for a constant among
    the predictors, which :func:`_collinear` has done); return (results or None, list of problems,
    each warning once)."""
    problems: list[str] = []
    res = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = _newton(_CumulativeLogit(y, exog, check_constant=False), start)
        except (np.linalg.LinAlgError, ValueError, OverflowError, FloatingPointError) as err:
            problems.append(f"fit failed ({type(err).__name__}: {err})")
        if res is not None:
            try:  # computed inside the block: its warnings are recorded
                bse = np.asarray(res.bse, dtype=float)
            except (np.linalg.LinAlgError, ValueError) as err:
                problems.append(f"no standard errors ({type(err).__name__}: {err})")
                bse = np.full(len(res.params), np.nan)
    for w in caught:
        text = f"{w.category.__name__}: " + str(w.message).split("\n")[0]
        if text not in problems:
            problems.append(text)
    if res is None:
        return None, problems
    params = np.asarray(res.params, dtype=float)
    if not res.mle_retvals.get("converged", False):
        problems.append(f"no convergence in {_MAXITER} Newton iterations")
    if not np.isfinite(res.llf) or not np.all(np.isfinite(params)):
        problems.append("non-finite log-likelihood or estimates")
    hess = res.hessian
    eig = np.linalg.eigvalsh(-hess) if np.all(np.isfinite(hess)) else np.array([np.nan])
    if not np.all(np.isfinite(eig)) or eig.min() <= 1e-10 * max(eig.max(), 1.0):
        problems.append("singular Hessian")
    coefs = np.concatenate((params[: res.model.k_vars], res.thresholds))
    if np.isfinite(coefs).all() and np.abs(coefs).max() > _MAX_ABS_COEF:
        problems.append(f"a coefficient or threshold beyond +-{_MAX_ABS_COEF:g} (separation?)")
    if not np.isfinite(bse).all() or bse.max() > _MAX_SE:
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
        if problems and start is not None:  # a second try from the default start values
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
        "uniform_p": float(chdtrc(1, uni)),  # chi-squared upper tail (scipy's chi2.sf)
        "nonuniform_chi2": non,
        "nonuniform_p": float(chdtrc(1, non)),
        "omnibus_p": float(chdtrc(2, omni)),
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
    y_all: np.ndarray,
    matching: np.ndarray,
    in_groups,
    is_focal,
    focal: str,
    reference: str,
) -> dict:
    """One item's row when the item (``y_all``) and its matching items (the columns of
    ``matching``) are in the data: the complete cases, the reasons the models cannot be fitted,
    else the three models (:func:`_screen_item`)."""
    match_all = _matching_score(matching)
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
    ``MASS::polr`` and ``ordinal::clm``), fitted by :func:`fit_cumulative_logit` (Newton's method
    with the analytic score and Hessian, the steps and stopping rule of statsmodels'
    :class:`~statsmodels.miscmodels.ordinal_model.OrderedModel` fitted by ``method="newton"``).
    Thresholds are estimated for the answer levels observed among the item's respondents. M1 starts
    from zero and the thresholds of the answer shares; each larger model starts from the smaller
    model's estimates (0 for the new coefficient), and from the default start when that fit fails.
    A fit is rejected, and the row left empty with the reason in ``note``, when any warning is
    raised (each distinct warning recorded once, verbatim), Newton's method does not
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
    values: dict[str, np.ndarray] = {}  # each item column as floats, converted once

    def column(name: str) -> np.ndarray:
        if name not in values:
            values[name] = wide[name].to_numpy(dtype=float)
        return values[name]

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
            matching = np.column_stack([column(o) for o in others])
            row.update(
                _screen_complete(column(item), matching, in_groups, is_focal, focal, reference)
            )
        rows.append(row)
    counts = ("n", "n_focal", "n_reference", "n_levels")
    data: dict = {c: [row.get(c) for row in rows] for c in ("instrument", "item")}
    data["note"] = ["" if pd.isna(v) else str(v) for v in (row.get("note") for row in rows)]
    for c in counts:
        data[c] = pd.array([row.get(c) for row in rows], dtype="Int64")
    for c in columns:
        if c not in data and c not in ("p_holm", "dif"):
            data[c] = np.array([row.get(c, np.nan) for row in rows], dtype=float)
    data["p_holm"] = adjust(pd.Series(data["omnibus_p"]), "holm").to_numpy()
    data["dif"] = pd.arrays.BooleanArray(data["p_holm"] < alpha, np.isnan(data["p_holm"]))
    out = pd.DataFrame(data, columns=columns)
    return out
