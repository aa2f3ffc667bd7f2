"""Plain-language and APA-style sentences built from result rows, for readers who never open Python.

Every sentence here is a function of the numbers it is given, and says no more than they earn:

- significance is judged at the study's ``alpha`` and the p-value quoted is the one judged, named as
  such (``Holm-adjusted p``, ``unadjusted p``);
- a difference that is not significant is never called sameness: it "could be chance";
- "most" means more than half; a plurality is "the most common"; ties are named as ties;
- a tie in the means is "the same", never one side "higher";
- counts agree with their nouns ("1 problem was", "2 problems were");
- labels come from the instrument and codebook (subscale, band, dimension and theme labels);
- reverse-keyed items are said to be compared on keyed (turned-round) values.
"""

from __future__ import annotations

import math

import pandas as pd

from research.report import apa
from research.report.tables import escape
from research.spec.decisions import field_words

ROLES = ("marketing", "sales")


# ---- numbers -------------------------------------------------------------------------------------


def fmt_p(p, name: str = "p") -> str:
    """APA p-value: ``p = .032``, ``p < .001``; no leading zero; ``name`` says which p it is.

    The number is :func:`research.report.apa.fmt_p`'s, so the text and the tables print the same p
    (half-up rounding: ``.0625`` is ``.063`` in both).

    Examples
    --------
    >>> fmt_p(0.0321), fmt_p(0.00001), fmt_p(float("nan")), fmt_p(0.2, "Holm-adjusted p")
    ('p = .032', 'p < .001', 'p not computed', 'Holm-adjusted p = .200')
    >>> fmt_p(0.0625), fmt_p(1.0)
    ('p = .063', 'p > .999')
    """
    if p is None or pd.isna(p):
        return f"{name} not computed"
    text = apa.fmt_p(p)
    return f"{name} {text}" if text[0] in "<>" else f"{name} = {text}"


def fmt_alpha(alpha: float) -> str:
    """The significance level as APA writes it: ``.05``, ``.10``, ``.001``.

    Examples
    --------
    >>> fmt_alpha(0.05), fmt_alpha(0.1), fmt_alpha(0.001)
    ('.05', '.10', '.001')
    """
    text = f"{alpha:.3f}".rstrip("0")
    if len(text.split(".")[1]) < 2:
        text = f"{alpha:.2f}"
    return text.replace("0.", ".", 1)


def fmt_num(x, digits: int = 2) -> str:
    """A number for prose as the tables print it (:func:`research.report.apa.fmt_stat`: half-up
    rounding, a true minus sign); ``–`` when missing.

    Examples
    --------
    >>> fmt_num(-0.8), fmt_num(0.125), fmt_num(None), fmt_num(11.99, 1)
    ('−0.80', '0.13', '–', '12.0')
    """
    return apa.fmt_stat(x, digits)


def bounded(x, digits: int = 2) -> str:
    """A statistic that cannot exceed 1 in APA style, without the leading zero and with the tables'
    minus sign (:func:`research.report.apa.fmt_bounded`): ``.83``, ``−.12``.

    Examples
    --------
    >>> bounded(0.834), bounded(-0.12), bounded(1.0), bounded(None)
    ('.83', '−.12', '1.00', '–')
    """
    return apa.fmt_bounded(x, digits)


def share(x) -> str:
    """A share as a whole percentage."""
    return "–" if x is None or pd.isna(x) else f"{100 * x:.0f}%"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 company``, ``2 companies``.

    Examples
    --------
    >>> plural(1, "problem"), plural(0, "item"), plural(2, "company", "companies")
    ('1 problem', '0 items', '2 companies')
    """
    return f"{n} {word if n == 1 else (many or word + 's')}"


def verb(n: int, one: str = "was", many: str = "were") -> str:
    return one if n == 1 else many


def count_of(k: int, n: int, word: str, many: str | None = None) -> str:
    """``12 of 38 companies``, ``1 of 1 company``.

    Examples
    --------
    >>> count_of(12, 38, "company", "companies"), count_of(1, 1, "company", "companies")
    ('12 of 38 companies', '1 of 1 company')
    """
    return f"{k} of {plural(n, word, many)}"


def significant(p, alpha: float) -> bool | None:
    """``p < alpha``; ``None`` when p is missing."""
    return None if p is None or pd.isna(p) else bool(p < alpha)


def is_tie(diff) -> bool:
    return diff is None or pd.isna(diff) or math.isclose(float(diff), 0.0, abs_tol=1e-9)


def higher_side(diff) -> str | None:
    """``marketing`` or ``sales`` for a marketing-minus-sales difference; ``None`` for a tie or
    missing."""
    if is_tie(diff):
        return None
    return "marketing" if diff > 0 else "sales"


def size_word(effect: str, size) -> str:
    """Conventional size words for an effect (see :func:`research.analysis.effects.size_word`)."""
    from research.analysis import effects

    if hasattr(effects, "size_word"):
        return effects.size_word(effect, size)
    if size is None or pd.isna(size):
        return "not computed"
    a = abs(size)
    cuts = {"rank-biserial": (0.1, 0.3, 0.5)}.get(effect, (0.2, 0.5, 0.8))
    return (
        "negligible"
        if a < cuts[0]
        else "small"
        if a < cuts[1]
        else "medium"
        if a < cuts[2]
        else "large"
    )


effect_words = size_word


def verdict(p, alpha: float, name: str) -> str:
    """Significance in words at ``alpha``, naming the p used; non-significance is never called
    sameness.

    Examples
    --------
    >>> verdict(0.01, 0.05, "Holm-adjusted p")
    'significant at α = .05 (Holm-adjusted p = .010)'
    >>> verdict(0.2, 0.05, "Holm-adjusted p")
    'not significant at α = .05: it could be chance (Holm-adjusted p = .200)'
    """
    sig = significant(p, alpha)
    if sig is None:
        return f"not tested ({name} not computed)"
    if sig:
        return f"significant at α = {fmt_alpha(alpha)} ({fmt_p(p, name)})"
    return f"not significant at α = {fmt_alpha(alpha)}: it could be chance ({fmt_p(p, name)})"


def fmt_df(df, fractional: bool = False) -> str:
    """Degrees of freedom as the tables print them (:func:`research.report.apa.fmt_df`);
    ``fractional`` for Welch's estimated df, always to one decimal.

    Examples
    --------
    >>> fmt_df(12.0), fmt_df(12.0, fractional=True), fmt_df(7.45)
    ('12', '12.0', '7.5')
    """
    return apa.fmt_df(df, fractional)


def apa_t(row, effect_symbol: str = "g", fractional: bool = False) -> str:
    """``t(58.3) = −3.21, p = .002, g = −0.82`` from a comparison row (the unadjusted p);
    ``fractional`` for Welch's df (always one decimal, as in the tables)."""
    if pd.isna(row.get("statistic")):
        return "not computed"
    return (
        f"t({fmt_df(row['df'], fractional)}) = {fmt_num(row['statistic'])}, {fmt_p(row['p'])}, "
        f"{effect_symbol} = {fmt_num(row['effect_size'])}"
    )


# ---- labels --------------------------------------------------------------------------------------


def scale_label(scale: str, instrument) -> str:
    """The label of a subscale or total from the instrument YAML (its id when it has none)."""
    labels = {s["id"]: s["label"] for s in instrument.subscales}
    if instrument.total:
        labels[instrument.total["id"]] = instrument.total.get("label", instrument.total["id"])
    return labels.get(scale, scale)


_scale_name = scale_label


def item_label(item_id: str, instrument) -> str:
    """``SMR03 (“Our two heads confer on …”)`` when the item has text, else its id."""
    item = next((it for it in instrument.items if it.id == item_id), None)
    if item is None or not item.text:
        return item_id
    text = item.text if len(item.text) <= 70 else item.text[:67].rstrip() + "…"
    return f"{item_id} (“{text}”)"


def one_side_warning(missing: list[str]) -> str:
    """The warning every page opens with when a function has no respondents (SPEC §4); ``""``
    otherwise."""
    if not missing:
        return ""
    who = " and ".join(missing)
    return (
        f"**Warning: the study has no {who} respondents.** Every comparison of marketing with "
        "sales is left out of this report; check the `roles` in study.yaml against the role labels "
        "in the respondents file."
    )


def one_side_terminal(missing: list[str]) -> str:
    """The same warning as :func:`one_side_warning`, as one plain line for the terminal; ``""`` when
    both answered."""
    if not missing:
        return ""
    return (
        f"warning: the study has no {' and no '.join(missing)} respondents; no page compares "
        "marketing with sales (check 'roles' in study.yaml against the role labels in the "
        "respondents file)"
    )


