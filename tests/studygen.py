"""A seeded generator of random *valid* study folders: "the space of studies".

``write_random_study(folder, seed, **knobs)`` draws every feature of a study independently from
``seed`` (a knob forces one feature), writes the folder as SPEC §1-§2 describe it, and returns a
:class:`StudyPlan`: the features chosen, in a form short enough for a failure message
(``plan.describe()``).

Each feature has one ``choose_*`` function (what to draw) and, where it needs files, one ``write_*``
function (how it looks on disk). The studies are valid: nothing in them is fatal under SPEC §4, and
the only recoverable problems they hold are the ones the plan lists in ``expected_problems``.

This is deliberately not the demo generator (``research.run.demo``): it aims at the corners of the
contract (one company, one silent function, 2-point scales, one-item subscales, odd ids, every file
format), not at a realistic study.
"""

from __future__ import annotations

import json
import string
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

# ---- the plan: what a study has ------------------------------------------------------------------

ROLE_LABELS = {
    "marketing": ["marketing", "Marketing Manager", "CMO"],
    "sales": ["sales", "VP Sales", "Head of Sales"],
}
DECISION_ATTRIBUTES = [
    "company_size",
    "offering",
    "sales_cycle",
    "market_change",
    "reporting",
    "conflict",
    "funnel_feasible",
]
TRANSCRIPT_FORMATS = ("txt", "vtt", "srt", "docx")


@dataclass
class StudyPlan:
    """The features of one generated study (every knob of :func:`write_random_study`, as drawn)."""

    seed: int
    instruments: list = field(default_factory=list)  # short descriptions of each instrument
    size: str = "small"
    n_companies: int = 0
    company_pattern: str = ""
    n_respondents: int = 0
    silent_role: str | None = None
    companies_with_both: int = 0
    id_style: str = "plain"
    survey_ids: str = "exact"
    attributes: str = "none"
    respondents_format: str = "csv"
    survey_format: str = "csv"
    answers_as: str = "numbers"
    missing_rate: float = 0.0
    unanswered_items: int = 0
    constant_items: int = 0
    survey_coverage: str = "all"
    open_ended: int = 0
    outcomes: bool = False
    interviews: str = "none"
    n_interviews: int = 0
    transcript_formats: list = field(default_factory=list)
    interviewer_only: int = 0
    codebook: str = "none"
    manual_coders: int = 0
    expected_problems: set = field(default_factory=set)

    def features(self) -> dict:
        out = asdict(self)
        out["expected_problems"] = sorted(self.expected_problems)
        return out

    def describe(self) -> str:
        """One line per feature, for failure messages."""
        return "\n".join(f"  {k}: {v}" for k, v in self.features().items())


# ---- instruments ---------------------------------------------------------------------------------


def choose_scale(rng, force=None) -> tuple[int, int]:
    """(min, max): a 2- to 11-point scale starting at 0 or 1."""
    if force:
        return force
    points = int(rng.integers(2, 12))
    lo = int(rng.choice([0, 1]))
    return lo, lo + points - 1


def scale_labels(rng, lo: int, hi: int) -> list[str]:
    """Response labels for a scale, or none (then the survey holds numbers only)."""
    if rng.random() < 0.35:
        return []
    n = hi - lo + 1
    if n == 5:
        return [
            "Strongly disagree",
            "Disagree",
            "Neither agree nor disagree",
            "Agree",
            "Strongly agree",
        ]
    if n == 2:
        return ["No", "Yes"]
    return [f"Level {string.ascii_uppercase[i]}" for i in range(n)]


def choose_subscales(rng, n_items: int, with_total: bool) -> tuple[list[dict], list[str | None]]:
    """Subscales (some with one item) and each item's subscale; none at all only when there is a
    total."""
    if with_total and rng.random() < 0.2:
        return [], [None] * n_items
    k = int(rng.integers(1, min(5, n_items) + 1))
    subs = [{"id": f"s{j + 1}", "label": f"Subscale {j + 1}"} for j in range(k)]
    # every subscale gets one item first (so one-item subscales happen), the rest at random
    assignment = [subs[j]["id"] for j in range(k)] + [
        subs[int(rng.integers(k))]["id"] for _ in range(n_items - k)
    ]
    rng.shuffle(assignment)
    return subs, assignment


def choose_bands(rng, n_items: int, lo: int, hi: int) -> list[dict]:
    """1-5 bands over the total's range; four of them named as the decision table's stages."""
    n_bands = int(rng.integers(1, 6))
    low, high = n_items * lo, n_items * hi
    cuts = sorted(float(round(x, 1)) for x in rng.uniform(low, high, n_bands))
    cuts[0] = float(low) if rng.random() < 0.5 else cuts[0]
    names = (
        ["Undefined", "Defined", "Aligned", "Integrated"]
        if n_bands == 4
        else [f"Band {j + 1}" for j in range(n_bands)]
    )
    return [{"label": name, "min": cut} for name, cut in zip(names, cuts, strict=True)]


