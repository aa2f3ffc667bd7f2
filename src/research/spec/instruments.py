"""Instruments: the YAML model, its validation, reverse keys, scoring and bands (SPEC §2).

Scoring, exactly as the contract says:

- a reverse-keyed item's keyed value is ``min + max - x``;
- a subscale score is the mean of its answered items when at least ``ceil(min_answered * k)``
  of its ``k`` items are answered, else missing;
- the total is the prorated sum ``mean(answered items) * n_items`` under the same rule over all
  items;
- a total's band is the last band whose ``min`` is at most the total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from research.errors import StudyError
from research.spec.yamlfile import check_entry_keys, entry_where, read_yaml_ref

ID_COLUMNS = ["respondent_id", "company_id", "role"]


@dataclass(frozen=True)
class Item:
    """One item: id, subscale (``""`` for none), text, reverse key and the researcher's own keys."""

    id: str
    subscale: str
    text: str = ""
    reverse: bool = False
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Instrument:
    """One questionnaire: its response scale, subscales, items and optional banded total."""

    id: str
    title: str
    scale_min: float
    scale_max: float
    labels: tuple[str, ...]
    min_answered: float
    subscales: tuple[dict, ...]
    items: tuple[Item, ...]
    total: dict | None = None
    dimensions: tuple[dict, ...] = ()
    source: str = ""

    @property
    def item_ids(self) -> list[str]:
        """The item ids, in the instrument's order."""
        return [item.id for item in self.items]

    @property
    def subscale_ids(self) -> list[str]:
        """The subscale ids, in the instrument's order."""
        return [s["id"] for s in self.subscales]

    def items_of(self, subscale: str) -> list[str]:
        """The ids of the items of one subscale."""
        return [item.id for item in self.items if item.subscale == subscale]

    @property
    def scales(self) -> dict[str, list[str]]:
        """Every scored scale (subscales, then the total if any) mapped to its item ids."""
        out = {s: self.items_of(s) for s in self.subscale_ids}
        if self.total:
            out[self.total["id"]] = self.item_ids
        return out

    @property
    def n_points(self) -> int:
        """The number of points of the response scale."""
        return int(self.scale_max - self.scale_min + 1)

    def label_map(self) -> dict[str, float]:
        """Response labels (lower-cased, trimmed) mapped to their numeric values."""
        return {lab.strip().lower(): self.scale_min + i for i, lab in enumerate(self.labels)}

    def band_of(self, total: float) -> str | None:
        """The last band whose ``min`` is at most ``total``; ``None`` if missing or below all."""
        if not self.total or total is None or pd.isna(total):
            return None
        label = None
        for band in self.total.get("bands", []):
            if band["min"] <= total:
                label = band["label"]
        return label


#: The keys of an item in the model, and the extra keys the toolkit reads by name (the
#: thought-worlds analysis groups items by ``target`` and ``dimension``). Any other item key that
#: is not close to one of these is the researcher's own and is kept in :attr:`Item.extra`; a key
#: close to one of them is a misspelling and is fatal (see :mod:`research.spec.yamlfile`).
ITEM_KEYS = ("id", "subscale", "text", "reverse")
ITEM_EXTRAS = ("target", "dimension")
#: The keys of a subscale; other keys are annotations, unless close to one of these.
SUBSCALE_KEYS = ("id", "label")


def _fail(source: str, key: str, message: str, kind: str = "", entry_id=None):
    raise StudyError(source, entry_where(key, kind, entry_id), message)


def _check_required(spec, source: str) -> str:
    """The instrument is a mapping with ``id``, ``response_scale`` and ``items``; return its id."""
    if not isinstance(spec, dict):
        raise StudyError(source, "", "an instrument must be a YAML mapping")
    for key in ("id", "response_scale", "items"):
        if key not in spec:
            _fail(source, key, "required key is missing")
    inst_id = spec["id"]
    if not isinstance(inst_id, str) or not inst_id.strip():
        _fail(source, "id", "must be a non-empty string")
    return inst_id


def _check_scale(spec: dict, source: str) -> tuple[float, float, list]:
    """The response scale: numeric ``min`` below ``max`` and, if given, one label per point."""
    scale = spec["response_scale"]
    if not isinstance(scale, dict) or "min" not in scale or "max" not in scale:
        _fail(source, "response_scale", "needs numeric 'min' and 'max'")
    try:
        lo, hi = float(scale["min"]), float(scale["max"])
    except (TypeError, ValueError):
        _fail(
            source,
            "response_scale",
            f"min and max must be numbers, got {scale['min']!r} and {scale['max']!r}",
        )
    if not lo < hi:
        _fail(source, "response_scale", f"min ({lo:g}) must be below max ({hi:g})")
    labels = scale.get("labels") or []
    if labels and len(labels) != int(hi - lo + 1):
        _fail(
            source,
            "response_scale.labels",
            f"{len(labels)} labels for a {int(hi - lo + 1)}-point scale",
        )
    return lo, hi, labels