# ---- 01 overview ---------------------------------------------------------------------------------


def study_intro(study) -> str:
    r = study.respondents
    return (
        f"**{escape(study.name)}**: {plural(len(r), 'respondent')} from "
        f"{plural(r['company_id'].nunique(), 'company', 'companies')}, "
        f"{plural(len(study.instruments), 'instrument')} "
        f"({', '.join(escape(i.title) for i in study.instruments)}), "
        f"{plural(len(study.interviews), 'interview')} read."
    )


def instrument_sentence(instrument) -> str:
    """``**Title** (5-point scale, 20 items)``."""
    return (
        f"**{escape(instrument.title)}** ({instrument.n_points}-point scale, "
        f"{plural(len(instrument.items), 'item')})"
    )


def coding_sentence(study, coded: pd.DataFrame) -> str:
    """How many interviews were read and segments coded, with which codebook."""
    if study.codebook is None:
        return (
            f"{plural(len(study.interviews), 'interview')} read; the study names no codebook, so "
            "nothing was coded."
        )
    return (
        f"{plural(len(study.interviews), 'interview')} read, "
        f"{plural(len(coded), 'interviewee segment')} coded with the `{escape(study.codebook.id)}` "
        f"codebook ({plural(len(study.codebook.themes), 'theme')})."
    )


def sample_sentence(sample: pd.DataFrame) -> str:
    get = sample.set_index("role")
    parts = []
    for role in ROLES:
        if role in get.index:
            row = get.loc[role]
            parts.append(
                f"{plural(int(row['respondents']), role + ' respondent')} "
                f"({int(row['with_survey'])} with survey answers, "
                f"{plural(int(row['interviews']), 'interview')})"
            )
        else:
            parts.append(f"no {role} respondents")
    return "The study holds " + " and ".join(parts) + "."


def coverage_sentence(n_matched: int, n_companies: int, n_one_side: int, scale_name: str) -> str:
    """How many companies are matched (a score from both functions on the main scale) and how many
    are not.

    Examples
    --------
    >>> coverage_sentence(38, 40, 2, "Total")  # doctest: +NORMALIZE_WHITESPACE
    '38 of 40 companies are matched: both functions have a Total score, so they are compared as
    pairs. In 2 companies only one function has a score; they count in the role comparisons but not
    in the paired ones.'
    """
    head = (
        f"{count_of(n_matched, n_companies, 'company', 'companies')} "
        f"{verb(n_matched, 'is', 'are')} matched: both functions have a {escape(scale_name)} "
        "score, so they are compared as pairs."
    )
    if n_one_side == 0:
        return head
    rest = n_one_side
    return head + (
        f" In {plural(rest, 'company', 'companies')} only one function has a score; "
        f"{'it counts' if rest == 1 else 'they count'} in the role comparisons but not in the "
        "paired ones."
    )


def quality_sentence(quality: pd.DataFrame) -> str:
    if quality.empty:
        return "No data-quality problems were found."
    counts = quality["problem"].value_counts()
    listed = ", ".join(f"{v} × `{k}`" for k, v in counts.items())
    n = len(quality)
    return (
        f"{plural(n, 'problem')} {verb(n)} found and handled as the table says ({listed}). The "
        "full list, one row per problem with the file, record and column, is in "
        "`tables/data_quality.csv`."
    )


def stage_sentence(counts: pd.DataFrame, instrument) -> str:
    """Where each function's respondents most often place the relationship; ties named as ties."""
    if counts.empty:
        return ""
    parts = []
    for role, grp in counts.groupby("role"):
        total = int(grp["n"].sum())
        if total == 0:
            continue
        top_n = grp["n"].max()
        tops = grp.loc[grp["n"] == top_n, "band"].tolist()
        bands = " and ".join(f"**{escape(b)}**" for b in tops)
        how = "equally often" if len(tops) > 1 else "most often"
        parts.append(
            f"{role} respondents place the relationship {how} at {bands} "
            f"({count_of(int(top_n), total, 'respondent')}{' each' if len(tops) > 1 else ''})"
        )
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + f" ({escape(instrument.title)})."


def stage_distribution(counts: pd.Series, n: int, unit: str) -> tuple[str, str]:
    """Title and sentence for how many units sit at each stage: "most" only for a majority.

    Examples
    --------
    >>> stage_distribution(pd.Series({"A": 18, "B": 12, "C": 10}), 40, "companies")[0]
    'The most common stage is A (18 of 40 companies)'
    >>> stage_distribution(pd.Series({"A": 21, "B": 19}), 40, "companies")[0]
    'Most companies (21 of 40) are at the A stage'
    >>> stage_distribution(pd.Series({"A": 20, "B": 20}), 40, "companies")[0]
    'A and B are equally common (20 of 40 companies each)'
    """
    top = counts.max()
    tops = counts[counts == top].index.tolist()
    if len(tops) > 1:
        title = f"{' and '.join(map(str, tops))} are equally common ({top} of {n} {unit} each)"
    elif top > n / 2:
        title = f"Most {unit} ({top} of {n}) are at the {tops[0]} stage"
    else:
        title = f"The most common stage is {tops[0]} ({top} of {n} {unit})"
    listed = ", ".join(f"{escape(b)} {int(k)}" for b, k in counts.items())
    return escape(title), f"Of {n} {unit}: {listed}."


# ---- 02 measurement ------------------------------------------------------------------------------


def reliability_sentences(table: pd.DataFrame, instrument) -> str:
    """Internal consistency in words: each scale's alpha and omega; the scales below .70; those not
    computed."""
    allr = table[table["group"] == "all"]
    parts = []
    meaningful_brown = False
    for row in allr.to_dict("records"):
        brown = row.get("spearman_brown")
        two_items = brown is not None and not pd.isna(brown)
        if two_items and brown < 0:
            # ρ = 2r / (1 + r) is negative only when the two items correlate negatively
            parts.append(
                f"{escape(scale_label(row['scale'], instrument))}: the two items correlate "
                f"negatively (r = {bounded(brown / (2 - brown))}, n = {row['n']}), so no "
                "reliability coefficient is meaningful; check whether one of them should be "
                "reverse-keyed"
            )
            continue
        meaningful_brown = meaningful_brown or two_items
        parts.append(
            f"{escape(scale_label(row['scale'], instrument))}: "
            + (f"Spearman–Brown ρ = {bounded(brown)} (two items; " if two_items else "")
            + f"α = {bounded(row['alpha'])} [{bounded(row['ci_low'])}, {bounded(row['ci_high'])}]"
            + (")" if two_items else f", ω = {bounded(row['omega'])}")
            + f" (n = {row['n']})"
        )
    computed = allr.dropna(subset=["alpha"])
    weak = (
        computed[computed["alpha"] < 0.7]["scale"]
        .map(lambda s: scale_label(s, instrument))
        .tolist()
    )
    missing = allr[allr["alpha"].isna()]["scale"].map(lambda s: scale_label(s, instrument)).tolist()
    if computed.empty:
        verdict_text = "No alpha could be computed."
    elif not weak:
        verdict_text = (
            "Every scale with an alpha reaches the usual .70 threshold for group comparisons."
            if missing
            else "Every scale reaches the usual .70 threshold for group comparisons."
        )
    else:
        verdict_text = f"Below .70, read with care: {', '.join(escape(w) for w in weak)}."
    if missing:
        verdict_text += (
            f" Not computed (see the table's note): {', '.join(escape(m) for m in missing)}."
        )
    if meaningful_brown:
        verdict_text += (
            " For a two-item scale the Spearman–Brown coefficient, not alpha, is the recommended "
            "reliability (Eisinga, Te Grotenhuis & Pelzer, 2013)."
        )
    return f"**{escape(instrument.title)}.** " + "; ".join(parts) + ". " + verdict_text


