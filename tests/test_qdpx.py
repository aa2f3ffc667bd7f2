"""REFI-QDA import on a real NVivo project, export round trip, and untrusted archives."""

import zipfile

import pytest

from research.analysis import interviews
from research.errors import StudyError
from research.inputs import qdpx
from research.report import qdpx_export


def test_nvivo_project_imports_sources_codes_and_coders(real):
    project = qdpx.read_qdpx(real / "refi-qda" / "nvivo-oltas0517.qdpx")
    assert set(project.users["name"]) == {"Gergo", "floriansipos"}
    assert set(project.sources["name"]) == {"videos_selection", "videos_10_selected"}
    assert all(len(t) > 100_000 for t in project.sources["text"])
    assert len(project.codes) > 50 and "COVID" in set(project.codes["name"])
    assert "1. Oltás típusa / COVID" in set(project.codes["path"])  # nested codebook kept as a path
    assert set(project.codings["coder"]) == {"Gergo", "floriansipos"}
    # NVivo writes one selection per code applied: each (span, code, coder) is kept once
    assert not project.codings.duplicated().any()
    codes = qdpx.manual_codes(project)
    assert set(codes.columns) == {"interview_id", "segment", "coder", "theme"} and len(codes) > 0


def test_export_round_trips_sources_codes_coders_and_cases(demo_study, tmp_path):
    coded = interviews.coded_segments(demo_study)
    path = qdpx_export.export_study(demo_study, coded, tmp_path / "coded.qdpx")
    back = qdpx.read_qdpx(path)
    assert set(back.sources["name"]) == set(demo_study.interviews["interview_id"])
    assert list(back.codes["name"]) == [t.label for t in demo_study.codebook.themes]
    assert set(back.users["name"]) == {"research-codebook", "coder_a", "coder_b"}
    cases = qdpx.case_attributes(back).set_index("case")
    assert len(cases) == len(demo_study.interviews)
    assert set(cases["role"]) == {"marketing", "sales"}
    # the human coders' codes come back on the same segments
    codes = qdpx.manual_codes(back, demo_study.codebook)
    for coder in ("coder_a", "coder_b"):
        got = set(
            map(
                tuple,
                codes[codes["coder"] == coder][
                    ["interview_id", "segment", "theme"]
                ].values.tolist(),
            )
        )
        want = set(
            map(
                tuple,
                demo_study.manual_codes[demo_study.manual_codes["coder"] == coder][
                    ["interview_id", "segment", "theme"]
                ].values.tolist(),
            )
        )
        assert got == want
    auto = codes[codes["coder"] == "research-codebook"]
    want_auto = {
        (r.interview_id, r.segment, t) for r in coded.itertuples() for t in r.themes.split(";") if t
    }
    assert set(map(tuple, auto[["interview_id", "segment", "theme"]].values.tolist())) == want_auto
    # no real names in the exported project
    text = zipfile.ZipFile(path).read("project.qde").decode() + "".join(back.sources["text"])
    for name in set(demo_study.turns["speaker"]) - {"Interviewer"}:
        assert name not in text


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_path_traversal_member_is_refused(tmp_path):
    path = _zip(tmp_path / "evil.qdpx", {"project.qde": "<Project/>", "../../etc/passwd": "x"})
    with pytest.raises(StudyError, match="leaves the archive"):
        qdpx.read_qdpx(path)


def test_zip_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.qdpx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(StudyError, match="compression ratio"):
        qdpx.read_qdpx(path)


def test_xml_entity_expansion_is_refused(tmp_path):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        '<Project xmlns="urn:QDA-XML:project:1.0">&lol2;</Project>'
    )
    path = _zip(tmp_path / "lol.qdpx", {"project.qde": bomb})
    with pytest.raises(StudyError, match=r"entity expansion\) refused|refused or invalid XML"):
        qdpx.read_qdpx(path)


def test_not_a_qdpx(tmp_path):
    path = _zip(tmp_path / "x.qdpx", {"readme.txt": "hello"})
    with pytest.raises(StudyError, match="no project.qde"):
        qdpx.read_qdpx(path)
