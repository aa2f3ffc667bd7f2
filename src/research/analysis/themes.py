"""Coding interview segments (and open survey answers) with a codebook, and themes by role.

A respondent segment has a theme when any of the theme's patterns matches; an interview has it when
any of its segments has (SPEC §3, themes). Theme prevalence is compared by role with Fisher's exact
test.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from research.analysis.effects import adjust, cohen_h

THEME_BY_ROLE_COLUMNS = [
    "theme",
    "label",
    "interviews_marketing",
    "with_theme_marketing",
    "share_marketing",
    "interviews_sales",
    "with_theme_sales",
    "share_sales",
    "test",
    "p",
    "p_holm",
    "effect",
    "effect_size",
]
SEGMENT_COLUMNS = ["interview_id", "segment", "respondent_id", "role", "speaker", "text", "themes"]


def theme_matrix(texts: pd.Series, codebook) -> pd.DataFrame:
    """Boolean frame, one column per theme, True where the text matches the theme's patterns."""
    lowered = texts.fillna("").astype(str).str.lower().tolist()
    return pd.DataFrame(
        {
            t.id: np.fromiter((t.regex.search(s) is not None for s in lowered), bool, len(lowered))
            for t in codebook.themes
        },
        index=texts.index,
    )


def code_segments(segments: pd.DataFrame, codebook) -> pd.DataFrame:
    """Add ``themes`` (``;``-joined ids in codebook order) and one boolean column per theme to the
    segments."""
    flags = theme_matrix(segments["text"], codebook)
    out = segments.copy()
    ids = np.array(codebook.theme_ids)
    mask = flags.to_numpy()
    out["themes"] = [";".join(ids[row]) for row in mask]
    return pd.concat([out, flags], axis=1)


def prevalence_by_role(units: pd.DataFrame, codebook, unit: str = "interviews") -> pd.DataFrame:
    """Per theme: units with the theme by role, shares with Wilson intervals, Fisher's exact test,
    Cohen's h.

    Parameters
    ----------
    units : DataFrame
        One row per unit (interview or answer) with ``role`` and one boolean column per theme.
    unit : str
        Name used in the count columns (``interviews`` gives SPEC's ``theme_by_role.csv``).

    References
    ----------
    Fisher, R. A. (1922). On the interpretation of χ² from contingency tables, and the calculation
    of P. *Journal of the Royal Statistical Society, 85*(1), 87-94. https://doi.org/10.2307/2340521

    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    *Journal of the American Statistical Association, 22*(158), 209-212.
    https://doi.org/10.1080/01621459.1927.10502953

    Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.). Erlbaum.

    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal
    of Statistics, 6*(2), 65-70. https://doi.org/10.2307/4615733
    """
    rows = []
    for theme in codebook.themes:
        row = {"theme": theme.id, "label": theme.label}
        counts = {}
        for role in ("marketing", "sales"):
            part = units[units["role"] == role]
            n, k = len(part), int(part[theme.id].sum()) if len(part) else 0
            counts[role] = (n, k)
            row[f"{unit}_{role}"], row[f"with_theme_{role}"] = n, k
            row[f"share_{role}"] = k / n if n else np.nan
            low, high = proportion_confint(k, n, method="wilson") if n else (np.nan, np.nan)
            row[f"share_{role}_ci_low"], row[f"share_{role}_ci_high"] = low, high
        (n1, k1), (n2, k2) = counts["marketing"], counts["sales"]
        row["test"], row["effect"] = "fisher-exact", "cohen-h"
        if n1 and n2:
            row["p"] = float(
                stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided").pvalue
            )
            row["effect_size"] = cohen_h(k1 / n1, k2 / n2)
            row["note"] = ""
        else:
            row["p"], row["effect_size"] = np.nan, np.nan
            row["note"] = f"not computed: no {'marketing' if not n1 else 'sales'} {unit}"
        rows.append(row)
    table = pd.DataFrame(rows)
    table["p_holm"] = adjust(table["p"], "holm")
    table["p_bh"] = adjust(table["p"], "fdr_bh")
    first = [c.replace("interviews", unit) for c in THEME_BY_ROLE_COLUMNS]
    return table[first + [c for c in table.columns if c not in first]]


