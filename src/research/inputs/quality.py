"""The data-quality log: every recoverable problem found while reading a study becomes one row of
``data_quality.csv`` (SPEC §4) and the run goes on. Fatal problems raise
:class:`research.errors.StudyError` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

QUALITY_COLUMNS = ["source", "record", "column", "value", "problem", "action"]

#: The problem words of SPEC §4, with the action each one gets.
PROBLEMS = {
    "out_of_range": "set to missing",
    "not_a_number": "set to missing",
    "unknown_role": "respondent left out",
    "unknown_respondent": "left out",
    "unfinished_response": "left out",
    "missing_transcript": "interview left out",
    "empty_transcript": "interview left out",
    "unknown_segment": "manual code left out",
    # Beyond the contract: problems a careful reader still wants to see.
    "duplicate_response": "later row left out",
    "invalid_transcript": "interview left out",
    "no_interviewer_turns": "kept; every turn coded",
    "blank_id": "row left out",
}


@dataclass
class QualityLog:
    """Collects recoverable problems as rows; :meth:`frame` returns them as ``data_quality.csv``.

    Examples
    --------
    >>> log = QualityLog()
    >>> log.add("survey.csv", "R7", "SMR01", "9", "out_of_range")
    >>> log.frame()[["record", "problem", "action"]].to_dict("records")
    [{'record': 'R7', 'problem': 'out_of_range', 'action': 'set to missing'}]
    """

    rows: list[dict] = field(default_factory=list)

    def add(self, source, record, column, value, problem, action=None) -> None:
        if problem not in PROBLEMS:
            raise ValueError(
                f"unknown data-quality problem {problem!r}; expected one of {sorted(PROBLEMS)}"
            )
        self.rows.append(
            {
                "source": str(source),
                "record": "" if record is None else str(record),
                "column": "" if column is None else str(column),
                "value": ""
                if value is None or (isinstance(value, float) and pd.isna(value))
                else str(value),
                "problem": problem,
                "action": action or PROBLEMS[problem],
            }
        )

    def extend(self, frame: pd.DataFrame) -> None:
        """Append rows already shaped like ``data_quality.csv``."""
        for row in frame.to_dict("records"):
            self.add(
                row["source"],
                row["record"],
                row["column"],
                row["value"],
                row["problem"],
                row["action"],
            )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=QUALITY_COLUMNS).astype(str)