def weak_items_sentence(items: pd.DataFrame, threshold: float = 0.3, instruments=()) -> str:
    """The items whose item-rest correlation is below ``threshold``, or that none is.

    An item belongs to its subscale and to the total, so it can be weak in both: it is counted once
    and listed once, with every scale it is weak in, named by the scale's label when its instrument
    is among ``instruments`` (the study's instruments), else by the scale's id.

    Examples
    --------
    >>> weak_items_sentence(pd.DataFrame({"item": ["A"], "scale": ["s"], "item_rest_r": [0.5]}))
    'No item has an item-rest correlation below .30.'
    >>> weak_items_sentence(pd.DataFrame({"item": ["A", "A"], "scale": ["s", "t"],
    ...                                   "item_rest_r": [0.1, 0.2]}))
    '1 item has an item-rest correlation below .30: A (s; t).'
    """
    weak = items[items["item_rest_r"] < threshold]
    if weak.empty:
        return f"No item has an item-rest correlation below {bounded(threshold)}."
    by_id = {inst.id: inst for inst in instruments}
    keys = ["instrument", "item"] if "instrument" in weak else ["item"]
    listed = []
    for key, rows in weak.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        inst = by_id.get(key[0]) if len(key) == 2 else None
        names = [scale_label(sc, inst) if inst is not None else sc for sc in rows["scale"]]
        listed.append(f"{escape(key[-1])} ({'; '.join(escape(x) for x in dict.fromkeys(names))})")
    return (
        f"{plural(len(listed), 'item')} {verb(len(listed), 'has', 'have')} an item-rest "
        f"correlation below {bounded(threshold)}: {', '.join(listed)}."
    )


# ---- 03 comparisons ------------------------------------------------------------------------------


def _mean_phrase(row) -> str:
    return (
        f"{fmt_num(row['mean_marketing'])} for marketing against {fmt_num(row['mean_sales'])} "
        "for sales"
    )


def scale_sentences(table: pd.DataFrame, instrument, alpha: float = 0.05) -> str:
    """One bullet per scale: the direction and size in words, its significance at ``alpha``, then
    the APA figures."""
    lines = []
    for row in table.to_dict("records"):
        name = escape(scale_label(row["scale"], instrument))
        if pd.isna(row["statistic"]):
            lines.append(
                f"- **{name}**: not computed "
                f"({escape(row.get('note') or 'too few respondents in one function')})."
            )
            continue
        side = higher_side(row["mean_marketing"] - row["mean_sales"])
        who = (
            f"{side.capitalize()} rates it higher" if side else "Both functions have the same mean"
        )
        lines.append(
            f"- **{name}**: {who} ({_mean_phrase(row)}), a "
            f"{size_word('hedges-g', row['effect_size'])} difference, "
            f"{verdict(row['p_holm'], alpha, 'Holm-adjusted p')}; {apa_t(row, fractional=True)} "
            f"[{fmt_num(row['ci_low'])}, {fmt_num(row['ci_high'])}]."
        )
    return "\n".join(lines)


def _possessive(side: str) -> str:
    """``marketing's``, ``sales'`` (a noun ending in s takes the apostrophe alone)."""
    return f"{side}'" if side.endswith("s") else f"{side}'s"


def item_sentence(table: pd.DataFrame, alpha: float = 0.05, instrument=None) -> str:
    """How many items differ at ``alpha`` after Holm, and the largest difference (keyed values said
    as such)."""
    tested = table[table["p"].notna()]
    if tested.empty:
        return "No item could be compared."
    n_holm = int((tested["p_holm"] < alpha).sum())
    n_bh = int((tested["p_bh"] < alpha).sum()) if "p_bh" in tested else None
    top = tested.loc[tested["effect_size"].abs().idxmax()]
    head = (
        f"{count_of(n_holm, len(tested), 'item')} {verb(n_holm, 'differs', 'differ')} between the "
        f"functions at α = {fmt_alpha(alpha)} after Holm's adjustment"
        + (f" ({n_bh} by Benjamini–Hochberg)." if n_bh is not None else ".")
    )
    if is_tie(top["effect_size"]):
        return head + " No item shows any difference in the ranks of the answers."
    item_id = str(top["item"])
    name = escape(item_label(item_id, instrument)) if instrument is not None else escape(item_id)
    reverse = instrument is not None and any(
        it.id == item_id and it.reverse for it in instrument.items
    )
    keyed_note = (
        " (a reverse-keyed item: its values are turned round, so higher means a closer "
        "relationship)"
        if reverse
        else ""
    )
    return (
        head + f" The largest difference is on {name}{keyed_note}: "
        f"{_possessive(higher_side(top['effect_size']))} "
        f"{'keyed ' if reverse else ''}answers are higher, rank-biserial r = "
        f"{bounded(top['effect_size'])} [{bounded(top['ci_low'])}, {bounded(top['ci_high'])}], U = "
        f"{fmt_num(top['statistic'], 1)}, {fmt_p(top['p'], 'unadjusted p')}, "
        f"{fmt_p(top['p_holm'], 'Holm-adjusted p')}."
    )


def dyad_sentences(table: pd.DataFrame, instrument, alpha: float = 0.05) -> str:
    lines = []
    for row in table.to_dict("records"):
        name = escape(scale_label(row["scale"], instrument))
        if pd.isna(row["statistic"]):
            lines.append(
                f"- **{name}**: not computed "
                f"({plural(int(row['n_pairs']), 'matched company', 'matched companies')})."
            )
            continue
        side = higher_side(row["mean_diff"])
        who = (
            f"within the same company, {side} rates it higher by {fmt_num(abs(row['mean_diff']))} "
            f"on "
            "average"
            if side
            else "within the same company, the two functions' mean scores are the same"
        )
        lines.append(
            f"- **{name}**: {who} over {plural(int(row['n_pairs']), 'company', 'companies')}, "
            f"a {size_word('cohen-dz', row['effect_size'])} difference, "
            f"{verdict(row['p_holm'], alpha, 'Holm-adjusted p')}; {apa_t(row, 'd_z')} "
            f"[{fmt_num(row['ci_low'])}, {fmt_num(row['ci_high'])}]; Wilcoxon W = "
            f"{fmt_num(row['wilcoxon_statistic'], 1)}, {fmt_p(row['wilcoxon_p'])}."
        )
    return "\n".join(lines)


def agreement_sentence(table: pd.DataFrame, instrument) -> str:
    lines = []
    for row in table.to_dict("records"):
        if pd.isna(row["r"]):
            continue
        covered = int(row.get("rwg_companies") or 0)
        lines.append(
            f"- **{escape(scale_label(row['scale'], instrument))}**: partner r = "
            f"{bounded(row['r'])} ({fmt_p(row['r_p'])}), ICC(1) = {bounded(row['icc1'])} "
            f"[{bounded(row['icc1_ci_low'])}, {bounded(row['icc1_ci_high'])}]; median r_wg(j) = "
            f"{bounded(row['rwg_median'])} over {plural(covered, 'company', 'companies')} with two "
            f"or more raters, {share(row['rwg_share_70'])} of them at or above .70."
        )
    if not lines:
        return "Too few matched companies to assess agreement within companies."
    head = (
        "A high partner correlation means the two functions order companies alike; ICC(1) also "
        "asks that they give the same level. r_wg(j) asks whether a company's respondents answer "
        "the items alike (1 = identical), against random answering; it grows with the number of "
        "items, so a high r_wg(j) on a long scale can sit beside a clear gap in the two functions' "
        "totals."
    )
    return head + "\n\n" + "\n".join(lines)


def bland_altman_sentence(limits: dict) -> str:
    if not limits or not limits.get("n_pairs"):
        return "No matched companies: no Bland–Altman analysis."
    n = limits["n_pairs"]
    if n < 2 or pd.isna(limits.get("sd")):
        return f"Only {plural(n, 'matched company', 'matched companies')}: no limits of agreement."
    side = higher_side(limits["bias"])
    mean_text = (
        f"{side} rates the relationship {fmt_num(abs(limits['bias']), 1)} points higher on average"
        if side
        else "the two functions rate the relationship the same on average"
    )
    ci = ""
    if "bias_ci_low" in limits:
        ci = (
            f" (95% interval of the mean gap {fmt_num(limits['bias_ci_low'], 1)} to "
            f"{fmt_num(limits['bias_ci_high'], 1)})"
        )
    low_ci = high_ci = ""
    if not pd.isna(limits.get("loa_low_ci_low", float("nan"))):
        low_ci = (
            f" [{fmt_num(limits['loa_low_ci_low'], 1)}, {fmt_num(limits['loa_low_ci_high'], 1)}]"
        )
        high_ci = (
            f" [{fmt_num(limits['loa_high_ci_low'], 1)}, {fmt_num(limits['loa_high_ci_high'], 1)}]"
        )
    return (
        f"Across {plural(n, 'matched company', 'matched companies')}, {mean_text}{ci}; the limits "
        f"of agreement run from {fmt_num(limits['loa_low'], 1)}{low_ci} to "
        f"{fmt_num(limits['loa_high'], 1)}{high_ci} (95% intervals of each limit in brackets, "
        f"Bland & "
        "Altman, 1986), the range expected to hold 95% of companies' gaps if the gaps are roughly "
        "normal. A company outside them differs more than the usual spread."
    )


