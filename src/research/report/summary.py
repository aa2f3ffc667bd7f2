"""The manager's summary: the five most important findings, in plain words, with their figures.

Reads the tables and figures the other notebooks wrote to the report folder, so it runs last.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from research.report.prose import bounded, escape, fmt_p, share


@dataclass
class Finding:
    title: str
    text: str
    figure: Path | None = None


def _table(out: Path, name: str) -> pd.DataFrame | None:
    path = out / "tables" / f"{name}.csv"
    return pd.read_csv(path, dtype={"company_id": str}) if path.is_file() and path.stat().st_size > 1 else None


def _figure(out: Path, pattern: str) -> Path | None:
    found = sorted((out / "figures").glob(pattern))
    return found[0] if found else None


def _largest(frame: pd.DataFrame | None, column: str):
    """The row with the largest absolute value of ``column``; None when no row has a value."""
    if frame is None:
        return None
    frame = frame.dropna(subset=[column])
    return None if frame.empty else frame.loc[frame[column].abs().idxmax()]


def _stages(out) -> Finding | None:
    s = _table(out, "company_summary")
    if s is None or s.empty:
        return None
    inst = s["instrument"].iloc[0]
    s = s[s["instrument"] == inst]
    counts = s["band"].value_counts()
    top = counts.index[0]
    return Finding(f"Most companies are at the {top} stage",
                   f"{counts.iloc[0]} of {len(s)} companies are {escape(top)} ("
                   + ", ".join(f"{escape(b)} {n}" for b, n in counts.items()) + "). "
                   "Fully integrated sales and marketing is rare, as the field expects.",
                   _figure(out, f"05_company_map_{inst}.png"))


def _dyad_gap(out, alpha) -> Finding | None:
    d = _table(out, "dyad_comparison")
    if d is None or d.empty:
        return None
    totals = d[d["kind"] == "total"]
    row = totals.iloc[0] if len(totals) else d.iloc[0]
    if pd.isna(row["statistic"]):
        return None
    who, other = ("Marketing", "sales") if row["mean_diff"] > 0 else ("Sales", "marketing")
    sig = row["p_holm"] < alpha
    return Finding("The two heads of one company see different relationships" if sig else "The two heads of one company see much the same relationship",
                   f"{who} rates the relationship {abs(row['mean_diff']):.1f} points higher than {other} in the same company, "
                   f"on average over {int(row['n_pairs'])} companies (d_z = {row['effect_size']:.2f}, {fmt_p(row['p'])}). "
                   "The gap itself is a finding to discuss with both heads before acting on any score.",
                   _figure(out, "03_dumbbell.png"))


def _largest_scale(out, alpha) -> Finding | None:
    s = _table(out, "scale_comparison")
    if s is None or s.empty:
        return None
    main = s.loc[s["kind"] == "total", "instrument"]
    sub = s[(s["kind"] == "subscale") & (s["instrument"] == (main.iloc[0] if len(main) else s["instrument"].iloc[0]))]
    row = _largest(sub, "effect_size")
    if row is None:
        return None
    who = "marketing" if row["effect_size"] > 0 else "sales"
    return Finding(f"The sides differ most on {escape(row['scale']).replace('_', ' ')}",
                   f"On {escape(row['scale']).replace('_', ' ')} ({escape(row['instrument'])}), {who} gives the higher rating: "
                   f"{row['mean_marketing']:.2f} for marketing against {row['mean_sales']:.2f} for sales "
                   f"(Hedges' g = {row['effect_size']:.2f}, Holm {fmt_p(row['p_holm'])}). This is where a joint conversation will pay off first.",
                   _figure(out, "03_forest_scales.png"))


def _themes(out, alpha) -> Finding | None:
    row = _largest(_table(out, "theme_by_role"), "effect_size")
    if row is None:
        return None
    more, less = ("marketing", "sales") if row["effect_size"] > 0 else ("sales", "marketing")
    caution = "" if row["p_holm"] < alpha else " (not significant after Holm's adjustment: treat as a lead to follow)"
    return Finding(f"In interviews, {more} raises “{escape(row['label'])}” far more often",
                   f"{share(row[f'share_{more}'])} of {more} interviews against {share(row[f'share_{less}'])} of {less} "
                   f"interviews raise {escape(row['label']).lower()} (Fisher's exact {fmt_p(row['p'])}, h = {row['effect_size']:.2f}){caution}.",
                   _figure(out, "04_theme_prevalence.png"))


def _advice(out) -> Finding | None:
    r = _table(out, "company_rules")
    if r is None or r.empty:
        return None
    fired = r[r["status"] == "fires"]
    move = fired[fired["action"] == "move"]["company_id"].nunique()
    stay = fired[fired["action"] == "stay"]["company_id"].nunique()
    top = fired[fired["action"] == "move"]["rule"].value_counts()
    common = f" The most common move is `{escape(top.index[0])}`." if len(top) else ""
    unknown = r[r["status"] == "not assessable"]["company_id"].nunique()
    return Finding(f"{move} companies should move closer; {stay} should stay where they are",
                   f"The decision table recommends a move up for {move} companies and staying put for {stay}.{common} "
                   f"For {unknown} companies some rules were not assessable for lack of information; see report 05.",
                   _figure(out, "05_themes_by_stage.png"))


def _thought_worlds(out, alpha) -> Finding | None:
    row = _largest(_table(out, "perception_gaps"), "effect_size")
    if row is None:
        return None
    other = "sales" if row["rated_function"] == "marketing" else "marketing"
    return Finding("Each side sees itself differently from how the other sees it",
                   f"The largest gap: {escape(row['rated_function'])} rates its own {escape(row['dimension']).replace('_', ' ')} at "
                   f"{row['self_view']:.1f}, {other} rates it {row['other_view']:.1f} (g = {row['effect_size']:.2f}, Holm {fmt_p(row['p_holm'])}).",
                   _figure(out, "03_thought_worlds.png"))


def _reliability(out) -> Finding | None:
    r = _table(out, "reliability")
    if r is None or r.empty:
        return None
    allr = r[r["group"] == "all"].dropna(subset=["alpha"])
    if allr.empty:
        return None
    weak = allr[allr["alpha"] < 0.7]
    return Finding("The scales measure reliably enough" if weak.empty else "Some scales measure less reliably",
                   f"Cronbach's alpha ranges from {bounded(allr['alpha'].min())} to {bounded(allr['alpha'].max())} across "
                   f"{len(allr)} scales" + ("." if weak.empty else f"; {len(weak)} fall below .70 and deserve caution."), None)


def key_findings(out, alpha: float = 0.05, n: int = 5) -> list[Finding]:
    """The ``n`` most important findings available, in order of importance for a manager."""
    out = Path(out)
    candidates = [_stages(out), _dyad_gap(out, alpha), _largest_scale(out, alpha), _themes(out, alpha), _advice(out),
                  _thought_worlds(out, alpha), _reliability(out)]
    return [f for f in candidates if f is not None][:n]
