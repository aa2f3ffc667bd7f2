"""``research new DIR``: write a new, empty study folder to fill in (SPEC §3).

The folder holds a commented ``study.yaml`` (every key of SPEC §1 explained, the optional ones
commented out, every path relative), templates whose columns are exactly those the study needs, one
short example transcript per format and a ``README.md`` saying what to fill in:

- ``respondents.csv`` / ``respondents.xlsx``: ``respondent_id``, ``company_id``, ``role`` and the
  company attributes the built-in decision table tests (read from its ``attr:`` conditions, not
  written out here);
- ``survey.csv`` / ``survey.xlsx``: ``respondent_id`` and every item id of the named instruments, in
  order; an instrument given as a YAML path is copied into the folder, so the study is
  self-contained;
- ``interviews.csv``: ``interview_id``, ``respondent_id``, ``file``, ``interviewer``;
- ``transcripts/example.txt``, ``.vtt``, ``.srt`` and ``.docx``: one short, made-up exchange in each
  format.

The templates hold a header only, no example rows: a made-up respondent left in by mistake would be
analysed as a real one. So ``research validate`` on the fresh folder stops with exit status 2 and
one line, ``respondents.csv: the file holds no respondents, only a header``: the first thing to fill
in. Once the respondents are in, the folder validates as it stands. The Excel templates carry a
second sheet explaining each column (the toolkit reads only the first sheet).

Nothing is written unless every instrument is valid, and nothing ever goes into a folder that
already holds something: the folder is built next to its destination and moved into place whole.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import yaml

from research.errors import StudyError
from research.spec.decisions import load_decision_table
from research.spec.instruments import ID_COLUMNS, Instrument, load_instrument

DEFAULT_INSTRUMENTS = ("builtin:smr", "builtin:perceptions")
INTERVIEW_COLUMNS = ["interview_id", "respondent_id", "file", "interviewer"]
TRANSCRIPT_FORMATS = ("txt", "vtt", "srt", "docx")

_ID_MEANING = {
    "respondent_id": (
        "the person's identifier, as text (007 stays 007); each respondent appears once"
    ),
    "company_id": (
        "the company the person works for; a marketing and a sales respondent of one company "
        "form a dyad"
    ),
    "role": (
        "the person's function as your data spells it; study.yaml's roles map each spelling to "
        "marketing or sales"
    ),
}

# One made-up exchange (who, when in seconds, what), written in every transcript format.
_EXAMPLE = [
    ("Interviewer", 5, "How do marketing and sales work together in your company?"),
    ("Alex Example", 12, "We meet every Monday to go through the pipeline."),
    ("Alex Example", 20, "Since last year marketing joins that meeting too."),
    ("Interviewer", 31, "What would you change?"),
    ("Alex Example", 36, "Shared targets for leads and revenue, so nobody blames the other side."),
]


def decision_attributes(ref: str = "builtin:default") -> dict[str, list[str]]:
    """The company attributes a decision table tests (``attr:NAME``), in order of first use, each
    with the comparisons the rules make on it in words.

    Examples
    --------
    >>> attrs = decision_attributes()
    >>> list(attrs)[:2], attrs["conflict"]
    (['company_size', 'conflict'], ['is no', 'is yes'])
    """
    table = load_decision_table(ref)
    out: dict[str, list[str]] = {}
    for rule in table.rules:
        for cond in (*rule.all, *rule.any):
            if cond.field.startswith("attr:"):
                name = cond.field.removeprefix("attr:")
                words = cond.words().removeprefix(name.replace("_", " ")).strip()
                out.setdefault(name, [])
                if words not in out[name]:
                    out[name].append(words)
    return {name: sorted(tests) for name, tests in out.items()}


def _instruments(refs) -> list[tuple[str, Instrument, Path | None]]:
    """(reference for study.yaml, instrument, file to copy) for every reference; a path is taken
    relative to the current folder. Raises :class:`StudyError` for an invalid instrument or an item
    id used twice."""
    if isinstance(refs, str):
        refs = [refs]
    if not refs:
        raise StudyError("research new", "option '--instruments'", "name at least one instrument")
    out, names, items = [], set(), {}
    for ref in refs:
        ref = str(ref)
        if ref.startswith("builtin:"):
            out.append((ref, load_instrument(ref), None))
            continue
        path = Path(ref).expanduser().resolve()
        inst = load_instrument(str(path))
        name, n = path.name, 2
        while name in names or name in {"study.yaml", "README.md"}:
            name, n = f"{path.stem}-{n}{path.suffix}", n + 1
        names.add(name)
        out.append((name, inst, path))
    for _, inst, _ in out:
        for item in inst.item_ids:
            if item in items:
                raise StudyError(
                    inst.source,
                    f"item '{item}'",
                    f"the item id is also in instrument {items[item]!r}; "
                    "a survey has one column per item id, so ids must differ across instruments",
                )
            items[item] = inst.id
    return out


def new_study(folder, instruments=DEFAULT_INSTRUMENTS, name: str | None = None) -> Path:
    """Write a new, empty study folder to fill in; return its absolute path.

    Parameters
    ----------
    folder : path-like
        The folder to create (relative to the current folder). It may exist only if it is empty.
    instruments : sequence of str
        ``builtin:NAME`` or paths to instrument YAML files (copied into the folder).
    name : str, optional
        The study's name (default: the folder's name).

    Raises
    ------
    StudyError
        The folder is not empty or is a file, or an instrument is invalid. Nothing is written then.

    Examples
    --------
    >>> import tempfile
    >>> root = new_study(Path(tempfile.mkdtemp()) / "pharma-2026", ["builtin:smr"])
    >>> sorted(p.name for p in root.iterdir())[:4]
    ['README.md', 'interviews.csv', 'respondents.csv', 'respondents.xlsx']
    >>> (root / "survey.csv").read_text().split(",")[:3]
    ['respondent_id', 'SMR01', 'SMR02']
    """
    target = Path(folder).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise StudyError(str(folder), "", "is a file; research new writes a new study folder")
    if target.is_dir() and any(target.iterdir()):
        raise StudyError(
            str(folder),
            "",
            "the folder is not empty; research new writes only into a new or empty "
            "folder, so that nothing of yours is overwritten",
        )
    chosen = _instruments(instruments)
    attributes = decision_attributes()
    study_name = name or target.name
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for ref, _, source in chosen:
            if source is not None:
                shutil.copyfile(source, tmp / ref)
        respondent_columns = ID_COLUMNS + list(attributes)
        survey_columns = ["respondent_id"] + [
            item for _, inst, _ in chosen for item in inst.item_ids
        ]
        _write_csv(tmp / "respondents.csv", respondent_columns)
        _write_csv(tmp / "survey.csv", survey_columns)
        _write_csv(tmp / "interviews.csv", INTERVIEW_COLUMNS)
        _write_xlsx(
            tmp / "respondents.xlsx",
            "respondents",
            respondent_columns,
            [["column", "what it holds"]]
            + [[c, _ID_MEANING[c]] for c in ID_COLUMNS]
            + [[a, _attribute_note(a, tests)] for a, tests in attributes.items()],
        )
        _write_xlsx(tmp / "survey.xlsx", "survey", survey_columns, _item_rows(chosen))
        _write_transcripts(tmp / "transcripts")
        (tmp / "study.yaml").write_text(
            _study_yaml(study_name, [ref for ref, _, _ in chosen]), "utf-8"
        )
        (tmp / "README.md").write_text(_readme(study_name, chosen, attributes), "utf-8")
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(
            0o777 & ~umask
        )  # mkdtemp makes a private folder; the study gets the usual permissions
        if target.is_dir():
            # empty, checked above; a folder that filled up meanwhile is left alone (OSError)
            target.rmdir()
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# ---- the files -----------------------------------------------------------------------------------


def _write_csv(path: Path, columns: list[str]) -> None:
    path.write_text(",".join(columns) + "\n", "utf-8")


def _write_xlsx(path: Path, sheet: str, columns: list[str], notes: list[list]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    data = book.active
    data.title = sheet
    data.append(columns)
    for cell in data[1]:
        cell.font = Font(bold=True)
    for k, col in enumerate(columns, start=1):
        letter = data.cell(row=1, column=k).column_letter
        data.column_dimensions[letter].width = max(12, len(col) + 2)
        if col in ("respondent_id", "company_id"):
            data.column_dimensions[letter].number_format = "@"  # text: Excel keeps 007 as 007
    data.freeze_panes = "A2"
    help_sheet = book.create_sheet("how to fill in")
    help_sheet.append(
        [
            f"Fill in the first sheet ('{sheet}'), one row per respondent under its header. "
            "The toolkit reads only the first sheet; this one is for you."
        ]
    )
    help_sheet.append([])
    for row in notes:
        help_sheet.append(row)
    book.save(path)


def _attribute_note(name: str, tests: list[str]) -> str:
    return (
        "company attribute used by the built-in decision table: its rules test whether it "
        f"{' / '.join(tests)}; leave blank when unknown (rules on it are then reported as not "
        "assessable)"
    )


def _item_rows(chosen) -> list[list]:
    rows = [
        ["column", "instrument", "subscale", "reverse-keyed", "answers", "item text"],
        ["respondent_id", "", "", "", "", "the respondent_id of the respondents file"],
    ]
    for _, inst, _ in chosen:
        answers = (
            f"{inst.scale_min:g} to {inst.scale_max:g}"
            + (f" or a label: {', '.join(inst.labels)}" if inst.labels else "")
            + "; blank if not answered"
        )
        for item in inst.items:
            rows.append(
                [item.id, inst.id, item.subscale, "yes" if item.reverse else "", answers, item.text]
            )
    return rows


def _write_transcripts(folder: Path) -> None:
    folder.mkdir()
    lines = [f"[{_clock(t)}] {who}: {text}" for who, t, text in _EXAMPLE]
    (folder / "example.txt").write_text("\n".join(lines) + "\n", "utf-8")
    cues = [
        (who, t, _EXAMPLE[k + 1][1] if k + 1 < len(_EXAMPLE) else t + 6, text)
        for k, (who, t, text) in enumerate(_EXAMPLE)
    ]
    vtt = ["WEBVTT", ""]
    for who, start, end, text in cues:  # Teams style: voice tags
        vtt += [f"{_clock(start)}.000 --> {_clock(end)}.000", f"<v {who}>{text}</v>", ""]
    (folder / "example.vtt").write_text("\n".join(vtt), "utf-8")
    srt = []
    for k, (who, start, end, text) in enumerate(cues, start=1):  # Zoom style: "Name: text"
        srt += [str(k), f"{_clock(start)},000 --> {_clock(end)},000", f"{who}: {text}", ""]
    (folder / "example.srt").write_text("\n".join(srt), "utf-8")
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(folder / "example.docx"))


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


#: ``study.yaml`` of a new study: ``{name}`` (quoted YAML) and ``{instruments}`` (the refs as JSON
#: strings) are filled in by :func:`_study_yaml`.
_STUDY_YAML = """\
# study.yaml: the settings of one study, written by `research new`. Every path is relative to this \
folder.
# Fill in the files first (README.md says how), then check the study with:  research validate \
<this folder>
# Lines starting with # are comments. An optional setting is commented out: remove its # to use it.

