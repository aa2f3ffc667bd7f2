"""Export of a coded, pseudonymised study as a REFI-QDA project (``.qdpx``).

For NVivo, MAXQDA, ATLAS.ti and other tools that import the exchange standard.

One text source per interview (pseudonymised speakers, names redacted), the codebook's themes as
codes, the automatic coding (coder ``research-codebook``) and every human coder's codes as codings,
and one case per interviewee carrying role and company.

References
----------
.. [1] REFI-QDA Project (2019). *REFI-QDA Project exchange standard*, version 1.5 (the ``.qdpx``
   archive and its ``project.qde`` XML, namespace ``urn:QDA-XML:project:1.0``).
   https://www.qdasoftware.org
"""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from research import __version__
from research.analysis.interviews import redactor
from research.inputs.privacy import speaker_map

NS = "urn:QDA-XML:project:1.0"
AUTO_CODER = "research-codebook"


def _guid(*parts) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "research-qdpx:" + ":".join(map(str, parts))))


def _sub(parent, tag, **attrs):
    return ET.SubElement(
        parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items() if v is not None}
    )


def _users_and_codes(project, study) -> None:
    """``Users`` (the automatic coder, then the human ones), ``CodeBook`` and ``Variables``."""
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


def _texts(study, names: pd.DataFrame) -> tuple[dict[str, str], dict[str, dict]]:
    """Each interview's plain text (pseudonymised speakers, redacted turns) and its turns' spans."""
    redact = redactor(study)
    labels = {(r.interview_id, r.speaker): r.pseudonym for r in names.itertuples()}
    lines, selections, ends = {}, {}, {}
    turns = study.turns
    # one pass over the columns, interviews in order of first appearance (as groupby(sort=False)
    # gives them, turns without an interview left out), not a frame and a row tuple per turn
    columns = (turns[c] for c in ("interview_id", "turn", "speaker", "text"))
    for iid, turn, speaker, text in zip(*columns, strict=True):
        if pd.isna(iid):
            continue
        # "Sales VP (C-014): ..." - a speaker label the plain-text transcript reader recognises
        # again.
        label = labels.get((iid, speaker), "Speaker").replace(", ", " (", 1)
        label = label + ")" if "(" in label else label
        line = f"{label}: {redact.redact(text)}"
        pos = ends.get(iid, 0)
        selections.setdefault(iid, {})[turn] = (pos, pos + len(line))
        lines.setdefault(iid, []).append(line)
        ends[iid] = pos + len(line) + 1
    texts = {iid: "\n".join(part) + "\n" for iid, part in lines.items()}
    return texts, selections


def _cases(project, study, names: pd.DataFrame) -> None:
    """One ``Case`` per interviewee (by pseudonym): role, company and the interview's source."""
    cases = _sub(project, "Cases")
    interviewee = names[names["pseudonym"] != "Interviewer"].drop_duplicates("interview_id")
    case_names = dict(zip(interviewee["interview_id"], interviewee["pseudonym"], strict=True))
    for iv in study.interviews.itertuples():
        case = _sub(
            cases,
            "Case",
            guid=_guid("case", iv.respondent_id),
            name=case_names.get(iv.interview_id, "Respondent"),
        )
        for var, value in (("role", iv.role), ("company_id", iv.company_id)):
            vv = _sub(case, "VariableValue")
            _sub(vv, "VariableRef", targetGUID=_guid("variable", var))
            _sub(vv, "TextValue").text = str(value)
        _sub(case, "SourceRef", targetGUID=_guid("source", iv.interview_id))


def _applied(coded: pd.DataFrame, manual: pd.DataFrame) -> dict[str, set[tuple[int, str, str]]]:
    """(segment, coder, theme) by interview: the automatic coding and each human coder's, read
    from the columns in one pass each (not a filter of the coders' table per interview)."""
    applied = {}
    for iid, segment, themes in zip(
        coded["interview_id"], coded["segment"], coded["themes"], strict=True
    ):
        for theme in str(themes).split(";"):
            if theme:
                applied.setdefault(iid, set()).add((int(segment), AUTO_CODER, theme))
    columns = (manual[c] for c in ("interview_id", "segment", "coder", "theme"))
    for iid, segment, coder, theme in zip(*columns, strict=True):
        applied.setdefault(iid, set()).add((int(segment), coder, theme))
    return applied


def _sources(
    project, texts: dict, selections: dict, coded: pd.DataFrame, manual: pd.DataFrame
) -> None:
    """A ``TextSource`` per interview, a ``PlainTextSelection`` and ``Coding`` per code applied."""
    applied = _applied(coded, manual)
    sources = _sub(project, "Sources")
    for iid in texts:
        src = _sub(
            sources,
            "TextSource",
            guid=_guid("source", iid),
            name=iid,
            plainTextPath=f"internal://{_guid('source', iid)}.txt",
        )
        spans = selections[iid]
        for segment, coder, theme in sorted(applied.get(iid, ())):
            if segment not in spans:
                continue
            start, end = spans[segment]
            sel = _sub(
                src,
                "PlainTextSelection",
                guid=_guid("sel", iid, segment, coder, theme),
                name="",
                startPosition=start,
                endPosition=end,
                creatingUser=_guid("user", coder),
            )
            coding = _sub(
                sel,
                "Coding",
                guid=_guid("coding", iid, segment, coder, theme),
                creatingUser=_guid("user", coder),
            )
            _sub(coding, "CodeRef", targetGUID=_guid("code", theme))


def _write_archive(project, texts: dict, path: Path) -> None:
    """``project.qde`` and one text file per source, via a temporary file that replaces ``path``."""
    tmp = path.with_suffix(".qdpx.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", ET.tostring(project, encoding="utf-8", xml_declaration=True))
        for iid, text in texts.items():
            zf.writestr(f"Sources/{_guid('source', iid)}.txt", text.encode("utf-8"))
    tmp.replace(path)


def export_study(study, coded: pd.DataFrame, path) -> Path:
    """Write the coded, pseudonymised study as a REFI-QDA project; return the path.

    The steps: users and codes (with the case variables), cases, sources with their selections and
    codings, and the archive. Guids are derived from names (uuid5), so the same study writes the
    same project.

    Parameters
    ----------
    study : Study
        The study read by :func:`research.inputs.study.read_study`.
    coded : DataFrame
        :func:`research.analysis.interviews.coded_segments` (pseudonymised speakers, redacted text).
    path : path-like
        The ``.qdpx`` file to write (its folder is created).

    Returns
    -------
    Path

    References
    ----------
    .. [1] REFI-QDA Project (2019). *REFI-QDA Project exchange standard*, version 1.5.
       https://www.qdasoftware.org
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.register_namespace("", NS)
    project = ET.Element(
        f"{{{NS}}}Project", {"name": study.name, "origin": f"research {__version__}"}
    )
    _users_and_codes(project, study)
    names = speaker_map(study.turns, study.respondents)
    texts, selections = _texts(study, names)
    _cases(project, study, names)
    _sources(project, texts, selections, coded, study.manual_codes)
    _write_archive(project, texts, path)
    return path
