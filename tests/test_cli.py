"""The command line as a researcher meets it: exit codes, messages, and what is (not) written."""

import re
import subprocess
import sys

import pandas as pd
import pytest

from research.files import checksum_folder


def research(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "research.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_help_explains_each_option(tmp_path):
    out = research("run", "--help", cwd=tmp_path)
    assert out.returncode == 0
    for option in ("--out", "--processed", "--jobs", "--seed", "exit status"):
        assert option in out.stdout


def test_validate_without_company_id_exits_2_naming_file_and_column_and_writes_nothing(
    demo_copy, tmp_path
):
    path = demo_copy / "respondents.xlsx"
    frame = pd.read_excel(path, dtype=str, engine="calamine").drop(columns="company_id")
    frame.to_excel(path, index=False)
    work = tmp_path / "work"
    work.mkdir()
    out = research("validate", demo_copy, cwd=work)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "respondents.xlsx" in lines[0] and "company_id" in lines[0]
    assert "Traceback" not in out.stderr
    assert not (work / "data").exists() and not (work / "reports").exists()


def test_validate_writes_data_quality_and_summarises(demo_copy, tmp_path):
    out = research("validate", demo_copy, "--out", tmp_path / "rep", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    quality = pd.read_csv(tmp_path / "rep" / "tables" / "data_quality.csv", dtype=str)
    assert list(quality.columns) == ["source", "record", "column", "value", "problem", "action"]
    assert "out_of_range 1" in out.stdout


def test_run_on_a_broken_study_exits_2_and_keeps_the_previous_report(demo_copy, tmp_path):
    report = tmp_path / "rep"
    report.mkdir()
    (report / "index.html").write_text("previous report")
    (demo_copy / "study.yaml").write_text(
        "name: x\nroles: {marketing: [m], sales: [s]}\ninstruments: [builtin:smr]\n"
    )
    out = research(
        "run", demo_copy, "--out", report, "--processed", tmp_path / "proc", cwd=tmp_path
    )
    assert out.returncode == 2
    assert "key 'respondents'" in out.stderr
    assert (report / "index.html").read_text() == "previous report"
    assert not (tmp_path / "proc").exists()


@pytest.mark.slow
def test_run_end_to_end_writes_the_report_and_leaves_raw_files_byte_identical(demo_copy, tmp_path):
    before = checksum_folder(demo_copy)
    out = research(
        "run", demo_copy, "--out", tmp_path / "rep", "--processed", tmp_path / "proc", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert checksum_folder(demo_copy) == before
    assert (tmp_path / "rep" / "index.html").is_file()
    for table in ("data_quality", "scores"):
        assert (tmp_path / "rep" / "tables" / f"{table}.csv").is_file()
    assert (tmp_path / "proc" / "manifest.json").is_file()
    assert not list(tmp_path.glob("rep.tmp-*")) and not list(tmp_path.glob(".rep.*"))
    # progress: each notebook when it starts and ends, counted in the order of the report
    names = sorted(p.stem for p in (tmp_path / "rep").glob("0*.html"))
    for number, name in enumerate(names, start=1):
        assert re.search(rf"^\[{number}/{len(names)}\] {name} started$", out.stdout, re.M), (
            out.stdout
        )
        assert re.search(
            rf"^\[{number}/{len(names)}\] {name} done \(\d+\.\d s\)$", out.stdout, re.M
        ), out.stdout
        assert out.stdout.index(f"{name} started") < out.stdout.index(f"{name} done")


def test_validate_writes_to_the_scratch_folder_unless_told_and_prints_the_path(demo_copy, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    out = research("validate", demo_copy, cwd=work)
    assert out.returncode == 0, out.stderr
    written = work / "reports" / "_scratch" / "demo" / "tables" / "data_quality.csv"
    assert written.is_file()
    assert str(written) in out.stdout
    assert sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()) == [
        "reports/_scratch/demo/tables/data_quality.csv"
    ]  # no published report, no processed data


@pytest.mark.parametrize(
    ("command", "option"), [("run", "--out"), ("run", "--processed"), ("validate", "--out")]
)
def test_an_output_folder_inside_the_study_is_fatal_and_nothing_is_written(
    demo_copy, tmp_path, command, option
):
    before = listing(demo_copy)
    out = research(command, demo_copy, option, demo_copy / "reports", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and str(demo_copy / "reports") in lines[0], lines
    assert "inside the study folder" in lines[0] and "Traceback" not in out.stderr
    assert listing(demo_copy) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


@pytest.mark.parametrize("option", ["--out", "--processed"])
def test_an_output_folder_holding_the_study_is_fatal_as_it_would_be_replaced_whole(
    demo_copy, tmp_path, option
):
    before = listing(demo_copy)
    out = research("run", "demo", option, ".", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and f"{option} {tmp_path}" in lines[0]
        and "holds the study folder" in lines[0]
    ), lines
    assert listing(demo_copy) == before and sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_validate_from_inside_the_study_writes_beside_it_not_in_it(demo_copy):
    before = listing(demo_copy)
    out = research("validate", ".", cwd=demo_copy / "transcripts")
    assert out.returncode == 2 and "study.yaml" in out.stderr  # "." here is the transcripts folder
    out = research("validate", "..", cwd=demo_copy / "transcripts")
    assert out.returncode == 0, out.stderr
    assert (
        demo_copy.parent / "reports" / "_scratch" / "demo" / "tables" / "data_quality.csv"
    ).is_file()
    out = research("validate", "study.yaml", cwd=demo_copy)
    assert out.returncode == 0, out.stderr
    assert listing(demo_copy) == before


def listing(folder):
    """Every file under ``folder`` with its checksum, and every folder: a study must come out as it
    went in."""
    folders = {
        p.relative_to(folder).as_posix() + "/": "folder" for p in folder.rglob("*") if p.is_dir()
    }
    return {**checksum_folder(folder), **folders}
