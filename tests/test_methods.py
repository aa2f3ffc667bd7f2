"""The generated methods section says only what the study earned, gets its plurals right and cites
only works that are in the reference list; the toolkit's own citation agrees with CITATION.cff."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
import yaml

from research import __version__
from research.inputs.study import read_study
from research.report.methods import (
    ANALYSES,
    Ran,
    cited_keys,
    how_to_cite,
    methods_text,
    software_versions,
)
from research.report.references import METHOD_KEYS, REFERENCES, bibtex, cite, reference_list

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "raw" / "demo"
NO_TOTAL = {
    "id": "mini",
    "title": "Mini scale",
    "response_scale": {"min": 1, "max": 5, "labels": ["SD", "D", "N", "A", "SA"]},
    "min_answered": 0.5,
    "subscales": [{"id": "one", "label": "First part"}, {"id": "two", "label": "Second part"}],
    "items": [
        {"id": "M1", "subscale": "one"},
        {"id": "M2", "subscale": "one", "reverse": True},
        {"id": "M3", "subscale": "two"},
        {"id": "M4", "subscale": "two"},
    ],
}
#: "1 respondents", "1 companies" ...: a count of one with a plural noun.
BAD_SINGULAR = re.compile(
    r"\b1 (respondents|companies|interviews|items|answers|rows|subscales|codes|coders|"
    r"themes|instruments|bands|rules|turns)\b"
)
BAD_PLURAL = re.compile(
    r"\b([02-9]|\d\d+) (respondent|company|interview|item|answer|row|subscale|instrument|"
    r"band|rule|turn)\b(?![-\w])"
)


def _split(text: str) -> tuple[str, list[str]]:
    body, _, refs = text.partition("## References")
    return body, [line[2:] for line in refs.strip().splitlines() if line.startswith("- ")]


@pytest.fixture(scope="module")
def demo_text():
    return methods_text(read_study(DEMO))


@pytest.fixture
def tiny(small_study):
    """No interviews, one instrument without a total, one respondent with an unknown role."""
    respondents = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004", "005"],
            "company_id": ["A", "A", "B", "B", "B"],
            "role": ["marketing", "VP Sales", "Marketing Manager", "sales", "Finance"],
        }
    )
    survey = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004", "005"],
            "M1": [5, 4, 3, 2, 1],
            "M2": [1, 2, 3, 4, 5],
            "M3": [5, 3, 3, 1, 2],
            "M4": [4, 3, 2, 1, 3],
        }
    )
    return read_study(small_study(respondents, survey, instruments=[NO_TOTAL]))


# ---- the demo study ------------------------------------------------------------------------------


def test_demo_sample_and_exclusions_come_from_the_quality_log(demo_text):
    body, _ = _split(demo_text)
    assert "83 respondents with a known function (42 marketing, 41 sales) from 40 companies" in body
    assert (
        "1 respondent whose role was neither marketing nor sales (\u201cFinance Director\u201d)"
        in body
    )
    assert "1 unfinished survey response" in body
    # the designer's test row; the unknown role's survey row went with its respondent
    assert "1 survey row whose respondent is not among the analysed respondents" in body
    assert "2 interviews (1 without its transcript file and 1 with an empty transcript)" in body
    assert "2 answers (1 outside the response scale and 1 not a number) to missing" in body
    assert "1 manual code naming" in body
    assert "In 38 of the 40 companies both functions answered" in body


def test_demo_instruments_scoring_and_bands(demo_text):
    body, _ = _split(demo_text)
    assert "Items SMR02 and SMR10 are reverse-keyed and scored 6 \u2212 answer" in body
    assert "at least 80% of them are answered (4 of 4)" in body
    assert (
        "The Relationship total is the prorated sum" in body
        and "at least 16 of the 20 items" in body
    )
    assert "Undefined (20 to below 40)" in body and "Integrated (80 to 100)" in body
    assert "(Kotler et al., 2006)" in body
    assert "(1 of 2 and 2 of 3)" in body  # perceptions: 50% of 2- and 3-item subscales


def test_demo_tests_corrections_alpha_seed_and_software(demo_text):
    body, _ = _split(demo_text)
    for phrase in (
        "Mann\u2013Whitney U test (Mann & Whitney, 1947)",
        "Welch's t-test (Welch, 1947)",
        "Hedges' g (Hedges, 1981)",
        "Wilcoxon signed-rank test (Wilcoxon, 1945)",
        "Holm's procedure (Holm, 1979)",
        "(Benjamini & Hochberg, 1995)",
        "Cronbach's alpha (Cronbach, 1951)",
        "(Feldt, 1965)",
        "(McDonald, 1999)",
        "Fisher's exact test (Fisher, 1922)",
        "Cohen's kappa (Cohen, 1960)",
        "(Krippendorff, 2018)",
        "(James et al., 1984)",
        "(Shrout & Fleiss, 1979)",
        "(Bland & Altman, 1986)",
        "2,000 resamples",
        "seed 2026",
        "two-sided at \u03b1 = .05",
        "The study holds 24 interviews",
        "Within the 38 companies",
    ):
        assert phrase in body, phrase
    versions = software_versions()
    assert f"research toolkit, version {__version__}" in body
    for dist in ("pandas", "numpy", "scipy", "statsmodels", "pingouin", "matplotlib", "seaborn"):
        assert versions[dist] == metadata.version(dist)
        assert f" {versions[dist]} (" in body, dist


def test_every_citation_is_in_the_reference_list_and_every_entry_is_cited(demo_text):
    body, entries = _split(demo_text)
    keys = cited_keys(body)
    assert keys, "the text cites nothing"
    assert sorted(entries) == sorted(reference_list(keys))
    for key in keys:
        assert key in REFERENCES
    # every parenthetical citation in the text belongs to a known work
    known = {REFERENCES[k].in_text()[1:-1] for k in REFERENCES}
    for group in re.findall(r"\(([^()]*?, (?:19|20)\d\d(?:; [^()]*?, (?:19|20)\d\d)*)\)", body):
        for one in group.split("; "):
            assert one in known, one


def test_plurals_in_the_demo(demo_text):
    body, _ = _split(demo_text)
    assert not BAD_SINGULAR.search(body), BAD_SINGULAR.search(body)
    assert not BAD_PLURAL.search(body), BAD_PLURAL.search(body)


# ---- a tiny study: no interviews, no total -------------------------------------------------------


def test_tiny_study_mentions_only_what_exists(tiny):
    text = methods_text(tiny)
    body, entries = _split(text)
    assert "4 respondents with a known function (2 marketing, 2 sales) from 2 companies" in body
    assert "1 respondent whose role was neither marketing nor sales (\u201cFinance\u201d)" in body
    assert "Item M2 is reverse-keyed and scored 6 \u2212 answer" in body
    assert "The survey holds 1 instrument." in body
    assert "First part (2 items) and Second part (2 items)" in body
    assert "In each of the 2 companies both functions answered the survey" in body
    assert "Within the 2 companies" in body  # two matched pairs: the paired tests ran
    # the unknown-role respondent's survey row goes with it, not counted as a second exclusion
    assert "survey row" not in body
    for absent in (
        "interview",
        "Interview",
        "transcript",
        "coder",
        "theme",
        "Fisher",
        "VADER",
        "total",
        "band",
        "stage",
        "Kotler",
        "ICC",
        "r_wg",
        "decision table",
        "response-surface",
        "open survey answer",
        "Thought worlds",
        "unfinished",
        "set to missing",
        "manual code",
    ):
        assert absent not in body, absent
    assert not BAD_SINGULAR.search(body), BAD_SINGULAR.search(body)
    assert not BAD_PLURAL.search(body), BAD_PLURAL.search(body)
    assert not any("Kotler" in e or "Fisher" in e or "Krippendorff" in e for e in entries)
    assert sorted(entries) == sorted(reference_list(cited_keys(body)))


def test_a_clean_study_says_nothing_was_left_out(small_study):
    text = methods_text(read_study(small_study(instruments=[NO_TOTAL])))
    assert "No respondent, survey row or answer had to be left out or set to missing." in text
    assert "data-quality log" not in text


def test_one_function_only_draws_no_comparison(small_study):
    respondents = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003"],
            "company_id": ["A", "B", "C"],
            "role": ["marketing"] * 3,
        }
    )
    survey = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003"],
            "M1": [5, 4, 3],
            "M2": [1, 2, 3],
            "M3": [5, 3, 3],
            "M4": [4, 3, 2],
        }
    )
    body, _ = _split(
        methods_text(read_study(small_study(respondents, survey, instruments=[NO_TOTAL])))
    )
    assert (
        "No sales respondent answered the survey, so no marketing-versus-sales comparison is made."
        in body
    )
    for absent in ("Mann", "Welch", "paired", "Holm"):
        assert absent not in body, absent
    assert "In none of the 3 companies did both functions answer" in body


def test_ran_chooses_what_is_described(tiny):
    body, _ = _split(
        methods_text(
            tiny, {"analyses": ["items"], "alpha": 0.01, "bootstrap": 0, "corrections": ["bh"]}
        )
    )
    assert "Mann\u2013Whitney" in body and "Welch" not in body and "Cronbach" not in body
    assert "two-sided at \u03b1 = .01" in body
    assert "bootstrap" not in body and "seed" not in body
    assert (
        "Benjamini\u2013Hochberg procedure (Benjamini & Hochberg, 1995)" in body
        and "Holm" not in body
    )


@pytest.mark.parametrize(
    "ran, message",
    [
        ({"alfa": 0.05}, "unknown key 'alfa'"),
        ({"analyses": ["tarot"]}, "unknown analysis 'tarot'"),
        ({"alpha": 5}, "alpha must be a number between 0 and 1"),
        ({"corrections": ["bonferroni"]}, "unknown correction 'bonferroni'"),
        ({"bootstrap": -1}, "bootstrap must be"),
        ("everything", "expected a dict or a Ran"),
    ],
)
def test_ran_is_checked(tiny, ran, message):
    with pytest.raises(ValueError, match=message):
        methods_text(tiny, ran)


def test_ran_defaults_cover_every_analysis():
    assert Ran().analyses == ANALYSES and Ran.from_dict(None) == Ran()


# ---- references and the toolkit's own citation ---------------------------------------------------


def test_references_are_complete_and_well_formed():
    for key, ref in REFERENCES.items():
        assert ref.key == key and ref.authors and ref.title
        if ref.doi:
            assert re.fullmatch(r"10\.\d{4,9}/\S+", ref.doi), key
            assert f"https://doi.org/{ref.doi}" in ref.apa(markdown=False)
        entry = ref.bibtex()
        assert entry.startswith(
            ("@article{", "@book{", "@incollection{", "@inproceedings{", "@misc{")
        )
        assert entry.count("{") == entry.count("}"), key
    for keys in METHOD_KEYS.values():
        assert all(k in REFERENCES for k in keys)
    required = {
        "holm1979": "10.2307/4615733",
        "welch1947": "10.1093/biomet/34.1-2.28",
        "hedges1981": "10.3102/10769986006002107",
        "mann1947": "10.1214/aoms/1177730491",
        "wilcoxon1945": "10.2307/3001968",
        "benjamini1995": "10.1111/j.2517-6161.1995.tb02031.x",
        "cronbach1951": "10.1007/BF02310555",
        "feldt1965": "10.1007/BF02289499",
        "fisher1922": "10.2307/2340521",
        "cohen1960": "10.1177/001316446002000104",
        "bland1986": "10.1016/S0140-6736(86)90837-8",
        "james1984": "10.1037/0021-9010.69.1.85",
        "shrout1979": "10.1037/0033-2909.86.2.420",
        "homburg2007": "10.1509/jmkg.71.3.124",
        "humberg2019": "10.1177/1948550618757600",
        "meredith1993": "10.1007/BF02294825",
        "rosseel2012": "10.18637/jss.v048.i02",
        "kuznetsova2017": "10.18637/jss.v082.i13",
        "wilson1927": "10.1080/01621459.1927.10502953",
        "virtanen2020": "10.1038/s41592-019-0686-2",
        "vallat2018": "10.21105/joss.01026",
        "waskom2021": "10.21105/joss.03021",
        "hunter2007": "10.1109/MCSE.2007.55",
    }
    for key, doi in required.items():
        assert REFERENCES[key].doi == doi, key
    for key in ("mcdonald1999", "cohen1988", "krippendorff2018", "kotler2006", "edwards2002"):
        assert not REFERENCES[key].doi, key  # books, a chapter and HBR: no DOI


def test_in_text_citations_follow_apa():
    assert cite("holm1979") == "(Holm, 1979)"
    assert cite("mann1947", "bland1986") == "(Mann & Whitney, 1947; Bland & Altman, 1986)"
    assert cite("james1984", narrative=True) == "James et al. (1984)"
    assert cite("pandas2020") == "(The pandas development team, 2020)"
    with pytest.raises(KeyError, match="no reference"):
        cite("nobody2000")
    entries = reference_list(["welch1947", "cohen1988", "cohen1960", "holm1979", "welch1947"])
    assert [e.split(" (")[0] for e in entries] == [
        "Cohen, J.",
        "Cohen, J.",
        "Holm, S.",
        "Welch, B. L.",
    ]
    assert entries[0].startswith("Cohen, J. (1960)")
    assert "@article{holm1979," in bibtex(["holm1979"])


def test_how_to_cite_agrees_with_citation_cff():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text("utf-8"))
    c = how_to_cite()
    assert cff["cff-version"] == c["cff_version"] == "1.2.0"
    assert (
        cff["title"]
        == c["title"]
        == "research: a toolkit for studying the sales\u2013marketing interface"
    )
    assert str(cff["version"]) == c["version"] == __version__
    assert cff["license"] == c["license"] == "GPL-3.0-or-later"
    assert [a["name"] for a in cff["authors"]] == c["authors"] == ["The research toolkit authors"]
    assert str(cff["date-released"]) == c["date_released"] == "2026-11-29"
    assert c["title"] in c["text"] and f"(Version {__version__})" in c["text"]
    assert c["text"].startswith("The research toolkit authors. (2026).")
    assert "@misc{research," in c["bibtex"] and f"version = {{{__version__}}}" in c["bibtex"]


def test_text_from_the_data_is_escaped(small_study):
    odd = dict(
        NO_TOTAL,
        title="Mini <b>scale</b> *one*",
        subscales=[{"id": "one", "label": "First_part"}, {"id": "two", "label": "Second [part]"}],
    )
    body, _ = _split(methods_text(read_study(small_study(instruments=[odd]))))
    assert "<b>" not in body and "&lt;b&gt;scale&lt;/b&gt; \\*one\\*" in body
    assert "First\\_part" in body and "Second \\[part\\]" in body


def test_open_answers_without_interviews_get_their_own_heading(small_study):
    survey = pd.DataFrame(
        {
            "respondent_id": ["001", "002", "003", "004"],
            "M1": [5, 4, 3, 2],
            "M2": [1, 2, 3, 4],
            "M3": [5, 3, 3, 1],
            "M4": [4, 3, 2, 1],
            "Q9": ["Their commission drives it", "", "Short-term quarter focus", "We trust them"],
        }
    )
    study = read_study(small_study(survey=survey, instruments=[NO_TOTAL], open_ended=["Q9"]))
    body, _ = _split(methods_text(study))
    assert "*Open survey answers.*" in body and "3 non-blank open survey answers" in body
    assert "nterview" not in body
    assert "No respondent, survey row or answer had to be left out" in body


def _interview_study(small_study, files: dict, rows: list):
    folder = small_study(
        instruments=[NO_TOTAL], interviews="interviews.csv", transcripts="transcripts"
    )
    (folder / "transcripts").mkdir(exist_ok=True)  # the factory writes one folder
    for name, text in files.items():
        (folder / "transcripts" / name).write_text(text, "utf-8")
    pd.DataFrame(rows, columns=["interview_id", "respondent_id", "file", "interviewer"]).to_csv(
        folder / "interviews.csv", index=False
    )
    return read_study(folder)


def test_segments_are_said_to_be_the_interviewees_turns_only_when_they_are(small_study):
    labelled = "Interviewer: How is it going?\nAna: Our leads are poor.\n"
    study = _interview_study(
        small_study,
        {"a.txt": labelled, "b.txt": "Tom: Sales only cares about the quarter.\n"},
        [["I1", "001", "a.txt", "Interviewer"], ["I2", "002", "a.txt", "Interviewer"]],
    )
    body, _ = _split(methods_text(study))
    assert "the 2 turns of interviewees (not the interviewer) are the segments" in body
    assert "no turn matched" not in body

    # I2's transcript names only the respondent: every turn of it is coded, and the text says so
    study = _interview_study(
        small_study,
        {"a.txt": labelled, "b.txt": "Q: How is it going?\nTom: Sales only cares.\n"},
        [["I1", "001", "a.txt", "Interviewer"], ["I2", "002", "b.txt", "Interviewer"]],
    )
    assert study.quality.frame()["problem"].tolist() == ["no_interviewer_turns"]
    body, _ = _split(methods_text(study))
    assert "of interviewees (not the interviewer)" not in body
    assert "the 3 turns not labelled as the interviewer's are the segments that are coded" in body
    assert (
        "In 1 interview no turn matched the interviewer's label, so all its turns are coded, the "
        "interviewer's own words included (see the data-quality log)." in body
    )
    assert body.count("no turn matched") == 1
    assert not BAD_SINGULAR.search(body) and not BAD_PLURAL.search(body)


def test_a_transcript_without_speaker_labels_is_named_as_such(small_study):
    study = _interview_study(
        small_study,
        {
            "a.txt": "Interviewer: How is it going?\nAna: Our leads are poor.\n",
            "plain.txt": "How is it going?\nOur leads are poor.\n",
        },
        [["I1", "001", "a.txt", "Interviewer"], ["I2", "002", "plain.txt", "Interviewer"]],
    )
    body, _ = _split(methods_text(study))
    assert "1 interview (1 with a transcript without speaker labels)" in body
    assert "unreadable" not in body
