"""Write a synthetic demo study of any size (``python -m research.run.demo --out DIR --size N``).

The study is fiction: companies, people and quotes are made up, and marked as synthetic in the
study's README. It is shaped like real data (Qualtrics-style survey export, respondents in Excel,
transcripts in VTT, SRT, DOCX and TXT, two human coders on a subset) and plants effects that a
researcher would find plausible:

- sales rates joint planning and shared metrics lower than marketing does;
- marketing talks about sales' short-term focus and single-customer fixation; sales talks about
  marketing being out of touch and about lead hand-off and lead quality;
- in the thought-worlds ratings each side rates itself above the other, sales rates marketing low on
  customer orientation, marketing rates sales low on long-term horizon and market knowledge.

With ``faults=True`` (the default) it also plants a few realistic faults: an out-of-range answer, a
non-numeric answer, an unfinished response, a survey row of an unknown respondent, an unknown role,
a missing and an empty transcript, and a manual code for a segment that does not exist.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from research.spec.codebook import load_codebook
from research.spec.instruments import load_instrument

FIRST = [
    "Dana",
    "Lior",
    "Priya",
    "Mateo",
    "Ingrid",
    "Kwame",
    "Sofia",
    "Tobias",
    "Aiko",
    "Rafael",
    "Nadia",
    "Henrik",
    "Chloe",
    "Emeka",
    "Marta",
    "Oskar",
    "Leila",
    "Julien",
    "Hana",
    "Viktor",
    "Amara",
    "Callum",
    "Ines",
    "Bastian",
    "Yara",
    "Dmitri",
    "Elena",
    "Fergus",
    "Greta",
    "Hamid",
]
LAST = [
    "Whitfield",
    "Okafor",
    "Lindqvist",
    "Bertrand",
    "Moreau",
    "Castellanos",
    "Nakamura",
    "Adeyemi",
    "Kowalczyk",
    "Haddad",
    "Johansson",
    "Fitzgerald",
    "Marchetti",
    "Oyelaran",
    "Vasquez",
    "Brennan",
    "Takahashi",
    "Duarte",
    "Albrecht",
    "Novak",
    "Sørensen",
    "Quigley",
    "Petrov",
    "Ridley",
    "Szabo",
    "Engström",
    "Mbeki",
    "Laurent",
]
INDUSTRIES = [
    "Industrial equipment",
    "Software",
    "Medical devices",
    "Chemicals",
    "Consumer goods",
    "Logistics",
]
INTERVIEWERS = ["Morgan Ellis", "Interviewer"]

ROLE_LABELS = {
    "marketing": ["Marketing Manager", "marketing", "Head of Marketing"],
    "sales": ["VP Sales", "Sales", "Sales Director"],
}

# What each function says, by theme: (speaker role) -> sentences that contain the theme's words.
SAYINGS = {
    "short_term_focus": {
        "marketing": [
            "Sales only cares about this quarter; anything beyond that is somebody else's problem.",
            "Everything is short-term with them, it's all about hitting the number.",
        ],
        "sales": ["Sure, we focus on this quarter, that's what keeps the lights on."],
    },
    "single_customer_fixation": {
        "marketing": [
            "They chase one big account and forget there is a whole market out there.",
            "Every request is about one customer who shouted loudest.",
        ],
        "sales": ["When one customer asks for something, I have to listen to that one customer."],
    },
    "market_knowledge": {
        "marketing": [
            "We bring the market research and the competitor picture.",
            "Our segmentation work shows where the growth is.",
        ],
        "sales": ["Their segments look nice on slides but they don't match who actually buys."],
    },
    "out_of_touch": {
        "sales": [
            "Marketing is out of touch; they sit behind their desks and never meet customers.",
            "Honestly they are in an ivory tower, they don't talk to customers.",
        ],
        "marketing": ["People say we are out of touch, but we do spend time in the field."],
    },
    "pricing_discounts": {
        "sales": [
            "The list prices are too expensive for this market, so I need room to discount.",
            "Every deal ends up as a discussion about price.",
        ],
        "marketing": ["Discounting is eating our margins and nobody tracks it."],
    },
    "advertising_spend": {
        "sales": [
            "That advertising budget would be better spent on two more reps.",
            "The trade shows and campaigns don't bring me anything I can close.",
        ],
        "marketing": ["Our campaigns build the brand that makes their calls easier."],
    },
    "product_features": {
        "sales": ["Customers ask for features that the roadmap simply ignores."],
        "marketing": ["Sales wants every feature one client mentions added to the roadmap."],
    },
    "launch_timing": {
        "sales": [
            "The launch was announced before we were ready; my team had no training.",
            "We heard about the product launch from a customer.",
        ],
        "marketing": ["We had to launch on the date the board set, ready or not."],
    },
    "pay_commission": {
        "sales": [
            "My people are paid on commission, so of course they push what closes now.",
            "Our quota drives everything we do.",
        ],
        "marketing": ["They get a bonus per deal while we are on salary, and it shows."],
    },
    "lead_handoff": {
        "sales": [
            "The leads marketing sends are mostly not qualified, so nobody will follow up.",
            "Lead quality is the biggest issue; half the leads are students and competitors.",
            "There is no clear hand-off, leads just sit in the system.",
        ],
        "marketing": ["We pass on leads and then nobody tells us what happened to them."],
    },
    "shared_terms": {
        "marketing": ["We spent months agreeing on a common language for the funnel stages."],
        "sales": [
            "We don't even use the same words; their value proposition means nothing to my reps."
        ],
    },
    "shared_metrics": {
        "marketing": [
            "We are measured on the same metrics now, pipeline and revenue.",
            "Having shared targets changed the tone of every meeting.",
        ],
        "sales": ["We have no shared metrics; they report clicks and I report revenue."],
    },
    "joint_planning": {
        "marketing": [
            "We sit down together every quarter for a joint planning session.",
            "The annual plan is something we now plan together.",
        ],
        "sales": ["Nobody asks us when they write the annual plan."],
    },
    "liaison_roles": {
        "marketing": ["We put a field marketing liaison into each sales region."],
        "sales": ["The liaison from marketing is the one person I know who to call."],
    },
    "trust": {
        "marketing": ["I trust their judgement on accounts more than I used to."],
        "sales": [
            "It is hard to trust numbers from a team that never sells.",
            "They have lost credibility with my reps.",
        ],
    },
    "conflict_blame": {
        "marketing": [
            "When the numbers are down, the blame comes straight to us.",
            "There is real tension between the two floors.",
        ],
        "sales": [
            "Every bad quarter turns into an argument about whose fault it was.",
            "We fight about the budget every single year.",
        ],
    },
    "collaboration": {
        "marketing": [
            "Lately we really work together on the big pursuits.",
            "It feels like one team now.",
        ],
        "sales": [
            "Working together on the key accounts has paid off.",
            "We win or lose as one team these days.",
        ],
    },
}
# Chance that an interview with each role raises a theme (the planted qualitative effects).
THEME_RATES = {
    "marketing": {
        "short_term_focus": 0.75,
        "single_customer_fixation": 0.6,
        "market_knowledge": 0.6,
        "out_of_touch": 0.15,
        "lead_handoff": 0.25,
        "pricing_discounts": 0.3,
        "launch_timing": 0.25,
    },
    "sales": {
        "short_term_focus": 0.2,
        "single_customer_fixation": 0.15,
        "out_of_touch": 0.7,
        "lead_handoff": 0.8,
        "pricing_discounts": 0.55,
        "launch_timing": 0.45,
        "advertising_spend": 0.45,
        "market_knowledge": 0.2,
    },
}
BASE_RATE = 0.3
QUESTIONS = [
    "Thanks for making the time. Could you describe how your team works with the other function?",
    "What gets in the way most often?",
    "How are the two teams measured and rewarded?",
    "Tell me about the last product introduction.",
    "How do the two of you plan for the coming years?",
    "If you could change one thing, what would it be?",
]
FILLERS = [
    "That is a fair question.",
    "I have been in this role for about four years.",
    "It depends on the week, honestly.",
    "Let me think about that for a second.",
    "We are a mid-sized business in our industry.",
    "I would say it has improved a little.",
]

PERCEPTION_BASE = {  # (target) -> dimension -> mean rating on 1-7
    "marketing": {
        "customer_orientation": 4.6,
        "long_term": 5.6,
        "market_knowledge": 5.6,
        "product_knowledge": 4.0,
        "interpersonal": 4.0,
    },
    "sales": {
        "customer_orientation": 5.2,
        "long_term": 3.2,
        "market_knowledge": 4.2,
        "product_knowledge": 5.0,
        "interpersonal": 6.0,
    },
}
STEREOTYPE = {
    ("sales", "marketing", "customer_orientation"): -1.2,
    ("sales", "marketing", "interpersonal"): -0.8,
    ("marketing", "sales", "long_term"): -1.0,
    ("marketing", "sales", "market_knowledge"): -0.9,
}


def _company_table(rng: np.random.Generator, n_companies: int) -> pd.DataFrame:
    latent = rng.uniform(1.35, 4.7, n_companies)  # mean keyed answer: totals of about 27 to 94
    size = np.round(np.exp(rng.normal(5.3, 1.2, n_companies))).astype(int) + 8
    high = latent > 3.0
    companies = pd.DataFrame(
        {
            "company_id": [f"C-{i + 1:03d}" for i in range(n_companies)],
            "latent": latent,
            "industry": rng.choice(INDUSTRIES, n_companies),
            "company_size": size,
            "offering": np.where(rng.random(n_companies) < 0.5, "standard", "customised"),
            "sales_cycle": np.where(rng.random(n_companies) < 0.45, "short", "long"),
            "market_change": np.where(rng.random(n_companies) < 0.5, "slow", "fast"),
            "reporting": np.where(
                rng.random(n_companies) < np.where(high, 0.35, 0.85), "separate", "single"
            ),
            "conflict": np.where(
                rng.random(n_companies) < np.where(latent < 2.5, 0.75, 0.2), "yes", "no"
            ),
            "funnel_feasible": np.where(rng.random(n_companies) < 0.5, "yes", "no"),
        }
    )
    unknown = rng.random(n_companies) < 0.1  # some companies did not say: "not assessable"
    companies["funnel_feasible"] = companies["funnel_feasible"].where(~unknown, "")
    return companies


def _staff(rng: np.random.Generator, companies: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for c in companies.itertuples():
        draw = rng.random()
        if draw < 0.78:
            roles = ["marketing", "sales"]
        elif draw < 0.86:
            roles = ["marketing", "sales", "sales"] + (["sales"] if rng.random() < 0.5 else [])
        elif draw < 0.92:
            roles = ["marketing", "marketing", "sales"]
        elif draw < 0.96:
            roles = ["marketing"]
        else:
            roles = ["sales"]
        for k, role in enumerate(roles):
            rows.append(
                {"company_id": c.company_id, "role": role, "head": k < 2 and roles.index(role) == k}
            )
    staff = pd.DataFrame(rows)
    staff.insert(0, "respondent_id", [f"R{i + 1:04d}" for i in range(len(staff))])
    return staff


def _likert(rng, mean, n, lo, hi):
    return np.clip(np.rint(mean + rng.normal(0, 0.75, n)), lo, hi).astype(int)


#: SD of a respondent's own view of each subscale around their overall view: it gives the subscales
#: factors of their own (correlated, not identical), so that a factor model per subscale is
#: identified.
FACET_SD = 0.7


def _answers(rng, staff, companies, smr, perceptions, facets: np.random.Generator) -> pd.DataFrame:
    """Every respondent's answers: the company's latent relationship, the respondent's overall view,
    a facet per subscale (drawn from ``facets``, a stream of its own), the planted role shifts,
    rounded to the scale."""
    latent = companies.set_index("company_id")["latent"]
    rows = []
    low_for_sales = {"planning", "metrics"}
    subscales = list(smr.subscale_ids) + list(perceptions.subscale_ids)
    for r in staff.itertuples():
        mu = latent[r.company_id] + rng.normal(0, 0.3)
        facet = dict(zip(subscales, facets.normal(0, FACET_SD, len(subscales)), strict=True))
        row = {"respondent_id": r.respondent_id}
        for item in smr.items:
            shift = 0.2 if r.role == "marketing" else -0.2
            if r.role == "sales" and item.subscale in low_for_sales:
                shift -= 0.55
            value = int(_likert(rng, mu + facet[item.subscale] + shift, 1, 1, 5)[0])
            row[item.id] = 6 - value if item.reverse else value
        halo = {
            "marketing": rng.normal(0, 0.7),
            "sales": rng.normal(0, 0.7),
        }  # a rater's overall view of a function
        for item in perceptions.items:
            target, dim = item.extra["target"], item.extra["dimension"]
            mean = (
                PERCEPTION_BASE[target][dim]
                + halo[target]
                + facet[item.subscale]
                + (0.6 if target == r.role else 0.0)
            )
            mean += STEREOTYPE.get((r.role, target, dim), 0.0)
            row[item.id] = int(_likert(rng, mean, 1, 1, 7)[0])
        rows.append(row)
    return pd.DataFrame(rows)


def _performance(rng, staff: pd.DataFrame, answers: pd.DataFrame, smr) -> np.ndarray:
    """Each respondent's report of their company's performance (an index around 55).

    Planted as a congruence
    effect: higher when both functions rate the relationship well, and lower the further apart they
    are.

    ``55 + 0.25 (mean total - 60) - 0.04 gap^2`` per company, plus company and respondent noise;
    drawn from its own random stream so that adding it left every other demo value as it was.
    """
    keyed = answers[smr.item_ids].astype(float)
    reverse = [it.id for it in smr.items if it.reverse]
    keyed[reverse] = smr.scale_min + smr.scale_max - keyed[reverse]
    totals = pd.DataFrame(
        {"company_id": staff["company_id"], "role": staff["role"], "total": keyed.sum(axis=1)}
    )
    means = totals.groupby(["company_id", "role"])["total"].mean().unstack()
    means = means.reindex(columns=["marketing", "sales"])
    level = means.mean(axis=1)
    gap = (means["marketing"] - means["sales"]).fillna(0.0)
    company = 55 + 0.25 * (level - 60) - 0.04 * gap**2 + rng.normal(0, 4, len(means))
    return np.round(
        company.reindex(staff["company_id"]).to_numpy() + rng.normal(0, 2, len(staff)), 1
    )


def _full_name(rng) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _interview_turns(rng, role, latent, name, interviewer):
    rates = {theme: THEME_RATES[role].get(theme, BASE_RATE) for theme in SAYINGS}
    rates["collaboration"] = 0.8 if latent > 3.4 else 0.2
    rates["conflict_blame"] = 0.8 if latent < 2.4 else 0.2
    rates["joint_planning"] = 0.7 if latent > 3.2 else 0.25
    themes = [t for t, p in rates.items() if rng.random() < p]
    rng.shuffle(themes)
    chunks = [themes[i :: len(QUESTIONS)] for i in range(len(QUESTIONS))]
    turns = []
    for question, chunk in zip(QUESTIONS, chunks, strict=True):
        turns.append((interviewer, question))
        sentences = [str(rng.choice(FILLERS))]
        for theme in chunk:
            options = SAYINGS[theme].get(role) or next(iter(SAYINGS[theme].values()))
            sentences.append(str(rng.choice(options)))
        turns.append((name, " ".join(sentences)))
    return turns


def _stamp(seconds: float, sep: str = ".") -> str:
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{int(s):02d}{sep}{int(round((s % 1) * 1000)):03d}"


def _write_transcript(path: Path, turns, fmt: str, style: int) -> None:
    t = 0.0
    if fmt in ("vtt", "srt"):
        cues = []
        for speaker, text in turns:
            # One turn split over several cues, as Zoom and Teams do.
            parts = [p.strip() + "." for p in text.split(".") if p.strip()]
            for part in parts:
                cues.append(
                    (
                        t,
                        t + 3.5,
                        speaker,
                        part.rstrip(".") + "." if not part.endswith((".", "?")) else part,
                    )
                )
                t += 3.7
        lines = ["WEBVTT", ""] if fmt == "vtt" else []
        for n, (a, b, speaker, text) in enumerate(cues, start=1):
            text = text.replace("..", ".").replace("?.", "?")
            if fmt == "vtt":
                body = f"<v {speaker}>{text}</v>" if style == 0 else f"{speaker}: {text}"
                lines += [str(n), f"{_stamp(a)} --> {_stamp(b)}", body, ""]
            else:
                lines += [
                    str(n),
                    f"{_stamp(a, ',')} --> {_stamp(b, ',')}",
                    f"{speaker}: {text}",
                    "",
                ]
        path.write_text("\n".join(lines), "utf-8")
        return
    paragraphs = []
    for speaker, text in turns:
        stamp = f"[{_stamp(t)[:8]}] "
        sentences = [s.strip() for s in text.split(". ") if s.strip()]
        if len(sentences) > 2 and fmt == "txt":
            head = ". ".join(sentences[:2]) + "."
            paragraphs.append(f"{stamp}{speaker}: {head}")
            paragraphs.append(". ".join(sentences[2:]))  # a continuation line without a speaker
        else:
            paragraphs.append(f"{stamp}{speaker}: {text}")
        t += 20.0
    if fmt == "txt":
        newline = "\r\n" if style == 1 else "\n"
        data = newline.join(paragraphs).encode("utf-8")
        path.write_bytes(b"\xef\xbb\xbf" + data if style == 1 else data)
    else:
        import docx

        document = docx.Document()
        for p in paragraphs:
            document.add_paragraph(p)
        document.core_properties.author = "research demo"
        document.save(str(path))


def _companies_and_staff(
    rng: np.random.Generator, size: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The companies, and their staff with names and raw role labels."""
    companies = _company_table(rng, max(4, int(round(40 * size))))
    staff = _staff(rng, companies)
    staff["name"] = [_full_name(rng) for _ in range(len(staff))]
    staff["role_label"] = [str(rng.choice(ROLE_LABELS[r])) for r in staff["role"]]
    return companies, staff


