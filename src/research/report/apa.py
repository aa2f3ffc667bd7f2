"""APA-style tables for a manuscript, built from the analysis tables (formatting only: nothing is
recomputed).

Every builder takes a contract table (``item_comparison.csv``, ``scale_comparison.csv`` ...) and
returns an :class:`ApaTable`: a frame of formatted strings under human column headers, a title, a
note saying which test, which correction and what the effect size and its sign mean, and the CSV it
comes from. Item wording, subscale, band and theme *labels* come from the instrument and codebook
YAML, never their ids. No table is wider than :data:`MAX_COLUMNS` columns of short cells, so every
one fits a portrait page.

Conventions (APA 7): no leading zero for statistics bounded by 1 (p, correlations, alpha, kappa,
shares); exact p to three decimals, ``< .001`` below that; a true minus sign; an en dash (``–``) for
a value that could not be computed. Column headers use ``_`` for a subscript (``p_Holm``, ``d_z``);
the Word and HTML writers set the symbol in italics and the rest as a subscript.

Examples
--------
>>> fmt_p(0.0213), fmt_p(0.0004), fmt_p(float("nan"))
('.021', '< .001', '–')
>>> fmt_df(27.0), fmt_df(73.666), fmt_ci(0.4213, 1.1), fmt_m_sd(3.4166, 0.8123), fmt_bounded(0.834)
('27', '73.7', '[0.42, 1.10]', '3.42 (0.81)', '.83')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from research.report.references import cite
from research.report.tables import escape

MAX_COLUMNS = 7
MINUS = "\u2212"
DASH = "\u2013"  # an empty cell: the statistic could not be computed
ITEM_TEXT_WIDTH = 60
SORTABLE_ROWS = 12  # longer tables can be sorted and filtered in the browser (report.pages)


# ---- formatters ----------------------------------------------------------------------------------


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x)) or not math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def _round(x: float, digits: int) -> str:
    """Half-up rounding of the decimal the float prints as (``0.0495`` -> ``0.050``, not
    ``0.049``)."""
    q = Decimal(1).scaleb(-digits)
    return str(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def fmt_stat(x, digits: int = 2) -> str:
    """A statistic to ``digits`` decimals with a true minus sign; ``–`` when missing; never
    ``-0.00``.

    Examples
    --------
    >>> fmt_stat(-3.2149), fmt_stat(-0.001), fmt_stat(12, 1), fmt_stat(None)
    ('−3.21', '0.00', '12.0', '–')
    """
    if _missing(x):
        return DASH
    s = _round(x, digits)
    if float(s) == 0:
        s = s.lstrip("-")
    return s.replace("-", MINUS)


def fmt_bounded(r, digits: int = 2) -> str:
    """A statistic whose magnitude is usually at most 1 (correlation, alpha, kappa, share): no
    leading zero.

    Cronbach's alpha and ICC(1) can fall below -1 in degenerate data; such a value is printed as it
    is (``−5.70``), never refused, because the table must still show what was computed.

    Examples
    --------
    >>> (fmt_bounded(0.834), fmt_bounded(-0.12), fmt_bounded(1.0), fmt_bounded(-0.0004),
    ...  fmt_bounded(-5.704))
    ('.83', '−.12', '1.00', '.00', '−5.70')
    """
    if _missing(r):
        return DASH
    s = fmt_stat(r, digits)
    return s.replace("0.", ".", 1) if s.lstrip(MINUS).startswith("0.") else s


def fmt_p(p, alpha: float = 0.05) -> str:
    """An APA p value: ``.021``, ``< .001``, ``> .999``; ``–`` when missing.

    Three decimals, except when rounding would carry a p below ``alpha`` up to it: then as many more
    decimals as keep it below (``0.0495`` is ``.0495``, not ``.050``), so a table never shows a
    significant result as ``.050``.

    Examples
    --------
    >>> fmt_p(0.001), fmt_p(0.0495), fmt_p(1.0), fmt_p(0.05)
    ('.001', '.0495', '> .999', '.050')
    """
    if _missing(p):
        return DASH
    p = float(p)
    if not 0 <= p <= 1:
        raise ValueError(f"fmt_p: a p value lies in [0, 1], got {p!r}")
    if p < 0.001:
        return "< .001"
    s = _round(p, 3)
    if float(s) >= 1:
        return "> .999"
    digits = 3
    while p < alpha <= float(s) and digits < 6:
        digits += 1
        s = _round(p, digits)
    return s[1:]


def fmt_df(df, fractional: bool = False) -> str:
    """Degrees of freedom: whole numbers without decimals (``27``), Welch's fractional df to one
    (``73.7``).

    ``fractional`` says the df is an estimate (Welch–Satterthwaite), printed to one decimal even
    when it comes out whole (``12.0``), so a column of Welch tests never mixes ``t(12)`` with
    ``t(12.0)``.

    Examples
    --------
    >>> fmt_df(27), fmt_df(27.0), fmt_df(73.666), fmt_df(float("nan"))
    ('27', '27', '73.7', '–')
    >>> fmt_df(12.0, fractional=True), fmt_df(11.993, fractional=True)
    ('12.0', '12.0')
    """
    if _missing(df):
        return DASH
    df = float(df)
    if fractional:
        return _round(df, 1)
    return str(int(round(df))) if abs(df - round(df)) < 1e-9 else _round(df, 1)


def fmt_count(x) -> str:
    """A count or rank statistic that is whole or a half (``1282.5``, ``42``)."""
    return fmt_df(x)


def fmt_ci(low, high, digits: int = 2, bounded: bool = False) -> str:
    """A confidence interval ``[0.42, 1.10]`` (``[.42, .90]`` when ``bounded``); ``–`` when either
    end is missing.

    Examples
    --------
    >>> fmt_ci(-0.2, 0.1), fmt_ci(0.2, 0.9, bounded=True), fmt_ci(0.2, None)
    ('[−0.20, 0.10]', '[.20, .90]', '–')
    """
    if _missing(low) or _missing(high):
        return DASH
    f = fmt_bounded if bounded else fmt_stat
    return f"[{f(low, digits)}, {f(high, digits)}]"


def fmt_m_sd(m, sd, digits: int = 2) -> str:
    """Mean and SD as ``3.42 (0.81)``; ``–`` when the mean is missing.

    Examples
    --------
    >>> fmt_m_sd(3.4166, 0.8123), fmt_m_sd(3.0, None), fmt_m_sd(None, 1)
    ('3.42 (0.81)', '3.00 (–)', '–')
    """
    if _missing(m):
        return DASH
    return f"{fmt_stat(m, digits)} ({fmt_stat(sd, digits)})"


def fmt_effect(es, low=None, high=None, bounded: bool = False, digits: int = 2) -> str:
    """An effect size with its interval: ``0.84 [0.39, 1.29]``; the interval left off when
    missing."""
    f = fmt_bounded if bounded else fmt_stat
    if _missing(es):
        return DASH
    ci = fmt_ci(low, high, digits, bounded)
    return f(es, digits) if ci == DASH else f"{f(es, digits)} {ci}"


def fmt_test(symbol: str, statistic, df=None, digits: int = 2, fractional: bool = False) -> str:
    """A test as APA writes it in a table cell: ``t(73.7) = 4.71``; ``–`` when not computed.
    ``fractional``: the df is Welch's estimate, always to one decimal (:func:`fmt_df`)."""
    if _missing(statistic):
        return DASH
    return (
        f"{symbol}({fmt_df(df, fractional)}) = {fmt_stat(statistic, digits)}"
        if df is not None
        else f"{symbol} = {fmt_stat(statistic, digits)}"
    )


