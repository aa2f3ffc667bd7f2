"""Instruments: the YAML model, its validation, reverse keys, scoring and bands (SPEC §2).

Scoring, exactly as the contract says:

- a reverse-keyed item's keyed value is ``min + max - x``;
- a subscale score is the mean of its answered items when at least ``ceil(min_answered * k)``
  of its ``k`` items are answered, else missing;
- the total is the prorated sum ``mean(answered items) * n_items`` under the same rule over all items;
- a total's band is the last band whose ``min`` is at most the total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from research.errors import StudyError
from research.spec.yamlfile import read_yaml_ref

ID_COLUMNS = ["respondent_id", "company_id", "role"]


@dataclass(frozen=True)
class Item:
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
        return [item.id for item in self.items]

    @property
    def subscale_ids(self) -> list[str]:
        return [s["id"] for s in self.subscales]

    def items_of(self, subscale: str) -> list[str]:
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
        return int(self.scale_max - self.scale_min + 1)

    def label_map(self) -> dict[str, float]:
        """Response labels (lower-cased, trimmed) mapped to their numeric values."""
        return {lab.strip().lower(): self.scale_min + i for i, lab in enumerate(self.labels)}

    def band_of(self, total: float) -> str | None:
        """The last band whose ``min`` is at most ``total``; ``None`` when missing or below every band."""
        if not self.total or total is None or pd.isna(total):
            return None
        label = None
        for band in self.total.get("bands", []):
            if band["min"] <= total:
                label = band["label"]
        return label


def _fail(source: str, key: str, message: str):
    raise StudyError(source, f"key '{key}'", message)


def instrument_from_dict(spec: dict, source: str = "<instrument>") -> Instrument:
    """Validate an instrument specification and build an :class:`Instrument`.

    Raises :class:`StudyError` naming the file and the key at fault.

    Examples
    --------
    >>> inst = instrument_from_dict({
    ...     "id": "x", "response_scale": {"min": 1, "max": 5},
    ...     "subscales": [{"id": "a"}],
    ...     "items": [{"id": "X1", "subscale": "a"}, {"id": "X2", "subscale": "a", "reverse": True}]})
    >>> inst.scales
    {'a': ['X1', 'X2']}
    """
    if not isinstance(spec, dict):
        raise StudyError(source, "", "an instrument must be a YAML mapping")
    for key in ("id", "response_scale", "items"):
        if key not in spec:
            _fail(source, key, "required key is missing")
    inst_id = spec["id"]
    if not isinstance(inst_id, str) or not inst_id.strip():
        _fail(source, "id", "must be a non-empty string")
    scale = spec["response_scale"]
    if not isinstance(scale, dict) or "min" not in scale or "max" not in scale:
        _fail(source, "response_scale", "needs numeric 'min' and 'max'")
    try:
        lo, hi = float(scale["min"]), float(scale["max"])
    except (TypeError, ValueError):
        _fail(source, "response_scale", f"min and max must be numbers, got {scale['min']!r} and {scale['max']!r}")
    if not lo < hi:
        _fail(source, "response_scale", f"min ({lo:g}) must be below max ({hi:g})")
    labels = scale.get("labels") or []
    if labels and len(labels) != int(hi - lo + 1):
        _fail(source, "response_scale.labels", f"{len(labels)} labels for a {int(hi - lo + 1)}-point scale")
    min_answered = spec.get("min_answered", 0.8)
    if not isinstance(min_answered, (int, float)) or not 0 < min_answered <= 1:
        _fail(source, "min_answered", f"must be a share in (0, 1], got {min_answered!r}")
    subscales = spec.get("subscales") or []
    if not isinstance(subscales, list) or not all(isinstance(s, dict) and s.get("id") for s in subscales):
        _fail(source, "subscales", "must be a list of mappings each with an 'id'")
    sub_ids = [str(s["id"]) for s in subscales]
    if len(set(sub_ids)) != len(sub_ids):
        _fail(source, "subscales", "subscale ids must be unique")
    raw_items = spec["items"]
    if not isinstance(raw_items, list) or not raw_items:
        _fail(source, "items", "must be a non-empty list")
    items, seen = [], set()
    for n, it in enumerate(raw_items):
        if not isinstance(it, dict) or not it.get("id"):
            _fail(source, f"items[{n}]", "each item needs an 'id'")
        iid = str(it["id"])
        if iid in seen:
            _fail(source, f"items[{n}].id", f"duplicate item id {iid!r}")
        seen.add(iid)
        sub = it.get("subscale")
        if sub is not None and str(sub) not in sub_ids:
            _fail(source, f"items[{n}].subscale", f"{sub!r} is not one of the subscales {sub_ids}")
        if not isinstance(it.get("reverse", False), bool):
            _fail(source, f"items[{n}].reverse", "must be true or false")
        extra = {k: v for k, v in it.items() if k not in {"id", "subscale", "text", "reverse"}}
        items.append(Item(iid, "" if sub is None else str(sub), str(it.get("text", "")), it.get("reverse", False), extra))
    for sid in sub_ids:
        if not any(i.subscale == sid for i in items):
            _fail(source, "subscales", f"subscale {sid!r} has no items")
    total = spec.get("total")
    if total is not None:
        if not isinstance(total, dict) or not total.get("id"):
            _fail(source, "total", "needs an 'id'")
        if str(total["id"]) in sub_ids:
            _fail(source, "total.id", "must differ from every subscale id")
        bands = total.get("bands") or []
        mins = []
        for n, band in enumerate(bands):
            if not isinstance(band, dict) or "label" not in band or "min" not in band:
                _fail(source, f"total.bands[{n}]", "each band needs 'label' and 'min'")
            if not isinstance(band["min"], (int, float)):
                _fail(source, f"total.bands[{n}].min", f"must be a number, got {band['min']!r}")
            mins.append(band["min"])
        if mins != sorted(mins):
            _fail(source, "total.bands", "bands must be listed in increasing order of 'min'")
        total = {"id": str(total["id"]), "label": str(total.get("label", total["id"])),
                 "bands": [{"label": str(b["label"]), "min": float(b["min"])} for b in bands]}
    dims = tuple(spec.get("dimensions") or ())
    return Instrument(
        id=str(inst_id), title=str(spec.get("title", inst_id)), scale_min=lo, scale_max=hi,
        labels=tuple(str(x) for x in labels), min_answered=float(min_answered),
        subscales=tuple({"id": str(s["id"]), "label": str(s.get("label", s["id"]))} for s in subscales),
        items=tuple(items), total=total, dimensions=dims, source=source,
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
    ...     "min_answered": 0.5, "subscales": [{"id": "a"}], "items": [{"id": "A1", "subscale": "a"},
    ...     {"id": "A2", "subscale": "a"}], "total": {"id": "tot", "bands": [{"label": "low", "min": 2},
    ...     {"label": "high", "min": 6}]}})
    >>> score(pd.DataFrame({"respondent_id": ["1", "2"], "A1": [4, 3], "A2": [None, 2]}), inst)[["a", "tot", "band"]].to_dict("list")
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


def band_table(instrument: Instrument) -> pd.DataFrame:
    """The bands of an instrument's total with their ranges, for reports."""
    if not instrument.total:
        return pd.DataFrame(columns=["band", "min", "max"])
    bands = instrument.total["bands"]
    top = instrument.scale_max * len(instrument.items)
    rows = []
    for i, b in enumerate(bands):
        upper = bands[i + 1]["min"] if i + 1 < len(bands) else np.inf
        rows.append({"band": b["label"], "min": b["min"], "max": min(upper, top) if np.isfinite(upper) else top})
    return pd.DataFrame(rows)
