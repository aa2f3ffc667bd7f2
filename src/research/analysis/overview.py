"""The study at a glance: who answered, from which companies and roles, what the data-quality log
says, and where respondents stand on each banded instrument."""

from __future__ import annotations

import pandas as pd

from research.inputs.quality import PROBLEMS

PROBLEM_WORDS = {
    "out_of_range": "an answer outside the response scale",
    "not_a_number": "an answer that is neither a number nor a response label",
    "unknown_role": "a respondent whose role matches no role in study.yaml",
    "unknown_respondent": "a survey row or interview of a respondent not in the respondents file",
    "unfinished_response": "an unfinished survey response",
    "missing_transcript": "an interview whose transcript file is missing",
    "empty_transcript": "an interview whose transcript holds no text",
    "unknown_segment": "a manual code for a segment (or theme) that does not exist",
    "duplicate_response": "a second survey row for the same respondent",
    "invalid_transcript": "a transcript that could not be read, or that names no speaker",
    "no_interviewer_turns": "a transcript in which the interviewer never speaks",
    "blank_id": "a row with a blank identifier",
}


def sample_overview(
    respondents: pd.DataFrame, scores: pd.DataFrame, interviews: pd.DataFrame
) -> pd.DataFrame:
    """Respondents, companies, scored respondents and interviews per role (and in all).

    Examples
    --------
    >>> r = pd.DataFrame({"respondent_id": ["1", "2", "3"], "company_id": ["a", "a", "b"],
    ...                   "role": ["marketing", "sales", "sales"]})
    >>> sample_overview(r, pd.DataFrame(columns=["respondent_id"]),
    ...                 pd.DataFrame(columns=["respondent_id"]))["respondents"].tolist()
    [1, 2, 3]
    """
    rows = []
    scored = set(scores["respondent_id"]) if len(scores) else set()
    interviewed = (
        interviews["respondent_id"].value_counts() if len(interviews) else pd.Series(dtype=int)
    )
    for role, part in [*respondents.groupby("role", observed=True), ("all", respondents)]:
        ids = part["respondent_id"]
        rows.append(
            {
                "role": role,
                "respondents": len(part),
                "companies": part["company_id"].nunique(),
                "with_survey": int(ids.isin(scored).sum()),
                "interviews": int(interviewed.reindex(ids).fillna(0).sum()),
            }
        )
    return pd.DataFrame(rows)


def company_coverage(respondents: pd.DataFrame) -> pd.DataFrame:
    """How many companies have both functions, only one, and how many respondents per side.

    Returns one row per pattern (``marketing 1, sales 1`` ...), with the number of companies.
    """
    counts = respondents.dropna(subset=["company_id"]).pivot_table(
        index="company_id", columns="role", values="respondent_id", aggfunc="count", fill_value=0
    )
    counts = counts.reindex(columns=["marketing", "sales"], fill_value=0)
    pattern = counts.apply(lambda r: f"marketing {r['marketing']}, sales {r['sales']}", axis=1)
    kind = counts.apply(
        lambda r: (
            "both functions"
            if r["marketing"] and r["sales"]
            else ("marketing only" if r["marketing"] else "sales only")
        ),
        axis=1,
    )
    table = (
        pd.DataFrame({"coverage": kind, "respondents": pattern})
        .value_counts()
        .rename("companies")
        .reset_index()
    )
    return table.sort_values(["coverage", "companies"], ascending=[True, False]).reset_index(
        drop=True
    )


def quality_overview(quality: pd.DataFrame) -> pd.DataFrame:
    """The data-quality log counted by problem, with what each problem means and what was done.

    Examples
    --------
    >>> from research.inputs.quality import QUALITY_COLUMNS
    >>> log = pd.DataFrame([["s.csv", "R1", "Q1", "9", "out_of_range", "set to missing"]],
    ...                    columns=QUALITY_COLUMNS)
    >>> quality_overview(log)[["problem", "count"]].values.tolist()
    [['out_of_range', 1]]
    """
    if quality.empty:
        return pd.DataFrame(columns=["problem", "meaning", "count", "action", "files"])
    grouped = quality.groupby("problem", sort=False).agg(
        count=("record", "size"), files=("source", lambda s: ", ".join(sorted(set(s))))
    )
    grouped = grouped.reset_index()
    grouped["meaning"] = grouped["problem"].map(PROBLEM_WORDS).fillna("")
    grouped["action"] = grouped["problem"].map(PROBLEMS)
    return grouped[["problem", "meaning", "count", "action", "files"]]


def stage_counts(scores: pd.DataFrame, instrument) -> pd.DataFrame:
    """Respondents per band of an instrument's total, by role: ``band``, ``role``, ``n``,
    ``share``."""
    if not instrument.total:
        return pd.DataFrame(columns=["band", "role", "n", "share"])
    labels = [b["label"] for b in instrument.total["bands"]]
    part = scores[(scores["instrument"] == instrument.id) & scores["band"].notna()]
    table = (
        part.groupby(["role", "band"])
        .size()
        .rename("n")
        .reset_index()
        .pivot(index="band", columns="role", values="n")
        .reindex(labels)
        .fillna(0)
        .astype(int)
    )
    long = table.reset_index().melt(id_vars="band", var_name="role", value_name="n")
    long["share"] = long["n"] / long.groupby("role")["n"].transform("sum").where(lambda s: s > 0)
    return long


def score_summary(scores: pd.DataFrame, instrument) -> pd.DataFrame:
    """Mean, SD, minimum, maximum and n of every scale of an instrument, by role."""
    part = scores[scores["instrument"] == instrument.id]
    rows = []
    for scale in instrument.scales:
        for role, grp in [*part.groupby("role"), ("all", part)]:
            x = grp[scale].dropna()
            rows.append(
                {
                    "scale": scale,
                    "role": role,
                    "n": len(x),
                    "mean": x.mean() if len(x) else float("nan"),
                    "sd": x.std(ddof=1) if len(x) > 1 else float("nan"),
                    "min": x.min() if len(x) else float("nan"),
                    "max": x.max() if len(x) else float("nan"),
                }
            )
    return pd.DataFrame(rows)