def _check_min_answered(spec: dict, source: str) -> float:
    """The share of a scale's items that must be answered for a score, in (0, 1]."""
    min_answered = spec.get("min_answered", 0.8)
    if not isinstance(min_answered, (int, float)) or not 0 < min_answered <= 1:
        _fail(source, "min_answered", f"must be a share in (0, 1], got {min_answered!r}")
    return float(min_answered)


def _check_subscales(spec: dict, source: str) -> list[dict]:
    """The subscales: a list of mappings each with a unique ``id``; return ``{id, label}`` each."""
    subscales = spec.get("subscales") or []
    if not isinstance(subscales, list):
        _fail(source, "subscales", "must be a list of mappings each with an 'id'")
    out, seen = [], set()
    for n, sub in enumerate(subscales):
        key = f"subscales[{n}]"
        if not isinstance(sub, dict):
            _fail(source, key, "must be a list of mappings each with an 'id'")
        check_entry_keys(source, key, "subscale", sub, SUBSCALE_KEYS)
        if not sub.get("id"):
            _fail(source, key, "must be a list of mappings each with an 'id'")
        sid = str(sub["id"])
        if sid in seen:
            _fail(
                source,
                f"{key}.id",
                f"duplicate subscale id {sid!r}: subscale ids must be unique",
                "subscale",
                sid,
            )
        seen.add(sid)
        out.append({"id": sid, "label": str(sub.get("label", sub["id"]))})
    return out


def _check_item(it, n: int, source: str, sub_ids: list[str], seen: set) -> Item:
    """One item: known keys (misspellings refused), a unique ``id``, a listed ``subscale``, a
    flag ``reverse``.
    """
    key = f"items[{n}]"
    if isinstance(it, dict):
        check_entry_keys(source, key, "item", it, ITEM_KEYS, ITEM_EXTRAS)
    if not isinstance(it, dict) or not it.get("id"):
        _fail(source, key, "each item needs an 'id'")
    iid = str(it["id"])
    if iid in seen:
        _fail(source, f"{key}.id", f"duplicate item id {iid!r}", "item", iid)
    sub = it.get("subscale")
    if sub is not None and str(sub) not in sub_ids:
        _fail(
            source, f"{key}.subscale", f"{sub!r} is not one of the subscales {sub_ids}", "item", iid
        )
    if not isinstance(it.get("reverse", False), bool):
        _fail(source, f"{key}.reverse", "must be true or false", "item", iid)
    extra = {k: v for k, v in it.items() if k not in ITEM_KEYS}
    return Item(
        iid,
        "" if sub is None else str(sub),
        str(it.get("text", "")),
        it.get("reverse", False),
        extra,
    )


def _check_items(spec: dict, source: str, subscales: list[dict]) -> list[Item]:
    """The items, each checked by :func:`_check_item`; every subscale must have at least one."""
    raw_items = spec["items"]
    if not isinstance(raw_items, list) or not raw_items:
        _fail(source, "items", "must be a non-empty list")
    sub_ids = [s["id"] for s in subscales]
    items, seen = [], set()
    for n, it in enumerate(raw_items):
        item = _check_item(it, n, source, sub_ids, seen)
        seen.add(item.id)
        items.append(item)
    for n, sid in enumerate(sub_ids):
        if not any(i.subscale == sid for i in items):
            _fail(source, f"subscales[{n}]", f"subscale {sid!r} has no items", "subscale", sid)
    return items


def _check_bands(bands, source: str) -> list[dict]:
    """A total's bands: each with ``label`` and a numeric ``min``, in increasing ``min`` order."""
    mins = []
    for n, band in enumerate(bands):
        if not isinstance(band, dict) or "label" not in band or "min" not in band:
            _fail(source, f"total.bands[{n}]", "each band needs 'label' and 'min'")
        if not isinstance(band["min"], (int, float)):
            _fail(source, f"total.bands[{n}].min", f"must be a number, got {band['min']!r}")
        mins.append(band["min"])
    if mins != sorted(mins):
        _fail(source, "total.bands", "bands must be listed in increasing order of 'min'")
    return [{"label": str(b["label"]), "min": float(b["min"])} for b in bands]


def _check_total(spec: dict, source: str, subscales: list[dict]) -> dict | None:
    """The optional total: an ``id`` unlike every subscale's, a ``label`` and its bands."""
    total = spec.get("total")
    if total is None:
        return None
    if not isinstance(total, dict) or not total.get("id"):
        _fail(source, "total", "needs an 'id'")
    if str(total["id"]) in [s["id"] for s in subscales]:
        _fail(source, "total.id", "must differ from every subscale id")
    bands = _check_bands(total.get("bands") or [], source)
    return {"id": str(total["id"]), "label": str(total.get("label", total["id"])), "bands": bands}