def choose_instrument(rng, number: int) -> dict:
    """One instrument specification (as YAML would hold it)."""
    lo, hi = choose_scale(rng)
    n_items = int(rng.choice([1, 2, 3, int(rng.integers(4, 31))], p=[0.1, 0.1, 0.1, 0.7]))
    with_total = rng.random() < 0.65
    subs, assignment = choose_subscales(rng, n_items, with_total)
    prefix = f"I{number}Q"
    items = []
    for j, sub in enumerate(assignment):
        item = {"id": f"{prefix}{j + 1:02d}", "text": f"Statement {j + 1} of instrument {number}."}
        if sub is not None:
            item["subscale"] = sub
        if rng.random() < 0.3:
            item["reverse"] = True
        items.append(item)
    spec = {
        "id": f"inst{number}",
        "title": f"Generated instrument {number}",
        "response_scale": {"min": lo, "max": hi},
        "min_answered": float(rng.choice([0.5, 0.6, 0.8, 1.0])),
        "items": items,
    }
    labels = scale_labels(rng, lo, hi)
    if labels:
        spec["response_scale"]["labels"] = labels
    if subs:
        spec["subscales"] = subs
    if with_total:
        spec["total"] = {"id": f"inst{number}_total"}
        if rng.random() < 0.8:
            spec["total"]["bands"] = choose_bands(rng, n_items, lo, hi)
    return spec


def builtin_instrument(name: str) -> dict:
    """A built-in instrument as a plain spec (for drawing answers to it); written as
    ``builtin:NAME``."""
    from research.spec.instruments import load_instrument

    inst = load_instrument(f"builtin:{name}")
    return {
        "id": inst.id,
        "builtin": name,
        "response_scale": {
            "min": inst.scale_min,
            "max": inst.scale_max,
            "labels": list(inst.labels),
        },
        "items": [
            {"id": it.id, "subscale": it.subscale, "reverse": it.reverse} for it in inst.items
        ],
        "total": inst.total,
    }


def choose_instruments(rng, n: int | None = None) -> list[dict]:
    """1-3 instruments: generated ones, and now and then a built-in one."""
    n = n or int(rng.integers(1, 4))
    specs = []
    for k in range(n):
        if k == 0 and rng.random() < 0.15:
            specs.append(builtin_instrument(str(rng.choice(["smr", "perceptions"]))))
        else:
            specs.append(choose_instrument(rng, k + 1))
    return specs


def describe_instrument(spec: dict) -> str:
    if "builtin" in spec:
        return f"builtin:{spec['builtin']}"
    sc = spec["response_scale"]
    subs = spec.get("subscales", [])
    one_item = sum(
        1 for s in subs if sum(1 for it in spec["items"] if it.get("subscale") == s["id"]) == 1
    )
    total = spec.get("total")
    return (
        f"{spec['id']}: {sc['min']}-{sc['max']} scale{' with labels' if sc.get('labels') else ''}, "
        f"{len(spec['items'])} items, {len(subs)} subscales ({one_item} one-item), "
        f"{sum(1 for it in spec['items'] if it.get('reverse'))} reversed, min_answered "
        f"{spec.get('min_answered', 0.8)}, "
        + ("no total" if not total else f"total with {len(total.get('bands') or [])} bands")
    )


# ---- companies and respondents -------------------------------------------------------------------

COMPANY_PATTERNS = ("both_heads", "one_head", "several", "none_both", "mixed")


def company_roles(rng, pattern: str, silent_role: str | None) -> tuple[int, int]:
    """(marketing, sales) respondents of one company under a pattern."""
    if pattern == "mixed":
        pattern = str(rng.choice(["both_heads", "one_head", "several"]))
    if pattern == "both_heads":
        m, s = 1, 1
    elif pattern == "one_head":
        m, s = (1, 0) if rng.random() < 0.5 else (0, 1)
    elif pattern == "several":
        m, s = int(rng.integers(0, 5)), int(rng.integers(0, 5))
        m, s = (max(m, 1), max(s, 1)) if rng.random() < 0.6 else (m or 1, s)
    else:  # none_both: every company hears from one function only
        side = int(rng.integers(1, 4))
        m, s = (side, 0) if rng.random() < 0.5 else (0, side)
    if silent_role == "marketing":
        m, s = 0, max(s, m, 1)
    elif silent_role == "sales":
        m, s = max(s, m, 1), 0
    return m, s


