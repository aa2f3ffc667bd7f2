"""Robustness models beside the default tests: an ordinal logit per item and a mixed model per
scale.

They answer "would a model that respects the data's shape say the same?": the ordinal logit treats
answers as ordered categories; the mixed model lets respondents of one company share a random
intercept.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

#: An ordinal-logit coefficient (log odds ratio) beyond this in absolute value, or a standard error
#: beyond :data:`ORDINAL_MAX_SE`, is taken as the sign of (quasi-)complete separation: an odds ratio
#: above e^10 (about 22,000) for one binary predictor is the optimiser drifting towards an infinite
#: estimate, not a finding.
ORDINAL_MAX_ABS_COEF = 10.0
ORDINAL_MAX_SE = 10.0


def _messages(caught) -> list[str]:
    """The distinct messages of recorded warnings, in order, each prefixed with its category."""
    return list(
        dict.fromkeys(f"{c.category.__name__}: {' '.join(str(c.message).split())}" for c in caught)
    )


def _separation(y: np.ndarray, marketing: np.ndarray) -> str:
    """Why the two roles' answers are separated ("" when they overlap).

    With one binary predictor the proportional-odds MLE is finite only if the two groups' answers
    overlap in more than one level: if every answer of one group is at or above every answer of the
    other, the likelihood keeps rising as the coefficient grows (Agresti 2010, section 3.4.5).
    """
    m, o = y[marketing == 1], y[marketing == 0]
    if m.min() > o.max() or m.max() < o.min():
        return (
            "complete separation: every marketing answer is "
            + ("above" if m.min() > o.max() else "below")
            + " every sales answer"
        )
    if m.min() >= o.max() or m.max() <= o.min():
        return (
            "quasi-complete separation: every marketing answer is "
            + ("at or above" if m.min() >= o.max() else "at or below")
            + " every sales answer"
        )
    return ""


def _role_answer_table(y: np.ndarray, marketing: np.ndarray):
    """The distinct (answer, role) pairs of one item and how often each occurs: the answers, the
    0/1 marketing column and the counts, answers ascending."""
    levels, code = np.unique(y, return_inverse=True)
    cells = np.bincount(2 * code + marketing.astype(np.intp), minlength=2 * len(levels))
    nonzero = np.flatnonzero(cells)
    return levels[nonzero // 2], (nonzero % 2).astype(float), cells[nonzero].astype(float)


def _fit_counted(y: np.ndarray, marketing: np.ndarray, row: dict):
    """Fit one item's proportional-odds model on its role × answer table (frequency weights); fill
    ``row`` when the fit passes every check. Returns (the reasons it is not used, the warnings
    caught)."""
    from research.analysis.dif import fit_cumulative_logit

    failures = []
    separated = _separation(y, marketing)
    if separated:
        failures.append(separated)
    answers, role, counts = _role_answer_table(y, marketing)
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = fit_cumulative_logit(answers, role[:, None], weights=counts)
            hessian = fit.model.hessian(fit.params)
            coef, se, p = float(fit.params[0]), float(fit.bse[0]), float(fit.pvalues[0])
        if not fit.mle_retvals.get("converged", True):
            failures.append("the optimiser did not converge")
        eig = np.linalg.eigvalsh(-(hessian + hessian.T) / 2)
        if not np.all(np.isfinite(eig)) or eig.min() <= 0:
            failures.append("the Hessian is not negative definite (no standard error)")
        if not np.isfinite(coef) or abs(coef) > ORDINAL_MAX_ABS_COEF:
            failures.append(f"|coef| = {abs(coef):.4g} exceeds {ORDINAL_MAX_ABS_COEF:g}")
        if not np.isfinite(se) or se > ORDINAL_MAX_SE:
            failures.append(f"SE = {se:.4g} exceeds {ORDINAL_MAX_SE:g}")
        if not failures:
            row.update(coef=coef, se=se, p=p, odds_ratio=float(np.exp(coef)), fitted=True)
    except (np.linalg.LinAlgError, ValueError, OverflowError, FloatingPointError) as err:
        failures.append(f"fit failed ({type(err).__name__}: {err})")
    return failures, caught


def ordinal_logit(responses: pd.DataFrame, instrument) -> pd.DataFrame:
    """Proportional-odds logit per item: answer ~ marketing (vs sales), by maximum likelihood
    (:func:`research.analysis.dif.fit_cumulative_logit`: the likelihood of statsmodels'
    ``OrderedModel``, maximised by Newton's method with the analytic score and Hessian).

    ``coef`` > 0 means marketing answers higher; ``odds_ratio`` = exp(coef); ``se`` from the
    Hessian of the log-likelihood and ``p`` the two-sided Wald z p-value. Fitted on the item's
    role × answer table with each cell's count as frequency weight (at most twice as many rows as
    answer levels, whatever the sample size), which gives the log-likelihood, estimates and standard
    errors of the individual answers.

    A fit is *not used* (``fitted`` False; ``coef``, ``se``, ``p``, ``odds_ratio`` empty; the reason
    in ``note``) when the data are separated (see :func:`_separation`), the optimiser did not
    converge, the Hessian of the log-likelihood at the estimate is not negative definite (no
    standard error), or ``|coef|`` > :data:`ORDINAL_MAX_ABS_COEF` or ``se`` >
    :data:`ORDINAL_MAX_SE`. Warnings raised by a fit that is used are kept in ``note`` too.
    ``fitted`` is False and ``note`` says why also when an item has fewer than two answered levels
    or only one role.

    References
    ----------
    McCullagh, P. (1980). Regression models for ordinal data. *Journal of the Royal Statistical
    Society B*, 42(2), 109-142. doi:10.1111/j.2517-6161.1980.tb01109.x

    Albert, A. & Anderson, J. A. (1984). On the existence of maximum likelihood estimates in
    logistic regression models. *Biometrika*, 71(1), 1-10. doi:10.1093/biomet/71.1.1

    Agresti, A. (2010). *Analysis of ordinal categorical data* (2nd ed.). Wiley.
    doi:10.1002/9780470594001
    """
    part = responses[
        (responses["instrument"] == instrument.id)
        & responses["keyed"].notna()
        & responses["role"].isin(["marketing", "sales"])
    ]
    rows = []
    groups = {item: grp for item, grp in part.groupby("item", sort=False)}
    for item in instrument.item_ids:  # every item gets a row, also one nobody answered
        grp = groups.get(item, part.iloc[0:0])
        row = {
            "instrument": instrument.id,
            "item": item,
            "n": len(grp),
            "coef": np.nan,
            "se": np.nan,
            "p": np.nan,
            "odds_ratio": np.nan,
            "fitted": False,
            "note": "",
        }
        y = grp["keyed"].to_numpy().astype(int)
        marketing = (grp["role"] == "marketing").to_numpy(float)
        n_levels, n_roles = len(np.unique(y)), len(np.unique(marketing))
        if n_levels < 2 or n_roles < 2:
            why = (
                "no answers"
                if len(y) == 0
                else "fewer than two answered levels"
                if n_levels < 2
                else "one role only"
            )
            row["note"] = f"not fitted: {why}"
            rows.append(row)
            continue
        failures, caught = _fit_counted(y, marketing, row)
        notes = ([f"not used: {'; '.join(failures)}"] if failures else []) + _messages(caught)
        row["note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows)


#: Up to this many companies :func:`mixed_model` reports the standard error statsmodels' ``MixedLM``
#: gives (:func:`_mixedlm_se`); above, the GLS standard error of :func:`random_intercept_reml`. The
#: threshold dates from when the small studies were fitted by ``MixedLM`` itself, which loops over
#: groups in Python (about 3 s per fit at 4,000 companies); both are now computed from group sums.
MIXEDLM_MAX_GROUPS = 300


def random_intercept_reml(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> dict:
    """REML fit of ``y = b0 + b1 x + u_group + e`` with ``u ~ N(0, tau2)``, ``e ~ N(0, sigma2)``,
    vectorised.

    Each group's covariance ``V_i = sigma2 I + tau2 J`` has the closed-form inverse ``(I - w_i J) /
    sigma2`` with ``w_i = tau2 / (sigma2 + n_i tau2)`` and log-determinant ``(n_i - 1) log sigma2 +
    log(sigma2 + n_i tau2)``, so the restricted log-likelihood needs only group sums. ``sigma2`` is
    profiled out and ``tau2 / sigma2`` found by a bounded one-dimensional search (the estimate of
    :func:`random_intercept_satterthwaite`); the coefficient's standard error is ``sqrt((X' V^-1
    X)^-1)`` and its p-value two-sided normal.

    Returns a dict with ``coef``, ``se``, ``p`` (of ``x``), ``intercept``, ``group_variance``,
    ``residual_variance``, ``converged`` (the search succeeded), ``n`` and ``k`` (2, the fixed
    effects).
    """
    d = _group_sums(y, x, groups)
    rho, beta, sigma2, success = _reml_estimate(d)
    fit = _satterthwaite(d, rho, beta, sigma2, success)
    return {
        "coef": fit["coef"],
        "se": fit["se"],
        "p": fit["p_z"],
        "intercept": fit["intercept"],
        "group_variance": fit["group_variance"],
        "residual_variance": fit["residual_variance"],
        "converged": success,
        "n": len(d.y),
        "k": d.X.shape[1],
    }


def _group_products(n_i: np.ndarray, a: float, b: np.ndarray):
    """Per-group matrices of the form ``alpha I + beta J`` (J the all-ones matrix): ``V^-1`` and the
    products needed for the REML score and Hessian, as (alpha, beta) pairs of arrays; ``J J = n
    J``."""

    def mul(u, v):
        return u[0] * v[0], u[0] * v[1] + u[1] * v[0] + n_i * u[1] * v[1]

    one = np.ones_like(n_i)
    return mul, (a * one, b), (one, 0 * one), (0 * one, one)


class _GroupSums(NamedTuple):
    """The data of a random-intercept model reduced to per-group sums."""

    y: np.ndarray
    X: np.ndarray  # intercept and x
    codes: np.ndarray  # group of each observation, 0 ... G - 1
    n_i: np.ndarray  # observations per group
    sx: np.ndarray  # per-group column sums of X
    sy: np.ndarray  # per-group sums of y
    xtx: np.ndarray
    xty: np.ndarray
    yty: float


def _group_sums(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> _GroupSums:
    """The per-group sums (and cross-products) that the REML fit needs."""
    y, x = np.asarray(y, float), np.asarray(x, float)
    codes, _ = pd.factorize(groups)
    n_i = np.bincount(codes).astype(float)
    X = np.column_stack([np.ones_like(y), x])
    sx = np.column_stack([np.bincount(codes, X[:, j]) for j in range(X.shape[1])])
    sy = np.bincount(codes, y)
    return _GroupSums(y, X, codes, n_i, sx, sy, X.T @ X, X.T @ y, y @ y)


def _profiled_reml(d: _GroupSums, rho: float):
    """REML deviance (without constants) at tau^2/sigma^2 = rho, sigma^2 profiled out; also the
    coefficients and sigma^2 there."""
    n, p = d.X.shape
    w = rho / (1 + d.n_i * rho)  # H_g^-1 = I - w J, H = V / sigma^2
    a = d.xtx - (d.sx * w[:, None]).T @ d.sx
    b = d.xty - (d.sx * (w * d.sy)[:, None]).sum(axis=0)
    c = d.yty - (w * d.sy**2).sum()
    beta = np.linalg.solve(a, b)
    quad = c - b @ beta
    logdet_h = np.log1p(d.n_i * rho).sum()
    return (
        (n - p) * np.log(quad / (n - p)) + logdet_h + np.linalg.slogdet(a)[1],
        beta,
        quad / (n - p),
    )


def _reml_estimate(d: _GroupSums):
    """REML estimates ``rho`` (tau^2/sigma^2, 0 at the boundary), ``beta``, ``sigma2`` and
    whether the optimiser succeeded."""
    from scipy import optimize

    # Minimise over log(rho) (a smooth scale), then compare with the boundary rho = 0.
    res = optimize.minimize_scalar(
        lambda v: _profiled_reml(d, np.exp(v))[0],
        bounds=(-30.0, 12.0),
        method="bounded",
        options={"xatol": 1e-12, "maxiter": 2000},
    )
    rho = float(np.exp(res.x))
    if res.x < -29 or _profiled_reml(d, 0.0)[0] <= _profiled_reml(d, rho)[0]:
        rho = 0.0
    _, beta, sigma2 = _profiled_reml(d, rho)
    return rho, beta, sigma2, bool(res.success)


def _reml_pieces(d: _GroupSums, beta: np.ndarray, sigma2: float, tau2: float):
    """``C = (X' V^-1 X)^-1``, ``q_i = X' V^-1 D_i V^-1 X`` and the REML score and Hessian in
    ``psi = (sigma^2, tau^2)``, from group sums (every matrix is ``alpha I + beta J`` per group)."""
    X, codes, n_i, sx = d.X, d.codes, d.n_i, d.sx
    mul, vinv, eye, jay = _group_products(n_i, 1 / sigma2, -tau2 / (sigma2 * (sigma2 + n_i * tau2)))
    r = d.y - X @ beta
    sr = np.bincount(codes, r)
    # e = V^-1 r = alpha r + beta (group sum) 1
    e_alpha, e_beta = vinv[0][codes] * r, (vinv[1] * sr)[codes]
    e = e_alpha + e_beta
    se_sum = np.bincount(codes, e)

    def xkx(k):
        return (X * k[0][codes][:, None]).T @ X + (sx * k[1][:, None]).T @ sx

    def trace(k):
        return float((n_i * (k[0] + k[1])).sum())

    def xke(k):
        return (X * (k[0][codes] * e)[:, None]).sum(axis=0) + (sx * (k[1] * se_sum)[:, None]).sum(
            axis=0
        )

    def eke(k):
        return float((k[0][codes] * e * e).sum() + (k[1] * se_sum**2).sum())

    C = np.linalg.inv(xkx(vinv))
    d_ = [eye, jay]
    vd = [mul(vinv, di) for di in d_]  # V^-1 D_i
    q = [xkx(mul(vdi, vinv)) for vdi in vd]  # X' V^-1 D_i V^-1 X
    score = np.array(
        [-0.5 * (trace(vd[i]) - np.trace(C @ q[i])) + 0.5 * eke(d_[i]) for i in range(2)]
    )
    hess = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            vdivdj = mul(vd[i], vd[j])
            tr_pp = (
                trace(vdivdj)
                - 2 * np.trace(C @ xkx(mul(vdivdj, vinv)))
                + np.trace(C @ q[i] @ C @ q[j])
            )
            xe_i, xe_j = xke(mul(vinv, d_[i])), xke(mul(vinv, d_[j]))
            quad = eke(mul(mul(d_[i], vinv), d_[j])) - xe_i @ C @ xe_j
            hess[i, j] = 0.5 * tr_pp - quad
    return C, q, score, hess


def _satterthwaite_df(C, q, score, hess, sigma2: float, rho: float):
    """Satterthwaite's df for ``b1``, its variance ``v``, the deviance Hessian's eigenvalues in
    ``(theta, sigma)`` and notes on them (lmerTest's rule: eigenvalues above 1e-8 are kept)."""
    s_, theta = np.sqrt(sigma2), np.sqrt(rho)
    cvec = np.array([0.0, 1.0])
    v = float(cvec @ C @ cvec)
    grad_psi = np.array([cvec @ C @ qi @ C @ cvec for qi in q])
    # d(sigma2, tau2) / d(theta, s)
    jac = np.array([[0.0, 2 * s_], [2 * theta * sigma2, 2 * theta**2 * s_]])
    second = score[0] * np.array([[0.0, 0.0], [0.0, 2.0]]) + score[1] * np.array(
        [[2 * sigma2, 4 * theta * s_], [4 * theta * s_, 2 * theta**2]]
    )
    hess_dev = -2 * (jac.T @ hess @ jac + second)  # Hessian of the deviance in (theta, sigma)
    grad = jac.T @ grad_psi
    evals, evecs = np.linalg.eigh((hess_dev + hess_dev.T) / 2)
    notes = []
    if (evals < -1e-8).any():
        notes.append(
            f"REML Hessian has {int((evals < -1e-8).sum())} negative eigenvalue(s): model failed "
            "to converge"
        )
    if (np.abs(evals) <= 1e-8).any():
        notes.append("REML Hessian has an eigenvalue close to zero")
    pos = evals > 1e-8
    vcov_varpar = 2 * (evecs[:, pos] / evals[pos]) @ evecs[:, pos].T
    df = float(2 * v**2 / (grad @ vcov_varpar @ grad))
    return df, v, evals, notes


def random_intercept_satterthwaite(
    y: np.ndarray, x: np.ndarray, groups: np.ndarray, confidence: float = 0.95
) -> dict:
    """REML fit of ``y = b0 + b1 x + u_group + e`` as lme4 parameterises it, with Satterthwaite's df
    for ``b1``.

    The variance parameters are lme4's ``(theta, sigma)`` with ``tau = theta sigma`` (``theta >=
    0``, so a company variance of exactly zero is a possible estimate, as in lme4). ``sigma`` is
    profiled out and the restricted deviance minimised over ``theta`` (closed forms per group, as in
    :func:`random_intercept_reml`).

    Satterthwaite's df for ``b1`` follow Kuznetsova, Brockhoff & Christensen (2017), as lmerTest
    computes them: ``df = 2 v^2 / (g' A g)`` with ``v = var(b1) = [(X' V^-1 X)^-1]_11``, ``g`` its
    gradient with respect to ``(theta, sigma)`` and ``A = 2 H^+`` where ``H`` is the Hessian of the
    REML deviance (-2 log restricted likelihood) in ``(theta, sigma)`` and ``H^+`` its inverse over
    the eigenvalues above 1e-8 (lmerTest's rule). Here the gradient and Hessian are analytic rather
    than numerical: with ``psi = (sigma^2, tau^2)`` and ``P = V^-1 - V^-1 X C X' V^-1``, ``C = (X'
    V^-1 X)^-1``,

    * ``d v / d psi_i = c' C X' V^-1 D_i V^-1 X C c`` with ``D_1 = I`` and ``D_2 = Z Z'``;
    * ``d^2 l / d psi_i d psi_j = tr(P D_i P D_j) / 2 - y' P D_i P D_j P y``;

    and the chain rule to ``(theta, sigma)`` (``sigma^2 = s^2``, ``tau^2 = theta^2 s^2``) adds the
    score times the second derivatives of that map, which matters at the boundary ``theta = 0``.
    Within a group every matrix involved is ``alpha I + beta J``, so all traces and quadratic forms
    are group sums.

    Parameters
    ----------
    y, x : ndarray
        Outcome and the 0/1 predictor (1 = marketing).
    groups : ndarray
        Company of each row.
    confidence : float
        Coverage of the t interval ``b1 ± t_{df} SE``.

    Returns
    -------
    dict
        ``coef``, ``se`` (``sqrt(v)``), ``df``, ``t``, ``p`` (two-sided, t with ``df``), ``ci_low``,
        ``ci_high``, ``p_z`` (normal reference), ``intercept``, ``theta``, ``sigma``,
        ``group_variance``, ``residual_variance``, ``singular`` (``theta == 0``), ``converged`` and
        ``note`` (e.g. a Hessian eigenvalue at or below zero, as lmerTest warns).

    References
    ----------
    Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance components.
    *Biometrics Bulletin*, 2(6), 110-114. doi:10.2307/3002019

    Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest package: Tests in
    linear mixed effects models. *Journal of Statistical Software*, 82(13), 1-26.
    doi:10.18637/jss.v082.i13

    Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models
    using lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01

    Examples
    --------
    >>> y = np.array([3.0, 2.5, 4.0, 3.0, 2.0, 2.2, 3.5, 2.9, 4.1])
    >>> x = np.array([1.0, 0, 1, 0, 1, 0, 1, 0, 0])
    >>> g = np.array(list("aabbccddd"))
    >>> fit = random_intercept_satterthwaite(y, x, g)
    >>> fit["coef"] > 0 and 1 < fit["df"] < 8
    True
    """
    d = _group_sums(y, x, groups)
    return _satterthwaite(d, *_reml_estimate(d), confidence)


def _satterthwaite(
    d: _GroupSums,
    rho: float,
    beta: np.ndarray,
    sigma2: float,
    success: bool,
    confidence: float = 0.95,
) -> dict:
    """The dict of :func:`random_intercept_satterthwaite` from the group sums and the REML
    estimate (:func:`_reml_estimate`)."""
    from scipy import stats

    tau2 = rho * sigma2
    s_, theta = np.sqrt(sigma2), np.sqrt(rho)
    C, q, score, hess = _reml_pieces(d, beta, sigma2, tau2)
    df, v, evals, notes = _satterthwaite_df(C, q, score, hess, sigma2, rho)
    se = np.sqrt(v)
    t = float(beta[1] / se)
    half = stats.t.ppf(1 - (1 - confidence) / 2, df) * se
    if rho == 0.0:
        notes.append("boundary (singular) fit: the company variance is estimated as zero")
    return {
        "coef": float(beta[1]),
        "se": float(se),
        "df": df,
        "t": t,
        "p": float(2 * stats.t.sf(abs(t), df)),
        "ci_low": float(beta[1] - half),
        "ci_high": float(beta[1] + half),
        "p_z": float(2 * stats.norm.sf(abs(t))),
        "intercept": float(beta[0]),
        "theta": float(theta),
        "sigma": float(s_),
        "group_variance": float(tau2),
        "residual_variance": float(sigma2),
        "singular": rho == 0.0,
        "converged": success and not (evals < -1e-8).any(),
        "note": "; ".join(notes),
    }


def _mixed_row(instrument_id, scale, n: int, n_groups: int) -> dict:
    """The row of :func:`mixed_model` before any fit: counts, empty numbers."""
    return {
        "instrument": instrument_id,
        "scale": scale,
        "n": n,
        "companies": n_groups,
        "fitted": False,
        "engine": "",
        "coef": np.nan,
        "se": np.nan,
        "p": np.nan,
        "company_variance": np.nan,
        "p_z": np.nan,
        "se_satterthwaite": np.nan,
        "t": np.nan,
        "df_satterthwaite": np.nan,
        "p_satterthwaite": np.nan,
        "note": "",
    }


def _mixedlm_se(d: _GroupSums, beta: np.ndarray, rho: float) -> float:
    """The standard error of ``b1`` that statsmodels' ``MixedLM.fit(reml=True)`` reports, at the
    REML estimate, from group sums; NaN when the information matrix is not positive definite (see
    :func:`_fixed_effects_se` for what :func:`mixed_model` reports then).

    ``MixedLM`` inverts the negative Hessian of its restricted log-likelihood (``sigma^2`` profiled
    out) in the fixed effects ``beta`` and ``psi = tau^2 / sigma^2`` (``MixedLM.hessian``). That
    observed information keeps the cross terms between ``beta`` and ``psi``, so its standard error
    differs slightly (well under 1% in practice) from the GLS one, ``sqrt([(X' V^-1 X)^-1]_11)``,
    of lme4 and :func:`random_intercept_satterthwaite`. For a random intercept ``H_g = V_g /
    sigma^2 = I + psi J`` and ``1' H_g^-1 = 1' / (1 + n_g psi)``, so every term of
    ``MixedLM.hessian`` is a sum over groups of products of ``s_g = 1' H_g^-1 1``, ``a_g = 1' H_g^-1
    X_g`` and ``b_g = 1' H_g^-1 r_g`` (``r = y - X beta``); with ``f = n - p``, ``R = r' H^-1 r``
    and ``M = X' H^-1 X``:

    * ``d2l / d beta2 = -f M / R``;
    * ``d2l / d beta d psi = -f sum_g a_g b_g / R``;
    * ``d2l / d psi2 = sum_g s_g^2 / 2 - f (sum_g 2 s_g b_g^2 / R - (sum_g b_g^2)^2 / R^2) / 2 +
      (tr(Q Q) - tr(M^-1 sum_g 2 s_g a_g' a_g)) / 2`` with ``Q = M^-1 sum_g a_g' a_g``.

    Equal to ``MixedLM.hessian`` to rounding (``tests/test_models.py``).
    """
    n, p = d.X.shape
    f = n - p
    psi = rho
    shrink = 1 / (1 + d.n_i * psi)
    w = psi * shrink  # H_g^-1 = I - w_g J
    r = d.y - d.X @ beta
    sr = np.bincount(d.codes, r, minlength=len(d.n_i))
    s_g, a_g, b_g = d.n_i * shrink, d.sx * shrink[:, None], sr * shrink
    m = d.xtx - (d.sx * w[:, None]).T @ d.sx
    big_r = r @ r - (w * sr**2).sum()
    q = np.linalg.solve(m, a_g.T @ a_g)
    hess = np.empty((p + 1, p + 1))
    hess[:p, :p] = -f * m / big_r
    hess[:p, p] = hess[p, :p] = -f * (a_g * b_g[:, None]).sum(axis=0) / big_r
    hess[p, p] = (
        (s_g**2).sum() / 2
        - f * (2 * (s_g * b_g**2).sum() / big_r - (b_g**2).sum() ** 2 / big_r**2) / 2
        + (np.trace(q @ q) - np.trace(np.linalg.solve(m, 2 * (a_g * s_g[:, None]).T @ a_g))) / 2
    )
    info = -hess
    if not np.all(np.isfinite(info)) or np.linalg.eigvalsh(info).min() <= 0:
        return np.nan
    return float(np.sqrt(np.linalg.inv(info)[1, 1]))


def _fixed_effects_se(d: _GroupSums, beta: np.ndarray, rho: float) -> float:
    """The standard error of ``b1`` from the fixed-effects block of the restricted information
    alone, ``sqrt(R / f [M^-1]_11)`` (the notation of :func:`_mixedlm_se`), at the REML estimate.

    It treats ``psi = tau^2 / sigma^2`` as known, which is the GLS standard error of lme4 and
    :func:`random_intercept_satterthwaite`. :func:`mixed_model` reports it when the full
    information (with ``psi``) is not positive definite: typically a boundary fit (``psi = 0``),
    where the curvature in ``psi`` says nothing about the fixed effects and ``MixedLM`` itself warns
    that its Hessian is not positive definite.
    """
    n, p = d.X.shape
    w = rho / (1 + d.n_i * rho)
    r = d.y - d.X @ beta
    sr = np.bincount(d.codes, r, minlength=len(d.n_i))
    m = d.xtx - (d.sx * w[:, None]).T @ d.sx
    big_r = r @ r - (w * sr**2).sum()
    return float(np.sqrt(big_r / (n - p) * np.linalg.inv(m)[1, 1]))


def _random_intercept_fit(
    y: np.ndarray, x: np.ndarray, groups: np.ndarray
) -> tuple[bool, dict, dict]:
    """One REML fit of ``y ~ x + (1 | group)`` from group sums and both inferences of
    :func:`mixed_model` from it: whether the search converged, the z columns (``engine``, ``coef``,
    ``se``, ``p``, ``company_variance``) and the dict of :func:`random_intercept_satterthwaite`."""
    from scipy import stats

    d = _group_sums(y, x, groups)
    rho, beta, sigma2, success = _reml_estimate(d)
    satt = _satterthwaite(d, rho, beta, sigma2, success)
    if len(d.n_i) <= MIXEDLM_MAX_GROUPS:
        engine, se = "vectorised REML, MixedLM standard error", _mixedlm_se(d, beta, rho)
        if not np.isfinite(se):
            engine, se = (
                "vectorised REML, fixed-effects standard error",
                _fixed_effects_se(d, beta, rho),
            )
    else:
        engine, se = "vectorised REML", satt["se"]
    z = dict(
        engine=engine,
        coef=satt["coef"],
        se=se,
        p=float(2 * stats.norm.sf(abs(satt["coef"] / se))) if np.isfinite(se) else np.nan,
        company_variance=satt["group_variance"],
    )
    return success, z, satt


def _fit_mixed_row(d: pd.DataFrame, row: dict) -> None:
    """One scale's random-intercept fit (:func:`_random_intercept_fit`) into ``row``: the estimate
    when it converged and has a standard error, else the reason; every warning in ``note``."""
    notes, caught, converged = [], [], False
    y, x, g = (
        d["score"].to_numpy(float),
        d["marketing"].to_numpy(float),
        d["company_id"].to_numpy(),
    )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            converged, est, satt = _random_intercept_fit(y, x, g)
        row["engine"] = est["engine"]
        if not converged:
            notes.append("not used: the REML optimiser did not converge")
        elif not np.isfinite(est["se"]):
            notes.append(
                "not used: no standard error (the information matrix is not positive definite)"
            )
        else:
            row.update(
                est,
                fitted=True,
                p_z=est["p"],
                se_satterthwaite=satt["se"],
                t=satt["t"],
                df_satterthwaite=satt["df"],
                p_satterthwaite=satt["p"],
            )
            if est["engine"].endswith("fixed-effects standard error"):
                notes.append(
                    "se from the fixed effects alone: the restricted information with the "
                    "company variance is not positive definite"
                )
            if satt["note"]:
                notes.append(f"Satterthwaite: {satt['note']}")
    except (np.linalg.LinAlgError, ValueError) as err:
        notes.append(f"not used: fit failed ({type(err).__name__}: {err})")
    row["note"] = "; ".join(notes + _messages(caught))


def mixed_model(scores: pd.DataFrame, instrument) -> pd.DataFrame:
    """Linear mixed model per scale: score ~ marketing + (1 | company), REML.

    One REML fit per scale from group sums (the estimate of :func:`random_intercept_satterthwaite`,
    as lme4 and statsmodels' ``MixedLM`` find it), fitted only when some company has several
    respondents (else the random intercept is not identified apart from the residual). ``coef`` is
    marketing minus sales; ``p`` (= ``p_z``) its two-sided normal (z) p-value with ``se`` the
    standard error ``MixedLM`` reports (:func:`_mixedlm_se`) up to :data:`MIXEDLM_MAX_GROUPS`
    companies, the GLS standard error (:func:`random_intercept_reml`) above; ``engine`` says which.
    Where ``MixedLM``'s information is not positive definite (a boundary fit, company variance
    zero, as a rule) ``se`` is that of the fixed effects alone (:func:`_fixed_effects_se`), and
    ``engine`` and ``note`` say so.

    Beside it, from the same fit, the small-sample t reference of lmerTest
    (:func:`random_intercept_satterthwaite`): ``t`` (coefficient over its GLS standard error
    ``se_satterthwaite``), ``df_satterthwaite`` and ``p_satterthwaite``.

    ``fitted`` is True only for a fit that converged and is used. Every warning raised by the fit is
    kept in ``note``, and so is a boundary fit (company variance estimated as zero); a fit whose
    search did not converge, or without a standard error, leaves ``coef``, ``se``, ``p`` and the
    Satterthwaite columns empty and ``note`` starts with "not used".

    References
    ----------
    Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest package: Tests in
    linear mixed effects models. *Journal of Statistical Software*, 82(13), 1-26.
    doi:10.18637/jss.v082.i13
    """
    part = scores[(scores["instrument"] == instrument.id) & scores["company_id"].notna()]
    several = part.groupby("company_id").size().gt(1).any()
    rows = []
    for scale in instrument.scales:
        d = part[["company_id", "role", scale]].dropna().rename(columns={scale: "score"})
        d["marketing"] = (d["role"] == "marketing").astype(float)
        n_groups = d["company_id"].nunique()
        row = _mixed_row(instrument.id, scale, len(d), n_groups)
        if not (several and len(d) > 5 and d["marketing"].nunique() == 2):
            row["note"] = "not fitted: " + (
                "no company has several respondents"
                if not several
                else "one role only"
                if d["marketing"].nunique() < 2
                else "5 or fewer scores"
            )
            rows.append(row)
            continue
        _fit_mixed_row(d, row)
        rows.append(row)
    return pd.DataFrame(rows)


def _role_counts(companies: pd.Series, marketing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Respondents per company (in order of first appearance) of marketing and of sales (0 when
    none)."""
    codes, uniques = pd.factorize(companies)
    return (
        np.bincount(codes[marketing], minlength=len(uniques)),
        np.bincount(codes[~marketing], minlength=len(uniques)),
    )


def _headline_row(instrument_id, scale, confidence, n_companies, d, paired) -> dict:
    """The row of :func:`dyad_headline` before any design is chosen: counts, empty numbers."""
    return {
        "instrument": instrument_id,
        "scale": scale,
        "design": "",
        "design_reason": "",
        "estimate": np.nan,
        "se": np.nan,
        "df": np.nan,
        "t": np.nan,
        "p": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "confidence": confidence,
        "n_companies": n_companies,
        "n_respondents": len(d),
        "n_paired_companies": paired,
        "company_variance": np.nan,
        "residual_variance": np.nan,
        "note": "",
    }


def _choose_design(several: int, one_side: int, paired: int) -> tuple[str, str]:
    """The design and why, from the companies with several respondents for a function, those with
    one function only and those with both functions."""
    if several == 0 and one_side == 0:
        return (
            "paired t",
            "every company has exactly one respondent per function: "
            "paired t on the companies' differences",
        )
    if several == 0 and paired == 0:  # no company contributes a within-company contrast
        return (
            "welch t",
            "every company has a single respondent: no within-company "
            "contrast; Welch t between the functions' respondents",
        )
    why = []
    if several:
        why.append(
            f"{several} compan{'y has' if several == 1 else 'ies have'} several "
            "respondents for a function"
        )
    if one_side:
        why.append(f"{one_side} compan{'y has' if one_side == 1 else 'ies have'} one function only")
    return "random-intercept model", " and ".join(
        why
    ) + ": random-intercept model, Satterthwaite df"


def _paired_row(d: pd.DataFrame, row: dict) -> None:
    """Paired t on the companies' differences (marketing minus sales) into ``row``."""
    diff = d.pivot(index="company_id", columns="role", values="score")
    diff = (diff["marketing"] - diff["sales"]).to_numpy(float)
    if len(diff) < 2 or np.std(diff) == 0:
        row["note"] = "not computed: " + (
            "fewer than 2 companies" if len(diff) < 2 else "every company's difference is the same"
        )
    else:
        est, se, df = (
            float(diff.mean()),
            float(diff.std(ddof=1) / np.sqrt(len(diff))),
            float(len(diff) - 1),
        )
        row.update(estimate=est, se=se, df=df)


def _welch_row(x: np.ndarray, m: np.ndarray, row: dict) -> None:
    """Welch t between the functions' respondents (``m``: marketing) into ``row``."""
    a, b = x[m], x[~m]
    if len(a) < 2 or len(b) < 2 or (np.var(a) == 0 and np.var(b) == 0):
        row["note"] = "not computed: fewer than 2 respondents of a function or no variance"
    else:
        va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
        row.update(estimate=float(a.mean() - b.mean()), se=float(np.sqrt(va + vb)), df=float(df))


def _model_row(
    d: pd.DataFrame, x: np.ndarray, m: np.ndarray, n_companies: int, confidence: float, row: dict
) -> None:
    """Random-intercept model with Satterthwaite's df (:func:`random_intercept_satterthwaite`)
    into ``row``, with the fit's notes and warnings."""
    resid = x - np.where(m, x[m].mean() if m.any() else 0.0, x[~m].mean() if (~m).any() else 0.0)
    if m.all() or not m.any() or len(d) < 4 or n_companies < 2 or np.allclose(resid, 0):
        row["note"] = "not computed: " + (
            "one function only"
            if (m.all() or not m.any())
            else "fewer than 4 scores"
            if len(d) < 4
            else "one company only"
            if n_companies < 2
            else "no variance within the functions (every score equals its function's mean)"
        )
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = random_intercept_satterthwaite(
            x, m.astype(float), d["company_id"].to_numpy(), confidence
        )
    if fit["converged"] and np.isfinite(fit["df"]):
        row.update(
            estimate=fit["coef"],
            se=fit["se"],
            df=fit["df"],
            company_variance=fit["group_variance"],
            residual_variance=fit["residual_variance"],
        )
    else:
        row["note"] = "not used: the REML fit did not converge"
    row["note"] = "; ".join([n for n in [row["note"], fit["note"]] + _messages(caught) if n])


def _t_inference(row: dict, alpha: float) -> None:
    """``t``, two-sided ``p`` and the ``1 - alpha`` t interval from ``estimate``, ``se``, ``df``."""
    from scipy import stats

    if np.isfinite(row["se"]) and row["se"] > 0:
        t = row["estimate"] / row["se"]
        half = stats.t.ppf(1 - alpha / 2, row["df"]) * row["se"]
        row.update(
            t=float(t),
            p=float(2 * stats.t.sf(abs(t), row["df"])),
            ci_low=row["estimate"] - half,
            ci_high=row["estimate"] + half,
        )


def dyad_headline(scores: pd.DataFrame, instrument, alpha: float = 0.05) -> pd.DataFrame:
    """Per scale, the marketing-minus-sales comparison that respects the company design.

    * Every company with scores has exactly one marketing and one sales respondent: the paired
      t-test on the companies' differences (``design`` = ``paired t``; df = companies - 1).
    * Otherwise (several respondents for a function in some company, or companies with one side
      only): the random-intercept model ``score ~ marketing + (1 | company)`` by REML with
      Satterthwaite's df (:func:`random_intercept_satterthwaite`, equal to lmerTest's
      ``summary(lmer(...))``), which uses every respondent and lets a company's respondents share
      their company's level (``design`` = ``random-intercept model``).
    * No company has more than one respondent (so no company contributes a within-company contrast):
      Welch's t-test between the functions' respondents (``design`` = ``welch t``).

    Returns
    -------
    DataFrame
        ``instrument``, ``scale``, ``design``, ``design_reason`` (why, in data terms), ``estimate``
        (marketing minus sales), ``se``, ``df``, ``t``, ``p`` (two-sided), ``ci_low``/``ci_high``
        (``1 - alpha`` t interval), ``confidence``, ``n_companies`` (companies with a score on the
        scale), ``n_respondents``, ``n_paired_companies`` (companies with both functions),
        ``company_variance`` and ``residual_variance`` (model only), ``note`` (boundary fits,
        Hessian warnings, why nothing was computed).

    References
    ----------
    Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest package: Tests in
    linear mixed effects models. *Journal of Statistical Software*, 82(13), 1-26.
    doi:10.18637/jss.v082.i13

    Kenny, D. A., Kashy, D. A. & Cook, W. L. (2006). *Dyadic data analysis*. Guilford Press.
    """
    confidence = 1 - alpha
    part = scores[
        (scores["instrument"] == instrument.id)
        & scores["company_id"].notna()
        & scores["role"].isin(["marketing", "sales"])
    ]
    rows = []
    for scale in instrument.scales:
        d = part[["company_id", "role", scale]].dropna().rename(columns={scale: "score"})
        x = d["score"].to_numpy(float)
        m = (d["role"] == "marketing").to_numpy()
        n_marketing, n_sales = _role_counts(d["company_id"], m)
        several = int(((n_marketing > 1) | (n_sales > 1)).sum())
        one_side = int(((n_marketing == 0) | (n_sales == 0)).sum())
        paired = int(((n_marketing > 0) & (n_sales > 0)).sum())
        n_companies = len(n_marketing)
        row = _headline_row(instrument.id, scale, confidence, n_companies, d, paired)
        if d.empty:
            row["note"] = "not computed: no scores"
        else:
            design, reason = _choose_design(several, one_side, paired)
            row.update(design=design, design_reason=reason)
            if design == "paired t":
                _paired_row(d, row)
            elif design == "welch t":
                _welch_row(x, m, row)
            else:
                _model_row(d, x, m, n_companies, confidence, row)
        _t_inference(row, alpha)
        rows.append(row)
    return pd.DataFrame(rows)


def disagreements(
    default: pd.DataFrame,
    robust: pd.DataFrame,
    key: str,
    alpha: float = 0.05,
    model_p: str | None = None,
) -> pd.DataFrame:
    """Rows where a robustness model and the default test disagree on significance at ``alpha`` or
    on direction, and the rows that could not be compared because the model was not used.

    ``default`` needs ``key``, ``p`` and ``effect_size``; ``robust`` needs ``key``, ``p`` (or
    ``model_p``) and ``coef``, and may carry ``fitted`` and ``note`` (as :func:`ordinal_logit` and
    :func:`mixed_model` return them). ``model_p`` defaults to ``p_satterthwaite`` when ``robust``
    has it (the mixed model's small-sample reference), else ``p``.

    Returns
    -------
    DataFrame
        ``key``, ``p_default``, ``effect_size``, ``p_model``, ``coef``, ``model_p_column``,
        ``status`` and ``disagreement``. ``status`` is ``"disagreement"`` for a real disagreement
        (``disagreement`` then says which: "significant by default test only", "significant by model
        only", "opposite directions") or ``"not compared"`` when the model for that row failed or
        was not fitted (``disagreement`` empty, ``model_note`` gives the model's reason). Rows that
        agree are left out.
    """
    p_col = model_p or ("p_satterthwaite" if "p_satterthwaite" in robust else "p")
    rob = robust[[key, p_col, "coef"]].rename(columns={p_col: "p"})
    rob["fitted_ok"] = robust["fitted"].astype(bool) if "fitted" in robust else True
    rob["model_note"] = robust["note"].fillna("") if "note" in robust else ""
    m = default[[key, "p", "effect_size"]].merge(rob, on=key, suffixes=("_default", "_model"))
    sig_d, sig_m = m["p_default"] < alpha, m["p_model"] < alpha
    sign_differs = np.sign(m["effect_size"]) != np.sign(m["coef"])
    m["disagreement"] = np.where(
        sig_d != sig_m,
        np.where(sig_d, "significant by default test only", "significant by model only"),
        np.where(sig_d & sign_differs, "opposite directions", ""),
    )
    skipped = m["p_model"].isna() | ~m["fitted_ok"]
    m["status"] = np.where(
        skipped, "not compared", np.where(m["disagreement"] != "", "disagreement", "")
    )
    m.loc[skipped, "disagreement"] = ""
    m.loc[skipped & (m["model_note"] == ""), "model_note"] = "model not fitted"
    m["model_p_column"] = p_col
    out = m[m["status"] != ""].drop(columns="fitted_ok")
    return out[
        [
            key,
            "p_default",
            "effect_size",
            "p_model",
            "coef",
            "model_p_column",
            "status",
            "disagreement",
            "model_note",
        ]
    ].reset_index(drop=True)
