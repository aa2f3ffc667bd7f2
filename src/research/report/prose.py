"""Plain-language and APA-style sentences built from result rows, for readers who never open Python."""

from __future__ import annotations

import math

import pandas as pd

from research.report.tables import escape


def fmt_p(p) -> str:
    """APA p-value: ``p = .032``, ``p < .001``; no leading zero.

    Examples
    --------
    >>> fmt_p(0.0321), fmt_p(0.00001), fmt_p(float("nan"))
    ('p = .032', 'p < .001', 'p not computed')
    """
    if p is None or pd.isna(p):
        return "p not computed"
    if p < 0.001:
        return "p < .001"
    return f"p = {p:.3f}".replace("0.", ".", 1)


def fmt_num(x, digits: int = 2) -> str:
    """A number for prose (``–`` when missing); drops the leading zero for values bounded by 1 is *not* done here."""
    if x is None or pd.isna(x):
        return "–"
    return f"{x:.{digits}f}"


def share(x) -> str:
    """A share as a whole percentage."""
    return "–" if x is None or pd.isna(x) else f"{100 * x:.0f}%"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def study_intro(study) -> str:
    r = study.respondents
    return (f"**{escape(study.name)}**: {plural(len(r), 'respondent')} from {plural(r['company_id'].nunique(), 'company', 'companies')}, "
            f"{plural(len(study.instruments), 'instrument')} ({', '.join(escape(i.title) for i in study.instruments)}), "
            f"{plural(len(study.interviews), 'interview')} read.")


def sample_sentence(sample: pd.DataFrame) -> str:
    get = sample.set_index("role")
    parts = []
    for role in ("marketing", "sales"):
        if role in get.index:
            row = get.loc[role]
            parts.append(f"{plural(int(row['respondents']), role + ' respondent')} ({int(row['with_survey'])} with survey answers, "
                         f"{plural(int(row['interviews']), 'interview')})")
    return "The study holds " + " and ".join(parts) + "."


def coverage_sentence(coverage: pd.DataFrame) -> str:
    by = coverage.groupby("coverage")["companies"].sum()
    both = int(by.get("both functions", 0))
    one = int(by.get("marketing only", 0) + by.get("sales only", 0))
    total = both + one
    return (f"{both} of {total} companies have answers from both functions and can be compared as matched pairs; "
            f"in {plural(one, 'company', 'companies')} only one side answered, so "
            f"{'it counts' if one == 1 else 'they count'} in the role comparisons but not in the paired ones.")


def quality_sentence(quality: pd.DataFrame) -> str:
    if quality.empty:
        return "No data-quality problems were found."
    counts = quality["problem"].value_counts()
    listed = ", ".join(f"{v} × `{k}`" for k, v in counts.items())
    return (f"{plural(len(quality), 'problem')} were found and handled as the table says ({listed}). "
            "The full list, one row per problem with the file, record and column, is in `tables/data_quality.csv`.")


def stage_sentence(counts: pd.DataFrame, instrument) -> str:
    if counts.empty:
        return ""
    parts = []
    for role, grp in counts.groupby("role"):
        top = grp.sort_values("n", ascending=False).iloc[0]
        parts.append(f"{role} respondents most often place the relationship at **{escape(top['band'])}** ({share(top['share'])})")
    return "; ".join(parts) + f" ({escape(instrument.title)})."


def effect_words(effect: str, size) -> str:
    """Conventional size words (Cohen) for an effect, e.g. ``small``."""
    if size is None or pd.isna(size):
        return "not computed"
    a = abs(size)
    cuts = {"hedges-g": (0.2, 0.5, 0.8), "cohen-dz": (0.2, 0.5, 0.8), "cohen-h": (0.2, 0.5, 0.8),
            "rank-biserial": (0.1, 0.3, 0.5)}.get(effect, (0.2, 0.5, 0.8))
    return "negligible" if a < cuts[0] else "small" if a < cuts[1] else "medium" if a < cuts[2] else "large"


def apa_t(row, effect_symbol: str = "g") -> str:
    """``t(58.3) = -3.21, p = .002, g = -0.82`` from a comparison row."""
    if pd.isna(row.get("statistic")):
        return "not computed"
    df = row["df"]
    df_text = f"{df:.0f}" if float(df).is_integer() else f"{df:.1f}"
    return f"t({df_text}) = {row['statistic']:.2f}, {fmt_p(row['p'])}, {effect_symbol} = {row['effect_size']:.2f}"