def _respondents(
    rng: np.random.Generator, staff: pd.DataFrame, companies: pd.DataFrame
) -> pd.DataFrame:
    """One row per respondent: staff, their company's attributes, an e-mail address and tenure."""
    respondents = staff.merge(companies.drop(columns="latent"), on="company_id")
    respondents["email"] = [
        n.lower().replace(" ", ".").replace("ø", "o").replace("ö", "o") + "@example.com"
        for n in respondents["name"]
    ]
    respondents["tenure_years"] = rng.integers(1, 25, len(respondents))
    return respondents


def _survey(
    rng: np.random.Generator, answers: pd.DataFrame, staff: pd.DataFrame, smr, faults: bool
) -> pd.DataFrame:
    """The survey as Qualtrics exports it: metadata, choice text, a few blanks, an open comment."""
    # Survey: choice text for the relationship items, numeric codes for the 7-point ratings.
    survey = answers.copy()
    labels = list(smr.labels)
    for item in smr.items:
        survey[item.id] = [labels[v - 1] for v in survey[item.id]]
    blank = rng.random(survey.shape) < 0.015
    blank[:, 0] = False
    survey = survey.astype(object).mask(blank, "")
    comments = []
    for r in staff.itertuples():
        if rng.random() < 0.6:
            rates = THEME_RATES[r.role]
            theme = max(rates, key=lambda t: rates[t] + rng.random() * 0.5)
            comments.append(
                str(rng.choice(SAYINGS[theme].get(r.role) or next(iter(SAYINGS[theme].values()))))
            )
        else:
            comments.append("")
    survey["Q30_comment"] = comments
    n = len(survey)
    start = pd.Timestamp("2026-03-02 09:00") + pd.to_timedelta(
        np.sort(rng.integers(0, 60 * 24 * 20, n)), unit="m"
    )
    duration = rng.integers(240, 1500, n)
    meta = pd.DataFrame(
        {
            "StartDate": start.strftime("%Y-%m-%d %H:%M:%S"),
            "EndDate": (start + pd.to_timedelta(duration, unit="s")).strftime("%Y-%m-%d %H:%M:%S"),
            "Status": "0",
            "Progress": "100",
            "Duration (in seconds)": duration.astype(str),
            "Finished": "1",
            "RecordedDate": (start + pd.to_timedelta(duration, unit="s")).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "ResponseId": [f"R_{rng.integers(10**14, 10**15):x}" for _ in range(n)],
        }
    )
    survey = pd.concat([meta, survey], axis=1)
    if faults:
        survey.loc[5, "TWS3"] = "9"  # out_of_range on a 7-point item
        survey.loc[11, "SMR07"] = "4-5"  # not_a_number
        unfinished = 17
        survey.loc[unfinished, ["Finished", "Progress"]] = ["0", "45"]
        survey.loc[unfinished, [f"SMR{k:02d}" for k in range(10, 21)]] = ""
        test_row = survey.iloc[[0]].copy()
        test_row["respondent_id"] = "R9999"  # a test response from the survey designer
        survey = pd.concat([survey, test_row], ignore_index=True)
    return survey