def kappa_sentence(result: dict) -> str:
    if not result or pd.isna(result.get("kappa_linear")):
        return "Too few matched companies to compare the functions' stages."
    return (
        "The two functions place their company in the same stage in "
        f"{share(result['exact_agreement'])} of "
        f"{plural(result['n_pairs'], 'company', 'companies')}; linearly weighted κ = "
        f"{bounded(result['kappa_linear'])} [{bounded(result['kappa_ci_low'])}, "
        f"{bounded(result['kappa_ci_high'])}]."
    )


def disagreement_sentence(rows: pd.DataFrame, what: str, model: str, n_failed: int = 0) -> str:
    if (
        "status" in rows
    ):  # rows the model could not be compared on are counted by n_failed, not listed
        rows = rows[rows["status"] == "disagreement"]
    failed = (
        f" The {model} could not be fitted for {plural(n_failed, what)}; see the table's note."
        if n_failed
        else ""
    )
    if rows.empty:
        return (
            f"Where the {model} was fitted, it agrees with the default tests on every {what}: same "
            f"direction, same verdict at the chosen level.{failed}"
        )
    listed = "; ".join(
        f"{escape(r[rows.columns[0]])}: {r['disagreement']}" for r in rows.to_dict("records")
    )
    return (
        f"The {model} and the default tests disagree on {plural(len(rows), what)}: {listed}. "
        f"Report both.{failed}"
    )


#: How a sentence names an effect size the tables carry by id.
EFFECT_NAMES = {
    "hedges-g": "Hedges' g",
    "cohen-d": "Cohen's d",
    "cohen-dz": "d_z",
    "cohen-h": "Cohen's h",
    "rank-biserial": "rank-biserial r",
}


def sensitivity_sentence(table: pd.DataFrame) -> str:
    if table.empty:
        return "Too few respondents in one function to say what the study could detect."
    alpha, power = table["alpha"].iloc[0], table["power"].iloc[0]
    parts = [
        f"{r['comparison']} ({r['n']}): {EFFECT_NAMES.get(r['effect'], r['effect'])} ≥ "
        f"{fmt_num(r['min_detectable'])}"
        for r in table.to_dict("records")
    ]
    return (
        f"With {power:.0%} power at α = {fmt_alpha(alpha)} (two-sided), the study can detect "
        "effects of about: "
        + "; ".join(parts)
        + ". Smaller true differences may go unseen; a non-significant result is not evidence "
        "of no difference."
    )


def gap_sentences(gaps: pd.DataFrame, alpha: float = 0.05, labels: dict | None = None) -> str:
    labels = labels or {}
    lines = []
    for row in gaps.to_dict("records"):
        if not significant(row["p_holm"], alpha) or is_tie(row["gap"]):
            continue
        dim = escape(labels.get(row["dimension"], str(row["dimension"]).replace("_", " ")))
        own = row["rated_function"]
        other = "sales" if own == "marketing" else "marketing"
        direction = "higher" if row["gap"] > 0 else "lower"
        lines.append(
            f"- {own.capitalize()} rates itself {direction} than {other} rates it on *{dim}* "
            f"({fmt_num(row['self_view'])} against {fmt_num(row['other_view'])}; "
            f"t({fmt_df(row['df'], fractional=True)}) = {fmt_num(row['statistic'])}, "
            f"{fmt_p(row['p_holm'], 'Holm-adjusted p')}, g = {fmt_num(row['effect_size'])})."
        )
    if lines:
        return (
            f"Self- and other-views that differ at α = {fmt_alpha(alpha)} after Holm's "
            "adjustment:\n" + "\n".join(lines)
        )
    return (
        f"No self- and other-view differs at α = {fmt_alpha(alpha)} after Holm's adjustment; that "
        "does not show that the two functions see each other alike."
    )


def assumption_words(row: dict, alpha: float = 0.05) -> str:
    """The assumption checks of one scale (Shapiro-Wilk, Levene, outliers) in words."""
    notes = []
    for role in ROLES:
        p = row.get(f"shapiro_p_{role}")
        n = row.get(f"n_{role}", 0) or 0
        if p is not None and not pd.isna(p) and p < alpha:
            notes.append(
                f"{role} scores depart from a normal shape (Shapiro-Wilk p = {bounded(p, 3)})"
                + (
                    "; with 30 or more respondents the t-test is still robust"
                    if n >= 30
                    else "; with fewer than 30 respondents, lean on the rank test beside it"
                )
            )
    lev = row.get("levene_p")
    if lev is not None and not pd.isna(lev) and lev < alpha:
        notes.append(
            f"the two functions' spreads differ (Levene p = {bounded(lev, 3)}); Welch's test does "
            "not assume equal spreads"
        )
    n_out = int(row.get("outliers_marketing", 0) or 0) + int(row.get("outliers_sales", 0) or 0)
    if n_out:
        notes.append(
            f"{plural(n_out, 'score')} {verb(n_out, 'lies', 'lie')} more than 3 SD from their "
            "group's mean"
        )
    if not notes:
        return (
            f"No check flags a concern at α = {fmt_alpha(alpha)}: no departure from normality or "
            "from equal spreads was detected, and no score lies beyond 3 SD."
        )
    text = "; ".join(notes)
    return text[:1].upper() + text[1:] + "."


# ---- 04 interviews -------------------------------------------------------------------------------


def theme_sentences(table: pd.DataFrame, unit: str = "interviews", alpha: float = 0.05) -> str:
    """The themes whose prevalence differs by role at ``alpha`` after Holm, in words; then the
    unadjusted ones."""
    tested = table[table["p"].notna()]
    if tested.empty:
        return f"No theme could be compared: one function has no {unit}."
    lines = []
    for row in tested.sort_values("p").to_dict("records"):
        if not significant(row["p_holm"], alpha) or is_tie(row["effect_size"]):
            continue
        more = higher_side(row["share_marketing"] - row["share_sales"]).capitalize()
        lines.append(
            f"- **{escape(row['label'])}**: {more} raises it more often "
            f"({share(row['share_marketing'])} of {row[f'{unit}_marketing']} marketing and "
            f"{share(row['share_sales'])} of {row[f'{unit}_sales']} sales {unit}; Fisher's exact "
            f"{fmt_p(row['p'], 'unadjusted p')}, {fmt_p(row['p_holm'], 'Holm-adjusted p')}, h = "
            f"{fmt_num(row['effect_size'])})."
        )
    n = len(tested)
    if lines:
        head = (
            f"Themes whose prevalence differs between the functions at α = {fmt_alpha(alpha)} "
            f"after Holm's adjustment over {plural(n, 'theme')}:"
        )
    else:
        head = (
            f"No theme's prevalence differs between the functions at α = {fmt_alpha(alpha)} after "
            f"Holm's adjustment over {plural(n, 'theme')}; that does not show that the two "
            "functions raise the same themes."
        )
    nominal = tested[(tested["p"] < alpha) & (tested["p_holm"] >= alpha)]
    tail = ""
    if len(nominal):
        tail = (
            "\n\nBelow α before the adjustment only (exploratory, could be chance): "
            + ", ".join(escape(x) for x in nominal["label"])
            + "."
        )
    return head + ("\n" + "\n".join(lines) if lines else "") + tail


def coder_sentence(pairs: pd.DataFrame, kripp: pd.DataFrame, labels: dict | None = None) -> str:
    if pairs.empty:
        return (
            "The study has no manual codes from two or more coders, so agreement between human "
            "coders cannot be assessed."
        )
    k = pairs["kappa"].dropna()
    if k.empty:
        return "No theme varied enough among the shared segments for Cohen's κ to be computed."
    assessed = pairs.dropna(subset=["kappa"])
    low = [(labels or {}).get(t, t) for t in assessed[assessed["kappa"] < 0.6]["theme"].unique()]
    n_missing = pairs["kappa"].isna().sum()
    alpha_text = (
        f"; Krippendorff's α across all coders has median {bounded(kripp['alpha'].median())}"
        if len(kripp) and kripp["alpha"].notna().any()
        else ""
    )
    text = (
        f"Over up to {plural(int(pairs['units'].max()), 'shared segment')}, Cohen's κ per theme "
        f"ranges from {bounded(k.min())} to {bounded(k.max())} (median "
        f"{bounded(k.median())}){alpha_text}. "
    )
    text += (
        "Below .60 (moderate or worse; refine the code definitions): "
        f"{', '.join(escape(t) for t in low)}."
        if low
        else "Every theme with a κ reaches at least .60."
    )
    if n_missing:
        text += (
            " κ could not be computed for "
            f"{plural(int(n_missing), 'theme and coder pair', 'theme and coder pairs')} "
            "(no variation)."
        )
    return text


