"""Hostile and broken input (SPEC §4): every fatal case exits 2 with one message naming the file and
the column, row or key and writes nothing; every problem word is one exact row of data_quality.csv;
archives, markup and spreadsheet formulas are defused."""

import io
import zipfile

import docx
import pandas as pd
import pytest
import yaml

from research import cli
from research.inputs.study import read_study

from .conftest import SMALL_INSTRUMENT


def run_cli(args, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    monkeypatch.chdir(work)
    code = cli.main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err, work


def edit_yaml(folder, **changes):
    config = yaml.safe_load((folder / "study.yaml").read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (folder / "study.yaml").write_text(yaml.safe_dump(config))


def _break(kind, folder):
    """Apply one fatal fault to a fresh small study; return (file named, where named)."""
    if kind == "no study.yaml":
        (folder / "study.yaml").unlink()
        return "study.yaml", "not found"
    if kind == "invalid yaml":
        (folder / "study.yaml").write_text("name: [oops\n")
        return "study.yaml", "not valid YAML"
    if kind == "unsafe yaml tag":
        (folder / "study.yaml").write_text("name: !!python/object/apply:os.system ['echo pwned']\n")
        return "study.yaml", "not valid YAML"
    if kind == "missing key":
        edit_yaml(folder, roles=None)
        return "study.yaml", "key 'roles'"
    if kind == "missing file":
        (folder / "respondents.csv").unlink()
        return "respondents.csv", "not found"
    if kind == "unreadable file":
        edit_yaml(folder, respondents="respondents.xlsx")
        (folder / "respondents.xlsx").write_bytes(b"definitely not a workbook")
        return "respondents.xlsx", "zip"
    if kind == "missing column":
        pd.read_csv(folder / "respondents.csv", dtype=str).drop(columns="company_id").to_csv(
            folder / "respondents.csv", index=False
        )
        return "respondents.csv", "column 'company_id'"
    if kind == "missing item column":
        pd.read_csv(folder / "survey.csv", dtype=str).drop(columns="M3").to_csv(
            folder / "survey.csv", index=False
        )
        return "survey.csv", "column 'M3'"
    if kind == "duplicate respondent_id":
        r = pd.read_csv(folder / "respondents.csv", dtype=str)
        pd.concat([r, r.iloc[[0]]]).to_csv(folder / "respondents.csv", index=False)
        return "respondents.csv", "row 6, column 'respondent_id'"
    if kind == "invalid instrument":
        (folder / "mini.yaml").write_text(
            yaml.safe_dump({**SMALL_INSTRUMENT, "items": [{"id": "M1", "subscale": "zzz"}]})
        )
        return "mini.yaml", "key 'items[0].subscale'"
    if kind == "invalid codebook":
        edit_yaml(folder, codebook="cb.yaml", open_ended=[])
        (folder / "cb.yaml").write_text(yaml.safe_dump({"themes": [{"id": "a", "patterns": []}]}))
        return "cb.yaml", "key 'themes[0].patterns'"
    if kind == "invalid decision table":
        edit_yaml(folder, decision_table="dt.yaml")
        (folder / "dt.yaml").write_text(
            yaml.safe_dump(
                {
                    "rules": [
                        {
                            "id": "r",
                            "action": "jump",
                            "circumstance": "x",
                            "when": {"all": [{"field": "band", "eq": "x"}]},
                        }
                    ]
                }
            )
        )
        return "dt.yaml", "key 'rules[0].action'"
    if kind == "empty study":
        (folder / "respondents.csv").write_text("respondent_id,company_id,role\n")
        return "respondents.csv", "holds no respondents"
    if kind == "no known role":
        pd.read_csv(folder / "respondents.csv", dtype=str).assign(role="finance").to_csv(
            folder / "respondents.csv", index=False
        )
        return "respondents.csv", "no respondent with a known role"
    raise AssertionError(kind)


FATAL = [
    "no study.yaml",
    "invalid yaml",
    "unsafe yaml tag",
    "missing key",
    "missing file",
    "unreadable file",
    "missing column",
    "missing item column",
    "duplicate respondent_id",
    "invalid instrument",
    "invalid codebook",
    "invalid decision table",
    "empty study",
    "no known role",
]


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("kind", FATAL)
def test_fatal_input_exits_2_with_one_line_naming_file_and_place_and_writes_nothing(
    kind, command, small_study, tmp_path, monkeypatch, capsys
):
    folder = small_study()
    file, where = _break(kind, folder)
    code, out, err, work = run_cli([command, folder], tmp_path, monkeypatch, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("research: error: ")
    assert file in lines[0] and where in lines[0], lines[0]
    assert "Traceback" not in err
    assert not (work / "data").exists() and not (work / "reports").exists()


def quality_rows(folder, tmp_path, monkeypatch, capsys):
    code, _, err, work = run_cli(["validate", folder], tmp_path, monkeypatch, capsys)
    assert code == 0, err
    return pd.read_csv(
        work / "reports" / "_scratch" / "test-study" / "tables" / "data_quality.csv",
        dtype=str,
        keep_default_na=False,
    )


def test_each_problem_word_is_one_exact_row(small_study, tmp_path, monkeypatch, capsys):
    respondents = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004", "005"],
            "company_id": ["A", "A", "B", "B", "C"],
            "role": ["marketing", "VP Sales", "Marketing Manager", "sales", "Chief of Staff"],
        }
    )
    survey = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004", "099"],
            "Finished": ["1", "1", "1", "0", "1"],
            "M1": ["7", "lots", "SA", "2", "3"],
            "M2": [1, 2, 3, 4, 5],
            "M3": [5, 3, 3, 1, 1],
            "M4": [4, 3, 2, 1, 1],
        }
    )
    folder = small_study(
        respondents=respondents,
        survey=survey,
        interviews="interviews.csv",
        transcripts="tr",
        manual_codes="codes.csv",
    )
    (folder / "tr").mkdir()
    (folder / "tr" / "a.txt").write_text("Interviewer: Hi.\nAna: We trust sales.\n")
    (folder / "tr" / "empty.vtt").write_text("")
    pd.DataFrame(
        [
            ["I1", "001", "a.txt", "Interviewer"],
            ["I2", "002", "lost.txt", "Interviewer"],
            ["I3", "003", "empty.vtt", "Interviewer"],
            ["I4", "777", "a.txt", "Interviewer"],
        ],
        columns=["interview_id", "respondent_id", "file", "interviewer"],
    ).to_csv(folder / "interviews.csv", index=False)
    pd.DataFrame(
        [["I1", 2, "kim", "trust"], ["I1", 5, "kim", "trust"]],
        columns=["interview_id", "segment", "coder", "theme"],
    ).to_csv(folder / "codes.csv", index=False)
    rows = quality_rows(folder, tmp_path, monkeypatch, capsys)
    got = {
        tuple(r)
        for r in rows[["source", "record", "column", "value", "problem", "action"]].itertuples(
            index=False
        )
    }
    expected = {
        ("respondents.csv", "005", "role", "Chief of Staff", "unknown_role", "respondent left out"),
        ("survey.csv", "004", "Finished", "0", "unfinished_response", "left out"),
        ("survey.csv", "099", "respondent_id", "099", "unknown_respondent", "survey row left out"),
        ("survey.csv", "001", "M1", "7", "out_of_range", "set to missing"),
        ("survey.csv", "002", "M1", "lots", "not_a_number", "set to missing"),
        ("interviews.csv", "I2", "file", "lost.txt", "missing_transcript", "interview left out"),
        (
            "interviews.csv",
            "I3",
            "file",
            "empty.vtt",
            "empty_transcript",
            "interview left out: the file holds no text",
        ),
        (
            "interviews.csv",
            "I4",
            "respondent_id",
            "777",
            "unknown_respondent",
            "interview left out",
        ),
        ("codes.csv", "row 3", "segment", "I1/5", "unknown_segment", "manual code left out"),
    }
    assert got == expected