# The study's name; a slug of it names the output folders (reports/<slug>/ and \
data/processed/<slug>/).
name: {name}

# Respondents: one row per person with respondent_id, company_id and role, plus any attributes \
(company_size ...).
# A .csv, .xlsx or .sav file. respondents.xlsx is the same template for Excel: name the one you \
fill in.
respondents: respondents.csv

# The survey answers: respondent_id plus one column per item of the instruments; extra columns are \
ignored.
# A .csv (plain or a Qualtrics export), .xlsx or .sav file; it may be the respondents file itself.
# survey.xlsx is the same template for Excel.
survey: survey.csv

# The survey column holding respondent_id (default: respondent_id), e.g. an embedded-data field of \
Qualtrics.
# survey_id_column: respondent_id

# Qualtrics rows with Finished = 0 or False are left out (and logged) unless this is true.
# include_unfinished: false

# The questionnaires: built-in names (builtin:smr, builtin:perceptions) or paths to instrument \
YAML files.
# The survey templates have exactly these instruments' item ids as columns.
instruments: [{instruments}]

# Raw role labels, as the respondents file's role column spells them, for the two functions \
compared.
# Matched case-insensitively after trimming; list every spelling your file uses. Other labels are \
left out (logged).
roles:
  marketing: [marketing, marketing manager]
  sales: [sales, vp sales]

