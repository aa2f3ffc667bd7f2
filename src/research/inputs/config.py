"""``study.yaml``: read safely, checked key by key against a table of rules, defaults filled in.

See SPEC §1.

Each key has one rule: its kind of value, whether it is required, and its default. A problem is
fatal (:class:`research.errors.StudyError`) and names the file, the key and what was expected; an
unknown key close to a known one gets a "did you mean"; a YAML syntax error gives its line and
column. The YAML helpers (:func:`did_you_mean`, :func:`yaml_error_message`, :func:`load_yaml_file`)
live in
:mod:`research.spec.yamlfile`, where the instrument, codebook and decision-table readers use them
too; they are imported here so that ``from research.inputs.config import did_you_mean`` keeps
working.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from research.errors import StudyError
from research.spec.yamlfile import did_you_mean, load_yaml_file, yaml_error_message

__all__ = [
    "KEY_RULES",
    "ROLES",
    "KeyRule",
    "did_you_mean",
    "load_yaml_file",
    "read_config",
    "yaml_error_message",
]

ROLES = ("marketing", "sales")


@dataclass(frozen=True)
class KeyRule:
    """What one key of ``study.yaml`` holds."""

    kind: str  # "text", "list of text", "flag", "roles"
    required: bool = False
    default: object = None
    meaning: str = ""


#: Every key of study.yaml, in the order SPEC §1 lists them.
KEY_RULES: dict[str, KeyRule] = {
    "name": KeyRule("text", True, meaning="the study's name; its slug names the output folders"),
    "description": KeyRule("text", meaning="free text for the reader"),
    "respondents": KeyRule("text", True, meaning="respondents file (.csv, .xlsx or .sav)"),
    "survey": KeyRule("text", meaning="survey file; defaults to the respondents file"),
    "survey_id_column": KeyRule(
        "text", default="respondent_id", meaning="the survey column holding respondent_id"
    ),
    "include_unfinished": KeyRule(
        "flag", default=False, meaning="keep Qualtrics rows with Finished = 0"
    ),
    "instruments": KeyRule(
        "list of text", True, meaning="built-in names (builtin:NAME) or instrument YAML paths"
    ),
    "roles": KeyRule("roles", True, meaning="raw role labels for marketing and for sales"),
    "interviews": KeyRule(
        "text", meaning="interviews file (interview_id, respondent_id, file, interviewer)"
    ),
    "transcripts": KeyRule("text", meaning="folder holding the transcript files"),
    "codebook": KeyRule("text", meaning="builtin:default or a codebook YAML path"),
    "manual_codes": KeyRule(
        "text", meaning="human coders' codes (interview_id, segment, coder, theme)"
    ),
    "open_ended": KeyRule(
        "list of text", default=[], meaning="free-text survey columns coded with the codebook"
    ),
    "outcomes": KeyRule(
        "list of text", default=[], meaning="numeric respondents-file columns: company outcomes"
    ),
    "decision_table": KeyRule(
        "text", default="builtin:default", meaning="builtin:default or a decision-table path"
    ),
    "attributes": KeyRule("list of text", meaning="reserved: respondent attributes to show"),
}


def _check(path: str, key: str, rule: KeyRule, value):
    def bad(message):
        raise StudyError(path, f"key '{key}'", message)

    if rule.kind == "text" and not isinstance(value, str):
        bad(f"must be a text value, got {value!r}")
    if rule.kind == "flag" and not isinstance(value, bool):
        bad("must be true or false")
    if rule.kind == "list of text":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            bad(f"must be a list of text values ({rule.meaning})")
    if rule.kind == "roles":
        value = _check_roles(path, value)
    return value


def _check_roles(path: str, roles) -> dict:
    if not isinstance(roles, dict):
        raise StudyError(
            path,
            "key 'roles'",
            "must map each canonical role (marketing, sales) to a list of raw labels",
        )
    for role in roles:
        if role not in ROLES:
            raise StudyError(
                path,
                f"key 'roles.{role}'",
                "the roles are marketing and sales" + did_you_mean(role, ROLES),
            )
    for role in ROLES:
        if role not in roles:
            raise StudyError(
                path, f"key 'roles.{role}'", "required: the toolkit compares marketing with sales"
            )
    out = {}
    for role, labels in roles.items():
        labels = [labels] if isinstance(labels, (str, int)) else labels
        if (
            not isinstance(labels, list)
            or not labels
            or not all(isinstance(x, (str, int)) for x in labels)
        ):
            raise StudyError(
                path, f"key 'roles.{role}'", "must be a non-empty list of raw role labels"
            )
        out[role] = [str(x) for x in labels]
    return out


def read_config(root: Path) -> dict:
    """Read and check ``study.yaml`` against :data:`KEY_RULES`; return it with defaults filled in.

    Raises
    ------
    StudyError
        A missing file, a YAML syntax error (line and column), an unknown key (with a "did you
        mean"), a missing required key or a value of the wrong kind, naming the key.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "study.yaml").write_text(
    ...     "name: x\\nrespondents: r.csv\\ninstruments: [builtin:smr]\\n"
    ...     "roles: {marketing: [m], sales: [s]}\\nintruments: []\\n"
    ... )
    >>> try:
    ...     read_config(folder)
    ... except StudyError as exc:
    ...     print(exc.where, exc.message, sep="\\n")
    key 'intruments'
    unknown key (did you mean 'instruments'?)
    """
    path = Path(root) / "study.yaml"
    label = str(path)
    if not path.is_file():
        raise StudyError(
            label, "", "study.yaml not found: a study is a folder with a study.yaml in it"
        )
    config = load_yaml_file(path, label)
    if not isinstance(config, dict):
        raise StudyError(label, "", "must be a YAML mapping of keys to values")
    for key in config:
        if key not in KEY_RULES:
            raise StudyError(
                label,
                f"key '{key}'",
                "unknown key"
                + (did_you_mean(key, KEY_RULES) or f"; expected one of {', '.join(KEY_RULES)}"),
            )
    out = {}
    for key, rule in KEY_RULES.items():
        value = config.get(key)
        if value is None or value == "" or value == []:
            if rule.required:
                raise StudyError(label, f"key '{key}'", f"required key is missing ({rule.meaning})")
            if rule.default is not None:
                out[key] = list(rule.default) if isinstance(rule.default, list) else rule.default
            continue
        out[key] = _check(label, key, rule, value)
    if out.get("interviews") and not out.get("transcripts"):
        raise StudyError(label, "key 'transcripts'", "required when 'interviews' is given")
    out.setdefault("survey", out["respondents"])
    if out.get("interviews") or out["open_ended"]:
        out.setdefault("codebook", "builtin:default")
    return out