def test_include_unfinished_keeps_the_row_and_says_so(small_study, tmp_path, monkeypatch, capsys):
    survey = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004"],
            "Finished": ["1", "1", "1", "False"],
            "M1": [5, 4, 3, 2],
            "M2": [1, 2, 3, 4],
            "M3": [5, 3, 3, 1],
            "M4": [4, 3, 2, 1],
        }
    )
    rows = quality_rows(
        small_study(survey=survey, include_unfinished=True), tmp_path, monkeypatch, capsys
    )
    assert rows[["record", "problem", "action"]].values.tolist() == [
        ["004", "unfinished_response", "kept (include_unfinished: true)"]
    ]


@pytest.mark.parametrize(
    "encoding, sep, bom",
    [("utf-8", ",", b"\xef\xbb\xbf"), ("cp1252", ";", b""), ("utf-16", "\t", b"")],
)
def test_respondent_files_in_the_encodings_excel_writes(small_study, encoding, sep, bom):
    folder = small_study()
    r = pd.read_csv(folder / "respondents.csv", dtype=str).assign(
        region=["Zürich", "Málaga", "Øst", "Köln"]
    )
    (folder / "respondents.csv").write_bytes(
        bom + r.to_csv(index=False, sep=sep, lineterminator="\r\n").encode(encoding)
    )
    study = read_study(folder)
    assert study.respondents["region"].tolist() == ["Zürich", "Málaga", "Øst", "Köln"]
    assert study.respondents["respondent_id"].tolist() == ["001", "002", "003", "004"]


