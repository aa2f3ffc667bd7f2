"""Pseudonyms for everyone who speaks or answers, and redaction of names and e-mail addresses in
text.

Reports never show a person's name: a respondent becomes their role and company ("Sales VP, C-014"),
the interviewer "Interviewer". The name map is kept in the processed folder only.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import pandas as pd

ROLE_TITLES = {"marketing": "Marketing manager", "sales": "Sales VP"}
PERSONAL_COLUMNS = {
    "name",
    "full_name",
    "fullname",
    "first_name",
    "firstname",
    "last_name",
    "lastname",
    "surname",
    "email",
    "e-mail",
    "e_mail",
    "mail",
    "phone",
    "respondent_name",
    "contact",
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def personal_columns(frame: pd.DataFrame) -> list[str]:
    """Respondent attributes that identify a person (names, e-mail, phone): never copied into
    reports."""
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
    """Every (interview, speaker label) -> pseudonym. The interviewee is the first non-interviewer
    speaker; any further speaker becomes "Other speaker 1", "Other speaker 2"...

    Examples
    --------
    >>> turns = pd.DataFrame({"interview_id": ["I1"] * 3, "speaker": ["Mo", "Ana", "Bo"],
    ...                       "respondent_id": ["1"] * 3,
    ...                       "is_interviewer": [True, False, False]})
    >>> r = pd.DataFrame({"respondent_id": ["1"], "company_id": ["C-9"], "role": ["sales"]})
    >>> speaker_map(turns, r)["pseudonym"].tolist()
    ['Interviewer', 'Sales VP, C-9', 'Other speaker 1']
    """
    columns = ["interview_id", "speaker", "pseudonym"]
    if turns.empty:
        return pd.DataFrame(columns=columns)
    speakers = turns.drop_duplicates(["interview_id", "speaker"])[
        ["interview_id", "speaker", "respondent_id", "is_interviewer"]
    ]
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
    order = speakers.assign(_kind=others.astype(int)).sort_values(
        ["interview_id", "_kind"], kind="stable"
    )
    return order[columns].reset_index(drop=True)


def known_names(turns: pd.DataFrame, respondents: pd.DataFrame) -> list[str]:
    """Names to redact: every speaker label and every value of a personal column, but not generic
    labels such as "Interviewer" or e-mail addresses (those are redacted by pattern).
    :class:`Redactor` splits them into words."""
    names = set(turns["speaker"].dropna().astype(str)) if len(turns) else set()
    for col in personal_columns(respondents):
        names |= set(respondents[col].dropna().astype(str))
    generic = {"interviewer", "speaker", "moderator", "respondent", ""}
    return sorted(n for n in names if n.strip().lower() not in generic and "@" not in n)


# The most frequent English words, ordinary words that are also names or parts of names (Will,
# Price, Rose, An, Hung), name particles (de, la, van) and generic speaker labels. A name word in
# this list is redacted on its own only where it is written with a capital ("Will said", not "we
# will"); whole names of two words or more are always redacted, in any case.
COMMON_WORDS = frozenset(
    """
