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
    """Every (interview, speaker label) -> pseudonym. The interviewee is the first non-interviewer speaker;
    any further speaker becomes "Other speaker 1", "Other speaker 2"...

    Examples
    --------
    >>> turns = pd.DataFrame({"interview_id": ["I1"] * 3, "speaker": ["Mo", "Ana", "Bo"], "respondent_id": ["1"] * 3,
    ...                       "is_interviewer": [True, False, False]})
    >>> r = pd.DataFrame({"respondent_id": ["1"], "company_id": ["C-9"], "role": ["sales"]})
    >>> speaker_map(turns, r)["pseudonym"].tolist()
    ['Interviewer', 'Sales VP, C-9', 'Other speaker 1']
    """
    columns = ["interview_id", "speaker", "pseudonym"]
    if turns.empty:
        return pd.DataFrame(columns=columns)
    speakers = turns.drop_duplicates(["interview_id", "speaker"])[["interview_id", "speaker", "respondent_id", "is_interviewer"]]
    speakers = speakers.reset_index(drop=True)
    others = ~speakers["is_interviewer"]
    rank = speakers[others].groupby("interview_id", sort=False).cumcount()
    pseud = respondent_pseudonyms(respondents)
    names = pd.Series("Interviewer", index=speakers.index, dtype=object)
    first = rank[rank == 0].index
    names[first] = speakers.loc[first, "respondent_id"].map(pseud).fillna("Respondent").to_numpy()
    later = rank[rank > 0]
    names[later.index] = "Other speaker " + later.astype(str)
    speakers["pseudonym"] = names
    order = speakers.assign(_kind=others.astype(int)).sort_values(["interview_id", "_kind"], kind="stable")
    return order[columns].reset_index(drop=True)


def known_names(turns: pd.DataFrame, respondents: pd.DataFrame) -> list[str]:
    """Names to redact: every speaker label and every value of a personal column, but not generic labels
    such as "Interviewer" or e-mail addresses (those are redacted by pattern). :class:`Redactor` splits them into words."""
    names = set(turns["speaker"].dropna().astype(str)) if len(turns) else set()
    for col in personal_columns(respondents):
        names |= set(respondents[col].dropna().astype(str))
    generic = {"interviewer", "speaker", "moderator", "respondent", ""}
    return sorted(n for n in names if n.strip().lower() not in generic and "@" not in n)


class Redactor:
    """Replace known names with ``[name]`` and e-mail addresses with ``[email]``.

    A name is redacted word by word: every capitalised word of three letters or more that is part of a known
    name is replaced (so "Dana Whitfield", "Dana" and "Whitfield" all go), then runs of ``[name]`` collapse
    into one. One pass over the text with a set look-up per word, whatever the number of names.

    Examples
    --------
    >>> Redactor(["Dana Whitfield"]).redact("Ask Dana Whitfield (dana@x.org) or Dana.")
    'Ask [name] ([email]) or [name].'
    """

    _WORD = re.compile(r"[^\W\d_][\w'’-]*")
    _RUN = re.compile(r"\[name\](?:[\s-]+\[name\])+")

    def __init__(self, names):
        tokens = set()
        for name in names:
            for token in re.split(r"[\s,]+", str(name)):
                token = token.strip(".()")
                if len(token) >= 3 and token[:1].isupper():
                    tokens.add(token)
        self._tokens = frozenset(tokens)

    def _word(self, match: re.Match) -> str:
        word = match.group(0)
        if word in self._tokens:
            return "[name]"
        if word.endswith(("'s", "’s")) and word[:-2] in self._tokens:  # possessive: "Dana's"
            return "[name]" + word[-2:]
        return word

    def redact(self, text):
        if not isinstance(text, str):
            return text
        text = _EMAIL.sub("[email]", text)
        if self._tokens:
            text = self._RUN.sub("[name]", self._WORD.sub(self._word, text))
        return text

    def redact_series(self, series: pd.Series) -> pd.Series:
        return series.map(self.redact, na_action="ignore")
