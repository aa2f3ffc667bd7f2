"""Company diagnosis: each function's score, the company's stage, the gap, and the decision table's
advice.

``company_summary.csv`` (SPEC §3): ``total_marketing``/``total_sales`` are the means of that role's
totals in the company, ``total`` the mean of the available role means (each function counts once),
``gap = total_marketing - total_sales``; bands as in SPEC §2; ``recommendations`` the ``;``-joined
ids of the rules that fire.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.analysis.themes import interviews_with_themes, themed_sentences
from research.inputs.privacy import personal_columns
from research.spec.decisions import SUMMARY_FIELDS

SUMMARY_COLUMNS = [
    "company_id",
    "instrument",
    "n_marketing",
    "n_sales",
    "total_marketing",
    "total_sales",
    "total",
    "gap",
    "band_marketing",
    "band_sales",
    "band",
    "recommendations",
]
EVALUATION_COLUMNS = [
    "company_id",
    "instrument",
    "rule",
    "action",
    "status",
    "not_assessable",
    "held",
    "circumstance",
    "moves",
]
_NOT_ATTRIBUTES = {"respondent_id", "company_id", "role", "role_label"}


def company_attributes(respondents: pd.DataFrame) -> pd.DataFrame:
    """One row per company: each non-personal attribute column, the most common value among its
    respondents (ties: the first in file order). Names, e-mail addresses and phone numbers are never
    included.

    Examples
    --------
    >>> r = pd.DataFrame({"respondent_id": list("abc"), "company_id": ["K", "K", "K"],
    ...                   "role": ["sales"] * 3, "size": ["10", "20", "20"],
    ...                   "email": ["x@y.z"] * 3})
    >>> company_attributes(r).to_dict("records")
    [{'company_id': 'K', 'size': '20'}]
    """
    cols = [
        c
        for c in respondents.columns
        if c not in _NOT_ATTRIBUTES and c not in personal_columns(respondents)
    ]
    companies = respondents["company_id"].dropna().unique()
    if not cols:
        return pd.DataFrame({"company_id": companies})
    long = respondents[["company_id", *cols]].dropna(subset=["company_id"]).reset_index(drop=True)
    long = long.reset_index(names="order").melt(
        id_vars=["order", "company_id"], var_name="variable", value_name="value"
    )
    long = long[long["value"].notna() & (long["value"].astype(str).str.strip() != "")]
    counts = long.groupby(["company_id", "variable", "value"], sort=False).agg(
        n=("order", "size"), first=("order", "min")
    )
    best = counts.reset_index().sort_values(
        ["company_id", "variable", "n", "first"], ascending=[True, True, False, True]
    )
    best = best.drop_duplicates(["company_id", "variable"])
    wide = best.pivot(index="company_id", columns="variable", values="value").reindex(
        index=companies, columns=cols
    )
    return wide.rename_axis(index="company_id", columns=None).reset_index()


def company_scores(scores: pd.DataFrame, instrument) -> pd.DataFrame:
    """SPEC's company summary without recommendations, for one instrument with a banded total."""
    tid = instrument.total["id"]
    part = scores[(scores["instrument"] == instrument.id) & scores["company_id"].notna()]
    by_role = (
        part.dropna(subset=[tid])
        .groupby(["company_id", "role"])[tid]
        .agg(["mean", "size"])
        .unstack("role")
    )
    companies = pd.Index(part["company_id"].unique(), name="company_id")
    out = pd.DataFrame(index=companies)
    for role in ("marketing", "sales"):
        out[f"n_{role}"] = (
            by_role[("size", role)].reindex(companies).fillna(0).astype(int)
            if ("size", role) in by_role
            else 0
        )
        out[f"total_{role}"] = (
            by_role[("mean", role)].reindex(companies) if ("mean", role) in by_role else np.nan
        )
    out["total"] = out[["total_marketing", "total_sales"]].mean(axis=1, skipna=True)
    out["gap"] = out["total_marketing"] - out["total_sales"]
    for col, src in (
        ("band_marketing", "total_marketing"),
        ("band_sales", "total_sales"),
        ("band", "total"),
    ):
        out[col] = out[src].map(instrument.band_of)
    out.insert(0, "instrument", instrument.id)
    return out.reset_index()


def company_facts(summary_row: dict, attributes: dict) -> dict:
    """The facts a decision rule may test: summary fields, ``abs_gap``, and ``attr:NAME`` for each
    attribute."""
    facts = {k: summary_row.get(k) for k in SUMMARY_FIELDS if k != "abs_gap"}
    facts["abs_gap"] = (
        abs(summary_row["gap"])
        if summary_row.get("gap") is not None and not pd.isna(summary_row["gap"])
        else None
    )
    for key, value in attributes.items():
        if key != "company_id":
            facts[f"attr:{key}"] = value
    return facts


