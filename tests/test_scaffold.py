"""``research new``: a new, empty study folder whose templates have exactly the columns the study
needs."""

import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from research.inputs.config import KEY_RULES, read_config
from research.inputs.tables import read_table
from research.inputs.transcripts import read_transcript
from research.run.scaffold import INTERVIEW_COLUMNS, new_study
from research.spec.decisions import load_decision_table
from research.spec.instruments import load_instrument
from tests.conftest import SMALL_INSTRUMENT

SPEC_KEYS = [
    "name",
    "respondents",
    "survey",
    "survey_id_column",
    "include_unfinished",
    "instruments",
    "roles",
    "interviews",
    "transcripts",
    "codebook",
    "manual_codes",
    "open_ended",
    "outcomes",
    "decision_table",
]


def research(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "research.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def header(path):
    frame, _ = read_table(path)
    assert frame.empty, f"{path.name} should hold a header only"
    return list(frame.columns)


def decision_attributes():
    fields = [
        c.field
        for rule in load_decision_table("builtin:default").rules
        for c in (*rule.all, *rule.any)
    ]
    return list(dict.fromkeys(f.removeprefix("attr:") for f in fields if f.startswith("attr:")))


@pytest.fixture
def custom_instrument(tmp_path):
    path = tmp_path / "elsewhere" / "mini.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(SMALL_INSTRUMENT), "utf-8")
    return path


def test_builtin_instruments_give_survey_columns_exactly_their_item_ids(tmp_path):
    root = new_study(tmp_path / "study")
    items = (
        load_instrument("builtin:smr").item_ids + load_instrument("builtin:perceptions").item_ids
    )
    assert header(root / "survey.csv") == header(root / "survey.xlsx") == ["respondent_id", *items]
    attributes = decision_attributes()
    assert {
        "company_size",
        "offering",
        "sales_cycle",
        "market_change",
        "reporting",
        "conflict",
        "funnel_feasible",
    } == set(attributes)
    assert (
        header(root / "respondents.csv")
        == header(root / "respondents.xlsx")
        == ["respondent_id", "company_id", "role", *attributes]
    )
    assert (
        header(root / "interviews.csv")
        == INTERVIEW_COLUMNS
        == ["interview_id", "respondent_id", "file", "interviewer"]
    )


def test_a_custom_instrument_is_copied_in_and_its_items_are_the_columns(
    tmp_path, custom_instrument
):
    root = new_study(tmp_path / "study", ["builtin:smr", str(custom_instrument)])
    assert (root / "mini.yaml").read_bytes() == custom_instrument.read_bytes()
    config = read_config(root)
    assert config["instruments"] == [
        "builtin:smr",
        "mini.yaml",
    ]  # relative: the folder is self-contained
    items = load_instrument("builtin:smr").item_ids + ["M1", "M2", "M3", "M4"]
    assert header(root / "survey.csv") == header(root / "survey.xlsx") == ["respondent_id", *items]
    only = new_study(tmp_path / "only", [str(custom_instrument)])
    assert header(only / "survey.csv") == ["respondent_id", "M1", "M2", "M3", "M4"]


def test_study_yaml_parses_explains_every_key_and_comments_out_the_optional_ones(tmp_path):
    root = new_study(tmp_path / "study", name="Pharma: 2026")
    text = (root / "study.yaml").read_text("utf-8")
    parsed = yaml.safe_load(text)
    assert parsed["name"] == "Pharma: 2026"
    assert set(parsed) == {name for name, rule in KEY_RULES.items() if rule.required} | {"survey"}
    assert parsed["respondents"] == "respondents.csv" and parsed["survey"] == "survey.csv"
    assert not any(str(v).startswith("/") for v in parsed.values())  # paths are relative
    lines = text.splitlines()
    for key in SPEC_KEYS:
        at = next(i for i, line in enumerate(lines) if re.match(rf"(# )?{key}:", line))
        assert lines[at - 1].startswith("# "), f"{key} has no comment explaining it"
        assert lines[at].startswith("# ") == (key not in parsed), key
    config = read_config(root)  # the toolkit's own reader accepts it
    assert config["roles"]["marketing"] and config["roles"]["sales"]
    # uncommenting the optional keys gives valid settings too
    uncommented = re.sub(r"^# ([a-z_]+:)", r"\1", text, flags=re.M)
    assert set(SPEC_KEYS) <= set(yaml.safe_load(uncommented))


def test_every_example_transcript_reads_as_the_same_four_turns(tmp_path):
    root = new_study(tmp_path / "study")
    files = sorted(p.name for p in (root / "transcripts").iterdir())
    assert files == ["example.docx", "example.srt", "example.txt", "example.vtt"]
    turns = {}
    for name in files:
        t = read_transcript(root / "transcripts" / name)
        assert t.warning is None
        turns[name] = t.turns[["turn", "speaker", "text"]].values.tolist()
    first = turns["example.txt"]
    assert [speaker for _, speaker, _ in first] == [
        "Interviewer",
        "Alex Example",
        "Interviewer",
        "Alex Example",
    ]
    assert all(t == first for t in turns.values())


def test_excel_templates_explain_their_columns_on_a_second_sheet(tmp_path):
    root = new_study(tmp_path / "study")
    sheets = pd.read_excel(root / "survey.xlsx", sheet_name=None, header=None, engine="calamine")
    assert list(sheets) == ["survey", "how to fill in"]
    assert "SMR01" in sheets["how to fill in"][0].tolist()


def test_cli_new_then_validate_says_what_to_fill_in_first_then_passes(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    out = research("new", "../studies/acme", cwd=work)  # relative to the current folder
    assert out.returncode == 0, out.stderr
    root = tmp_path / "studies" / "acme"
    assert (root / "study.yaml").is_file() and "respondents.csv" in out.stdout
    out = research("validate", root, cwd=work)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "respondents.csv" in lines[0] and "only a header" in lines[0], (
        out.stderr
    )
    # the researcher fills in the respondents: the folder is otherwise valid as written
    with open(root / "respondents.csv", "a", encoding="utf-8") as f:
        f.write(
            "007,C-1,marketing,120,no,standard,slow,separate,long,yes\n008,C-1,VP Sales,,,,,,,\n"
        )
    out = research("validate", root, cwd=work)
    assert out.returncode == 0, out.stderr
    assert "2 respondents" in out.stdout
    # and then the interviews, with the example transcript
    text = (root / "study.yaml").read_text("utf-8")
    (root / "study.yaml").write_text(
        re.sub(r"^# (interviews|transcripts|codebook):", r"\1:", text, flags=re.M), "utf-8"
    )
    with open(root / "interviews.csv", "a", encoding="utf-8") as f:
        f.write("I1,007,example.txt,Interviewer\n")
    out = research("validate", root, cwd=work)
    assert out.returncode == 0, out.stderr
    assert "1 interviews read" in out.stdout and "No data-quality problems" in out.stdout


def test_cli_new_with_a_custom_instrument(tmp_path, custom_instrument):
    out = research(
        "new", "s", "--instruments", "builtin:perceptions", custom_instrument, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    items = load_instrument("builtin:perceptions").item_ids + ["M1", "M2", "M3", "M4"]
    assert header(tmp_path / "s" / "survey.csv") == ["respondent_id", *items]


def test_cli_new_refuses_a_non_empty_folder_and_writes_nothing(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", "utf-8")
    out = research("new", target, cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "not empty" in lines[0]
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert research("new", empty, cwd=tmp_path).returncode == 0  # an empty folder is fine
    assert (empty / "study.yaml").is_file()


def test_cli_new_with_a_bad_instrument_exits_2_before_writing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nitems: []\n", "utf-8")
    for ref in (bad, tmp_path / "missing.yaml", "builtin:nope"):
        out = research("new", "s", "--instruments", ref, cwd=tmp_path)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert not (tmp_path / "s").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]  # no temporary folder left behind
