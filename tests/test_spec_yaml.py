"""The YAML models' messages: syntax errors with line and column, entries named by their id,
misspelt keys."""

import pytest
import yaml

from research.errors import StudyError
from research.spec.codebook import codebook_from_dict, load_codebook
from research.spec.decisions import decision_table_from_dict, load_decision_table
from research.spec.yamlfile import check_entry_keys, did_you_mean, load_yaml_file

THEMES = [
    {"id": "trust", "patterns": ["trust"]},
    {"id": "blame", "patterns": ["blame"]},
    {"id": "pay", "label": "Pay", "patterns": ["commission"]},
]


def _rule(rid, **changes):
    rule = {
        "id": rid,
        "action": "move",
        "circumstance": "c",
        "moves": ["m"],
        "when": {"all": [{"field": "band", "eq": "Undefined"}]},
    }
    return {**rule, **changes}


def test_config_still_offers_the_yaml_helpers():
    from research.inputs import config

    assert config.did_you_mean is did_you_mean and config.load_yaml_file is load_yaml_file


def test_a_message_about_a_theme_names_it_by_its_id():
    themes = [*THEMES[:2], {**THEMES[2], "patterns": []}]
    with pytest.raises(StudyError, match=r"cb\.yaml: key 'themes\[2\]\.patterns' \(theme 'pay'\)"):
        codebook_from_dict({"themes": themes}, "cb.yaml")
    themes = [*THEMES[:2], {**THEMES[2], "patterns": ["ok", "re:(unclosed"]}]
    with pytest.raises(
        StudyError, match=r"key 'themes\[2\]\.patterns\[1\]' \(theme 'pay'\): invalid regular"
    ):
        codebook_from_dict({"themes": themes}, "cb.yaml")
    with pytest.raises(
        StudyError, match=r"key 'themes\[3\]\.id' \(theme 'pay'\): duplicate theme id"
    ):
        codebook_from_dict({"themes": [*THEMES, THEMES[2]]}, "cb.yaml")


@pytest.mark.parametrize(
    "typo, meant", [("pattern", "patterns"), ("lable", "label"), ("descripton", "description")]
)
def test_a_misspelt_theme_key_is_fatal_with_did_you_mean(typo, meant):
    themes = [*THEMES[:2], {**THEMES[2], typo: "x"}]
    with pytest.raises(StudyError) as err:
        codebook_from_dict({"themes": themes}, "cb.yaml")
    assert f"key 'themes[2].{typo}' (theme 'pay'): unknown key (did you mean '{meant}'?)" in str(
        err.value
    )


def test_a_theme_key_far_from_every_known_key_is_an_annotation():
    cb = codebook_from_dict({"themes": [{**THEMES[2], "note": "added after the pilot"}]}, "cb.yaml")
    assert cb.theme_ids == ["pay"]


def test_a_message_about_a_rule_names_it_by_its_id():
    rules = [_rule("stay-small"), _rule("move-to-defined", when={"all": []})]
    with pytest.raises(
        StudyError, match=r"dt\.yaml: key 'rules\[1\]\.when' \(rule 'move-to-defined'\)"
    ):
        decision_table_from_dict({"rules": rules}, "dt.yaml")
    rules = [
        _rule("stay-small"),
        _rule("move-to-defined", when={"all": [{"field": "bnad", "eq": "x"}]}),
    ]
    with pytest.raises(
        StudyError, match=r"key 'rules\[1\]\.when\.all\[0\]\.field' \(rule 'move-to-defined'\)"
    ):
        decision_table_from_dict({"rules": rules}, "dt.yaml")
    with pytest.raises(StudyError, match=r"key 'rules\[1\]\.action' \(rule 'r'\): must be one of"):
        decision_table_from_dict({"rules": [_rule("q"), _rule("r", action="jump")]}, "dt.yaml")


@pytest.mark.parametrize(
    "typo, meant",
    [
        ("acton", "action"),
        ("circumstances", "circumstance"),
        ("move", "moves"),
        ("taget", "target"),
    ],
)
def test_a_misspelt_rule_key_is_fatal_with_did_you_mean(typo, meant):
    with pytest.raises(StudyError) as err:
        decision_table_from_dict({"rules": [_rule("a"), _rule("b", **{typo: "x"})]}, "dt.yaml")
    assert f"key 'rules[1].{typo}' (rule 'b'): unknown key (did you mean '{meant}'?)" in str(
        err.value
    )


def test_a_rule_key_far_from_every_known_key_is_an_annotation():
    table = decision_table_from_dict(
        {"rules": [_rule("a", source="DOMAIN.md, section 3")]}, "dt.yaml"
    )
    assert [r.id for r in table.rules] == ["a"]


@pytest.mark.parametrize(
    "what, load, text",
    [
        ("codebook", load_codebook, "id: x\nthemes:\n  - {id: a, patterns: [b]\n"),
        ("decision table", load_decision_table, "id: x\nrules:\n  - id: a\n   action: move\n"),
    ],
)
def test_codebook_and_decision_table_yaml_errors_name_line_and_column(tmp_path, what, load, text):
    (tmp_path / "f.yaml").write_text(text, "utf-8")
    with pytest.raises(StudyError) as err:
        load("f.yaml", tmp_path)
    assert err.value.where.startswith("line ") and ", column " in err.value.where
    assert err.value.message.startswith("not valid YAML")
    with pytest.raises(yaml.YAMLError) as raw:  # the same place the parser reports
        yaml.safe_load(text)
    mark = raw.value.problem_mark
    assert err.value.where == f"line {mark.line + 1}, column {mark.column + 1}"


def test_a_yaml_file_that_is_not_utf8_is_named(tmp_path):
    (tmp_path / "f.yaml").write_bytes("id: café\n".encode("utf-16"))
    with pytest.raises(StudyError, match="not UTF-8 text"):
        load_codebook("f.yaml", tmp_path)


def test_check_entry_keys_returns_the_researchers_own_keys():
    entry = {"id": "A1", "subscale": "a", "target": "sales", "note": "n", "weight": 2}
    assert check_entry_keys("x", "items[0]", "item", entry, ["id", "subscale"], ["target"]) == [
        "note",
        "weight",
    ]


def test_a_tab_in_the_indentation_is_named_with_its_line(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("name: x\nroles:\n\tmarketing: Marketing\n", "utf-8")
    with pytest.raises(StudyError) as caught:
        load_yaml_file(path, "study.yaml")
    assert "line 3, column 1" in str(caught.value) and "a tab" in str(caught.value)