# Interviews (optional; remove the # of these three lines when interviews.csv is filled in). \
interviews.csv lists
# interview_id, respondent_id, file (a file in the transcripts folder: .txt, .vtt, .srt or .docx) \
and interviewer
# (the interviewer's speaker label in that file). The codebook codes the interviewees' segments: \
builtin:default
# or a codebook YAML path.
# interviews: interviews.csv
# transcripts: transcripts/
# codebook: builtin:default

# Human coders' codes (optional): a CSV with interview_id, segment, coder, theme.
# manual_codes: codes.csv

# Free-text survey columns, coded with the same codebook (optional).
# open_ended: [Q30_comment]

# Numeric respondents-file columns holding company outcomes (optional); a company's outcome is the \
mean of its rows.
# outcomes: [conflict, performance]

# The rules that recommend what a company should do next: builtin:default or a decision-table YAML \
path.
# decision_table: builtin:default
"""


def _study_yaml(name: str, refs: list[str]) -> str:
    """The commented ``study.yaml`` of a new study named ``name`` with the instruments ``refs``."""
    return _STUDY_YAML.format(
        name=yaml.safe_dump(name, default_style='"').strip(),
        instruments=", ".join(json.dumps(r) for r in refs),
    )


#: ``README.md`` of a new study: ``{name}``, ``{attrs}`` (the company attributes the rules test)
#: and ``{instruments}`` (each instrument's items) are filled in by :func:`_readme`.
_README = """\
# {name}