def evaluate_rules(summary: pd.DataFrame, attributes: pd.DataFrame, table) -> pd.DataFrame:
    """Every rule for every company: ``status`` is ``fires``, ``does not fire`` or ``not
    assessable`` (with the fields the study lacks or the company left blank)."""
    attrs = attributes.set_index("company_id").to_dict("index") if len(attributes) else {}
    rows = []
    for row in summary.to_dict("records"):
        facts = company_facts(row, attrs.get(row["company_id"], {}))
        for rule in table.rules:
            status, missing = rule.evaluate(facts)
            held = "; ".join(c.words() for c in rule.held(facts)) if status == "fires" else ""
            rows.append(
                {
                    "company_id": row["company_id"],
                    "instrument": row["instrument"],
                    "rule": rule.id,
                    "action": rule.action,
                    "status": status,
                    "not_assessable": "; ".join(missing),
                    "held": held,
                    "circumstance": rule.circumstance,
                    "moves": " | ".join(rule.moves),
                }
            )
    return pd.DataFrame(rows, columns=EVALUATION_COLUMNS)


def _rule_ids(evaluation: pd.DataFrame, status: str, companies: pd.Series) -> list[str]:
    """Per company, the ``;``-joined ids of the rules with this status (``""`` when none). A plain
    list, so that no company having any (an empty group) cannot turn the column into numbers."""
    ids = (
        evaluation[evaluation["status"] == status]
        .groupby("company_id")["rule"]
        .agg(";".join)
        .to_dict()
    )
    return [ids.get(company, "") for company in companies]


def company_summary(study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``company_summary.csv`` for every instrument with a banded total, and the long rule
    evaluation.

    Returns
    -------
    summary : DataFrame
        SPEC's columns, then ``not_assessable`` (``;``-joined ids of rules that could not be
        assessed).
    evaluations : DataFrame
        One row per company, instrument and rule (see :func:`evaluate_rules`).
    """
    summaries, evaluations = [], []
    attributes = company_attributes(study.respondents)
    for inst in study.instruments:
        if not inst.total or not inst.total.get("bands"):
            continue
        summary = company_scores(study.scores, inst)
        if study.decision_table is not None:
            ev = evaluate_rules(summary, attributes, study.decision_table)
            summary["recommendations"] = _rule_ids(ev, "fires", summary["company_id"])
            summary["not_assessable"] = _rule_ids(ev, "not assessable", summary["company_id"])
            evaluations.append(ev)
        else:
            summary["recommendations"], summary["not_assessable"] = "", ""
        summaries.append(summary[SUMMARY_COLUMNS + ["not_assessable"]])
    summary = (
        pd.concat(summaries, ignore_index=True)
        if summaries
        else pd.DataFrame(columns=SUMMARY_COLUMNS + ["not_assessable"])
    )
    evaluation = pd.concat(evaluations, ignore_index=True) if evaluations else pd.DataFrame()
    return summary.sort_values(["instrument", "company_id"], ignore_index=True), evaluation


def themes_by_stage(
    coded: pd.DataFrame,
    interviews: pd.DataFrame,
    summary: pd.DataFrame,
    codebook,
    instrument_id: str | None = None,
) -> pd.DataFrame:
    """Joint display: share of interviews raising each theme, by the company's stage on
    ``instrument_id`` (default: the summary's first instrument) (statistics by themes)."""
    if coded.empty or summary.empty:
        return pd.DataFrame(columns=["theme", "label", "band", "interviews", "with_theme", "share"])
    units = interviews_with_themes(coded, interviews, codebook)
    first = summary[summary["instrument"] == (instrument_id or summary["instrument"].iloc[0])]
    units = units.merge(first[["company_id", "band"]], on="company_id", how="left").dropna(
        subset=["band"]
    )
    rows = []
    for band, part in units.groupby("band", sort=False):
        for theme in codebook.themes:
            k = int(part[theme.id].sum())
            rows.append(
                {
                    "theme": theme.id,
                    "label": theme.label,
                    "band": band,
                    "interviews": len(part),
                    "with_theme": k,
                    "share": k / len(part),
                }
            )
    return pd.DataFrame(rows)


def case_ordered(
    summary: pd.DataFrame, coded: pd.DataFrame, codebook, instrument_id: str | None = None
) -> pd.DataFrame:
    """Joint display: companies ordered by total (then gap), each function's score and stage, and a
    pseudonymised quote from each side's interview (the sentence carrying most codebook themes)."""
    if summary.empty:
        return pd.DataFrame()
    inst = instrument_id or summary["instrument"].iloc[0]
    s = summary[summary["instrument"] == inst].copy()
    sentences = themed_sentences(coded, codebook) if not coded.empty else pd.DataFrame()
    if len(sentences):
        # each side's sentence carrying the most themes, then the one closest to 110 characters
        sentences = sentences.assign(off=(sentences["sentence"].str.len() - 110).abs())
        sentences = sentences.sort_values(
            ["n_themes", "off", "interview_id", "segment"],
            ascending=[False, True, True, True],
            kind="stable",
        )
        best = sentences.drop_duplicates(["company_id", "role"])
    for role in ("marketing", "sales"):
        part = (
            best[best["role"] == role]
            if len(sentences)
            else pd.DataFrame(columns=["company_id", "sentence"])
        )
        quotes = dict(zip(part["company_id"], part["sentence"], strict=True))
        s[f"quote_{role}"] = [quotes.get(company, "") for company in s["company_id"]]
    s = s.sort_values(["total", "gap"], ascending=[False, False], ignore_index=True)
    return s[
        [
            "company_id",
            "band",
            "total",
            "gap",
            "total_marketing",
            "band_marketing",
            "total_sales",
            "band_sales",
            "quote_marketing",
            "quote_sales",
            "recommendations",
        ]
    ]