def instrument_from_dict(spec: dict, source: str = "<instrument>") -> Instrument:
    """Validate an instrument specification and build an :class:`Instrument`.

    The steps, in order: the required keys and the id, the response scale, ``min_answered``, the
    subscales, each item, then the total and its bands. Item keys other than ``id``, ``subscale``,
    ``text``, ``reverse``, ``target`` and ``dimension`` are kept in :attr:`Item.extra`, unless they
    are close to one of these (a misspelling such as ``revrese``, which is fatal with a "did you
    mean").

    Parameters
    ----------
    spec : dict
        The instrument as read from YAML.
    source : str
        How messages name the file.

    Returns
    -------
    Instrument

    Raises
    ------
    StudyError
        Naming the file and the key at fault, and the item or subscale by its id, e.g.
        ``key 'items[3].subscale' (item 'SMR04')``.

    Examples
    --------
    >>> inst = instrument_from_dict({
    ...     "id": "x", "response_scale": {"min": 1, "max": 5},
    ...     "subscales": [{"id": "a"}],
    ...     "items": [{"id": "X1", "subscale": "a"},
    ...               {"id": "X2", "subscale": "a", "reverse": True}]})
    >>> inst.scales
    {'a': ['X1', 'X2']}
    """
    inst_id = _check_required(spec, source)
    lo, hi, labels = _check_scale(spec, source)
    min_answered = _check_min_answered(spec, source)
    subscales = _check_subscales(spec, source)
    items = _check_items(spec, source, subscales)
    total = _check_total(spec, source, subscales)
    dims = tuple(spec.get("dimensions") or ())
    return Instrument(
        id=str(inst_id),
        title=str(spec.get("title", inst_id)),
        scale_min=lo,
        scale_max=hi,
        labels=tuple(str(x) for x in labels),
        min_answered=min_answered,
        subscales=tuple(subscales),
        items=tuple(items),
        total=total,
        dimensions=dims,
        source=source,
    )


def load_instrument(ref: str, base: Path | None = None) -> Instrument:
    """Load ``builtin:NAME`` or a YAML path (relative to ``base``) and validate it.

    Examples
    --------
    >>> smr = load_instrument("builtin:smr")
    >>> len(smr.items), smr.total["bands"][2]["label"]
    (20, 'Aligned')
    """
    return instrument_from_dict(*read_yaml_ref(ref, base, "instrument"))


def keyed(values: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Return item values with reverse-keyed items turned round (``min + max - x``).

    Examples
    --------
    >>> inst = load_instrument("builtin:smr")
    >>> keyed(pd.DataFrame({"SMR02": [1.0, 5.0]}), inst)["SMR02"].tolist()
    [5.0, 1.0]
    """
    out = values.copy()
    for item in instrument.items:
        if item.reverse and item.id in out:
            out[item.id] = instrument.scale_min + instrument.scale_max - out[item.id]
    return out


def _prorated(block: pd.DataFrame, min_share: float) -> tuple[pd.Series, pd.Series]:
    k = block.shape[1]
    need = math.ceil(min_share * k - 1e-9)
    answered = block.notna().sum(axis=1)
    mean = block.mean(axis=1, skipna=True).where(answered >= need)
    return mean, answered


def score(answers: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Score one instrument per respondent from *keyed* item values.

    Parameters
    ----------
    answers : DataFrame
        One row per respondent with ``respondent_id`` (and any id columns) and one column per item,
        holding keyed values (see :func:`keyed`).
    instrument : Instrument

    Returns
    -------
    DataFrame
        The id columns present, ``instrument``, one column per subscale, the total's id and ``band``
        (when the instrument has a total), and ``n_answered``.

    Examples
    --------
    >>> inst = instrument_from_dict({"id": "t", "response_scale": {"min": 1, "max": 5},
    ...     "min_answered": 0.5, "subscales": [{"id": "a"}],
    ...     "items": [{"id": "A1", "subscale": "a"}, {"id": "A2", "subscale": "a"}],
    ...     "total": {"id": "tot",
    ...               "bands": [{"label": "low", "min": 2}, {"label": "high", "min": 6}]}})
    >>> answers = pd.DataFrame({"respondent_id": ["1", "2"], "A1": [4, 3], "A2": [None, 2]})
    >>> score(answers, inst)[["a", "tot", "band"]].to_dict("list")
    {'a': [4.0, 2.5], 'tot': [8.0, 5.0], 'band': ['high', 'low']}
    """
    ids = [c for c in ID_COLUMNS if c in answers]
    item_cols = instrument.item_ids
    block = answers.reindex(columns=item_cols).apply(pd.to_numeric, errors="coerce").astype(float)
    out = answers[ids].copy()
    out["instrument"] = instrument.id
    for sid in instrument.subscale_ids:
        out[sid], _ = _prorated(block[instrument.items_of(sid)], instrument.min_answered)
    out["n_answered"] = block.notna().sum(axis=1).astype(int)
    if instrument.total:
        mean, _ = _prorated(block, instrument.min_answered)
        tid = instrument.total["id"]
        out[tid] = mean * len(item_cols)
        out["band"] = [instrument.band_of(v) for v in out[tid]]
        out["band"] = out["band"].astype("str").where(out["band"].notna(), None)
    return out.reset_index(drop=True)
