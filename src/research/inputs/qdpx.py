"""Import of REFI-QDA projects (``.qdpx``) from NVivo, MAXQDA, ATLAS.ti and others.

Import: sources as transcripts, codes as themes, selections and their codings as manual codes by coder,
cases and their variables as respondent attributes. NVivo writes one selection per code applied, so
the same span can repeat; each (selection, code, coder) is kept once.

Export lives in :mod:`research.report.qdpx_export`.

Archives are untrusted: member paths must stay inside the archive, sizes are bounded, and XML is parsed
with defusedxml (no entity expansion, no external entities).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from defusedxml import ElementTree as SafeET

from research.errors import StudyError
from research.inputs.tables import check_zip, decode_text
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
        raise StudyError(label, f"archive member '{name}'", f"larger than {MAX_MEMBER_BYTES} bytes; refused")
    return zf.read(info)


def read_qdpx(path) -> QdpxProject:
    """Read a REFI-QDA project.

    Raises
    ------
    StudyError
        For an unsafe or unreadable archive, or a ``project.qde`` that is not valid (safe) XML.
    """
    path = Path(path)
    label = path.name
    check_zip(path, label)
    with zipfile.ZipFile(path) as zf:
        names = {n.replace("\\", "/"): n for n in zf.namelist()}
        qde = next((n for k, n in names.items() if k.lower() == "project.qde"), None)
        if qde is None:
            raise StudyError(label, "", "no project.qde inside: not a REFI-QDA project")
        try:
            root = SafeET.fromstring(_read_member(zf, qde, label))
        except Exception as exc:  # defusedxml raises DTDForbidden, EntitiesForbidden, ParseError...
            raise StudyError(label, "project.qde", f"refused or invalid XML ({type(exc).__name__})") from None
        users = [{"guid": u.get("guid"), "name": u.get("name") or u.get("id") or u.get("guid")}
                 for u in root.iter() if _local(u.tag) == "User"]
        user_names = {u["guid"]: u["name"] for u in users}
        codes = []

        def walk(el, parent, trail):
            for code in _children(el, "Code"):
                desc = _find(code, "Description")
                full = f"{trail} / {code.get('name')}" if trail else code.get("name")
                codes.append({"guid": code.get("guid"), "name": code.get("name"), "parent": parent, "path": full,
                              "description": (desc.text or "").strip() if desc is not None else ""})
                walk(code, code.get("guid"), full)

        book = next((e for e in root.iter() if _local(e.tag) == "Codes"), None)
        if book is not None:
            walk(book, None, "")
        code_names = {c["guid"]: c["name"] for c in codes}
        sources, codings = [], []
        for src in (e for e in root.iter() if _local(e.tag) == "TextSource"):
            text = ""
            content = _find(src, "PlainTextContent")
            if content is not None and content.text:
                text = content.text
            elif (src.get("plainTextPath") or "").startswith("internal://"):
                member = "sources/" + src.get("plainTextPath")[len("internal://"):]
                real = next((n for k, n in names.items() if k.lower() == member.lower()), None)
                if real is None:
                    raise StudyError(label, f"source '{src.get('name')}'", f"its text {member} is missing from the archive")
                text = decode_text(_read_member(zf, real, label))
            sources.append({"guid": src.get("guid"), "name": src.get("name"), "text": text})
            seen = set()
            for sel in _children(src, "PlainTextSelection"):
                for coding in _children(sel, "Coding"):
                    ref = _find(coding, "CodeRef")
                    if ref is None:
                        continue
                    # NVivo stamps every Coding with the exporting user; the selection's creator is the person
                    # who applied the code, so it names the coder (the Coding's creator is the fallback).
                    coder = user_names.get(sel.get("creatingUser") or coding.get("creatingUser"), "unknown")
                    key = (int(sel.get("startPosition", 0)), int(sel.get("endPosition", 0)), ref.get("targetGUID"), coder)
                    if key in seen:
                        continue
                    seen.add(key)
                    codings.append({"source": src.get("name"), "start": key[0], "end": key[1],
                                    "code": code_names.get(key[2], key[2]), "coder": coder})
        variables = {v.get("guid"): v.get("name") for v in root.iter() if _local(v.tag) == "Variable"}
        source_names = {s["guid"]: s["name"] for s in sources}
        case_rows, case_sources = [], []
        for case in (e for e in root.iter() if _local(e.tag) == "Case"):
            for vv in _children(case, "VariableValue"):
                ref = _find(vv, "VariableRef")
                value = next((c.text for c in vv if _local(c.tag).endswith("Value")), None)
                case_rows.append({"case": case.get("name"), "variable": variables.get(ref.get("targetGUID") if ref is not None else None),
                                  "value": value})
            for ref in _children(case, "SourceRef"):
                case_sources.append({"case": case.get("name"), "source": source_names.get(ref.get("targetGUID"))})
    return QdpxProject(pd.DataFrame(users, columns=["guid", "name"]),
                       pd.DataFrame(codes, columns=["guid", "name", "parent", "path", "description"]),
                       pd.DataFrame(sources, columns=["guid", "name", "text"]),
                       pd.DataFrame(codings, columns=["source", "start", "end", "code", "coder"]),
                       pd.DataFrame(case_rows, columns=["case", "variable", "value"]),
                       pd.DataFrame(case_sources, columns=["case", "source"]))


def turn_spans(text: str) -> pd.DataFrame:
    """Turns of a plain-text transcript with their character spans: ``turn``, ``speaker``, ``start``, ``end``."""
    turns, pos = [], 0
    for line in text.splitlines(keepends=True):
        body = line.strip()
        if body:
            speaker, _ = split_speaker(body)
            if turns and (speaker is None or speaker == turns[-1]["speaker"]):
                turns[-1]["end"] = pos + len(line.rstrip("\r\n"))
            else:
                turns.append({"speaker": speaker or "", "start": pos, "end": pos + len(line.rstrip("\r\n"))})
        pos += len(line)
    frame = pd.DataFrame(turns, columns=["speaker", "start", "end"])
    frame.insert(0, "turn", range(1, len(frame) + 1))
    return frame


def manual_codes(project: QdpxProject, codebook=None) -> pd.DataFrame:
    """Codings as manual codes (``interview_id`` = source name, ``segment`` = the turn holding the selection's start).

    Code names map to the codebook's theme ids where they equal an id or a label (case-insensitive).
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
            rows.append({"interview_id": src.name, "segment": int(hit["turn"].iloc[0]), "coder": c.coder,
                         "theme": lookup.get(str(c.code).lower(), c.code)})
    return pd.DataFrame(rows, columns=["interview_id", "segment", "coder", "theme"]).drop_duplicates(ignore_index=True)


def case_attributes(project: QdpxProject) -> pd.DataFrame:
    """Cases and their variables as one row per case (respondent attributes)."""
    if project.cases.empty:
        return pd.DataFrame({"case": project.case_sources["case"].unique()})
    wide = project.cases.pivot_table(index="case", columns="variable", values="value", aggfunc="first")
    return wide.reset_index().rename_axis(columns=None)
