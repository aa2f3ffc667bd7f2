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
        part = demo_study.responses[(demo_study.responses["item"] == item) & demo_study.responses["keyed"].notna()]
        y = pd.Series(pd.Categorical(part["keyed"].astype(int), ordered=True))
        x = (part["role"] == "marketing").astype(float).to_frame("marketing").reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = OrderedModel(y, x, distr="logit").fit(method="bfgs", disp=False, maxiter=500)
        assert table.loc[item, "coef"] == pytest.approx(full.params["marketing"], abs=1e-4)
        assert table.loc[item, "se"] == pytest.approx(full.bse["marketing"], rel=1e-3)
        assert table.loc[item, "n"] == len(part)


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
    fit = models.random_intercept_reml(d["score"].to_numpy(), d["marketing"].to_numpy(), d["company_id"].to_numpy())
    assert fit["coef"] == pytest.approx(ref.params["marketing"], abs=1e-5)
    assert fit["intercept"] == pytest.approx(ref.params["Intercept"], abs=1e-5)
    assert fit["group_variance"] == pytest.approx(ref.cov_re.iloc[0, 0], rel=1e-4)
    assert fit["residual_variance"] == pytest.approx(ref.scale, rel=1e-4)
    # GLS standard error (X'V^-1X)^-1 against statsmodels' observed information: equal to within 1%
    assert fit["se"] == pytest.approx(ref.bse["marketing"], rel=1e-2)


def test_mixed_model_switches_engine_above_the_limit(monkeypatch):
    inst = instrument_from_dict({"id": "t", "response_scale": {"min": 1, "max": 7}, "subscales": [{"id": "a"}],
                                 "items": [{"id": "A1", "subscale": "a"}]})
    d = _clustered(60, 3)
    scores = d.assign(instrument="t", role=np.where(d["marketing"] == 1, "marketing", "sales"), a=d["score"])
    small = models.mixed_model(scores, inst).iloc[0]
    monkeypatch.setattr(models, "MIXEDLM_MAX_GROUPS", 10)
    large = models.mixed_model(scores, inst).iloc[0]
    assert small["engine"] == "statsmodels MixedLM" and large["engine"] == "vectorised REML"
    assert large["coef"] == pytest.approx(small["coef"], abs=1e-4)


def test_vectorised_rwg_by_company_equals_the_formula_per_company(demo_study):
    smr = demo_study.instrument("smr")
    table = agreement.rwg_by_company(demo_study.responses, smr).set_index(["company_id", "scale"])
    wide = demo_study.wide("smr")
    for company, part in list(wide.groupby("company_id"))[:12]:
        for scale, items in smr.scales.items():
            expected = agreement.rwg_j(part[items].to_numpy(float), 5)
            got = table.loc[(company, scale), "rwg_j"]
            assert (np.isnan(expected) and np.isnan(got)) or got == pytest.approx(expected)
