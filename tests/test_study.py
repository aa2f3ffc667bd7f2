"""Reading a study (SPEC §1, §4): every fatal error and every problem word, on studies written
here."""

import pandas as pd
import pytest
import yaml

from research.errors import StudyError
from research.files import checksum_folder
from research.inputs.quality import QUALITY_COLUMNS
from research.inputs.study import read_study

from .conftest import SMALL_INSTRUMENT


def problems(study, word):
    q = study.quality.frame()
    return q[q["problem"] == word]


def test_small_study_reads_and_scores_with_reverse_keys(small_study):
    study = read_study(small_study())
    scores = study.scores.set_index("respondent_id")
    # respondent 001: M1=5, M2=1 (reverse -> 5), M3=5, M4=4 -> one = 5, two = 4.5, total =
    # mean(5,5,5,4)*4
    assert scores.loc["001", "one"] == 5.0 and scores.loc["001", "two"] == 4.5
    assert scores.loc["001", "mini_total"] == pytest.approx(19.0)
    assert scores.loc["001", "band"] == "high"
    assert dict(
        zip(study.respondents["respondent_id"], study.respondents["role"], strict=True)
    ) == {"001": "marketing", "002": "sales", "003": "marketing", "004": "sales"}
    assert study.quality.frame().empty


def test_response_labels_match_case_insensitively_and_blanks_are_missing_not_problems(small_study):
    survey = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004"],
            "M1": ["sa", " A ", "", 3],
            "M2": [1, 2, 3, 4],
            "M3": [5, 3, 3, 1],
            "M4": [4, 3, 2, 1],
        }
    )
    study = read_study(small_study(survey=survey))
    values = study.responses[study.responses["item"] == "M1"].set_index("respondent_id")["value"]
    assert (
        values["001"] == 5 and values["002"] == 4 and pd.isna(values["003"]) and values["004"] == 3
    )
    assert study.quality.frame().empty


def test_out_of_range_and_not_a_number_become_missing_and_are_logged(small_study):
    survey = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004"],
            "M1": [6, "lots", 0, 2],
            "M2": [1, 2, 3, 4],
            "M3": [5, 3, 3, 1],
            "M4": [4, 3, 2, 1],
        }
    )
    study = read_study(small_study(survey=survey))
    oor, nan = problems(study, "out_of_range"), problems(study, "not_a_number")
    assert oor[["record", "column", "value", "action"]].values.tolist() == [
        ["001", "M1", "6", "set to missing"],
        ["003", "M1", "0", "set to missing"],
    ]
    assert nan[["record", "column", "value"]].values.tolist() == [["002", "M1", "lots"]]
    m1 = study.responses[study.responses["item"] == "M1"]["value"]
    assert m1.isna().sum() == 3
    assert list(study.quality.frame().columns) == QUALITY_COLUMNS


def test_unknown_role_leaves_the_respondent_out(small_study):
    respondents = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004"],
            "company_id": ["A", "A", "B", "B"],
            "role": ["marketing", "CFO", "marketing", "sales"],
        }
    )
    study = read_study(small_study(respondents=respondents))
    rows = problems(study, "unknown_role")
    assert rows[["record", "value", "action"]].values.tolist() == [
        ["002", "CFO", "respondent left out"]
    ]
    assert "002" not in set(study.respondents["respondent_id"])
    assert "002" not in set(study.scores["respondent_id"])
    # ...and its survey row goes with it: one fault, one row (it is not "not in the respondents
    # file", as an unknown_respondent row would say)
    assert problems(study, "unknown_respondent").empty
    assert len(study.quality.frame()) == 1


def test_interviews_of_a_respondent_left_out_for_its_role_go_with_it(small_study):
    """An unknown role leaves the respondent out with its survey row and interviews: one row
    (unknown_role); an interview of an id not in the respondents file stays unknown_respondent."""
    respondents = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004"],
            "company_id": ["A", "A", "B", "B"],
            "role": ["marketing", "CFO", "marketing", "sales"],
        }
    )
    folder = small_study(
        respondents=respondents, interviews="interviews.csv", transcripts="transcripts"
    )
    (folder / "transcripts").mkdir()
    (folder / "transcripts" / "a.txt").write_text(
        "Interviewer: How is it going?\nAna: Our leads are poor.\n", "utf-8"
    )
    pd.DataFrame(
        [
            ["I1", "001", "a.txt", "Interviewer"],
            ["I2", "002", "a.txt", "Interviewer"],
            ["I3", "002", "gone.txt", "Interviewer"],
            ["I4", "777", "a.txt", "Interviewer"],
        ],
        columns=["interview_id", "respondent_id", "file", "interviewer"],
    ).to_csv(folder / "interviews.csv", index=False)
    study = read_study(folder)
    q = study.quality.frame()
    assert q[["record", "problem"]].values.tolist() == [
        ["002", "unknown_role"],
        ["I4", "unknown_respondent"],
    ]  # no row for 002's survey row, I2 or I3 (not even missing_transcript: it is left out anyway)
    assert study.interviews["interview_id"].tolist() == ["I1"]
    assert "002" not in set(study.responses["respondent_id"])


