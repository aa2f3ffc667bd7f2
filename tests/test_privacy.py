"""Pseudonyms and redaction."""

import random
import re
import unicodedata

import pandas as pd

from research.analysis.companies import company_attributes
from research.inputs.privacy import (
    COMMON_WORDS,
    Redactor,
    personal_columns,
    respondent_pseudonyms,
    speaker_map,
)

ORDINARY = (
    "Yesterday the price will rise, an analyst said; we will mark the grant on the hill and a rose "
    "in the long summer. The young team set a new plan: win more deals, do it in the way sales "
    "wants, hang on. Can we say la vie en rose de facto? van drivers, dung beetles, the bill and "
    "the wells."
)


def _ascii(text):
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _generated_names(n=400, seed=11):
    """Names of every awkward kind: short (two letters), multi-part with particles, accented,
    apostrophes, hyphens. Their words are made-up syllables, never an ordinary word of the test
    sentences."""
    rng = random.Random(seed)
    banned = (
        COMMON_WORDS
        | set(re.findall(r"\w+", ORDINARY.lower()))
        | {"yesterday", "told", "us", "about", "ask"}
    )

    def word(syllables, accents=False, short=False):
        while True:
            w = "".join(
                rng.choice("bcdfghjklmnprstvz")
                + rng.choice("aeiouy")
                + rng.choice(["", "n", "r", "l"])
                for _ in range(syllables)
            )
            w = w[:2] if short else w
            if accents:
                w = w.replace("e", rng.choice("éëè"), 1).replace("o", rng.choice("öøó"), 1)
            if _ascii(w) not in banned and w not in banned:
                return w.capitalize()

    names = set()
    while len(names) < n:
        kind = len(names) % 6
        if kind == 0:  # short: "Bo Li", "Ng An"
            names.add(f"{word(1, short=True)} {word(1, short=True)}")
        elif kind == 1:  # particles: "Maria de la Cruz", "Jan van der Berg"
            names.add(
                f"{word(2)} {rng.choice(['de la', 'van der', 'de', 'von', 'bin', 'da'])} {word(2)}"
            )
        elif kind == 2:  # accented: "Zoë Sørensen"
            names.add(f"{word(2, accents=True)} {word(3, accents=True)}")
        elif kind == 3:  # apostrophes: "Siobhan O'Neil", "Aminata N’Diaye"
            prefix = rng.choice(["O", "D", "N"]) + rng.choice(["'", "’"])
            names.add(f"{word(2)} {prefix}{word(2)}")
        elif kind == 4:  # hyphens: "Jean-Luc Picard", "Ana Ruiz-Ortega"
            names.add(f"{word(1)}-{word(1)} {word(2)}-{word(2)}")
        else:  # three parts
            names.add(f"{word(2)} {word(1)} {word(3)}")
    return sorted(names)


def _forms(name):
    """How a transcript may write a name: whole in any case or without accents, with curly
    apostrophes, the surname unit alone, each distinctive word alone in any case, possessive."""
    words = re.findall(r"[^\W\d_](?:\w|['’](?=\w))*", name)
    particle = re.search(r" ((?:de la|van der|de|von|bin|da) \w+)$", name)
    forms = {
        name,
        name.lower(),
        name.upper(),
        _ascii(name),
        name.replace("'", "’"),
        name.replace("’", "'"),
        name.replace(" ", "  "),
        name + "'s",
        words[0],
        words[-1],
        words[-1].lower(),
        words[0].upper(),
    }
    if particle:
        forms |= {particle.group(1), particle.group(1).capitalize()}
    return sorted(forms)


def test_generated_awkward_names_never_survive_and_ordinary_words_do():
    names = _generated_names()
    r = Redactor(names)
    for name in names:
        for form in _forms(name):
            text = f"Yesterday {form} told us about the price."
            out = r.redact(text)
            expected = (
                "Yesterday [name]'s told us about the price."
                if form.endswith("'s")
                else "Yesterday [name] told us about the price."
            )
            assert out == expected, (name, form, out)
    assert r.redact(ORDINARY) == ORDINARY  # no ordinary word is taken for a name


