"""Every APA table of a report in one Word file, ready to paste into a manuscript (python-docx).

APA 7 layout: the table number in bold, the title in italics on the next line, horizontal rules only
at the top, under the header and at the bottom (no vertical rules), the note below beginning
"*Note.*". Statistical symbols in the header (``M``, ``SD``, ``p``, ``t`` ...) are set in italics
and ``_`` subscripts as subscripts. The header row repeats on every page of a long table; each table
starts on a new page.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.font import CT_RPr
from docx.oxml.text.parfmt import CT_PPr
from docx.oxml.text.run import _RunContentAppender
from docx.shared import Inches, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from research.report.apa import ApaTable, _is_test_cell, symbol_runs

FONT = "Times New Roman"
TEXT_SIZE = Pt(12)
TABLE_SIZE = Pt(10)
TEXT_WIDTH_INCHES = 6.5  # US Letter or A4 with 1-inch margins
#: tcPr children that must come after tcBorders (ECMA-376 order), so the file stays schema-valid.
_AFTER_BORDERS = {
    qn(f"w:{t}")
    for t in ("shd", "noWrap", "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark")
}


def _cell_rules(cell, top: bool = False, bottom: bool = False, size: int = 8) -> None:
    """Set a cell's top and/or bottom border to a single rule (``size`` in eighths of a point); no
    other borders."""
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        after = next((child for child in tc_pr if child.tag in _AFTER_BORDERS), None)
        if after is None:
            tc_pr.append(borders)
        else:
            after.addprevious(borders)
    for edge, on in (("top", top), ("bottom", bottom)):
        if not on:
            continue
        old = borders.find(qn(f"w:{edge}"))
        if old is not None:
            borders.remove(old)
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), str(size))
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        # top, left, bottom, right is the schema's order inside tcBorders
        if edge == "top":
            borders.insert(0, el)
        else:
            borders.append(el)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


@functools.cache
def _run_properties(size) -> CT_RPr:
    """A run's properties in the table face at ``size`` (``w:rPr``), made once through python-docx
    and copied into each run: setting the font on every run anew cost as much as the rest of the
    table."""
    run = Run(OxmlElement("w:r"), None)
    run.font.size = size
    run.font.name = FONT
    return run._r.rPr


@functools.cache
def _paragraph_properties(alignment) -> CT_PPr:
    """A cell paragraph's properties (``w:pPr``) aligned by ``alignment``, made once through
    python-docx and copied into each cell, as the runs' properties are."""
    paragraph = Paragraph(OxmlElement("w:p"), None)
    paragraph.alignment = alignment
    return paragraph._p.pPr


def _write_runs(paragraph, text: str, symbols: bool, size=TABLE_SIZE) -> None:
    parts = symbol_runs(text) if symbols else [(text, "")]
    properties = _run_properties(size)
    for part, style in parts:
        # the run's properties, then its text as Paragraph.add_run writes it (Run.text would first
        # search the new, empty run for content to clear)
        r = paragraph._p.add_r()
        r.append(copy.deepcopy(properties))
        _RunContentAppender.append_to_run_from_text(r, part)
        run = Run(r, paragraph)
        if style == "italic":
            run.italic = True
        elif style == "sub":
            run.font.subscript = True


def _column_widths(frame) -> list:
    """Column widths in proportion to their longest cell (header included), within the page's text
    width."""
    weights = []
    for col in frame.columns:
        longest = max([len(str(col))] + [len(str(v)) for v in frame[col]])
        weights.append(min(max(longest, 4), 45))
    total = sum(weights) or 1
    return [Inches(TEXT_WIDTH_INCHES * w / total) for w in weights]


def _add_heading(doc, label: str, title: str) -> None:
    """The table's number in bold, its title in italics on the next line."""
    number = doc.add_paragraph()
    run = number.add_run(label)
    run.bold = True
    number.paragraph_format.space_after = Pt(0)
    heading = doc.add_paragraph()
    heading.add_run(title).italic = True
    heading.paragraph_format.space_after = Pt(6)


