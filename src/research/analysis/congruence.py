"""Response surface analysis of the two heads' scores: is agreement between marketing and sales
good?

For each company with both roles, ``X`` is the marketing head's (mean) total and ``Y`` the sales
head's, each centred at the total's scale midpoint, and an outcome is regressed on the second-order
polynomial ``b0 + b1 X + b2 Y + b3 X^2 + b4 XY + b5 Y^2`` by ordinary least squares. The surface is
then described by the response-surface parameters of Edwards (2002) and the R package RSA
(Schoenbrodt & Humberg), and the congruence checklist of Humberg, Nestler & Back (2019) is evaluated
as data. The OLS numbers equal R's ``lm()`` (checked in ``tests/r/dif_congruence.R``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "CONGRUENCE_COLUMNS",
    "CONGRUENCE_EXTRA_COLUMNS",
    "MIN_COMPANIES",
    "response_surface",
    "congruence_table",
]

MIN_COMPANIES = 10

CONGRUENCE_COLUMNS = (
    ["instrument", "scale", "outcome", "n_companies"]
    + [f"b{i}" for i in range(1, 6)]
    + ["r2"]
    + [f"a{i}" for i in range(1, 6)]
    + [f"p_a{i}" for i in range(1, 6)]
    + ["x0", "y0", "note"]
)
_AXES = ["p10", "p11", "p20", "p21"]
#: The six conditions of the checklist (Humberg et al., 2019), in the order they are tested.
_CONDITIONS = [
    "cond_axis_intercept_ci_has_0",
    "cond_axis_slope_ci_has_1",
    "cond_a3_ns",
    "cond_a4_sig",
    "cond_a1_ns",
    "cond_a2_ns",
]
#: Columns returned after the contract's.
CONGRUENCE_EXTRA_COLUMNS = (
    ["b0"]
    + [f"se_b{i}" for i in range(6)]
    + [f"p_b{i}" for i in range(6)]
    + [f"se_a{i}" for i in range(1, 6)]
    + _AXES
    + [f"{p}_{end}" for p in _AXES for end in ("low", "high")]
    + ["n_boot", "n_boot_failed", "direction"]
    + _CONDITIONS
    + [
        "congruence",
        "congruence_strict",
    ]
)

# a = A @ (b0, b1, ..., b5)
_A = np.array(
    [
        [0, 1, 1, 0, 0, 0],  # a1 = b1 + b2: slope along the line of congruence (Y = X)
        [0, 0, 0, 1, 1, 1],  # a2 = b3 + b4 + b5: curvature along the line of congruence
        [0, 1, -1, 0, 0, 0],  # a3 = b1 - b2: slope along the line of incongruence (Y = -X)
        [0, 0, 0, 1, -1, 1],  # a4 = b3 - b4 + b5: curvature along the line of incongruence
        [0, 0, 0, 1, 0, -1],  # a5 = b3 - b5: asymmetry of the curvatures in X and Y
    ],
    dtype=float,
)
_REL_TOL = 1e-12  # a denominator this small relative to its terms counts as zero
_MAX_FAILED = (
    0.10  # share of failed bootstrap resamples beyond which the axis conditions are not assessed
)
_PERFECT = (
    1e-20  # residual sum of squares this small relative to the total: a perfect fit (as R warns)
)


def _design(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


def _stationary(b: np.ndarray) -> tuple[float, float, str]:
    """Stationary point ``(x0, y0)`` of the surface, or NaNs with the reason."""
    _, b1, b2, b3, b4, b5 = b
    den = 4 * b3 * b5 - b4**2
    if abs(den) <= _REL_TOL * (4 * abs(b3 * b5) + b4**2) or den == 0:
        return np.nan, np.nan, "4 b3 b5 - b4^2 = 0: no unique stationary point"
    return (b2 * b4 - 2 * b1 * b5) / den, (b1 * b4 - 2 * b2 * b3) / den, ""


def _axes(b: np.ndarray, x0, y0) -> np.ndarray:
    """Principal axes ``(p10, p11, p20, p21)`` as in RSA (Edwards, 2002, eqs. for the axes); arrays
    allowed.

    ``p11 = (b5 - b3 + sqrt((b3 - b5)^2 + b4^2)) / b4``, ``p21 = (b5 - b3 - sqrt(...)) / b4``, ``p10
    = y0 - p11 x0``, ``p20 = y0 - p21 x0``. NaN where ``b4 = 0`` or the stationary point is missing.
    """
    b3, b4, b5 = b[..., 3], b[..., 4], b[..., 5]
    root = np.sqrt((b3 - b5) ** 2 + b4**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        bad = np.abs(b4) <= _REL_TOL * np.maximum(np.abs(b3) + np.abs(b5), np.finfo(float).tiny)
        b4_safe = np.where(bad, np.nan, b4)
        p11 = (b5 - b3 + root) / b4_safe
        p21 = (b5 - b3 - root) / b4_safe
        p10 = y0 - p11 * x0
        p20 = y0 - p21 * x0
    return np.stack([p10, p11, p20, p21], axis=-1)


def _bootstrap_axes(x, y, z, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Principal axes in ``n_boot`` resamples of the companies; rows of NaN for failed resamples.

    A resample drawn with replacement is a vector of counts per company, so its normal equations are
    ``X' W X b = X' W z`` with ``W`` the counts: no resampled copy of the data is made.
    """
    n = len(x)
    idx = rng.integers(0, n, size=(n_boot, n))
    counts = np.bincount((idx + n * np.arange(n_boot)[:, None]).ravel(), minlength=n * n_boot)
    counts = counts.reshape(n_boot, n).astype(float)
    X = _design(x, y)
    xtx = np.einsum("bn,ni,nj->bij", counts, X, X)
    xtz = counts @ (X * z[:, None])
    scale = np.sqrt(np.einsum("bii->bi", xtx))  # equilibrate before judging the rank
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = xtx / scale[:, :, None] / scale[:, None, :]
        eig = np.linalg.eigvalsh(np.where(np.isfinite(unit), unit, 0.0))
        rank_ok = np.all(scale > 0, axis=1) & (eig[:, 0] > 1e-12 * eig[:, -1])
        coef = np.full((n_boot, 6), np.nan)
        coef[rank_ok] = np.linalg.solve(xtx[rank_ok], xtz[rank_ok][:, :, None])[:, :, 0]
        b1, b2, b3, b4, b5 = (coef[:, i] for i in range(1, 6))
        den = 4 * b3 * b5 - b4**2
        den_ok = np.abs(den) > _REL_TOL * (4 * np.abs(b3 * b5) + b4**2)
        den = np.where(den_ok, den, np.nan)
        x0 = (b2 * b4 - 2 * b1 * b5) / den
        y0 = (b1 * b4 - 2 * b2 * b3) / den
    axes = _axes(coef, x0, y0)
    failed = ~np.all(np.isfinite(axes), axis=1)
    axes[failed] = np.nan
    return axes, int(failed.sum())


