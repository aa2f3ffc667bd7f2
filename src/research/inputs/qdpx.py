"""Import of REFI-QDA projects (``.qdpx``) from NVivo, MAXQDA, ATLAS.ti and others.

Import: sources as transcripts, codes as themes, selections and their codings as manual codes by
coder, cases and their variables as respondent attributes. NVivo writes one selection per code
applied, so the same span can repeat; each (selection, code, coder) is kept once.

Export lives in :mod:`research.report.qdpx_export`.

Archives are untrusted: member paths must stay inside the archive, sizes are bounded, and XML is
parsed with defusedxml (no entity expansion, no external entities).

References
----------
.. [1] REFI-QDA Project (2019). *REFI-QDA Project exchange standard*, version 1.5 (the ``.qdpx``
   archive and its ``project.qde`` XML, namespace ``urn:QDA-XML:project:1.0``).
   https://www.qdasoftware.org
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from research.errors import StudyError
from research.inputs.tables import ZIP_READ_ERRORS, check_zip, decode_text
from research.inputs.transcripts import split_speaker

NS = "urn:QDA-XML:project:1.0"
MAX_MEMBER_BYTES = 50 * 1024 * 1024


@dataclass
class QdpxProject:
    users: pd.DataFrame  # guid, name
    codes: pd.DataFrame  # guid, name, parent, path, description
    sources: pd.DataFrame  # guid, name, text
    codings: pd.DataFrame  # source, start, end, code, coder
    cases: pd.DataFrame  # case, variable, value
    case_sources: pd.DataFrame  # case, source


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el, name):
    return [c for c in el if _local(c.tag) == name]


def _find(el, name):
    found = _children(el, name)
    return found[0] if found else None


def _read_member(zf: zipfile.ZipFile, name: str, label: str) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise StudyError(
            label, f"archive member '{name}'", f"larger than {MAX_MEMBER_BYTES} bytes; refused"
        )
    try:
        return zf.read(info)
    except ZIP_READ_ERRORS as exc:
        raise StudyError(
            label, f"archive member '{name}'", f"damaged ({type(exc).__name__}: {exc})"
        ) from None


def _parse_project(zf: zipfile.ZipFile, names: dict[str, str], label: str):
    """The root element of ``project.qde``, parsed with defusedxml.

    defusedxml refuses a document type declaration, entities and external references with subclasses
    of ``defusedxml.DefusedXmlException`` (``DTDForbidden``, ``EntitiesForbidden``,
    ``ExternalReferenceForbidden``, ``NotSupportedError``); XML that is not well formed raises
    ``xml.etree.ElementTree.ParseError``. Both are the file's fault; anything else propagates.
    """
    qde = next((n for k, n in names.items() if k.lower() == "project.qde"), None)
    if qde is None:
        raise StudyError(label, "", "no project.qde inside: not a REFI-QDA project")
    try:
        return SafeET.fromstring(_read_member(zf, qde, label))
    except (DefusedXmlException, ParseError) as exc:
        raise StudyError(
            label, "project.qde", f"refused or invalid XML ({type(exc).__name__})"
        ) from None


def _users(root) -> list[dict]:
    """Every ``User``: its guid and name (the id or guid when it has no name)."""
    return [
        {"guid": u.get("guid"), "name": u.get("name") or u.get("id") or u.get("guid")}
        for u in root.iter()
        if _local(u.tag) == "User"
    ]


def _codes(root) -> list[dict]:
    """Every ``Code`` of the code book, depth first, with its parent's guid and path of names."""
    codes = []

    def walk(el, parent, trail):
        for code in _children(el, "Code"):
            desc = _find(code, "Description")
            full = f"{trail} / {code.get('name')}" if trail else code.get("name")
            codes.append(
                {
                    "guid": code.get("guid"),
                    "name": code.get("name"),
                    "parent": parent,
                    "path": full,
                    "description": (desc.text or "").strip() if desc is not None else "",
                }
            )
            walk(code, code.get("guid"), full)

    book = next((e for e in root.iter() if _local(e.tag) == "Codes"), None)
    if book is not None:
        walk(book, None, "")
    return codes


