"""Read survey and respondent tables: CSV (plain or Qualtrics export), XLSX and SPSS SAV.

Every cell comes back as a string (or missing), so identifiers such as ``007`` keep their zeros;
converting answers to numbers is the survey step's business, where bad cells are logged.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from research.errors import StudyError

#: Zip archives larger than this when unpacked are refused (a defence against zip bombs).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: ... and so are archives whose members expand more than this many times.
MAX_COMPRESSION_RATIO = 200
#: What reading a damaged member of a zip archive raises: a bad CRC or header (``BadZipFile``), a
#: corrupt deflate stream (``zlib.error``), a stream cut short (``EOFError``), a compression method
#: Python does not know (``NotImplementedError``). Each means the file is broken, never our bug.
ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


def decode_text(raw: bytes) -> str:
    """Decode bytes from UTF-8 (with or without BOM), UTF-16 (as Excel writes it) or cp1252.

    Examples
    --------
    >>> decode_text("naïve".encode("cp1252")), decode_text("\\ufeffé".encode("utf-8"))
    ('naïve', 'é')
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def _normalise_cell(value) -> object:
    """Numbers to their shortest text (7.0 -> '7'), blanks to missing, everything else to str."""
    if value is None:
        return pd.NA
    if isinstance(value, float):
        if np.isnan(value):
            return pd.NA
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return pd.NA if text == "" else text


