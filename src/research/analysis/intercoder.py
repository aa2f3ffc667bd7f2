"""Agreement between human coders (SPEC §3, agreement): Cohen's kappa per theme and coder pair, and
Krippendorff's alpha per theme across all coders."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

AGREEMENT_COLUMNS = ["theme", "coder_a", "coder_b", "units", "agreement", "kappa"]


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa for two binary codings of the same units; missing when chance agreement is
    perfect.

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and Psychological
    Measurement, 20*(1), 37-46. https://doi.org/10.1177/001316446002000104

    Examples
    --------
    >>> cohen_kappa(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    0.5
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    po = float((a == b).mean())
    pa, pb = a.mean(), b.mean()
    pe = float(pa * pb + (1 - pa) * (1 - pb))
    return float("nan") if np.isclose(pe, 1.0) else (po - pe) / (1 - pe)


def _presence(codes: pd.DataFrame, units: pd.DataFrame, coder: str, theme: str) -> np.ndarray:
    mine = codes[(codes["coder"] == coder) & (codes["theme"] == theme)]
    keys = set(zip(mine["interview_id"], mine["segment"], strict=True))
    return np.array(
        [(i, s) in keys for i, s in zip(units["interview_id"], units["segment"], strict=True)]
    )


def intercoder_agreement(
    codes: pd.DataFrame, segments: pd.DataFrame, themes: list[str]
) -> pd.DataFrame:
    """``intercoder_agreement.csv``: per theme and coder pair, the units both coded, agreement and
    kappa.

    The units of a pair are the respondent segments of the interviews both coders coded (a coder
    coded an interview when they have a row for it).
    """
    codes = codes.assign(
        interview_id=codes["interview_id"].astype(str), segment=codes["segment"].astype(int)
    )
    segs = segments.assign(
        interview_id=segments["interview_id"].astype(str), segment=segments["segment"].astype(int)
    )
    coded_by = codes.groupby("coder")["interview_id"].agg(set)
    rows = []
    for a, b in combinations(sorted(coded_by.index), 2):
        shared = coded_by[a] & coded_by[b]
        units = segs[segs["interview_id"].isin(shared)][["interview_id", "segment"]]
        for theme in themes:
            x, y = _presence(codes, units, a, theme), _presence(codes, units, b, theme)
            rows.append(
                {
                    "theme": theme,
                    "coder_a": a,
                    "coder_b": b,
                    "units": len(units),
                    "agreement": float((x == y).mean()) if len(units) else np.nan,
                    "kappa": cohen_kappa(x, y) if len(units) else np.nan,
                    "present_a": int(x.sum()),
                    "present_b": int(y.sum()),
                }
            )
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS + ["present_a", "present_b"])


def krippendorff_by_theme(
    codes: pd.DataFrame, segments: pd.DataFrame, themes: list[str]
) -> pd.DataFrame:
    """Krippendorff's alpha (nominal) per theme across every coder; a coder's uncoded interviews are
    missing.

    References
    ----------
    Krippendorff, K. (2018). *Content analysis: An introduction to its methodology* (4th ed.). Sage.

    Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability measure
    for coding data. *Communication Methods and Measures, 1*(1), 77-89.
    https://doi.org/10.1080/19312450709336664
    """
    import krippendorff

    codes = codes.assign(
        interview_id=codes["interview_id"].astype(str), segment=codes["segment"].astype(int)
    )
    segs = segments.assign(
        interview_id=segments["interview_id"].astype(str), segment=segments["segment"].astype(int)
    )
    coders = sorted(codes["coder"].unique())
    coded_by = codes.groupby("coder")["interview_id"].agg(set)
    units = segs[segs["interview_id"].isin(set().union(*coded_by)) if len(coded_by) else []][
        ["interview_id", "segment"]
    ]
    rows = []
    for theme in themes:
        data = np.full((len(coders), len(units)), np.nan)
        for i, coder in enumerate(coders):
            present = _presence(codes, units, coder, theme).astype(float)
            seen = units["interview_id"].isin(coded_by[coder]).to_numpy()
            data[i, seen] = present[seen]
        pairable = (~np.isnan(data)).sum(axis=0) >= 2
        alpha = np.nan
        if (
            pairable.sum() >= 2
            and len(np.unique(data[:, pairable][~np.isnan(data[:, pairable])])) > 1
        ):
            alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
        rows.append(
            {"theme": theme, "coders": len(coders), "units": int(pairable.sum()), "alpha": alpha}
        )
    return pd.DataFrame(rows)
