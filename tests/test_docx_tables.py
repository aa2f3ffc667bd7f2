"""The Word file of APA tables, read back with python-docx: numbers, titles, notes, cells and the
rules."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from research.analysis import companies, survey
from research.report import apa
from research.report.apa import ApaTable, TableRegistry
from research.report.docx_tables import write_tables_docx


@pytest.fixture(scope="module")
def registry(demo_study):
    s = demo_study
    smr = s.instrument("smr")
    summary, _ = companies.company_summary(s)
    reg = TableRegistry()
    reg.add(apa.item_table(survey.item_table(s), smr), key="items")
    reg.add(apa.scale_table(survey.scale_table(s), smr), key="scales")
    reg.add(apa.company_table(summary, smr, s.decision_table), key="companies")
    return reg


@pytest.fixture(scope="module")
def written(registry, tmp_path_factory):
    path = tmp_path_factory.mktemp("docx") / "out" / "tables.docx"
    return write_tables_docx(registry.tables(), path, title="Demo: tables"), registry


def _paragraphs(doc):
    return [p for p in doc.paragraphs if p.text.strip()]


def test_the_file_is_a_valid_word_archive(written):
    path, _ = written
    assert path.is_file() and path.suffix == ".docx"
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        assert "word/document.xml" in z.namelist()
    Document(str(path))  # opens


def test_numbers_titles_and_notes_round_trip(written):
    path, reg = written
    doc = Document(str(path))
    paras = _paragraphs(doc)
    texts = [p.text for p in paras]
    assert texts[0] == "Demo: tables"
    for table in reg:
        k = texts.index(table.label)
        number, title, note = paras[k], paras[k + 1], paras[k + 2]
        assert all(r.bold for r in number.runs if r.text.strip())
        assert title.text == table.title and all(r.italic for r in title.runs if r.text.strip())
        assert note.text == "Note. " + table.note
        assert note.runs[0].text == "Note." and note.runs[0].italic and not note.runs[1].italic
    assert [t for t in texts if t.startswith("Table ")] == ["Table 1", "Table 2", "Table 3"]


def test_cells_round_trip(written):
    path, reg = written
    doc = Document(str(path))
    assert len(doc.tables) == len(reg)
    for grid, table in zip(doc.tables, reg, strict=True):
        assert len(grid.columns) == table.frame.shape[1] <= apa.MAX_COLUMNS
        # in Word a "_" subscript is set as a subscript: p_Holm reads pHolm with "Holm" lowered
        assert [c.text for c in grid.rows[0].cells] == [
            "".join(part for part, _ in apa.symbol_runs(c)) for c in table.frame.columns
        ]
        body = [[c.text for c in row.cells] for row in grid.rows[1:]]
        assert body == table.frame.astype(str).values.tolist()


def test_full_item_wording_follows_the_item_table(written):
    path, reg = written
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    for line in reg["items"].full_text:
        assert line in text


def _borders(cell) -> dict[str, str]:
    tc_pr = cell._tc.tcPr
    borders = tc_pr.find(qn("w:tcBorders")) if tc_pr is not None else None
    if borders is None:
        return {}
    return {child.tag.split("}")[1]: child.get(qn("w:val")) for child in borders}


def test_horizontal_rules_only_at_top_under_the_header_and_at_the_bottom(written):
    path, _ = written
    grid = Document(str(path)).tables[1]
    for cell in grid.rows[0].cells:
        assert _borders(cell) == {"top": "single", "bottom": "single"}
    for row in grid.rows[1:-1]:
        for cell in row.cells:
            assert _borders(cell) == {}
    for cell in grid.rows[-1].cells:
        assert _borders(cell) == {"bottom": "single"}
    # no table-level borders (the default table style has none), so no vertical rules anywhere
    tbl_pr = grid._tbl.tblPr
    assert tbl_pr.find(qn("w:tblBorders")) is None
    # the header repeats on every page
    assert grid.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def test_symbols_are_italic_and_subscripts_are_subscripts(written):
    path, _ = written
    grid = Document(str(path)).tables[1]
    header = {c.text: c.paragraphs[0].runs for c in grid.rows[0].cells}
    p_runs = header["pHolm"]
    assert [(r.text, bool(r.italic), bool(r.font.subscript)) for r in p_runs] == [
        ("p", True, False),
        ("Holm", False, True),
    ]
    m_runs = {r.text: r.italic for r in header["Marketing M (SD)"]}
    assert m_runs["M"] and m_runs["SD"] and not m_runs["Marketing "]
    test_cell = grid.rows[1].cells[list(header).index("Welch test")]
    assert test_cell.paragraphs[0].runs[0].text == "t" and test_cell.paragraphs[0].runs[0].italic


def test_unnumbered_tables_are_labelled_by_position_and_left_unchanged(tmp_path):
    a = ApaTable(
        "First", pd.DataFrame({"Scale": ["A"], "M (SD)": ["3.00 (1.00)"]}), note="First note."
    )
    b = ApaTable("Empty", pd.DataFrame({"Scale": [], "n": []}), note="")
    path = write_tables_docx([a, b], tmp_path / "t.docx")
    doc = Document(str(path))
    texts = [p.text for p in _paragraphs(doc)]
    assert texts[:3] == ["Table 1", "First", "Note. First note."]
    assert "Table 2" in texts and "Empty" in texts
    assert a.number is None and b.number is None
    empty = doc.tables[1]
    assert len(empty.rows) == 1 and _borders(empty.rows[0].cells[0]) == {
        "top": "single",
        "bottom": "single",
    }


def test_columns_fit_the_page_with_the_item_column_widest(written):
    path, _ = written
    grid = Document(str(path)).tables[0]
    widths = [grid.cell(0, j).width for j in range(len(grid.columns))]
    assert widths[0] == max(widths)
    assert abs(sum(widths) / 914400 - 6.5) < 0.01  # EMU per inch


def test_sources_are_optional(tmp_path):
    t = ApaTable(
        "T", pd.DataFrame({"Scale": ["A"]}), note="N.", source="tables/scale_comparison.csv"
    )
    plain = "\n".join(
        p.text for p in Document(str(write_tables_docx([t], tmp_path / "a.docx"))).paragraphs
    )
    with_src = "\n".join(
        p.text
        for p in Document(str(write_tables_docx([t], tmp_path / "b.docx", sources=True))).paragraphs
    )
    assert "Source:" not in plain and "Source: tables/scale_comparison.csv" in with_src


def test_every_table_reads_back_cell_by_cell_with_its_rules_widths_and_face(tmp_path):
    """A long table (each cell text unique) read back row by row: every cell in its place, left
    then centred, its column's width (on the cells and in the grid), each run in the table face,
    rules only at the top, under the header and at the bottom, and the header repeated on each
    page."""
    frame = pd.DataFrame(
        {
            "Item": [f"item {i}" for i in range(40)],
            "M (SD)": [f"{i}.00 ({i % 3}.10)" for i in range(40)],
            "p_Holm": [f".{i:03d}" for i in range(40)],
            "Welch test": [f"t(12.3) = {i}.00" for i in range(40)],
        }
    )
    path = write_tables_docx([ApaTable("Long", frame, note="N.")], tmp_path / "long.docx")
    grid = Document(str(path)).tables[0]
    assert len(grid.rows) == len(frame) + 1
    assert [c.text for c in grid.rows[0].cells] == ["Item", "M (SD)", "pHolm", "Welch test"]
    assert [[c.text for c in row.cells] for row in grid.rows[1:]] == frame.values.tolist()
    assert grid.rows[0]._tr.trPr.find(qn("w:tblHeader")).get(qn("w:val")) == "true"
    assert all(row._tr.trPr is None for row in grid.rows[1:])  # only the header repeats
    widths = [c.width for c in grid.rows[0].cells]
    assert abs(sum(widths) / 914400 - 6.5) < 0.01
    # the grid's own column widths (w:gridCol, in twips), which LibreOffice and Google Docs follow
    grid_cols = [int(g.get(qn("w:w"))) for g in grid._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert grid_cols == [w.twips for w in widths]
    assert len(set(grid_cols)) > 1  # proportional, not python-docx's even split
    for i, row in enumerate(grid.rows):
        expected = (
            {"top": "single", "bottom": "single"}
            if i == 0
            else {"bottom": "single"}
            if i == len(grid.rows) - 1
            else {}
        )
        assert [c.width for c in row.cells] == widths
        for j, cell in enumerate(row.cells):
            assert _borders(cell) == expected
            para = cell.paragraphs[0]
            assert para.alignment == (
                WD_ALIGN_PARAGRAPH.LEFT if j == 0 else WD_ALIGN_PARAGRAPH.CENTER
            )
            for run in para.runs:
                assert run.font.size == Pt(10) and run.font.name == "Times New Roman"
    # the statistic of a test cell is italic in every row, the rest of its text upright
    for row in grid.rows[1:]:
        runs = row.cells[3].paragraphs[0].runs
        assert runs[0].text == "t" and runs[0].italic and not runs[1].italic


def test_a_cell_keeps_its_tabs_line_breaks_and_edge_spaces(tmp_path):
    """Cell text is written as python-docx writes a run's text: a tab as ``w:tab``, a line break as
    ``w:br``, spaces at either end kept."""
    frame = pd.DataFrame({"Item": ["first\tsecond", " padded "], "Note": ["one\ntwo", ""]})
    path = write_tables_docx([ApaTable("Odd text", frame)], tmp_path / "odd.docx")
    grid = Document(str(path)).tables[0]
    assert [[c.text for c in row.cells] for row in grid.rows[1:]] == frame.values.tolist()
    first, padded = grid.rows[1].cells[0]._tc, grid.rows[2].cells[0]._tc
    assert first.find(f".//{qn('w:tab')}") is not None
    assert grid.rows[1].cells[1]._tc.find(f".//{qn('w:br')}") is not None
    assert padded.find(f".//{qn('w:t')}").get(qn("xml:space")) == "preserve"
    assert grid.rows[2].cells[1]._tc.find(f".//{qn('w:r')}") is not None  # an empty run
