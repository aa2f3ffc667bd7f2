"""Scoring exactly as SPEC §2, checked against the formulas written out here with numpy."""

import math

import numpy as np
import pandas as pd
import pytest

from research.errors import StudyError
from research.spec.instruments import instrument_from_dict, keyed, load_instrument, score

from .conftest import SMALL_INSTRUMENT


def test_builtin_smr_has_twenty_items_on_five_points_with_the_four_stages():
    smr = load_instrument("builtin:smr")
    assert len(smr.items) == 20
    assert (smr.scale_min, smr.scale_max) == (1, 5)
    assert [(b["label"], b["min"]) for b in smr.total["bands"]] == [
        ("Undefined", 20),
        ("Defined", 40),
        ("Aligned", 60),
        ("Integrated", 80),
    ]
    assert sum(len(v) for k, v in smr.scales.items() if k != "smr_total") == 20


def test_builtin_perceptions_rates_both_functions_on_the_five_dimensions_on_seven_points():
    tw = load_instrument("builtin:perceptions")
    assert tw.n_points == 7
    pairs = {(it.extra["target"], it.extra["dimension"]) for it in tw.items}
    dims = {
        "customer_orientation",
        "long_term",
        "market_knowledge",
        "product_knowledge",
        "interpersonal",
    }
    assert pairs == {(t, d) for t in ("marketing", "sales") for d in dims}


def test_reverse_keyed_value_is_min_plus_max_minus_x():
    inst = instrument_from_dict(SMALL_INSTRUMENT)
    raw = pd.DataFrame({"M1": [1.0, 5.0], "M2": [1.0, 4.0]})
    out = keyed(raw, inst)
    assert out["M2"].tolist() == [1 + 5 - 1.0, 1 + 5 - 4.0]
    assert out["M1"].tolist() == [1.0, 5.0]


def _expected(values: np.ndarray, min_answered: float):
    """Subscale/total by the contract's words: mean of answered if answered >= ceil(share * k)."""
    k = values.shape[1]
    answered = (~np.isnan(values)).sum(axis=1)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(np.where(np.isnan(values), np.nan, values), axis=1)
    return np.where(answered >= math.ceil(min_answered * k), mean, np.nan)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_match_the_prorating_rule_on_random_answers_with_gaps(seed):
    rng = np.random.default_rng(seed)
    smr = load_instrument("builtin:smr")
    n = 60
    values = rng.integers(1, 6, size=(n, 20)).astype(float)
    values[rng.random(values.shape) < 0.15] = np.nan
    frame = pd.DataFrame(values, columns=smr.item_ids)
    frame.insert(0, "respondent_id", [str(i) for i in range(n)])
    got = score(frame, smr)
    expected_total = _expected(values, 0.8) * 20
    np.testing.assert_allclose(got["smr_total"].to_numpy(float), expected_total, equal_nan=True)
    for sub in smr.subscale_ids:
        cols = [smr.item_ids.index(i) for i in smr.items_of(sub)]
        np.testing.assert_allclose(
            got[sub].to_numpy(float), _expected(values[:, cols], 0.8), equal_nan=True
        )
    # band: the last band whose min is at most the total
    cuts = [20, 40, 60, 80]
    names = ["Undefined", "Defined", "Aligned", "Integrated"]
    for total, band in zip(expected_total, got["band"], strict=True):
        if np.isnan(total):
            assert band is None or pd.isna(band)
        else:
            assert band == names[max(i for i, c in enumerate(cuts) if c <= total)]


def test_band_edges_are_inclusive_at_each_minimum():
    smr = load_instrument("builtin:smr")
    assert [smr.band_of(x) for x in (20, 39.99, 40, 59.5, 60, 79, 80, 100)] == [
        "Undefined",
        "Undefined",
        "Defined",
        "Defined",
        "Aligned",
        "Aligned",
        "Integrated",
        "Integrated",
    ]
    assert smr.band_of(19.9) is None


def test_three_of_four_answered_passes_eighty_percent_rule_only_when_ceil_allows():
    # k = 4, min_answered 0.8 -> ceil(3.2) = 4 answers needed: three answers give a missing
    # subscale.
    inst = instrument_from_dict(
        {
            **SMALL_INSTRUMENT,
            "min_answered": 0.8,
            "subscales": [{"id": "one"}],
            "items": [{"id": f"M{i}", "subscale": "one"} for i in range(1, 5)],
            "total": None,
        }
    )
    got = score(
        pd.DataFrame({"respondent_id": ["a"], "M1": [3], "M2": [4], "M3": [5], "M4": [None]}), inst
    )
    assert pd.isna(got.loc[0, "one"])


