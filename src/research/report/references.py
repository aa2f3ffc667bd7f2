"""The works behind every method the toolkit uses, as data: APA 7 reference strings, in-text
citations and BibTeX.

Each :class:`Reference` is keyed (``holm1979``, ``welch1947`` ...); :mod:`research.report.methods`
cites them by key and lists only the works it cites. ``verified`` records whether the DOI (or, for
works without one, the bibliographic details) was checked against public sources when the entry was
written; the comment beside an entry says what could not be checked.

Examples
--------
>>> REFERENCES["holm1979"].in_text()
'(Holm, 1979)'
>>> REFERENCES["mann1947"].in_text(narrative=True)
'Mann and Whitney (1947)'
>>> REFERENCES["kuznetsova2017"].in_text()
'(Kuznetsova et al., 2017)'
>>> print(REFERENCES["holm1979"].apa(markdown=False))  # doctest: +NORMALIZE_WHITESPACE
Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian Journal of
Statistics, 6(2), 65–70. https://doi.org/10.2307/4615733
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("article", "book", "chapter", "proceedings", "software")


@dataclass(frozen=True)
class Reference:
    """One cited work.

    Attributes
    ----------
    key : the citation key (also the BibTeX key).
    authors : APA-style names, ``"Holm, S."``; a group author is given whole (``"The pandas
        development team"``).
    year, title : as published (sentence case for APA).
    kind : one of :data:`KINDS`.
    container : the journal (articles), the proceedings (proceedings) or the edited book (chapters).
    volume, issue, pages : as printed; pages with an en dash.
    publisher, edition, editors : for books, chapters and software.
    doi : without ``https://doi.org/``; empty when the work has none.
    version : a software version (``0.1.0``).
    verified : whether the DOI or bibliographic details were checked against public sources.
    """

    key: str
    authors: tuple[str, ...]
    year: int
    title: str
    kind: str = "article"
    container: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    publisher: str = ""
    edition: str = ""
    editors: tuple[str, ...] = ()
    doi: str = ""
    url: str = ""
    verified: bool = True
    version: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    # ---- in-text ---------------------------------------------------------------------------------
    def surnames(self) -> list[str]:
        return [a.split(",")[0].strip() if "," in a else a for a in self.authors]

    def in_text(self, narrative: bool = False) -> str:
        """APA 7 in-text citation: ``(Holm, 1979)``, ``(Mann & Whitney, 1947)``, ``Kuznetsova et al.
        (2017)``."""
        names = self.surnames()
        if len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} {'and' if narrative else '&'} {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who} ({self.year})" if narrative else f"({who}, {self.year})"

    # ---- reference list --------------------------------------------------------------------------
    def _author_list(self) -> str:
        a = list(self.authors)
        if len(a) == 1:
            return a[0]
        if len(a) <= 20:
            return ", ".join(a[:-1]) + ", & " + a[-1]
        return ", ".join(a[:19]) + ", … " + a[-1]  # APA 7: the first 19, an ellipsis, the last

    def apa(self, markdown: bool = True) -> str:
        """The APA 7 reference-list entry; italics as Markdown ``*...*`` unless
        ``markdown=False``."""
        it = (lambda s: f"*{s}*") if markdown else (lambda s: s)
        authors = self._author_list()
        head = f"{authors}{'' if authors.endswith('.') else '.'} ({self.year})."
        doi = f" https://doi.org/{self.doi}" if self.doi else (f" {self.url}" if self.url else "")
        title = self.title if self.title.endswith(("?", "!")) else self.title.rstrip(".")
        end = "" if title.endswith(("?", "!")) else "."
        if self.kind == "article":
            vol = it(self.volume) + (f"({self.issue})" if self.issue else "") if self.volume else ""
            parts = ", ".join(p for p in (it(self.container), vol, self.pages) if p)
            return f"{head} {title}{end} {parts}.{doi}"
        if self.kind == "book":
            ed = f" ({self.edition} ed.)" if self.edition else ""
            return f"{head} {it(title)}{ed}{end if not ed else '.'} {self.publisher}.{doi}"
        if self.kind == "chapter":
            eds = self.editors
            editor_text = (
                (eds[0] if len(eds) == 1 else ", ".join(eds[:-1]) + " & " + eds[-1]) if eds else ""
            )
            eds_label = " (Ed.)" if len(eds) == 1 else " (Eds.)"
            pages = f" (pp. {self.pages})" if self.pages else ""
            return (
                f"{head} {title}{end} In {editor_text}{eds_label if eds else ''}, "
                f"{it(self.container)}{pages}. {self.publisher}.{doi}"
            )
        if self.kind == "proceedings":
            pages = f" (pp. {self.pages})" if self.pages else ""
            vol = (
                f", {it(self.volume)}" + (f"({self.issue})" if self.issue else "")
                if self.volume
                else ""
            )
            return f"{head} {title}{end} In {it(self.container)}{vol}{pages}.{doi}"
        # software
        version = f" (Version {self.version})" if self.version else ""
        publisher = f" {self.publisher}." if self.publisher else ""
        return f"{head} {it(title)}{version} [Computer software].{publisher}{doi}"

    def bibtex(self) -> str:
        """A BibTeX entry keyed by :attr:`key`."""
        entry = {
            "article": "article",
            "book": "book",
            "chapter": "incollection",
            "proceedings": "inproceedings",
            "software": "misc",
        }[self.kind]
        fields = {
            "author": " and ".join(_bib_name(a) for a in self.authors),
            "title": "{" + self.title + "}",
            "year": str(self.year),
        }
        if self.kind == "article":
            fields.update(journal=self.container, volume=self.volume, number=self.issue)
        elif self.kind in ("chapter", "proceedings"):
            fields.update(booktitle=self.container, volume=self.volume, number=self.issue)
            if self.editors:
                fields["editor"] = " and ".join(_bib_name(e, editor=True) for e in self.editors)
        if self.kind in ("book", "chapter", "software"):
            fields["publisher"] = self.publisher
        if self.edition:
            fields["edition"] = self.edition
        if self.version:
            fields["version"] = self.version
        if self.pages:
            fields["pages"] = self.pages.replace("–", "--")
        if self.doi:
            fields["doi"] = self.doi
        if self.url:
            fields["url"] = self.url
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items() if v)
        return f"@{entry}{{{self.key},\n{body}\n}}"


def _bib_name(apa_name: str, editor: bool = False) -> str:
    """``"Holm, S."`` stays ``Holm, S.``; a group author is braced so BibTeX keeps it whole."""
    if editor:  # editors are written "F. Drasgow" in APA chapters
        first, _, last = apa_name.rpartition(" ")
        return f"{last}, {first}" if first else apa_name
    return apa_name if "," in apa_name else "{" + apa_name + "}"


_r = Reference


_REFS = [
    # ---- multiple testing ----
    _r(
        "holm1979",
        ("Holm, S.",),
        1979,
        "A simple sequentially rejective multiple test procedure",
        container="Scandinavian Journal of Statistics",
        volume="6",
        issue="2",
        pages="65–70",
        doi="10.2307/4615733",
    ),
    _r(
        "benjamini1995",
        ("Benjamini, Y.", "Hochberg, Y."),
        1995,
        "Controlling the false discovery rate: A practical and powerful approach to multiple "
        "testing",
        container="Journal of the Royal Statistical Society: Series B (Methodological)",
        volume="57",
        issue="1",
        pages="289–300",
        doi="10.1111/j.2517-6161.1995.tb02031.x",
    ),
    # ---- group comparisons ----
    _r(
        "welch1947",
        ("Welch, B. L.",),
        1947,
        "The generalization of \u201cStudent's\u201d problem when several different population "
        "variances are involved",
        container="Biometrika",
        volume="34",
        issue="1–2",
        pages="28–35",
        doi="10.1093/biomet/34.1-2.28",
    ),
    _r(
        "hedges1981",
        ("Hedges, L. V.",),
        1981,
        "Distribution theory for Glass's estimator of effect size and related estimators",
        container="Journal of Educational Statistics",
        volume="6",
        issue="2",
        pages="107–128",
        doi="10.3102/10769986006002107",
    ),
    _r(
        "mann1947",
        ("Mann, H. B.", "Whitney, D. R."),
        1947,
        "On a test of whether one of two random variables is stochastically larger than the other",
        container="The Annals of Mathematical Statistics",
        volume="18",
        issue="1",
        pages="50–60",
        doi="10.1214/aoms/1177730491",
    ),
    _r(
        "wilcoxon1945",
        ("Wilcoxon, F.",),
        1945,
        "Individual comparisons by ranking methods",
        container="Biometrics Bulletin",
        volume="1",
        issue="6",
        pages="80–83",
        doi="10.2307/3001968",
    ),
    _r(
        "fisher1922",
        ("Fisher, R. A.",),
        1922,
        "On the interpretation of \u03c7\u00b2 from contingency tables, and the calculation of P",
        container="Journal of the Royal Statistical Society",
        volume="85",
        issue="1",
        pages="87–94",
        doi="10.2307/2340521",
    ),
    _r(
        "cohen1988",
        ("Cohen, J.",),
        1988,
        "Statistical power analysis for the behavioral sciences",
        kind="book",
        edition="2nd",
        publisher="Lawrence Erlbaum Associates",
    ),  # no DOI for the 1988 printing
    _r(
        "wilson1927",
        ("Wilson, E. B.",),
        1927,
        "Probable inference, the law of succession, and statistical inference",
        container="Journal of the American Statistical Association",
        volume="22",
        issue="158",
        pages="209–212",
        doi="10.1080/01621459.1927.10502953",
    ),
    _r(
        "shapiro1965",
        ("Shapiro, S. S.", "Wilk, M. B."),
        1965,
        "An analysis of variance test for normality (complete samples)",
        container="Biometrika",
        volume="52",
        issue="3–4",
        pages="591–611",
        doi="10.1093/biomet/52.3-4.591",
    ),
    _r(
        "brown1974",
        ("Brown, M. B.", "Forsythe, A. B."),
        1974,
        "Robust tests for the equality of variances",
        container="Journal of the American Statistical Association",
        volume="69",
        issue="346",
        pages="364–367",
        doi="10.1080/01621459.1974.10482955",
    ),
    # McCullagh's article runs 109-127; the discussion printed with it runs to p. 142 (sources
    # differ).
    _r(
        "mccullagh1980",
        ("McCullagh, P.",),
        1980,
        "Regression models for ordinal data",
        container="Journal of the Royal Statistical Society: Series B (Methodological)",
        volume="42",
        issue="2",
        pages="109–142",
        doi="10.1111/j.2517-6161.1980.tb01109.x",
    ),
    _r(
        "swaminathan1990",
        ("Swaminathan, H.", "Rogers, H. J."),
        1990,
        "Detecting differential item functioning using logistic regression procedures",
        container="Journal of Educational Measurement",
        volume="27",
        issue="4",
        pages="361–370",
        doi="10.1111/j.1745-3984.1990.tb00754.x",
    ),
    # ---- reliability and measurement ----
    _r(
        "cronbach1951",
        ("Cronbach, L. J.",),
        1951,
        "Coefficient alpha and the internal structure of tests",
        container="Psychometrika",
        volume="16",
        issue="3",
        pages="297–334",
        doi="10.1007/BF02310555",
    ),
    _r(
        "feldt1965",
        ("Feldt, L. S.",),
        1965,
        "The approximate sampling distribution of Kuder-Richardson reliability coefficient twenty",
        container="Psychometrika",
        volume="30",
        issue="3",
        pages="357–370",
        doi="10.1007/BF02289499",
    ),
    _r(
        "mcdonald1999",
        ("McDonald, R. P.",),
        1999,
        "Test theory: A unified treatment",
        kind="book",
        publisher="Lawrence Erlbaum Associates",
    ),  # no DOI
    _r(
        "meredith1993",
        ("Meredith, W.",),
        1993,
        "Measurement invariance, factor analysis and factorial invariance",
        container="Psychometrika",
        volume="58",
        issue="4",
        pages="525–543",
        doi="10.1007/BF02294825",
    ),
    _r(
        "rosseel2012",
        ("Rosseel, Y.",),
        2012,
        "lavaan: An R package for structural equation modeling",
        container="Journal of Statistical Software",
        volume="48",
        issue="2",
        pages="1–36",
        doi="10.18637/jss.v048.i02",
    ),
    # ---- agreement ----
    _r(
        "cohen1960",
        ("Cohen, J.",),
        1960,
        "A coefficient of agreement for nominal scales",
        container="Educational and Psychological Measurement",
        volume="20",
        issue="1",
        pages="37–46",
        doi="10.1177/001316446002000104",
    ),
    _r(
        "krippendorff2018",
        ("Krippendorff, K.",),
        2018,
        "Content analysis: An introduction to its methodology",
        kind="book",
        edition="4th",
        publisher="Sage",
    ),  # no DOI
    # The Lancet numbered 1986 as volume i; Crossref gives 327. Either is correct in its convention.
    _r(
        "bland1986",
        ("Bland, J. M.", "Altman, D. G."),
        1986,
        "Statistical methods for assessing agreement between two methods of clinical measurement",
        container="The Lancet",
        volume="327",
        issue="8476",
        pages="307–310",
        doi="10.1016/S0140-6736(86)90837-8",
    ),
    _r(
        "james1984",
        ("James, L. R.", "Demaree, R. G.", "Wolf, G."),
        1984,
        "Estimating within-group interrater reliability with and without response bias",
        container="Journal of Applied Psychology",
        volume="69",
        issue="1",
        pages="85–98",
        doi="10.1037/0021-9010.69.1.85",
    ),
    _r(
        "shrout1979",
        ("Shrout, P. E.", "Fleiss, J. L."),
        1979,
        "Intraclass correlations: Uses in assessing rater reliability",
        container="Psychological Bulletin",
        volume="86",
        issue="2",
        pages="420–428",
        doi="10.1037/0033-2909.86.2.420",
    ),
    # ---- the field ----
    # HBR has no DOI. The July-August 2006 double issue is confirmed; volume 84, issue 7/8 and pages
    # 68-78 are as the brief gives them and were not found in a public source here.
    _r(
        "kotler2006",
        ("Kotler, P.", "Rackham, N.", "Krishnaswamy, S."),
        2006,
        "Ending the war between sales and marketing",
        container="Harvard Business Review",
        volume="84",
        issue="7/8",
        pages="68–78",
        verified=False,
    ),
    # Title and journal confirmed; the DOI follows the journal's pattern (its 2008 companion is
    # 10.1509/jmkg.72.2.133) but was not found verbatim in a public source here.
    _r(
        "homburg2007",
        ("Homburg, C.", "Jensen, O."),
        2007,
        "The thought worlds of marketing and sales: Which differences make a difference?",
        container="Journal of Marketing",
        volume="71",
        issue="3",
        pages="124–142",
        doi="10.1509/jmkg.71.3.124",
        verified=False,
    ),
    _r(
        "edwards2002",
        ("Edwards, J. R.",),
        2002,
        "Alternatives to difference scores: Polynomial regression analysis and response surface "
        "methodology",
        kind="chapter",
        editors=("F. Drasgow", "N. Schmitt"),
        container="Measuring and analyzing behavior in organizations",
        pages="350–400",
        publisher="Jossey-Bass",
    ),  # no DOI
    _r(
        "humberg2019",
        ("Humberg, S.", "Nestler, S.", "Back, M. D."),
        2019,
        "Response surface analysis in personality and social psychology: Checklist and "
        "clarifications for the case of congruence hypotheses",
        container="Social Psychological and Personality Science",
        volume="10",
        issue="3",
        pages="409–419",
        doi="10.1177/1948550618757600",
    ),
    _r(
        "hutto2014",
        ("Hutto, C. J.", "Gilbert, E."),
        2014,
        "VADER: A parsimonious rule-based model for sentiment analysis of social media text",
        container="Proceedings of the International AAAI Conference on Web and Social Media",
        volume="8",
        issue="1",
        pages="216–225",
        doi="10.1609/icwsm.v8i1.14550",
    ),
    _r(
        "kuznetsova2017",
        ("Kuznetsova, A.", "Brockhoff, P. B.", "Christensen, R. H. B."),
        2017,
        "lmerTest package: Tests in linear mixed effects models",
        container="Journal of Statistical Software",
        volume="82",
        issue="13",
        pages="1–26",
        doi="10.18637/jss.v082.i13",
    ),
    # ---- software ----
    _r(
        "mckinney2010",
        ("McKinney, W.",),
        2010,
        "Data structures for statistical computing in Python",
        kind="proceedings",
        container="Proceedings of the 9th Python in Science Conference",
        pages="56–61",
        doi="10.25080/Majora-92bf1922-00a",
    ),
    _r(
        "pandas2020",
        ("The pandas development team",),
        2020,
        "pandas-dev/pandas: Pandas",
        kind="software",
        publisher="Zenodo",
        doi="10.5281/zenodo.3509134",
    ),
    _r(
        "seabold2010",
        ("Seabold, S.", "Perktold, J."),
        2010,
        "statsmodels: Econometric and statistical modeling with Python",
        kind="proceedings",
        container="Proceedings of the 9th Python in Science Conference",
        pages="92–96",
        doi="10.25080/Majora-92bf1922-011",
    ),
    _r(
        "virtanen2020",
        (
            "Virtanen, P.",
            "Gommers, R.",
            "Oliphant, T. E.",
            "Haberland, M.",
            "Reddy, T.",
            "Cournapeau, D.",
            "Burovski, E.",
            "Peterson, P.",
            "Weckesser, W.",
            "Bright, J.",
            "van der Walt, S. J.",
            "Brett, M.",
            "Wilson, J.",
            "Millman, K. J.",
            "Mayorov, N.",
            "Nelson, A. R. J.",
            "Jones, E.",
            "Kern, R.",
            "Larson, E.",
            "Carey, C. J.",
            "Polat, İ.",
            "Feng, Y.",
            "Moore, E. W.",
            "VanderPlas, J.",
            "Laxalde, D.",
            "Perktold, J.",
            "Cimrman, R.",
            "Henriksen, I.",
            "Quintero, E. A.",
            "Harris, C. R.",
            "Archibald, A. M.",
            "Ribeiro, A. H.",
            "Pedregosa, F.",
            "van Mulbregt, P.",
            "SciPy 1.0 Contributors",
        ),
        2020,
        "SciPy 1.0: Fundamental algorithms for scientific computing in Python",
        container="Nature Methods",
        volume="17",
        issue="3",
        pages="261–272",
        doi="10.1038/s41592-019-0686-2",
    ),
    # Authors, title, journal, pages and DOI from numpy's own CITATION.bib; the issue number (7825)
    # is not in it and was not checked here.
    _r(
        "harris2020",
        (
            "Harris, C. R.",
            "Millman, K. J.",
            "van der Walt, S. J.",
            "Gommers, R.",
            "Virtanen, P.",
            "Cournapeau, D.",
            "Wieser, E.",
            "Taylor, J.",
            "Berg, S.",
            "Smith, N. J.",
            "Kern, R.",
            "Picus, M.",
            "Hoyer, S.",
            "van Kerkwijk, M. H.",
            "Brett, M.",
            "Haldane, A.",
            "Fernández del Río, J.",
            "Wiebe, M.",
            "Peterson, P.",
            "Gérard-Marchant, P.",
            "Sheppard, K.",
            "Reddy, T.",
            "Weckesser, W.",
            "Abbasi, H.",
            "Gohlke, C.",
            "Oliphant, T. E.",
        ),
        2020,
        "Array programming with NumPy",
        container="Nature",
        volume="585",
        issue="7825",
        pages="357–362",
        doi="10.1038/s41586-020-2649-2",
    ),
    _r(
        "vallat2018",
        ("Vallat, R.",),
        2018,
        "Pingouin: Statistics in Python",
        container="Journal of Open Source Software",
        volume="3",
        issue="31",
        pages="1026",
        doi="10.21105/joss.01026",
    ),
    _r(
        "waskom2021",
        ("Waskom, M. L.",),
        2021,
        "seaborn: Statistical data visualization",
        container="Journal of Open Source Software",
        volume="6",
        issue="60",
        pages="3021",
        doi="10.21105/joss.03021",
    ),
    _r(
        "hunter2007",
        ("Hunter, J. D.",),
        2007,
        "Matplotlib: A 2D graphics environment",
        container="Computing in Science & Engineering",
        volume="9",
        issue="3",
        pages="90–95",
        doi="10.1109/MCSE.2007.55",
    ),
]

#: The toolkit itself, as CITATION.cff describes it (Citation File Format 1.2.0).
TOOLKIT_TITLE = "research: a toolkit for studying the sales\u2013marketing interface"
TOOLKIT_AUTHORS = "The research toolkit authors"
TOOLKIT_RELEASED = "2026-11-29"
TOOLKIT_LICENSE = "GPL-3.0-or-later"


def toolkit_reference() -> Reference:
    """The toolkit as a software reference, its version from ``research.__version__``."""
    from research import __version__

    return Reference(
        "research",
        (TOOLKIT_AUTHORS,),
        int(TOOLKIT_RELEASED[:4]),
        TOOLKIT_TITLE,
        kind="software",
        version=__version__,
    )


#: Every reference, by key (the toolkit under ``research``).
REFERENCES: dict[str, Reference] = {r.key: r for r in [*_REFS, toolkit_reference()]}

#: Which works describe which method or software (the methods section cites through this).
METHOD_KEYS: dict[str, tuple[str, ...]] = {
    "holm": ("holm1979",),
    "bh": ("benjamini1995",),
    "welch": ("welch1947",),
    "hedges_g": ("hedges1981",),
    "mann_whitney": ("mann1947",),
    "wilcoxon": ("wilcoxon1945",),
    "fisher": ("fisher1922",),
    "cohen_effects": ("cohen1988",),
    "wilson": ("wilson1927",),
    "alpha": ("cronbach1951",),
    "feldt": ("feldt1965",),
    "omega": ("mcdonald1999",),
    "kappa": ("cohen1960",),
    "krippendorff": ("krippendorff2018",),
    "bland_altman": ("bland1986",),
    "rwg": ("james1984",),
    "icc": ("shrout1979",),
    "stages": ("kotler2006",),
    "thought_worlds": ("homburg2007",),
    "response_surface": ("edwards2002", "humberg2019"),
    "invariance": ("meredith1993", "rosseel2012"),
    "lmertest": ("kuznetsova2017",),
    "vader": ("hutto2014",),
    "ordinal_logit": ("mccullagh1980",),
    "dif": ("swaminathan1990",),
    "shapiro": ("shapiro1965",),
    "levene": ("brown1974",),
    "pandas": ("mckinney2010", "pandas2020"),
    "statsmodels": ("seabold2010",),
    "scipy": ("virtanen2020",),
    "numpy": ("harris2020",),
    "pingouin": ("vallat2018",),
    "seaborn": ("waskom2021",),
    "matplotlib": ("hunter2007",),
}


def cite(*keys: str, narrative: bool = False) -> str:
    """In-text citation of one or more works: ``(Holm, 1979; Welch, 1947)``.

    Raises ``KeyError`` naming the unknown key.

    Examples
    --------
    >>> cite("edwards2002", "humberg2019")
    '(Edwards, 2002; Humberg et al., 2019)'
    """
    for k in keys:
        if k not in REFERENCES:
            raise KeyError(f"no reference {k!r}; known keys: {sorted(REFERENCES)}")
    if narrative:
        return "; ".join(REFERENCES[k].in_text(narrative=True) for k in keys)
    return "(" + "; ".join(REFERENCES[k].in_text()[1:-1] for k in keys) + ")"


def _sort_key(ref: Reference):
    return (ref.surnames()[0].lower().removeprefix("the "), ref.year, ref.title.lower())


def reference_list(keys, markdown: bool = True) -> list[str]:
    """APA entries of the given keys (duplicates dropped), in APA order: first author's surname,
    then year."""
    refs = sorted({REFERENCES[k] for k in keys}, key=_sort_key)
    return [r.apa(markdown=markdown) for r in refs]


def bibtex(keys=None) -> str:
    """BibTeX of the given keys (all references when ``None``), in reference-list order."""
    refs = sorted(
        {REFERENCES[k] for k in (keys if keys is not None else REFERENCES)}, key=_sort_key
    )
    return "\n\n".join(r.bibtex() for r in refs) + "\n"