def direction(diff, higher: str = "marketing", lower: str = "sales") -> str:
    if diff is None or pd.isna(diff) or math.isclose(diff, 0.0, abs_tol=1e-12):
        return "the same"
    return f"{higher} higher" if diff > 0 else f"{lower} higher"


def bounded(x, digits: int = 2) -> str:
    """A statistic that cannot exceed 1 in APA style, without the leading zero: ``.83``, ``-.12``."""
    if x is None or pd.isna(x):
        return "–"
    text = f"{x:.{digits}f}"
    return text.replace("0.", ".", 1) if abs(x) < 1 else text


def _scale_name(scale: str, instrument) -> str:
    labels = {s["id"]: s["label"] for s in instrument.subscales}
    if instrument.total:
        labels[instrument.total["id"]] = instrument.total.get("label", instrument.total["id"])
    return labels.get(scale, scale)


def reliability_sentences(table: pd.DataFrame, instrument) -> str:
    """Plain words on internal consistency: the total's (or each scale's) alpha and the scales below .70."""
    allr = table[table["group"] == "all"]
    parts = []
    for row in allr.itertuples():
        parts.append(f"{escape(_scale_name(row.scale, instrument))}: α = {bounded(row.alpha)} "
                     f"[{bounded(row.ci_low)}, {bounded(row.ci_high)}], ω = {bounded(row.omega)} (n = {row.n})")
    weak = allr[allr["alpha"] < 0.7]["scale"].map(lambda s: _scale_name(s, instrument)).tolist()
    verdict = ("Every scale reaches the usual .70 threshold for group comparisons." if not weak else
               f"Below .70, read with care: {', '.join(escape(w) for w in weak)}.")
    return f"**{escape(instrument.title)}.** " + "; ".join(parts) + ". " + verdict


def scale_sentences(table: pd.DataFrame, instrument, alpha: float = 0.05) -> str:
    """One bullet per scale: plain words, then the APA statistics."""
    lines = []
    for row in table.to_dict("records"):
        name = escape(_scale_name(row["scale"], instrument))
        if pd.isna(row["statistic"]):
            lines.append(f"- **{name}**: not computed (too few respondents in one function).")
            continue
        sig = row["p_holm"] < alpha
        who = "Marketing" if row["mean_marketing"] > row["mean_sales"] else "Sales"
        lines.append(f"- **{name}**: {who} rates it higher ({fmt_num(row['mean_marketing'])} vs {fmt_num(row['mean_sales'])} "
                     f"for marketing and sales), a {effect_words('hedges-g', row['effect_size'])} difference"
                     f"{'' if sig else ' that could be chance (Holm-adjusted p ≥ ' + str(alpha) + ')'}; "
                     f"{apa_t(row)} [{fmt_num(row['ci_low'])}, {fmt_num(row['ci_high'])}], Holm {fmt_p(row['p_holm'])}.")
    return "\n".join(lines)


def item_sentence(table: pd.DataFrame, alpha: float = 0.05) -> str:
    sig = table[table["p_holm"] < alpha]
    if table["p"].notna().sum() == 0:
        return "No item could be compared."
    top = table.reindex(table["effect_size"].abs().sort_values(ascending=False).index).iloc[0]
    higher = "marketing" if top["effect_size"] > 0 else "sales"
    return (f"{len(sig)} of {table['p'].notna().sum()} items differ between the functions after Holm's adjustment "
            f"({(table['p_bh'] < alpha).sum()} by Benjamini–Hochberg). The largest difference is on {escape(top['item'])}: "
            f"{higher} answers higher, rank-biserial r = {bounded(top['effect_size'])} "
            f"[{bounded(top['ci_low'])}, {bounded(top['ci_high'])}], U = {top['statistic']:.1f}, {fmt_p(top['p'])}.")


def dyad_sentences(table: pd.DataFrame, instrument, alpha: float = 0.05) -> str:
    lines = []
    for row in table.to_dict("records"):
        name = escape(_scale_name(row["scale"], instrument))
        if pd.isna(row["statistic"]):
            lines.append(f"- **{name}**: not computed ({row['n_pairs']} matched companies).")
            continue
        who = "marketing" if row["mean_diff"] > 0 else "sales"
        lines.append(f"- **{name}**: within the same company, {who} rates it higher by {abs(row['mean_diff']):.2f} on average "
                     f"over {row['n_pairs']} companies ({effect_words('cohen-dz', row['effect_size'])}); "
                     f"{apa_t(row, 'd_z')} [{fmt_num(row['ci_low'])}, {fmt_num(row['ci_high'])}]; "
                     f"Wilcoxon W = {row['wilcoxon_statistic']:.1f}, {fmt_p(row['wilcoxon_p'])}.")
    return "\n".join(lines)


