"""Robustness models: the fast paths give the reference implementations' answers."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.miscmodels.ordinal_model import OrderedModel

from research.analysis import agreement, models
from research.spec.instruments import instrument_from_dict


def test_ordinal_logit_on_the_collapsed_table_equals_the_fit_on_individual_answers(demo_study):
    smr = demo_study.instrument("smr")
    table = models.ordinal_logit(demo_study.responses, smr).set_index("item")
    for item in ("SMR01", "SMR11"):
        part = demo_study.responses[
            (demo_study.responses["item"] == item) & demo_study.responses["keyed"].notna()
        ]
        y = pd.Series(pd.Categorical(part["keyed"].astype(int), ordered=True))
        x = (part["role"] == "marketing").astype(float).to_frame("marketing").reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = OrderedModel(y, x, distr="logit").fit(method="bfgs", disp=False, maxiter=500)
        assert table.loc[item, "coef"] == pytest.approx(full.params["marketing"], abs=1e-4)
        assert table.loc[item, "se"] == pytest.approx(full.bse["marketing"], rel=1e-3)
        assert table.loc[item, "n"] == len(part)


def test_weighted_fit_on_the_role_answer_table_equals_the_fit_on_individual_answers(demo_study):
    from research.analysis.dif import fit_cumulative_logit

    for inst in demo_study.instruments:
        table = models.ordinal_logit(demo_study.responses, inst).set_index("item")
        for item, row in table.iterrows():
            part = demo_study.responses[
                (demo_study.responses["item"] == item)
                & demo_study.responses["keyed"].notna()
                & demo_study.responses["role"].isin(["marketing", "sales"])
            ]
            y = part["keyed"].to_numpy()
            x = (part["role"] == "marketing").to_numpy(float)[:, None]
            answers = fit_cumulative_logit(y, x)  # one row per answer, no weights
            assert row["fitted"] and row["n"] == len(y)
            assert row["coef"] == pytest.approx(answers.params[0], abs=1e-8)
            assert row["se"] == pytest.approx(answers.bse[0], rel=1e-8)
            assert row["p"] == pytest.approx(answers.pvalues[0], rel=1e-6, abs=1e-12)
            # the table's log-likelihood is the answers': weights are frequencies
            answer, role, counts = models._role_answer_table(y.astype(int), x[:, 0])
            weighted = fit_cumulative_logit(answer, role[:, None], weights=counts)
            assert counts.sum() == len(y) and len(counts) <= 2 * len(np.unique(y))
            assert weighted.llf == pytest.approx(answers.llf, abs=1e-9)
            np.testing.assert_allclose(weighted.params, answers.params, atol=1e-8)


def _clustered(n_groups, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_groups):
        u = rng.normal(0, 2)
        for _ in range(rng.integers(1, 5)):
            m = float(rng.random() < 0.5)
            rows.append((f"g{g}", m, 3 + 1.2 * m + u + rng.normal(0, 1.5)))
    return pd.DataFrame(rows, columns=["company_id", "marketing", "score"])


@pytest.mark.parametrize("seed", [1, 2])
def test_vectorised_reml_reproduces_statsmodels_mixedlm(seed):
    d = _clustered(250, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = smf.mixedlm("score ~ marketing", d, groups=d["company_id"]).fit(reml=True)
    fit = models.random_intercept_reml(
        d["score"].to_numpy(), d["marketing"].to_numpy(), d["company_id"].to_numpy()
    )
    assert fit["coef"] == pytest.approx(ref.params["marketing"], abs=1e-5)
    assert fit["intercept"] == pytest.approx(ref.params["Intercept"], abs=1e-5)
    assert fit["group_variance"] == pytest.approx(ref.cov_re.iloc[0, 0], rel=1e-4)
    assert fit["residual_variance"] == pytest.approx(ref.scale, rel=1e-4)
    # GLS standard error (X'V^-1X)^-1 against statsmodels' observed information: equal to within 1%
    assert fit["se"] == pytest.approx(ref.bse["marketing"], rel=1e-2)


def test_mixed_model_switches_engine_above_the_limit(monkeypatch):
    inst = instrument_from_dict(
        {
            "id": "t",
            "response_scale": {"min": 1, "max": 7},
            "subscales": [{"id": "a"}],
            "items": [{"id": "A1", "subscale": "a"}],
        }
    )
    d = _clustered(60, 3)
    scores = d.assign(
        instrument="t", role=np.where(d["marketing"] == 1, "marketing", "sales"), a=d["score"]
    )
    small = models.mixed_model(scores, inst).iloc[0]
    monkeypatch.setattr(models, "MIXEDLM_MAX_GROUPS", 10)
    large = models.mixed_model(scores, inst).iloc[0]
    assert small["engine"] == "vectorised REML, MixedLM standard error"
    assert large["engine"] == "vectorised REML"
    assert large["coef"] == small["coef"] and large["company_variance"] == small["company_variance"]
    # above the limit the GLS standard error, the Satterthwaite step's
    assert large["se"] == large["se_satterthwaite"] and large["se"] != small["se"]
    assert large["se"] == pytest.approx(small["se"], rel=1e-2)


def _mixedlm(d, **fit_kwargs):
    import statsmodels.api as sm

    y = d["score"].to_numpy(float)
    x = (d["role"] == "marketing").to_numpy(float) if "role" in d else d["marketing"].to_numpy()
    model = sm.MixedLM(y, np.column_stack([np.ones_like(y), x]), d["company_id"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model, model.fit(reml=True, **fit_kwargs)


@pytest.mark.parametrize("name", ["balanced", "unbalanced", "boundary", "clustered"])
def test_mixedlm_standard_error_from_group_sums_equals_statsmodels_hessian(name):
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    d = _clustered(40, 5) if name == "clustered" else pd.read_csv(R / f"lmer_{name}.csv")
    model, ref = _mixedlm(d)
    sums = models._group_sums(model.endog, model.exog[:, 1], d["company_id"].to_numpy())
    # at statsmodels' own estimate: the same Hessian, so the same standard error
    psi, beta = float(np.asarray(ref.cov_re_unscaled)[0, 0]), np.asarray(ref.fe_params)
    hess, _ = model.hessian(MixedLMParams.from_components(beta, cov_re=np.array([[psi]])))
    se = np.sqrt(np.linalg.inv(-hess)[1, 1])
    assert models._mixedlm_se(sums, beta, psi) == pytest.approx(se, rel=1e-10)
    assert se == pytest.approx(ref.bse[1], rel=1e-8)
    # and the table (at the exact REML estimate) against MixedLM's fit, to its optimiser's tolerance
    scores = d.assign(role=np.where(model.exog[:, 1] == 1, "marketing", "sales"))
    row = models.mixed_model(_scores_from(scores), INST_A).iloc[0]
    assert row["fitted"] and row["engine"] == "vectorised REML, MixedLM standard error"
    assert row["coef"] == pytest.approx(ref.params[1], abs=1e-5)
    assert row["se"] == pytest.approx(ref.bse[1], rel=1e-4)
    assert row["p"] == pytest.approx(ref.pvalues[1], rel=1e-3) and row["p_z"] == row["p"]
    ref_variance = float(np.asarray(ref.cov_re)[0, 0])
    assert row["company_variance"] == pytest.approx(ref_variance, rel=1e-4, abs=1e-5)


def test_vectorised_rwg_by_company_equals_the_formula_per_company(demo_study):
    smr = demo_study.instrument("smr")
    table = agreement.rwg_by_company(demo_study.responses, smr).set_index(["company_id", "scale"])
    wide = demo_study.wide("smr")
    for company, part in list(wide.groupby("company_id"))[:12]:
        for scale, items in smr.scales.items():
            expected = agreement.rwg_j(part[items].to_numpy(float), 5)
            got = table.loc[(company, scale), "rwg_j"]
            assert (np.isnan(expected) and np.isnan(got)) or got == pytest.approx(expected)


R = __import__("pathlib").Path(__file__).parent / "r"


@pytest.mark.parametrize("name", ["balanced", "unbalanced", "boundary"])
def test_satterthwaite_df_t_and_p_equal_lmertest(name):
    # Reference: tests/r/robustness.R, summary(lmer(score ~ marketing + (1 | company_id), REML =
    # TRUE)) of lmerTest 3.1 (df, t, p) and contest(..., confint = TRUE) (interval), on the data
    # sets written beside it.
    ref = pd.read_csv(R / "lmer_satterthwaite_reference.csv").set_index("dataset").loc[name]
    d = pd.read_csv(R / f"lmer_{name}.csv")
    fit = models.random_intercept_satterthwaite(
        d["score"].to_numpy(),
        (d["role"] == "marketing").to_numpy(float),
        d["company_id"].to_numpy(),
    )
    for ours, theirs in [
        ("coef", "estimate"),
        ("se", "se"),
        ("df", "df"),
        ("t", "t"),
        ("p", "p"),
        ("ci_low", "ci_low"),
        ("ci_high", "ci_high"),
        ("residual_variance", "residual_variance"),
    ]:
        assert fit[ours] == pytest.approx(ref[theirs], rel=1e-4), ours
    assert fit["group_variance"] == pytest.approx(ref["company_variance"], rel=1e-4, abs=1e-12)
    assert fit["singular"] == (str(ref["singular"]).upper() == "TRUE")
    if fit["singular"]:
        assert "boundary" in fit["note"] and fit["df"] == pytest.approx(len(d) - 2, rel=1e-6)


def _scores_from(d):
    return d.assign(instrument="t", a=d["score"])


INST_A = instrument_from_dict(
    {
        "id": "t",
        "response_scale": {"min": 1, "max": 7},
        "subscales": [{"id": "a"}],
        "items": [{"id": "A1", "subscale": "a"}],
    }
)


@pytest.mark.parametrize(
    "name,design",
    [
        ("balanced", "paired t"),
        ("unbalanced", "random-intercept model"),
        ("boundary", "random-intercept model"),
    ],
)
def test_dyad_headline_chooses_the_design_and_equals_r(name, design):
    ref = pd.read_csv(R / "lmer_satterthwaite_reference.csv").set_index("dataset")
    ref = ref.loc[
        "balanced_paired" if design == "paired t" else name
    ]  # t.test(paired = TRUE) / lmerTest
    row = models.dyad_headline(_scores_from(pd.read_csv(R / f"lmer_{name}.csv")), INST_A).iloc[0]
    assert row["design"] == design
    assert ("exactly one respondent per function" in row["design_reason"]) == (design == "paired t")
    for col in ["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]:
        assert row[col] == pytest.approx(ref[col], rel=1e-4), col
    assert row["n_companies"] == ref["n_companies"] and row["n_respondents"] == ref["n"]


def test_dyad_headline_reason_counts_the_companies():
    d = pd.read_csv(R / "lmer_unbalanced.csv")
    counts = d.groupby(["company_id", "role"]).size().unstack().fillna(0)
    row = models.dyad_headline(_scores_from(d), INST_A).iloc[0]
    several, one_side = int((counts > 1).any(axis=1).sum()), int((counts == 0).any(axis=1).sum())
    assert row["design_reason"].startswith(
        f"{several} companies have several respondents for a function and "
        f"{one_side} companies have one function only"
    )


def test_mixed_model_reports_satterthwaite_beside_z_and_records_warnings():
    d = pd.read_csv(R / "lmer_unbalanced.csv")
    ref = pd.read_csv(R / "lmer_satterthwaite_reference.csv").set_index("dataset").loc["unbalanced"]
    row = models.mixed_model(_scores_from(d), INST_A).iloc[0]
    assert row["fitted"] and row["p_z"] == row["p"]
    assert row["coef"] == pytest.approx(ref["estimate"], rel=1e-4)
    assert row["company_variance"] == pytest.approx(ref["company_variance"], rel=1e-4)
    assert row["se_satterthwaite"] == pytest.approx(ref["se"], rel=1e-4)
    assert row["df_satterthwaite"] == pytest.approx(ref["df"], rel=1e-4)
    assert row["t"] == pytest.approx(ref["t"], rel=1e-4) and row[
        "p_satterthwaite"
    ] == pytest.approx(ref["p"], rel=1e-4)
    boundary = models.mixed_model(_scores_from(pd.read_csv(R / "lmer_boundary.csv")), INST_A).iloc[
        0
    ]
    assert "boundary" in boundary["note"]


def test_mixed_model_not_converged_is_not_used(monkeypatch):
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    real_estimate = models._reml_estimate

    def failing_estimate(d):
        rho, beta, sigma2, _ = real_estimate(d)
        warnings.warn("Gradient optimization failed", ConvergenceWarning, stacklevel=2)
        return rho, beta, sigma2, False

    monkeypatch.setattr(models, "_reml_estimate", failing_estimate)
    row = models.mixed_model(_scores_from(pd.read_csv(R / "lmer_unbalanced.csv")), INST_A).iloc[0]
    assert not row["fitted"] and np.isnan(row["coef"]) and np.isnan(row["p_satterthwaite"])
    assert row["note"].startswith("not used: the REML optimiser did not converge")
    assert "ConvergenceWarning: Gradient optimization failed" in row["note"]


def _separated_responses():
    rows = []
    for i in range(12):
        role = "marketing" if i < 6 else "sales"
        answers = {
            "Q1": 5
            if role == "marketing"
            else [1, 2, 3, 4, 5, 3][i - 6],  # quasi-complete: marketing all 5
            "Q2": [4, 5, 3, 4, 2, 5][i % 6] if role == "marketing" else [3, 2, 4, 1, 3, 2][i - 6],
        }
        for item, v in answers.items():
            rows.append(
                {
                    "respondent_id": f"r{i}",
                    "role": role,
                    "instrument": "o",
                    "item": item,
                    "keyed": float(v),
                }
            )
    return pd.DataFrame(rows)


INST_O = instrument_from_dict(
    {
        "id": "o",
        "response_scale": {"min": 1, "max": 5},
        "subscales": [{"id": "s"}],
        "items": [{"id": "Q1", "subscale": "s"}, {"id": "Q2", "subscale": "s"}],
    }
)


def test_ordinal_logit_separation_is_recorded_with_empty_estimates():
    table = models.ordinal_logit(_separated_responses(), INST_O).set_index("item")
    q1 = table.loc["Q1"]
    assert not q1["fitted"] and np.isnan(q1["coef"]) and np.isnan(q1["se"]) and np.isnan(q1["p"])
    assert q1["note"].startswith(
        "not used: quasi-complete separation: every marketing answer is at or above"
    )
    q2 = table.loc["Q2"]
    assert q2["fitted"] and np.isfinite(q2["coef"]) and not q2["note"].startswith("not used")


def test_disagreements_skip_failed_models_with_a_status():
    default = pd.DataFrame(
        {"item": ["Q1", "Q2", "Q3"], "p": [0.01, 0.01, 0.5], "effect_size": [0.9, 0.5, 0.1]}
    )
    robust = pd.DataFrame(
        {
            "item": ["Q1", "Q2", "Q3"],
            "p": [np.nan, 0.3, 0.6],
            "coef": [np.nan, 0.4, 0.1],
            "fitted": [False, True, True],
            "note": ["not used: quasi-complete separation", "", ""],
        }
    )
    out = models.disagreements(default, robust, "item").set_index("item")
    assert out.loc["Q1", "status"] == "not compared" and out.loc["Q1", "disagreement"] == ""
    assert out.loc["Q1", "model_note"] == "not used: quasi-complete separation"
    assert out.loc["Q2", "status"] == "disagreement"
    assert out.loc["Q2", "disagreement"] == "significant by default test only"
    assert "Q3" not in out.index


def test_dyad_headline_without_pairs_or_variance_says_why():
    from scipy import stats

    def frame(rows):
        return pd.DataFrame(rows, columns=["company_id", "role", "a"]).assign(instrument="t")

    singletons = frame(
        [
            (f"c{i}", "marketing" if i % 2 else "sales", float(i % 4) + 0.5 * (i % 3))
            for i in range(11)
        ]
    )
    row = models.dyad_headline(singletons, INST_A).iloc[0]
    x = singletons.loc[singletons["role"] == "marketing", "a"]
    y = singletons.loc[singletons["role"] == "sales", "a"]
    ref = stats.ttest_ind(x, y, equal_var=False)
    assert row["design"] == "welch t" and "single respondent" in row["design_reason"]
    assert row["t"] == pytest.approx(ref.statistic) and row["p"] == pytest.approx(ref.pvalue)
    one = frame(
        [("c", "marketing", 3), ("c", "marketing", 4), ("c", "sales", 2), ("c", "sales", 2.5)]
    )
    assert models.dyad_headline(one, INST_A).iloc[0]["note"] == "not computed: one company only"
    flat = frame(
        [
            (f"c{i // 3}", ["marketing", "sales", "sales"][i % 3], 4.0 if i % 3 == 0 else 2.0)
            for i in range(12)
        ]
    )
    assert (
        models.dyad_headline(flat, INST_A)
        .iloc[0]["note"]
        .startswith("not computed: no variance within")
    )
    assert models.dyad_headline(frame([]), INST_A).iloc[0]["note"] == "not computed: no scores"


def test_ordinal_logit_numerical_checks_catch_separation_on_their_own(monkeypatch):
    monkeypatch.setattr(models, "_separation", lambda y, m: "")
    q1 = models.ordinal_logit(_separated_responses(), INST_O).set_index("item").loc["Q1"]
    assert not q1["fitted"] and np.isnan(q1["coef"])
    assert "exceeds 10" in q1["note"] and q1["note"].startswith("not used: ")


def test_ordinal_logit_equals_r_clm():
    # Reference: tests/r/ordinal_logit.R, ordinal::clm(y ~ marketing, link = "logit") per item on
    # generated items of 3 to 7 levels (one with an unused level, one with a level only marketing
    # uses).
    data = pd.read_csv(R / "ordinal_data.csv").assign(instrument="r")
    reference = pd.read_csv(R / "ordinal_reference.csv").set_index("item")
    instrument = instrument_from_dict(
        {
            "id": "r",
            "response_scale": {"min": 1, "max": 7},
            "subscales": [{"id": "s"}],
            "items": [{"id": item, "subscale": "s"} for item in reference.index],
        }
    )
    table = models.ordinal_logit(data, instrument).set_index("item")
    assert table["fitted"].all() and (table["note"] == "").all()
    for column, tolerance in (("coef", 1e-6), ("se", 1e-6), ("p", 1e-6)):  # clm converges to ~1e-8
        np.testing.assert_allclose(
            table.loc[reference.index, column], reference[column], rtol=tolerance, err_msg=column
        )
    assert (table.loc[reference.index, "n"] == reference["n"]).all()


def _boundary_without_positive_information():
    """Small studies with no company effect until one whose REML company variance is zero and
    whose restricted information (with the variance ratio) is not positive definite."""
    rng = np.random.default_rng(9)
    for _ in range(300):
        rows = []
        for k in range(int(rng.integers(4, 15))):
            for role in ("marketing", "sales"):
                for _ in range(int(rng.integers(1, 4))):
                    rows.append({"company_id": f"C{k}", "role": role, "score": rng.normal(4, 1)})
        d = pd.DataFrame(rows)
        y, x = d["score"].to_numpy(), (d["role"] == "marketing").to_numpy(float)
        sums = models._group_sums(y, x, d["company_id"].to_numpy())
        rho, beta, _, _ = models._reml_estimate(sums)
        if rho == 0 and np.isnan(models._mixedlm_se(sums, beta, rho)):
            return d
    raise AssertionError("no such study among 300")


def test_a_boundary_fit_keeps_its_estimate_with_the_fixed_effects_standard_error():
    # At a company variance of zero the random-intercept model is ordinary least squares, so the
    # fixed-effects standard error is the OLS one (statsmodels' OLS, computed independently).
    d = _boundary_without_positive_information()
    row = models.mixed_model(_scores_from(d), INST_A).iloc[0]
    ols = smf.ols("score ~ marketing", d.assign(marketing=(d["role"] == "marketing") * 1.0)).fit()
    assert row["fitted"] and row["company_variance"] == 0
    assert row["coef"] == pytest.approx(ols.params["marketing"], rel=1e-8)
    assert row["se"] == pytest.approx(ols.bse["marketing"], rel=1e-8)
    assert row["se_satterthwaite"] == pytest.approx(ols.bse["marketing"], rel=1e-8)
    assert row["engine"].endswith("fixed-effects standard error")
    assert "se from the fixed effects alone" in row["note"] and "boundary" in row["note"]


def test_matched_companies_beside_one_sided_ones_are_not_called_single_respondents():
    # 6 companies with one respondent per function and 2 with marketing only: the matched companies
    # carry within-company contrasts, so the headline is the random-intercept model (lmerTest's
    # estimate; checked against it elsewhere), never Welch "every company has a single respondent".
    rows = []
    for k in range(6):
        rows += [(f"c{k}", "marketing", 4.0 + 0.3 * k), (f"c{k}", "sales", 3.2 + 0.35 * k)]
    rows += [("c6", "marketing", 4.4), ("c7", "marketing", 3.9)]
    scores = pd.DataFrame(rows, columns=["company_id", "role", "a"]).assign(instrument="t")
    row = models.dyad_headline(scores, INST_A).iloc[0]
    assert row["design"] == "random-intercept model"
    assert row["design_reason"].startswith("2 companies have one function only")
    assert "single respondent" not in row["design_reason"]