def _set_widths(grid, rows: list, widths: list) -> None:
    """Each column's width on its cells (Word) and in the grid's ``w:gridCol`` (LibreOffice, Google
    Docs)."""
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width
    for cells in rows:
        for cell, width in zip(cells, widths, strict=True):
            cell.width = width


def _write_cell(cell, text: str, first: bool, symbols: bool) -> None:
    """A cell's text, the first column left-aligned and the others centred."""
    para = cell.paragraphs[0]
    alignment = WD_ALIGN_PARAGRAPH.LEFT if first else WD_ALIGN_PARAGRAPH.CENTER
    para._p.insert(0, copy.deepcopy(_paragraph_properties(alignment)))  # a new cell's empty w:p
    _write_runs(para, text, symbols=symbols)


def _fill_grid(grid, frame) -> None:
    """The header row (repeated on every page) and the body, with the rules."""
    # each row's cells once: Table.cell and _Column.cells rebuild the whole table's cell list per
    # call, which made a table of n cells cost n² (a row's own cells are read from that row alone)
    rows = [row.cells for row in grid.rows]
    for j, col in enumerate(frame.columns):
        _write_cell(rows[0][j], str(col), j == 0, symbols=True)
        _cell_rules(rows[0][j], top=True, bottom=True)
    _repeat_header(grid.rows[0])
    _set_widths(grid, rows, _column_widths(frame))
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            text = "" if value is None else str(value)
            _write_cell(rows[i][j], text, j == 0, symbols=_is_test_cell(text))
            if i == len(frame):
                _cell_rules(rows[i][j], bottom=True)
    if len(frame) == 0:  # a header alone still closes with a rule
        for cell in rows[0]:
            _cell_rules(cell, top=True, bottom=True)


def _add_notes(doc, table: ApaTable, source: bool) -> None:
    """Below the table: the note ("*Note.*"), the items' full wording and the optional source."""
    if table.note:
        note = doc.add_paragraph()
        note.paragraph_format.space_before = Pt(6)
        lead = note.add_run("Note.")
        lead.italic = True
        lead.font.size = TABLE_SIZE
        rest = note.add_run(" " + table.note)
        rest.font.size = TABLE_SIZE
    if table.full_text:
        full = doc.add_paragraph()
        for k, line in enumerate(table.full_text):
            run = full.add_run(line)
            run.font.size = TABLE_SIZE
            if k < len(table.full_text) - 1:
                run.add_break()
    if source and table.source:
        src = doc.add_paragraph()
        run = src.add_run(f"Source: {table.source}")
        run.font.size = Pt(8)


def _add_table(doc, table: ApaTable, label: str, source: bool) -> None:
    """One APA table: number and title, the grid, then what goes below it."""
    _add_heading(doc, label, table.title)
    grid = doc.add_table(rows=len(table.frame) + 1, cols=table.frame.shape[1])
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = True
    _fill_grid(grid, table.frame)
    _add_notes(doc, table, source)


def write_tables_docx(
    tables: list[ApaTable], path, title: str | None = None, sources: bool = False
) -> Path:
    """Write every table to one Word file (``.docx``) and return its path.

    Parameters
    ----------
    tables : the report's tables, in order (e.g. ``TableRegistry.tables()``); an unnumbered table is
        labelled by its position (the table itself is not changed).
    path : the ``.docx`` file to write (its folder is created).
    title : a heading for the first page (the study's name, say); none when ``None``.
    sources : add a small "Source: tables/....csv" line under each table (off: the file is for a
        manuscript).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> t = ApaTable("Scales",
    ...              pd.DataFrame({"Scale": ["Joint planning"], "M (SD)": ["3.28 (1.01)"]}),
    ...              note="Means.")
    >>> out = write_tables_docx([t], pathlib.Path(tempfile.mkdtemp()) / "tables.docx", "Demo")
    >>> out.suffix
    '.docx'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = TEXT_SIZE
    r_pr = normal.element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is not None:  # East Asian text in the same face, so Word does not substitute one
        fonts.set(qn("w:eastAsia"), FONT)
    if title:
        doc.add_heading(title, level=1)
    for k, table in enumerate(tables):
        if k > 0:
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _add_table(
            doc, table, table.label if table.number is not None else f"Table {k + 1}", sources
        )
    doc.save(path)
    return path