def _empty_row(instrument_id, scale, outcome, n, note) -> dict:
    row = dict.fromkeys(CONGRUENCE_COLUMNS + CONGRUENCE_EXTRA_COLUMNS, np.nan)
    row.update(instrument=instrument_id, scale=scale, outcome=outcome, n_companies=n, note=note)
    for col in [c for c in CONGRUENCE_EXTRA_COLUMNS if c.startswith("cond_")]:
        row[col] = pd.NA
    row.update(congruence="", congruence_strict="", direction="", n_boot=0, n_boot_failed=0)
    return row


def _verdict(conditions: list) -> str:
    """All true: supported; any false: not supported; otherwise (some missing) not assessable
    (empty)."""
    if any(c is False for c in conditions):
        return "not supported"
    if all(c is True for c in conditions):
        return "supported"
    return ""


def _usable_data(
    companies: pd.DataFrame, outcome: str, midpoint: float
) -> tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray] | None, str]:
    """Number of usable companies, their centred totals ``(x, y)`` and outcome ``z``, or why none.

    Companies missing a total or the outcome are left out; fewer than :data:`MIN_COMPANIES`, a
    constant outcome or a rank-deficient design give ``None`` and the reason.
    """
    data = companies[["marketing", "sales", outcome]].apply(pd.to_numeric, errors="coerce").dropna()
    n = len(data)
    if n < MIN_COMPANIES:
        why = f"{n} companies with both roles and the outcome; at least {MIN_COMPANIES} needed"
        return n, None, why
    x = data["marketing"].to_numpy(float) - midpoint
    y = data["sales"].to_numpy(float) - midpoint
    z = data[outcome].to_numpy(float)
    if np.ptp(z) == 0:
        return n, None, "the outcome is constant"
    X = _design(x, y)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        why = (
            "every company has the same X"
            if np.ptp(x) == 0
            else "every company has the same Y"
            if np.ptp(y) == 0
            else "X and Y are collinear or take too few distinct values"
        )
        return n, None, f"rank-deficient design ({why})"
    return n, (x, y, z), ""


