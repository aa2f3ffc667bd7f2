"""Agreement between human coders (SPEC §3, agreement) recomputed independently."""

import numpy as np
import pandas as pd
import pytest

from research.analysis import intercoder


def kappa_by_hand(x, y):
    x, y = np.asarray(x, int), np.asarray(y, int)
    table = np.zeros((2, 2))
    for a, b in zip(x, y, strict=True):
        table[a, b] += 1
    p = table / table.sum()
    po = np.trace(p)
    pe = (p.sum(axis=1) * p.sum(axis=0)).sum()
    return (po - pe) / (1 - pe)


@pytest.fixture
def setup():
    segments = pd.DataFrame(
        {
            "interview_id": ["I1"] * 4 + ["I2"] * 3 + ["I3"] * 2,
            "segment": [2, 4, 6, 8, 2, 4, 6, 2, 4],
        }
    )
    codes = pd.DataFrame(
        [
            ["I1", 2, "ann", "trust"],
            ["I1", 4, "ann", "trust"],
            ["I1", 2, "bob", "trust"],
            ["I1", 6, "bob", "trust"],
            ["I2", 2, "ann", "trust"],
            ["I2", 2, "bob", "trust"],
            ["I2", 4, "ann", "pay"],
            ["I2", 4, "bob", "pay"],
            ["I3", 2, "ann", "trust"],  # only ann coded I3: not a shared unit
        ],
        columns=["interview_id", "segment", "coder", "theme"],
    )
    return codes, segments


def test_units_are_the_segments_of_interviews_both_coded(setup):
    codes, segments = setup
    table = intercoder.intercoder_agreement(codes, segments, ["trust", "pay"]).set_index("theme")
    assert table.loc["trust", "units"] == 7  # I1 (4 segments) and I2 (3), not I3
    ann = np.array([1, 1, 0, 0, 1, 0, 0])
    bob = np.array([1, 0, 1, 0, 1, 0, 0])
    assert table.loc["trust", "agreement"] == pytest.approx((ann == bob).mean())
    assert table.loc["trust", "kappa"] == pytest.approx(kappa_by_hand(ann, bob))
    assert table.loc["pay", "agreement"] == 1.0 and table.loc["pay", "kappa"] == pytest.approx(1.0)
    assert (
        list(intercoder.intercoder_agreement(codes, segments, ["trust"]).columns[:6])
        == intercoder.AGREEMENT_COLUMNS
    )


def test_krippendorff_alpha_nominal_two_coders_matches_the_coincidence_formula(setup):
    codes, segments = setup
    table = intercoder.krippendorff_by_theme(codes, segments, ["trust"]).set_index("theme")
    ann = np.array([1, 1, 0, 0, 1, 0, 0])
    bob = np.array([1, 0, 1, 0, 1, 0, 0])
    # Coincidence matrix for two coders, no missing values:
    # alpha = 1 - (n - 1) * o_01 / (n_0 * n_1) * ...
    values = np.concatenate([ann, bob])
    n = len(values)
    o01 = 2 * ((ann != bob).sum())  # each disagreeing unit contributes (0,1) and (1,0)
    n0, n1 = (values == 0).sum(), (values == 1).sum()
    d_observed = o01 / n
    d_expected = 2 * n0 * n1 / (n * (n - 1))
    assert table.loc["trust", "alpha"] == pytest.approx(1 - d_observed / d_expected)


def test_demo_intercoder_agreement_recomputed(demo_study):
    table = intercoder.intercoder_agreement(
        demo_study.manual_codes, demo_study.segments, demo_study.codebook.theme_ids
    )
    codes = demo_study.manual_codes
    shared = set(codes[codes["coder"] == "coder_a"]["interview_id"]) & set(
        codes[codes["coder"] == "coder_b"]["interview_id"]
    )
    units = demo_study.segments[demo_study.segments["interview_id"].isin(shared)]
    for row in table.itertuples():
        sets = {
            c: set(
                zip(
                    *codes[(codes["coder"] == c) & (codes["theme"] == row.theme)][
                        ["interview_id", "segment"]
                    ].values.T,
                    strict=True,
                )
            )
            for c in ("coder_a", "coder_b")
        }
        a = np.array(
            [
                (i, s) in sets["coder_a"]
                for i, s in zip(units["interview_id"], units["segment"], strict=True)
            ]
        )
        b = np.array(
            [
                (i, s) in sets["coder_b"]
                for i, s in zip(units["interview_id"], units["segment"], strict=True)
            ]
        )
        assert row.units == len(units)
        assert row.agreement == pytest.approx((a == b).mean())
        if a.any() or b.any():
            assert row.kappa == pytest.approx(kappa_by_hand(a, b))
