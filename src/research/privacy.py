"""Pseudonyms for everyone who speaks or answers, and redaction of names and e-mail addresses in text.

Reports never show a person's name: a respondent becomes their role and company ("Sales VP, C-014"),
the interviewer "Interviewer". The name map is kept in the processed folder only.
"""

from __future__ import annotations

import re

import pandas as pd

ROLE_TITLES = {"marketing": "Marketing manager", "sales": "Sales VP"}
PERSONAL_COLUMNS = {"name", "full_name", "fullname", "first_name", "firstname", "last_name", "lastname", "surname",
                    "email", "e-mail", "e_mail", "mail", "phone", "respondent_name", "contact"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def personal_columns(frame: pd.DataFrame) -> list[str]:
    """Respondent attributes that identify a person (names, e-mail, phone): never copied into reports."""
    return [c for c in frame.columns if c.strip().lower().replace(" ", "_") in PERSONAL_COLUMNS]


def respondent_pseudonyms(respondents: pd.DataFrame) -> pd.Series:
    """``respondent_id`` -> "Sales VP, C-014" (numbered when a company has several of one role).

    Examples
    --------
    >>> r = pd.DataFrame({"respondent_id": ["1", "2", "3"], "company_id": ["C-1", "C-1", "C-1"],
    ...                   "role": ["sales", "sales", "marketing"]})
    >>> respondent_pseudonyms(r).tolist()
    ['Sales VP, C-1', 'Sales VP 2, C-1', 'Marketing manager, C-1']
    """
    r = respondents.reset_index(drop=True)
    title = r["role"].map(ROLE_TITLES).fillna(r["role"].astype(str).str.capitalize())
    company = r["company_id"].fillna("no company").astype(str)
    rank = r.groupby([company, r["role"]]).cumcount() + 1
    label = title + rank.map(lambda k: "" if k == 1 else f" {k}") + ", " + company
    return pd.Series(label.to_numpy(), index=r["respondent_id"].to_numpy(), name="pseudonym")


def speaker_map(turns: pd.DataFrame, respondents: pd.DataFrame) -> pd.DataFrame:
    """Every (interview, speaker label) -> pseudonym. The interviewee is the first non-interviewer speaker."""
    pseud = respondent_pseudonyms(respondents)
    rows = []
    for iid, t in turns.groupby("interview_id", sort=False):
        others = [s for s in dict.fromkeys(t.loc[~t["is_interviewer"], "speaker"])]
        respondent = t["respondent_id"].iloc[0]
        for speaker in dict.fromkeys(t.loc[t["is_interviewer"], "speaker"]):
            rows.append({"interview_id": iid, "speaker": speaker, "pseudonym": "Interviewer"})
        for k, speaker in enumerate(others):
            name = pseud.get(respondent, "Respondent") if k == 0 else f"Other speaker {k}"
            rows.append({"interview_id": iid, "speaker": speaker, "pseudonym": name})
    return pd.DataFrame(rows, columns=["interview_id", "speaker", "pseudonym"])


def known_names(turns: pd.DataFrame, respondents: pd.DataFrame) -> list[str]:
    """Names to redact: every speaker label and every value of a personal column, with their parts."""
    names = set(turns["speaker"].dropna().astype(str)) if len(turns) else set()
    for col in personal_columns(respondents):
        names |= set(respondents[col].dropna().astype(str))
    generic = {"interviewer", "speaker", "moderator", "respondent", ""}
    parts = set()
    for name in names:
        if "@" in name:
            continue
        for token in re.split(r"[\s,]+", name):
            if len(token) >= 3 and token[:1].isupper() and token.lower() not in generic:
                parts.add(token)
    full = {n for n in names if n.strip().lower() not in generic and "@" not in n}
    return sorted(full | parts, key=len, reverse=True)


class Redactor:
    """Replace known names with ``[name]`` and e-mail addresses with ``[email]``; patterns compiled once.

    Examples
    --------
    >>> Redactor(["Dana Whitfield", "Dana"]).redact("Ask Dana Whitfield (dana@x.org) or Dana.")
    'Ask [name] ([email]) or [name].'
    """

    def __init__(self, names):
        names = [n for n in names if n]
        body = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        self._names = re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE) if body else None

    def redact(self, text):
        if not isinstance(text, str):
            return text
        text = _EMAIL.sub("[email]", text)
        return self._names.sub("[name]", text) if self._names else text

    def redact_series(self, series: pd.Series) -> pd.Series:
        return series.map(self.redact, na_action="ignore")