def interviews_with_themes(coded: pd.DataFrame, interviews: pd.DataFrame, codebook) -> pd.DataFrame:
    """One row per kept interview: ``interview_id``, ``role``, ``company_id`` and whether it has
    each theme."""
    flags = coded.groupby("interview_id")[codebook.theme_ids].any()
    base = interviews[["interview_id", "respondent_id", "company_id", "role"]].set_index(
        "interview_id"
    )
    out = base.join(flags).fillna(dict.fromkeys(codebook.theme_ids, False))
    out[codebook.theme_ids] = out[codebook.theme_ids].astype(bool)
    return out.reset_index()


def theme_by_role(coded: pd.DataFrame, interviews: pd.DataFrame, codebook) -> pd.DataFrame:
    """``theme_by_role.csv``: interviews with each theme by role, Fisher's exact test, Cohen's h,
    Holm."""
    return prevalence_by_role(
        interviews_with_themes(coded, interviews, codebook), codebook, "interviews"
    )


def matrix_coding(coded: pd.DataFrame, codebook) -> pd.DataFrame:
    """NVivo's matrix-coding query as tidy data: per theme and role, segments and interviews coded,
    and shares.

    References
    ----------
    Bazeley, P., & Jackson, K. (2013). *Qualitative data analysis with NVivo* (2nd ed.). Sage
    (matrix coding).
    """
    rows = []
    for role, part in coded.groupby("role"):
        n_seg, n_int = len(part), part["interview_id"].nunique()
        for theme in codebook.themes:
            hit = part[part[theme.id]]
            rows.append(
                {
                    "theme": theme.id,
                    "label": theme.label,
                    "role": role,
                    "segments": len(hit),
                    "segment_share": len(hit) / n_seg if n_seg else np.nan,
                    "interviews": hit["interview_id"].nunique(),
                    "interview_share": hit["interview_id"].nunique() / n_int if n_int else np.nan,
                }
            )
    return pd.DataFrame(rows)


def co_occurrence(coded: pd.DataFrame, codebook) -> pd.DataFrame:
    """Segments coded with both themes, for every pair of themes (long format: ``theme_a``,
    ``theme_b``, ``segments``)."""
    m = coded[codebook.theme_ids].to_numpy(dtype=int)
    both = m.T @ m
    ids = codebook.theme_ids
    rows = [
        {"theme_a": ids[i], "theme_b": ids[j], "segments": int(both[i, j])}
        for i in range(len(ids))
        for j in range(len(ids))
        if i < j and both[i, j] > 0
    ]
    return pd.DataFrame(rows, columns=["theme_a", "theme_b", "segments"]).sort_values(
        "segments", ascending=False, ignore_index=True
    )


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def themed_sentences(coded: pd.DataFrame, codebook) -> pd.DataFrame:
    """The sentences of coded segments that carry at least one theme, with one boolean column per
    theme.

    Only segments coded with some theme are split, and each sentence is matched once against every
    theme; quotes and the joint displays pick from this table. Columns: ``interview_id``,
    ``segment``, ``role``, ``speaker``, ``company_id`` (when present), ``sentence``, ``n_themes``
    and the theme columns.
    """
    keep = [
        c
        for c in ("interview_id", "segment", "role", "speaker", "company_id")
        if c in coded.columns
    ]
    part = coded[coded[codebook.theme_ids].any(axis=1)] if len(coded) else coded
    part = part.reset_index(drop=True)
    sentences = part[keep].assign(sentence=part["text"].str.split(_SENTENCE)).explode("sentence")
    sentences["sentence"] = sentences["sentence"].fillna("").str.strip()
    sentences = sentences[sentences["sentence"] != ""]  # the index still points at the segment
    # A sentence can only carry its segment's themes (it is a substring of the segment, cut at white
    # space), so each sentence is matched against those alone.
    segment_flags = (
        part[codebook.theme_ids].to_numpy()[sentences.index.to_numpy()] if len(sentences) else None
    )
    lowered = sentences["sentence"].str.lower().tolist()
    flags = np.zeros((len(sentences), len(codebook.themes)), bool)
    for j, theme in enumerate(codebook.themes):
        for i in np.flatnonzero(segment_flags[:, j]) if segment_flags is not None else []:
            flags[i, j] = theme.regex.search(lowered[i]) is not None
    flags = pd.DataFrame(flags, columns=codebook.theme_ids, index=sentences.index)
    sentences = pd.concat([sentences.reset_index(drop=True), flags.reset_index(drop=True)], axis=1)
    sentences["n_themes"] = flags.to_numpy().sum(axis=1)
    return sentences[sentences["n_themes"] > 0].reset_index(drop=True)


