"""Read a study folder (``study.yaml`` and the files it names) into a validated :class:`Study`.

Fatal problems raise :class:`~research.quality.StudyError`; recoverable ones are logged in
``study.quality`` and the offending cell, row or interview is set aside, as SPEC §4 says.
Nothing in the study folder is ever written to.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# Imported with this module, not on the first read: the kernels of ``research run`` import it once,
# in the process they are forked from.
import pyarrow.parquet as pq

from research import __version__
from research.errors import StudyError
from research.files import checksum_folder, swap_into_place
from research.inputs.config import did_you_mean, read_config
from research.inputs.privacy import speaker_map
from research.inputs.quality import QualityLog
from research.inputs.tables import read_table
from research.inputs.transcripts import TranscriptError, read_transcript, require_speakers
from research.paths import slugify  # noqa: F401  (research.inputs.study.slugify, as before)
from research.spec.codebook import Codebook, load_codebook
from research.spec.decisions import DecisionTable, load_decision_table
from research.spec.instruments import Instrument, keyed, load_instrument, score

_FALSE_FINISHED = {"0", "false", "f", "no", "n", "0.0"}

#: The environment variable ``research run`` sets in its kernels: a file that holds, once the run
#: has checked the processed data against the raw folder, the SHA-256 of that processed manifest
#: (:func:`vouch_for`, read by :func:`open_study`).
VERIFIED_ENV = "RESEARCH_VERIFIED_MANIFEST"


@dataclass
class Study:
    """A study read, checked and tidied: every frame is long or one row per unit.

    Attributes
    ----------
    respondents : one row per kept respondent: ``respondent_id``, ``company_id``, ``role``,
        attributes.
    responses : one row per respondent and item: ``respondent_id``, ``company_id``, ``role``,
        ``instrument``, ``item``, ``subscale``, ``value`` (as answered) and ``keyed``.
    scores : one row per respondent and instrument (see :func:`research.instruments.score`).
    turns : one row per transcript turn: ``interview_id``, ``turn``, ``speaker``, ``text``,
        ``start``, ``respondent_id``, ``role``, ``company_id``, ``is_interviewer``.
    manual_codes : ``interview_id``, ``segment``, ``coder``, ``theme``.
    open_answers : ``respondent_id``, ``company_id``, ``role``, ``column``, ``text``.
    """

    name: str
    slug: str
    root: Path
    config: dict
    instruments: list[Instrument]
    respondents: pd.DataFrame
    responses: pd.DataFrame
    scores: pd.DataFrame
    interviews: pd.DataFrame
    turns: pd.DataFrame
    manual_codes: pd.DataFrame
    open_answers: pd.DataFrame
    codebook: Codebook | None
    decision_table: DecisionTable | None
    quality: QualityLog = field(default_factory=QualityLog)
    checksums: dict = field(default_factory=dict)

    def instrument(self, instrument_id: str) -> Instrument:
        for inst in self.instruments:
            if inst.id == instrument_id:
                return inst
        raise KeyError(
            f"no instrument {instrument_id!r} in this study; it has "
            f"{[i.id for i in self.instruments]}"
        )

    def wide(self, instrument_id: str, keyed_values: bool = True) -> pd.DataFrame:
        """One row per respondent, one column per item of the instrument (keyed by default)."""
        inst = self.instrument(instrument_id)
        part = self.responses[self.responses["instrument"] == instrument_id]
        wide = part.pivot(
            index="respondent_id", columns="item", values="keyed" if keyed_values else "value"
        )
        wide = wide.reindex(columns=inst.item_ids)
        ids = self.respondents.set_index("respondent_id")[["company_id", "role"]]
        out = ids.join(wide, how="inner").reset_index()
        return out

    @property
    def segments(self) -> pd.DataFrame:
        """Respondent segments: turns whose speaker is not the interviewer, numbered as turns."""
        seg = self.turns[~self.turns["is_interviewer"]].rename(columns={"turn": "segment"})
        return seg.reset_index(drop=True)

    # ---- processed data -------------------------------------------------------------------------
    TABLES = (
        "respondents",
        "responses",
        "scores",
        "interviews",
        "turns",
        "manual_codes",
        "open_answers",
    )

    def save(self, folder) -> Path:
        """Write the processed study to ``folder`` as Parquet, atomically (a temporary folder, then
        a rename)."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            for table in self.TABLES:
                getattr(self, table).to_parquet(tmp / f"{table}.parquet", index=False)
            self.quality.frame().to_parquet(tmp / "data_quality.parquet", index=False)
            # The only place real names and pseudonyms meet: kept in the processed folder, never in
            # reports.
            speaker_map(self.turns, self.respondents).to_parquet(
                tmp / "pseudonyms.parquet", index=False
            )
            manifest = {
                "name": self.name,
                "slug": self.slug,
                "root": str(self.root.resolve()),
                "config": self.config,
                "checksums": self.checksums,
                "toolkit_version": __version__,
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), "utf-8")
            swap_into_place(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return folder

    @classmethod
    def load(cls, folder, manifest: dict | None = None) -> Study:
        """Read a processed study written by :meth:`save` (``manifest``: its manifest, when the
        caller has read it already)."""
        folder = Path(folder)
        if manifest is None:
            manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        root = Path(manifest["root"])
        config = manifest["config"]
        frames = {t: _read_parquet(folder / f"{t}.parquet") for t in cls.TABLES}
        quality = QualityLog()
        quality.extend(_read_parquet(folder / "data_quality.parquet"))
        instruments = [load_instrument(ref, root) for ref in config["instruments"]]
        codebook = load_codebook(config["codebook"], root) if config.get("codebook") else None
        decisions = (
            load_decision_table(config["decision_table"], root)
            if config.get("decision_table")
            else None
        )
        return cls(
            manifest["name"],
            manifest["slug"],
            root,
            config,
            instruments,
            codebook=codebook,
            decision_table=decisions,
            quality=quality,
            checksums=manifest["checksums"],
            **frames,
        )


def _read_parquet(path: Path) -> pd.DataFrame:
    """``pandas.read_parquet(path)`` for a file :meth:`Study.save` wrote (one local file): read as
    pandas reads it (its pandas metadata, then its ``attrs``), without the dataset layer pandas
    goes through, which on small files costs as much as the reading (the demo's processed study:
    6.4 ms instead of 10 ms)."""
    with pq.ParquetFile(path) as file:
        table = file.read(use_pandas_metadata=True)
    frame = table.to_pandas()
    attrs = (table.schema.metadata or {}).get(b"PANDAS_ATTRS")
    if attrs:
        frame.attrs = json.loads(attrs)
    return frame


def _file(root: Path, config: dict, key: str) -> Path:
    path = root / config[key]
    if not path.exists():
        raise StudyError(
            str(config[key]), "", f"file named by study.yaml key '{key}' not found in {root}"
        )
    return path


def _require_columns(frame: pd.DataFrame, columns, name: str) -> None:
    for col in columns:
        if col not in frame.columns:
            raise StudyError(
                name,
                f"column '{col}'",
                f"required column is missing (found: {', '.join(map(str, frame.columns))})",
            )


# ---- respondents ---------------------------------------------------------------------------------


def _read_respondents(root, config, log) -> pd.DataFrame:
    """The respondents file: one row per kept respondent, roles mapped; problems logged."""
    name = config["respondents"]
    frame, _ = read_table(_file(root, config, "respondents"), name)
    _require_columns(frame, ["respondent_id", "company_id", "role"], name)
    if frame.empty:
        raise StudyError(name, "", "the file holds no respondents, only a header")
    frame["_row"] = np.arange(2, len(frame) + 2)
    frame = _unique_respondents(frame, name, log)
    frame = _known_roles(frame, config, name, log)
    for _, row in frame[frame["company_id"].isna()].iterrows():
        log.add(
            name,
            row["respondent_id"],
            "company_id",
            "",
            "blank_id",
            "kept; left out of company and dyad analyses",
        )
    if frame.empty:
        raise StudyError(
            name,
            "column 'role'",
            "no respondent with a known role: nothing to analyse "
            f"(roles in study.yaml: {', '.join(config['roles'])})",
        )
    frame["role"] = frame["role"].astype("string")
    _require_columns(frame, config.get("outcomes", []), name)
    for col in config.get("outcomes", []):
        frame[col] = _outcome_values(frame, col, name, log)
    cols = ["respondent_id", "company_id", "role"] + [
        c for c in frame.columns if c not in {"respondent_id", "company_id", "role", "_row"}
    ]
    return frame[cols].reset_index(drop=True)


def _unique_respondents(frame: pd.DataFrame, name: str, log) -> pd.DataFrame:
    """The rows with a respondent_id (a blank one logged and left out); a repeated id is fatal."""
    blank = frame["respondent_id"].isna()
    for row in frame.loc[blank, "_row"]:
        log.add(name, f"row {row}", "respondent_id", "", "blank_id")
    frame = frame[~blank]
    dup = frame["respondent_id"].duplicated(keep="first")
    if dup.any():
        first = frame.loc[dup].iloc[0]
        raise StudyError(
            name,
            f"row {first['_row']}, column 'respondent_id'",
            f"duplicate respondent_id {first['respondent_id']!r}; each respondent must appear once",
        )
    return frame


def _known_roles(frame: pd.DataFrame, config: dict, name: str, log) -> pd.DataFrame:
    """Roles mapped to marketing or sales by study.yaml's labels; other labels logged, left out."""
    lookup = {
        str(label).strip().lower(): role
        for role, labels in config["roles"].items()
        for label in labels
    }
    raw_role = frame["role"].astype("string").str.strip().str.lower()
    frame["role_label"] = frame["role"]
    frame["role"] = raw_role.map(lookup)
    listed = sorted(lookup)
    for _, row in frame[frame["role"].isna()].iterrows():
        label = "" if pd.isna(row["role_label"]) else str(row["role_label"])
        hint = did_you_mean(label, listed, cutoff=0.8) if label else ""
        log.add(
            name,
            row["respondent_id"],
            "role",
            label,
            "unknown_role",
            "respondent left out"
            + (
                f"; {hint.strip().removeprefix('(').removesuffix(')')} (a label listed under roles)"
                if hint
                else ""
            ),
        )
    return frame[frame["role"].notna()].copy()


def _outcome_values(frame: pd.DataFrame, column: str, name: str, log) -> pd.Series:
    """An ``outcomes`` column as numbers (``,`` accepted as the decimal mark); a cell that is not a
    number is logged as ``not_a_number`` and becomes missing; blank cells are missing values."""
    text = frame[column].astype("string").str.strip()
    values = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce").astype(float)
    for idx in np.flatnonzero((text.notna() & values.isna()).to_numpy()):
        log.add(name, frame["respondent_id"].iat[idx], column, text.iat[idx], "not_a_number")
    return values


def _fold(identifier) -> str:
    return re.sub(r"\s+", "", str(identifier)).casefold()


def _folded_ids(ids: pd.Series) -> dict[str, str]:
    """Respondent ids keyed by their case- and space-folded form (ids are compared exactly; this
    only hints)."""
    return {_fold(i): str(i) for i in ids.dropna()}


def _fold_hint(identifier, folded: dict[str, str]) -> str:
    """``; matches respondent 'R0001' when case and spaces are ignored`` when it does, else
    ``""``."""
    if identifier is None or pd.isna(identifier):
        return ""
    match = folded.get(_fold(identifier))
    return (
        f"; matches respondent {match!r} when case and spaces are ignored (ids are compared "
        "exactly)"
        if match
        else ""
    )


# ---- survey --------------------------------------------------------------------------------------


def _to_values(column: pd.Series, inst: Instrument) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Convert raw answers to numbers: returns (values, out_of_range mask, not_a_number mask)."""
    labels = inst.label_map()
    text = column.astype("string").str.strip()
    by_label = text.str.lower().map(labels)
    numeric = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    value = by_label.astype(float).fillna(numeric.astype(float))
    present = text.notna()
    nan = present & value.isna()
    oor = value.notna() & ((value < inst.scale_min) | (value > inst.scale_max))
    return value.where(~oor), oor, nan


def _read_survey(
    root, config, instruments, respondents, log, left_out=None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The survey file: every instrument's tidy answers and the open answers; problems logged.

    ``left_out`` holds the respondents already left out for their role (:func:`_left_out_for_role`):
    their rows go with them, without a row of their own in the log.
    """
    name = config["survey"]
    id_col = config["survey_id_column"]
    frame, _ = read_table(_file(root, config, "survey"), name, apply_labels=False)
    _require_columns(frame, [id_col], name)
    item_ids = [it.id for inst in instruments for it in inst.items]
    _require_columns(frame, item_ids + list(config["open_ended"]), name)
    frame = frame.rename(columns={id_col: "_sid"})
    frame = frame[frame["_sid"].notna()]
    frame = _finished_rows(frame, config, name, log)
    frame = _known_survey_rows(frame, respondents, id_col, name, log, left_out)

    ids = frame[["_sid"]].rename(columns={"_sid": "respondent_id"})
    ids = ids.merge(
        respondents[["respondent_id", "company_id", "role"]], on="respondent_id", how="left"
    )
    parts = [_instrument_responses(frame, ids, inst, name, log) for inst in instruments]
    responses = pd.concat(parts, ignore_index=True)[
        ["respondent_id", "company_id", "role", "instrument", "item", "subscale", "value", "keyed"]
    ]
    open_cols = list(config["open_ended"])
    if open_cols:
        opened = (
            pd.concat([ids, frame[open_cols]], axis=1)
            .melt(id_vars=list(ids.columns), var_name="column", value_name="text")
            .dropna(subset=["text"])
        )
        opened["text"] = opened["text"].astype(str)
    else:
        opened = pd.DataFrame(columns=["respondent_id", "company_id", "role", "column", "text"])
    return responses, opened.reset_index(drop=True)


def _finished_rows(frame: pd.DataFrame, config: dict, name: str, log) -> pd.DataFrame:
    """Unfinished Qualtrics responses logged, and left out unless ``include_unfinished``."""
    finished = next((c for c in frame.columns if c.lower() == "finished"), None)
    if finished is None:
        return frame
    unfinished = frame[finished].astype("string").str.strip().str.lower().isin(_FALSE_FINISHED)
    for sid in frame.loc[unfinished, "_sid"]:
        log.add(
            name,
            sid,
            finished,
            "0",
            "unfinished_response",
            "kept (include_unfinished: true)" if config["include_unfinished"] else "left out",
        )
    return frame if config["include_unfinished"] else frame[~unfinished]


def _known_survey_rows(
    frame: pd.DataFrame, respondents: pd.DataFrame, id_col: str, name: str, log, left_out=None
) -> pd.DataFrame:
    """The first survey row of each known respondent; unknown and repeated ids logged, left out.

    The rows of a respondent left out for an unknown role go with the respondent: one fault, one row
    of the log (the ``unknown_role`` row), not a second ``unknown_respondent`` row.
    """
    known = frame["_sid"].isin(respondents["respondent_id"])
    folded = _folded_ids(respondents["respondent_id"])
    for sid in frame.loc[~known, "_sid"]:
        if left_out and str(sid) in left_out:
            continue
        log.add(
            name,
            sid,
            id_col,
            sid,
            "unknown_respondent",
            "survey row left out" + _fold_hint(sid, folded),
        )
    frame = frame[known]
    dup = frame["_sid"].duplicated(keep="first")
    for sid in frame.loc[dup, "_sid"]:
        log.add(name, sid, id_col, sid, "duplicate_response")
    return frame[~dup].reset_index(drop=True)


def _instrument_responses(
    frame: pd.DataFrame, ids: pd.DataFrame, inst: Instrument, name: str, log
) -> pd.DataFrame:
    """One instrument's answers, long and keyed; answers out of range or not numbers logged."""
    values = pd.DataFrame(index=frame.index)
    for item in inst.items:
        val, oor, nan = _to_values(frame[item.id], inst)
        for idx in np.flatnonzero(oor.to_numpy()):
            log.add(name, frame["_sid"].iat[idx], item.id, frame[item.id].iat[idx], "out_of_range")
        for idx in np.flatnonzero(nan.to_numpy()):
            log.add(name, frame["_sid"].iat[idx], item.id, frame[item.id].iat[idx], "not_a_number")
        values[item.id] = val
    keyed_values = keyed(values, inst)
    long = pd.concat([ids, values], axis=1).melt(
        id_vars=list(ids.columns), var_name="item", value_name="value"
    )
    long["keyed"] = (
        pd.concat([ids, keyed_values], axis=1).melt(id_vars=list(ids.columns))["value"].to_numpy()
    )
    long["instrument"] = inst.id
    long["subscale"] = long["item"].map({it.id: it.subscale for it in inst.items})
    return long


# ---- interviews ----------------------------------------------------------------------------------

_TURN_COLS = [
    "interview_id",
    "turn",
    "speaker",
    "text",
    "start",
    "respondent_id",
    "company_id",
    "role",
    "is_interviewer",
]


def _read_interviews(
    root, config, respondents, log, left_out=None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The interviews kept and their transcripts' turns; problems logged. An interview of a
    respondent in ``left_out`` (left out for their role) goes with them, not logged again."""
    empty = (
        pd.DataFrame(
            columns=["interview_id", "respondent_id", "file", "interviewer", "company_id", "role"]
        ),
        pd.DataFrame(columns=_TURN_COLS),
    )
    if not config.get("interviews"):
        return empty
    name = config["interviews"]
    frame, folder = _interview_list(root, config, name)
    frame = frame.merge(
        respondents[["respondent_id", "company_id", "role"]], on="respondent_id", how="left"
    )
    folded = _folded_ids(respondents["respondent_id"])
    kept, turns = [], []
    folder_resolved = folder.resolve()
    for row in frame.itertuples(index=False):
        if pd.isna(row.role):
            if left_out and str(row.respondent_id) in left_out:
                continue
            log.add(
                name,
                row.interview_id,
                "respondent_id",
                row.respondent_id,
                "unknown_respondent",
                "interview left out" + _fold_hint(row.respondent_id, folded),
            )
            continue
        rel = "" if pd.isna(row.file) else str(row.file)
        path = (folder / rel).resolve()
        if not rel or not path.is_relative_to(folder_resolved) or not path.is_file():
            log.add(name, row.interview_id, "file", rel, "missing_transcript")
            continue
        transcript = _transcript(path, rel, row.interview_id, config, name, log)
        if transcript is None:
            continue
        turns += _interview_turns(row, transcript, _shown(config, rel), name, log)
        kept.append(row._asdict())
    interviews = pd.DataFrame(kept, columns=empty[0].columns)
    turns_frame = pd.DataFrame(turns, columns=_TURN_COLS) if turns else empty[1]
    if turns:
        for col in ("interview_id", "speaker", "text", "respondent_id", "company_id", "role"):
            turns_frame[col] = turns_frame[col].astype("string")
    return interviews.astype({"interview_id": "string"}), turns_frame


def _interview_list(root, config: dict, name: str) -> tuple[pd.DataFrame, Path]:
    """``interviews.csv`` and the transcripts folder, checked: columns, folder, unique ids."""
    frame, _ = read_table(_file(root, config, "interviews"), name)
    _require_columns(frame, ["interview_id", "respondent_id", "file", "interviewer"], name)
    folder = root / config["transcripts"]
    if not folder.is_dir():
        raise StudyError(
            str(config["transcripts"]), "", "transcripts folder named by study.yaml not found"
        )
    dup = frame["interview_id"].duplicated()
    if dup.any():
        raise StudyError(
            name,
            f"row {int(np.flatnonzero(dup)[0]) + 2}, column 'interview_id'",
            f"duplicate interview_id {frame.loc[dup, 'interview_id'].iloc[0]!r}",
        )
    return frame, folder


def _shown(config: dict, rel: str) -> str:
    """A transcript's path as the study folder holds it (``transcripts/a.txt``)."""
    return f"{str(config['transcripts']).rstrip('/')}/{rel}"


def _transcript(path: Path, rel: str, interview_id, config: dict, name: str, log):
    """One interview's transcript, its warning logged; None (logged) when it cannot be read or
    names no speaker at all (then the interviewer's questions cannot be told from the answers)."""
    try:
        shown = _shown(config, rel)
        transcript = require_speakers(read_transcript(path, shown), shown)
    except TranscriptError as exc:
        log.add(name, interview_id, "file", rel, exc.problem, f"interview left out: {exc}")
        return None
    if transcript.warning:
        log.add(
            name, interview_id, "file", rel, "invalid_transcript", f"kept: {transcript.warning}"
        )
    return transcript


_SPEAKERS_SHOWN = 8  # speaker labels a no_interviewer_turns row lists


def _interview_turns(row, transcript, shown: str, name: str, log) -> list[dict]:
    """One interview's turns, each marked interviewer or not. When no speaker is the interviewer,
    every turn is kept and coded, logged ``no_interviewer_turns`` with the file (``shown``) and the
    speakers found, so that a misspelt ``interviewer`` label can be fixed."""
    interviewer = "" if pd.isna(row.interviewer) else str(row.interviewer).strip().lower()
    said = False
    turns = []
    for rec in transcript.records:
        is_interviewer = rec["speaker"].strip().lower() == interviewer
        said |= is_interviewer
        turns.append(
            {
                "interview_id": row.interview_id,
                **rec,
                "respondent_id": row.respondent_id,
                "company_id": row.company_id,
                "role": row.role,
                "is_interviewer": is_interviewer,
            }
        )
    if not said:
        found = transcript.speakers
        listed = ", ".join(repr(s) for s in found[:_SPEAKERS_SHOWN]) + (
            ", …" if len(found) > _SPEAKERS_SHOWN else ""
        )
        label = "" if pd.isna(row.interviewer) else str(row.interviewer)
        log.add(
            name,
            row.interview_id,
            "interviewer",
            label,
            "no_interviewer_turns",
            f"kept; every turn coded: no speaker of {shown} is the interviewer "
            + (repr(label) if label else "(no interviewer label given)")
            + f" (speakers: {listed})",
        )
    return turns


def _left_out_for_role(log: QualityLog, source: str) -> set[str]:
    """The respondents ``source`` (the respondents file) left out for an unknown role. Their survey
    rows and interviews go with them: the ``unknown_role`` row ("respondent left out") is the one
    row of that fault, so they are not logged again as ``unknown_respondent``, which would say
    they are not in the respondents file."""
    return {
        r["record"]
        for r in log.rows
        if r["problem"] == "unknown_role" and r["source"] == source and r["record"]
    }


def _read_manual_codes(root, config, turns, codebook, log) -> pd.DataFrame:
    columns = ["interview_id", "segment", "coder", "theme"]
    if not config.get("manual_codes"):
        return pd.DataFrame(columns=columns)
    name = config["manual_codes"]
    frame, _ = read_table(_file(root, config, "manual_codes"), name)
    _require_columns(frame, columns, name)
    seg = turns.loc[~turns["is_interviewer"], ["interview_id", "turn"]].astype(str)
    valid = set(zip(seg["interview_id"], seg["turn"], strict=True))
    themes = set(codebook.theme_ids) if codebook else set()
    keep = []
    for n, row in enumerate(frame[columns].itertuples(index=False), start=2):
        segment = "" if pd.isna(row.segment) else str(row.segment)
        if (str(row.interview_id), segment) not in valid:
            log.add(name, f"row {n}", "segment", f"{row.interview_id}/{segment}", "unknown_segment")
        elif themes and str(row.theme) not in themes:
            log.add(
                name,
                f"row {n}",
                "theme",
                row.theme,
                "unknown_segment",
                "manual code left out: theme not in codebook",
            )
        else:
            keep.append(row._asdict())
    out = pd.DataFrame(keep, columns=columns).astype(str)
    out["segment"] = out["segment"].astype(int)
    return out


def read_study(path) -> Study:
    """Read, validate and tidy a study folder.

    Parameters
    ----------
    path : path-like
        The study folder (holding ``study.yaml``).

    Returns
    -------
    Study

    Raises
    ------
    StudyError
        On any fatal problem of SPEC §4, naming the file and the column, row or key.

    Examples
    --------
    >>> from research.paths import demo_study
    >>> study = read_study(demo_study())
    >>> sorted(study.respondents["role"].unique())
    ['marketing', 'sales']
    """
    root = Path(path)
    if root.is_file() and root.name == "study.yaml":
        root = root.parent
    config = read_config(root)
    instruments = [load_instrument(ref, root) for ref in config["instruments"]]
    ids = [i.id for i in instruments]
    if len(set(ids)) != len(ids):
        raise StudyError("study.yaml", "key 'instruments'", "two instruments share one id")
    seen: dict[str, str] = {}
    for inst in instruments:
        for it in inst.items:
            if it.id in seen:
                raise StudyError(
                    inst.source,
                    f"item '{it.id}'",
                    f"item id also used by instrument {seen[it.id]!r}",
                )
            seen[it.id] = inst.id
    codebook = load_codebook(config["codebook"], root) if config.get("codebook") else None
    decisions = (
        load_decision_table(config["decision_table"], root)
        if config.get("decision_table")
        else None
    )
    log = QualityLog()
    respondents = _read_respondents(root, config, log)
    left_out = _left_out_for_role(log, config["respondents"])
    responses, open_answers = _read_survey(root, config, instruments, respondents, log, left_out)
    interviews, turns = _read_interviews(root, config, respondents, log, left_out)
    manual = _read_manual_codes(root, config, turns, codebook, log)
    scores = score_all(responses, instruments)
    return Study(
        str(config["name"]),
        slugify(config["name"]),
        root,
        config,
        instruments,
        respondents,
        responses,
        scores,
        interviews,
        turns,
        manual,
        open_answers,
        codebook,
        decisions,
        log,
        checksum_folder(root),
    )


def score_all(responses: pd.DataFrame, instruments: list[Instrument]) -> pd.DataFrame:
    """Score every instrument for every respondent from the tidy ``responses`` (keyed values)."""
    parts = []
    for inst in instruments:
        part = responses[responses["instrument"] == inst.id]
        ids = part.drop_duplicates("respondent_id").set_index("respondent_id")[
            ["company_id", "role"]
        ]
        wide = ids.join(
            part.pivot(index="respondent_id", columns="item", values="keyed")
        ).reset_index()
        wide.columns.name = None
        parts.append(score(wide, inst))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def open_study(study=None, processed=None, refresh: bool = False) -> Study:
    """The processed study for notebooks: read from ``processed`` when it is up to date, else
    rebuilt.

    A processed folder is up to date when its manifest's checksums equal the raw folder's now.
    ``study`` is the study folder or its ``study.yaml`` (None: the bundled demo). The default
    processed folder is ``data/processed/<slug>`` under the current folder, or under the study's
    parent when the current folder lies inside the study (SPEC §3: nothing is written inside a
    study).

    Inside ``research run`` the raw folder is not checksummed again when the manifest is, byte for
    byte, the one the run checked (:func:`vouch_for`) for this study: the run took the checksums
    before its notebooks ran and takes them again after, and writes no report if they changed.
    """
    from research.paths import default_processed, output_base, study_folder

    root = study_folder(study)
    if not processed:
        processed = default_processed(slugify(read_config(root)["name"]), output_base(root))
    processed = Path(processed)
    manifest = processed / "manifest.json"
    if not refresh and manifest.is_file():
        text = manifest.read_bytes()
        saved = json.loads(text)
        if saved.get("toolkit_version") == __version__ and (
            _vouched_for(text, saved, root) or saved.get("checksums") == checksum_folder(root)
        ):
            return Study.load(processed, saved)
    fresh = read_study(root)
    fresh.save(processed)
    return fresh


def vouch_for(processed, checksums: dict, file) -> bool:
    """Write to ``file`` (the one :data:`VERIFIED_ENV` names) the SHA-256 of ``processed``'s
    manifest when it holds exactly ``checksums`` (the raw folder's, as the caller just took them)
    and this toolkit's version; returns whether it did.

    Examples
    --------
    >>> import tempfile
    >>> from research.paths import demo_study
    >>> folder = Path(tempfile.mkdtemp())
    >>> study = read_study(demo_study())
    >>> _ = study.save(folder / "processed")
    >>> vouch_for(folder / "processed", study.checksums, folder / "verified")
    True
    >>> vouch_for(folder / "processed", {}, folder / "verified")
    False
    >>> shutil.rmtree(folder)
    """
    text = (Path(processed) / "manifest.json").read_bytes()
    saved = json.loads(text)
    if saved.get("checksums") != checksums or saved.get("toolkit_version") != __version__:
        return False
    Path(file).write_text(hashlib.sha256(text).hexdigest(), "utf-8")
    return True


def _vouched_for(text: bytes, saved: dict, root: Path) -> bool:
    """Whether the manifest ``text`` (``saved``, parsed) of study ``root`` is the one the run that
    started this process checked (:func:`vouch_for`)."""
    file = os.environ.get(VERIFIED_ENV)
    if not file:
        return False
    try:
        vouched = Path(file).read_text("utf-8").strip()
    except OSError:  # not written: the run has not checked it
        return False
    return vouched == hashlib.sha256(text).hexdigest() and saved.get("root") == str(root.resolve())


def missing_functions(study) -> list[str]:
    """The functions with no respondent at all (empty when both answered): SPEC §4's one-sided case.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> missing_functions(SimpleNamespace(respondents=pd.DataFrame({"role": ["marketing"]})))
    ['sales']
    """
    roles = study.respondents["role"] if "role" in study.respondents else pd.Series(dtype=object)
    present = set(roles.dropna().unique())
    return [role for role in ("marketing", "sales") if role not in present]