def test_unknown_respondent_in_the_survey_is_left_out(small_study):
    survey = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004", "999"],
            "M1": [5, 4, 3, 2, 1],
            "M2": [1, 2, 3, 4, 5],
            "M3": [5, 3, 3, 1, 1],
            "M4": [4, 3, 2, 1, 1],
        }
    )
    study = read_study(small_study(survey=survey))
    assert problems(study, "unknown_respondent")[["record", "action"]].values.tolist() == [
        ["999", "survey row left out"]
    ]
    assert len(study.scores) == 4


@pytest.mark.parametrize("include", [False, True])
def test_unfinished_qualtrics_rows_are_left_out_unless_included(small_study, include):
    survey = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004"],
            "Finished": ["1", "0", "True", "False"],
            "M1": [5, 4, 3, 2],
            "M2": [1, 2, 3, 4],
            "M3": [5, 3, 3, 1],
            "M4": [4, 3, 2, 1],
        }
    )
    study = read_study(small_study(survey=survey, include_unfinished=include))
    assert problems(study, "unfinished_response")["record"].tolist() == ["002", "004"]
    assert len(study.scores) == (4 if include else 2)


def _interview_study(small_study, tmp_path, files: dict, rows: list, codes=None):
    folder = small_study(
        interviews="interviews.csv",
        transcripts="transcripts",
        **({"manual_codes": "codes.csv"} if codes is not None else {}),
    )
    (folder / "transcripts").mkdir()
    for name, text in files.items():
        (folder / "transcripts" / name).write_text(text, "utf-8")
    pd.DataFrame(rows, columns=["interview_id", "respondent_id", "file", "interviewer"]).to_csv(
        folder / "interviews.csv", index=False
    )
    if codes is not None:
        pd.DataFrame(codes, columns=["interview_id", "segment", "coder", "theme"]).to_csv(
            folder / "codes.csv", index=False
        )
    return folder


def test_interview_problems_missing_empty_and_unknown_respondent(small_study, tmp_path):
    good = (
        "Interviewer: How is it going?\nAna: Our leads are poor.\n"
        "Interviewer: Why?\nAna: Nobody follows up.\n"
    )
    folder = _interview_study(
        small_study,
        tmp_path,
        {"a.txt": good, "empty.txt": "  \n"},
        [
            ["I1", "001", "a.txt", "interviewer"],
            ["I2", "002", "gone.vtt", "Interviewer"],
            ["I3", "003", "empty.txt", "Interviewer"],
            ["I4", "777", "a.txt", "Interviewer"],
            ["I5", "004", "../respondents.csv", "Interviewer"],
        ],
    )
    study = read_study(folder)
    assert problems(study, "missing_transcript")["record"].tolist() == [
        "I2",
        "I5",
    ]  # I5 leaves the folder
    assert problems(study, "empty_transcript")["record"].tolist() == ["I3"]
    assert problems(study, "unknown_respondent")[["record", "action"]].values.tolist() == [
        ["I4", "interview left out"]
    ]
    assert study.interviews["interview_id"].tolist() == ["I1"]
    assert study.segments["segment"].tolist() == [
        2,
        4,
    ]  # turns numbered with the interviewer's included
    assert set(study.segments["role"]) == {"marketing"}


def test_manual_code_for_an_unknown_segment_is_left_out(small_study, tmp_path):
    text = "Interviewer: Hello.\nAna: We trust them.\n"
    folder = _interview_study(
        small_study,
        tmp_path,
        {"a.txt": text},
        [["I1", "001", "a.txt", "Interviewer"]],
        codes=[
            ["I1", 2, "kim", "trust"],
            ["I1", 1, "kim", "trust"],
            ["I1", 9, "lee", "trust"],
            ["I9", 2, "lee", "trust"],
            ["I1", 2, "lee", "no_such_theme"],
        ],
    )
    study = read_study(folder)
    rows = problems(study, "unknown_segment")
    assert rows["record"].tolist() == [
        "row 3",
        "row 4",
        "row 5",
        "row 6",
    ]  # interviewer turn, no turn 9, no I9, bad theme
    assert study.manual_codes[["interview_id", "segment", "coder"]].values.tolist() == [
        ["I1", 2, "kim"]
    ]


