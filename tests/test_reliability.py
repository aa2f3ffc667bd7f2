"""Alpha, omega and item statistics against formulas and a published reference value."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from research.analysis.reliability import alpha_with_ci, item_statistics, omega_total


def alpha_by_hand(x: np.ndarray) -> float:
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def test_alpha_and_feldt_interval_match_the_formulas():
    rng = np.random.default_rng(11)
    f = rng.normal(size=150)
    x = np.column_stack([np.clip(np.rint(3 + f + rng.normal(0, 1, 150)), 1, 5) for _ in range(6)])
    alpha, low, high, n = alpha_with_ci(pd.DataFrame(x))
    assert alpha == pytest.approx(alpha_by_hand(x))
    df1, df2 = 149, 149 * 5
    assert low == pytest.approx(1 - (1 - alpha) * stats.f.ppf(0.975, df1, df2))
    assert high == pytest.approx(1 - (1 - alpha) * stats.f.ppf(0.025, df1, df2))
    assert n == 150


def test_alpha_reproduces_the_published_psych_value_on_a_public_dataset():
    # Reference: R psych::alpha(data, use = "complete.obs") on the "cronbach_wide_missing" data set
    # shipped with pingouin (Vallat, 2018, JOSS 3(31):1026); raw_alpha = 0.8016949, as published in
    # pingouin's documentation of cronbach_alpha. Listwise deletion leaves the complete rows only.
    data = pg.read_dataset("cronbach_wide_missing")
    alpha, _, _, n = alpha_with_ci(data)
    assert alpha == pytest.approx(0.8016949, abs=1e-6)
    assert n == len(data.dropna())


def test_omega_recovers_a_known_one_factor_structure():
    rng = np.random.default_rng(2)
    loadings = np.array([0.8, 0.7, 0.6, 0.5])
    n = 20000
    f = rng.normal(size=n)
    x = f[:, None] * loadings + rng.normal(size=(n, 4)) * np.sqrt(1 - loadings**2)
    expected = loadings.sum() ** 2 / (loadings.sum() ** 2 + (1 - loadings**2).sum())
    assert omega_total(pd.DataFrame(x)) == pytest.approx(expected, abs=0.01)


def test_omega_is_missing_when_no_one_factor_model_fits():
    assert np.isnan(
        omega_total(pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 3, 4, 5, 1]}))
    )  # two items
    assert np.isnan(
        omega_total(
            pd.DataFrame(
                {"a": [1, 1, 1, 1, 1, 1], "b": [1, 2, 3, 4, 5, 6], "c": [6, 5, 4, 3, 2, 1]}
            )
        )
    )


def test_item_rest_correlation_and_alpha_if_dropped(demo_study):
    smr = demo_study.instrument("smr")
    table = item_statistics(demo_study.responses, smr)
    wide = demo_study.wide("smr")
    items = smr.items_of("planning")
    block = wide[items].dropna().to_numpy(float)
    for j, item in enumerate(items):
        row = table[(table["scale"] == "planning") & (table["item"] == item)].iloc[0]
        rest = np.delete(block, j, axis=1)
        assert row["item_rest_r"] == pytest.approx(np.corrcoef(block[:, j], rest.sum(axis=1))[0, 1])
        assert row["alpha_if_dropped"] == pytest.approx(alpha_by_hand(rest))


def test_omega_reason_names_each_cause():
    from research.analysis.reliability import omega_with_reason

    two = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 3, 4, 5, 1]})
    assert omega_with_reason(two)[1] == "fewer than three items (2)"
    few = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 2, 3, 3], "c": [2, 2, 3, 1]})
    assert omega_with_reason(few)[1] == "too few respondents: 4 complete (5 needed)"
    const = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6], "b": [1] * 6, "c": [2, 2, 3, 1, 4, 5]})
    assert omega_with_reason(const)[1] == "constant item: b"
    # A correlation pattern whose one-factor solution needs a loading above 1 for item a
    # (r_ab r_ac / r_bc = 1.42)
    cov = np.array([[1, 0.8, 0.8], [0.8, 1, 0.45], [0.8, 0.45, 1]])
    x = np.random.default_rng(1).multivariate_normal(np.zeros(3), cov, size=500)
    omega, why = omega_with_reason(pd.DataFrame(x, columns=list("abc")))
    assert np.isnan(omega) and why.startswith("Heywood case: uniqueness at or below zero for a")


def test_omega_reason_reports_non_convergence(monkeypatch):
    import scipy.optimize
    import statsmodels.multivariate.factor as factor

    from research.analysis.reliability import omega_with_reason

    def stopped(*args, **kwargs):
        res = scipy.optimize.minimize(*args, **kwargs)
        res.success = False
        return res

    monkeypatch.setattr(factor, "minimize", stopped)
    rng = np.random.default_rng(2)
    f = rng.normal(size=300)
    x = pd.DataFrame({f"i{k}": 0.7 * f + rng.normal(scale=0.7, size=300) for k in range(4)})
    omega, why = omega_with_reason(x)
    assert np.isnan(omega)
    assert (
        why == "no convergence of the one-factor maximum-likelihood fit "
        "(ConvergenceWarning: Fitting did not converge)"
    )


def test_two_item_scale_gets_spearman_brown_and_a_note():
    from research.analysis.reliability import reliability, spearman_brown
    from research.spec.instruments import instrument_from_dict

    rng = np.random.default_rng(5)
    f = rng.normal(size=60)
    a = np.clip(np.rint(3 + f + rng.normal(0, 0.8, 60)), 1, 5)
    b = np.clip(np.rint(3 + 0.6 * f + rng.normal(0, 1.2, 60)), 1, 5)
    r = np.corrcoef(a, b)[0, 1]
    assert spearman_brown(pd.DataFrame({"a": a, "b": b})) == pytest.approx(2 * r / (1 + r))
    # Eisinga et al. (2013): with equal item variances alpha equals Spearman-Brown; standardised
    # items show it
    za, zb = (a - a.mean()) / a.std(ddof=1), (b - b.mean()) / b.std(ddof=1)
    assert alpha_by_hand(np.column_stack([za, zb])) == pytest.approx(2 * r / (1 + r))
    inst = instrument_from_dict(
        {
            "id": "two",
            "response_scale": {"min": 1, "max": 5},
            "subscales": [{"id": "s"}],
            "items": [{"id": "X1", "subscale": "s"}, {"id": "X2", "subscale": "s"}],
        }
    )
    responses = pd.DataFrame(
        [
            {
                "respondent_id": f"r{i}",
                "role": "marketing" if i % 2 else "sales",
                "instrument": "two",
                "item": item,
                "keyed": float(v),
            }
            for i in range(60)
            for item, v in (("X1", a[i]), ("X2", b[i]))
        ]
    )
    row = reliability(responses, inst).set_index("group").loc["all"]
    assert row["spearman_brown"] == pytest.approx(2 * r / (1 + r))
    assert row["alpha"] == pytest.approx(alpha_by_hand(np.column_stack([a, b])))
    assert "alpha is not the recommended coefficient for two items" in row["note"]
    assert "omega not computed: fewer than three items (2)" in row["note"]