def _write_survey(out: Path, survey: pd.DataFrame, smr, perceptions) -> None:
    """``survey.csv`` with Qualtrics' two header rows: question text and ``{"ImportId": ...}``."""
    question_text = {c: c for c in survey.columns}
    question_text.update({it.id: f"How far do you agree? - {it.text}" for it in smr.items})
    question_text.update({it.id: f"Rate the function - {it.text}" for it in perceptions.items})
    question_text["respondent_id"] = "respondent_id"
    question_text["Q30_comment"] = "Anything else about how sales and marketing work together?"
    import_ids = {c: json.dumps({"ImportId": f"QID_{c}"}) for c in survey.columns}
    header = pd.DataFrame([question_text, import_ids])
    pd.concat([header, survey], ignore_index=True).to_csv(out / "survey.csv", index=False)


def _write_respondents(
    out: Path, respondents: pd.DataFrame, staff, answers, smr, seed: int
) -> None:
    """``respondents.xlsx`` with the reported performance (drawn from its own random stream)."""
    respondents["performance"] = _performance(np.random.default_rng(seed + 1), staff, answers, smr)
    keep = [
        "respondent_id",
        "company_id",
        "role_label",
        "name",
        "email",
        "industry",
        "company_size",
        "offering",
        "sales_cycle",
        "market_change",
        "reporting",
        "conflict",
        "funnel_feasible",
        "tenure_years",
        "performance",
    ]
    respondents[keep].rename(columns={"role_label": "role"}).to_excel(
        out / "respondents.xlsx", index=False
    )


