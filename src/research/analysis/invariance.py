"""Measurement invariance across two groups: multi-group confirmatory factor analysis, as lavaan 0.6
fits it.

One factor per subscale (factors correlated), keyed items as continuous indicators, maximum
likelihood with a mean structure in each group, and the three classic levels of invariance:
``configural`` (same pattern), ``metric`` (equal loadings) and ``scalar`` (equal loadings and
intercepts). The numbers equal those of ``lavaan::cfa(model, data, group = "role", group.equal =
...)`` with lavaan's defaults (checked against lavaan 0.6-14 in ``tests/r/invariance.R``).

The fit needs only each group's mean vector and covariance matrix, so its cost does not grow with
the number of respondents.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

try:  # installed with scikit-learn (via pingouin); optional
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover
    ThreadpoolController = None

__all__ = ["INVARIANCE_COLUMNS", "LEVELS", "fit_multigroup_cfa", "measurement_invariance"]

INVARIANCE_COLUMNS = [
    "instrument",
    "level",
    "n_marketing",
    "n_sales",
    "chi2",
    "df",
    "cfi",
    "rmsea",
    "srmr",
    "delta_chi2",
    "delta_df",
    "delta_p",
    "delta_cfi",
    "note",
]
LEVELS = ("configural", "metric", "scalar")

_NEAR_ZERO = (
    1e-5  # lavaan leaves residual-table entries smaller than this unscaled (lav_residuals_rescale)
)
_GRAD_TOL = (
    1e-6  # largest gradient element of the (n-weighted mean) discrepancy accepted as converged
)
_SCORING_TOL = 1e-2  # Fisher scoring hands over to Newton's method below this gradient norm
_SCORING_ITER = 30  # at most this many scoring steps
_NEWTON_TOL = 1e-8  # the trust-region Newton phase stops when the gradient's norm is below this
_STOP_TOL = 1e-10  # plain Newton steps polish the solution until its largest gradient is below this
_NEWTON_ITER = 100  # Newton steps before giving up (a regular fit needs far fewer)
_EIG_TOL = (
    np.finfo(float).eps ** 0.75
)  # lavaan's tolerance for "not positive definite" (lav_object_post_check)


@dataclass
class _Layout:
    """Where each model-matrix element of each group lives in the free-parameter vector (-1:
    fixed)."""

    factor_of_item: np.ndarray  # (p,) factor index of each item
    lam: np.ndarray  # (G, p) loading of each item on its factor; -1 for the marker (fixed at 1)
    theta: np.ndarray  # (G, p) residual variances
    phi: np.ndarray  # (G, k, k) factor (co)variances, symmetric
    nu: np.ndarray  # (G, p) intercepts
    alpha: np.ndarray  # (G, k) factor means; -1 where fixed at 0
    npar: int


def _layout(factor_sizes: list[int], n_groups: int, level: str) -> _Layout:
    """Free parameters as lavaan sets them for ``group.equal`` = none / loadings / loadings +
    intercepts."""
    k = len(factor_sizes)
    fac = np.repeat(np.arange(k), factor_sizes)
    p = len(fac)
    marker = np.r_[True, fac[1:] != fac[:-1]]
    counter = iter(range(10**9))
    lam = np.full((n_groups, p), -1)
    theta = np.empty((n_groups, p), int)
    phi = np.empty((n_groups, k, k), int)
    nu = np.empty((n_groups, p), int)
    alpha = np.full((n_groups, k), -1)
    for g in range(n_groups):
        for i in np.flatnonzero(~marker):
            lam[g, i] = lam[0, i] if (g and level != "configural") else next(counter)
        theta[g] = [next(counter) for _ in range(p)]
        for a in range(k):
            for b in range(a + 1):
                phi[g, a, b] = phi[g, b, a] = next(counter)
        nu[g] = nu[0] if (g and level == "scalar") else [next(counter) for _ in range(p)]
        if g and level == "scalar":  # lavaan frees the latent means of every group but the first
            alpha[g] = [next(counter) for _ in range(k)]
    return _Layout(fac, lam, theta, phi, nu, alpha, next(counter))


def _matrices(x: np.ndarray, lay: _Layout, g: int):
    p, k = len(lay.factor_of_item), lay.phi.shape[1]
    lam = np.where(lay.lam[g] >= 0, x[lay.lam[g]], 1.0)
    L = np.zeros((p, k))
    L[np.arange(p), lay.factor_of_item] = lam
    phi = x[lay.phi[g]]
    theta = x[lay.theta[g]]
    nu = x[lay.nu[g]]
    alpha = np.where(lay.alpha[g] >= 0, x[lay.alpha[g]], 0.0)
    return L, phi, theta, nu, alpha


def _implied(x: np.ndarray, lay: _Layout, g: int):
    L, phi, theta, nu, alpha = _matrices(x, lay, g)
    sigma = L @ phi @ L.T + np.diag(theta)
    return sigma, nu + L @ alpha


class _Discrepancy:
    """lavaan's normal-theory ML discrepancy, summed over groups with weights n_g / N, with its
    gradient, Hessian and expected information, all analytic and computed for both groups at once.

    Per group ``F_g = log|Sigma| - log|S| + tr(S Sigma^-1) - p + (m - mu)' Sigma^-1 (m - mu)`` with
    ``S`` the covariance divided by ``n_g``; lavaan's test statistic is ``N * sum_g (n_g / N) F_g``.

    The derivatives are taken first with respect to each group's *local* parameters, in the order
    loadings (all ``p``, markers included), residual variances (``p``), factor (co)variances
    (the ``k(k+1)/2`` of the lower triangle), intercepts (``p``) and factor means (``k``); the
    group's row of ``slots`` says which free parameter each local one is (-1: fixed at its value in
    ``fixed``), and a free parameter's derivatives are the n-weighted sums over the groups. Writing
    ``P`` for ``Sigma^-1``, ``d = m - mu``, ``C = S + d d'`` and ``W = P - P C P``, with subscripts
    for derivatives (``Sigma_a = dSigma / dtheta_a``):

    - gradient ``F_a = tr(W Sigma_a) - 2 d' P mu_a``;
    - Hessian ``F_ab = tr(W Sigma_ab) - tr(P Sigma_a P Sigma_b) + 2 tr(P Sigma_a P C P Sigma_b)
      + 2 d' P Sigma_a P mu_b + 2 d' P Sigma_b P mu_a + 2 mu_a' P mu_b - 2 d' P mu_ab``;
    - expected information (the Hessian where the model fits exactly, ``C = Sigma``, ``d = 0``)
      ``tr(P Sigma_a P Sigma_b) + 2 mu_a' P mu_b``.

    ``Sigma = Lambda Phi Lambda' + Theta`` is quadratic in the loadings and ``mu = nu + Lambda
    alpha`` bilinear, so ``Sigma_ab`` and ``mu_ab`` are non-zero only for two loadings, a loading
    and a factor (co)variance, and a loading and a factor mean.
    """

    def __init__(self, means, covs, ns, lay: _Layout):
        self.means = np.asarray(means, float)  # (G, p)
        self.covs = np.asarray(covs, float)  # (G, p, p)
        self.lay = lay
        self.w = np.asarray(ns, float) / np.sum(ns)
        self.logdet_s = np.linalg.slogdet(self.covs)[1]
        G, p = self.means.shape
        k = lay.phi.shape[1]
        self.p, self.k = p, k
        self.tril = np.tril_indices(k)
        t = len(self.tril[0])
        self.n_cov = 2 * p + t  # local parameters that enter Sigma
        self.slots = np.concatenate(
            [lay.lam, lay.theta, lay.phi[:, self.tril[0], self.tril[1]], lay.nu, lay.alpha], axis=1
        )
        m = self.slots.shape[1]
        self.fixed = np.zeros((G, m))
        self.fixed[:, :p] = 1.0  # marker loadings; fixed factor means stay 0
        # where each group's local derivatives go among the free parameters' (summed by bincount)
        g_dst, g_src, h_dst, h_src, h_w = [], [], [], [], []
        for g in range(G):
            free = np.flatnonzero(self.slots[g] >= 0)
            idx = self.slots[g, free]
            g_dst.append(idx)
            g_src.append(g * m + free)
            h_dst.append((idx[:, None] * lay.npar + idx[None, :]).ravel())
            h_src.append((g * m * m + free[:, None] * m + free[None, :]).ravel())
            h_w.append(np.full(len(free) ** 2, self.w[g]))
        self._grad_map = (np.concatenate(g_dst), np.concatenate(g_src))
        self._grad_w = self.w[np.repeat(np.arange(G), [len(d) for d in g_dst])]
        self._mat_map = (np.concatenate(h_dst), np.concatenate(h_src), np.concatenate(h_w))
        fac = lay.factor_of_item
        a, b = self.tril
        self._same_factor = fac[:, None] == np.arange(k)[None, :]  # (p, k)
        self._on_a = (fac[:, None] == a[None, :]).astype(float)  # (p, t)
        self._on_b = ((fac[:, None] == b[None, :]) & (a != b)[None, :]).astype(float)
        self._cache = (None, None)

    def _state(self, x: np.ndarray):
        """Model matrices and moments at ``x`` (the last one is kept: the optimiser asks for the
        value, gradient and Hessian at the same point); None when an implied covariance matrix is
        not positive definite."""
        x_cached, state = self._cache
        if x_cached is not None and np.array_equal(x_cached, x):
            return state
        p, k, fac, (a, b) = self.p, self.k, self.lay.factor_of_item, self.tril
        G = len(self.w)
        local = np.where(self.slots >= 0, x[self.slots], self.fixed)
        L = np.zeros((G, p, k))
        L[:, np.arange(p), fac] = local[:, :p]
        phi = np.zeros((G, k, k))
        phi[:, a, b] = phi[:, b, a] = local[:, 2 * p : self.n_cov]
        nu, alpha = local[:, self.n_cov : self.n_cov + p], local[:, self.n_cov + p :]
        LP = L @ phi
        sigma = LP @ L.transpose(0, 2, 1)
        sigma[:, np.arange(p), np.arange(p)] += local[:, p : 2 * p]
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            state = None
        else:
            P = np.linalg.inv(sigma)
            d = self.means - nu - np.einsum("gpk,gk->gp", L, alpha)
            state = {
                "L": L,
                "phi": phi,
                "LP": LP,
                "alpha": alpha,
                "P": P,
                "d": d,
                "Pd": np.einsum("gij,gj->gi", P, d),
                "logdet": 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1),
            }
        self._cache = (x.copy(), state)
        return state

    def value_and_grad(self, x: np.ndarray):
        """The discrepancy and its gradient; ``inf`` (and a zero gradient) outside the region where
        every implied covariance matrix is positive definite."""
        st = self._state(x)
        if st is None:
            return np.inf, np.zeros_like(x)
        p, fac, (a, b) = self.p, self.lay.factor_of_item, self.tril
        P, d, Pd, L = st["P"], st["d"], st["Pd"], st["L"]
        f_g = (
            st["logdet"]
            - self.logdet_s
            + np.einsum("gij,gij->g", P, self.covs)
            - p
            + np.einsum("gi,gi->g", d, Pd)
        )
        W = P - P @ (self.covs + d[:, :, None] * d[:, None, :]) @ P
        g_mu = -2.0 * Pd
        g_phi = L.transpose(0, 2, 1) @ W @ L
        local = np.concatenate(
            [
                2.0 * (W @ st["LP"])[:, np.arange(p), fac] + g_mu * st["alpha"][:, fac],
                np.diagonal(W, axis1=1, axis2=2),
                g_phi[:, a, b] * np.where(a != b, 2.0, 1.0),
                g_mu,
                np.einsum("gpk,gp->gk", L, g_mu),
            ],
            axis=1,
        )
        dst, src = self._grad_map
        grad = np.bincount(dst, weights=local.ravel()[src] * self._grad_w, minlength=len(x))
        return float(self.w @ f_g), grad

    def _collect_matrix(self, local: np.ndarray) -> np.ndarray:
        dst, src, w = self._mat_map
        n = self.lay.npar
        out = np.bincount(dst, weights=local.ravel()[src] * w, minlength=n * n).reshape(n, n)
        return 0.5 * (out + out.T)

    def _first_derivatives(self, st):
        """``B_a = P Sigma_a`` for the local parameters that enter ``Sigma`` (G, n_cov, p, p) and
        ``mu_a`` for every local parameter (G, m, p)."""
        p, k, fac, (a, b) = self.p, self.k, self.lay.factor_of_item, self.tril
        L, P, n_cov = st["L"], st["P"], self.n_cov
        G, ar = len(self.w), np.arange(p)
        PT = P.transpose(0, 2, 1)
        B = np.zeros((G, n_cov, p, p))
        # loading i: Sigma_a = e_i u_i' + u_i e_i' with u_i = (Lambda Phi)[:, factor of item i]
        U = st["LP"][:, :, fac]
        B[:, :p] = PT[:, :, :, None] * U.transpose(0, 2, 1)[:, :, None, :]
        B[:, ar, :, ar] += (P @ U).transpose(2, 0, 1)
        B[:, p + ar, :, ar] = PT.transpose(1, 0, 2)  # residual variance i: Sigma_a = e_i e_i'
        # factor (co)variance ab: Sigma_a = L_a L_b' + L_b L_a' (L_a L_a' on the diagonal)
        PL, LT = (P @ L).transpose(0, 2, 1), L.transpose(0, 2, 1)
        B[:, 2 * p :] = PL[:, a, :, None] * LT[:, b, None, :]
        off = np.flatnonzero(a != b)
        B[:, 2 * p + off] += PL[:, b[off], :, None] * LT[:, a[off], None, :]
        M = np.zeros((G, n_cov + p + k, p))
        M[:, ar, ar] = st["alpha"][:, fac]  # loading i: mu_a = alpha_f e_i
        M[:, n_cov + ar, ar] = 1.0  # intercept i: mu_a = e_i
        M[:, n_cov + p :] = LT  # factor mean f: mu_a = L_f
        return B, M

    @staticmethod
    def _trace_products(B: np.ndarray, right: np.ndarray | None = None) -> np.ndarray:
        """``tr(B_a B_b)`` (or ``tr(B_a R B_b)``) for every pair, per group."""
        G, n, p, _ = B.shape
        left = B if right is None else B @ right[:, None]
        return left.reshape(G, n, p * p) @ B.transpose(0, 3, 2, 1).reshape(G, p * p, n)

    def _local_information(self, st, B, M) -> np.ndarray:
        local = 2.0 * M @ st["P"] @ M.transpose(0, 2, 1)
        local[:, : self.n_cov, : self.n_cov] += self._trace_products(B)
        return local

    def _local_hessian(self, st, B, M) -> np.ndarray:
        p, n_cov, fac, (a, b) = self.p, self.n_cov, self.lay.factor_of_item, self.tril
        P, d, Pd, L, phi = st["P"], st["d"], st["Pd"], st["L"], st["phi"]
        K = P @ (self.covs + d[:, :, None] * d[:, None, :])  # P C
        W = P - K @ P
        local = 2.0 * M @ P @ M.transpose(0, 2, 1)
        # 2 tr(B_a K B_b) - tr(B_a B_b) in one product
        local[:, :n_cov, :n_cov] += self._trace_products(B, 2.0 * K - np.eye(p))
        ZM = np.zeros_like(local)  # (P Sigma_a P d)' mu_b
        ZM[:, :n_cov] = (B @ Pd[:, None, :, None])[..., 0] @ M.transpose(0, 2, 1)
        local += 2.0 * (ZM + ZM.transpose(0, 2, 1))
        # second derivatives: two loadings; a loading and a factor (co)variance; a loading and a
        # factor mean
        local[:, :p, :p] += 2.0 * phi[:, fac][:, :, fac] * W
        WL = W @ L
        cross = 2.0 * (self._on_a * WL[:, :, b] + self._on_b * WL[:, :, a])
        local[:, :p, 2 * p : n_cov] += cross
        local[:, 2 * p : n_cov, :p] += cross.transpose(0, 2, 1)
        cross = -2.0 * Pd[:, :, None] * self._same_factor
        local[:, :p, n_cov + p :] += cross
        local[:, n_cov + p :, :p] += cross.transpose(0, 2, 1)
        return local

    def information(self, x: np.ndarray) -> np.ndarray:
        """Expected (Fisher) information of the discrepancy:
        ``sum_g w_g [tr(Sigma^-1 dSigma_a Sigma^-1 dSigma_b) + 2 dmu_a' Sigma^-1 dmu_b]``; the
        identity outside the admissible region (where the optimiser rejects the point on its
        infinite value)."""
        st = self._state(x)
        if st is None:
            return np.eye(len(x))
        return self._collect_matrix(self._local_information(st, *self._first_derivatives(st)))

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """Exact Hessian of the discrepancy (see the class notes); the identity outside the
        admissible region."""
        st = self._state(x)
        if st is None:
            return np.eye(len(x))
        return self._collect_matrix(self._local_hessian(st, *self._first_derivatives(st)))

    def newton_matrix(self, x: np.ndarray) -> np.ndarray:
        """The Hessian where it is positive definite, else the expected information (positive
        definite wherever the model is identified): Newton's method near a minimum, Fisher scoring
        where the discrepancy is not convex."""
        st = self._state(x)
        if st is None:
            return np.eye(len(x))
        B, M = self._first_derivatives(st)
        H = self._collect_matrix(self._local_hessian(st, B, M))
        try:
            np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            return self._collect_matrix(self._local_information(st, B, M))
        return H


def _start(means, covs, lay: _Layout, factor_sizes: list[int]) -> np.ndarray:
    """Start values: residual variances half the observed ones (as lavaan), loadings from the
    marker's covariances given a factor variance of (mean within-factor correlation) x (marker
    variance), factor covariances from the markers' covariance, intercepts the observed means
    (averaged when shared)."""
    x = np.zeros(lay.npar)
    hits = np.zeros(lay.npar)
    k = len(factor_sizes)
    first = np.r_[0, np.cumsum(factor_sizes)[:-1]]
    for g, (m, s) in enumerate(zip(means, covs, strict=True)):
        sd = np.sqrt(np.diag(s))
        r = s / np.outer(sd, sd)
        lam = np.ones(len(m))
        phi = np.zeros((k, k))
        for f, (a, size) in enumerate(zip(first, factor_sizes, strict=True)):
            block = r[a : a + size, a : a + size]
            rel = np.clip(block[np.triu_indices(size, 1)].mean(), 0.2, 0.9) if size > 1 else 0.5
            phi[f, f] = rel * s[a, a]
            lam[a + 1 : a + size] = s[a + 1 : a + size, a] / phi[f, f]
        for f in range(k):
            for h in range(f):
                cor = s[first[f], first[h]] / np.sqrt(phi[f, f] * phi[h, h])
                phi[f, h] = phi[h, f] = np.clip(cor, -0.5, 0.5) * np.sqrt(phi[f, f] * phi[h, h])
        free = lay.lam[g] >= 0
        for idx, val in (
            (lay.lam[g][free], lam[free]),
            (lay.theta[g], 0.5 * np.diag(s)),
            (lay.phi[g].ravel(), phi.ravel()),
            (lay.nu[g], m),
        ):
            np.add.at(x, idx, val)
            np.add.at(hits, idx, 1.0)
    return x / np.maximum(hits, 1.0)


def _minimise(disc: _Discrepancy, x0: np.ndarray):
    """Fisher scoring, then Newton's method, both in scipy's dogleg trust region.

    Scoring (the expected information as the Hessian) goes downhill reliably from the start values
    but converges only linearly; near the minimum Newton's method (the exact Hessian, or the
    information where the Hessian is not positive definite) converges quadratically. Where the
    discrepancy is too flat for its values to decide a trust-region step (its rounding error
    swamps the decrease), up to three plain Newton steps finish the job as long as they shrink the
    gradient. lavaan uses nlminb with analytic gradients; any optimiser reaching the same minimum
    gives the same numbers.
    """
    f, grad = disc.value_and_grad(x0)
    if not np.isfinite(f):
        why = "the start values give a non-positive-definite implied covariance matrix"
        return x0, f, grad, why
    scoring = optimize.minimize(
        disc.value_and_grad,
        x0,
        jac=True,
        hess=disc.information,
        method="dogleg",
        options={"gtol": _SCORING_TOL, "maxiter": _SCORING_ITER},
    )
    newton = optimize.minimize(
        disc.value_and_grad,
        scoring.x,
        jac=True,
        hess=disc.newton_matrix,
        method="dogleg",
        options={"gtol": _NEWTON_TOL, "maxiter": _NEWTON_ITER},
    )
    x = newton.x
    f, grad = disc.value_and_grad(x)
    for _ in range(3):
        if np.max(np.abs(grad)) < _STOP_TOL:
            break
        try:
            step = np.linalg.solve(disc.hessian(x), -grad)
        except np.linalg.LinAlgError:
            break
        f_new, g_new = disc.value_and_grad(x + step)
        if not (
            f_new <= f + 1e-12 * (1.0 + abs(f)) and np.max(np.abs(g_new)) < np.max(np.abs(grad))
        ):
            break
        x, f, grad = x + step, f_new, g_new
    return x, f, grad, f"Fisher scoring then Newton (dogleg trust region): {newton.message}"


def _srmr_group(s: np.ndarray, m: np.ndarray, sigma: np.ndarray, mu: np.ndarray) -> float:
    """lavaan's ``srmr`` (Bentler's, with the mean residuals) for one group: observed and implied
    moments both scaled by the observed standard deviations; entries below 1e-5 stay unscaled."""
    sd = np.sqrt(np.diag(s))
    scale_cov, scale_mean = np.outer(sd, sd), sd

    def rescale(v, scale):
        return np.where(np.abs(v) < _NEAR_ZERO, v, v / scale)

    res_cov = rescale(s, scale_cov) - rescale(sigma, scale_cov)
    res_mean = rescale(m, scale_mean) - rescale(mu, scale_mean)
    stats_ = np.r_[res_mean, res_cov[np.tril_indices(len(m))]]
    return float(np.sqrt(np.sum(stats_**2) / len(stats_)))


def _estimates_table(
    x: np.ndarray, lay: _Layout, factors: dict[str, list[str]], groups
) -> pd.DataFrame:
    names = list(factors)
    items = [i for its in factors.values() for i in its]
    rows = []
    for g, label in enumerate(groups):
        L, phi, theta, nu, alpha = _matrices(x, lay, g)
        for i, item in enumerate(items):
            f = lay.factor_of_item[i]
            rows.append((label, names[f], "=~", item, L[i, f], lay.lam[g, i]))
        for i, item in enumerate(items):
            rows.append((label, item, "~~", item, theta[i], lay.theta[g, i]))
        for a in range(len(names)):
            for b in range(a, len(names)):
                rows.append((label, names[a], "~~", names[b], phi[a, b], lay.phi[g, a, b]))
        for i, item in enumerate(items):
            rows.append((label, item, "~1", "", nu[i], lay.nu[g, i]))
        for a, name in enumerate(names):
            rows.append((label, name, "~1", "", alpha[a], lay.alpha[g, a]))
    out = pd.DataFrame(rows, columns=["group", "lhs", "op", "rhs", "est", "par"])
    out["free"] = out.pop("par") >= 0
    return out


def _empty_fit(note: str, ns: dict, npar: int | None = None, df: int | None = None) -> dict:
    return {
        "chi2": np.nan,
        "df": np.nan if df is None else df,
        "npar": npar,
        "cfi": np.nan,
        "rmsea": np.nan,
        "srmr": np.nan,
        "baseline_chi2": np.nan,
        "baseline_df": np.nan,
        "converged": False,
        "proper": False,
        "fitted": False,
        "note": note,
        "n": ns,
        "estimates": None,
        "loadings": None,
        "intercepts": None,
        "residual_variances": None,
        "factor_covariances": None,
        "factor_means": None,
    }


def _check_factors(factors: dict[str, list[str]]) -> list[str]:
    if not factors or any(not its for its in factors.values()):
        raise ValueError("factors must map each factor name to a non-empty list of item columns")
    items = [i for its in factors.values() for i in its]
    if len(set(items)) != len(items):
        raise ValueError("an item may load on one factor only")
    return items


def _complete_groups(
    data: pd.DataFrame, group: str, groups: tuple[str, str], items: list[str]
) -> tuple[list[np.ndarray], dict[str, int]]:
    """Each group's listwise-complete answers (rows by columns ``items``) and the group sizes."""
    sub = data.loc[data[group].isin(groups), [group, *items]]
    values = sub[items]
    if not all(pd.api.types.is_numeric_dtype(t) for t in values.dtypes):
        values = values.apply(pd.to_numeric, errors="coerce")
    y = values.to_numpy(float, na_value=np.nan)
    complete = ~np.isnan(y).any(axis=1)
    labels = sub[group].to_numpy()[complete]
    y = y[complete]
    blocks = [y[labels == g] for g in groups]
    ns = {str(g): len(b) for g, b in zip(groups, blocks, strict=True)}
    return blocks, ns


