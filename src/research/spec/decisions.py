"""The decision table: rules that say when a company should stay at its stage, when and how to move.

A rule fires for a company when its ``when`` conditions hold. Each condition names a *field* of the
company summary (``band``, ``band_marketing``, ``band_sales``, ``total``, ``gap``, ``abs_gap``,
``n_marketing``, ``n_sales``) or a company attribute (``attr:NAME``, taken from the respondents
file) and one comparison (``eq``, ``ne``, ``in``, ``not_in``, ``lt``, ``le``, ``gt``, ``ge``).
``when.all`` must all hold and, if given, at least one of ``when.any``. A condition on a field that
the study lacks, or that is missing for the company, is *not assessable*: the rule is then reported
as not assessable for that company (unless another condition already rules it out), never guessed.

A rule's keys are ``id``, ``action``, ``stage``, ``target``, ``circumstance``, ``moves`` and
``when``; another key close to one of these is taken for a misspelling and is fatal, any other is an
annotation the toolkit does not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from research.errors import StudyError
from research.spec.yamlfile import check_entry_keys, entry_where, read_yaml_ref

OPERATORS = ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge")
ACTIONS = ("stay", "move", "attend")
SUMMARY_FIELDS = (
    "band",
    "band_marketing",
    "band_sales",
    "total",
    "total_marketing",
    "total_sales",
    "gap",
    "abs_gap",
    "n_marketing",
    "n_sales",
)


_FIELD_WORDS = {
    "band": "the company's stage",
    "band_marketing": "marketing's stage",
    "band_sales": "sales' stage",
    "total": "the company total",
    "total_marketing": "marketing's total",
    "total_sales": "sales' total",
    "gap": "the gap (marketing minus sales)",
    "abs_gap": "the gap between the two functions (either way)",
    "n_marketing": "the number of marketing respondents",
    "n_sales": "the number of sales respondents",
}


def field_words(field: str) -> str:
    """A rule field in words (``abs_gap``: the gap between the two functions (either way); an
    attribute ``attr:sales_cycle``: sales cycle).

    Examples
    --------
    >>> field_words("n_sales"), field_words("attr:sales_cycle")
    ('the number of sales respondents', 'sales cycle')
    """
    return _FIELD_WORDS.get(field, field.removeprefix("attr:").replace("_", " "))


_OP_WORDS = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "lt": "is below",
    "le": "is at most",
    "gt": "is above",
    "ge": "is at least",
}


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: object

    def words(self) -> str:
        """The condition in words, for reports.

        Examples
        --------
        >>> print(Condition("abs_gap", "ge", 10).words())
        the gap between the two functions (either way) is at least 10
        >>> print(Condition("attr:sales_cycle", "in", ["short", "mid"]).words())
        sales cycle is one of short or mid
        """
        name = field_words(self.field)
        values = self.value if isinstance(self.value, list) else [self.value]
        shown = " or ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
        return f"{name} {_OP_WORDS[self.op]} {shown}"

    def evaluate(self, facts: dict):
        """True, False, or None when the field is not assessable."""
        if self.field not in facts:
            return None
        got = facts[self.field]
        if got is None or (not isinstance(got, str) and pd.isna(got)):
            return None
        if self.op in ("lt", "le", "gt", "ge"):
            try:
                x, y = float(got), float(self.value)
            except (TypeError, ValueError):
                return None
            return {"lt": x < y, "le": x <= y, "gt": x > y, "ge": x >= y}[self.op]
        norm = str(got).strip().lower()
        wanted = [
            str(v).strip().lower()
            for v in (self.value if isinstance(self.value, list) else [self.value])
        ]
        return {
            "eq": norm == wanted[0],
            "ne": norm != wanted[0],
            "in": norm in wanted,
            "not_in": norm not in wanted,
        }[self.op]


@dataclass(frozen=True)
class Rule:
    id: str
    action: str
    stage: str | None
    target: str | None
    circumstance: str
    moves: tuple[str, ...]
    all: tuple[Condition, ...]
    any: tuple[Condition, ...]

    def held(self, facts: dict) -> list[Condition]:
        """The conditions that hold for these facts (of ``all`` and of ``any``)."""
        return [c for c in (*self.all, *self.any) if c.evaluate(facts) is True]

    def evaluate(self, facts: dict) -> tuple[str, list[str]]:
        """Return (``fires`` | ``does not fire`` | ``not assessable``, fields not assessable)."""
        results = [(c, c.evaluate(facts)) for c in self.all]
        missing = [c.field for c, r in results if r is None]
        if any(r is False for _, r in results):
            return "does not fire", []
        any_ok = True
        if self.any:
            any_results = [(c, c.evaluate(facts)) for c in self.any]
            if any(r is True for _, r in any_results):
                any_ok = True
            elif any(r is None for _, r in any_results):
                missing += [c.field for c, r in any_results if r is None]
                any_ok = None
            else:
                return "does not fire", []
        if missing or any_ok is None:
            return "not assessable", sorted(set(missing))
        return "fires", []


def _as_sentence(text: str) -> str:
    """``text`` ending in a full stop (or its own ``!``/``?``), so moves read as sentences in a row.

    Examples
    --------
    >>> _as_sentence("Agree on shared terms"), _as_sentence("Meet monthly.")
    ('Agree on shared terms.', 'Meet monthly.')
    """
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


@dataclass(frozen=True)
class DecisionTable:
    id: str
    rules: tuple[Rule, ...]
    source: str = ""

    def frame(self) -> pd.DataFrame:
        """The rules as a table for reports."""
        return pd.DataFrame(
            [
                {
                    "rule": r.id,
                    "action": r.action,
                    "stage": r.stage,
                    "target": r.target,
                    "circumstance": r.circumstance,
                    "moves": " ".join(_as_sentence(m) for m in r.moves),
                }
                for r in self.rules
            ]
        )


#: The keys of a rule; other keys are annotations, unless close to one of these (a misspelling
#: such as ``acton``, which is fatal: see :mod:`research.spec.yamlfile`).
RULE_KEYS = ("id", "action", "stage", "target", "circumstance", "moves", "when")


def _condition(spec, source, key, rule_id=None) -> Condition:
    def bad(where, message):
        raise StudyError(source, entry_where(where, "rule", rule_id), message)

    if not isinstance(spec, dict) or "field" not in spec:
        bad(key, "a condition needs 'field' and one comparison")
    ops = [op for op in OPERATORS if op in spec]
    if len(ops) != 1 or set(spec) - {"field", *OPERATORS}:
        bad(key, f"a condition needs exactly one of {list(OPERATORS)}")
    field = str(spec["field"])
    if field not in SUMMARY_FIELDS and not field.startswith("attr:"):
        bad(
            f"{key}.field",
            f"unknown field {field!r}; use one of {list(SUMMARY_FIELDS)} or attr:NAME",
        )
    op = ops[0]
    if op in ("in", "not_in") and not isinstance(spec[op], list):
        bad(f"{key}.{op}", "needs a list of values")
    if op in ("lt", "le", "gt", "ge") and not isinstance(spec[op], (int, float)):
        bad(f"{key}.{op}", "needs a number")
    return Condition(field, op, spec[op])


def _rule(r, n: int, source: str, seen: set) -> Rule:
    """One rule: known keys (misspellings refused), a unique id, an action, the circumstance, moves
    and conditions.
    """
    key = f"rules[{n}]"
    if isinstance(r, dict):
        check_entry_keys(source, key, "rule", r, RULE_KEYS)
    if not isinstance(r, dict) or not r.get("id"):
        raise StudyError(source, f"key '{key}'", "each rule needs an 'id'")
    rid = r["id"]

    def bad(where, message):
        raise StudyError(source, entry_where(f"{key}.{where}", "rule", rid), message)

    if rid in seen:
        bad("id", f"duplicate rule id {rid!r}")
    if r.get("action") not in ACTIONS:
        bad("action", f"must be one of {list(ACTIONS)}, got {r.get('action')!r}")
    if not isinstance(r.get("circumstance"), str):
        bad("circumstance", "each rule needs the circumstance in words")
    moves = r.get("moves") or []
    if not isinstance(moves, list) or not all(isinstance(m, str) for m in moves):
        bad("moves", "must be a list of recommended moves in words")
    when = r.get("when")
    if (
        not isinstance(when, dict)
        or not (when.get("all") or when.get("any"))
        or set(when) - {"all", "any"}
    ):
        bad("when", "needs 'all' and/or 'any': lists of conditions")
    conds = {
        part: tuple(
            _condition(c, source, f"{key}.when.{part}[{k}]", rid)
            for k, c in enumerate(when.get(part) or [])
        )
        for part in ("all", "any")
    }
    return Rule(
        str(rid),
        r["action"],
        r.get("stage"),
        r.get("target"),
        r["circumstance"].strip(),
        tuple(moves),
        conds["all"],
        conds["any"],
    )


def decision_table_from_dict(spec, source: str = "<decision table>") -> DecisionTable:
    """Validate a decision-table mapping and build a :class:`DecisionTable`.

    Raises
    ------
    StudyError
        Naming the file, the key and the rule by its id, e.g.
        ``key 'rules[1].when' (rule 'move-to-defined')``; a rule key close to a known one
        (``acton``) gets a "did you mean".

    Examples
    --------
    >>> table = decision_table_from_dict({"rules": [{"id": "r1", "action": "move",
    ...     "circumstance": "c",
    ...     "moves": ["m"], "when": {"all": [{"field": "band", "eq": "Undefined"}]}}]})
    >>> table.rules[0].evaluate({"band": "undefined"})
    ('fires', [])
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("rules"), list) or not spec["rules"]:
        raise StudyError(source, "key 'rules'", "a decision table needs a non-empty list of rules")
    rules, seen = [], set()
    for n, r in enumerate(spec["rules"]):
        rule = _rule(r, n, source, seen)
        seen.add(r["id"])
        rules.append(rule)
    return DecisionTable(str(spec.get("id", "decisions")), tuple(rules), source)


def load_decision_table(ref: str, base: Path | None = None) -> DecisionTable:
    """Load ``builtin:default`` or a decision-table YAML path and validate it.

    Parameters
    ----------
    ref : str
        ``builtin:NAME`` or a path to a decision-table YAML file.
    base : Path, optional
        The folder a relative path starts from (the study folder).

    Returns
    -------
    DecisionTable

    Raises
    ------
    StudyError
        A missing file, a YAML syntax error (line and column) or an invalid table (the key and
        rule).

    Examples
    --------
    >>> load_decision_table("builtin:default").rules[1].id
    'move-to-defined'
    """
    return decision_table_from_dict(*read_yaml_ref(ref, base, "decision table"))