def _as_strings(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    dupes = frame.columns[frame.columns.duplicated()].tolist()
    if dupes:
        raise StudyError(name, f"column '{dupes[0]}'", "appears more than once in the header")
    for col in frame.columns:
        frame[col] = pd.array([_normalise_cell(v) for v in frame[col].tolist()], dtype="string")
    return frame


def _read_csv(path: Path, name: str) -> tuple[pd.DataFrame, dict]:
    text = decode_text(path.read_bytes())
    if not text.strip():
        raise StudyError(name, "", "the file is empty")
    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise StudyError(name, "", f"not a readable CSV file ({exc})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:  # only delimiters and white space
        raise StudyError(name, "", "the file is empty")
    header, body = rows[0], rows[1:]
    meta = {"format": "csv"}
    # Qualtrics (current): row 2 holds question text, row 3 {"ImportId": ...}
    if len(body) >= 2 and body[1] and body[1][0].lstrip().startswith('{"ImportId"'):
        meta = {
            "format": "qualtrics",
            "question_text": dict(zip(header, body[0], strict=False)),
            "import_ids": {h: _import_id(c) for h, c in zip(header, body[1], strict=False)},
        }
        body = body[2:]
    # Qualtrics (legacy): V1..Vn columns, row 2 holds the real names of the V columns
    elif header[:2] == ["V1", "V2"] and body and body[0] and body[0][0] == "ResponseID":
        names = [
            real if h.startswith("V") and h[1:].isdigit() else h
            for h, real in zip(header, body[0], strict=False)
        ]
        meta = {
            "format": "qualtrics-legacy",
            "question_text": dict(zip(header, body[0], strict=False)),
        }
        header, body = names + header[len(names) :], body[1:]
    width = len(header)
    while width and not header[width - 1].strip():  # trailing delimiter on every line
        width -= 1
    for n, row in enumerate(body, start=2):
        if len(row) > width and any(c.strip() for c in row[width:]):
            raise StudyError(
                name, f"row {n}", f"has {len(row)} cells but the header has {width} columns"
            )
    body = [(r + [""] * width)[:width] for r in body]
    frame = pd.DataFrame(body, columns=header[:width], dtype=object)
    return _as_strings(frame, name), meta


def _import_id(cell: str):
    try:
        return json.loads(cell).get("ImportId")
    except (ValueError, AttributeError):
        return None


_ROOT_ELEMENT = re.compile(rb"<[A-Za-z_]")


def _declares_dtd(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether an XML member's prolog (all before its root element) declares a DTD or an entity."""
    prolog = b""
    with zf.open(info) as fh:
        while len(prolog) < (1 << 20):
            chunk = fh.read(4096)
            if not chunk:
                break
            prolog += chunk
            root = _ROOT_ELEMENT.search(prolog)
            if root:
                prolog = prolog[: root.start()]
                break
    upper = prolog.upper()
    return b"<!DOCTYPE" in upper or b"<!ENTITY" in upper


def check_zip(path: Path, name: str) -> None:
    """Refuse archives (xlsx, docx, qdpx) that would unpack to too much or escape their folder.

    Raises
    ------
    StudyError
        For a file that is not a zip archive, a member path with ``..`` or an absolute path,
        more than ``MAX_UNPACKED_BYTES`` unpacked, or a member compressed over
        ``MAX_COMPRESSION_RATIO`` times.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            total = 0
            for info in zf.infolist():
                member = info.filename
                if member.startswith(("/", "\\")) or ".." in Path(member.replace("\\", "/")).parts:
                    raise StudyError(
                        name, f"archive member '{member}'", "path leaves the archive; refused"
                    )
                total += info.file_size
                if (
                    info.compress_size
                    and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO
                    and info.file_size > 1_000_000
                ):
                    raise StudyError(
                        name,
                        f"archive member '{member}'",
                        "compression ratio too high (zip bomb?); refused",
                    )
            if total > MAX_UNPACKED_BYTES:
                raise StudyError(
                    name,
                    "",
                    f"unpacks to {total} bytes, over the {MAX_UNPACKED_BYTES}-byte limit; refused",
                )
            for info in zf.infolist():
                # Office and REFI-QDA XML never declare a DTD; one that does may expand entities
                # (billion laughs) or fetch external ones, so it is refused before any parser sees
                # it.
                if info.filename.lower().endswith((".xml", ".rels", ".qde")) and _declares_dtd(
                    zf, info
                ):
                    raise StudyError(
                        name,
                        f"archive member '{info.filename}'",
                        "XML with a document type declaration (entity expansion) refused",
                    )
    except zipfile.BadZipFile:
        raise StudyError(name, "", "not a valid zip-based Office file") from None
    except ZIP_READ_ERRORS as exc:
        raise StudyError(name, "", f"a damaged zip archive ({type(exc).__name__}: {exc})") from None


def _is_rust_panic(exc: BaseException) -> bool:
    """Whether ``exc`` is the ``PanicException`` a Rust extension (calamine) raises on a panic.

    pyo3 does not let Python import that class, and it derives from ``BaseException``; a panic while
    reading a workbook comes from the workbook's bytes (a cell reference beyond every sheet's size
    makes calamine 0.x overflow), so it is the file's fault.
    """
    kind = type(exc)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"


def _read_xlsx(path: Path, name: str) -> tuple[pd.DataFrame, dict]:
    """The first sheet of a workbook, read with calamine.

    A broken workbook raises ``python_calamine.CalamineError`` (and its subclasses ``XmlError``,
    ``ZipError``, ``WorksheetNotFound``, ``PasswordError``: a member that is not XML, a missing
    part, a cell that is not what its type says), ``ValueError`` from pandas (a workbook without
    worksheets), a zip error (:data:`ZIP_READ_ERRORS`) or calamine's Rust panic; each becomes a
    :class:`StudyError`. Anything else is our bug and propagates.
    """
    from python_calamine import CalamineError

    check_zip(path, name)
    try:
        # calamine reads the same cells as openpyxl about ten times faster (1.5 s against 0.15 s for
        # 8,000 rows).
        frame = pd.read_excel(path, sheet_name=0, dtype=object, engine="calamine")
    except (CalamineError, ValueError, *ZIP_READ_ERRORS) as exc:
        raise StudyError(
            name, "", f"not a readable Excel workbook ({type(exc).__name__}: {exc})"
        ) from None
    except BaseException as exc:
        if not _is_rust_panic(exc):
            raise
        raise StudyError(
            name, "", f"not a readable Excel workbook (calamine failed: {exc})"
        ) from None
    frame = frame.dropna(how="all")
    return _as_strings(frame, name), {"format": "xlsx"}


def _read_sav(path: Path, name: str, apply_labels: bool) -> tuple[pd.DataFrame, dict]:
    """An SPSS file, read with pyreadstat.

    A file that is not SPSS, or is cut short or damaged, raises ``pyreadstat.ReadstatError`` (the C
    library's errors); a value pyreadstat cannot convert (a string in a date column, an unknown
    type) raises ``pyreadstat.PyreadstatError``. Both become a :class:`StudyError`; anything else
    propagates.
    """
    import pyreadstat

    try:
        # user_missing=False (the default) turns SPSS user-missing codes into missing values.
        frame, meta = pyreadstat.read_sav(
            str(path), apply_value_formats=apply_labels, user_missing=False
        )
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise StudyError(name, "", f"not a readable SPSS file ({exc})") from None
    info = {
        "format": "sav",
        "question_text": dict(zip(meta.column_names, meta.column_labels or [], strict=False)),
        "value_labels": meta.variable_value_labels,
    }
    return _as_strings(frame, name), info


def read_table(
    path, name: str | None = None, apply_labels: bool = True
) -> tuple[pd.DataFrame, dict]:
    """Read a CSV, XLSX or SAV file into an all-string DataFrame.

    Parameters
    ----------
    path : path-like
        The file. Its extension chooses the reader.
    name : str, optional
        How messages name the file (defaults to the file name).
    apply_labels : bool
        For SPSS files, replace coded values by their value labels (used for respondent attributes);
        survey answers are read as codes.

    Returns
    -------
    frame : DataFrame
        Columns as in the file (trimmed names), cells as ``string`` dtype with ``<NA>`` for blanks.
    meta : dict
        ``format`` (``csv``, ``qualtrics``, ``qualtrics-legacy``, ``xlsx`` or ``sav``) and, where
        the format has them, ``question_text`` per column.

    Raises
    ------
    StudyError
        When the file is missing, empty or unreadable (exit status 2).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("respondent_id,score\\n007,4\\n")
    >>> read_table(p)[0]["respondent_id"].tolist()
    ['007']
    """
    path = Path(path)
    name = name or path.name
    if not path.is_file():
        raise StudyError(name, "", "file not found")
    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".txt", ".tsv"}:
            frame, meta = _read_csv(path, name)
        elif suffix in {".xlsx", ".xlsm"}:
            frame, meta = _read_xlsx(path, name)
        elif suffix == ".sav":
            frame, meta = _read_sav(path, name, apply_labels)
        else:
            raise StudyError(
                name, "", f"unsupported file type {suffix!r}; expected .csv, .xlsx or .sav"
            )
    except OSError as exc:
        raise StudyError(name, "", f"cannot be read ({exc.strerror or exc})") from None
    return frame, meta