# ---- 05 companies --------------------------------------------------------------------------------


def company_overview(summary: pd.DataFrame, instrument) -> str:
    s = summary[summary["instrument"] == instrument.id]
    if s.empty:
        return "No company could be scored."
    counts = s["band"].value_counts()
    bands = [b["label"] for b in instrument.total["bands"]]
    listed = ", ".join(f"{int(counts.get(b, 0))} {escape(b)}" for b in bands)
    unbanded = int(s["band"].isna().sum())
    gaps = s["gap"].dropna()
    wide = int((gaps.abs() >= 10).sum())
    both = len(gaps)
    text = (
        f"Of {plural(len(s), 'company', 'companies')}: {listed}"
        + (f", {unbanded} without a score" if unbanded else "")
        + "."
    )
    if both == 0:
        return text + " No company has scores from both functions, so no gap can be computed."
    up, down = int((gaps > 0).sum()), int((gaps < 0).sum())
    return (
        text
        + f" In {plural(both, 'company', 'companies')} both functions have a score; in {wide} of "
        f"them the two functions' totals are at least 10 points apart. "
        + who_higher_count(up, down, both)
    )


def who_higher_count(marketing_higher: int, sales_higher: int, n: int) -> str:
    """Which function scores higher in how many companies, ties named.

    Examples
    --------
    >>> who_higher_count(30, 7, 38)  # doctest: +NORMALIZE_WHITESPACE
    'Marketing gives the higher score in 30 of 38 companies, sales in 7, and the two are equal
    in 1.'
    """
    ties = n - marketing_higher - sales_higher
    text = (
        "Marketing gives the higher score in "
        f"{count_of(marketing_higher, n, 'company', 'companies')}, sales in {sales_higher}"
    )
    return text + (f", and the two are equal in {ties}." if ties else ".")


_ACTION_WORDS = {
    "move": "should move to a closer stage",
    "stay": "can stay at its stage",
    "attend": "has a point to attend to before any move",
}


def explain_company(row: dict, evaluation: pd.DataFrame, action: str) -> str:
    """A company's diagnosis and one fired rule of the given action, in words, with the conditions
    that held."""
    fired = evaluation[
        (evaluation["company_id"] == row["company_id"])
        & (evaluation["status"] == "fires")
        & (evaluation["action"] == action)
    ]
    if fired.empty:
        return ""
    rule = fired.iloc[0]
    sides = []
    for role in ROLES:
        total = row.get(f"total_{role}")
        if total is not None and not pd.isna(total):
            sides.append(f"{role} {fmt_num(total, 0)} ({escape(row.get(f'band_{role}'))})")
    moves = "\n".join(f"  - {escape(m)}" for m in str(rule["moves"]).split(" | ") if m)
    held = rule.get("held", "")
    because = f" It holds because {escape(held)}." if held else ""
    circumstance = escape(rule["circumstance"][:1].lower() + rule["circumstance"][1:])
    return (
        f"**{escape(row['company_id'])}** is **{escape(row['band'])}** (total "
        f"{fmt_num(row['total'], 0)}: "
        f"{', '.join(sides)}). It {_ACTION_WORDS.get(action, action)}: rule "
        f"`{escape(rule['rule'])}` applies to this circumstance: {circumstance}{because}"
        + (f"\nRecommended:\n{moves}" if moves else "")
    )


def rule_counts_sentence(evaluation: pd.DataFrame) -> str:
    if evaluation.empty:
        return "No decision table was applied."
    fired = evaluation[evaluation["status"] == "fires"]
    by_action = fired.groupby("action")["company_id"].nunique()
    n = evaluation["company_id"].nunique()
    unknown = evaluation[evaluation["status"] == "not assessable"]
    kinds = [
        (int(by_action.get(action, 0)), words)
        for action, words in (
            ("move", "a *move* recommendation"),
            ("stay", "a *stay* recommendation"),
            ("attend", "a point to attend to first"),
        )
    ]
    kinds = [(k, words) for k, words in kinds if k]  # a kind no company gets is not listed
    if not kinds:
        text = "No company gets a recommendation."
    else:
        (k, words), rest = kinds[0], kinds[1:]
        parts = [f"{count_of(k, n, 'company', 'companies')} {verb(k, 'gets', 'get')} {words}"]
        text = "; ".join(parts + [f"{k} {words}" for k, words in rest]) + "."
    if len(unknown):
        k = unknown["company_id"].nunique()
        text += (
            f" {plural(len(unknown), 'rule check')} in {plural(k, 'company', 'companies')} "
            f"{verb(len(unknown))} **not assessable** because the study lacks what the rule needs "
            "(or the company left it blank); they are listed, never guessed."
        )
    return text


# ---- 06 the manager summary ----------------------------------------------------------------------


def _difference_words(p, alpha: float, more: str = "companies") -> str:
    """Significance in plain words; ``more`` names what more of would settle a difference that
    could be chance (``companies``, ``interviews``, ``respondents``)."""
    sig = significant(p, alpha)
    if sig:
        return (
            f"unlikely to be chance alone (at the {fmt_alpha(alpha)} level, allowing for the "
            "number of comparisons)"
        )
    return f"not clear enough to rule out chance; more {more} would be needed to be sure either way"


def dyad_plain(row, alpha: float, scale_name: str) -> tuple[str, str]:
    """Title and plain sentence for the matched-company gap on the main scale (no statistic
    names)."""
    n = int(row["n_pairs"])
    side = higher_side(row["mean_diff"])
    size = size_word("cohen-dz", row["effect_size"])
    if side is None:
        return (
            "Within the same company, the two heads' scores are the same on average",
            f"Over {plural(n, 'matched company', 'matched companies')}, marketing and sales give "
            f"the same {escape(scale_name)} score on average.",
        )
    sig = significant(row["p_holm"], alpha)
    title = (
        f"Within the same company, {side} rates the relationship higher"
        if sig
        else f"Within the same company, {side} rates the relationship somewhat higher, but this "
        "could be chance"
    )
    text = (
        f"Over {plural(n, 'company', 'companies')} where both heads answered, {side} gives a "
        f"{escape(scale_name)} score {fmt_num(abs(row['mean_diff']), 1)} points higher on average: "
        f"a "
        f"{size} difference, {_difference_words(row['p_holm'], alpha)}."
    )
    return title, text


def headline_plain(row, alpha: float, scale_name: str, n_matched: int) -> tuple[str, str]:
    """Title and plain sentence for the design-respecting comparison of the main scale (no statistic
    names)."""
    side = higher_side(row["estimate"])
    if side is None:
        return (
            "The two functions' estimated scores are the same",
            f"Marketing and sales give the same {escape(scale_name)} score on average.",
        )
    sig = significant(row["p_holm"], alpha)
    title = (
        f"Within the same companies, {side} rates the relationship higher"
        if sig
        else f"Within the same companies, {side} rates the relationship somewhat higher, but this "
        "could be chance"
    )
    text = (
        "Comparing the two functions within their companies "
        f"({plural(int(row['n_companies']), 'company', 'companies')}, "
        f"{plural(int(row['n_respondents']), 'respondent')}), {side} gives a {escape(scale_name)} "
        f"score {fmt_num(abs(row['estimate']), 1)} points higher on average (95% interval "
        f"{fmt_num(abs(row['ci_low']), 1)} to {fmt_num(abs(row['ci_high']), 1)} in that "
        f"direction), "
        f"{_difference_words(row['p_holm'], alpha)}."
        if (row["ci_low"] > 0) == (row["ci_high"] > 0)
        else "Comparing the two functions within their companies "
        f"({plural(int(row['n_companies']), 'company', 'companies')}, "
        f"{plural(int(row['n_respondents']), 'respondent')}), {side} gives a {escape(scale_name)} "
        f"score {fmt_num(abs(row['estimate']), 1)} points higher on average, "
        f"{_difference_words(row['p_holm'], alpha)}."
    )
    if n_matched:
        text += (
            f" {plural(n_matched, 'company', 'companies')} {verb(n_matched, 'has', 'have')} "
            "scores from both heads."
        )
    return title, text