def test_ids_that_look_like_numbers_stay_text_and_match_exactly(small_study):
    respondents = pd.DataFrame(
        {
            "respondent_id": ["007", "1e3", "12.50", "0x1F"],
            "company_id": ["01", "01", "2", "2"],
            "role": ["marketing", "sales", "marketing", "sales"],
        }
    )
    survey = pd.DataFrame(
        {
            "respondent_id": ["007", "1e3", "12.50", "7"],
            "M1": [5, 4, 3, 2],
            "M2": [1, 2, 3, 4],
            "M3": [5, 3, 3, 1],
            "M4": [4, 3, 2, 1],
        }
    )
    study = read_study(small_study(respondents=respondents, survey=survey))
    assert sorted(study.scores["respondent_id"]) == ["007", "12.50", "1e3"]
    assert set(study.respondents["company_id"]) == {"01", "2"}
    q = study.quality.frame()
    assert q[q["problem"] == "unknown_respondent"]["record"].tolist() == ["7"]  # "7" is not "007"


def test_blank_ids_are_logged_and_left_out(small_study):
    respondents = pd.DataFrame(
        {
            "respondent_id": ["001", "", "003", "004"],
            "company_id": ["A", "A", "", "B"],
            "role": ["marketing", "sales", "marketing", "sales"],
        }
    )
    study = read_study(small_study(respondents=respondents))
    q = study.quality.frame()
    assert q[q["problem"] == "blank_id"][["record", "column"]].values.tolist() == [
        ["row 3", "respondent_id"],
        ["003", "company_id"],
    ]
    assert "" not in set(study.respondents["respondent_id"])


def test_an_item_answered_by_nobody_gives_missing_statistics_with_a_reason(small_study):
    from research.analysis import compare, reliability

    survey = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004"],
            "M1": [5, 4, 3, 2],
            "M2": [1, 2, 3, 4],
            "M3": ["", "", "", ""],
            "M4": [4, 3, 2, 1],
        }
    )
    study = read_study(small_study(survey=survey))
    inst = study.instrument("mini")
    items = compare.item_comparison(study.responses, inst).set_index("item")
    assert pd.isna(items.loc["M3", "p"]) and "0 marketing values" in items.loc["M3", "note"]
    rel = reliability.reliability(study.responses, inst)
    assert (
        rel.loc[(rel["scale"] == "two") & (rel["group"] == "all"), "note"]
        .str.contains("alpha not computed")
        .all()
    )


def test_only_one_function_gives_missing_comparisons_with_a_reason(small_study):
    from research.analysis import companies, compare

    respondents = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004"],
            "company_id": ["A", "A", "B", "B"],
            "role": ["marketing"] * 4,
        }
    )
    study = read_study(small_study(respondents=respondents))
    inst = study.instrument("mini")
    scales = compare.scale_comparison(study.scores, inst)
    assert scales["p"].isna().all() and scales["note"].str.contains("0 sales values").all()
    dyads = compare.dyad_comparison(study.scores, inst)
    assert (dyads["n_pairs"] == 0).all() and dyads["note"].str.contains("0 companies").all()
    summary, rules = companies.company_summary(study)
    assert (
        summary["gap"].isna().all()
        and summary["recommendations"].str.contains("hear-both-sides").all()
    )