# ---- fatal errors: exit 2, one message naming the file and the column, row or key ---------------


def test_missing_study_yaml_is_fatal(tmp_path):
    with pytest.raises(StudyError, match="study.yaml not found"):
        read_study(tmp_path)


def test_invalid_yaml_is_fatal(tmp_path):
    (tmp_path / "study.yaml").write_text("name: [unclosed\n", "utf-8")
    with pytest.raises(StudyError, match="study.yaml.*not valid YAML"):
        read_study(tmp_path)


@pytest.mark.parametrize("key", ["name", "respondents", "instruments", "roles"])
def test_missing_required_key_is_fatal_naming_it(small_study, key):
    folder = small_study()
    config = yaml.safe_load((folder / "study.yaml").read_text())
    del config[key]
    (folder / "study.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(StudyError, match=f"key '{key}'"):
        read_study(folder)


def test_named_file_missing_is_fatal(small_study):
    folder = small_study()
    (folder / "survey.csv").unlink()
    with pytest.raises(StudyError, match="survey.csv"):
        read_study(folder)


@pytest.mark.parametrize("drop", ["respondent_id", "company_id", "role"])
def test_required_respondent_column_missing_is_fatal(small_study, drop):
    respondents = pd.DataFrame(
        {"respondent_id": ["1"], "company_id": ["A"], "role": ["sales"]}
    ).drop(columns=drop)
    with pytest.raises(StudyError) as err:
        read_study(small_study(respondents=respondents))
    assert "respondents.csv" in str(err.value) and f"column '{drop}'" in str(err.value)


def test_item_column_missing_from_the_survey_is_fatal(small_study):
    survey = pd.DataFrame({"respondent_id": ["001"], "M1": [5], "M2": [1], "M3": [5]})
    with pytest.raises(StudyError, match="survey.csv: column 'M4'"):
        read_study(small_study(survey=survey))


def test_duplicate_respondent_id_is_fatal_naming_the_row(small_study):
    respondents = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "001"],
            "company_id": ["A", "A", "B"],
            "role": ["sales", "marketing", "sales"],
        }
    )
    with pytest.raises(
        StudyError,
        match=r"respondents.csv: row 4, column 'respondent_id': duplicate respondent_id '001'",
    ):
        read_study(small_study(respondents=respondents))


def test_invalid_instrument_is_fatal(small_study):
    with pytest.raises(StudyError, match="mini.yaml.*response_scale"):
        read_study(small_study(instruments=[{**SMALL_INSTRUMENT, "response_scale": {"min": 1}}]))


def test_unknown_builtin_is_fatal(small_study):
    with pytest.raises(StudyError, match="builtin:nope"):
        read_study(small_study(instruments=["builtin:nope"]))


def test_invalid_codebook_and_decision_table_are_fatal(small_study):
    folder = small_study(codebook="cb.yaml", decision_table="dt.yaml")
    (folder / "cb.yaml").write_text(
        yaml.safe_dump({"themes": [{"id": "x", "patterns": ["re:(unclosed"]}]})
    )
    (folder / "dt.yaml").write_text(yaml.safe_dump({"rules": [{"id": "r"}]}))
    with pytest.raises(StudyError, match=r"cb.yaml: key 'themes\[0\].patterns\[0\]'"):
        read_study(folder)
    (folder / "cb.yaml").write_text(yaml.safe_dump({"themes": [{"id": "x", "patterns": ["fine"]}]}))
    with pytest.raises(StudyError, match=r"dt.yaml: key 'rules\[0\].action'"):
        read_study(folder)


def test_reading_never_changes_the_study_folder(demo_copy):
    before = checksum_folder(demo_copy)
    read_study(demo_copy)
    assert checksum_folder(demo_copy) == before


def test_demo_study_has_every_planted_fault_once(demo_study):
    counts = demo_study.quality.frame()["problem"].value_counts().to_dict()
    for word in (
        "out_of_range",
        "not_a_number",
        "unknown_role",
        "unfinished_response",
        "missing_transcript",
        "empty_transcript",
        "unknown_segment",
    ):
        assert counts.get(word) == 1, word
    # a designer's test row; the unknown role's survey row goes with its respondent
    assert counts.get("unknown_respondent") == 1
    assert demo_study.respondents["company_id"].nunique() >= 38
    assert len(demo_study.interviews) >= 20
    assert {p.suffix for p in (demo_study.root / "transcripts").iterdir()} >= {
        ".vtt",
        ".srt",
        ".docx",
        ".txt",
    }