def largest_scale_plain(row, alpha: float, scale_name: str) -> tuple[str, str]:
    side = higher_side(row["mean_marketing"] - row["mean_sales"])
    if side is None:
        return (
            f"No side rates {escape(scale_name)} higher",
            "Both functions give it the same mean.",
        )
    size = size_word("hedges-g", row["effect_size"])
    title = f"The largest standardised difference between the sides is on {escape(scale_name)}"
    text = (
        f"{side.capitalize()} rates {escape(scale_name)} higher ({_mean_phrase(row)}, "
        f"{plural(int(row['n_marketing']), 'marketing respondent')} and "
        f"{plural(int(row['n_sales']), 'sales respondent')}): a {size} difference, "
        f"{_difference_words(row['p_holm'], alpha, 'respondents')}. Of the subscales, this is the "
        f"largest standardised difference (Hedges' g = {fmt_num(row['effect_size'])}: the gap "
        "over the spread of the scores), not necessarily the largest gap in points."
    )
    return title, text


def _theme_counts(row) -> str:
    """``1 of 1 marketing interview raises short-term focus, against 0 of 1 sales interview``."""
    more = higher_side(row["share_marketing"] - row["share_sales"])
    less = "sales" if more == "marketing" else "marketing"
    k_more, n_more = int(row[f"with_theme_{more}"]), int(row[f"interviews_{more}"])
    k_less, n_less = int(row[f"with_theme_{less}"]), int(row[f"interviews_{less}"])
    return (
        f"{count_of(k_more, n_more, more + ' interview')} {verb(k_more, 'raises', 'raise')} "
        f"{escape(str(row['label']).lower())}, against "
        f"{count_of(k_less, n_less, less + ' interview')}"
    )


def _listed(names: list[str], most: int = 3) -> str:
    """``A, B and C``; beyond ``most`` names, ``A, B, C and 8 more``."""
    names = [escape(x) for x in names]
    if len(names) > most:
        return ", ".join(names[:most]) + f" and {len(names) - most} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def themes_tied_plain(rows: pd.DataFrame, alpha: float) -> tuple[str, str]:
    """Title and plain sentence when several themes share the largest difference between the
    sides: the tie is named, no theme is singled out.

    Examples
    --------
    >>> rows = pd.DataFrame({"label": ["A", "B"], "share_marketing": [1.0, 0.0],
    ...     "share_sales": [0.0, 1.0], "with_theme_marketing": [1, 0], "with_theme_sales": [0, 1],
    ...     "interviews_marketing": [1, 1], "interviews_sales": [1, 1],
    ...     "effect_size": [3.14, -3.14], "p_holm": [1.0, 1.0]})
    >>> themes_tied_plain(rows, 0.05)[0]
    '2 themes differ equally between the sides, but this could be chance'
    """
    n = len(rows)
    sig = all(significant(p, alpha) for p in rows["p_holm"])
    title = f"{n} themes differ equally between the sides" + (
        "" if sig else ", but this could be chance"
    )
    sides = rows["share_marketing"] - rows["share_sales"]
    n_mkt, n_sales = int((sides > 0).sum()), int((sides < 0).sum())
    counts = rows[
        ["with_theme_marketing", "with_theme_sales", "interviews_marketing", "interviews_sales"]
    ]
    if len(counts.drop_duplicates()) == 1:
        r = rows.iloc[0].to_dict()
        mkt = count_of(
            int(r["with_theme_marketing"]), int(r["interviews_marketing"]), "marketing interview"
        )
        sales = count_of(int(r["with_theme_sales"]), int(r["interviews_sales"]), "sales interview")
        each = f"each is raised in {mkt} against {sales}"
    else:
        each = f"marketing raises {n_mkt} of them more often, sales {n_sales}"
    p_worst = rows["p_holm"].max()
    text = (
        f"{n} themes differ between the sides by the same, largest amount "
        f"({_listed(rows['label'].astype(str).tolist())}): {each}; a "
        f"{size_word('cohen-h', rows['effect_size'].iloc[0])} difference, "
        f"{_difference_words(p_worst, alpha, 'interviews')}. No one of them stands out from the "
        "others."
    )
    return escape(title), text


def theme_plain(row, alpha: float) -> tuple[str, str]:
    more = higher_side(row["share_marketing"] - row["share_sales"])
    sig = significant(row["p_holm"], alpha)
    title = (
        f"In interviews, {more} raises “{escape(row['label'])}” more often"
        if sig
        else f"In interviews, {more} raises “{escape(row['label'])}” more often, but this could "
        "be chance"
    )
    text = (
        f"{_theme_counts(row)}: a {size_word('cohen-h', row['effect_size'])} difference, "
        f"{_difference_words(row['p_holm'], alpha, 'interviews')}. Of the themes, this is the "
        "largest difference between the sides."
    )
    return title, text


def advice_plain(evaluation: pd.DataFrame, summary: pd.DataFrame) -> tuple[str, str]:
    """How many companies each kind of advice applies to, and a sentence for every company."""
    n = summary["company_id"].nunique()
    fired = evaluation[evaluation["status"] == "fires"]
    move = fired[fired["action"] == "move"]["company_id"].nunique()
    stay = fired[fired["action"] == "stay"]["company_id"].nunique()
    attend = fired[fired["action"] == "attend"]["company_id"].nunique()
    none = n - fired["company_id"].nunique()
    title, text = _advice_counts(move, stay, attend, n)
    for action, words in (("move", "a move"), ("stay", "staying")):
        held = fired.loc[fired["action"] == action, "held"] if "held" in fired else pd.Series()
        if len(held):
            text += _reason_sentence(held, words)
    if none:
        text += (
            f" For {plural(none, 'company', 'companies')} no rule applies, or the study lacks what "
            "the rules need; report 05 lists each company with its reason."
        )
    return escape(title), text


def _advice_counts(move: int, stay: int, attend: int, n: int) -> tuple[str, str]:
    """The advice finding's title and first sentence; a kind of advice no company gets is left out.

    Examples
    --------
    >>> _advice_counts(2, 5, 2, 7)[0]
    '2 of 7 companies should move closer; 5 can stay where they are'
    >>> _advice_counts(0, 0, 2, 12)[0]
    'No company is advised to move or to stay; 2 of 12 companies have a point to attend to first'
    """
    attend_words = (
        f"{plural(attend, 'company', 'companies')} {verb(attend, 'has', 'have')} a point to attend "
        "to first (a large gap between the two heads, or only one side answered)"
    )
    if not (move or stay):
        title = "No company is advised to move or to stay" + (
            f"; {count_of(attend, n, 'company', 'companies')} {verb(attend, 'has', 'have')} a "
            "point to attend to first"
            if attend
            else ""
        )
        text = "The decision table advises neither a move nor staying for any company" + (
            f"; {attend_words}." if attend else "."
        )
        return title, text
    parts = [f"{count_of(move, n, 'company', 'companies')} should move closer"] if move else []
    if stay:
        where = "it is" if stay == 1 else "they are"
        parts.append(
            f"{stay} can stay where {where}"
            if move
            else f"{count_of(stay, n, 'company', 'companies')} can stay where {where}"
        )
    advised = (
        [f"a move to a closer stage for {plural(move, 'company', 'companies')}"] if move else []
    )
    if stay:
        advised.append(f"staying at the present stage for {plural(stay, 'company', 'companies')}")
    text = f"The decision table advises {' and '.join(advised)}" + (
        f"; {attend_words}." if attend else "."
    )
    return "; ".join(parts), text


def _reason_sentence(held: pd.Series, words: str) -> str:
    """The most common set of conditions behind one kind of advice; a tie is named as a tie.

    Examples
    --------
    >>> _reason_sentence(pd.Series(["a", "b"]), "a move")
    ' No reason for a move is more common than another: each of the 2 cases rests on its own.'
    >>> _reason_sentence(pd.Series(["a", "a", "b", "b", "c"]), "staying")
    ' 2 reasons for staying are equally common (2 of 5 cases each); report 05 lists them.'
    >>> _reason_sentence(pd.Series(["a"]), "a move")
    ' The reason for a move: a (1 of 1 case).'
    """
    counts = held.value_counts()
    top = int(counts.iloc[0])
    tied = int((counts == top).sum())
    n = int(held.size)
    if tied == 1:
        lead = "The reason" if n == 1 else "The most common reason"
        return f" {lead} for {words}: {escape(counts.index[0])} ({count_of(top, n, 'case')})."
    if top == 1:
        return (
            f" No reason for {words} is more common than another: each of the {n} cases rests on "
            "its own."
        )
    return (
        f" {tied} reasons for {words} are equally common ({top} of {n} cases each); report 05 "
        "lists them."
    )