def _surface_parameters(x, y, z, row: dict) -> tuple[np.ndarray, list[str]]:
    """OLS fit of the polynomial: ``b*``, ``r2``, ``a*`` and their SEs and p-values into ``row``.

    Returns the coefficients and the notes (a perfect fit has no standard errors).
    """
    notes = []
    X = _design(x, y)
    n = len(z)
    b, *_ = np.linalg.lstsq(X, z, rcond=None)
    resid = z - X @ b
    df = n - 6
    rss = float(resid @ resid)
    r2 = 1 - rss / float(((z - z.mean()) ** 2).sum())
    row.update({f"b{i}": float(b[i]) for i in range(6)}, r2=r2)
    a = _A @ b
    row.update({f"a{i + 1}": float(a[i]) for i in range(5)})
    if df > 0 and rss > _PERFECT * float(((z - z.mean()) ** 2).sum()):
        V = rss / df * np.linalg.inv(X.T @ X)
        se_b = np.sqrt(np.diag(V))
        se_a = np.sqrt(np.einsum("ij,jk,ik->i", _A, V, _A))
        row.update({f"se_b{i}": float(se_b[i]) for i in range(6)})
        row.update({f"p_b{i}": float(2 * stats.t.sf(abs(b[i] / se_b[i]), df)) for i in range(6)})
        row.update({f"se_a{i + 1}": float(se_a[i]) for i in range(5)})
        row.update(
            {f"p_a{i + 1}": float(2 * stats.t.sf(abs(a[i] / se_a[i]), df)) for i in range(5)}
        )
    else:
        notes.append("no residual variance (perfect fit): no standard errors or p-values")
    return b, notes


def _principal_axes(b: np.ndarray, row: dict) -> list[str]:
    """Stationary point ``x0``, ``y0`` and principal axes ``p10`` ... ``p21`` into ``row``."""
    notes = []
    x0, y0, why = _stationary(b)
    if why:
        notes.append(why)
    row.update(x0=x0, y0=y0)
    axes = _axes(b, x0, y0)
    row.update(dict(zip(_AXES, map(float, axes), strict=True)))
    if not np.isfinite(axes[1]):
        notes.append(
            "b4 = 0: the principal axes are parallel to the X and Y axes, their slopes undefined"
        )
    return notes


def _axis_intervals(x, y, z, row: dict, n_boot: int, seed: int, confidence: float) -> list[str]:
    """Percentile bootstrap intervals ``*_low``, ``*_high`` of the principal axes into ``row``.

    Also writes ``n_boot`` and ``n_boot_failed``; returns a note when resamples failed.
    """
    notes = []
    boot, failed = _bootstrap_axes(x, y, z, n_boot, np.random.default_rng(seed))
    row.update(n_boot=n_boot, n_boot_failed=failed)
    tail = (1 - confidence) / 2
    if failed < n_boot:
        ok = boot[np.all(np.isfinite(boot), axis=1)]
        lo, hi = np.quantile(ok, [tail, 1 - tail], axis=0)
        for j, name in enumerate(_AXES):
            row[f"{name}_low"], row[f"{name}_high"] = float(lo[j]), float(hi[j])
    if failed:
        why = "rank-deficient design, no stationary point or b4 = 0"
        notes.append(
            f"all {n_boot} bootstrap resamples failed ({why}): no intervals"
            if failed == n_boot
            else f"{failed} of {n_boot} bootstrap resamples failed ({why}); intervals from the "
            "others"
        )
    return notes


def _known(*vals) -> bool:
    return all(np.isfinite(v) for v in vals)