def _docx_bytes(lines):
    buf = io.BytesIO()
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(buf)
    return buf.getvalue()


def _rezip(data: bytes, extra: dict, replace: dict | None = None) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info, (replace or {}).get(info.filename, src.read(info)))
        for name, payload in extra.items():
            dst.writestr(name, payload)
    return out.getvalue()


DTD = (
    b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>&b;</w:t>"
    b"</w:r></w:p></w:body></w:document>"
)


@pytest.mark.parametrize(
    "attack, message",
    [
        ("traversal", "path leaves the archive"),
        ("bomb", "compression ratio"),
        ("entities", "entity expansion"),
    ],
)
def test_hostile_docx_transcripts_are_left_out_with_a_clear_reason(attack, message, small_study):
    good = _docx_bytes(["Interviewer: Hello.", "Ana: We plan together."])
    payload = {
        "traversal": lambda: _rezip(good, {"../../evil.sh": "rm -rf /"}),
        "bomb": lambda: _rezip(good, {"word/media/big.bin": b"\0" * (30 * 1024 * 1024)}),
        "entities": lambda: _rezip(good, {}, {"word/document.xml": DTD}),
    }[attack]()
    folder = small_study(interviews="interviews.csv", transcripts="tr")
    (folder / "tr").mkdir()
    (folder / "tr" / "ok.docx").write_bytes(good)
    (folder / "tr" / "bad.docx").write_bytes(payload)
    pd.DataFrame(
        [["I1", "001", "ok.docx", "Interviewer"], ["I2", "002", "bad.docx", "Interviewer"]],
        columns=["interview_id", "respondent_id", "file", "interviewer"],
    ).to_csv(folder / "interviews.csv", index=False)
    study = read_study(folder)
    q = study.quality.frame()
    row = q[q["record"] == "I2"].iloc[0]
    assert row["problem"] == "invalid_transcript" and message in row["action"]
    assert study.interviews["interview_id"].tolist() == ["I1"]


@pytest.mark.parametrize(
    "attack, message",
    [
        ("traversal", "path leaves the archive"),
        ("bomb", "compression ratio"),
        ("entities", "entity expansion"),
    ],
)
def test_hostile_xlsx_is_fatal_with_a_clear_message(
    attack, message, small_study, tmp_path, monkeypatch, capsys
):
    folder = small_study()
    buf = io.BytesIO()
    pd.read_csv(folder / "respondents.csv", dtype=str).to_excel(buf, index=False)
    good = buf.getvalue()
    payload = {
        "traversal": lambda: _rezip(good, {"../evil.txt": "x"}),
        "bomb": lambda: _rezip(good, {"xl/media/big.bin": b"\0" * (30 * 1024 * 1024)}),
        "entities": lambda: _rezip(good, {}, {"xl/worksheets/sheet1.xml": DTD}),
    }[attack]()
    (folder / "respondents.xlsx").write_bytes(payload)
    edit_yaml(folder, respondents="respondents.xlsx")
    code, _, err, _ = run_cli(["validate", folder], tmp_path, monkeypatch, capsys)
    assert code == 2 and "respondents.xlsx" in err and message in err


def test_spreadsheet_formulas_in_data_are_neutralised_in_csv_outputs(
    small_study, tmp_path, monkeypatch, capsys
):
    respondents = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004"],
            "company_id": ["A", "A", "B", "B"],
            "role": ["marketing", "sales", '=HYPERLINK("http://x.example","click")', "sales"],
        }
    )
    survey = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004"],
            "M1": ["@SUM(A1:A9)", 4, 3, "-2+3"],
            "M2": [1, 2, 3, 4],
            "M3": [5, 3, 3, 1],
            "M4": [4, 3, 2, 1],
        }
    )
    rows = quality_rows(
        small_study(respondents=respondents, survey=survey), tmp_path, monkeypatch, capsys
    )
    values = set(rows["value"])
    assert '\'=HYPERLINK("http://x.example","click")' in values
    assert "'@SUM(A1:A9)" in values and "'-2+3" in values
    assert not any(v.startswith(("=", "+", "@")) for v in values)