# ---- the processed study, as notebooks open it ---------------------------------------------------


def test_processed_tables_read_back_as_pandas_reads_them(tmp_path, demo_study):
    from research.inputs import study as study_module

    frame = pd.DataFrame(
        {
            "text": pd.array(["a", None], dtype="str"),
            "string": pd.array(["b", None], dtype="string"),
            "count": pd.array([1, None], dtype="Int64"),
            "number": [1.5, float("nan")],
            "flag": [True, False],
            "level": pd.Categorical(["low", "high"], categories=["low", "high"], ordered=True),
            "when": pd.to_datetime(["2026-01-01 10:00", "2026-01-02 00:00"]).tz_localize(
                "Europe/Paris"
            ),
        }
    )
    frame.attrs = {"note": "kept"}
    frame.to_parquet(tmp_path / "frame.parquet", index=False)
    demo_study.save(tmp_path / "processed")
    paths = [tmp_path / "frame.parquet", *sorted((tmp_path / "processed").glob("*.parquet"))]
    for path in paths:
        ours, theirs = study_module._read_parquet(path), pd.read_parquet(path)
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
        assert list(map(str, ours.dtypes)) == list(map(str, theirs.dtypes)), path.name
        assert ours.attrs == theirs.attrs
    assert study_module._read_parquet(paths[0]).attrs == {"note": "kept"}


@pytest.fixture
def opened(demo_copy, tmp_path, monkeypatch):
    """The demo copy opened once (its processed folder written), and a count of the checksums of
    its raw folder taken afterwards."""
    from research.inputs import study as study_module

    processed = tmp_path / "processed"
    study_module.open_study(demo_copy, processed)
    taken = []

    def counted(root):
        taken.append(root)
        return checksum_folder(root)

    monkeypatch.setattr(study_module, "checksum_folder", counted)
    monkeypatch.delenv(study_module.VERIFIED_ENV, raising=False)
    return demo_copy, processed, taken


def test_open_study_checksums_the_raw_folder_unless_the_run_vouched_for_its_manifest(
    opened, tmp_path, monkeypatch
):
    from research.inputs import study as study_module

    root, processed, taken = opened
    study_module.open_study(root, processed)
    assert len(taken) == 1  # no run: checked
    vouched = tmp_path / "verified"
    monkeypatch.setenv(study_module.VERIFIED_ENV, str(vouched))
    study_module.open_study(root, processed)
    assert len(taken) == 2  # nothing vouched for yet: checked
    assert study_module.vouch_for(processed, checksum_folder(root), vouched)
    study = study_module.open_study(root, processed)
    assert len(taken) == 2  # the manifest the run checked: not checked again
    assert study.checksums == checksum_folder(root)
    assert len(study.respondents) == len(read_study(root).respondents)


def test_open_study_checksums_a_manifest_or_study_other_than_the_one_vouched_for(
    opened, tmp_path, monkeypatch
):
    import shutil

    from research.inputs import study as study_module

    root, processed, taken = opened
    vouched = tmp_path / "verified"
    monkeypatch.setenv(study_module.VERIFIED_ENV, str(vouched))
    assert study_module.vouch_for(processed, checksum_folder(root), vouched)
    manifest = processed / "manifest.json"
    manifest.write_text(manifest.read_text("utf-8") + "\n", "utf-8")  # the same data, other bytes
    study_module.open_study(root, processed)
    assert len(taken) == 1
    assert study_module.vouch_for(processed, checksum_folder(root), vouched)
    other = shutil.copytree(root, tmp_path / "other")  # the same files elsewhere
    study_module.open_study(other, processed)
    assert taken[-1] == other


def test_a_raw_folder_changed_after_the_run_vouched_is_read_again_outside_the_run(
    opened, tmp_path, monkeypatch
):
    from research.inputs import study as study_module

    root, processed, taken = opened
    vouched = tmp_path / "verified"
    assert not study_module.vouch_for(processed, {}, vouched)  # other checksums: nothing vouched
    assert not vouched.exists()
    assert study_module.vouch_for(processed, checksum_folder(root), vouched)
    respondents = next(root.glob("respondents.*"))
    respondents.write_bytes(respondents.read_bytes() + b"\n")
    before = (processed / "manifest.json").read_bytes()
    study_module.open_study(root, processed)  # no run's variable: checked, rebuilt
    assert (processed / "manifest.json").read_bytes() != before
