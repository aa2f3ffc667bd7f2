"""REFI-QDA project exchange (``.qdpx``) with NVivo, MAXQDA, ATLAS.ti and others.

Import: sources as transcripts, codes as themes, selections and their codings as manual codes by coder,
cases and their variables as respondent attributes. NVivo writes one selection per code applied, so
the same span can repeat; each (selection, code, coder) is kept once.

Export: a coded study as a project with one text source per interview (pseudonymised, names redacted),
the codebook's themes as codes, the automatic coding (coder ``research-codebook``) and every human
coder's codes as codings, and one case per interviewee carrying role and company.

Archives are untrusted: member paths must stay inside the archive, sizes are bounded, and XML is parsed
with defusedxml (no entity expansion, no external entities).
"""

from __future__ import annotations

import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd
from defusedxml import ElementTree as SafeET

from . import __version__
from .quality import StudyError
from .readers.tables import check_zip, decode_text
from .readers.transcripts import _split_speaker

NS = "urn:QDA-XML:project:1.0"
MAX_MEMBER_BYTES = 50 * 1024 * 1024
AUTO_CODER = "research-codebook"


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
            speaker, _ = _split_speaker(body)
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


# ---- export ------------------------------------------------------------------------------------

def _guid(*parts) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "research-qdpx:" + ":".join(map(str, parts))))


def _sub(parent, tag, **attrs):
    return ET.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items() if v is not None})


def export_study(study, coded: pd.DataFrame, path) -> Path:
    """Write the coded, pseudonymised study as a REFI-QDA project; return the path.

    ``coded`` is :func:`research.interviews.coded_segments` (pseudonymised speakers, redacted text).
    """
    from .interviews import redactor
    from .privacy import speaker_map

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.register_namespace("", NS)
    project = ET.Element(f"{{{NS}}}Project", {"name": study.name, "origin": f"research {__version__}"})
    coders = [AUTO_CODER] + sorted(study.manual_codes["coder"].unique().tolist())
    users = _sub(project, "Users")
    for coder in coders:
        _sub(users, "User", guid=_guid("user", coder), name=coder)
    codes = _sub(_sub(project, "CodeBook"), "Codes")
    for theme in study.codebook.themes:
        code = _sub(codes, "Code", guid=_guid("code", theme.id), name=theme.label, isCodable="true")
        _sub(code, "Description").text = f"id: {theme.id}. {theme.description}"
    variables = _sub(project, "Variables")
    for var in ("role", "company_id"):
        _sub(variables, "Variable", guid=_guid("variable", var), name=var, typeOfVariable="Text")
    names = speaker_map(study.turns, study.respondents)
    redact = redactor(study)
    texts, selections = {}, {}
    labels = {(r.interview_id, r.speaker): r.pseudonym for r in names.itertuples()}
    for iid, turns in study.turns.groupby("interview_id", sort=False):
        lines, spans, pos = [], {}, 0
        for t in turns.itertuples():
            # "Sales VP (C-014): ..." - a speaker label the plain-text transcript reader recognises again.
            label = labels.get((iid, t.speaker), "Speaker").replace(", ", " (", 1)
            label = label + ")" if "(" in label else label
            line = f"{label}: {redact.redact(t.text)}"
            spans[t.turn] = (pos, pos + len(line))
            lines.append(line)
            pos += len(line) + 1
        texts[iid] = "\n".join(lines) + "\n"
        selections[iid] = spans
    by_interview = {iid: part for iid, part in coded.groupby("interview_id")}
    manual = study.manual_codes
    cases = _sub(project, "Cases")
    interviewee = names[names["pseudonym"] != "Interviewer"].drop_duplicates("interview_id")
    case_names = dict(zip(interviewee["interview_id"], interviewee["pseudonym"], strict=True))
    for iv in study.interviews.itertuples():
        case = _sub(cases, "Case", guid=_guid("case", iv.respondent_id), name=case_names.get(iv.interview_id, "Respondent"))
        for var, value in (("role", iv.role), ("company_id", iv.company_id)):
            vv = _sub(case, "VariableValue")
            _sub(vv, "VariableRef", targetGUID=_guid("variable", var))
            _sub(vv, "TextValue").text = str(value)
        _sub(case, "SourceRef", targetGUID=_guid("source", iv.interview_id))
    sources = _sub(project, "Sources")
    for iid in texts:
        src = _sub(sources, "TextSource", guid=_guid("source", iid), name=iid, plainTextPath=f"internal://{_guid('source', iid)}.txt")
        spans = selections[iid]
        applied = []
        part = by_interview.get(iid)
        if part is not None:
            for seg in part.itertuples():
                for theme in str(seg.themes).split(";"):
                    if theme:
                        applied.append((int(seg.segment), AUTO_CODER, theme))
        for m in manual[manual["interview_id"] == iid].itertuples():
            applied.append((int(m.segment), m.coder, m.theme))
        for segment, coder, theme in sorted(set(applied)):
            if segment not in spans:
                continue
            start, end = spans[segment]
            sel = _sub(src, "PlainTextSelection", guid=_guid("sel", iid, segment, coder, theme), name="",
                       startPosition=start, endPosition=end, creatingUser=_guid("user", coder))
            coding = _sub(sel, "Coding", guid=_guid("coding", iid, segment, coder, theme), creatingUser=_guid("user", coder))
            _sub(coding, "CodeRef", targetGUID=_guid("code", theme))
    tmp = path.with_suffix(".qdpx.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", ET.tostring(project, encoding="utf-8", xml_declaration=True))
        for iid, text in texts.items():
            zf.writestr(f"Sources/{_guid('source', iid)}.txt", text.encode("utf-8"))
    tmp.replace(path)
    return path