def fmt_share(k, n) -> str:
    """``10/12 (83%)``."""
    if _missing(n) or int(n) == 0:
        return DASH
    return f"{int(k)}/{int(n)} ({100 * int(k) / int(n):.0f}%)"


def fmt_percent(x) -> str:
    return DASH if _missing(x) else f"{100 * float(x):.0f}%"


def shorten(text: str, width: int = ITEM_TEXT_WIDTH) -> str:
    """Cut text at a word boundary to at most ``width`` characters, ending with ``…``.

    Examples
    --------
    >>> shorten("The heads of sales and marketing talk regularly about new ideas, market signals",
    ...         40)
    'The heads of sales and marketing talk…'
    >>> shorten("Short.", 40)
    'Short.'
    """
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 item``, ``2 items``."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


# ---- symbols in headers: italics and subscripts --------------------------------------------------

_SYMBOL = re.compile(
    r"(?<![\w])(Mdn|SD|df|M|N|n|t|p|U|W|g|r|h|d|k|z|χ²|α|ω|κ)(?:_(\w+(?:\([a-z]\))?))?(?![\w(])"
    r"|(?<![\w])([tWUz])(?=\()"
)


def symbol_runs(text: str) -> list[tuple[str, str]]:
    """Split header text into runs: ``("text", "")``, ``("p", "italic")``, ``("Holm", "sub")``.

    Examples
    --------
    >>> symbol_runs("p_Holm")
    [('p', 'italic'), ('Holm', 'sub')]
    >>> symbol_runs("Marketing M (SD)")
    [('Marketing ', ''), ('M', 'italic'), (' (', ''), ('SD', 'italic'), (')', '')]
    """
    runs, pos = [], 0
    for m in _SYMBOL.finditer(text):
        if m.start() > pos:
            runs.append((text[pos : m.start()], ""))
        runs.append((m.group(1) or m.group(3), "italic"))
        if m.group(2):
            runs.append((m.group(2), "sub"))
        pos = m.end()
    if pos < len(text):
        runs.append((text[pos:], ""))
    return runs


def _is_test_cell(text: str) -> bool:
    return bool(re.match(r"^[tWUzr]\([^)]*\) = ", text))


def runs_html(text: str) -> str:
    """Header (or test-cell) text as escaped HTML with italic symbols and subscripts."""
    out = []
    for part, style in symbol_runs(text):
        part = escape(part)
        out.append(
            f"<i>{part}</i>"
            if style == "italic"
            else f"<sub>{part}</sub>"
            if style == "sub"
            else part
        )
    return "".join(out)


# ---- the table -----------------------------------------------------------------------------------