def _source_text(src, zf: zipfile.ZipFile, names: dict[str, str], label: str) -> str:
    """A ``TextSource``'s text: inline ``PlainTextContent`` or its ``internal://`` file."""
    content = _find(src, "PlainTextContent")
    if content is not None and content.text:
        return content.text
    if (src.get("plainTextPath") or "").startswith("internal://"):
        member = "sources/" + src.get("plainTextPath")[len("internal://") :]
        real = next((n for k, n in names.items() if k.lower() == member.lower()), None)
        if real is None:
            raise StudyError(
                label,
                f"source '{src.get('name')}'",
                f"its text {member} is missing from the archive",
            )
        return decode_text(_read_member(zf, real, label))
    return ""


def _position(sel, attribute: str, label: str) -> int:
    """A selection's ``startPosition`` or ``endPosition`` (0 when absent) as a whole number."""
    value = sel.get(attribute, 0)
    try:
        return int(value)
    except ValueError:
        raise StudyError(
            label,
            f"selection '{sel.get('guid')}'",
            f"{attribute} must be a whole number, got {value!r}",
        ) from None


def _source_codings(src, user_names: dict, code_names: dict, label: str) -> list[dict]:
    """The codings of one source, one per (selection span, code, coder)."""
    codings, seen = [], set()
    for sel in _children(src, "PlainTextSelection"):
        for coding in _children(sel, "Coding"):
            ref = _find(coding, "CodeRef")
            if ref is None:
                continue
            # NVivo stamps every Coding with the exporting user; the selection's creator is the
            # person who applied the code, so it names the coder (the Coding's creator is the
            # fallback).
            coder = user_names.get(sel.get("creatingUser") or coding.get("creatingUser"), "unknown")
            key = (
                _position(sel, "startPosition", label),
                _position(sel, "endPosition", label),
                ref.get("targetGUID"),
                coder,
            )
            if key in seen:
                continue
            seen.add(key)
            codings.append(
                {
                    "source": src.get("name"),
                    "start": key[0],
                    "end": key[1],
                    "code": code_names.get(key[2], key[2]),
                    "coder": coder,
                }
            )
    return codings


def _sources_and_codings(root, zf, names, label, users, codes) -> tuple[list[dict], list[dict]]:
    """Every ``TextSource`` with its text, and the codings of its selections."""
    user_names = {u["guid"]: u["name"] for u in users}
    code_names = {c["guid"]: c["name"] for c in codes}
    sources, codings = [], []
    for src in (e for e in root.iter() if _local(e.tag) == "TextSource"):
        sources.append(
            {
                "guid": src.get("guid"),
                "name": src.get("name"),
                "text": _source_text(src, zf, names, label),
            }
        )
        codings += _source_codings(src, user_names, code_names, label)
    return sources, codings


def _cases(root, sources: list[dict]) -> tuple[list[dict], list[dict]]:
    """Every ``Case``: its variable values (one row each) and the sources it refers to."""
    variables = {v.get("guid"): v.get("name") for v in root.iter() if _local(v.tag) == "Variable"}
    source_names = {s["guid"]: s["name"] for s in sources}
    case_rows, case_sources = [], []
    for case in (e for e in root.iter() if _local(e.tag) == "Case"):
        for vv in _children(case, "VariableValue"):
            ref = _find(vv, "VariableRef")
            value = next((c.text for c in vv if _local(c.tag).endswith("Value")), None)
            case_rows.append(
                {
                    "case": case.get("name"),
                    "variable": variables.get(ref.get("targetGUID") if ref is not None else None),
                    "value": value,
                }
            )
        for ref in _children(case, "SourceRef"):
            case_sources.append(
                {"case": case.get("name"), "source": source_names.get(ref.get("targetGUID"))}
            )
    return case_rows, case_sources