def _checklist(row: dict, n_boot: int, alpha: float, direction: str) -> list[str]:
    """Humberg et al.'s conditions ``cond_*``, the two verdicts and ``direction`` into ``row``.

    Returns a note when too many bootstrap resamples failed for the axis conditions.
    """
    notes = []
    # the axis along which congruence should run: the first for a ridge, the second for a valley
    icpt, slope = ("p10", "p11") if direction == "maximum" else ("p20", "p21")
    lo0, hi0 = row[f"{icpt}_low"], row[f"{icpt}_high"]
    lo1, hi1 = row[f"{slope}_low"], row[f"{slope}_high"]
    assessable = n_boot > 0 and row["n_boot_failed"] <= _MAX_FAILED * n_boot
    if n_boot > 0 and not assessable:
        notes.append(
            f"more than {_MAX_FAILED:.0%} of the bootstrap resamples failed: the principal-axis "
            "conditions are not assessed"
        )
    c_p10 = lo0 <= 0 <= hi0 if assessable and _known(lo0, hi0) else None
    c_p11 = lo1 <= 1 <= hi1 if assessable and _known(lo1, hi1) else None
    c_a3 = row["p_a3"] >= alpha if _known(row["p_a3"]) else None
    sign_ok = row["a4"] < 0 if direction == "maximum" else row["a4"] > 0
    c_a4 = (sign_ok and row["p_a4"] < alpha) if _known(row["p_a4"]) else None
    c_a1 = row["p_a1"] >= alpha if _known(row["p_a1"]) else None
    c_a2 = row["p_a2"] >= alpha if _known(row["p_a2"]) else None
    conds = [None if c is None else bool(c) for c in [c_p10, c_p11, c_a3, c_a4, c_a1, c_a2]]
    row.update({k: pd.NA if v is None else v for k, v in zip(_CONDITIONS, conds, strict=True)})
    row["congruence"] = _verdict(conds[:4])
    row["congruence_strict"] = _verdict(conds)
    row["direction"] = (
        "maximum (a4 < 0, first principal axis)"
        if direction == "maximum"
        else "minimum (a4 > 0, second principal axis)"
    )
    return notes


