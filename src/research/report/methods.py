"""A methods section written from what ran: sample and exclusions, instruments and scoring, every
test and correction with its citation, alpha, seed, software versions, and the references it cites
(Markdown).

Every sentence is derived from the study and from :class:`Ran`, the record of which analyses ran
with which options: nothing is said of interviews a study does not have, of a total an instrument
lacks, or of a matched-pair analysis without matched companies. Counts carry their own singular or
plural ("1 respondent", "2 respondents").

``ran`` schema (a :class:`Ran` or a plain dict with the same keys; every key optional):

========================  ==========================================================================
``analyses``              names of the analyses that ran (default: every one in :data:`ANALYSES`);
                          an analysis is described only when the study also has the data it needs.
``alpha``                 significance level of every test (default 0.05).
``seed``                  seed of every random draw (the bootstrap); ``None`` when none was seeded.
``bootstrap``             resamples of the rank-biserial interval (default 2000; 0: no interval).
``confidence``            level of every interval (default 0.95).
``corrections``           multiple-testing adjustments reported, the first the primary one:
                          ``("holm", "bh")`` by default; names ``holm`` and ``bh``.
``power``                 power of the sensitivity analysis (default 0.80).
========================  ==========================================================================

Examples
--------
>>> Ran.from_dict({"alpha": 0.01, "analyses": ["items", "scales"]}).alpha
0.01
>>> Ran.from_dict({"alfa": 0.01})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: ran: unknown key 'alfa'; expected one of ['alpha', 'analyses', 'bootstrap', ...]
"""

from __future__ import annotations

import math
import platform
from dataclasses import dataclass, fields
from importlib import metadata
from typing import NamedTuple

import pandas as pd

from research import __version__
from research.inputs.transcripts import NO_SPEAKER_LABELS
from research.report.apa import KOTLER_STAGES, fmt_bounded, plural
from research.report.references import (
    REFERENCES,
    TOOLKIT_AUTHORS,
    TOOLKIT_LICENSE,
    TOOLKIT_RELEASED,
    TOOLKIT_TITLE,
    reference_list,
    toolkit_reference,
)
from research.report.tables import escape

#: The analyses the toolkit can run, in the order the methods section describes them.
ANALYSES = (
    "reliability",
    "items",
    "scales",
    "dyads",
    "assumptions",
    "ordinal",
    "mixed",
    "sensitivity",
    "agreement",
    "thought_worlds",
    "dif",
    "invariance",
    "companies",
    "congruence",
    "themes",
    "open_ended",
    "intercoder",
    "sentiment",
)
CORRECTIONS = {"holm": "holm1979", "bh": "benjamini1995"}
SOFTWARE = ("pandas", "numpy", "scipy", "statsmodels", "pingouin", "matplotlib", "seaborn")
_SOFTWARE_REFS = {
    "pandas": ("mckinney2010", "pandas2020"),
    "numpy": ("harris2020",),
    "scipy": ("virtanen2020",),
    "statsmodels": ("seabold2010",),
    "pingouin": ("vallat2018",),
    "matplotlib": ("hunter2007",),
    "seaborn": ("waskom2021",),
}
_SOFTWARE_NAMES = {
    "pandas": "pandas",
    "numpy": "NumPy",
    "scipy": "SciPy",
    "statsmodels": "statsmodels",
    "pingouin": "pingouin",
    "matplotlib": "Matplotlib",
    "seaborn": "seaborn",
}