def test_the_examples_of_the_rule():
    r = Redactor(
        [
            "Bo Li",
            "Ng An",
            "Dana Whitfield",
            "Maria de la Cruz",
            "Siobhan O'Neil",
            "Zoë Adams",
            "Will Price",
            "Rose Hill",
            "Hung Le",
        ]
    )
    cases = {
        "bo li and ng an agreed": "[name] and [name] agreed",
        "Li said it; so did ng.": "[name] said it; so did [name].",
        "ask dana whitfield or DANA": "ask [name] or [name]",
        "De la Cruz and de la cruz's team": "[name] and [name]'s team",
        "O’Neil and o'neil's deal": "[name] and [name]'s deal",
        "Zoe, ZOË and Zoë's": "[name], [name] and [name]'s",
        # parts that are ordinary words go alone only where capitalised; whole names always
        "Will said the price will rise": "[name] said the price will rise",
        "a rose on the hill; Rose agreed with Hill": (
            "a rose on the hill; [name] agreed with [name]"
        ),
        "rose hill called, will price too": "[name] called, [name] too",
        "an apple, hung up, le monde; Hung and Le": (
            "an apple, hung up, le monde; [name] and [name]"
        ),
    }
    for text, expected in cases.items():
        assert r.redact(text) == expected, text


def test_a_one_word_name_that_is_an_ordinary_word_goes_only_where_capitalised():
    r = Redactor(["Will", "Speaker 2"])
    assert (
        r.redact("Will says we will, the speaker said") == "[name] says we will, the speaker said"
    )


def test_redaction_is_word_bounded_and_keeps_text_without_names():
    r = Redactor(["Bo Li", "Ann Lee"])
    text = "Bob lives in Lima; Annual leave, Lee's? no: Leeds, boli, anne."
    assert r.redact(text) == "Bob lives in Lima; Annual leave, [name]'s? no: Leeds, boli, anne."
    assert r.redact(None) is None and Redactor([]).redact("Bo Li") == "Bo Li"


def test_ten_thousand_names_build_one_index():
    names = [f"Person{i:05d} Family{i:05d}" for i in range(10_000)]
    r = Redactor(names)
    assert (
        r.redact("Person00042 met family09999 and Family10000.")
        == "[name] met [name] and Family10000."
    )


def test_redactor_removes_full_names_parts_possessives_and_emails():
    r = Redactor(["Dana Whitfield", "Jean-Luc Picard", "Sørensen"])
    text = (
        "Dana Whitfield said Dana's team and Whitfield (dana.w@corp.example.org) met "
        "Jean-Luc Picard and Mr Sørensen."
    )
    out = r.redact(text)
    for gone in ("Dana", "Whitfield", "Jean-Luc", "Picard", "Sørensen", "@"):
        assert gone not in out
    assert out.startswith("[name] said [name]'s team")


def test_redactor_leaves_ordinary_words_alone():
    r = Redactor(["Mark Price"])
    assert r.redact("the price is right, mark my words") == "the price is right, mark my words"


def test_pseudonyms_are_role_and_company_numbered_within_company():
    r = pd.DataFrame(
        {
            "respondent_id": ["1", "2", "3", "4"],
            "company_id": ["C-1", "C-1", "C-1", "C-2"],
            "role": ["sales", "sales", "marketing", "marketing"],
        }
    )
    assert respondent_pseudonyms(r).to_dict() == {
        "1": "Sales VP, C-1",
        "2": "Sales VP 2, C-1",
        "3": "Marketing manager, C-1",
        "4": "Marketing manager, C-2",
    }


def test_speaker_map_on_the_demo_covers_every_speaker(demo_study):
    names = speaker_map(demo_study.turns, demo_study.respondents)
    pairs = set(zip(demo_study.turns["interview_id"], demo_study.turns["speaker"], strict=True))
    assert set(zip(names["interview_id"], names["speaker"], strict=True)) == pairs
    assert (
        names.loc[names["speaker"].isin(["Interviewer", "Morgan Ellis"]), "pseudonym"]
        == "Interviewer"
    ).all()


def test_personal_columns_never_become_company_attributes(demo_study):
    assert set(personal_columns(demo_study.respondents)) == {"name", "email"}
    attrs = company_attributes(demo_study.respondents)
    assert "name" not in attrs and "email" not in attrs
    # the most common value among a company's respondents, first in file order on ties
    r = pd.DataFrame(
        {
            "respondent_id": list("abcd"),
            "company_id": ["K"] * 4,
            "role": ["sales"] * 4,
            "size": ["10", "20", "20", "10"],
            "conflict": [None, "yes", "no", "no"],
        }
    )
    assert company_attributes(r).to_dict("records") == [
        {"company_id": "K", "size": "10", "conflict": "no"}
    ]