def response_surface(
    companies: pd.DataFrame,
    outcome: str,
    midpoint: float,
    instrument_id: str,
    scale: str,
    n_boot: int = 2000,
    seed: int = 2026,
    confidence: float = 0.95,
    alpha: float = 0.05,
    direction: str = "maximum",
) -> dict:
    """Polynomial regression and response surface analysis of one outcome on the two roles' totals.

    Parameters
    ----------
    companies : DataFrame
        One row per company: ``marketing`` and ``sales`` (the roles' mean totals) and the
        ``outcome``. Rows missing any of the three are left out.
    outcome : str
        The outcome column.
    midpoint : float
        The total's scale midpoint, ``n_items * (min + max) / 2``, subtracted from both totals.
    instrument_id, scale : str
        Written into the row.
    n_boot : int
        Bootstrap resamples of the companies for the principal axes' intervals (0: none).
    seed : int
        Seed of :func:`numpy.random.default_rng` for the resampling.
    confidence : float
        Level of the percentile bootstrap intervals.
    alpha : float
        Significance level of the checklist's tests of ``a1`` ... ``a4``.
    direction : {"maximum", "minimum"}
        The congruence hypothesis tested: ``"maximum"``, agreement goes with the *highest* outcome
        (the surface is a ridge along the line of congruence, ``a4 < 0``); ``"minimum"``, agreement
        goes with the lowest outcome (a valley, ``a4 > 0``).

    Returns
    -------
    dict
        One row: :data:`CONGRUENCE_COLUMNS` then :data:`CONGRUENCE_EXTRA_COLUMNS`. ``b0`` ... ``b5``
        and their standard errors ``se_b*`` and p-values ``p_b*`` (t-tests on ``n - 6`` df), ``r2``,
        the surface parameters ``a1`` ... ``a5`` with ``se_a*`` and ``p_a*``, the stationary point
        ``x0``, ``y0``, the principal axes ``p10``, ``p11`` (first), ``p20``, ``p21`` (second) with
        percentile bootstrap intervals ``*_low``, ``*_high``, the number of resamples ``n_boot`` and
        of failed ones ``n_boot_failed``, the checklist columns ``cond_*`` (nullable booleans), and
        the verdicts ``congruence`` (broad hypothesis) and ``congruence_strict``: "supported", "not
        supported" or "" (not assessable). Problems are described in ``note``.

    Notes
    -----
    ``a1 = b1 + b2`` and ``a2 = b3 + b4 + b5`` are the slope and curvature of the surface along the
    line of congruence ``Y = X``; ``a3 = b1 - b2`` and ``a4 = b3 - b4 + b5`` along the line of
    incongruence ``Y = -X``; ``a5 = b3 - b5`` (Nestler et al., 2019). Each is a linear combination
    ``c'b`` of the coefficients, tested by ``t = c'b / sqrt(c' V c)`` with ``V`` the OLS covariance
    ``s^2 (X'X)^-1`` on ``n - 6`` df, exactly as ``lm()`` plus ``vcov()`` in R. The stationary point
    is ``x0 = (b2 b4 - 2 b1 b5) / (4 b3 b5 - b4^2)``, ``y0 = (b1 b4 - 2 b2 b3) / (4 b3 b5 - b4^2)``;
    the principal axes ``Y = p10 + p11 X`` and ``Y = p20 + p21 X`` pass through it with slopes ``p11
    = (b5 - b3 + sqrt((b3 - b5)^2 + b4^2)) / b4`` and ``p21 = (b5 - b3 - sqrt((b3 - b5)^2 + b4^2)) /
    b4`` (Edwards, 2002; the formulas of the RSA package's ``RSA()``, version 0.10.6).

    The checklist of Humberg, Nestler & Back (2019, their checklist for the broad and the strict
    congruence hypothesis), evaluated here as data, one column per condition. For
    ``direction="maximum"`` (agreement goes with the highest outcome):

    1. ``cond_axis_intercept_ci_has_0`` and ``cond_axis_slope_ci_has_1``: the first principal axis
       does not deviate significantly from the line of congruence, i.e. the interval of ``p10``
       contains 0 and that of ``p11`` contains 1 (here percentile bootstrap intervals, as the
       authors recommend for these nonlinear parameters);
    2. ``cond_a3_ns``: ``a3`` is not significant (``p_a3 >= alpha``);
    3. ``cond_a4_sig``: ``a4`` is significantly negative (``a4 < 0`` and ``p_a4 < alpha``, two-sided
       test): the surface falls off on both sides of the line of congruence;
    4. strict hypothesis only, ``cond_a1_ns`` and ``cond_a2_ns``: ``a1`` and ``a2`` are not
       significant (the outcome is the same at every level of agreement).

    For ``direction="minimum"`` the checklist is applied to the reversed outcome (the authors'
    checklist is stated for the maximum case; reversing the outcome turns the one into the other):
    ``a4`` must be significantly *positive*, and the axis conditions are checked on the *second*
    principal axis (``p20`` contains 0, ``p21`` contains 1), because reversing the outcome's sign
    swaps the two axes of the RSA formulas (``p11`` of ``-z`` is ``p21`` of ``z``).

    ``congruence`` is "supported" when conditions 1-3 all hold, "not supported" when any fails, and
    empty when none fails but one cannot be assessed (e.g. no bootstrap interval, or more than 10 %
    of the resamples failed); ``congruence_strict`` likewise with condition 4 added. Conditions 1, 2
    and 4 are supported by *non*-significance, so with few companies they are easily met: they show
    consistency with a congruence effect, not proof of it.

    The bootstrap resamples companies with replacement and refits the model; a resample fails when
    its design is rank-deficient, ``4 b3 b5 - b4^2`` is 0 (no stationary point) or ``b4`` is 0 (axis
    slopes undefined). Intervals are quantiles of the successful resamples; failures are counted in
    ``n_boot_failed`` and mentioned in ``note``. Fewer than 10 companies, a constant outcome or a
    rank-deficient design (e.g. every company has the same X) leave the row empty with the reason in
    ``note``. The surface is only interpretable where there are data: ``x0``, ``y0`` far outside the
    observed totals describe an extrapolation.

    References
    ----------
    .. [1] Edwards, J. R. (2002). Alternatives to difference scores: Polynomial regression analysis
           and
       response surface methodology. In F. Drasgow & N. W. Schmitt (Eds.), *Advances in measurement
       and data analysis* (pp. 350-400). San Francisco: Jossey-Bass.
    .. [2] Humberg, S., Nestler, S., & Back, M. D. (2019). Response surface analysis in personality
           and
       social psychology: Checklist and clarifications for the case of congruence hypotheses.
       *Social Psychological and Personality Science*, 10(3), 409-419. doi:10.1177/1948550618757600
    .. [3] Shanock, L. R., Baran, B. E., Gentry, W. A., Pattison, S. C., & Heggestad, E. D. (2010).
       Polynomial regression with response surface analysis: A powerful approach for examining
       moderation and overcoming limitations of difference scores. *Journal of Business and
       Psychology*, 25(4), 543-554. doi:10.1007/s10869-010-9183-4
    .. [4] Nestler, S., Humberg, S., & Schoenbrodt, F. D. (2019). Response surface analysis with
       multilevel data: Illustration for the case of congruence hypotheses. *Psychological Methods*,
       24(3), 291-308. doi:10.1037/met0000199
    .. [5] Schoenbrodt, F. D., & Humberg, S. (2023). RSA: An R package for response surface analysis
       (version 0.10.6). https://CRAN.R-project.org/package=RSA

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> m, s = rng.uniform(10, 30, 120), rng.uniform(10, 30, 120)
    >>> companies = pd.DataFrame({"marketing": m, "sales": s,
    ...                           "trust": 5 - 0.05 * (m - s) ** 2 + rng.normal(size=120)})
    >>> row = response_surface(companies, "trust", midpoint=20, instrument_id="demo", scale="total",
    ...                        n_boot=500)
    >>> row["n_companies"], row["congruence"], row["congruence_strict"]
    (120, 'supported', 'supported')
    >>> bool(row["p11_low"] < 1 < row["p11_high"]), bool(row["a4"] < 0)
    (True, True)
    """
    if direction not in ("maximum", "minimum"):
        raise ValueError('direction must be "maximum" or "minimum"')
    n, xyz, why = _usable_data(companies, outcome, midpoint)
    if xyz is None:
        return _empty_row(instrument_id, scale, outcome, n, why)
    x, y, z = xyz
    row = _empty_row(instrument_id, scale, outcome, n, "")
    b, notes = _surface_parameters(x, y, z, row)
    notes += _principal_axes(b, row)
    if n_boot > 0:
        notes += _axis_intervals(x, y, z, row, n_boot, seed, confidence)
    notes += _checklist(row, n_boot, alpha, direction)
    row["note"] = "; ".join(notes)
    return row