def test_transcripts_without_speaker_labels_are_left_out_naming_the_file(small_study):
    """No line or cue names a speaker: the interviewer's questions cannot be told from the answers,
    so the interview is left out (invalid_transcript naming the file), whatever the format."""
    folder = small_study(interviews="interviews.csv", transcripts="transcripts")
    tr = folder / "transcripts"
    tr.mkdir()
    (tr / "plain.txt").write_text(
        "How do marketing and sales work together?\nSales only cares about this quarter.\n"
    )
    (tr / "plain.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nHow do you work together?\n\n"
        "00:00:03.000 --> 00:00:06.000\nWe meet weekly.\n"
    )
    (tr / "plain.srt").write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nHow do you work together?\n\n"
        "2\n00:00:03,000 --> 00:00:06,000\nWe meet weekly.\n"
    )
    (tr / "plain.docx").write_bytes(_docx_bytes(["How do you work together?", "We meet weekly."]))
    (tr / "good.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Interviewer>How is it going?</v>\n\n"
        "00:00:03.000 --> 00:00:06.000\n<v Tom>Marketing is out of touch.</v>\n"
    )
    files = ["plain.txt", "plain.vtt", "plain.srt", "plain.docx", "good.vtt"]
    pd.DataFrame(
        [[f"I{n}", "001", f, "Interviewer"] for n, f in enumerate(files, 1)],
        columns=["interview_id", "respondent_id", "file", "interviewer"],
    ).to_csv(folder / "interviews.csv", index=False)
    study = read_study(folder)
    q = study.quality.frame()
    why = "interview left out: no speaker labels: write each turn as `Name: text`"
    assert q[["record", "column", "value", "problem", "action"]].values.tolist() == [
        ["I1", "file", "plain.txt", "invalid_transcript", why],
        ["I2", "file", "plain.vtt", "invalid_transcript", why + " (or `<v Name>text</v>`)"],
        ["I3", "file", "plain.srt", "invalid_transcript", why],
        ["I4", "file", "plain.docx", "invalid_transcript", why],
    ]  # and no no_interviewer_turns row: nothing of these interviews is coded
    assert study.interviews["interview_id"].tolist() == ["I5"]
    assert study.segments["text"].tolist() == ["Marketing is out of touch."]


def test_labels_none_of_them_the_interviewer_keep_the_interview_and_name_file_and_speakers(
    small_study,
):
    folder = small_study(interviews="interviews.csv", transcripts="transcripts")
    (folder / "transcripts").mkdir()
    (folder / "transcripts" / "acme.txt").write_text(
        "Q: How do you work together?\nAna Ruiz: We meet weekly.\nQ: Anything else?\n"
        "Ana Ruiz: No.\n"
    )
    pd.DataFrame(
        [["I1", "001", "acme.txt", "Interviewer"], ["I2", "002", "acme.txt", ""]],
        columns=["interview_id", "respondent_id", "file", "interviewer"],
    ).to_csv(folder / "interviews.csv", index=False)
    study = read_study(folder)
    q = study.quality.frame()
    assert q[["record", "column", "value", "problem", "action"]].values.tolist() == [
        [
            "I1",
            "interviewer",
            "Interviewer",
            "no_interviewer_turns",
            "kept; every turn coded: no speaker of transcripts/acme.txt is the interviewer "
            "'Interviewer' (speakers: 'Q', 'Ana Ruiz')",
        ],
        [
            "I2",
            "interviewer",
            "",
            "no_interviewer_turns",
            "kept; every turn coded: no speaker of transcripts/acme.txt is the interviewer "
            "(no interviewer label given) (speakers: 'Q', 'Ana Ruiz')",
        ],
    ]
    assert study.interviews["interview_id"].tolist() == ["I1", "I2"]
    assert len(study.segments) == 8  # every turn of both is coded, as the row says