def choose_companies(
    rng, size: str, pattern: str | None, silent_role: str | None, n_companies: int | None = None
) -> tuple[str, list[tuple[int, int]]]:
    """The pattern and each company's (marketing, sales) head count; at least 5 respondents in
    all."""
    pattern = pattern or str(rng.choice(COMPANY_PATTERNS))
    if n_companies:
        pass
    elif size == "large":
        n_companies = int(rng.integers(100, 400))
    else:
        n_companies = int(rng.choice([1, 2, 3, int(rng.integers(4, 25))], p=[0.1, 0.05, 0.05, 0.8]))
    counts = [company_roles(rng, pattern, silent_role) for _ in range(n_companies)]
    counts = [
        (m, s) if m + s else (1, 0) if silent_role != "marketing" else (0, 1) for m, s in counts
    ]
    while sum(m + s for m, s in counts) < 5:  # top up the first company on the sides it already has
        m, s = counts[0]
        counts[0] = (m + (1 if m else 0), s + (1 if s or not m else 0))
    return pattern, counts


ACCENTED = ["Müller", "Ærø", "Łódź", "Crème", "São", "Ñandú", "Øst", "Zoë"]


def make_ids(rng, style: str, n: int, kind: str) -> list[str]:
    """``n`` distinct ids in a style: plain, number-like (``007``), accented (``Müller-3``) or
    case/space variants."""
    if style == "number":
        width = int(rng.integers(3, 6))
        return [f"{i:0{width}d}" for i in rng.permutation(np.arange(1, n + 1))[:n]]
    if style == "accented":
        return [f"{ACCENTED[i % len(ACCENTED)]}-{i + 1}" for i in range(n)]
    if style == "case_space":
        # pairs that differ only in case, and ids with an inner space: all distinct as strings
        base = [f"{kind} {i // 2 + 1}" for i in range(n)]
        return [b.upper() if i % 2 else b.lower() for i, b in enumerate(base)]
    return [f"{kind}{i + 1:04d}" for i in range(n)]


def role_label(rng, role: str) -> str:
    """A raw role label as people type it: any listed variant, any case, stray spaces."""
    label = str(rng.choice(ROLE_LABELS[role]))
    label = {0: label, 1: label.upper(), 2: label.lower()}[int(rng.integers(3))]
    return f" {label} " if rng.random() < 0.1 else label


def build_respondents(rng, counts, id_style: str) -> pd.DataFrame:
    companies = make_ids(rng, id_style, len(counts), "C")
    n = sum(m + s for m, s in counts)
    people = make_ids(rng, id_style, n, "R")
    rows, k = [], 0
    for company, (m, s) in zip(companies, counts, strict=True):
        for role in ["marketing"] * m + ["sales"] * s:
            rows.append(
                {
                    "respondent_id": people[k],
                    "company_id": company,
                    "role": role_label(rng, role),
                    "_role": role,
                }
            )
            k += 1
    frame = pd.DataFrame(rows)
    return frame.sample(frac=1, random_state=int(rng.integers(2**31))).reset_index(drop=True)


# ---- attributes and outcomes ---------------------------------------------------------------------

ATTRIBUTE_VALUES = {
    "offering": ["standard", "customised"],
    "sales_cycle": ["short", "long"],
    "market_change": ["slow", "fast"],
    "reporting": ["separate", "single"],
    "conflict": ["yes", "no"],
    "funnel_feasible": ["yes", "no"],
    "industry": ["Pharma", "Software", "Machinery"],
}