def agreement_sentence(table: pd.DataFrame, instrument) -> str:
    lines = []
    for row in table.to_dict("records"):
        if pd.isna(row["r"]):
            continue
        lines.append(f"- **{escape(_scale_name(row['scale'], instrument))}**: partner r = {bounded(row['r'])} "
                     f"({fmt_p(row['r_p'])}), ICC(1) = {bounded(row['icc1'])} [{bounded(row['icc1_ci_low'])}, "
                     f"{bounded(row['icc1_ci_high'])}]; median r_wg(j) = {bounded(row['rwg_median'])}, "
                     f"{share(row['rwg_share_70'])} of companies at or above .70.")
    head = ("A high partner correlation means the two functions order companies alike; ICC(1) also asks that they "
            "give the same level; r_wg(j) asks whether a company's respondents answer the items alike (1 = identical).")
    return head + "\n\n" + "\n".join(lines)


def bland_altman_sentence(limits: dict) -> str:
    if not limits or not limits.get("n_pairs"):
        return "No matched companies: no Bland–Altman analysis."
    side = "marketing" if limits["bias"] > 0 else "sales"
    return (f"Across {limits['n_pairs']} matched companies, {side} rates the relationship {abs(limits['bias']):.1f} points "
            f"higher on average; 95% of companies' gaps should fall between {limits['loa_low']:.1f} and {limits['loa_high']:.1f}. "
            "Gaps outside those limits mark companies where the two heads see different relationships.")


def kappa_sentence(result: dict) -> str:
    if not result or pd.isna(result.get("kappa_linear")):
        return "Too few matched companies to compare the functions' stages."
    return (f"The two functions place their company in the same stage in {share(result['exact_agreement'])} of "
            f"{result['n_pairs']} companies; linearly weighted κ = {bounded(result['kappa_linear'])} "
            f"[{bounded(result['kappa_ci_low'])}, {bounded(result['kappa_ci_high'])}].")


def disagreement_sentence(rows: pd.DataFrame, what: str, model: str) -> str:
    if rows.empty:
        return f"The {model} agrees with the default tests on every {what}: same direction, same verdict at the chosen level."
    listed = "; ".join(f"{escape(r[rows.columns[0]])}: {r['disagreement']}" for r in rows.to_dict("records"))
    return f"The {model} and the default tests disagree on {plural(len(rows), what)}: {listed}. Report both."


def sensitivity_sentence(table: pd.DataFrame) -> str:
    parts = [f"{r['comparison']} ({r['n']}): {r['effect']} ≥ {r['min_detectable']:.2f}" for r in table.to_dict("records")]
    return ("With 80% power at α = .05 (two-sided), the study can detect effects of about: " + "; ".join(parts) +
            ". Smaller true differences may go unseen; a non-significant result is not evidence of no difference.")


def gap_sentences(gaps: pd.DataFrame, alpha: float = 0.05) -> str:
    lines = []
    for row in gaps.to_dict("records"):
        if pd.isna(row["p_holm"]) or row["p_holm"] >= alpha:
            continue
        dim = row["dimension"].replace("_", " ")
        own = row["rated_function"]
        other = "sales" if own == "marketing" else "marketing"
        verb = "higher" if row["gap"] > 0 else "lower"
        lines.append(f"- {own.capitalize()} rates its own {dim} {verb} than {other} rates it "
                     f"({fmt_num(row['self_view'])} vs {fmt_num(row['other_view'])}; t({row['df']:.1f}) = {row['statistic']:.2f}, "
                     f"Holm {fmt_p(row['p_holm'])}, g = {row['effect_size']:.2f}).")
    return "\n".join(lines) if lines else "No self- and other-views differ after Holm's adjustment."