def _interviews(
    rng: np.random.Generator, out: Path, staff, companies, size: float, faults: bool
) -> dict:
    """Transcripts of both heads of about 60% of the companies that have both; ``interviews.csv``.

    Returns each interview's turns, (speaker, text), by interview id.
    """
    heads = staff[staff["head"]]
    both = heads.groupby("company_id")["role"].nunique()
    chosen = both[both == 2].index[: max(2, int(round(12 * size)))]
    formats = ["vtt", "srt", "docx", "txt"]
    latent = companies.set_index("company_id")["latent"]
    rows, transcripts = [], {}
    for k, (company, role) in enumerate((c, r) for c in chosen for r in ("marketing", "sales")):
        person = heads[(heads["company_id"] == company) & (heads["role"] == role)].iloc[0]
        interviewer = INTERVIEWERS[k % 2]
        fmt = formats[k % 4]
        iid = f"I{k + 1:03d}"
        file = f"{iid}_{company}_{role}.{fmt}"
        turns = _interview_turns(rng, role, latent[company], person["name"], interviewer)
        _write_transcript(out / "transcripts" / file, turns, fmt, style=(k // 4) % 2)
        transcripts[iid] = turns
        rows.append(
            {
                "interview_id": iid,
                "respondent_id": person["respondent_id"],
                "file": file,
                "interviewer": interviewer,
                "date": f"2026-04-{k % 28 + 1:02d}",
            }
        )
    if faults:
        rows.append(
            {
                "interview_id": f"I{len(rows) + 1:03d}",
                "respondent_id": heads.iloc[0]["respondent_id"],
                "file": "I_lost_recording.vtt",
                "interviewer": "Interviewer",
                "date": "2026-05-02",
            }
        )
        (out / "transcripts" / "I_empty.txt").write_text("", "utf-8")
        rows.append(
            {
                "interview_id": f"I{len(rows) + 1:03d}",
                "respondent_id": heads.iloc[1]["respondent_id"],
                "file": "I_empty.txt",
                "interviewer": "Interviewer",
                "date": "2026-05-03",
            }
        )
    pd.DataFrame(rows).to_csv(out / "interviews.csv", index=False)
    return transcripts


def _coders(rng: np.random.Generator, out: Path, transcripts: dict, faults: bool) -> None:
    """``codes.csv``: two human coders on the first third of the interviews.

    Each coder takes the codebook's own matches, missing some and adding a few, as people do.
    """
    codebook = load_codebook("builtin:default")
    codes = []
    coded = list(transcripts)[: max(2, len(transcripts) // 3)]
    for coder, miss, extra in (("coder_a", 0.08, 0.03), ("coder_b", 0.15, 0.05)):
        for iid in coded:
            for turn_no, (speaker, text) in enumerate(transcripts[iid], start=1):
                if speaker in INTERVIEWERS:
                    continue
                for theme in codebook.themes:
                    hit = theme.matches(text)
                    if (hit and rng.random() > miss) or (not hit and rng.random() < extra / 4):
                        codes.append(
                            {
                                "interview_id": iid,
                                "segment": turn_no,
                                "coder": coder,
                                "theme": theme.id,
                            }
                        )
    if faults:
        codes.append(
            {"interview_id": coded[0], "segment": 999, "coder": "coder_b", "theme": "trust"}
        )
    pd.DataFrame(codes).to_csv(out / "codes.csv", index=False)


def _write_study_yaml_and_readme(out: Path, size: float, seed: int, counts: dict) -> None:
    """``study.yaml`` naming every file, and the README that marks the study as synthetic."""
    config = {
        "name": "Demo" if size == 1 else f"Demo x{size:g}",
        "respondents": "respondents.xlsx",
        "survey": "survey.csv",
        "survey_id_column": "respondent_id",
        "include_unfinished": False,
        "instruments": ["builtin:smr", "builtin:perceptions"],
        "roles": {
            "marketing": ["marketing", "marketing manager", "head of marketing"],
            "sales": ["sales", "vp sales", "sales director"],
        },
        "interviews": "interviews.csv",
        "transcripts": "transcripts/",
        "codebook": "builtin:default",
        "manual_codes": "codes.csv",
        "open_ended": ["Q30_comment"],
        "outcomes": ["performance"],
        "decision_table": "builtin:default",
    }
    (out / "study.yaml").write_text(
        yaml.safe_dump(config, sort_keys=False, allow_unicode=True), "utf-8"
    )
    (out / "README.md").write_text(_README.format(seed=seed, size=size, **counts), "utf-8")


def write_demo(out, size: float = 1.0, seed: int = 2026, faults: bool = True) -> Path:
    """Write a synthetic study of about ``40 * size`` companies into ``out``.

    The steps, drawing from one random source in this order: companies and staff, respondents,
    answers and the survey, interviews and transcripts, the coders' codes; then study.yaml and the
    README.

    Parameters
    ----------
    out : path-like
        The study folder to write (created; existing files of the same names are replaced).
    size : float
        Multiplier of the demo's size: 1 gives about 40 companies, 90 respondents, 24 interviews.
    seed : int
        Seed of the only random source; the same seed writes the same study.
    faults : bool
        Plant the realistic faults listed in the module docstring.

    Returns
    -------
    Path
        The study folder.

    Examples
    --------
    >>> import tempfile
    >>> folder = write_demo(tempfile.mkdtemp(), size=0.25)
    >>> (folder / "study.yaml").is_file()
    True
    """
    out = Path(out)
    (out / "transcripts").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    smr, perceptions = load_instrument("builtin:smr"), load_instrument("builtin:perceptions")
    companies, staff = _companies_and_staff(rng, size)
    respondents = _respondents(rng, staff, companies)
    answers = _answers(rng, staff, companies, smr, perceptions, np.random.default_rng(seed + 2))
    survey = _survey(rng, answers, staff, smr, faults)
    if faults:
        respondents.loc[len(respondents) // 3, "role_label"] = "Finance Director"  # unknown_role
    _write_survey(out, survey, smr, perceptions)
    _write_respondents(out, respondents, staff, answers, smr, seed)
    transcripts = _interviews(rng, out, staff, companies, size, faults)
    _coders(rng, out, transcripts, faults)
    counts = {
        "companies": len(companies),
        "respondents": len(respondents),
        "interviews": len(transcripts),
    }
    _write_study_yaml_and_readme(out, size, seed, counts)
    return out


_README = """# Demo study (SYNTHETIC)

**Every company, person, answer and quote in this folder is made up.** It was written by
`python -m research.run.demo --out data/raw/demo --size {size:g} --seed {seed}` (module \
`src/research/run/demo.py`).
Names and e-mail addresses are fictitious and exist only so that the toolkit's pseudonymisation \
can be tested.

- {companies} companies, {respondents} respondents (`respondents.xlsx`), a Qualtrics-style survey \
export
  (`survey.csv`: choice text for the 20 relationship items, numeric codes for the 7-point \
thought-worlds items,
  an open comment `Q30_comment`);
- {interviews} interview transcripts in `transcripts/` (VTT with voice tags or `Name:` prefixes, \
SRT, DOCX, TXT with a BOM and CRLF),
  listed in `interviews.csv`; two human coders' codes for a third of them in `codes.csv`.

Planted effects: sales rates joint planning and shared metrics lower; marketing talks of \
short-term focus and
single-customer fixation, sales of marketing being out of touch and of lead quality; each side \
rates itself above the other;
the company `performance` each respondent reports (an outcome, `outcomes` in study.yaml) is higher \
when both functions rate
the relationship well and lower the further apart they are (a congruence effect for the \
response-surface analysis).

Planted faults (the data-quality page should show each): an unknown role, an out-of-range and a \
non-numeric answer,
an unfinished response, a survey row of an unknown respondent, a missing and an empty transcript, \
and a manual code
for a segment that does not exist.
"""


def main(argv=None) -> int:
    """The command line.

    ``python -m research.run.demo --out DIR [--size N] [--seed S] [--no-faults]``.
    """
    parser = argparse.ArgumentParser(
        description="Write the synthetic demo study (or a larger one for benchmarks)."
    )
    parser.add_argument(
        "--out", default="data/raw/demo", help="study folder to write (default: data/raw/demo)"
    )
    parser.add_argument(
        "--size",
        type=float,
        default=1.0,
        help="multiple of the demo's size (default 1: 40 companies)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument(
        "--no-faults", action="store_true", help="do not plant the realistic faults"
    )
    args = parser.parse_args(argv)
    folder = write_demo(args.out, args.size, args.seed, not args.no_faults)
    print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
