"""Table readers on files the tests write and on real Qualtrics and SPSS exports."""

import pandas as pd
import pyreadstat
import pytest

from research.errors import StudyError
from research.inputs.tables import read_table


def test_csv_ids_stay_strings_with_leading_zeros(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("respondent_id,company_id,score\n007,010,4\n8,011,\n", "utf-8")
    frame, meta = read_table(path)
    assert frame["respondent_id"].tolist() == ["007", "8"]
    assert frame["company_id"].tolist() == ["010", "011"]
    assert pd.isna(frame.loc[1, "score"])
    assert meta["format"] == "csv"


@pytest.mark.parametrize(
    "encoding, sep, bom",
    [
        ("utf-8", ",", b"\xef\xbb\xbf"),
        ("cp1252", ";", b""),
        ("utf-16", "\t", b""),
        ("utf-8", ",", b""),
    ],
)
def test_csv_encodings_as_excel_writes_them(tmp_path, encoding, sep, bom):
    text = sep.join(["respondent_id", "name"]) + "\r\n" + sep.join(["01", "Zoë Müller"]) + "\r\n"
    path = tmp_path / "r.csv"
    path.write_bytes(bom + text.encode(encoding))
    frame, _ = read_table(path)
    assert list(frame.columns) == ["respondent_id", "name"]
    assert frame.loc[0, "name"] == "Zoë Müller"
    assert frame.loc[0, "respondent_id"] == "01"


def test_xlsx_written_by_openpyxl_keeps_text_ids_and_whole_numbers(tmp_path):
    path = tmp_path / "r.xlsx"
    pd.DataFrame(
        {"respondent_id": ["007", "008"], "company_size": [120, 45], "share": [0.5, 1.25]}
    ).to_excel(path, index=False)
    frame, meta = read_table(path)
    assert meta["format"] == "xlsx"
    assert frame["respondent_id"].tolist() == ["007", "008"]
    assert frame["company_size"].tolist() == ["120", "45"]
    assert frame["share"].tolist() == ["0.5", "1.25"]


def test_qualtrics_export_drops_question_text_and_import_id_rows(real):
    frame, meta = read_table(real / "qualtrics" / "sample.csv")
    assert meta["format"] == "qualtrics"
    assert len(frame) == 1
    assert frame.loc[0, "ResponseId"] == "R_2YPOQ602ER1jkf1"
    assert frame.loc[0, "Q1"] == "2" and frame.loc[0, "Finished"] == "1"
    assert meta["question_text"]["Q1"] == "This is a multiple choice question."
    assert meta["import_ids"]["Q1"] == "QID1"


def test_legacy_qualtrics_export_takes_real_names_from_the_second_row(real):
    frame, meta = read_table(real / "qualtrics" / "sample_legacy.csv")
    assert meta["format"] == "qualtrics-legacy"
    assert len(frame) == 1
    assert frame.loc[0, "ResponseID"] == "R_2YPOQ602ER1jkf1"
    assert frame.loc[0, "Finished"] == "1"
    assert frame.loc[0, "Q2"] == "Hello World!"


def test_spss_user_missing_codes_become_missing(real):
    frame, meta = read_table(real / "spss" / "missing_test.sav", apply_labels=False)
    assert meta["format"] == "sav"
    # var1 == 1 is declared user-missing in the file; 2 is a valid value.
    assert pd.isna(frame.loc[0, "var1"]) and frame.loc[1, "var1"] == "2"


def test_spss_value_labels_applied_for_attributes_and_codes_kept_for_answers(real):
    labelled, _ = read_table(real / "spss" / "sample.sav", apply_labels=True)
    coded, _ = read_table(real / "spss" / "sample.sav", apply_labels=False)
    assert labelled.loc[0, "mylabl"] == "Male" and coded.loc[0, "mylabl"] == "1"
    assert labelled.loc[2, "myord"] == "high" and coded.loc[2, "myord"] == "3"
    assert coded.loc[0, "mynum"] == "1.1"


def test_spss_written_here_with_user_missing_range(tmp_path):
    path = tmp_path / "s.sav"
    df = pd.DataFrame({"respondent_id": ["001", "002", "003"], "Q1": [1.0, 9.0, 4.0]})
    pyreadstat.write_sav(
        df,
        str(path),
        missing_ranges={"Q1": [9]},
        variable_value_labels={"Q1": {1: "Low", 9: "No answer"}},
    )
    frame, _ = read_table(path, apply_labels=False)
    assert frame["respondent_id"].tolist() == ["001", "002", "003"]
    assert frame.loc[0, "Q1"] == "1" and pd.isna(frame.loc[1, "Q1"]) and frame.loc[2, "Q1"] == "4"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.csv", b"", "empty"),
        ("broken.xlsx", b"not a zip", "zip"),
        ("broken.sav", b"not spss", "SPSS"),
        ("table.json", b"{}", "unsupported"),
    ],
)
def test_unreadable_tables_are_fatal_with_the_file_named(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(StudyError) as err:
        read_table(path)
    assert name in str(err.value) and message in str(err.value)


def test_duplicate_header_is_fatal_naming_the_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("respondent_id,Q1,Q1\n1,2,3\n")
    with pytest.raises(StudyError, match="column 'Q1'"):
        read_table(path)