def representative_quotes(
    coded: pd.DataFrame, codebook, per_role: int = 2, sentences: pd.DataFrame | None = None
) -> pd.DataFrame:
    """For each theme and role, up to ``per_role`` quotes: the sentence of a segment that carries
    the theme.

    Sentences that carry the theme alone, of readable length (40-300 characters), come first, from
    different interviews. Returns ``theme``, ``role``, ``interview_id``, ``segment``, ``speaker``,
    ``quote``.
    """
    sentences = themed_sentences(coded, codebook) if sentences is None else sentences
    if sentences.empty:
        return pd.DataFrame(
            columns=["theme", "role", "interview_id", "segment", "speaker", "quote"]
        )
    length = sentences["sentence"].str.len()
    sentences = sentences.assign(
        rank=sentences["n_themes"] - 1 + (~length.between(40, 300)).astype(int)
    )
    rows = []
    for theme in codebook.theme_ids:
        hits = sentences[sentences[theme]].sort_values(
            ["rank", "interview_id", "segment"], kind="stable"
        )
        best = (
            hits.drop_duplicates(["role", "interview_id"])
            .groupby("role")
            .head(per_role)
            .sort_values("role", kind="stable")
        )
        rows.append(
            pd.DataFrame(
                {
                    "theme": theme,
                    "role": best["role"],
                    "interview_id": best["interview_id"],
                    "segment": best["segment"],
                    "speaker": best["speaker"],
                    "quote": best["sentence"],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)  # themes in codebook order, roles sorted within each


def sentiment(coded: pd.DataFrame) -> pd.DataFrame:
    """VADER compound sentiment (-1 to 1) per segment; exploratory: VADER was built for short
    social-media text.

    The lexicon ships inside the vaderSentiment package; nothing is downloaded.

    References
    ----------
    Hutto, C. J., & Gilbert, E. (2014). VADER: A parsimonious rule-based model for sentiment
    analysis of social media text. *Proceedings of ICWSM, 8*(1), 216-225.
    https://doi.org/10.1609/icwsm.v8i1.14550
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    out = coded[["interview_id", "segment", "role"]].copy()
    out["compound"] = [analyzer.polarity_scores(t)["compound"] for t in coded["text"].fillna("")]
    return out


def sentiment_by_theme(coded: pd.DataFrame, scores: pd.DataFrame, codebook) -> pd.DataFrame:
    """Mean compound sentiment by role, overall and within each theme's segments."""
    data = coded[["role"] + codebook.theme_ids].assign(compound=scores["compound"].to_numpy())
    rows = [
        {
            "theme": "(all segments)",
            "role": r,
            "segments": len(g),
            "mean_compound": g["compound"].mean(),
        }
        for r, g in data.groupby("role")
    ]
    for theme in codebook.theme_ids:
        for r, g in data[data[theme]].groupby("role"):
            rows.append(
                {
                    "theme": theme,
                    "role": r,
                    "segments": len(g),
                    "mean_compound": g["compound"].mean(),
                }
            )
    return pd.DataFrame(rows)