def add_attributes(rng, respondents: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Company attributes on every respondent row: all filled, some blank (cells and whole columns),
    or none."""
    if mode == "none":
        return respondents
    companies = respondents["company_id"].unique()
    cols = ["company_size", *ATTRIBUTE_VALUES]
    if mode == "some":
        cols = [c for c in cols if rng.random() < 0.7]
    for col in cols:
        if col == "company_size":
            per = {c: str(int(rng.choice([12, 50, 99, 100, 250, 4000]))) for c in companies}
        else:
            per = {c: str(rng.choice(ATTRIBUTE_VALUES[col])) for c in companies}
        values = respondents["company_id"].map(per)
        if mode == "some":
            values = values.where(rng.random(len(values)) > 0.3, "")
        respondents[col] = values
    return respondents


def add_outcomes(rng, respondents: pd.DataFrame) -> list[str]:
    """A numeric outcome column (SPEC §1 ``outcomes``), some cells blank."""
    values = np.round(rng.normal(5, 2, len(respondents)), 2).astype(str)
    respondents["performance"] = np.where(rng.random(len(respondents)) < 0.15, "", values)
    return ["performance"]


# ---- answers -------------------------------------------------------------------------------------


def draw_answers(rng, respondents: pd.DataFrame, spec: dict, plan: StudyPlan) -> pd.DataFrame:
    """Numeric answers: a trait per respondent, a role shift, noise; random missing cells,
    now and then an item nobody answered or everybody answered alike."""
    lo, hi = spec["response_scale"]["min"], spec["response_scale"]["max"]
    n = len(respondents)
    trait = rng.normal(0, 1, n) + np.where(respondents["_role"] == "marketing", 0.4, -0.2)
    out = {}
    for item in spec["items"]:
        sign = -1 if item.get("reverse") else 1
        latent = (
            (lo + hi) / 2 + sign * trait * (hi - lo) / 4 + rng.normal(0, (hi - lo) / 4 + 0.3, n)
        )
        values = np.clip(np.round(latent), lo, hi)
        roll = rng.random()
        if roll < 0.04:
            values = np.full(n, np.nan)
            plan.unanswered_items += 1
        elif roll < 0.08:
            values = np.full(n, float(rng.integers(lo, hi + 1)))
            plan.constant_items += 1
        values = np.where(rng.random(n) < plan.missing_rate, np.nan, values)
        out[item["id"]] = values
    return pd.DataFrame(out, index=respondents.index)


def as_cells(rng, values: pd.DataFrame, spec: dict, answers_as: str) -> pd.DataFrame:
    """Answers as the survey file holds them: numbers, response labels (any case), or both mixed."""
    labels = spec["response_scale"].get("labels") or []
    lo = spec["response_scale"]["min"]

    def cell(v):
        if pd.isna(v):
            return ""
        if labels and (answers_as == "labels" or (answers_as == "mixed" and rng.random() < 0.5)):
            label = labels[int(v - lo)]
            return {0: label, 1: label.lower(), 2: label.upper()}[int(rng.integers(3))]
        return str(int(v))

    return values.apply(lambda col: col.map(cell))


OPEN_TEXTS = [
    "Lead quality has improved since the joint planning sessions.",
    "Pricing discussions are still painful.",
    "Marketing should meet customers in the field.",
    "No comment.",
    "Campaigns do not bring qualified leads.",
    "We share one scorecard now.",
    "Ça va — rien à signaler.",
    "Budget was cut again this quarter.",
]


def open_answers(rng, n: int) -> list[str]:
    return [str(rng.choice(OPEN_TEXTS)) if rng.random() < 0.6 else "" for _ in range(n)]


# ---- files ---------------------------------------------------------------------------------------


def _numbers_where_numeric(frame: pd.DataFrame, text_columns: set) -> pd.DataFrame:
    """Columns holding only whole or decimal numbers (and blanks) as numbers, as Excel and SPSS
    store them; id columns and ``text_columns`` stay text (``007`` keeps its zeros)."""
    out = frame.copy()
    for col in out.columns:
        filled = out[col].replace("", np.nan)
        numeric = pd.to_numeric(filled, errors="coerce")
        is_text = col in text_columns or col in {"respondent_id", "company_id", "role"}
        if not is_text and filled.notna().any() and numeric.notna().sum() == filled.notna().sum():
            out[col] = numeric
        else:
            out[col] = out[col].astype(str)
    return out


def write_table(
    frame: pd.DataFrame, path: Path, fmt: str, *, text_columns=(), user_missing: dict | None = None
) -> str:
    """Write a table as CSV, XLSX or SAV (numbers as numbers, ids as text, blanks empty); return the
    file name."""
    target = path.with_suffix(f".{fmt}")
    if fmt == "csv":
        frame.to_csv(target, index=False)
    elif fmt == "xlsx":
        _numbers_where_numeric(frame, set(text_columns)).to_excel(
            target, index=False, engine="openpyxl"
        )
    elif fmt == "sav":
        import pyreadstat

        out = _numbers_where_numeric(frame, set(text_columns))
        missing = {
            c: v
            for c, v in (user_missing or {}).items()
            if c in out and pd.api.types.is_numeric_dtype(out[c])
        }
        pyreadstat.write_sav(out, str(target), missing_ranges=missing or None)
    else:
        raise ValueError(fmt)
    return target.name


def write_qualtrics(frame: pd.DataFrame, path: Path, rng, plan: StudyPlan) -> str:
    """A Qualtrics-style CSV export: Qualtrics' own columns, then question text and ImportId header
    rows."""
    n = len(frame)
    finished = np.where(rng.random(n) < 0.1, "0", "1") if rng.random() < 0.5 else np.full(n, "1")
    if (finished == "0").any():
        plan.expected_problems.add("unfinished_response")
    meta = pd.DataFrame(
        {
            "StartDate": "2026-03-01 10:00:00",
            "EndDate": "2026-03-01 10:12:00",
            "Status": "0",
            "Progress": np.where(finished == "1", "100", "40"),
            "Finished": finished,
            "ResponseId": [f"R_{i:06x}" for i in range(n)],
        },
        index=frame.index,
    )
    full = pd.concat([meta, frame], axis=1)
    question = {c: f"Question text for {c}" for c in full.columns}
    import_id = {
        c: json.dumps({"ImportId": f"QID{k + 1}" if c in frame.columns else c})
        for k, c in enumerate(full.columns)
    }
    target = path.with_suffix(".csv")
    pd.concat([pd.DataFrame([question, import_id]), full], ignore_index=True).to_csv(
        target, index=False
    )
    return target.name


def survey_ids(rng, ids: pd.Series, variant: str) -> pd.Series:
    """The survey's copy of the respondent ids: exact, padded with spaces (the reader trims), or in
    another case."""
    if variant == "padded":
        return ids.map(lambda s: f"  {s} " if rng.random() < 0.5 else s)
    if variant == "case":
        return ids.map(lambda s: s.swapcase() if rng.random() < 0.5 else s)
    if variant == "case_all":  # every survey row names its respondent in another case
        return ids.map(lambda s: s.swapcase())
    return ids


# ---- interviews ----------------------------------------------------------------------------------

QUESTIONS = [
    "How do marketing and sales work together?",
    "Tell me about leads.",
    "What about pricing?",
    "And the annual plan?",
    "Anything else?",
]
ANSWERS = [
    "The lead quality is poor and the hand-off is slow.",
    "Marketing is out of touch with customers.",
    "We argue about discounts every quarter.",
    "Honestly, it works fine.",
    "Our campaigns never reach the field.",
    "Sales chase this quarter's numbers.",
    "We sit down together for the annual plan.",
    "Müller from sales called me, anna@example.com.",
    "Yes.",
    "It depends on the segment and our competitors.",
]
SPEAKERS = ["Anna Müller", "José Pérez", "Li Wei", "Chloé Durand", "Sam O'Neil", "Jo Smith"]


def interview_turns(
    rng, respondent_name: str, interviewer: str, interviewer_only: bool
) -> list[tuple[str, list[str]]]:
    """Turns as (speaker, pieces); consecutive pieces of one speaker are one turn. The interviewer
    starts."""
    turns = []
    for _ in range(int(rng.integers(1, 7))):
        turns.append(
            (interviewer, [str(rng.choice(QUESTIONS)) for _ in range(int(rng.integers(1, 3)))])
        )
        if not interviewer_only:
            turns.append(
                (
                    respondent_name,
                    [str(rng.choice(ANSWERS)) for _ in range(int(rng.integers(1, 4)))],
                )
            )
    return turns


def _stamp(seconds: int, sep: str) -> str:
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{h:02d}:{m:02d}:{s:02d}{sep}000"


def write_txt(path: Path, turns, rng) -> None:
    stamps = rng.random() < 0.5
    lines, t = [], 0
    for speaker, pieces in turns:
        for j, piece in enumerate(pieces):
            t += 7
            if j and rng.random() < 0.5:
                lines.append(piece)  # a line without a speaker continues the turn
            else:
                lines.append((f"[{_stamp(t, '')[:8]}] " if stamps else "") + f"{speaker}: {piece}")
    path.write_text("\n".join(lines) + "\n", "utf-8")


def _cues(turns, rng, voice: bool, sep: str) -> list[tuple[str, str, str]]:
    cues, t = [], 0
    for speaker, pieces in turns:
        for piece in pieces:
            text = f"<v {speaker}>{piece}</v>" if voice else f"{speaker}: {piece}"
            cues.append((_stamp(t, sep), _stamp(t + 5, sep), text))
            t += 6
    return cues


def write_vtt(path: Path, turns, rng) -> None:
    voice = rng.random() < 0.5
    body = "".join(
        f"{n}\n{a} --> {b}\n{text}\n\n"
        for n, (a, b, text) in enumerate(_cues(turns, rng, voice, "."), 1)
    )
    path.write_text("WEBVTT\n\n" + body, "utf-8")


def write_srt(path: Path, turns, rng) -> None:
    body = "".join(
        f"{n}\n{a} --> {b}\n{text}\n\n"
        for n, (a, b, text) in enumerate(_cues(turns, rng, False, ","), 1)
    )
    path.write_text(body, "utf-8")


def write_docx(path: Path, turns, rng) -> None:
    import docx

    doc = docx.Document()
    for speaker, pieces in turns:
        for piece in pieces:
            doc.add_paragraph(f"{speaker}: {piece}")
    doc.save(str(path))


WRITERS = {"txt": write_txt, "vtt": write_vtt, "srt": write_srt, "docx": write_docx}


def write_interviews(rng, folder: Path, respondents: pd.DataFrame, plan: StudyPlan) -> list[dict]:
    """interviews.csv and the transcripts; returns, per interview, its respondent segments' turn
    numbers."""
    if plan.interviews == "none":
        return []
    pool = respondents.reset_index(drop=True)
    if plan.interviews == "some":
        pool = pool.sample(
            n=max(1, int(len(pool) * rng.uniform(0.1, 0.7))), random_state=int(rng.integers(2**31))
        )
    pool = pool.head(60)  # enough to exercise the coding; more only slows the run
    (folder / "transcripts").mkdir()
    rows, made = [], []
    formats = plan.transcript_formats or [
        str(f) for f in rng.choice(TRANSCRIPT_FORMATS, size=int(rng.integers(1, 5)), replace=False)
    ]
    plan.transcript_formats = sorted(formats)
    for k, r in enumerate(pool.itertuples(index=False)):
        fmt = formats[k % len(formats)]
        interviewer = str(rng.choice(["Interviewer", "Dr. Jones", "Kim"]))
        name = SPEAKERS[k % len(SPEAKERS)]
        only = rng.random() < 0.05
        plan.interviewer_only += int(only)
        turns = interview_turns(rng, name, interviewer, only)
        file = f"int_{k + 1:03d}.{fmt}"
        WRITERS[fmt](folder / "transcripts" / file, turns, rng)
        iid = f"I{k + 1:03d}"
        label = interviewer if rng.random() < 0.7 else interviewer.upper()
        rows.append(
            {
                "interview_id": iid,
                "respondent_id": r.respondent_id,
                "file": file,
                "interviewer": label,
            }
        )
        made.append(
            {
                "interview_id": iid,
                "segments": [n + 1 for n, (sp, _) in enumerate(turns) if sp == name],
            }
        )
    pd.DataFrame(rows).to_csv(folder / "interviews.csv", index=False)
    plan.n_interviews = len(rows)
    return made


def write_codebook(rng, folder: Path, plan: StudyPlan) -> list[str]:
    """The built-in codebook, or a YAML one with a theme that never matches and one that matches
    every segment."""
    if plan.codebook == "builtin":
        from research.spec.codebook import load_codebook

        return load_codebook("builtin:default").theme_ids
    themes = [
        {
            "id": "never",
            "label": "Never said",
            "description": "No segment says this.",
            "patterns": ["zyxwv never said", "re:qqq+zzz"],
        },
        {
            "id": "everything",
            "label": "Anything at all",
            "description": "Every segment has text.",
            "patterns": ["re:\\S"],
        },
        {
            "id": "pricing",
            "label": "Pricing",
            "description": "Price and discount.",
            "patterns": ["pricing", "discounts", "price"],
        },
        {
            "id": "leads",
            "label": "Leads",
            "description": "Leads and hand-off.",
            "patterns": ["lead quality", "hand-off", "re:leads?"],
        },
    ]
    if rng.random() < 0.3:
        themes = themes[:2]
    (folder / "codebook.yaml").write_text(
        yaml.safe_dump({"id": "generated", "themes": themes}, sort_keys=False), "utf-8"
    )
    return [t["id"] for t in themes]


def write_manual_codes(
    rng, folder: Path, made: list[dict], theme_ids: list[str], coders: int
) -> bool:
    """codes.csv by one or three coders, on the respondent segments of some interviews."""
    coded = [m for m in made if m["segments"]]
    if not coders or not coded:
        return False
    names = ["alice", "Bob", "chen"][:coders]
    rows = []
    for coder in names:
        for interview in coded:
            if rng.random() < 0.3 and len(coded) > 1:
                continue  # this coder did not code this interview
            for seg in interview["segments"]:
                for theme in theme_ids:
                    if rng.random() < 0.25:
                        rows.append(
                            {
                                "interview_id": interview["interview_id"],
                                "segment": seg,
                                "coder": coder,
                                "theme": theme,
                            }
                        )
    if not rows:
        rows.append(
            {
                "interview_id": coded[0]["interview_id"],
                "segment": coded[0]["segments"][0],
                "coder": names[0],
                "theme": theme_ids[0],
            }
        )
    pd.DataFrame(rows).to_csv(folder / "codes.csv", index=False)
    return True


# ---- the study -----------------------------------------------------------------------------------


def pick(rng, knobs: dict, name: str, options, p=None):
    """A knob's forced value, or a random draw from ``options``."""
    if knobs.get(name) is not None:
        return knobs[name]
    value = options[int(rng.choice(len(options), p=p))]
    return value.item() if isinstance(value, np.generic) else value


def write_random_study(folder, seed: int, **knobs) -> StudyPlan:
    """Write a random valid study for ``seed`` into ``folder`` (created) and return its plan.

    Knobs (each forces one feature; unknown knobs are an error): ``n_instruments``, ``instruments``
    (specs or ``builtin:NAME``), ``size`` (small, large), ``n_companies``, ``company_pattern``
    (both_heads, one_head, several, none_both, mixed), ``silent_role`` (marketing, sales, or "" for
    neither), ``id_style`` (plain, number, accented, case_space), ``survey_ids`` (exact, padded,
    case, case_all), ``attributes`` (all, some, none), ``respondents_format`` (csv, xlsx, sav),
    ``survey_format`` (same, csv, xlsx, sav, qualtrics), ``answers_as`` (numbers, labels, mixed),
    ``missing_rate``, ``survey_coverage`` (all, most), ``open_ended`` (0-2), ``outcomes`` (bool),
    ``interviews`` (none, some, all), ``transcript_formats`` (list), ``codebook`` (builtin, custom),
    ``manual_coders`` (0, 1, 3).
    """
    allowed = {
        "n_instruments",
        "instruments",
        "size",
        "n_companies",
        "company_pattern",
        "silent_role",
        "id_style",
        "survey_ids",
        "attributes",
        "respondents_format",
        "survey_format",
        "answers_as",
        "missing_rate",
        "survey_coverage",
        "open_ended",
        "outcomes",
        "interviews",
        "transcript_formats",
        "codebook",
        "manual_coders",
    }
    unknown = set(knobs) - allowed
    if unknown:
        raise TypeError(f"unknown knobs {sorted(unknown)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    plan = StudyPlan(seed=seed)

    # instruments
    specs = [
        builtin_instrument(s.split(":", 1)[1]) if isinstance(s, str) else s
        for s in knobs.get("instruments") or []
    ]
    specs = specs or choose_instruments(rng, knobs.get("n_instruments"))
    plan.instruments = [describe_instrument(s) for s in specs]

    # companies and respondents
    plan.size = pick(rng, knobs, "size", ["small", "large"], p=[0.95, 0.05])
    silent = pick(rng, knobs, "silent_role", ["", "marketing", "sales"], p=[0.85, 0.075, 0.075])
    plan.silent_role = silent or None
    plan.company_pattern, counts = choose_companies(
        rng, plan.size, knobs.get("company_pattern"), plan.silent_role, knobs.get("n_companies")
    )
    plan.n_companies = len(counts)
    plan.companies_with_both = sum(1 for m, s in counts if m and s)
    plan.id_style = pick(rng, knobs, "id_style", ["plain", "number", "accented", "case_space"])
    respondents = build_respondents(rng, counts, plan.id_style)
    plan.n_respondents = len(respondents)
    plan.attributes = pick(rng, knobs, "attributes", ["all", "some", "none"])
    respondents = add_attributes(rng, respondents, plan.attributes)
    plan.outcomes = bool(pick(rng, knobs, "outcomes", [False, True], p=[0.9, 0.1]))
    outcomes = add_outcomes(rng, respondents) if plan.outcomes else []

    # survey
    plan.missing_rate = (
        float(knobs["missing_rate"])
        if knobs.get("missing_rate") is not None
        else float(rng.choice([0, 0.02, 0.1, 0.3]))
    )
    plan.answers_as = pick(rng, knobs, "answers_as", ["numbers", "labels", "mixed"])
    plan.survey_format = pick(
        rng, knobs, "survey_format", ["same", "csv", "xlsx", "sav", "qualtrics"]
    )
    plan.respondents_format = pick(rng, knobs, "respondents_format", ["csv", "xlsx", "sav"])
    if plan.survey_format == "sav":
        plan.answers_as = "numbers"  # an SPSS survey holds codes
    cells = pd.concat(
        [as_cells(rng, draw_answers(rng, respondents, s, plan), s, plan.answers_as) for s in specs],
        axis=1,
    )
    plan.open_ended = int(pick(rng, knobs, "open_ended", [0, 0, 1, 2]))
    open_cols = [f"Q{90 + j}_comment" for j in range(plan.open_ended)]
    for col in open_cols:
        cells[col] = open_answers(rng, len(cells))
    plan.survey_ids = pick(
        rng,
        knobs,
        "survey_ids",
        ["exact", "padded", "case", "case_all"],
        p=[0.78, 0.12, 0.07, 0.03],
    )
    if plan.id_style in {"case_space", "number"} and plan.survey_ids.startswith("case"):
        plan.survey_ids = (
            "padded"  # swapping case there names another respondent, or nothing changes
        )
    if plan.survey_ids.startswith("case"):
        plan.expected_problems.add("unknown_respondent")
    if plan.survey_format == "same":
        plan.survey_ids = "exact"
    plan.survey_coverage = pick(rng, knobs, "survey_coverage", ["all", "most"], p=[0.7, 0.3])

    config = {"name": f"Generated study {seed}", "instruments": [], "roles": ROLE_LABELS}
    for spec in specs:
        if "builtin" in spec:
            config["instruments"].append(f"builtin:{spec['builtin']}")
        else:
            (folder / f"{spec['id']}.yaml").write_text(
                yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), "utf-8"
            )
            config["instruments"].append(f"{spec['id']}.yaml")

    people = respondents.drop(columns="_role")
    item_ids = [it["id"] for s in specs for it in s["items"]]
    user_missing = None
    if (
        plan.survey_format == "sav" and rng.random() < 0.5
    ):  # SPSS user-missing code 99 in some empty cells
        user_missing = {i: [99] for i in item_ids}
        cells[item_ids] = cells[item_ids].apply(
            lambda c: c.map(lambda v: "99" if v == "" and rng.random() < 0.5 else v)
        )
    if plan.survey_format == "same":
        config["respondents"] = write_table(
            pd.concat([people, cells], axis=1), folder / "respondents", plan.respondents_format
        )
    else:
        config["respondents"] = write_table(people, folder / "respondents", plan.respondents_format)
        id_col = str(rng.choice(["respondent_id", "rid", "ExternalReference"]))
        survey = pd.concat(
            [survey_ids(rng, people["respondent_id"], plan.survey_ids).rename(id_col), cells],
            axis=1,
        )
        if plan.survey_coverage == "most":
            survey = survey.sample(frac=0.8, random_state=int(rng.integers(2**31)))
        survey = survey.sample(frac=1, random_state=int(rng.integers(2**31)))
        if plan.survey_format == "qualtrics":
            config["survey"] = write_qualtrics(
                survey.reset_index(drop=True), folder / "survey", rng, plan
            )
            if "unfinished_response" in plan.expected_problems and rng.random() < 0.5:
                config["include_unfinished"] = True
        else:
            config["survey"] = write_table(
                survey,
                folder / "survey",
                plan.survey_format,
                text_columns={id_col},
                user_missing=user_missing,
            )
        if id_col != "respondent_id":
            config["survey_id_column"] = id_col
    if open_cols:
        config["open_ended"] = open_cols
    if outcomes:
        config["outcomes"] = outcomes

    # interviews, codebook, manual codes
    plan.interviews = pick(rng, knobs, "interviews", ["none", "some", "all"], p=[0.4, 0.4, 0.2])
    plan.transcript_formats = list(knobs.get("transcript_formats") or [])
    made = write_interviews(rng, folder, respondents, plan)
    if made:
        config["interviews"] = "interviews.csv"
        config["transcripts"] = "transcripts/"
    if made or open_cols:
        plan.codebook = pick(rng, knobs, "codebook", ["builtin", "custom"])
        theme_ids = write_codebook(rng, folder, plan)
        config["codebook"] = "builtin:default" if plan.codebook == "builtin" else "codebook.yaml"
        plan.manual_coders = int(pick(rng, knobs, "manual_coders", [0, 1, 3]))
        if made and write_manual_codes(rng, folder, made, theme_ids, plan.manual_coders):
            config["manual_codes"] = "codes.csv"
        else:
            plan.manual_coders = 0
    (folder / "study.yaml").write_text(
        yaml.safe_dump(config, sort_keys=False, allow_unicode=True), "utf-8"
    )
    return plan


def minimal_knobs() -> dict:
    """The plainest study the generator can write: a start for reducing a failure to its smallest
    feature set."""
    return {
        "n_instruments": 1,
        "size": "small",
        "company_pattern": "both_heads",
        "silent_role": "",
        "id_style": "plain",
        "survey_ids": "exact",
        "attributes": "none",
        "respondents_format": "csv",
        "survey_format": "csv",
        "answers_as": "numbers",
        "missing_rate": 0.0,
        "survey_coverage": "all",
        "open_ended": 0,
        "outcomes": False,
        "interviews": "none",
        "manual_coders": 0,
    }


if (
    __name__ == "__main__"
):  # python tests/studygen.py SEED FOLDER: write one study and print its plan
    import sys

    print(write_random_study(sys.argv[2], int(sys.argv[1])).describe())


#: Small instruments to try when reducing a failure: with a banded total, and without a total.
SIMPLE_INSTRUMENTS = {
    "banded": {
        "id": "simple",
        "response_scale": {"min": 1, "max": 5},
        "min_answered": 0.5,
        "subscales": [{"id": "a"}],
        "items": [{"id": "S1", "subscale": "a"}, {"id": "S2", "subscale": "a"}],
        "total": {
            "id": "simple_total",
            "bands": [{"label": "Low", "min": 2}, {"label": "High", "min": 6}],
        },
    },
    "no_total": {
        "id": "simple",
        "response_scale": {"min": 1, "max": 5},
        "min_answered": 0.5,
        "subscales": [{"id": "a"}],
        "items": [{"id": "S1", "subscale": "a"}, {"id": "S2", "subscale": "a"}],
    },
}