def congruence_table(
    companies: pd.DataFrame,
    outcomes: list[str],
    midpoint: float,
    instrument_id: str,
    scale: str,
    **kwargs,
) -> pd.DataFrame:
    """:func:`response_surface` for each outcome: one row per outcome, contract's columns first.

    Keyword arguments (``n_boot``, ``seed``, ``confidence``, ``alpha``, ``direction``) are passed
    on; every outcome's bootstrap starts from the same seed.

    Notes
    -----
    See :func:`response_surface`; no adjustment for testing several outcomes is made.

    References
    ----------
    .. [1] Humberg, S., Nestler, S., & Back, M. D. (2019). *Social Psychological and Personality
       Science*, 10(3), 409-419. doi:10.1177/1948550618757600

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> companies = pd.DataFrame({"marketing": rng.uniform(10, 30, 8),
    ...                           "sales": rng.uniform(10, 30, 8)})
    >>> companies["trust"] = rng.normal(size=8)
    >>> table = congruence_table(companies, ["trust"], 20, "demo", "total")
    >>> table.loc[0, "note"], bool(pd.isna(table.loc[0, "b1"]))
    ('8 companies with both roles and the outcome; at least 10 needed', True)
    """
    rows = [
        response_surface(companies, o, midpoint, instrument_id, scale, **kwargs) for o in outcomes
    ]
    out = pd.DataFrame(rows, columns=CONGRUENCE_COLUMNS + CONGRUENCE_EXTRA_COLUMNS)
    for col in [c for c in out.columns if c.startswith("cond_")]:
        out[col] = out[col].astype("boolean")
    for col in ("n_companies", "n_boot", "n_boot_failed"):
        out[col] = out[col].astype("Int64")
    return out