def read_qdpx(path) -> QdpxProject:
    """Read a REFI-QDA project: its users, codes, sources with their codings, and cases.

    Parameters
    ----------
    path : path-like
        A ``.qdpx`` archive: ``project.qde`` (the project's XML) and the sources' text files.

    Returns
    -------
    QdpxProject
        One table each of users, codes (with their paths in the code tree), sources (with their
        text), codings (one per selection span, code and coder), case variables and the cases'
        sources.

    Raises
    ------
    StudyError
        For an unsafe or damaged archive, a ``project.qde`` that is not valid (safe) XML, a source
        whose text is missing from the archive, or a selection position that is not a whole number.

    References
    ----------
    .. [1] REFI-QDA Project (2019). *REFI-QDA Project exchange standard*, version 1.5.
       https://www.qdasoftware.org
    """
    path = Path(path)
    label = path.name
    check_zip(path, label)
    with zipfile.ZipFile(path) as zf:
        names = {n.replace("\\", "/"): n for n in zf.namelist()}
        root = _parse_project(zf, names, label)
        users = _users(root)
        codes = _codes(root)
        sources, codings = _sources_and_codings(root, zf, names, label, users, codes)
        case_rows, case_sources = _cases(root, sources)
    return QdpxProject(
        pd.DataFrame(users, columns=["guid", "name"]),
        pd.DataFrame(codes, columns=["guid", "name", "parent", "path", "description"]),
        pd.DataFrame(sources, columns=["guid", "name", "text"]),
        pd.DataFrame(codings, columns=["source", "start", "end", "code", "coder"]),
        pd.DataFrame(case_rows, columns=["case", "variable", "value"]),
        pd.DataFrame(case_sources, columns=["case", "source"]),
    )


def turn_spans(text: str) -> pd.DataFrame:
    """Turns of a plain-text transcript with their character spans.

    Columns ``turn``, ``speaker``, ``start`` and ``end``.

    Lines are split into speakers as :func:`research.inputs.transcripts.read_transcript` splits a
    TXT file, so a turn here is the same turn there; ``end`` is the end of the turn's last line.

    Examples
    --------
    >>> turn_spans("Ana: Hi.\\nmore\\nBo: Yes.\\n").values.tolist()
    [[1, 'Ana', 0, 13], [2, 'Bo', 14, 22]]
    """
    turns, pos = [], 0
    for line in text.splitlines(keepends=True):
        body = line.strip()
        if body:
            speaker, _ = split_speaker(body)
            if turns and (speaker is None or speaker == turns[-1]["speaker"]):
                turns[-1]["end"] = pos + len(line.rstrip("\r\n"))
            else:
                turns.append(
                    {"speaker": speaker or "", "start": pos, "end": pos + len(line.rstrip("\r\n"))}
                )
        pos += len(line)
    frame = pd.DataFrame(turns, columns=["speaker", "start", "end"])
    frame.insert(0, "turn", range(1, len(frame) + 1))
    return frame


def manual_codes(project: QdpxProject, codebook=None) -> pd.DataFrame:
    """Codings as manual codes.

    ``interview_id`` is the source's name, ``segment`` the turn that holds the selection's start.

    Code names map to the codebook's theme ids where they equal an id or a label (case-insensitive).

    Parameters
    ----------
    project : QdpxProject
        From :func:`read_qdpx`.
    codebook : Codebook, optional
        The study's codebook, to map code names to theme ids.

    Returns
    -------
    DataFrame
        ``interview_id``, ``segment``, ``coder``, ``theme``; one row per distinct code on a turn.
    """
    lookup = {}
    if codebook is not None:
        for t in codebook.themes:
            lookup[t.id.lower()] = t.id
            lookup[t.label.lower()] = t.id
    rows = []
    for src in project.sources.itertuples():
        spans = turn_spans(src.text)
        for c in project.codings[project.codings["source"] == src.name].itertuples():
            hit = spans[(spans["start"] <= c.start) & (c.start <= spans["end"])]
            if hit.empty:
                hit = spans[spans["start"] <= c.start].tail(1)
            if hit.empty:
                continue
            rows.append(
                {
                    "interview_id": src.name,
                    "segment": int(hit["turn"].iloc[0]),
                    "coder": c.coder,
                    "theme": lookup.get(str(c.code).lower(), c.code),
                }
            )
    return pd.DataFrame(
        rows, columns=["interview_id", "segment", "coder", "theme"]
    ).drop_duplicates(ignore_index=True)


def case_attributes(project: QdpxProject) -> pd.DataFrame:
    """Cases and their variables as one row per case (respondent attributes).

    Returns
    -------
    DataFrame
        ``case`` and one column per variable (the first value where a case repeats one).
    """
    if project.cases.empty:
        return pd.DataFrame({"case": project.case_sources["case"].unique()})
    wide = project.cases.pivot_table(
        index="case", columns="variable", values="value", aggfunc="first"
    )
    return wide.reset_index().rename_axis(columns=None)
