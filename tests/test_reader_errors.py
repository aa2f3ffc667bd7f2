"""Each reader names the errors a broken file raises, and only those: a broken file is the
researcher's
problem (StudyError or an invalid_transcript), an unexpected error is our bug and propagates."""

import zipfile

import docx
import pandas as pd
import pyreadstat
import pytest

from research.errors import StudyError
from research.inputs import qdpx, tables, transcripts
from research.inputs.tables import read_table
from research.inputs.transcripts import TranscriptError, read_transcript

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _members(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _zip(path, members: dict, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _damage(path, member: str):
    """Overwrite the middle of a member's compressed bytes, leaving the archive's index intact."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    raw = bytearray(path.read_bytes())
    name_len = int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    raw[start : start + 64] = b"\xff" * 64
    path.write_bytes(bytes(raw))
    return path


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "good.xlsx"
    pd.DataFrame({"respondent_id": ["001", "002"], "score": [4, 5]}).to_excel(path, index=False)
    return path


def _broken_workbook(kind, workbook, tmp_path):
    path = tmp_path / "r.xlsx"
    members = _members(workbook)
    sheet = "xl/worksheets/sheet1.xml"
    if kind == "truncated":
        raw = workbook.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
    elif kind == "text renamed .xlsx":
        path.write_text("respondent_id,score\n001,4\n", "utf-8")
    elif kind == "no workbook part":  # pandas: ValueError, no worksheets
        del members["xl/workbook.xml"]
        _zip(path, members)
    elif kind == "sheet not XML":  # calamine XmlError
        members[sheet] = b"<worksheet><sheetData><row><c"
        _zip(path, members)
    elif kind == "sheet missing":  # calamine WorksheetNotFound
        del members[sheet]
        _zip(path, members)
    elif kind == "cell not a number":  # calamine CalamineError
        members[sheet] = members[sheet].replace(b"<v>4</v>", b"<v>four</v>", 1)
        assert b"<v>four</v>" in members[sheet]
        _zip(path, members)
    elif kind == "cell reference out of range":  # calamine panics (pyo3 PanicException)
        members[sheet] = members[sheet].replace(b'r="A1"', b'r="ZZZZZZZ99999999"', 1)
        _zip(path, members)
    elif kind == "damaged deflate stream":  # zlib.error or a bad CRC
        members[sheet] = members[sheet] + b"<!-- " + bytes(range(256)) * 64 + b" -->"
        _damage(_zip(path, members), sheet)
    else:
        raise AssertionError(kind)
    return path


WORKBOOK_FAULTS = [
    "truncated",
    "text renamed .xlsx",
    "no workbook part",
    "sheet not XML",
    "sheet missing",
    "cell not a number",
    "cell reference out of range",
    "damaged deflate stream",
]


@pytest.mark.parametrize("kind", WORKBOOK_FAULTS)
def test_a_broken_workbook_is_a_study_error_naming_the_file(kind, workbook, tmp_path):
    path = _broken_workbook(kind, workbook, tmp_path)
    with pytest.raises(StudyError) as err:
        read_table(path)
    assert err.value.file == "r.xlsx"
    assert "zip" in err.value.message or "not a readable Excel workbook" in err.value.message


def test_an_unexpected_error_while_reading_a_workbook_propagates(workbook, monkeypatch):
    def bug(*args, **kwargs):
        raise TypeError("a bug of ours")

    monkeypatch.setattr(tables.pd, "read_excel", bug)
    with pytest.raises(TypeError, match="a bug of ours"):
        read_table(workbook)


@pytest.fixture
def sav(tmp_path):
    path = tmp_path / "good.sav"
    frame = pd.DataFrame({"respondent_id": ["001", "002", "003"] * 50, "Q1": [1.0, 2.0, 3.0] * 50})
    pyreadstat.write_sav(frame, str(path))
    return path


@pytest.mark.parametrize(
    "kind", ["garbage", "empty", "truncated", "header only", "corrupt middle", "zip renamed .sav"]
)
def test_a_broken_spss_file_is_a_study_error_naming_the_file(kind, sav, workbook, tmp_path):
    raw = sav.read_bytes()
    content = {
        "garbage": b"not spss at all",
        "empty": b"",
        "truncated": raw[: len(raw) * 2 // 3],
        "header only": raw[:200],
        "corrupt middle": raw[:300] + b"\xff" * 200 + raw[500:],
        "zip renamed .sav": workbook.read_bytes(),
    }[kind]
    path = tmp_path / "s.sav"
    path.write_bytes(content)
    with pytest.raises(StudyError) as err:
        read_table(path)
    assert err.value.file == "s.sav" and "not a readable SPSS file" in err.value.message


def test_an_unexpected_error_while_reading_an_spss_file_propagates(sav, monkeypatch):
    def bug(*args, **kwargs):
        raise KeyError("a bug of ours")

    monkeypatch.setattr(pyreadstat, "read_sav", bug)
    with pytest.raises(KeyError, match="a bug of ours"):
        read_table(sav)


def test_a_csv_of_only_delimiters_is_empty_not_a_crash(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(",,,\n , ,\n\n", "utf-8")
    with pytest.raises(StudyError, match="r.csv: the file is empty"):
        read_table(path)


@pytest.fixture
def word(tmp_path):
    path = tmp_path / "good.docx"
    document = docx.Document()
    for n in range(400):  # long enough that damage half-way is past the prolog check_zip reads
        document.add_paragraph(f"Speaker {n % 2}: sentence number {n} of a long interview.")
    document.save(str(path))
    return path


def _broken_docx(kind, word, tmp_path):
    path = tmp_path / "t.docx"
    members = _members(word)
    part = "word/document.xml"
    if kind == "not XML":  # lxml.etree.XMLSyntaxError
        members[part] = members[part][: len(members[part]) // 2]
    elif kind == "empty part":  # lxml.etree.XMLSyntaxError: document is empty
        members[part] = b""
    elif kind == "no document part":  # KeyError
        del members[part]
    elif kind == "not a Word document":
        members[part] = b"<a>text</a>"
    elif kind == "no body":
        members[part] = f"<w:document {W}/>".encode()
    elif kind == "damaged deflate stream":  # zlib.error or a bad CRC
        _damage(_zip(path, members), part)
        return path
    else:
        raise AssertionError(kind)
    return _zip(path, members)


@pytest.mark.parametrize(
    "kind",
    [
        "not XML",
        "empty part",
        "no document part",
        "not a Word document",
        "no body",
        "damaged deflate stream",
    ],
)
def test_a_broken_word_file_is_an_invalid_transcript(kind, word, tmp_path):
    path = _broken_docx(kind, word, tmp_path)
    with pytest.raises(TranscriptError) as err:
        read_transcript(path)
    assert err.value.problem == "invalid_transcript"
    assert "not a readable Word file" in str(err.value) or "damaged zip archive" in str(err.value)


def test_an_unexpected_error_while_reading_a_word_file_propagates(word, monkeypatch):
    import docx.oxml

    def bug(*args, **kwargs):
        raise TypeError("a bug of ours")

    monkeypatch.setattr(docx.oxml, "parse_xml", bug)
    with pytest.raises(TypeError, match="a bug of ours"):
        transcripts.read_transcript(word)


QDE = (
    '<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="p">'
    '<Users><User guid="u1" name="Ana"/></Users>'
    '<CodeBook><Codes><Code guid="c1" name="trust"/></Codes></CodeBook>'
    '<Sources><TextSource guid="s1" name="I001">'
    "<PlainTextContent>Ana: We trust them.</PlainTextContent>"
    '<PlainTextSelection guid="x1" startPosition="{start}" endPosition="9" creatingUser="u1">'
    '<Coding guid="k1"><CodeRef targetGUID="c1"/></Coding></PlainTextSelection>'
    "</TextSource></Sources></Project>"
)


def test_a_small_project_reads(tmp_path):
    project = qdpx.read_qdpx(_zip(tmp_path / "p.qdpx", {"project.qde": QDE.format(start=0)}))
    assert project.codings[["source", "start", "end", "code", "coder"]].values.tolist() == [
        ["I001", 0, 9, "trust", "Ana"]
    ]


def test_a_project_that_is_not_well_formed_xml_is_named(tmp_path):
    path = _zip(tmp_path / "p.qdpx", {"project.qde": QDE.format(start=0)[:-20]})
    with pytest.raises(
        StudyError, match=r"p\.qdpx: project\.qde: refused or invalid XML \(ParseError\)"
    ):
        qdpx.read_qdpx(path)


@pytest.mark.parametrize(
    "xml, error",
    [
        (
            '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><Project>&a;</Project>',
            "EntitiesForbidden",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]><Project>&e;</Project>',
            "EntitiesForbidden",
        ),
    ],
)
def test_defusedxml_refuses_entities_even_past_the_archive_check(xml, error, tmp_path, monkeypatch):
    # check_zip refuses these first; without it, defusedxml's own refusal is still a StudyError
    monkeypatch.setattr(qdpx, "check_zip", lambda path, name: None)
    path = _zip(tmp_path / "p.qdpx", {"project.qde": xml})
    with pytest.raises(StudyError, match=rf"refused or invalid XML \({error}\)"):
        qdpx.read_qdpx(path)


def test_a_selection_position_that_is_not_a_number_is_named(tmp_path):
    path = _zip(tmp_path / "p.qdpx", {"project.qde": QDE.format(start="first")})
    with pytest.raises(
        StudyError, match=r"selection 'x1': startPosition must be a whole number, got 'first'"
    ):
        qdpx.read_qdpx(path)


def test_a_damaged_source_text_is_named(tmp_path):
    qde = (
        QDE.format(start=0)
        .replace("<PlainTextContent>Ana: We trust them.</PlainTextContent>", "")
        .replace('name="I001"', 'name="I001" plainTextPath="internal://s1.txt"')
    )
    text = ("Ana: " + " ".join(f"word{n}" for n in range(5000))).encode()
    path = _damage(
        _zip(tmp_path / "p.qdpx", {"project.qde": qde, "sources/s1.txt": text}), "sources/s1.txt"
    )
    with pytest.raises(StudyError, match=r"archive member 'sources/s1.txt': damaged"):
        qdpx.read_qdpx(path)


def test_an_unexpected_error_while_parsing_a_project_propagates(tmp_path, monkeypatch):
    def bug(*args, **kwargs):
        raise TypeError("a bug of ours")

    monkeypatch.setattr(qdpx.SafeET, "fromstring", bug)
    with pytest.raises(TypeError, match="a bug of ours"):
        qdpx.read_qdpx(_zip(tmp_path / "p.qdpx", {"project.qde": QDE.format(start=0)}))


def test_zip_read_errors_are_the_ones_a_damaged_member_raises(tmp_path):
    path = _damage(_zip(tmp_path / "d.zip", {"a.txt": bytes(range(256)) * 200}), "a.txt")
    with zipfile.ZipFile(path) as zf, pytest.raises(tables.ZIP_READ_ERRORS):
        zf.read("a.txt")