def thought_world_plain(row, alpha: float, dimension: str) -> tuple[str, str]:
    own = row["rated_function"]
    other = "sales" if own == "marketing" else "marketing"
    sig = significant(row["p_holm"], alpha)
    if is_tie(row["gap"]):
        return ("Each side sees the other as it sees itself on every trait", "")
    direction = "higher" if row["gap"] > 0 else "lower"
    title = (
        f"{own.capitalize()} sees its own {escape(dimension.lower())} differently from how {other} "
        "sees it" + ("" if sig else ", but this could be chance")
    )
    text = (
        f"On {escape(dimension.lower())}, {own} rates itself {direction} "
        f"({fmt_num(row['self_view'], 1)}) "
        f"than {other} rates it ({fmt_num(row['other_view'], 1)}): a "
        f"{size_word('hedges-g', row['effect_size'])} difference, "
        f"{_difference_words(row['p_holm'], alpha, 'respondents')}."
    )
    return title, text


def holm_note(alpha: float) -> str:
    return (
        "How to read these findings: differences are marketing minus sales; “unlikely to be "
        f"chance” means significant at α = {fmt_alpha(alpha)} after allowing for the number of "
        "comparisons made (Holm's method). A difference that could be chance is not evidence that "
        "the two sides agree."
    )


# ---- issue-13 comparisons: DIF, invariance, congruence -------------------------------------------


def _dif_not_fitted(rows: pd.DataFrame) -> str:
    """The items the DIF models could not be fitted for, each with its reason (the ``note``).

    Examples
    --------
    >>> _dif_not_fitted(pd.DataFrame({"item": ["S18"], "note": ["M3: a coefficient beyond +-25"]}))
    ' The models could not be fitted for S18 (M3: a coefficient beyond ±25).'
    """
    if rows.empty:
        return ""
    notes = rows["note"] if "note" in rows else pd.Series([""] * len(rows), index=rows.index)
    notes = notes.fillna("").astype(str).str.replace("+-", "±", regex=False)
    parts = []
    for note, group in rows.groupby(notes.to_numpy(), sort=False):
        who = _listed(group["item"].astype(str).tolist())
        parts.append(f"{who} ({escape(note)})" if note else f"{who} (no reason recorded)")
    return f" The models could not be fitted for {'; '.join(parts)}."


def dif_sentence(table: pd.DataFrame, instrument, alpha: float = 0.05) -> str:
    """The items flagged by the DIF screen at ``alpha`` after Holm, with the direction of the
    uniform part."""
    part = table[table["instrument"] == instrument.id]
    tested = part[part["omnibus_p"].notna()]
    tail = _dif_not_fitted(part[part["omnibus_p"].isna()])
    if tested.empty:
        return f"**{escape(instrument.title)}.** No item could be screened.{tail}"
    flagged = tested[tested["p_holm"] < alpha]
    head = (
        f"**{escape(instrument.title)}.** {count_of(len(flagged), len(tested), 'item')} "
        f"{verb(len(flagged), 'functions', 'function')} differently for the two functions at α = "
        f"{fmt_alpha(alpha)} after Holm's adjustment"
    )
    if flagged.empty:
        return (
            head + "; that is no proof that every item works alike, only that the screen found no "
            "difference it could tell from chance." + tail
        )
    listed = []
    for row in flagged.to_dict("records"):
        side = higher_side(row.get("uniform_coef"))
        how = (
            f"{side} answers higher than sales at the same level of the rest of its scale"
            if side == "marketing"
            else "sales answers higher than marketing at the same level of the rest of its scale"
            if side == "sales"
            else "the two functions answer it differently"
        )
        listed.append(
            f"{escape(item_label(row['item'], instrument))} ({how}; "
            f"{fmt_p(row['p_holm'], 'Holm-adjusted p')})"
        )
    return (
        head
        + ": "
        + "; ".join(listed)
        + ". A mean difference on such an item mixes a difference in the "
        "relationship with a difference in how the item is read." + tail
    )


#: Chen (2007): a drop in CFI of more than .01 signals non-invariance.
DELTA_CFI_LIMIT = -0.01
#: The configural model must fit acceptably before equality constraints mean anything (CFI of at
#: least .90; Hu & Bentler, 1999, recommend .95 for good fit).
CONFIGURAL_CFI_MIN = 0.90


def invariance_levels(table: pd.DataFrame) -> dict[str, str]:
    """For each instrument, the highest level of invariance supported: ``scalar``, ``metric``,
    ``configural`` (only the configural model fits or the next level fails Chen's ΔCFI criterion) or
    ``not assessed``."""
    out = {}
    for inst, part in table.groupby("instrument", sort=False):
        rows = part.set_index("level")
        level = "not assessed"
        if "configural" in rows.index and pd.notna(rows.loc["configural", "cfi"]):
            level = "configural"
            if rows.loc["configural", "cfi"] < CONFIGURAL_CFI_MIN:
                out[inst] = "poor configural fit"
                continue
            for nxt in ("metric", "scalar"):
                if (
                    nxt in rows.index
                    and pd.notna(rows.loc[nxt, "delta_cfi"])
                    and rows.loc[nxt, "delta_cfi"] >= DELTA_CFI_LIMIT
                ):
                    level = nxt
                else:
                    break
        out[inst] = level
    return out


def invariance_sentence(table: pd.DataFrame, instrument) -> str:
    """The three levels of measurement invariance in words, judged by ΔCFI ≥ −.01 (Chen, 2007)."""
    part = table[table["instrument"] == instrument.id].set_index("level")
    if part.empty:
        return f"**{escape(instrument.title)}.** Not tested (the instrument has no subscales)."
    conf = part.loc["configural"] if "configural" in part.index else None
    if conf is None or pd.isna(conf["cfi"]):
        reason = (
            escape(conf["note"])
            if conf is not None and conf["note"]
            else "the model could not be fitted"
        )
        return (
            f"**{escape(instrument.title)}.** The invariance models could not be fitted: {reason}."
        )
    text = _configural_fit(conf, instrument) + _equality_steps(part)
    level = invariance_levels(table).get(instrument.id)
    return text + " " + _invariance_meaning(level)


def _configural_fit(conf: pd.Series, instrument) -> str:
    """The configural model's fit in words, with its caution when it has one."""
    text = (
        f"**{escape(instrument.title)}.** The same factor structure in both functions (configural) "
        f"fits with CFI = {bounded(conf['cfi'], 3)}, RMSEA = {bounded(conf['rmsea'], 3)}, SRMR = "
        f"{bounded(conf['srmr'], 3)} (χ²({fmt_df(conf['df'])}) = {fmt_num(conf['chi2'], 1)}; "
        f"{int(conf['n_marketing'])} marketing and {int(conf['n_sales'])} sales respondents with "
        "every item answered)."
    )
    if str(conf["note"]).startswith("caution"):
        text += f" Caution: {escape(str(conf['note']).removeprefix('caution: '))}."
    return text


def _equality_steps(part: pd.DataFrame) -> str:
    """The metric and scalar steps in words, up to the first that is not assessed or fails."""
    names = {
        "metric": "equal loadings (metric)",
        "scalar": "equal loadings and intercepts (scalar)",
    }
    text = ""
    for level in ("metric", "scalar"):
        if level not in part.index:
            continue
        row = part.loc[level]
        if pd.isna(row["delta_cfi"]):
            text += (
                f" {names[level].capitalize()}: not assessed "
                f"({escape(row['note'] or 'not fitted')})."
            )
            break
        ok = row["delta_cfi"] >= DELTA_CFI_LIMIT
        text += (
            f" {names[level].capitalize()}: ΔCFI = {bounded(row['delta_cfi'], 3)} "
            f"({'within' if ok else 'beyond'} Chen's −.01), Δχ²({fmt_df(row['delta_df'])}) = "
            f"{fmt_num(row['delta_chi2'], 1)}, {fmt_p(row['delta_p'])}."
        )
        if not ok:
            break
    return text


