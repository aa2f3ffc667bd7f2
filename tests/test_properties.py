"""Property-based tests (hypothesis) over the readers and the scoring: random cells, random column
orders, random missingness. Reading either succeeds with a data-quality log that accounts for every
bad cell, or fails with a StudyError (exit 2) - never with any other exception."""

import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research import cli
from research.errors import StudyError
from research.inputs.study import read_study

from .conftest import SMALL_INSTRUMENT, write_study

ITEMS = [it["id"] for it in SMALL_INSTRUMENT["items"]]
REVERSE = {it["id"] for it in SMALL_INSTRUMENT["items"] if it.get("reverse")}
LABELS = SMALL_INSTRUMENT["response_scale"]["labels"]

cell = st.one_of(
    st.integers(-3, 9).map(str),  # in and out of range
    st.sampled_from(LABELS).map(
        lambda s: s.lower() if len(s) % 2 else f"  {s} "
    ),  # labels, any case, padded
    st.just(""),  # blank: missing, not a problem
    st.sampled_from(["n/a", "lots", "=1+1", "4-5", "3.5", "½", "NaN", "Inf", "--"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=6),
)


def expected_value(raw: str):
    """What the contract says a cell becomes: (value or None, problem word or None)."""
    text = raw.strip()
    if text == "":
        return None, None
    labels = {lab.lower(): i + 1 for i, lab in enumerate(LABELS)}
    if text.lower() in labels:
        return float(labels[text.lower()]), None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None, "not_a_number"
    if math.isnan(value):
        return None, "not_a_number"
    if not 1 <= value <= 5:
        return None, "out_of_range"
    return value, None


@st.composite
def surveys(draw):
    n = draw(st.integers(1, 8))
    ids = [f"{i:03d}" for i in range(1, n + 1)]
    columns = ITEMS + draw(
        st.lists(st.sampled_from(["Q99", "note", "Finished_x"]), unique=True, max_size=2)
    )
    order = draw(st.permutations(columns))
    data = {c: [draw(cell) for _ in ids] for c in order}
    return ids, pd.DataFrame({"respondent_id": ids, **data})[["respondent_id", *order]]


settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci")


def _write(ids, survey, roles=None):
    folder = Path(tempfile.mkdtemp()) / "study"
    roles = roles or ["marketing" if i % 2 else "sales" for i in range(len(ids))]
    respondents = pd.DataFrame(
        {"respondent_id": ids, "company_id": [f"C{i // 2}" for i in range(len(ids))], "role": roles}
    )
    return write_study(folder, respondents, survey)


@given(surveys())
def test_every_bad_cell_is_logged_once_and_every_good_cell_is_read(case):
    ids, survey = case
    folder = _write(ids, survey)
    try:
        survey.to_csv(folder / "survey.csv", index=False)
        try:
            study = read_study(folder)
        except StudyError:
            return  # a fatal problem is an acceptable outcome; any other exception fails the test
        log = study.quality.frame()
        values = study.responses.set_index(["respondent_id", "item"])["value"]
        expected_problems = set()
        for rid, row in zip(ids, survey.itertuples(index=False), strict=True):
            for item in ITEMS:
                raw = getattr(row, item)
                value, problem = expected_value(raw)
                got = values.loc[(rid, item)]
                if value is None:
                    assert pd.isna(got), (rid, item, raw, got)
                else:
                    assert got == value, (rid, item, raw, got)
                if problem:
                    expected_problems.add((rid, item, problem))
        logged = set(zip(log["record"], log["column"], log["problem"], strict=True))
        assert logged == expected_problems
        assert len(log) == len(expected_problems)  # once each
        # scores follow the contract from the values that were kept
        for rid in ids:
            keyed = [
                (6 - values.loc[(rid, i)]) if i in REVERSE else values.loc[(rid, i)] for i in ITEMS
            ]
            answered = [v for v in keyed if not pd.isna(v)]
            score = study.scores.set_index("respondent_id").loc[rid, "mini_total"]
            if len(answered) >= math.ceil(0.5 * 4):
                assert score == np.mean(answered) * 4
            else:
                assert pd.isna(score)
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


@given(
    st.lists(
        st.sampled_from(["marketing", "Marketing Manager", " VP SALES ", "sales", "cfo", "", "?"]),
        min_size=1,
        max_size=8,
    )
)
def test_roles_map_case_insensitively_and_unknown_roles_are_logged(roles):
    ids = [f"{i:03d}" for i in range(1, len(roles) + 1)]
    survey = pd.DataFrame({"respondent_id": ids, **{i: ["3"] * len(ids) for i in ITEMS}})
    folder = _write(ids, survey, roles)
    try:
        known = [
            r.strip().lower() in {"marketing", "marketing manager", "vp sales", "sales"}
            for r in roles
        ]
        if not any(known):
            try:
                read_study(folder)
            except StudyError as exc:
                assert "no respondent with a known role" in str(exc)
                return
            raise AssertionError("a study without any known role must be fatal")
        study = read_study(folder)
        log = study.quality.frame()
        assert sorted(log.loc[log["problem"] == "unknown_role", "record"]) == [
            i for i, k in zip(ids, known, strict=True) if not k
        ]
        assert len(study.respondents) == sum(known)
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


@given(surveys(), st.booleans(), st.booleans())
def test_the_command_line_exits_0_or_2_never_with_a_traceback(case, drop_column, duplicate_id):
    ids, survey = case
    folder = _write(ids, survey)
    try:
        if drop_column:
            survey = survey.drop(columns=[ITEMS[0]])
        if duplicate_id:
            r = pd.read_csv(folder / "respondents.csv", dtype=str)
            pd.concat([r, r.iloc[[0]]]).to_csv(folder / "respondents.csv", index=False)
        survey.to_csv(folder / "survey.csv", index=False)
        code = cli.main(["validate", str(folder), "--out", str(folder.parent / "out")])
        assert code == (2 if drop_column or duplicate_id else 0)
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)
