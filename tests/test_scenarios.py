"""Scenario presets, overrides, validation messages and a fuzzed loader."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import SCENARIO_PARAMETERS, raw_scenarios, valid_parameter_values

from boneflare.simulator.errors import ScenarioError
from boneflare.simulator.scenarios import (
    dumps_toml,
    load_scenario,
    preset_names,
    scenario_from_dict,
    scenario_hash,
)

REQUIRED_PRESETS = {
    "paper",
    "paper57",
    "ct_every_8_weeks",
    "ct_every_12_weeks",
    "noisy_labs",
    "no_flare",
    "hard",
}


def test_required_presets_ship_and_load():
    assert REQUIRED_PRESETS <= set(preset_names())
    for name in preset_names():
        scenario = load_scenario(name)
        assert scenario.name == name
        assert scenario.description


def test_presets_differ_where_they_say():
    paper = load_scenario("paper")
    assert load_scenario("ct_every_8_weeks").ct.interval_days == 56
    assert load_scenario("ct_every_12_weeks").ct.interval_days == 84
    assert load_scenario("no_flare").flare.enabled is False
    assert load_scenario("paper57").cohort.design == "paper57"
    assert load_scenario("noisy_labs").labs.noise > paper.labs.noise
    hard = load_scenario("hard")
    assert hard.bone.progression_keeps_character > paper.bone.progression_keeps_character
    assert hard.labs.noise > paper.labs.noise
    assert scenario_hash(load_scenario("paper57")) != scenario_hash(paper)


def test_override_strings_are_typed_and_applied():
    s = load_scenario(
        "paper",
        [
            "ct.interval_days=84",
            "flare.enabled=false",
            "cohort.design=paper57",
            "arms.pc.decay_median_per_day=0.01",
        ],
    )
    assert s.ct.interval_days == 84
    assert s.flare.enabled is False
    assert s.cohort.design == "paper57"
    assert s.arms.pc.decay_median_per_day == 0.01


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("ct.interval_days=-1", ["ct.interval_days", "-1", "from 7 to 365"]),
        ("ct.interval_days=4.5", ["ct.interval_days", "4.5", "integer"]),
        ("ct.interval_dayz=42", ["ct.interval_dayz", "allowed", "interval_days"]),
        ("flare.enabled=3", ["flare.enabled", "3", "true or false"]),
        ("cohort.design=trial", ["cohort.design", "'trial'", "'paper57'"]),
        ("labs.noise=nan", ["labs.noise", "nan"]),
        ('alp.within_cv="high"', ["alp.within_cv", "'high'", "number"]),
        ("ct=3", ["ct", "table"]),
        ("cohort.age_min_years=80", ["age_min_years", "age_max_years"]),
        ("ct.jitter_max_days=40", ["jitter", "interval_days"]),
    ],
)
def test_validation_messages_name_field_value_and_allowed(override, words):
    with pytest.raises(ScenarioError) as info:
        load_scenario("paper", [override])
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_unknown_preset_and_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ScenarioError, match=r"unknown scenario 'nope'.*paper"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[ct\ninterval_days = 3")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(str(bad))


def test_file_extends_a_preset_and_cycles_are_refused(tmp_path):
    child = tmp_path / "child.toml"
    child.write_text('extends = "ct_every_8_weeks"\n[labs]\nnoise = 2.0\n')
    s = load_scenario(str(child))
    assert s.ct.interval_days == 56 and s.labs.noise == 2.0 and s.name == "child"
    loop = tmp_path / "loop.toml"
    loop.write_text(f'extends = "{loop}"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(str(loop))


def test_dumped_toml_reads_back_identical(tmp_path):
    for name in preset_names():
        s = load_scenario(name)
        path = tmp_path / f"{name}.toml"
        path.write_text(dumps_toml(s))
        assert load_scenario(str(path)) == s


@given(raw_scenarios())
def test_fuzzed_scenario_either_loads_or_raises_scenario_error(raw):
    try:
        scenario = scenario_from_dict(raw)
    except ScenarioError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert scenario_hash(scenario)


@given(st.text(max_size=200))
def test_fuzzed_toml_text_either_loads_or_raises_scenario_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "s.toml"
    try:
        path.write_text(text, encoding="utf-8")
    except UnicodeEncodeError:
        return
    try:
        load_scenario(str(path))
    except ScenarioError as exc:
        assert "\n" not in str(exc)


@given(valid_parameter_values())
def test_any_value_in_declared_range_is_accepted_alone(pair):
    name, value = pair
    try:
        s = load_scenario("paper", {name: value})
    except ScenarioError as exc:  # only cross-field rules may refuse an in-range value
        assert any(w in str(exc) for w in ("must be below", "at most 1", "at least one"))
        return
    node = s
    for part in name.split("."):
        node = getattr(node, part)
    if isinstance(value, float) and not math.isnan(value):
        assert node == pytest.approx(value)
    else:
        assert node == value


def test_every_parameter_documents_unit_and_source():
    for name, spec in SCENARIO_PARAMETERS.items():
        assert spec.doc, name
        assert spec.source, name
        assert spec.unit, name
