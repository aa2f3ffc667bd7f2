"""Read interview transcripts (TXT, VTT, SRT, DOCX) into numbered turns (SPEC §1).

A *turn* is a run of consecutive text by one speaker: consecutive cues or lines of the same speaker
merge. Turns are numbered from 1 in file order, the interviewer's included.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from research.inputs.tables import ZIP_READ_ERRORS, check_zip, decode_text

TURN_COLUMNS = ["turn", "speaker", "text", "start"]

_TIMESTAMP = re.compile(r"^\s*\[(\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d+)?\]\s*")
# "Name: text". A name is short, starts with a letter and holds no sentence punctuation.
_SPEAKER = re.compile(r"^\s*([^\W\d_][\w .'’()\-]{0,48}?)\s*:\s+(.*)$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"<[^>]*>")

#: Why a transcript in which no line or cue names a speaker is left out.
NO_SPEAKER_LABELS = "no speaker labels: write each turn as `Name: text`"


class TranscriptError(Exception):
    """A transcript that cannot be read; ``problem`` is the data-quality word it earns."""

    def __init__(self, problem: str, message: str):
        self.problem = problem
        super().__init__(message)


@dataclass
class Transcript:
    records: list[dict]  # one dict per turn: turn, speaker, text, start
    warning: str | None = None  # a recoverable oddity, e.g. malformed cues that were skipped

    @property
    def turns(self) -> pd.DataFrame:
        """The turns as a DataFrame with ``turn``, ``speaker``, ``text`` and ``start``."""
        return pd.DataFrame(self.records, columns=TURN_COLUMNS)

    @property
    def speakers(self) -> list[str]:
        """The speaker labels the file names, each once, in order of first turn (``[]`` when no
        line or cue names a speaker)."""
        return list(dict.fromkeys(rec["speaker"] for rec in self.records if rec["speaker"]))


def require_speakers(transcript: Transcript, name: str) -> Transcript:
    """``transcript`` when at least one line or cue names a speaker; else ``invalid_transcript``.

    Without any speaker label the whole file is one turn of nobody, and the interviewer's questions
    cannot be told from the answers: coding it would quote the interviewer as the respondent.

    Examples
    --------
    >>> require_speakers(Transcript([{"turn": 1, "speaker": "", "text": "Hi.", "start": 0.0}]),
    ...                  "a.txt")
    Traceback (most recent call last):
    ...
    research.inputs.transcripts.TranscriptError: no speaker labels: write each turn as `Name: text`
    """
    if transcript.speakers:
        return transcript
    hint = " (or `<v Name>text</v>`)" if str(name).lower().endswith(".vtt") else ""
    raise TranscriptError("invalid_transcript", NO_SPEAKER_LABELS + hint)


def split_speaker(line: str) -> tuple[str | None, str]:
    """Split ``"Name: text"`` into (name, text); (``None``, line) when the line names no speaker.

    Examples
    --------
    >>> split_speaker("Ana Ruiz: We meet weekly."), split_speaker("See https://example.com: later")
    (('Ana Ruiz', 'We meet weekly.'), (None, 'See https://example.com: later'))
    """
    m = _SPEAKER.match(line)
    if m and not m.group(1).lower().startswith(("http", "www")):
        return m.group(1).strip(), m.group(2).strip()
    return None, line.strip()


def _merge(pieces: list[tuple[str | None, str, float | None]]) -> list[dict]:
    """Merge consecutive pieces of a speaker; a piece without a speaker continues the last turn."""
    turns: list[dict] = []
    for speaker, text, start in pieces:
        if not text:
            continue
        if turns and (speaker is None or speaker == turns[-1]["speaker"]):
            turns[-1]["text"] += " " + text
            continue
        turns.append(
            {
                "turn": len(turns) + 1,
                "speaker": speaker or "",
                "text": text,
                "start": float("nan") if start is None else float(start),
            }
        )
    return turns


def _seconds(stamp: str) -> float:
    parts = [float(p.replace(",", ".")) for p in stamp.split(":")]
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return total


def _text_lines(lines: list[str]) -> list[dict]:
    pieces = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        start = None
        m = _TIMESTAMP.match(line)
        if m:
            start = _seconds(m.group(0).strip().strip("[]"))
            line = line[m.end() :]
        speaker, text = split_speaker(line)
        pieces.append((speaker, text, start))
    return _merge(pieces)


def _captions(text: str, fmt: str) -> Transcript:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    warning = None
    try:
        captions = webvtt.from_buffer(io.StringIO(text), format=fmt, strict=True)
    except (MalformedCaptionError, MalformedFileError, ValueError, IndexError):
        try:
            captions = webvtt.from_buffer(io.StringIO(text), format=fmt, strict=False)
        except (MalformedCaptionError, MalformedFileError, ValueError, IndexError) as exc:
            raise TranscriptError(
                "invalid_transcript", f"not a valid {fmt.upper()} file ({exc})"
            ) from None
        warning = "malformed cues were skipped"
    pieces = []
    for cap in captions:
        raw = cap.raw_text.replace("\r", "")
        voice = _VOICE.search(raw)
        # Cue timestamps: computed from the text so that milliseconds survive (webvtt drops them).
        start = _seconds(cap.start)
        for n, line in enumerate(raw.split("\n")):
            clean = _TAG.sub("", line).strip()
            if voice:
                pieces.append((voice.group(1).strip(), clean, start if n == 0 else None))
            else:
                speaker, clean = split_speaker(clean)
                pieces.append((speaker, clean, start if n == 0 else None))
    return Transcript(_merge(pieces), warning)


def read_transcript(path, name: str | None = None) -> Transcript:
    """Read one transcript into turns.

    Parameters
    ----------
    path : path-like
        A ``.txt``, ``.vtt``, ``.srt`` or ``.docx`` file.

    Returns
    -------
    Transcript
        ``turns``: DataFrame with ``turn`` (from 1), ``speaker`` (``""`` when the file names none),
        ``text`` and ``start`` (seconds, where the format has times); ``warning`` for recoverable
        oddities. A file without any speaker label is read (one turn of nobody); a study rejects
        it with :func:`require_speakers`.

    Raises
    ------
    TranscriptError
        ``empty_transcript`` when the file holds no text, ``invalid_transcript`` when it cannot be
        parsed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = p.write_text("[00:00:01] Interviewer: Hello.\\nAna: Hi.\\nstill Ana\\nAna: more")
    >>> read_transcript(p).turns[["turn", "speaker", "text"]].values.tolist()
    [[1, 'Interviewer', 'Hello.'], [2, 'Ana', 'Hi. still Ana more']]
    """
    path = Path(path)
    name = name or path.name
    suffix = path.suffix.lower()
    if suffix == ".docx":
        turns = _read_docx(path, name)
        result = Transcript(turns)
    else:
        raw = path.read_bytes()
        text = decode_text(raw).replace("\r\n", "\n").replace("\r", "\n")
        if not text.strip():
            raise TranscriptError("empty_transcript", "the file holds no text")
        if suffix == ".vtt":
            result = _captions(text, "vtt")
        elif suffix == ".srt":
            result = _captions(text, "srt")
        elif suffix == ".txt":
            result = Transcript(_text_lines(text.split("\n")))
        else:
            raise TranscriptError("invalid_transcript", f"unsupported transcript type {suffix!r}")
    if not result.records:
        raise TranscriptError("empty_transcript", "the file holds no spoken text")
    return result


def _read_docx(path: Path, name: str) -> list[dict]:
    """Paragraphs of a Word file, read as text lines.

    Only the main document part is parsed, with python-docx's own parser and its ``Paragraph.text``
    (the same paragraphs and text as ``docx.Document(path).paragraphs``): opening the whole package
    loads styles, fonts and theme too, about 7 ms a file against 0.5 ms, which counts when a study
    has thousands.

    An unsafe or damaged archive (:func:`research.inputs.tables.check_zip`, and the zip errors of
    :data:`research.inputs.tables.ZIP_READ_ERRORS` while the part is read), a package without
    ``word/document.xml`` (``KeyError``), a part that is not XML (``lxml.etree.XMLSyntaxError``) or
    that is not a Word document with a body, and a file the system cannot read (``OSError``), is an
    ``invalid_transcript``; anything else is our bug and propagates.
    """
    import zipfile

    from docx.oxml import parse_xml
    from docx.oxml.document import CT_Document
    from docx.text.paragraph import Paragraph
    from lxml.etree import XMLSyntaxError

    from research.errors import StudyError

    try:
        check_zip(path, name)
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("word/document.xml")
            root = parse_xml(zf.read(info))
    except StudyError as exc:
        raise TranscriptError("invalid_transcript", exc.message) from None
    except (KeyError, XMLSyntaxError, OSError, *ZIP_READ_ERRORS) as exc:
        raise TranscriptError(
            "invalid_transcript", f"not a readable Word file ({type(exc).__name__})"
        ) from None
    body = root.body if isinstance(root, CT_Document) else None
    if body is None:
        raise TranscriptError("invalid_transcript", "not a readable Word file (no document body)")
    return _text_lines([Paragraph(p, None).text for p in body.p_lst])