@dataclass
class _Moments:
    """What the fit needs from the data: complete respondents, mean vectors and covariance
    matrices (divided by n) per group; ``missing`` names absent columns (then nothing else is
    known), and the moments are None when a group has no more respondents than items."""

    ns: dict[str, int]
    means: list[np.ndarray] | None = None
    covs: list[np.ndarray] | None = None
    missing: str = ""


def _group_moments(
    data: pd.DataFrame, group: str, groups: tuple[str, str], items: list[str]
) -> _Moments:
    missing = [c for c in [*items, group] if c not in data.columns]
    if missing:
        return _Moments({str(g): 0 for g in groups}, missing=", ".join(map(str, missing)))
    blocks, ns = _complete_groups(data, group, groups, items)
    if min(ns.values()) <= len(items):
        return _Moments(ns)
    means = [b.mean(axis=0) for b in blocks]
    covs = [np.cov(b, rowvar=False, bias=True) for b in blocks]
    return _Moments(ns, means, covs)


def _check_arguments(groups, level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    if len(groups) != 2 or groups[0] == groups[1]:
        raise ValueError("groups must name two different groups")


def _identification_problem(factors: dict[str, list[str]], ns: dict[str, int], p: int) -> str:
    """Why the model is not identified or a covariance matrix must be singular ("" if neither)."""
    small = [n for n, its in factors.items() if len(its) < 2]
    if small:
        return (
            f"factor(s) {', '.join(small)} with a single item: a factor needs at least 2 "
            "items (3 when it is the only factor) for this model to be identified"
        )
    if len(factors) == 1 and p < 3:
        return f"a single factor with {p} items is not identified (needs at least 3)"
    for g, n in ns.items():
        if n <= p:
            return (
                f"{g} has {n} complete respondents for {p} items: its covariance matrix is "
                f"singular (needs at least {p + 1})"
            )
    return ""


def _covariance_problem(covs: list[np.ndarray], groups: tuple[str, str], items: list[str]) -> str:
    """Why a group's observed covariance matrix is singular ("" if none is)."""
    for g, s in zip(groups, covs, strict=True):
        flat = [items[i] for i in np.flatnonzero(np.diag(s) <= 1e-12)]
        if flat:
            return f"{', '.join(flat)} do(es) not vary among {g}: its covariance matrix is singular"
        sd = np.sqrt(np.diag(s))
        if np.linalg.eigvalsh(s / np.outer(sd, sd))[0] < 1e-10:
            return (
                f"the item covariance matrix of {g} is singular (an item is a linear "
                "combination of others)"
            )
    return ""


def _small_group_caution(ns: dict[str, int], lay: _Layout) -> list[str]:
    """A caution when a group has fewer complete respondents than free parameters per group."""
    free_per_group = -(-lay.npar // len(ns))
    few = [f"{g} {n}" for g, n in ns.items() if n < free_per_group]
    if not few:
        return []
    return [
        f"caution: fewer complete respondents ({', '.join(few)}) than free parameters per "
        f"group ({free_per_group}); the chi2-based statistics are unreliable"
    ]


@functools.cache
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, found once (a search takes ~4 ms)."""
    return ThreadpoolController() if ThreadpoolController is not None else None


def _single_threaded():
    """The matrices are small: BLAS threads only add overhead, and on a busy machine they can slow
    the fit down a hundredfold, so the fit runs single-threaded when threadpoolctl is available."""
    controller = _blas_controller()
    if controller is None:  # pragma: no cover
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


def _fit_level(disc: _Discrepancy, means, covs, lay: _Layout, sizes: list[int]):
    """Minimise the discrepancy from the start values: ``x, f, grad, message, identified, notes``.

    ``identified`` is False when the information matrix at the solution is singular; ``notes``
    holds every warning raised during the fit.
    """
    k = len(sizes)
    x0 = _start(means, covs, lay, sizes)
    if not np.isfinite(disc.value_and_grad(x0)[0]):
        # implausible start: fall back to a diagonal model
        x0[lay.phi[:, np.arange(k)[:, None] != np.arange(k)]] = 0.0
    with warnings.catch_warnings(record=True) as caught, _single_threaded():
        warnings.simplefilter("always")
        x, f, grad, message = _minimise(disc, x0)
        identified = True
        if np.isfinite(f):
            eig = np.linalg.eigvalsh(disc.information(x))
            identified = bool(eig[0] > 1e-10 * max(eig[-1], 1e-300))
    return x, f, grad, message, identified, [f"warning: {w.message}" for w in caught]


def _fit_statistics(
    x: np.ndarray,
    f: float,
    disc: _Discrepancy,
    means,
    covs,
    ns: dict[str, int],
    lay: _Layout,
    df: int,
) -> dict:
    """``chi2``, ``df``, ``npar``, ``cfi``, ``rmsea``, ``srmr`` and the baseline, as lavaan."""
    G, p = len(covs), len(means[0])
    N = sum(ns.values())
    chi2 = max(N * f, 0.0)
    base = sum(
        n * (np.sum(np.log(np.diag(s))) - ld)
        for n, s, ld in zip(ns.values(), covs, disc.logdet_s, strict=True)
    )
    base_df = G * p * (p - 1) // 2
    t1 = max(chi2 - df, 0.0)
    t2 = max(chi2 - df, base - base_df, 0.0)
    cfi = 1.0 if (t1 < 1.5e-8 and t2 < 1.5e-8) else 1.0 - t1 / t2
    rmsea = float(np.sqrt(max(chi2 / N / df - 1.0 / N, 0.0)) * np.sqrt(G)) if df > 0 else 0.0
    srmr = 0.0
    for g in range(G):
        sigma, mu = _implied(x, lay, g)
        srmr += disc.w[g] * _srmr_group(covs[g], means[g], sigma, mu)
    return {
        "chi2": float(chi2),
        "df": int(df),
        "npar": int(lay.npar),
        "cfi": float(cfi),
        "rmsea": rmsea,
        "srmr": float(srmr),
        "baseline_chi2": float(base),
        "baseline_df": int(base_df),
    }


def _improper(x: np.ndarray, lay: _Layout, groups: tuple[str, str], items: list[str]) -> list[str]:
    """The improper parts of a solution, as lavaan's post-fit check defines them."""
    improper = []
    for g, label in enumerate(groups):
        _, phi, theta, _, _ = _matrices(x, lay, g)
        neg = [items[i] for i in np.flatnonzero(theta < 0)]
        if neg:
            improper.append(
                f"improper solution: negative residual variance (Heywood case) of "
                f"{', '.join(neg)} in {label}"
            )
        if np.any(np.diag(phi) < 0):
            improper.append(f"improper solution: negative factor variance in {label}")
        elif np.linalg.eigvalsh(phi)[0] < -_EIG_TOL:
            improper.append(
                f"improper solution: factor covariance matrix of {label} is not positive definite"
            )
    return improper


def _group_estimates(
    x: np.ndarray, lay: _Layout, groups: tuple[str, str], items: list[str], names: list[str]
) -> dict:
    """Per group: ``loadings``, ``intercepts``, ``residual_variances``, ``factor_covariances``
    and ``factor_means``."""
    p = len(items)
    loadings, intercepts, resid, fcov, fmeans = {}, {}, {}, {}, {}
    for g, label in enumerate(groups):
        L, phi, theta, nu, alpha = _matrices(x, lay, g)
        loadings[label] = pd.Series(
            L[np.arange(p), lay.factor_of_item], index=items, name="loading"
        )
        intercepts[label] = pd.Series(nu, index=items, name="intercept")
        resid[label] = pd.Series(theta, index=items, name="residual_variance")
        fcov[label] = pd.DataFrame(phi, index=names, columns=names)
        fmeans[label] = pd.Series(alpha, index=names, name="factor_mean")
    return {
        "loadings": pd.DataFrame(loadings),
        "intercepts": pd.DataFrame(intercepts),
        "residual_variances": pd.DataFrame(resid),
        "factor_covariances": fcov,
        "factor_means": pd.DataFrame(fmeans),
    }


def fit_multigroup_cfa(
    data: pd.DataFrame,
    factors: dict[str, list[str]],
    group: str,
    groups: tuple[str, str],
    level: str,
) -> dict:
    """Fit one level of a two-group confirmatory factor model by maximum likelihood, as lavaan does.

    Parameters
    ----------
    data : DataFrame
        One row per respondent: the item columns (numeric, already keyed) and the ``group`` column.
        Rows of other groups and rows with any missing item are dropped here (listwise deletion).
    factors : dict of str to list of str
        Factor name to its item columns; the first item of each factor is its marker (loading 1).
        One factor is fine (an instrument without subscales).
    group : str
        Column holding the group labels.
    groups : tuple of two str
        The two groups in order; the first is the reference group (factor means 0 at every level).
    level : {"configural", "metric", "scalar"}
        ``configural``: same pattern, everything free per group; ``metric``: loadings equal
        (``group.equal = "loadings"``); ``scalar``: loadings and intercepts equal, factor means of
        the second group free (``group.equal = c("loadings", "intercepts")``).

    Returns
    -------
    dict
        ``chi2``, ``df``, ``npar``, ``cfi``, ``rmsea``, ``srmr``, ``baseline_chi2``,
        ``baseline_df``, ``converged``, ``proper`` (no negative residual variance, factor covariance
        positive definite), ``fitted`` (the optimiser ran), ``note`` (why a level is unusable, and
        any warning; empty when all is well), ``n`` (complete respondents per group), ``estimates``
        (a tidy table like lavaan's ``parameterEstimates``: group, lhs, op, rhs, est, free) and, per
        group, ``loadings``, ``intercepts``, ``residual_variances``, ``factor_covariances`` and
        ``factor_means``. When the model cannot be fitted the numbers are NaN and ``note`` says why;
        an improper solution keeps its numbers (they are lavaan's too) with ``proper`` False.

    Notes
    -----
    The model per group is ``Sigma = Lambda Phi Lambda' + Theta`` and ``mu = nu + Lambda alpha``
    with lavaan's default identification: the first loading of each factor fixed to 1, factor
    variances and covariances, residual variances and intercepts free in each group, factor means
    fixed to 0 except in the second group at the scalar level (Jöreskog, 1971; Meredith, 1993).

    The discrepancy is lavaan's ``likelihood = "normal"``: per group
    ``F_g = log|Sigma| - log|S| + tr(S Sigma^-1) - p + (m - mu)' Sigma^-1 (m - mu)`` with the
    covariance ``S`` divided by ``n_g``, and ``chi2 = sum_g n_g F_g`` at the minimum; ``df`` counts
    the ``p(p+1)/2 + p`` moments of each group minus the free parameters. The fit indices follow
    lavaan 0.6 (Rosseel, 2012) exactly:

    - CFI against lavaan's baseline, the independence model with means and variances free in each
      group (``chi2_0 = sum_g n_g (sum log diag S_g - log|S_g|)``, ``df_0 = G p(p-1)/2``), the same
      baseline at every level; ``1 - max(chi2 - df, 0) / max(chi2 - df, chi2_0 - df_0, 0)``.
    - RMSEA ``sqrt(max(chi2 / (N df) - 1 / N, 0)) * sqrt(G)`` with ``N`` the total sample size
      (lavaan's multiple-group correction; Steiger's sqrt(G)); 0 when ``df = 0``.
    - SRMR is lavaan's ``srmr`` = Bentler's, including the mean residuals: per group the root mean
      square of the residual means and the lower triangle (with diagonal) of the residual
      covariances, both divided by the observed standard deviations, over ``p + p(p+1)/2``
      elements; the groups are averaged with weights ``n_g / N``.

    The minimum is found by Fisher scoring (the expected information as the Hessian) followed by
    Newton's method (the exact Hessian), both in scipy's dogleg trust region, with the gradient,
    Hessian and information analytic. The fit has converged when the largest element of the
    gradient of the n-weighted mean discrepancy is below 1e-6; a fit that does not get there within
    30 scoring and 100 Newton steps (a regular one needs a few, rarely 40) is reported as not
    converged, which in practice means the discrepancy keeps falling along a ridge towards an
    improper solution at infinity, where lavaan's nlminb gives up too. A singular information
    matrix at the solution means the model is not identified (lavaan's "could not compute standard
    errors" warning). Variances are not bounded (as in lavaan), so a Heywood case
    shows as a negative estimate. Before fitting, a level is refused (NaN numbers, reason in
    ``note``) when a factor has a single item, a lone factor has fewer than 3 items, a group has no
    more complete respondents than items or an item without variance (singular covariance matrix),
    or df < 0; a group with fewer respondents than free parameters per group is fitted with a
    caution in ``note``.

    References
    ----------
    Jöreskog, K. G. (1971). Simultaneous factor analysis in several populations. Psychometrika,
    36(4), 409-426.

    Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
    Psychometrika, 58(4), 525-543. doi:10.1007/BF02294825

    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software, 48(2), 1-36. doi:10.18637/jss.v048.i02

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> def answers(n, shift):
    ...     eta = rng.normal(shift, 1, size=(n, 2)) @ np.array([[1, .4], [0, .9]])
    ...     y = np.repeat(eta, 3, axis=1) * [1, .8, .7, 1, .9, .6] + rng.normal(0, .6, (n, 6))
    ...     return pd.DataFrame(y + 3, columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    >>> data = pd.concat([answers(150, 0).assign(role="marketing"),
    ...                   answers(120, .3).assign(role="sales")])
    >>> fit = fit_multigroup_cfa(data, {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]}, "role",
    ...                          ("marketing", "sales"), "metric")
    >>> print(f"chi2 = {fit['chi2']:.3f}, df = {fit['df']}, CFI = {fit['cfi']:.3f}, "
    ...       f"RMSEA = {fit['rmsea']:.3f}, SRMR = {fit['srmr']:.3f}")
    chi2 = 14.897, df = 20, CFI = 1.000, RMSEA = 0.000, SRMR = 0.028
    >>> fit["loadings"]["sales"].round(3).tolist()
    [1.0, 0.752, 0.692, 1.0, 0.872, 0.52]

    lavaan 0.6-14 prints the same chi2, df, CFI, RMSEA and SRMR for these data.
    """
    _check_arguments(groups, level)
    items = _check_factors(factors)
    return _fit_moments(_group_moments(data, group, groups, items), factors, groups, level)


def _fit_moments(
    moments: _Moments,
    factors: dict[str, list[str]],
    groups: tuple[str, str],
    level: str,
    tables: bool = True,
) -> dict:
    """:func:`fit_multigroup_cfa` from the groups' moments; without the estimates when ``tables``
    is False."""
    items = [i for its in factors.values() for i in its]
    ns = moments.ns
    if moments.missing:
        return _empty_fit(f"columns missing from the data: {moments.missing}", ns)
    sizes = [len(v) for v in factors.values()]
    p, G = len(items), 2
    lay = _layout(sizes, G, level)
    df = G * (p * (p + 1) // 2 + p) - lay.npar

    # identification and data checks, before any optimisation
    why = _identification_problem(factors, ns, p)
    if why:
        return _empty_fit(why, ns, lay.npar, df)
    means, covs = moments.means, moments.covs
    why = _covariance_problem(covs, groups, items)
    if not why and df < 0:
        why = f"the model has more free parameters ({lay.npar}) than moments: df = {df}"
    if why:
        return _empty_fit(why, ns, lay.npar, df)

    notes = _small_group_caution(ns, lay)
    disc = _Discrepancy(means, covs, list(ns.values()), lay)
    x, f, grad, message, identified, warned = _fit_level(disc, means, covs, lay, sizes)
    notes += warned
    if not np.isfinite(f):
        why = "the optimiser left the admissible region (implied covariance not positive definite)"
        return _empty_fit("; ".join([why, *notes]), ns, lay.npar, df)
    converged = bool(np.max(np.abs(grad)) < _GRAD_TOL)
    if not identified:
        notes.insert(0, "the model is not identified (singular information matrix)")
    if not converged:
        notes.insert(0, f"no convergence (largest gradient {np.max(np.abs(grad)):.2g}; {message})")
    improper = _improper(x, lay, groups, items)
    fit = {
        **_fit_statistics(x, f, disc, means, covs, ns, lay, df),
        "converged": converged and identified,
        "proper": not improper,
        "fitted": True,
        "note": "; ".join([*improper, *notes]),
        "n": ns,
    }
    if tables:
        fit["estimates"] = _estimates_table(x, lay, factors, groups)
        fit.update(_group_estimates(x, lay, groups, items, list(factors)))
    return fit


def measurement_invariance(
    wide: pd.DataFrame,
    factors: dict[str, list[str]],
    instrument_id: str,
    group: str = "role",
    groups=("marketing", "sales"),
) -> pd.DataFrame:
    """Configural, metric and scalar invariance of one instrument across two groups.

    Parameters
    ----------
    wide : DataFrame
        One row per respondent: keyed item columns and the ``group`` column. Only the
        listwise-complete respondents of the two groups enter (the same respondents at every level).
    factors : dict of str to list of str
        Subscale to its item columns (one factor per subscale, factors correlated); an instrument
        without subscales passes a single factor with all its items.
    instrument_id : str
        Written into the ``instrument`` column.
    group : str, default "role"
        Column holding the group labels.
    groups : tuple of two str, default ("marketing", "sales")
        The two groups, in order.

    Returns
    -------
    DataFrame
        Columns :data:`INVARIANCE_COLUMNS`, one row per level. ``chi2``, ``df``, ``cfi``, ``rmsea``
        and ``srmr`` as lavaan reports them; ``delta_chi2``, ``delta_df``, ``delta_p`` (chi-square
        difference test) and ``delta_cfi`` compare a level with the one before it and are empty for
        the configural level or when either level is unusable. A level that cannot be fitted (too
        few respondents, a singular covariance matrix, an unidentified model, no convergence, an
        improper solution) keeps its row with empty numbers and the reason in ``note``.

    Notes
    -----
    Each level is nested in the one before it, so the difference of the chi-square statistics is
    asymptotically chi-square with the difference of their degrees of freedom (Vandenberg & Lance,
    2000). With realistic samples the test rejects small departures, so Chen (2007) suggests judging
    metric and scalar invariance by the drop in CFI as well: a decrease of more than 0.01 (with
    RMSEA rising by more than 0.015, or SRMR by 0.03 for loadings / 0.01 for intercepts) signals
    non-invariance. Only with scalar invariance are the groups' subscale means comparable (Meredith,
    1993). Models and fit indices follow lavaan 0.6's defaults; see :func:`fit_multigroup_cfa`.

    References
    ----------
    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement invariance.
    Structural Equation Modeling, 14(3), 464-504. doi:10.1080/10705510701301834

    Jöreskog, K. G. (1971). Simultaneous factor analysis in several populations. Psychometrika,
    36(4), 409-426.

    Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
    Psychometrika, 58(4), 525-543. doi:10.1007/BF02294825

    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal of
    Statistical Software, 48(2), 1-36. doi:10.18637/jss.v048.i02

    Vandenberg, R. J., & Lance, C. E. (2000). A review and synthesis of the measurement invariance
    literature. Organizational Research Methods, 3(1), 4-70. doi:10.1177/109442810031002

    Examples
    --------
    Sales answers the second item of subscale A one point higher than marketing does, whatever their
    attitude: the intercepts differ, so scalar invariance fails.

    >>> rng = np.random.default_rng(7)
    >>> def answers(n, bias):
    ...     eta = rng.normal(size=(n, 2)) @ np.array([[1, .5], [0, .85]])
    ...     y = np.repeat(eta, 3, axis=1) * [.9, .8, .7, .9, .8, .7] + rng.normal(0, .6, (n, 6))
    ...     y[:, 1] += bias
    ...     return pd.DataFrame(np.clip(np.round(y + 3), 1, 5),
    ...                         columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    >>> wide = pd.concat([answers(160, 0).assign(role="marketing"),
    ...                   answers(140, 1).assign(role="sales")])
    >>> table = measurement_invariance(wide, {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]},
    ...                                "demo")
    >>> table[["level", "chi2", "df", "cfi", "rmsea", "srmr", "delta_chi2", "delta_p"]].round(3)
            level     chi2  df    cfi  rmsea   srmr  delta_chi2  delta_p
    0  configural    9.538  16  1.000  0.000  0.019         NaN      NaN
    1      metric   12.496  20  1.000  0.000  0.029       2.958    0.565
    2      scalar  125.226  24  0.847  0.168  0.108     112.730    0.000

    Metric invariance holds (the loadings may be taken as equal); scalar invariance fails by the
    chi-square difference test and by the drop in CFI. lavaan 0.6-14 gives the same fit statistics.
    """
    items = _check_factors(factors)
    groups = tuple(groups)
    _check_arguments(groups, LEVELS[0])
    moments = _group_moments(wide, group, groups, items)  # the same respondents at every level
    rows = []
    previous = None
    for level in LEVELS:
        fit = _fit_moments(moments, factors, groups, level, tables=False)
        n1, n2 = fit["n"].values()
        usable = fit["fitted"] and fit["converged"] and fit["proper"]
        row = {
            "instrument": instrument_id,
            "level": level,
            "n_marketing": n1,
            "n_sales": n2,
            "chi2": np.nan,
            "df": np.nan,
            "cfi": np.nan,
            "rmsea": np.nan,
            "srmr": np.nan,
            "delta_chi2": np.nan,
            "delta_df": np.nan,
            "delta_p": np.nan,
            "delta_cfi": np.nan,
            "note": fit["note"],
        }
        if usable:
            row.update({key: fit[key] for key in ("chi2", "df", "cfi", "rmsea", "srmr")})
            if previous is not None:
                d_chi2 = fit["chi2"] - previous["chi2"]
                d_df = fit["df"] - previous["df"]
                row.update(
                    {
                        "delta_chi2": d_chi2,
                        "delta_df": d_df,
                        "delta_p": float(stats.chi2.sf(d_chi2, d_df)) if d_df > 0 else np.nan,
                        "delta_cfi": fit["cfi"] - previous["cfi"],
                    }
                )
        rows.append(row)
        previous = fit if usable else None
    out = pd.DataFrame(rows, columns=INVARIANCE_COLUMNS)
    out["df"] = out["df"].astype("Int64")
    out["delta_df"] = out["delta_df"].astype("Int64")
    out["note"] = out["note"].fillna("").astype(str)
    return out