def theme_sentences(table: pd.DataFrame, unit: str = "interviews", alpha: float = 0.05) -> str:
    """The themes whose prevalence differs by role (Holm), then the three most common overall, in words."""
    lines = []
    for row in table.sort_values("p").to_dict("records"):
        if pd.isna(row["p"]) or row["p_holm"] >= alpha:
            continue
        more = "Marketing" if row["share_marketing"] > row["share_sales"] else "Sales"
        lines.append(f"- **{escape(row['label'])}**: {more} raises it more often ({share(row['share_marketing'])} of "
                     f"marketing and {share(row['share_sales'])} of sales {unit}; Fisher's exact {fmt_p(row['p'])}, "
                     f"Holm {fmt_p(row['p_holm'])}, h = {row['effect_size']:.2f}).")
    head = (f"Themes that differ between the functions after Holm's adjustment over {len(table)} themes:"
            if lines else f"No theme's prevalence differs between the functions after Holm's adjustment over {len(table)} themes; "
            f"with few {unit} per side only large differences can show.")
    nominal = table[(table["p"] < alpha) & (table["p_holm"] >= alpha)]
    tail = ""
    if len(nominal):
        tail = ("\n\nBefore adjustment (exploratory): " + ", ".join(escape(x) for x in nominal["label"]) + ".")
    return head + ("\n" + "\n".join(lines) if lines else "") + tail


def coder_sentence(pairs: pd.DataFrame, kripp: pd.DataFrame) -> str:
    if pairs.empty:
        return "The study has no manual codes, so agreement between human coders cannot be assessed."
    k = pairs["kappa"].dropna()
    low = pairs[pairs["kappa"] < 0.6]["theme"].tolist()
    return (f"Over {pairs['units'].max()} shared segments, Cohen's κ per theme ranges from {bounded(k.min())} to "
            f"{bounded(k.max())} (median {bounded(k.median())}); Krippendorff's α across all coders has median "
            f"{bounded(kripp['alpha'].median())}. "
            + (f"Below .60 (moderate or worse; refine the code definitions): {', '.join(escape(t) for t in low)}." if low
               else "Every theme reaches at least .60."))


def company_overview(summary: pd.DataFrame, instrument) -> str:
    s = summary[summary["instrument"] == instrument.id]
    if s.empty:
        return "No company could be scored."
    counts = s["band"].value_counts()
    bands = [b["label"] for b in instrument.total["bands"]]
    listed = ", ".join(f"{int(counts.get(b, 0))} {b}" for b in bands)
    gaps = s["gap"].dropna()
    wide = int((gaps.abs() >= 10).sum())
    both = len(gaps)
    return (f"Of {len(s)} companies, {listed}. In {both} companies both functions answered; in {wide} of them the "
            f"two functions' totals are at least 10 points apart, and marketing rates higher in {int((gaps > 0).sum())}.")


def explain_company(row: dict, evaluation: pd.DataFrame, action: str) -> str:
    """A company's diagnosis and one fired rule of the given action (``move`` or ``stay``), in words."""
    fired = evaluation[(evaluation["company_id"] == row["company_id"]) & (evaluation["status"] == "fires")
                       & (evaluation["action"] == action)]
    if fired.empty:
        return ""
    rule = fired.iloc[0]
    sides = []
    for role in ("marketing", "sales"):
        total = row.get(f"total_{role}")
        if total is not None and not pd.isna(total):
            sides.append(f"{role} {total:.0f} ({escape(row.get(f'band_{role}'))})")
    moves = "\n".join(f"  - {escape(m)}" for m in str(rule["moves"]).split(" | ") if m)
    verb = "should stay where it is" if action == "stay" else "should move up"
    return (f"**{escape(row['company_id'])}** is **{escape(row['band'])}** (total {row['total']:.0f}: {', '.join(sides)}). "
            f"It {verb}: rule `{escape(rule['rule'])}` fires because {escape(rule['circumstance'][0].lower() + rule['circumstance'][1:])}\n"
            f"Recommended:\n{moves}")


def rule_counts_sentence(evaluation: pd.DataFrame) -> str:
    if evaluation.empty:
        return "No decision table was applied."
    fired = evaluation[evaluation["status"] == "fires"]
    by_action = fired.groupby("action")["company_id"].nunique()
    unknown = evaluation[evaluation["status"] == "not assessable"]
    return (f"{int(by_action.get('move', 0))} companies get a *move up* recommendation, {int(by_action.get('stay', 0))} a "
            f"*stay where you are* recommendation and {int(by_action.get('attend', 0))} a point to attend to first. "
            f"{len(unknown)} rule checks in {unknown['company_id'].nunique()} companies were **not assessable** because "
            "the study lacks an attribute the rule needs (or the company left it blank); they are listed, never guessed.")