@pytest.mark.parametrize(
    "change, key",
    [
        ({"response_scale": {"min": 5, "max": 1}}, "response_scale"),
        ({"items": []}, "items"),
        ({"items": [{"id": "M1", "subscale": "nope"}]}, "items[0].subscale"),
        (
            {"items": [{"id": "M1", "subscale": "one"}, {"id": "M1", "subscale": "two"}]},
            "items[1].id",
        ),
        ({"min_answered": 1.5}, "min_answered"),
        (
            {"total": {"id": "t", "bands": [{"label": "b", "min": 10}, {"label": "a", "min": 5}]}},
            "total.bands",
        ),
    ],
)
def test_invalid_instruments_are_fatal_and_name_the_key(change, key):
    spec = {**SMALL_INSTRUMENT, **change}
    with pytest.raises(StudyError) as err:
        instrument_from_dict(spec, "mini.yaml")
    assert "mini.yaml" in str(err.value) and key in str(err.value)


def _smr_with(n, **changes):
    """The built-in smr instrument as a dict, with item ``n`` changed."""
    from importlib import resources

    import yaml

    spec = yaml.safe_load(
        resources.files("research.builtin").joinpath("instruments", "smr.yaml").read_text("utf-8")
    )
    spec["items"][n] = {**spec["items"][n], **changes}
    return spec


def test_a_message_about_an_item_names_it_by_its_id_beside_the_key_path():
    with pytest.raises(StudyError) as err:
        instrument_from_dict(_smr_with(3, subscale="planing"), "smr.yaml")
    assert "key 'items[3].subscale' (item 'SMR04')" in str(err.value)


@pytest.mark.parametrize(
    "typo, meant",
    [("revrese", "reverse"), ("subscales", "subscale"), ("Text", "text"), ("targt", "target")],
)
def test_a_misspelt_item_key_is_fatal_with_did_you_mean(typo, meant):
    with pytest.raises(StudyError) as err:
        instrument_from_dict(_smr_with(3, **{typo: True}), "smr.yaml")
    assert f"key 'items[3].{typo}' (item 'SMR04'): unknown key (did you mean '{meant}'?)" in str(
        err.value
    )


def test_item_keys_far_from_every_known_key_stay_as_extra():
    inst = instrument_from_dict(_smr_with(0, note="from the 2006 tool", source_item=7), "smr.yaml")
    assert inst.items[0].extra == {"note": "from the 2006 tool", "source_item": 7}
    tw = load_instrument("builtin:perceptions")
    assert set(tw.items[0].extra) == {"target", "dimension"}


def test_a_misspelt_subscale_key_is_fatal_and_names_the_subscale():
    spec = {
        **SMALL_INSTRUMENT,
        "subscales": [{"id": "one", "label": "One"}, {"id": "two", "lable": "Two"}],
    }
    with pytest.raises(
        StudyError,
        match=r"key 'subscales\[1\]\.lable' \(subscale 'two'\): unknown key "
        r"\(did you mean 'label'\?\)",
    ):
        instrument_from_dict(spec, "mini.yaml")


def test_duplicate_and_empty_subscales_name_the_subscale():
    dup = {**SMALL_INSTRUMENT, "subscales": [{"id": "one"}, {"id": "one"}]}
    with pytest.raises(StudyError, match=r"key 'subscales\[1\]\.id' \(subscale 'one'\): duplicate"):
        instrument_from_dict(dup, "mini.yaml")
    empty = {**SMALL_INSTRUMENT, "subscales": [*SMALL_INSTRUMENT["subscales"], {"id": "three"}]}
    with pytest.raises(
        StudyError,
        match=r"key 'subscales\[2\]' \(subscale 'three'\): subscale 'three' has no items",
    ):
        instrument_from_dict(empty, "mini.yaml")


def test_an_instrument_file_with_a_yaml_syntax_error_names_line_and_column(tmp_path):
    (tmp_path / "mini.yaml").write_text(
        "id: mini\nresponse_scale: {min: 1, max: 5\nitems: []\n", "utf-8"
    )
    with pytest.raises(StudyError) as err:
        load_instrument("mini.yaml", tmp_path)
    assert err.value.file.endswith("mini.yaml")
    assert err.value.where.startswith("line 3, column ") and "not valid YAML" in err.value.message


def test_an_unsafe_tag_in_an_instrument_file_is_refused_with_its_line(tmp_path):
    (tmp_path / "mini.yaml").write_text(
        "id: mini\ntitle: !!python/object/apply:os.system ['echo pwned']\n", "utf-8"
    )
    with pytest.raises(StudyError, match=r"mini\.yaml: line 2, column 8: not valid YAML"):
        load_instrument("mini.yaml", tmp_path)