a about after again al all also always am an and another any april are around as at august autumn \
away back baker
ball bang banks bay be bear because been before being bell below best better between big bill bin \
bird bishop black
bloom bond both bright brook brooks brown bush but by came can case cash chance chase cherry chin \
christian church
clay cliff come cook could crane cross crown dale dash dawn day de dean del della den der des di \
did different dim
do does done dos down du duke dung dusty each early east end eve even ever every faith fan fang \
few field fields
fine first fish fisher for ford forest found fox frank free friend from gale gay gem get gill give \
glass glen go
going gold golden good got grace grant gray great green grey guy ha had hall ham hand hang happy \
hardy hart has have
hay he heart her here high hill hills him his ho holly home hope horn house how however hung hunt \
hunter i ibn if in
into is it its ivy jack jay jewel joy june just justice keep kind king know la lake lamb lane \
large last law le left
let life light like lily line little long look lord love lucky ma made major make man many march \
mark marsh mason
may me men mercy might mills mo moon more moss most much must my name near need never new next \
nick no noble north
not now number of off oh ok old olive on once one only open or other our out over own page pang \
park part pat
patience pearl penny people piper place point pope porter post power price pride put rain ray read \
reed rich ridge
right river rivers rock rose ruby rush sage said sale sales same san sandy sang saw say says see \
sharp she shore
short should show side silver since sky small smart snow so some something son song sound sparks \
spring star steel
stern still stone storm street strong such summer summers sun sung sunny sweet swift take tan tang \
tell ten ter than
that the their them then there these they thing think this those thought three through time to too \
true turn two
under until up upon us use van very von walker wall want ward was water waters way we well wells \
went were west what
when where which while white who why will win wing winter wise with without wolf wood woods word \
work world worth
would year yes yet you young your
interviewer moderator speaker respondent participant host guest unknown
""".split()
)

# after accents are stripped: apostrophes alike, and letters that carry no separable accent
# ("Sørensen" ~ "Sorensen")
_FOLD_CHARS = str.maketrans(
    {
        "’": "'",
        "ʼ": "'",
        "‘": "'",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
    }
)
_NAME_WORD = re.compile(
    r"[^\W\d_](?:\w|['’ʼ‘](?=\w))*"
)  # letters, digits inside, apostrophes between letters
_SEPARATOR = re.compile(r"[\s.\-‐‑–]+")  # what may stand between the words of a name


@functools.lru_cache(maxsize=1 << 17)
def _fold(word: str) -> str:
    """Case-, accent- and apostrophe-insensitive form of a word: "Zoë" and "ZOE" -> "zoe", "O’Neil"
    -> "o'neil", "Sørensen" -> "sorensen".

    Cached: a study's texts use a vocabulary of some thousand words, each folded once."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_FOLD_CHARS)