@dataclass
class Ran:
    """Which analyses ran and with which options (see the module docstring for each field)."""

    analyses: tuple[str, ...] = ANALYSES
    alpha: float = 0.05
    seed: int | None = 2026
    bootstrap: int = 2000
    confidence: float = 0.95
    corrections: tuple[str, ...] = ("holm", "bh")
    power: float = 0.80

    def __post_init__(self):
        self.analyses = tuple(self.analyses)
        self.corrections = tuple(self.corrections)
        unknown = [a for a in self.analyses if a not in ANALYSES]
        if unknown:
            raise ValueError(
                f"ran: unknown analysis {unknown[0]!r}; expected names from {list(ANALYSES)}"
            )
        bad = [c for c in self.corrections if c not in CORRECTIONS]
        if bad:
            raise ValueError(
                f"ran: unknown correction {bad[0]!r}; expected one of {sorted(CORRECTIONS)}"
            )
        for name in ("alpha", "confidence", "power"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 < value < 1:
                raise ValueError(f"ran: {name} must be a number between 0 and 1, got {value!r}")
        if not isinstance(self.bootstrap, int) or self.bootstrap < 0:
            raise ValueError(
                "ran: bootstrap must be a whole number of resamples (0 or more), got "
                f"{self.bootstrap!r}"
            )
        if self.seed is not None and not isinstance(self.seed, int):
            raise ValueError(f"ran: seed must be a whole number or None, got {self.seed!r}")

    @classmethod
    def from_dict(cls, ran) -> Ran:
        if ran is None:
            return cls()
        if isinstance(ran, Ran):
            return ran
        if not isinstance(ran, dict):
            raise ValueError(f"ran: expected a dict or a Ran, got {type(ran).__name__}")
        names = sorted(f.name for f in fields(cls))
        for key in ran:
            if key not in names:
                raise ValueError(f"ran: unknown key {key!r}; expected one of {names}")
        return cls(**ran)


class _Citations:
    """Records the keys cited while the text is written, so the reference list holds exactly
    those."""

    def __init__(self):
        self.keys: list[str] = []

    def __call__(self, *keys: str, narrative: bool = False) -> str:
        for k in keys:
            if k not in REFERENCES:
                raise KeyError(f"no reference {k!r}")
            if k not in self.keys:
                self.keys.append(k)
        if narrative:
            return "; ".join(REFERENCES[k].in_text(narrative=True) for k in keys)
        return "(" + "; ".join(REFERENCES[k].in_text()[1:-1] for k in keys) + ")"


def _md(text) -> str:
    """Text from the data, safe in Markdown and in the HTML it becomes."""
    out = escape(text)
    for ch in "\\`*_[]#|":
        out = out.replace(ch, "\\" + ch)
    return out


def _num(x: float) -> str:
    return f"{x:g}"


def _list(words: list[str]) -> str:
    words = [w for w in words if w]
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def software_versions() -> dict[str, str | None]:
    """Installed versions of the toolkit, Python and the libraries the analyses use."""
    out = {"research": __version__, "python": platform.python_version()}
    out.update({name: _version(name) for name in SOFTWARE})
    return out


# ---- facts from the study ------------------------------------------------------------------------


def _roles(frame: pd.DataFrame) -> dict[str, int]:
    counts = frame["role"].astype(str).value_counts() if len(frame) else pd.Series(dtype=int)
    return {role: int(counts.get(role, 0)) for role in ("marketing", "sales")}


def _answered(study) -> pd.DataFrame:
    """Respondents with at least one answered item, with role and company."""
    r = study.responses
    ids = r.loc[r["value"].notna(), "respondent_id"].unique() if len(r) else []
    return study.respondents[study.respondents["respondent_id"].isin(ids)]


def _matched_companies(study) -> int:
    """Companies with at least one respondent of each function who answered the survey."""
    part = _answered(study).dropna(subset=["company_id"])
    if part.empty:
        return 0
    part = part[part["role"].astype(str).isin(["marketing", "sales"])]
    return int((part.groupby("company_id")["role"].nunique() == 2).sum())


def _quality_counts(study) -> dict[str, int]:
    q = study.quality.frame()
    return q["problem"].value_counts().to_dict() if len(q) else {}


def _sample(study) -> list[str]:
    r = study.respondents
    roles = _roles(r)
    companies = r["company_id"].dropna().nunique()
    answered = _answered(study)
    a_roles = _roles(answered)
    out = [
        f"The analysed sample holds {plural(len(r), 'respondent')} with a known function "
        f"({roles['marketing']} marketing, {roles['sales']} sales) from "
        f"{plural(companies, 'company', 'companies')}."
    ]
    if len(answered) != len(r):
        out.append(
            f"Of them, {len(answered)} answered at least one survey item "
            f"({a_roles['marketing']} marketing, {a_roles['sales']} sales)."
        )
    matched = _matched_companies(study)
    if companies == 1 and matched:
        out.append(
            "Both functions answered the survey in this company; it forms a matched "
            "marketing–sales pair."
        )
    elif companies and matched == companies:
        out.append(
            f"In each of the {companies} companies both functions answered the survey; these form "
            "matched marketing–sales pairs."
        )
    elif companies and matched:
        out.append(
            f"In {matched} of the {plural(companies, 'company', 'companies')} both functions "
            "answered the survey; these form matched marketing–sales pairs."
        )
    elif companies == 1:
        out.append(
            "The survey was not answered by both functions in this company, so no matched "
            "marketing–sales pair is formed."
        )
    elif companies:
        out.append(
            f"In none of the {companies} companies did both functions answer the survey, so no "
            "matched marketing–sales pairs are formed."
        )
    for role in ("marketing", "sales"):
        if a_roles[role] == 0:
            out.append(
                f"No {role} respondent answered the survey, so no marketing-versus-sales "
                "comparison is made."
            )
    return out


def _was(n: int) -> str:
    return "was" if n == 1 else "were"


def _unfinished_kept(q: pd.DataFrame) -> int:
    """Unfinished survey responses the study chose to keep."""
    unfinished = q[q["problem"] == "unfinished_response"]
    return int(unfinished["action"].astype(str).str.startswith("kept").sum())


def _interviews_left_out(q: pd.DataFrame) -> str:
    """The phrase for the interviews left out and why ("" when none was)."""
    problem, action = q["problem"], q["action"].astype(str)
    unknown = q[problem == "unknown_respondent"]
    interviews = unknown[unknown["action"].astype(str).str.contains("interview")]
    lost = q[
        problem.isin(["missing_transcript", "empty_transcript"])
        | ((problem == "invalid_transcript") & ~action.str.startswith("kept"))
    ]
    if not (len(interviews) or len(lost)):
        return ""
    parts = [
        f"{len(interviews)} with a respondent not among the analysed respondents"
        if len(interviews)
        else ""
    ]
    unlabelled = lost["action"].astype(str).str.contains(NO_SPEAKER_LABELS, regex=False)
    for word, label, rows in (
        ("missing_transcript", "without its transcript file", lost),
        ("empty_transcript", "with an empty transcript", lost),
        ("invalid_transcript", "with an unreadable transcript", lost[~unlabelled]),
        ("invalid_transcript", "with a transcript without speaker labels", lost[unlabelled]),
    ):
        n = int((rows["problem"] == word).sum())
        parts.append(f"{n} {label}" if n else "")
    return f"{plural(len(interviews) + len(lost), 'interview')} ({_list(parts)})"


def _left_out(q: pd.DataFrame) -> list[str]:
    """One phrase per kind of row the data-quality checks left out, in the log's terms."""
    problem, action = q["problem"], q["action"].astype(str)
    left = []
    roles = q[problem == "unknown_role"]
    if len(roles):
        labels = sorted({v for v in roles["value"] if v})
        shown = ", ".join(f"\u201c{_md(v)}\u201d" for v in labels[:5]) + (
            ", …" if len(labels) > 5 else ""
        )
        left.append(
            f"{plural(len(roles), 'respondent')} whose role was neither marketing nor sales"
            + (f" ({shown})" if shown else "")
        )
    blank = q[(problem == "blank_id") & ~action.str.startswith("kept")]
    if len(blank):
        left.append(f"{plural(len(blank), 'row')} with a blank respondent identifier")
    dropped = int((problem == "unfinished_response").sum()) - _unfinished_kept(q)
    if dropped:
        left.append(f"{plural(dropped, 'unfinished survey response')} (Finished = 0)")
    unknown = q[problem == "unknown_respondent"]
    surveys = unknown[~unknown["action"].astype(str).str.contains("interview")]
    if len(surveys):
        left.append(
            f"{plural(len(surveys), 'survey row')} whose respondent is not among the analysed "
            "respondents"
        )
    dup = q[problem == "duplicate_response"]
    if len(dup):
        left.append(
            f"{plural(len(dup), 'repeated survey row')} of a respondent (the first row is kept)"
        )
    interviews = _interviews_left_out(q)
    if interviews:
        left.append(interviews)
    codes = q[problem == "unknown_segment"]
    if len(codes):
        left.append(
            f"{plural(len(codes), 'manual code')} naming a segment or theme that does not exist"
        )
    return left


def _set_to_missing(q: pd.DataFrame, after_left_out: bool) -> list[str]:
    """The sentence on answers set to missing (none when no answer was)."""
    cells = q[q["problem"].isin(["out_of_range", "not_a_number"])]
    if not len(cells):
        return []
    oor = int((cells["problem"] == "out_of_range").sum())
    nan = int((cells["problem"] == "not_a_number").sum())
    parts = [
        f"{oor} outside the response scale" if oor else "",
        f"{nan} not a number" if nan else "",
    ]
    return [
        f"{'They' if after_left_out else 'The data-quality checks'} set "
        f"{plural(len(cells), 'answer')} ({_list(parts)}) to missing."
    ]


def _kept_anyway(q: pd.DataFrame) -> list[str]:
    """Sentences on what was flagged but kept: unfinished responses, respondents without a
    company, malformed transcripts (interviews without interviewer turns: :func:`_interviews`)."""
    problem, action = q["problem"], q["action"].astype(str)
    out = []
    kept = _unfinished_kept(q)
    if kept:
        out.append(
            "Because the study includes unfinished responses, "
            f"{plural(kept, 'unfinished survey response')} {_was(kept)} kept."
        )
    no_company = q[(problem == "blank_id") & action.str.startswith("kept")]
    if len(no_company):
        out.append(
            f"Without a company identifier, {plural(len(no_company), 'respondent')} "
            f"{_was(len(no_company))} kept but left out of the company and matched-pair analyses."
        )
    odd = q[(problem == "invalid_transcript") & action.str.startswith("kept")]
    if len(odd):
        out.append(
            f"With malformed parts, {plural(len(odd), 'transcript')} {_was(len(odd))} read and "
            "kept."
        )
    return out


def _exclusions(study) -> list[str]:
    """What the data-quality checks left out or set to missing, from the quality log; no sentence
    opens with a numeral."""
    q = study.quality.frame()
    if q.empty:
        units = (
            ["respondent", "survey row"]
            + (["interview"] if study.config.get("interviews") else [])
            + ["answer"]
        )
        return [f"No {', '.join(units[:-1])} or {units[-1]} had to be left out or set to missing."]
    left = _left_out(q)
    out = ["The data-quality checks left out " + _list(left) + "."] if left else []
    out += _set_to_missing(q, bool(left))
    out += _kept_anyway(q)
    out.append("Every case is listed in the data-quality log (data_quality.csv).")
    return out


def _interviews(study) -> list[str]:
    iv = study.interviews
    if iv is None or len(iv) == 0:
        return []
    roles = _roles(iv)
    segs = study.segments
    q = study.quality.frame()
    no_iv = int((q["problem"] == "no_interviewer_turns").sum())
    whose = (
        "not labelled as the interviewer's" if no_iv else "of interviewees (not the interviewer)"
    )
    out = [
        f"The study holds {plural(len(iv), 'interview')} ({roles['marketing']} marketing, "
        f"{roles['sales']} sales) from "
        f"{plural(iv['company_id'].dropna().nunique(), 'company', 'companies')}, read from their "
        "transcripts; consecutive text of one speaker forms one turn, and the "
        f"{plural(len(segs), 'turn')} {whose} are the segments that are coded."
    ]
    if no_iv:
        out.append(
            f"In {plural(no_iv, 'interview')} no turn matched the interviewer's label, so "
            f"{'all its' if no_iv == 1 else 'all their'} turns are coded, the interviewer's own "
            "words included (see the data-quality log)."
        )
    codes = study.manual_codes
    if len(codes):
        coders = codes["coder"].nunique()
        coded = codes["interview_id"].nunique()
        out.append(
            f"Segments of {plural(coded, 'interview')} were also coded by hand by "
            f"{plural(coders, 'human coder')} ({plural(len(codes), 'code')})."
        )
    return out


def _instrument_text(inst, cite) -> str:
    k = len(inst.items)
    labels = f" ({_md(inst.labels[0])} to {_md(inst.labels[-1])})" if inst.labels else ""
    subs = [
        f"{_md(s.get('label', s['id']))} ({plural(len(inst.items_of(s['id'])), 'item')})"
        for s in inst.subscales
    ]
    text = (
        f"*{_md(inst.title)}* has {plural(k, 'item')} answered from {_num(inst.scale_min)} to "
        f"{_num(inst.scale_max)}{labels}"
    )
    text += f" in {plural(len(subs), 'subscale')}: {_list(subs)}." if subs else "."
    reverse = [it.id for it in inst.items if it.reverse]
    if reverse:
        text += (
            f" {'Item' if len(reverse) == 1 else 'Items'} {_list([_md(r) for r in reverse])} "
            f"{'is' if len(reverse) == 1 else 'are'} reverse-keyed and scored "
            f"{_num(inst.scale_min + inst.scale_max)} − answer."
        )
    share = inst.min_answered
    if subs:
        sizes = sorted({len(inst.items_of(s["id"])) for s in inst.subscales})
        needs = _list([f"{math.ceil(share * n - 1e-9)} of {n}" for n in sizes])
        text += (
            " A subscale score is the mean of its answered items when at least "
            f"{_num(100 * share)}% of them are answered ({needs}); otherwise it is missing."
        )
    if inst.total:
        tl = _md(inst.total.get("label", inst.total["id"]))
        need = math.ceil(share * k - 1e-9)
        text += (
            f" The {tl} is the prorated sum, the mean of the answered items times {k}, when at "
            f"least {need} of the {k} items are answered; it runs from {_num(inst.scale_min * k)} "
            f"to {_num(inst.scale_max * k)}."
        )
        bands = inst.total.get("bands") or []
        if bands:
            top = inst.scale_max * k
            ranges = [
                f"{_md(b['label'])} ({_num(b['min'])} to "
                + (f"below {_num(bands[i + 1]['min'])})" if i + 1 < len(bands) else f"{_num(top)})")
                for i, b in enumerate(bands)
            ]
            kotler = {b["label"] for b in bands} == KOTLER_STAGES
            text += (
                f" Its {plural(len(bands), 'band')} "
                + (f"are the relationship stages {cite('kotler2006')}: " if kotler else "are ")
                + _list(ranges)
                + "."
            )
    return text


def _p_words(ran: Ran, cite, family: str) -> str:
    first = ran.corrections[0] if ran.corrections else None
    if first is None:
        return "p values are not adjusted for multiple testing"
    name = {"holm": "Holm's", "bh": "the Benjamini–Hochberg"}[first]
    text = f"p values are adjusted with {name} procedure {cite(CORRECTIONS[first])} over {family}"
    for other in ran.corrections[1:]:
        label = {"holm": "Holm", "bh": "Benjamini–Hochberg"}[other]
        text += f", with {label}-adjusted values {cite(CORRECTIONS[other])} beside them"
    return text


class _Facts(NamedTuple):
    """What every analysis family's sentences depend on."""

    did: set[str]  # the analyses that ran
    conf: str  # the confidence level as words, e.g. "95%"
    both: bool  # both functions answered the survey
    matched: int  # companies where both functions answered
    totals: bool  # some instrument has a total
    scales_family: str  # the family over which scale p values are adjusted


def _facts(study, ran: Ran) -> _Facts:
    answered = _roles(_answered(study))
    totals = any(inst.total for inst in study.instruments)
    return _Facts(
        did=set(ran.analyses),
        conf=f"{_num(100 * ran.confidence)}%",
        both=answered["marketing"] > 0 and answered["sales"] > 0,
        matched=_matched_companies(study),
        totals=totals,
        scales_family=(
            "the subscales and total of one instrument"
            if totals
            else "the subscales of one instrument"
        ),
    )


def _reliability(study, ran: Ran, cite, facts: _Facts):
    if not ("reliability" in facts.did and study.instruments):
        return None
    return (
        "Reliability",
        [
            f"Internal consistency is Cronbach's alpha {cite('cronbach1951')} on the "
            f"respondents who answered every item of a scale, with Feldt's {facts.conf} interval "
            f"{cite('feldt1965')}, for all respondents and for each function; McDonald's "
            f"omega {cite('mcdonald1999')} comes from a one-factor maximum-likelihood "
            "model and is left empty where that model cannot be fitted."
        ],
    )


def _comparisons(study, ran: Ran, cite, facts: _Facts):
    did, conf, both, matched = facts.did, facts.conf, facts.both, facts.matched
    compare = []
    if both and "items" in did:
        s = (
            "Each item is compared between marketing and sales with a two-sided Mann–Whitney U "
            f"test {cite('mann1947')} on keyed answers; the effect size is the rank-biserial "
            "correlation 2U/(n_marketing × n_sales) − 1, positive when marketing answers higher"
        )
        if ran.bootstrap:
            s += (
                f", with a {conf} percentile bootstrap interval from {ran.bootstrap:,} resamples "
                "within each function"
            )
        compare.append(s + f"; {_p_words(ran, cite, 'the items of one instrument')}.")
    if both and "scales" in did:
        compare.append(
            f"{'Subscale and total scores' if facts.totals else 'Subscale scores'} are compared "
            f"with Welch's t-test {cite('welch1947')}, marketing minus sales; the effect size is "
            f"Hedges' g {cite('hedges1981')}, the mean difference over the pooled standard "
            "deviation with the small-sample correction 1 − 3/(4(n_marketing + n_sales) − 9), with "
            f"a {conf} normal-approximation interval; {_p_words(ran, cite, facts.scales_family)}."
        )
    if "dyads" in did and matched >= 2:
        compare.append(
            f"Within the {plural(matched, 'company', 'companies')} where both functions answered, "
            "several respondents of one function are first averaged, and the two functions' scores "
            "are compared with a paired t-test (effect size d_z, the mean difference over the "
            f"standard deviation of the differences, with an exact {conf} interval from the "
            "noncentral t distribution) and, beside it, the Wilcoxon signed-rank test "
            f"{cite('wilcoxon1945')}; pairs are formed by company, never by row order; "
            f"{_p_words(ran, cite, facts.scales_family)}."
        )
    if not compare:
        return None
    compare.append(
        f"Every test is two-sided at α = {fmt_bounded(ran.alpha, 2 if ran.alpha >= 0.01 else 3)}."
    )
    return "Comparing marketing and sales", compare


def _robustness(study, ran: Ran, cite, facts: _Facts):
    did, both = facts.did, facts.both
    robust = []
    if both and "assumptions" in did:
        robust.append(
            "Beside each scale test, normality is checked with the Shapiro–Wilk test "
            f"{cite('shapiro1965')} in each function, equal variances with the median-centred "
            f"Levene test {cite('brown1974')}, and scores more than 3 SD from their function's "
            "mean are counted as outliers; these checks do not change the tests."
        )
    if both and "ordinal" in did:
        robust.append(
            "Each item is also fitted with a proportional-odds (ordinal logit) model "
            f"{cite('mccullagh1980')} of the keyed answer on function (marketing = 1)."
        )
    several = (
        study.scores.dropna(subset=["company_id"])
        .groupby(["instrument", "company_id"])
        .size()
        .gt(1)
        .any()
        if len(study.scores)
        else False
    )
    if both and "mixed" in did and several:
        robust.append(
            "Each scale is also fitted with a linear mixed model with a random intercept per "
            "company (restricted maximum likelihood), so that respondents of one company need not "
            "be independent."
        )
    if both and "sensitivity" in did:
        robust.append(
            "A sensitivity analysis gives the smallest g (and d_z for the matched pairs) that the "
            f"study could detect with power {fmt_bounded(ran.power)} at α = "
            f"{fmt_bounded(ran.alpha, 2 if ran.alpha >= 0.01 else 3)}, two-sided "
            f"{cite('cohen1988')}."
        )
    return ("Robustness", robust) if robust else None


def _agreement(study, ran: Ran, cite, facts: _Facts):
    if not ("agreement" in facts.did and facts.matched >= 3):
        return None
    instruments = study.instruments
    points = sorted({inst.n_points for inst in instruments})
    nulls = _list([f"{(a * a - 1) / 12:g} on {a} points" for a in points])
    agree = [
        "Agreement between the two functions of a company is described by the Pearson "
        "correlation of their company means, the one-way random-effects single-rater "
        f"intraclass correlation ICC(1) {cite('shrout1979')} with its {facts.conf} interval, and "
        f"Bland–Altman limits of agreement {cite('bland1986')}, the mean difference ± 1.96 SD.",
        f"Agreement among all respondents of a company is r_wg(j) {cite('james1984')} against "
        f"the uniform null variance (A² − 1)/12 ({nulls}), truncated at 0.",
    ]
    if any(inst.total and inst.total.get("bands") for inst in instruments):
        agree.append(
            f"The two functions' stages are compared with Cohen's kappa {cite('cohen1960')} "
            "with linear weights, so that neighbouring stages count as partial agreement."
        )
    return "Agreement within companies", agree


def _thought_worlds(study, ran: Ran, cite, facts: _Facts):
    from research.analysis.thoughtworlds import has_thought_worlds

    tw = [inst for inst in study.instruments if has_thought_worlds(inst)]
    if not (facts.both and "thought_worlds" in facts.did and tw):
        return None
    names = _list([f"*{_md(i.title)}*" for i in tw])
    return (
        "Thought worlds",
        [
            f"In {names}, each respondent rates both functions on the same traits "
            f"{cite('homburg2007')}; for each trait, a mixed analysis of variance crosses "
            "the rater's function (between respondents) with the function rated (within "
            "respondents)."
        ],
    )


def _measurement(study, ran: Ran, cite, facts: _Facts):
    did, both, instruments = facts.did, facts.both, study.instruments
    measurement = []
    if both and "dif" in did and instruments:
        measurement.append(
            "Each item is screened for differential item functioning between the functions with "
            f"ordinal logistic regression {cite('swaminathan1990', 'mccullagh1980')}: the keyed "
            "answer on the matching score (the mean of the respondent's other items of the same "
            "subscale), then function, then their interaction; likelihood-ratio tests give uniform "
            "and non-uniform DIF, and the two-degree-of-freedom p is adjusted over the items of "
            "one instrument; an item is flagged when its adjusted p is below α."
        )
    with_subs = [inst for inst in instruments if inst.subscales]
    if both and "invariance" in did and with_subs:
        measurement.append(
            f"Measurement invariance across the functions {cite('meredith1993')} is tested with "
            "two-group confirmatory factor models, one factor per subscale with the keyed items as "
            "continuous indicators, fitted by maximum likelihood as lavaan does by default "
            f"{cite('rosseel2012')}: configural, then equal loadings (metric), then equal "
            "intercepts (scalar), each compared with the one before it; a level that cannot be "
            "fitted (too few complete respondents, no convergence or an improper solution) is "
            "reported with its reason instead of a test (report 02)."
        )
    return ("Measurement across functions", measurement) if measurement else None


def _company_level(study, ran: Ran, cite, facts: _Facts):
    banded = [inst for inst in study.instruments if inst.total and inst.total.get("bands")]
    company = []
    if "companies" in facts.did and banded:
        company.append(
            "For each company, each function's total is the mean of its respondents' totals, the "
            "company's total is the mean of the available function means (each function counts "
            "once), and the perception gap is marketing minus sales; each total takes the band it "
            "falls in."
        )
        if study.decision_table is not None:
            n_rules = len(study.decision_table.rules)
            company.append(
                f"A decision table of {plural(n_rules, 'rule')} turns each company's stage, gap "
                "and attributes into advice; a rule that needs a fact the company lacks is "
                "reported as not assessable rather than guessed."
            )
    outcomes = list(study.config.get("outcomes") or [])
    if "congruence" in facts.did and banded and outcomes and facts.matched:
        company.append(
            "Whether the two functions' agreement goes with company outcomes "
            f"({_list([_md(o) for o in outcomes])}) is estimated with polynomial regression and "
            f"response-surface analysis {cite('edwards2002', 'humberg2019')} over companies with "
            "both functions and the outcome (at least 10 needed; "
            f"{plural(facts.matched, 'company', 'companies')} have both functions)."
        )
    return ("Companies", company) if company else None


def _interview_themes(study, ran: Ran, cite, facts: _Facts) -> list[str]:
    """Sentences on coding the interviews with the codebook and comparing the themes."""
    n_interviews = len(study.interviews) if study.interviews is not None else 0
    cb = study.codebook
    if not ("themes" in facts.did and n_interviews and cb is not None):
        return []
    iv_roles = _roles(study.interviews)
    out = [
        f"Interview segments are coded with a codebook of {plural(len(cb.themes), 'theme')}: a "
        "theme's patterns are phrases matched case-insensitively on word boundaries, or "
        "regular expressions; an interview has a theme when any of its segments has."
    ]
    if iv_roles["marketing"] and iv_roles["sales"]:
        out.append(
            "The share of interviews raising each theme is compared between the functions with "
            f"Fisher's exact test {cite('fisher1922')}, two-sided, with Wilson intervals of "
            f"the shares {cite('wilson1927')} and Cohen's h as the effect size; "
            f"{_p_words(ran, cite, 'the themes')}."
        )
    return out


def _open_answers(study, ran: Ran, cite, facts: _Facts) -> list[str]:
    """The sentence on coding the open survey answers."""
    n_open = len(study.open_answers) if study.open_answers is not None else 0
    if not ("open_ended" in facts.did and n_open and study.codebook is not None):
        return []
    o_roles = _roles(study.open_answers)
    cols = list(study.config.get("open_ended") or [])
    s = (
        f"The {plural(n_open, 'non-blank open survey answer')} ({o_roles['marketing']} "
        f"marketing, {o_roles['sales']} sales) in {plural(len(cols), 'free-text column')} are "
        "coded with the same codebook"
    )
    if o_roles["marketing"] and o_roles["sales"]:
        s += (
            " and compared between the functions in the same way, with Fisher's exact test "
            f"{cite('fisher1922')} and Cohen's h"
        )
    return [s + "."]


def _qualitative(study, ran: Ran, cite, facts: _Facts):
    qual = _interview_themes(study, ran, cite, facts) + _open_answers(study, ran, cite, facts)
    codes = study.manual_codes
    if "intercoder" in facts.did and len(codes) and codes["coder"].nunique() >= 2:
        n_coders = codes["coder"].nunique()
        s = (
            f"Agreement between the {plural(n_coders, 'human coder')} is, per theme and pair of "
            "coders, the share of segments on which both say the same and Cohen's kappa "
            f"{cite('cohen1960')}, on the segments of the interviews both coded"
        )
        qual.append(
            s
            + f"; a nominal Krippendorff's alpha {cite('krippendorff2018')} summarises all coders "
            "at once."
        )
    n_interviews = len(study.interviews) if study.interviews is not None else 0
    if "sentiment" in facts.did and n_interviews:
        qual.append(
            f"The tone of each segment is scored with VADER {cite('hutto2014')}, as an exploratory "
            "description only: VADER was built for short social-media text."
        )
    if not qual:
        return None
    has_iv = any("nterview" in q for q in qual)
    has_open = any("open survey answer" in q for q in qual)
    heading = (
        "Interviews and open answers"
        if has_iv and has_open
        else "Open survey answers"
        if has_open
        else "Interviews"
    )
    return heading, qual


#: One function per analysis family, in the order of the methods section: each gives
#: ``(heading, sentences)`` or ``None`` when none of its analyses ran or the data do not allow them.
_FAMILIES = (
    _reliability,
    _comparisons,
    _robustness,
    _agreement,
    _thought_worlds,
    _measurement,
    _company_level,
    _qualitative,
)


def _analyses(study, ran: Ran, cite) -> list[tuple[str, list[str]]]:
    """(heading, sentences) of every analysis that ran and that the study's data allow."""
    facts = _facts(study, ran)
    sections = [family(study, ran, cite, facts) for family in _FAMILIES]
    return [s for s in sections if s is not None]


def methods_text(study, ran=None) -> str:
    """A methods section in Markdown, derived from the study and from what ran.

    Parameters
    ----------
    study : :class:`research.inputs.study.Study` ran : :class:`Ran` or a dict with its keys (see the
    module docstring); ``None``: the defaults of a run.

    Returns
    -------
    str
        Markdown: ``## Method`` with *Participants*, *Instruments and scoring*, *Analyses* and
        *Software*, then ``## References`` listing exactly the works cited, in APA order.
    """
    ran = Ran.from_dict(ran)
    cite = _Citations()
    lines = ["## Method", "", "### Participants", ""]
    lines.append(" ".join(_sample(study) + _exclusions(study)))
    iv = _interviews(study)
    if iv:
        lines += ["", " ".join(iv)]
    lines += ["", "### Instruments and scoring", ""]
    n_inst = len(study.instruments)
    intro = (
        f"The survey holds {plural(n_inst, 'instrument')}. Reverse-keyed items enter every "
        "analysis keyed."
        if any(it.reverse for inst in study.instruments for it in inst.items)
        else f"The survey holds {plural(n_inst, 'instrument')}."
    )
    lines.append(intro)
    for inst in study.instruments:
        lines += ["", _instrument_text(inst, cite)]
    sections = _analyses(study, ran, cite)
    if sections:
        lines += ["", "### Analyses"]
        for heading, sentences in sections:
            lines += ["", f"*{heading}.* " + " ".join(sentences)]
        seeded = (
            ran.seed is not None
            and ran.bootstrap
            and any(
                h == "Comparing marketing and sales" and any("bootstrap" in s for s in ss)
                for h, ss in sections
            )
        )
        if seeded:
            lines += [
                "",
                f"Random draws (the bootstrap) use the seed {ran.seed}, so every number can be "
                "reproduced.",
            ]
    lines += ["", "### Software", "", _software(cite)]
    lines += ["", "## References", ""]
    lines += [f"- {entry}" for entry in reference_list(cite.keys)]
    return "\n".join(lines) + "\n"


def _software(cite) -> str:
    v = software_versions()
    libs = []
    for name in SOFTWARE:
        if v.get(name):
            libs.append(f"{_SOFTWARE_NAMES[name]} {v[name]} {cite(*_SOFTWARE_REFS[name])}")
    return (
        f"The analyses were run with the research toolkit, version {v['research']} "
        f"{cite('research')}, in Python {v['python']}, with {_list(libs)}."
    )


def cited_keys(text: str) -> list[str]:
    """The reference keys whose in-text citation appears in a methods text (for checks)."""
    return [
        k
        for k, ref in REFERENCES.items()
        if ref.in_text()[1:-1] in text or ref.in_text(narrative=True) in text
    ]


def how_to_cite() -> dict:
    """The toolkit's own citation, as CITATION.cff gives it: ``text`` (APA), ``bibtex``, and the CFF
    fields.

    Examples
    --------
    >>> c = how_to_cite()
    >>> c["title"]
    'research: a toolkit for studying the sales–marketing interface'
    >>> c["license"], c["date_released"]
    ('GPL-3.0-or-later', '2026-11-29')
    """
    ref = toolkit_reference()
    return {
        "text": ref.apa(markdown=False),
        "markdown": ref.apa(),
        "bibtex": ref.bibtex(),
        "title": TOOLKIT_TITLE,
        "version": __version__,
        "license": TOOLKIT_LICENSE,
        "authors": [TOOLKIT_AUTHORS],
        "date_released": TOOLKIT_RELEASED,
        "cff_version": "1.2.0",
    }