def _invariance_meaning(level: str | None) -> str:
    """What the invariance level reached allows to compare between the functions."""
    meaning = {
        "scalar": "Scale means can be compared between the functions.",
        "metric": (
            "Relations (correlations, regressions) can be compared between the functions, but a "
            "difference in scale means may partly reflect how the items are read, not the "
            "relationship."
        ),
        "configural": (
            "Only the pattern of the scales is shared: compare the functions' scale means with "
            "caution."
        ),
        "poor configural fit": (
            f"The configural model itself fits poorly (CFI below {bounded(CONFIGURAL_CFI_MIN)}), "
            "so the equality tests say little; whether the scale means are comparable is not "
            "known."
        ),
    }
    return meaning.get(level, "")


def congruence_sentence(row: dict, alpha: float, instrument) -> str:
    """The response-surface result for one outcome in words, with the congruence checklist (Humberg
    et al., 2019)."""
    outcome = escape(str(row["outcome"]).replace("_", " "))
    if row.get("note") and pd.isna(row.get("a1")):
        return f"**{outcome}**: not estimated ({escape(row['note'])})."
    verdict_text = {
        "supported": "the pattern of a congruence effect is **supported**",
        "not supported": "the pattern of a congruence effect is **not supported**",
    }.get(row.get("congruence"), "the congruence checklist could not be completed")
    shape = (
        "falls" if row["a4"] < 0 else "rises"
    ) + " the further apart the two functions' totals are"
    return (
        f"**{outcome}** "
        f"({plural(int(row['n_companies']), 'matched company', 'matched companies')}, R² = "
        f"{bounded(row['r2'])}): along the line where the two heads disagree, the outcome {shape} "
        f"(a4 = {fmt_num(row['a4'], 3)}, {fmt_p(row['p_a4'])}); along the line where they agree it "
        f"changes "
        f"by a1 = {fmt_num(row['a1'], 3)} per point ({fmt_p(row['p_a1'])}); a3 = "
        f"{fmt_num(row['a3'], 3)} "
        f"({fmt_p(row['p_a3'])}). By the checklist of Humberg, Nestler and Back (2019) at α = "
        f"{fmt_alpha(alpha)}, {verdict_text}."
    )


def headline_sentences(table: pd.DataFrame, instrument, alpha: float = 0.05) -> str:
    """The design-respecting comparison per scale: which comparison and why, then the estimate in
    words. When every computed scale has the same design and reason, they are said once, before the
    list, not repeated on every line."""
    part = table[table["instrument"] == instrument.id]
    computed = part[part["estimate"].notna()] if "estimate" in part else part.iloc[:0]
    designs = computed[["design", "design_reason"]].drop_duplicates() if len(computed) else None
    once = designs is not None and len(designs) == 1
    lead = ""
    if once:
        design, reason = (str(x) for x in designs.iloc[0])
        named = "" if design.lower() in reason.lower() else f" ({escape(design)})"
        lead = f"Every scale is compared the same way{named}, because {escape(reason)}.\n\n"
    lines = []
    for row in part.to_dict("records"):
        name = escape(scale_label(row["scale"], instrument))
        if pd.isna(row.get("estimate")):
            lines.append(
                f"- **{name}**: not computed "
                f"({escape(row.get('note') or row.get('design_reason') or '')})."
            )
            continue
        side = higher_side(row["estimate"])
        low, high = (
            (row["ci_low"], row["ci_high"])
            if side != "sales"
            else (-row["ci_high"], -row["ci_low"])
        )
        what = (
            f"{side} rates it higher by {fmt_num(abs(row['estimate']))} (95% interval "
            f"{fmt_num(low)} to "
            f"{fmt_num(high)})"
            if side
            else "the two functions' estimated means are the same"
        )
        lines.append(
            f"- **{name}**: {what}, {verdict(row['p_holm'], alpha, 'Holm-adjusted p')}; "
            f"t({fmt_df(row['df'])}) = {fmt_num(row['t'])}"
            + ("." if once else f" ({escape(row['design'])}: {escape(row['design_reason'])}).")
        )
    return lead + "\n".join(lines)


def measurement_caveat(
    dif: pd.DataFrame, invariance: pd.DataFrame, instrument, alpha: float = 0.05
) -> str:
    """What the DIF screen and the invariance models (report 02) mean for comparing this
    instrument's means."""
    flagged = dif[(dif["instrument"] == instrument.id) & (dif["p_holm"] < alpha)]["item"].tolist()
    level = invariance_levels(invariance).get(instrument.id, "not assessed")
    parts = []
    if flagged:
        parts.append(
            f"{plural(len(flagged), 'item')} of {escape(instrument.title)} "
            f"{verb(len(flagged), 'functions', 'function')} differently for the two sides (DIF, "
            f"report 02): {', '.join(escape(i) for i in flagged)}; the differences on "
            f"{'it' if len(flagged) == 1 else 'them'} mix the relationship with how the item is "
            "read"
        )
    if level == "scalar":
        parts.append("scalar invariance holds, so the scale means can be compared")
    elif level == "poor configural fit":
        parts.append(
            "the factor model fits poorly in the two functions (report 02), so whether the scale "
            "means are comparable is not known"
        )
    elif level in ("metric", "configural"):
        parts.append(
            f"invariance reaches only the {level} level, so a difference in scale means may partly "
            "reflect how the items are read"
        )
    else:
        parts.append(
            "measurement invariance could not be assessed (report 02 says why), so whether the "
            "scale means are comparable is not known"
        )
    text = "; ".join(parts)
    return (
        f"**Reading the comparisons of {escape(instrument.title)}.** "
        + text[:1].upper()
        + text[1:]
        + "."
    )


def company_advice_lines(summary: pd.DataFrame, evaluation: pd.DataFrame, instrument) -> list[str]:
    """One sentence for every company: its stage, then each rule that fires with the conditions that
    held, in the rule's own action words; a company for which no rule fires, or only unassessable
    ones, says so."""
    lines = []
    ev = evaluation[evaluation["instrument"] == instrument.id] if len(evaluation) else evaluation
    for row in (
        summary[summary["instrument"] == instrument.id].sort_values("company_id").to_dict("records")
    ):
        name = escape(row["company_id"])
        stage = (
            f"is at the **{escape(row['band'])}** stage (total {fmt_num(row['total'], 0)})"
            if row.get("band") is not None and not pd.isna(row.get("band"))
            else "has no stage (no total score)"
        )
        mine = ev[ev["company_id"] == row["company_id"]] if len(ev) else ev
        fired = mine[mine["status"] == "fires"] if len(mine) else mine
        unknown = mine[mine["status"] == "not assessable"] if len(mine) else mine
        parts = [
            f"it {_ACTION_WORDS.get(r['action'], r['action'])} (rule `{escape(r['rule'])}`, "
            f"because {escape(r['held'] or 'its conditions hold')})"
            for r in fired.to_dict("records")
        ]
        if parts:
            text = f"**{name}** {stage}: " + "; ".join(parts) + "."
        else:
            text = f"**{name}** {stage}: no rule of the decision table applies."
        fields = (
            set("; ".join(unknown["not_assessable"]).split("; ")) - {""} if len(unknown) else set()
        )
        lacking = "; ".join(f"{field_words(f)} ({f})" for f in sorted(fields))
        if len(unknown):
            text += (
                f" Not assessable: {', '.join('`' + escape(r) + '`' for r in unknown['rule'])} "
                f"(not known for this company: {escape(lacking or 'a field the rule needs')})."
            )
        lines.append(text)
    return lines


def anova_type_sentence(
    type2: pd.DataFrame, type3: pd.DataFrame, labels: dict | None = None
) -> str:
    """Which sums of squares the ANOVA table uses, and where Type III (SPSS, afex) differs from
    it."""
    if type2.empty:
        return ""
    merged = type2.merge(type3, on=["instrument", "dimension", "source"], suffixes=("_2", "_3"))
    differs = merged[
        (merged["F_2"] - merged["F_3"]).abs() > 1e-6 * merged["F_2"].abs().clip(lower=1)
    ]
    text = (
        "The table uses Type II sums of squares (pingouin's mixed ANOVA); Type III, as SPSS and "
        "afex report them, is in `tables/thought_worlds_anova_type3.csv`."
    )
    if differs.empty:
        return text + " Here the two types give the same F for every term."
    listed = "; ".join(
        f"{escape((labels or {}).get(r['dimension'], r['dimension']))}, {escape(r['source'])}: "
        f"F = {fmt_num(r['F_2'])} (Type II) against "
        f"{fmt_num(r['F_3'])} (Type III)"
        for r in differs.to_dict("records")
    )
    return (
        text + f" They differ (unequal group sizes) for {plural(len(differs), 'term')}: {listed}."
    )