class Redactor:
    """Replace known names with ``[name]`` and e-mail addresses with ``[email]``.

    The rule, for every known name (a speaker label, a value of a respondent's name column):

    - **the whole name**, when it has two words or more ("Bo Li", "dana whitfield", "Maria de la
      Cruz"), is always redacted as one phrase, in any case;
    - **units within it**: a surname led by particles ("de la Cruz", "van der Berg") and a
      hyphenated part ("Jean-Luc") are always redacted as one phrase too;
    - **a single word of it** (first or last name alone: "Dana", "li", "O'Neil", "Zoë") is redacted
      wherever it stands, in any case, unless it is an ordinary English word, a name particle or a
      generic speaker label (:data:`COMMON_WORDS`: "will", "price", "rose", "an", "de" ...). Such a
      word is redacted alone only where it is capitalised: "Will said" loses the name, "we will" and
      "the price" stay. A capitalised ordinary word at the start of a sentence is redacted too when
      it is someone's name (privacy before prose). A one-word name ("Will" as a speaker label)
      follows this rule, not the first. Initials are redacted only inside a whole name.

    Matching is on word boundaries and ignores case, accents ("Zoe" matches "Zoë", "Sorensen"
    "Sørensen") and the kind of apostrophe; the words of a phrase may be separated by any white
    space, hyphens or dots; the longest phrase wins; a possessive ``'s`` is kept ("[name]'s"); runs
    of ``[name]`` collapse into one.

    Speed: the names become a dictionary from a phrase's first word to its phrases, longest first. A
    text is split into words once (each distinct word folded once, cached); a set intersection skips
    a text holding no word of any name, and only the others are scanned word by word with a
    dictionary look-up, whatever the number of names.

    Examples
    --------
    >>> r = Redactor(["Dana Whitfield", "Will Price", "Maria de la Cruz"])
    >>> r.redact("Ask dana whitfield (dana@x.org) or Dana's team.")
    "Ask [name] ([email]) or [name]'s team."
    >>> r.redact("Will said the price will rise; ask de la Cruz, not Price.")
    '[name] said the price will rise; ask [name], not [name].'
    >>> r.redact("we will price it")  # the whole name, even in lower case: privacy first
    'we [name] it'
    """

    _RUN = re.compile(r"\[name\](?:[\s-]+\[name\])+")

    def __init__(self, names):
        phrases: dict[tuple[str, ...], bool] = {}  # folded words -> redacted in any case

        def add(words, always):
            words = tuple(words)
            if len(words) > 1 or len(words[0]) > 1:
                phrases[words] = phrases.get(words, False) or always

        for name in names:
            name = str(name)
            spans = [(m.start(), m.end()) for m in _NAME_WORD.finditer(name)]
            words = [_fold(name[a:b]) for a, b in spans]
            if not words:
                continue
            add(words, len(words) > 1)
            for i, word in enumerate(words):
                add([word], word not in COMMON_WORDS)
                j = i  # particles and the word after them: "de la Cruz", "van der Berg"
                while j < len(words) and words[j] in COMMON_WORDS:
                    j += 1
                if i < j < len(words):
                    add(words[i : j + 1], True)
            k = 0  # hyphenated compounds: "Jean-Luc"
            while k < len(spans):
                m = k
                while m + 1 < len(spans) and name[spans[m][1] : spans[m + 1][0]] in {"-", "‐", "‑"}:
                    m += 1
                if m > k:
                    add(words[k : m + 1], True)
                k = m + 1
        # first word -> (how the word alone is redacted: True in any case, False where capitalised,
        # None not alone; second word -> the longer phrases starting with these two words, longest
        # first)
        index: dict[str, tuple[bool | None, dict[str, list]]] = {}
        for words, always in sorted(phrases.items(), key=lambda p: -len(p[0])):
            alone, longer = index.get(words[0], (None, {}))
            if len(words) == 1:
                alone = always
            else:
                longer.setdefault(words[1], []).append(words)
            index[words[0]] = (alone, longer)
        self._index = index
        self._possessive = {w + "'s": alone for w, (alone, _) in index.items() if alone is not None}
        self._first = frozenset(index) | frozenset(self._possessive)
        # words that start some phrase redacted in any case; the others matter only where
        # capitalised
        self._any_case = frozenset(
            w for w, (alone, longer) in index.items() if alone or longer
        ) | frozenset(w for w, alone in self._possessive.items() if alone)

    def _match(self, text, matches, keys, i):
        """The end offset and word count of the longest known phrase starting at word ``i``, or
        None."""
        key = keys[i]
        capital = matches[i].group()[:1].isupper()
        alone, longer = self._index.get(key, (None, None))
        if longer and i + 1 < len(keys):
            second = keys[i + 1]
            for phrase in longer.get(second) or longer.get(
                second[:-2] if second.endswith("'s") else "", ()
            ):
                n = len(phrase)
                if i + n > len(keys):
                    continue
                last, cut = keys[i + n - 1], 0
                if last != phrase[-1]:
                    if last != phrase[-1] + "'s":
                        continue
                    cut = 2  # keep the possessive: "[name]'s"
                if any(keys[i + k] != phrase[k] for k in range(1, n - 1)):
                    continue
                if all(
                    _SEPARATOR.fullmatch(text[matches[i + k].end() : matches[i + k + 1].start()])
                    for k in range(n - 1)
                ):
                    return matches[i + n - 1].end() - cut, n
        if alone is not None:
            return (matches[i].end(), 1) if alone or capital else None
        alone = self._possessive.get(key)
        if alone is not None and (alone or capital):
            return matches[i].end() - 2, 1
        return None

    def _names(self, text: str) -> str:
        raw = _NAME_WORD.findall(text)
        keys = list(map(_fold, raw))
        if self._first.isdisjoint(keys):
            return text  # no word of any known name: the common case, decided by one set operation
        first, any_case = self._first, self._any_case
        starts = [
            i for i, k in enumerate(keys) if k in first and (k in any_case or raw[i][:1].isupper())
        ]
        if not starts:
            return text
        matches = list(_NAME_WORD.finditer(text))
        out, pos, done = [], 0, 0
        for i in starts:
            if i < done:
                continue  # inside a phrase already redacted
            hit = self._match(text, matches, keys, i)
            if hit is None:
                continue
            end, n = hit
            out += [text[pos : matches[i].start()], "[name]"]
            pos, done = end, i + n
        if not out:
            return text
        out.append(text[pos:])
        return self._RUN.sub("[name]", "".join(out))

    def redact(self, text):
        if not isinstance(text, str):
            return text
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize(
                "NFC", text
            )  # "Zoe" + a combining diaeresis -> "Zoë", one word
        text = _EMAIL.sub("[email]", text)
        return self._names(text) if self._first else text

    def redact_series(self, series: pd.Series) -> pd.Series:
        return series.map(self.redact, na_action="ignore")
