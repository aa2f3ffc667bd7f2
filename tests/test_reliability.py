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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_and_interval_equal_pingouin_with_missing_answers(seed):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=80)
    x = pd.DataFrame(
        {f"i{k}": np.clip(np.rint(3 + f + rng.normal(0, 1, 80)), 1, 5) for k in range(5)}
    )
    x = x.mask(rng.random(x.shape) < 0.05)
    expected, _ = pg.cronbach_alpha(data=x, nan_policy="listwise")
    alpha, low, high, n = alpha_with_ci(x)
    assert alpha == pytest.approx(expected, rel=1e-12, abs=1e-14)
    # pingouin rounds its interval to three decimals; the unrounded one is within half a unit.
    # (Given missing answers, pingouin's df count the rows before its listwise deletion; ours the
    # complete rows, so it is given those.)
    _, ci = pg.cronbach_alpha(data=x.dropna())
    assert np.abs(np.array([low, high]) - ci).max() <= 0.0005 + 1e-12
    assert n == len(x.dropna())


def test_alpha_is_missing_for_one_item_few_rows_or_no_variance():
    assert np.isnan(alpha_with_ci(pd.DataFrame({"a": [1.0, 2, 3, 4]}))[0])
    assert alpha_with_ci(pd.DataFrame({"a": [1.0, 2, np.nan], "b": [2.0, 3, 4]}))[3] == 2
    assert np.isnan(alpha_with_ci(pd.DataFrame({"a": [1.0, 2, np.nan], "b": [2.0, 3, 4]}))[1])
    # item sums constant: no variance
    assert np.isnan(alpha_with_ci(pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [4.0, 3, 2, 1]}))[0])


def _inst(n_items, scale_id="s"):
    from research.spec.instruments import instrument_from_dict

    return instrument_from_dict(
        {
            "id": "q",
            "response_scale": {"min": 1, "max": 5},
            "subscales": [{"id": scale_id}],
            "items": [{"id": f"X{i}", "subscale": scale_id} for i in range(n_items)],
        }
    )


def _responses(x: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "respondent_id": f"r{i:03d}",
                "role": "marketing" if i % 3 else "sales",
                "instrument": "q",
                "item": f"X{j}",
                "keyed": x[i, j],
            }
            for i in range(x.shape[0])
            for j in range(x.shape[1])
        ]
    )


def test_reliability_rows_equal_pingouin_and_statsmodels_per_group():
    from statsmodels.multivariate.factor import Factor

    from research.analysis.reliability import reliability

    rng = np.random.default_rng(4)
    f = rng.normal(size=90)
    x = np.column_stack([np.clip(np.rint(3 + f + rng.normal(0, 1, 90)), 1, 5) for _ in range(4)])
    x[rng.random(x.shape) < 0.04] = np.nan
    table = reliability(_responses(x), _inst(4)).set_index("group")
    role = np.where(np.arange(90) % 3, "marketing", "sales")
    for group, rows in [("all", slice(None)), ("marketing", role == "marketing")]:
        data = pd.DataFrame(x[rows]).dropna()
        row = table.loc[group]
        assert row["n"] == len(data)
        assert row["alpha"] == pytest.approx(pg.cronbach_alpha(data)[0], rel=1e-12)
        fit = Factor(data.to_numpy(float), n_factor=1, method="ml").fit(rng=0)
        s, u = abs(np.sum(fit.loadings)), np.sum(fit.uniqueness)
        assert row["omega"] == pytest.approx(s**2 / (s**2 + u), rel=1e-12)
        assert row["note"] == "" and row["omega_reason"] == ""


def test_reliability_notes_for_few_respondents_and_a_constant_item():
    from research.analysis.reliability import reliability

    x = np.array([[1, 2, 3], [2, 2, 4], [3, 2, 5], [4, 2, 1], [5, 2, 2], [1, 2, 2.0]])
    table = reliability(_responses(x), _inst(3)).set_index("group")
    assert table.loc["all", "note"] == "omega not computed: constant item: X1"
    # sales are respondents 0 and 3: two complete rows
    assert table.loc["sales", "n"] == 2
    assert table.loc["sales", "note"] == (
        "alpha not computed: 2 complete respondents (3 needed); "
        "omega not computed: too few respondents: 2 complete (5 needed)"
    )
    one = reliability(_responses(x[:, :1]), _inst(1)).set_index("group")
    assert one.loc["all", "note"] == (
        "alpha not computed: one item; omega not computed: fewer than three items (1)"
    )


@pytest.mark.parametrize("value", [0.1, 0.7, 3.3, 2.0])
def test_a_constant_item_is_named_as_pandas_finds_its_sd_zero(value):
    from research.analysis.reliability import omega_with_reason

    rng = np.random.default_rng(3)
    f = rng.normal(size=40)
    x = pd.DataFrame({f"i{k}": f + rng.normal(0, 0.8, 40) for k in range(3)})
    x["c"] = value
    _, why = omega_with_reason(x)
    assert (why == "constant item: c") == bool((x.std(ddof=1) == 0).any())


def test_item_statistics_with_missing_answers_and_a_constant_item():
    rng = np.random.default_rng(8)
    f = rng.normal(size=30)
    x = np.column_stack([np.clip(np.rint(3 + f + rng.normal(0, 1, 30)), 1, 5) for _ in range(3)])
    x[:, 2] = 4.0  # constant: no item-rest correlation
    x[[1, 5], 0] = np.nan
    table = item_statistics(_responses(x), _inst(3)).set_index("item")
    block = x[~np.isnan(x).any(axis=1)]
    for j in range(3):
        row = table.loc[f"X{j}"]
        col = pd.Series(x[:, j]).dropna()
        assert row["n"] == len(col) and row["mean"] == pytest.approx(col.mean(), rel=1e-12)
        assert row["sd"] == pytest.approx(col.std(ddof=1), rel=1e-12)
        rest = np.delete(block, j, axis=1)
        if j == 2:
            assert np.isnan(row["item_rest_r"])
        else:
            r = stats.pearsonr(block[:, j], rest.sum(axis=1))[0]
            assert row["item_rest_r"] == pytest.approx(r, rel=1e-12)
        assert row["alpha_if_dropped"] == pytest.approx(alpha_by_hand(rest), rel=1e-12)


def test_item_statistics_of_short_scales_and_few_respondents():
    x = np.array([[1, 2.0], [2, 3], [4, 4]])
    two = item_statistics(_responses(x), _inst(2)).set_index("item")
    assert two["alpha_if_dropped"].isna().all()
    assert two.loc["X0", "item_rest_r"] == pytest.approx(np.corrcoef(x.T)[0, 1], rel=1e-12)
    few = item_statistics(_responses(x[:2]), _inst(2)).set_index("item")
    assert few["item_rest_r"].isna().all() and (few["n"] == 2).all()
    one = item_statistics(_responses(x[:1, :1]), _inst(1)).iloc[0]
    assert one["n"] == 1 and one["mean"] == 1 and np.isnan(one["sd"])
    assert np.isnan(one["item_rest_r"]) and np.isnan(one["alpha_if_dropped"])