@dataclass
class ApaTable:
    """One APA table: number (assigned by a :class:`TableRegistry`), title, formatted frame, note
    and source.

    Attributes
    ----------
    title : the table's title (set in italics under its number).
    frame : formatted strings under human headers; at most :data:`MAX_COLUMNS` columns.
    note : the general note (printed after "*Note.*").
    source : the CSV the numbers come from (``tables/scale_comparison.csv``).
    full_text : full wording of every text shortened in the frame (``"SMR08: The heads of ..."``),
        for a footnote.
    tooltips : ``{(row position, column header): full text}`` for shortened cells (an HTML
        ``title``).
    number : the table's number in its report; ``None`` until registered.
    """

    title: str
    frame: pd.DataFrame
    note: str = ""
    source: str = ""
    full_text: list[str] = field(default_factory=list)
    tooltips: dict = field(default_factory=dict)
    number: int | None = None

    def __post_init__(self):
        if self.frame.shape[1] > MAX_COLUMNS:
            raise ValueError(
                f"table {self.title!r} has {self.frame.shape[1]} columns; at most {MAX_COLUMNS} "
                "fit a page: split or transpose it"
            )

    @property
    def label(self) -> str:
        """``Table 3`` (``Table`` before the table is numbered)."""
        return f"Table {self.number}" if self.number is not None else "Table"

    def to_html(self) -> str:
        """The table as APA-styled HTML: number in bold, title in italics, rules at top, under the
        header and at the bottom only, the note below. Every text from the data is escaped;
        shortened cells carry their full text as a ``title`` tooltip. Tables of more than
        :data:`SORTABLE_ROWS` rows are marked ``sortable``."""
        rule = "border-top:1.5px solid #000"
        head = "".join(
            f'<th style="{rule};border-bottom:1px solid #000;padding:4px 8px;text-align:'
            f'{"left" if j == 0 else "center"}">{runs_html(str(c))}</th>'
            for j, c in enumerate(self.frame.columns)
        )
        rows = []
        last = len(self.frame) - 1
        for i, row in enumerate(self.frame.itertuples(index=False)):
            cells = []
            for j, (col, value) in enumerate(zip(self.frame.columns, row, strict=True)):
                text = "" if value is None else str(value)
                tip = self.tooltips.get((i, col))
                attrs = f' title="{escape(tip)}"' if tip else ""
                style = (
                    "padding:3px "
                    f"8px;text-align:{'left' if j == 0 else 'center;white-space:nowrap'}"
                    + (";border-bottom:1.5px solid #000" if i == last else "")
                )
                body = runs_html(text) if _is_test_cell(text) else escape(text)
                cells.append(f'<td style="{style}"{attrs}>{body}</td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        note = f'<p class="apa-note"><em>Note.</em> {escape(self.note)}</p>' if self.note else ""
        full = ""
        if self.full_text:
            full = '<p class="apa-note">' + "<br>".join(escape(t) for t in self.full_text) + "</p>"
        return (
            '<div class="apa-table"><p style="margin-bottom:0">'
            f"<strong>{escape(self.label)}</strong></p>"
            f'<p style="margin-top:0"><em>{escape(self.title)}</em></p>'
            f'<table class="apa{" sortable" if len(self.frame) > SORTABLE_ROWS else ""}" '
            f'style="border-collapse:collapse"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>{note}{full}</div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


class TableRegistry:
    """Numbers tables in the order they are added within one report and hands them all back (for the
    Word file).

    Examples
    --------
    >>> reg = TableRegistry()
    >>> t = reg.add(ApaTable("Scales", pd.DataFrame({"Scale": ["A"]})), key="scales")
    >>> t.label, reg.ref("scales"), len(reg)
    ('Table 1', 'Table 1', 1)
    """

    def __init__(self):
        self._tables: list[ApaTable] = []
        self._keys: dict[str, ApaTable] = {}

    def add(self, table: ApaTable, key: str | None = None) -> ApaTable:
        """Give ``table`` the next number and keep it; ``key`` lets the text refer to it
        (:meth:`ref`)."""
        if key is not None and key in self._keys:
            raise ValueError(
                f"a table with key {key!r} is already registered ({self._keys[key].label})"
            )
        if any(t is table for t in self._tables):
            raise ValueError(f"{table.label} is already registered")
        table.number = len(self._tables) + 1
        self._tables.append(table)
        if key is not None:
            self._keys[key] = table
        return table

    def ref(self, key: str) -> str:
        """``Table 3`` for the table registered under ``key``."""
        return self[key].label

    def __getitem__(self, key: str) -> ApaTable:
        if key not in self._keys:
            raise KeyError(f"no table registered as {key!r}; registered: {sorted(self._keys)}")
        return self._keys[key]

    def tables(self) -> list[ApaTable]:
        return list(self._tables)

    def __iter__(self):
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


# ---- labels from the YAML ------------------------------------------------------------------------


def scale_labels(instrument) -> dict[str, str]:
    """Subscale and total ids mapped to their labels."""
    labels = {s["id"]: s.get("label", s["id"]) for s in instrument.subscales}
    if instrument.total:
        labels[instrument.total["id"]] = instrument.total.get("label", instrument.total["id"])
    return labels


#: The band labels of the four relationship stages of Kotler, Rackham and Krishnaswamy (2006).
KOTLER_STAGES = frozenset({"Undefined", "Defined", "Aligned", "Integrated"})


def kotler_stages(instrument) -> bool:
    """Whether the instrument's total is banded into the four published relationship stages (a
    citation of Kotler et al. is due only then; a study's own bands are its own)."""
    bands = (instrument.total or {}).get("bands") or []
    return {b["label"] for b in bands} == KOTLER_STAGES


def band_ranges(instrument) -> str:
    """``Undefined 20–39.99, Defined 40–59.99, ...``: each band from its minimum to below the next
    band's."""
    bands = (instrument.total or {}).get("bands") or []
    top = instrument.scale_max * len(instrument.items)
    parts = []
    for i, b in enumerate(bands):
        upper = f"< {bands[i + 1]['min']:g}" if i + 1 < len(bands) else f"{top:g}"
        parts.append(f"{b['label']} {b['min']:g} to {upper}")
    return "; ".join(parts)


def _part(table: pd.DataFrame, instrument) -> pd.DataFrame:
    if "instrument" in table.columns:
        table = table[table["instrument"] == instrument.id]
    return table.reset_index(drop=True)


def _not_computed(table: pd.DataFrame, key: str, labels: dict | None = None) -> str:
    if "note" not in table.columns:
        return ""
    notes = table[table["note"].notna() & (table["note"].astype(str).str.strip() != "")]
    if notes.empty:
        return ""
    reasons = [
        f"{(labels or {}).get(r[key], r[key])}: {r['note']}" for r in notes.to_dict("records")
    ]
    return " Not computed or incomplete: " + "; ".join(reasons) + "."


def _p_header(p: str) -> tuple[str, str]:
    """Column header and note phrase for the p column shown."""
    return {
        "p": ("p", "unadjusted"),
        "p_holm": ("p_Holm", "Holm-adjusted"),
        "p_bh": ("p_BH", "Benjamini–Hochberg-adjusted"),
    }[p]


def _p_cite(p: str) -> str:
    return {"p": "", "p_holm": " " + cite("holm1979"), "p_bh": " " + cite("benjamini1995")}[p]


def _require(table: pd.DataFrame, columns, source: str) -> None:
    """A table handed to a builder must carry the contract columns it formats."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"expected the columns of {source}; missing {missing} (got {list(table.columns)})"
        )


def _check_p(p: str, table: pd.DataFrame) -> None:
    if p not in ("p", "p_holm", "p_bh"):
        raise ValueError(f"p must be one of 'p', 'p_holm', 'p_bh', got {p!r}")
    if p not in table.columns:
        raise ValueError(f"the table has no {p!r} column")


def _checked_part(table: pd.DataFrame, instrument, p: str, columns, source: str) -> pd.DataFrame:
    """The instrument's rows of a comparison table, its columns and p column checked first."""
    _require(table, columns, source)
    _check_p(p, table)
    return _part(table, instrument)


def _n_by_function(r: dict) -> str:
    """``12/10``: the row's marketing and sales n."""
    return f"{int(r['n_marketing'])}/{int(r['n_sales'])}"


def _p_values(p: str, part: pd.DataFrame, unit: str) -> str:
    """The note's phrase for the p shown: ``p values are Holm-adjusted over the 5 scales ...``."""
    _, p_words = _p_header(p)
    k = int(part["p"].notna().sum())
    return (
        f"p values are {p_words}"
        + (f" over the {plural(k, unit)} of the instrument" if p != "p" else "")
        + _p_cite(p)
    )


# ---- the builders --------------------------------------------------------------------------------


#: The columns of ``item_comparison.csv`` that :func:`item_table` formats.
_ITEM_COLUMNS = (
    "item",
    "n_marketing",
    "n_sales",
    "mean_marketing",
    "mean_sales",
    "median_marketing",
    "median_sales",
    "statistic",
    "p",
    "effect_size",
)


def item_table(
    items: pd.DataFrame, instrument, p: str = "p_holm", width: int = ITEM_TEXT_WIDTH
) -> ApaTable:
    """Items compared by function: n, M (Mdn) per function, Mann–Whitney U, p, rank-biserial r with
    its interval.

    Parameters
    ----------
    items : ``item_comparison.csv`` (one or several instruments; the instrument's rows are used).
    instrument : the :class:`~research.spec.instruments.Instrument` (item wording, reverse keys,
        scale range).
    p : which p column to show: ``p_holm`` (default), ``p_bh`` or ``p``.
    width : item wording longer than this is shortened with "…"; the full wording goes to
        ``full_text`` and tooltips.
    """
    part = _checked_part(items, instrument, p, _ITEM_COLUMNS, "item_comparison.csv")
    with_ci = "ci_low" in items.columns and "ci_high" in items.columns
    es_head = "r_rb [95% CI]" if with_ci else "r_rb"
    p_head, _ = _p_header(p)
    rows, full, tips = _item_rows(part, instrument, p, es_head, width)
    frame = pd.DataFrame(
        rows,
        columns=[
            "Item",
            "n (mkt/sales)",
            "Marketing M (Mdn)",
            "Sales M (Mdn)",
            "U",
            p_head,
            es_head,
        ],
    )
    note = _item_note(part, instrument, p, with_ci, shortened=bool(full))
    note += _dash_note(frame) + _not_computed(part, "item")
    return ApaTable(
        f"{instrument.title}: Items Compared Between Marketing and Sales",
        frame,
        note,
        "tables/item_comparison.csv",
        full,
        tips,
    )


def _item_rows(
    part: pd.DataFrame, instrument, p: str, es_head: str, width: int
) -> tuple[list[dict], list[str], dict]:
    """The item table's rows, and the full wording of each shortened item (list, tooltips)."""
    by_id = {it.id: it for it in instrument.items}
    p_head, _ = _p_header(p)
    rows, full, tips = [], [], {}
    for i, r in enumerate(part.to_dict("records")):
        item = by_id.get(r["item"])
        text = item.text if item else ""
        rev = " (R)" if item is not None and item.reverse else ""
        short = shorten(text, width)
        cell = f"{r['item']}{rev} {short}".strip()
        if short != " ".join(text.split()):
            full.append(f"{r['item']}: {text}")
            tips[(i, "Item")] = f"{r['item']}: {text}"
        rows.append(
            {
                "Item": cell,
                "n (mkt/sales)": _n_by_function(r),
                "Marketing M (Mdn)": _m_mdn(r["mean_marketing"], r["median_marketing"]),
                "Sales M (Mdn)": _m_mdn(r["mean_sales"], r["median_sales"]),
                "U": fmt_count(r["statistic"]),
                p_head: fmt_p(r[p]),
                es_head: fmt_effect(
                    r["effect_size"], r.get("ci_low"), r.get("ci_high"), bounded=True
                ),
            }
        )
    return rows, full, tips


def _item_note(part: pd.DataFrame, instrument, p: str, with_ci: bool, shortened: bool) -> str:
    """The item table's note before its dashes: test, p, effect size, reverse keys, shortening."""
    note = (
        f"Answers from {instrument.scale_min:g} to {instrument.scale_max:g}. Mann–Whitney U tests "
        f"{cite('mann1947')}, two-sided, of marketing against sales on each item; U is the "
        f"marketing group's. {_p_values(p, part, 'item')}. r_rb is the rank-biserial correlation "
        "2U/(n_mkt × n_sales) − 1"
        + (
            ", with a 95% percentile bootstrap interval (resampled within each function)"
            if with_ci
            else ""
        )
        + "; positive: marketing higher. "
        "M = mean; Mdn = median."
    )
    if any(it.reverse for it in instrument.items):
        note += " Items marked (R) are reverse-keyed and are shown keyed (min + max − answer)."
    if shortened:
        note += " Item wording is shortened (…); the full wording follows the table."
    return note


def _m_mdn(m, mdn) -> str:
    if _missing(m):
        return DASH
    return f"{fmt_stat(m)} ({fmt_stat(mdn, 1)})"


def _dash_note(frame: pd.DataFrame) -> str:
    has_dash = (frame.astype(str) == DASH).to_numpy().any()
    return f" {DASH}: not computed." if has_dash else ""


#: The columns of ``scale_comparison.csv`` that :func:`scale_table` formats.
_SCALE_COLUMNS = (
    "scale",
    "n_marketing",
    "n_sales",
    "mean_marketing",
    "sd_marketing",
    "mean_sales",
    "sd_sales",
    "statistic",
    "df",
    "p",
    "effect_size",
)


def scale_table(scales: pd.DataFrame, instrument, p: str = "p_holm") -> ApaTable:
    """Subscales and total compared by function: n, M (SD) per function, Welch's t(df), p, Hedges' g
    [95% CI].

    Parameters
    ----------
    scales : ``scale_comparison.csv``.
    instrument : the instrument (scale labels).
    p : which p column to show (``p_holm``, ``p_bh`` or ``p``).
    """
    part = _checked_part(scales, instrument, p, _SCALE_COLUMNS, "scale_comparison.csv")
    labels = scale_labels(instrument)
    p_head, _ = _p_header(p)
    rows = [
        {
            "Scale": labels.get(r["scale"], r["scale"]),
            "n (mkt/sales)": _n_by_function(r),
            "Marketing M (SD)": fmt_m_sd(r["mean_marketing"], r["sd_marketing"]),
            "Sales M (SD)": fmt_m_sd(r["mean_sales"], r["sd_sales"]),
            "Welch test": fmt_test("t", r["statistic"], r["df"], fractional=True),
            p_head: fmt_p(r[p]),
            "g [95% CI]": fmt_effect(r["effect_size"], r.get("ci_low"), r.get("ci_high")),
        }
        for r in part.to_dict("records")
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "Scale",
            "n (mkt/sales)",
            "Marketing M (SD)",
            "Sales M (SD)",
            "Welch test",
            p_head,
            "g [95% CI]",
        ],
    )
    note = (
        f"Welch's t-tests {cite('welch1947')} on respondents' scale scores, marketing minus sales. "
        f"{_p_values(p, part, 'scale')}. g is Hedges' g {cite('hedges1981')}, the mean difference "
        "over the pooled SD with the small-sample correction, with a 95% interval; positive: "
        "marketing higher."
    )
    note += _score_note(instrument) + _dash_note(frame) + _not_computed(part, "scale", labels)
    return ApaTable(
        f"{instrument.title}: Scale Scores of Marketing and Sales",
        frame,
        note,
        "tables/scale_comparison.csv",
    )


def _score_note(instrument) -> str:
    text = (
        " Subscale scores are the mean of the answered items "
        f"({instrument.scale_min:g}–{instrument.scale_max:g})"
    )
    if instrument.total:
        n = len(instrument.items)
        text += (
            f"; the {instrument.total.get('label', instrument.total['id'])} is the prorated sum "
            f"over {n} items ({instrument.scale_min * n:g}–{instrument.scale_max * n:g})"
        )
    reverse = sum(it.reverse for it in instrument.items)
    if reverse:
        text += (
            f"; {plural(reverse, 'reverse-keyed item')} {'is' if reverse == 1 else 'are'} "
            "scored keyed"
        )
    return text + "."


#: The columns of ``dyad_comparison.csv`` that :func:`dyad_table` formats.
_DYAD_COLUMNS = (
    "scale",
    "n_pairs",
    "mean_diff",
    "statistic",
    "df",
    "p",
    "wilcoxon_statistic",
    "wilcoxon_p",
    "effect_size",
)


def dyad_table(dyads: pd.DataFrame, instrument, p: str = "p_holm") -> ApaTable:
    """Matched companies: pairs, mean difference (SD), paired t(df), p, d_z [95% CI] and the
    Wilcoxon test.

    Parameters
    ----------
    dyads : ``dyad_comparison.csv``.
    instrument : the instrument (scale labels).
    p : which p column of the paired t-test to show (``p_holm``, ``p_bh`` or ``p``).
    """
    part = _checked_part(dyads, instrument, p, _DYAD_COLUMNS, "dyad_comparison.csv")
    diff_head = "M_diff (SD)" if "sd_diff" in dyads.columns else "M_diff"
    labels = scale_labels(instrument)
    p_head, _ = _p_header(p)
    rows = [_dyad_row(r, labels, p, diff_head) for r in part.to_dict("records")]
    frame = pd.DataFrame(
        rows,
        columns=[
            "Scale",
            "Pairs",
            diff_head,
            "Paired test",
            p_head,
            "d_z [95% CI]",
            "Wilcoxon W (p)",
        ],
    )
    note = (
        "Companies with a score from both functions; several respondents of one function in a "
        "company are averaged first, and pairs are formed by company, never by row order. "
        "Differences are marketing minus sales (positive: marketing higher). Paired t-tests; "
        f"{_p_values(p, part, 'scale')}. d_z is the mean difference over the SD of the "
        "differences, with an exact 95% interval from the noncentral t distribution. Wilcoxon "
        f"signed-rank test {cite('wilcoxon1945')}: W is the smaller of the two signed-rank sums, "
        "with its unadjusted two-sided p."
    )
    note += _dash_note(frame) + _not_computed(part, "scale", labels)
    return ApaTable(
        f"{instrument.title}: Marketing and Sales Within the Same Company",
        frame,
        note,
        "tables/dyad_comparison.csv",
    )


def _dyad_row(r: dict, labels: dict, p: str, diff_head: str) -> dict:
    """One scale's row of the dyad table."""
    p_head, _ = _p_header(p)
    sd = r.get("sd_diff")
    w = (
        DASH
        if _missing(r["wilcoxon_statistic"])
        else f"{fmt_count(r['wilcoxon_statistic'])} ({fmt_p(r['wilcoxon_p'])})"
    )
    return {
        "Scale": labels.get(r["scale"], r["scale"]),
        "Pairs": str(int(r["n_pairs"])),
        diff_head: fmt_m_sd(r["mean_diff"], sd) if sd is not None else fmt_stat(r["mean_diff"]),
        "Paired test": fmt_test("t", r["statistic"], r["df"]),
        p_head: fmt_p(r[p]),
        "d_z [95% CI]": fmt_effect(r["effect_size"], r.get("ci_low"), r.get("ci_high")),
        "Wilcoxon W (p)": w,
    }


def reliability_table(rel: pd.DataFrame, instrument) -> ApaTable:
    """Per scale: items, n, Cronbach's alpha [95% CI] and omega over all respondents, and alpha per
    function.

    Parameters
    ----------
    rel : ``reliability.csv`` (groups ``all``, ``marketing``, ``sales``).
    instrument : the instrument (scale labels).
    """
    _require(
        rel,
        ["scale", "group", "n", "n_items", "alpha", "ci_low", "ci_high", "omega"],
        "reliability.csv",
    )
    part = _part(rel, instrument)
    labels = scale_labels(instrument)
    rows = []
    for scale in instrument.scales:
        grp = part[part["scale"] == scale].set_index("group")
        if grp.empty:
            continue
        a = grp.loc["all"] if "all" in grp.index else None

        def by(role, grp=grp):
            if role not in grp.index:
                return DASH
            g = grp.loc[role]
            return DASH if _missing(g["alpha"]) else f"{fmt_bounded(g['alpha'])} ({int(g['n'])})"

        rows.append(
            {
                "Scale": labels.get(scale, scale),
                "Items": str(int(grp["n_items"].iloc[0])),
                "n": DASH if a is None else str(int(a["n"])),
                "α [95% CI]": DASH
                if a is None
                else fmt_effect(a["alpha"], a["ci_low"], a["ci_high"], bounded=True),
                "ω": DASH if a is None else fmt_bounded(a["omega"]),
                "Marketing α (n)": by("marketing"),
                "Sales α (n)": by("sales"),
            }
        )
    frame = pd.DataFrame(
        rows, columns=["Scale", "Items", "n", "α [95% CI]", "ω", "Marketing α (n)", "Sales α (n)"]
    )
    note = (
        f"α is Cronbach's alpha {cite('cronbach1951')} on the respondents who answered every item "
        f"of the scale (n), with Feldt's 95% interval {cite('feldt1965')}; the function columns "
        "give alpha within each function (its n in parentheses). ω is McDonald's total omega "
        f"{cite('mcdonald1999')}, from a one-factor maximum-likelihood model over all respondents."
    )
    if (frame["ω"] == DASH).any():
        note += (
            f" {DASH} for ω: no one-factor model could be fitted, or the scale has fewer than "
            "three items."
        )
    if (frame[["α [95% CI]", "Marketing α (n)", "Sales α (n)"]] == DASH).to_numpy().any():
        note += (
            f" {DASH} for α: a single item, fewer than three complete respondents, or no variance."
        )
    return ApaTable(
        f"{instrument.title}: Internal Consistency of the Scales",
        frame,
        note,
        "tables/reliability.csv",
    )


def theme_table(themes: pd.DataFrame, codebook=None, p: str = "p_holm") -> ApaTable:
    """Themes by function: units with the theme (k/n, %), Fisher's exact p (unadjusted and
    adjusted), Cohen's h.

    Parameters
    ----------
    themes : ``theme_by_role.csv`` (units ``interviews``) or the open-answer table (units
        ``answers``).
    codebook : the codebook, for theme labels when the table lacks a ``label`` column.
    p : the adjusted p column shown beside the unadjusted one (``p_holm`` or ``p_bh``).
    """
    _require(
        themes,
        ["theme", "with_theme_marketing", "with_theme_sales", "p", "effect_size"],
        "theme_by_role.csv",
    )
    _check_p(p, themes)
    unit = _theme_unit(themes)
    labels = codebook.labels() if codebook is not None else {}
    p_head, _ = _p_header(p)
    rows = []
    for r in themes.to_dict("records"):
        label = r.get("label") or labels.get(r["theme"], r["theme"])
        rows.append(
            {
                "Theme": label,
                "Marketing k/n (%)": fmt_share(r["with_theme_marketing"], r[f"{unit}_marketing"]),
                "Sales k/n (%)": fmt_share(r["with_theme_sales"], r[f"{unit}_sales"]),
                "p": fmt_p(r["p"]),
                p_head: fmt_p(r[p]),
                "h": fmt_stat(r["effect_size"]),
            }
        )
    cols = (
        ["Theme", "Marketing k/n (%)", "Sales k/n (%)", "p"]
        + ([p_head] if p != "p" else [])
        + ["h"]
    )
    frame = pd.DataFrame(rows, columns=list(dict.fromkeys(cols)))
    note = _theme_note(themes, unit, p) + _dash_note(frame)
    note += _not_computed(
        themes,
        "theme",
        {r["theme"]: r.get("label") or r["theme"] for r in themes.to_dict("records")},
    )
    what = (
        "Interviews"
        if unit == "interviews"
        else "Open Survey Answers"
        if unit == "answers"
        else unit.title()
    )
    return ApaTable(
        f"Themes in {what} by Function",
        frame,
        note,
        "tables/theme_by_role.csv" if unit == "interviews" else "tables/open_ended_by_role.csv",
    )


def _theme_unit(themes: pd.DataFrame) -> str:
    """What the theme table counts (``interviews``, ``answers``, ``segments``), by its columns."""
    return next(
        (
            c.split("_")[0]
            for c in themes.columns
            if c.endswith("_marketing") and c.split("_")[0] in ("interviews", "answers", "segments")
        ),
        "interviews",
    )


def _theme_note(themes: pd.DataFrame, unit: str, p: str) -> str:
    """The theme table's note before its dashes: shares, Fisher's test, adjusted p, Cohen's h."""
    p_head, p_words = _p_header(p)
    k = int(themes["p"].notna().sum())
    return (
        f"k/n: {unit} of each function that raise the theme, of all its {unit}. Fisher's exact "
        f"test {cite('fisher1922')}, two-sided, on {unit} with and without the theme by function"
        + (f"; {p_head}: {p_words} over the {plural(k, 'theme')}{_p_cite(p)}" if p != "p" else "")
        + ". h is Cohen's h, 2 arcsin √share_mkt − 2 arcsin √share_sales; positive: marketing "
        "raises the theme more often; .2, .5 and .8 are small, medium and large "
        f"{cite('cohen1988')}. Themes are coded by the codebook's patterns."
    )


def agreement_table(summary: pd.DataFrame, instrument) -> ApaTable:
    """Agreement within companies per scale: pairs, partner r and its p, ICC(1) [95% CI], median
    r_wg(j) and the share of companies at or above .70.

    Parameters
    ----------
    summary : :func:`research.analysis.agreement.agreement_summary` (the notebooks' agreement
        table).
    instrument : the instrument (scale labels, number of answer points for the r_wg null).
    """
    _require(
        summary,
        ["scale", "n_pairs", "r", "r_p", "icc1", "icc1_ci_low", "icc1_ci_high"],
        "the agreement summary",
    )
    part = _part(summary, instrument)
    labels = scale_labels(instrument)
    rows = [
        {
            "Scale": labels.get(r["scale"], r["scale"]),
            "Pairs": str(int(r["n_pairs"])),
            "r": fmt_bounded(r["r"]),
            "p": fmt_p(r["r_p"]),
            "ICC(1) [95% CI]": fmt_effect(
                r["icc1"], r["icc1_ci_low"], r["icc1_ci_high"], bounded=True
            ),
            "r_wg(j) Mdn": fmt_bounded(r.get("rwg_median")),
            "r_wg(j) ≥ .70": fmt_percent(r.get("rwg_share_70")),
        }
        for r in part.to_dict("records")
    ]
    frame = pd.DataFrame(
        rows,
        columns=["Scale", "Pairs", "r", "p", "ICC(1) [95% CI]", "r_wg(j) Mdn", "r_wg(j) ≥ .70"],
    )
    a = instrument.n_points
    note = (
        "Pairs: companies with a score from both functions (each function's mean over its "
        "respondents). r: Pearson correlation of the two functions' company means, with its "
        "unadjusted p. ICC(1): one-way random-effects, single-rater intraclass correlation "
        f"{cite('shrout1979')}, with its 95% interval. r_wg(j): within-company agreement of all "
        f"the company's respondents {cite('james1984')} against a uniform null variance (A² − "
        f"1)/12 = {(a * a - 1) / 12:g} for A = {a} answer points; median over companies with at "
        "least two complete respondents, and the share of them at or above .70."
    )
    note += _dash_note(frame) + _not_computed(part, "scale", labels)
    return ApaTable(
        f"{instrument.title}: Agreement Between the Two Functions Within Companies",
        frame,
        note,
        "tables/agreement.csv",
    )


def intercoder_table(
    agreement: pd.DataFrame, codebook=None, krippendorff: pd.DataFrame | None = None
) -> ApaTable:
    """Inter-coder agreement per theme and coder pair: units, percentage agreement, Cohen's kappa,
    and Krippendorff's alpha across all coders when given.

    Parameters
    ----------
    agreement : ``intercoder_agreement.csv``.
    codebook : the codebook (theme labels).
    krippendorff : :func:`research.analysis.intercoder.krippendorff_by_theme` (optional).
    """
    _require(
        agreement,
        ["theme", "coder_a", "coder_b", "units", "agreement", "kappa"],
        "intercoder_agreement.csv",
    )
    labels = codebook.labels() if codebook is not None else {}
    alpha = (
        krippendorff.set_index("theme")["alpha"].to_dict()
        if krippendorff is not None and len(krippendorff)
        else None
    )
    rows = []
    for r in agreement.to_dict("records"):
        row = {
            "Theme": labels.get(r["theme"], r["theme"]),
            "Coders": f"{r['coder_a']} – {r['coder_b']}",
            "Units": str(int(r["units"])),
            "Agreement": fmt_percent(r["agreement"]),
            "κ": fmt_bounded(r["kappa"]),
        }
        if alpha is not None:
            row["Krippendorff's α"] = fmt_bounded(alpha.get(r["theme"]))
        rows.append(row)
    cols = ["Theme", "Coders", "Units", "Agreement", "κ"] + (
        ["Krippendorff's α"] if alpha is not None else []
    )
    frame = pd.DataFrame(rows, columns=cols)
    note = (
        "Units: respondent segments of the interviews both coders coded. Agreement: share of units "
        "on which both coders say the same (theme present or absent). κ: Cohen's kappa "
        f"{cite('cohen1960')}."
    )
    if alpha is not None:
        note += (
            f" Krippendorff's α {cite('krippendorff2018')}: nominal, across all coders, a coder's "
            "uncoded interviews treated as missing."
        )
    if (frame["κ"] == DASH).any():
        note += (
            f" {DASH} for κ: chance agreement is perfect (both coders never or always code the "
            "theme)."
        )
    return ApaTable(
        "Agreement Between Human Coders by Theme", frame, note, "tables/intercoder_agreement.csv"
    )


#: The columns of ``company_summary.csv`` that :func:`company_table` formats.
_COMPANY_COLUMNS = (
    "company_id",
    "n_marketing",
    "n_sales",
    "total_marketing",
    "total_sales",
    "total",
    "gap",
    "band_marketing",
    "band_sales",
    "band",
)


def company_table(summary: pd.DataFrame, instrument, decision_table=None) -> ApaTable:
    """Companies: n per function, each function's total and stage, the company's, the gap, and the
    rules that fire.

    Parameters
    ----------
    summary : ``company_summary.csv``.
    instrument : the instrument with a banded total (labels, band ranges).
    decision_table : the study's decision table, to explain in the note each rule that fires
        (optional).
    """
    _require(summary, _COMPANY_COLUMNS, "company_summary.csv")
    part = _part(summary, instrument)
    rows, fired = [], []
    for r in part.to_dict("records"):
        rec = [x for x in str(r.get("recommendations") or "").split(";") if x and x != "nan"]
        fired += rec
        rows.append(_company_row(r, rec))
    frame = pd.DataFrame(
        rows,
        columns=[
            "Company",
            "n (mkt/sales)",
            "Marketing (stage)",
            "Sales (stage)",
            "Overall (stage)",
            "Gap",
            "Advice (rules)",
        ],
    )
    note = _company_note(instrument, decision_table, fired)
    note += (
        f" {DASH}: no respondent of that function, or no rule fires."
        if (frame == DASH).to_numpy().any()
        else ""
    )
    return ApaTable(
        f"{instrument.title}: Stage and Perception Gap by Company",
        frame,
        note,
        "tables/company_summary.csv",
    )


def _with_band(x, band) -> str:
    """A total to one decimal with its stage in parentheses (``61.5 (Defined)``)."""
    if _missing(x):
        return DASH
    return f"{fmt_stat(x, 1)} ({band})" if isinstance(band, str) and band else fmt_stat(x, 1)


def _company_row(r: dict, rules: list[str]) -> dict:
    """One company's row of the company table, given the rules that fire for it."""
    return {
        "Company": str(r["company_id"]),
        "n (mkt/sales)": _n_by_function(r),
        "Marketing (stage)": _with_band(r["total_marketing"], r["band_marketing"]),
        "Sales (stage)": _with_band(r["total_sales"], r["band_sales"]),
        "Overall (stage)": _with_band(r["total"], r["band"]),
        "Gap": fmt_stat(r["gap"], 1),
        "Advice (rules)": ", ".join(rules) if rules else DASH,
    }


def _company_note(instrument, decision_table, fired: list[str]) -> str:
    """The company table's note before its dashes: totals, gap, stages, each rule that fires."""
    total_label = (
        instrument.total.get("label", instrument.total["id"]) if instrument.total else "total"
    )
    note = (
        f"{total_label}: each function's mean over its respondents in the company; the overall "
        "total is the mean of the available function means (each function counts once). Gap: "
        "marketing minus sales (positive: marketing rates the relationship higher). Stages"
        f"{' ' + cite('kotler2006') if kotler_stages(instrument) else ''}: "
        f"{band_ranges(instrument)}. Advice: the decision-table rules that "
        "fire for the company."
    )
    if decision_table is not None and fired:
        rules = {rule.id: rule for rule in decision_table.rules}
        used = [rid for rid in dict.fromkeys(fired) if rid in rules]
        note += " " + " ".join(f"{rid}: {rules[rid].circumstance.rstrip('.')}." for rid in used)
    return note