A new study folder written by `research new`. Fill in the files below, then check and run the \
study from any
folder:

```
research validate path/to/this/folder
research run path/to/this/folder
```

Nothing is ever written inside this folder: reports go to `reports/<slug>/` and processed data to
`data/processed/<slug>/` under the folder you run the command from (under this folder's parent \
when you run it
from inside). `study.yaml` explains every setting; the optional ones are commented out.

The templates hold a header only. Until `respondents.csv` has rows, `research validate` stops with \
one line
saying so: that is the first file to fill in.

## 1. Respondents: `respondents.csv` (or `respondents.xlsx`)

One row per person. Required: `respondent_id` (text: `007` stays `007`), `company_id`, `role` (as \
your data
spells it; `study.yaml`'s `roles` maps each spelling to marketing or sales). The other columns are \
company
attributes the built-in decision table uses; leave a cell blank when unknown (a rule that needs it \
is then
reported as not assessable, never guessed), delete a column you do not have, add any others you \
want kept:

{attrs}

Columns that identify a person (`name`, `email`, `phone` ...) may be added: they are used only to \
remove names
from quoted text and never appear in a report.

Fill in either the CSV or the Excel file and name it in `study.yaml`'s `respondents`; delete the \
other.

## 2. Survey: `survey.csv` (or `survey.xlsx`)

One row per respondent: `respondent_id` and one column per item, exactly these instruments' items \
in order.
An answer is a number in the instrument's range or one of its response labels (any case); blank is \
not
answered. A Qualtrics CSV export or an SPSS file with these columns works as it is: name it in \
`survey`.
The Excel template's second sheet lists each item's text and answers.

{instruments}

## 3. Interviews (optional): `interviews.csv` and `transcripts/`

`interviews.csv`: `interview_id`, `respondent_id`, `file` (a file in `transcripts/`), \
`interviewer` (the
interviewer's speaker label in that file). `transcripts/` holds one made-up example per format
(`example.txt`: `Speaker: text` lines with an optional `[hh:mm:ss]`; `example.vtt`: Teams voice \
tags;
`example.srt`: Zoom's `Name: text`; `example.docx`: paragraphs as the text lines); replace them \
with your
transcripts. Then remove the `#` of `interviews`, `transcripts` and `codebook` in `study.yaml`.
"""


def _readme(name: str, chosen, attributes: dict[str, list[str]]) -> str:
    """The ``README.md`` of a new study: what to fill in, file by file."""
    instruments = "\n".join(
        f"- `{ref}`: {inst.title} ({len(inst.items)} items, answers {inst.scale_min:g} to "
        f"{inst.scale_max:g}): {', '.join(inst.item_ids)}"
        for ref, inst, _ in chosen
    )
    attrs = "\n".join(
        f"- `{a}`: the rules test whether it {' / '.join(tests)}" for a, tests in attributes.items()
    )
    return _README.format(name=name, attrs=attrs, instruments=instruments)
