"""Scenario files: defaults in one place, and every mistake reported as file:line: field: what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.common.errors import ScenarioError
from simulator.config import load_scenario, parse_duration
from simulator.sweep.spec import is_sweep_file
from tests.conftest import ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    return str(info.value)


def test_every_shipped_scenario_validates():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        if is_sweep_file(path):  # a sweep over a scenario (capacity_planning.yaml): tests/test_sweep.py loads it
            continue
        scenario = load_scenario(path)
        assert scenario.name == path.stem


def test_an_empty_file_takes_every_default(tmp_path):
    scenario = load_scenario(write(tmp_path, ""))
    assert scenario.cluster.servers == 16 and scenario.policy.kind == "none"
    assert scenario.simulation.resolution == 1.0 and scenario.simulation.duration == 86400.0


def test_durations_read_with_units():
    assert parse_duration("7d") == 7 * 86400
    assert parse_duration("15min") == 900
    assert parse_duration("1.5h") == 5400
    assert parse_duration(30) == 30
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration("seven days")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cluster:\n  servers: 4\n  gpus_per_server: -8\n", ":3: cluster.gpus_per_server: Input should be greater"),
        ("cluster:\n  gpu: Voodoo2\n", ":2: cluster.gpu: Value error, unknown GPU 'Voodoo2'"),
        ("simulation:\n  seed: 1\n  duraton: 7d\n", ":3: simulation.duraton: unknown field"),
        ("simulation:\n  duration: 'a week'\n", ":2: simulation.duration: Value error, expected a duration"),
        ("workload:\n  kind: synthetic\n  model_mix: {alexnet: 1}\n", ":3: workload.model_mix: Value error, unknown"),
        ("workload:\n  kind: replay\n", ":2: workload.kind: Input tag 'replay' found using 'kind' does not match"),
        ("facility:\n  pue:\n    kind: curve\n    weather: missing.epw\n", ":4: facility.pue.weather: file not found"),
        ("simulation:\n  duration: 100s\n  resolution: 30s\n", ":1: simulation: Value error, duration must be"),
        ("cluster: [1, 2\n", ":2: not valid YAML"),
        ("- just\n- a list\n", ":1: expected a mapping of sections"),
    ],
)
def test_errors_name_file_line_field_and_expectation(tmp_path, text, expected):
    message = error_of(tmp_path, text)
    assert message.startswith(str(tmp_path / "s.yaml")), message
    assert expected in message, message
    assert "\n" not in message and "Traceback" not in message


def test_a_missing_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read scenario file"):
        load_scenario(tmp_path / "nope.yaml")


def test_seed_override(tmp_path):
    assert load_scenario(write(tmp_path, "simulation:\n  seed: 1\n"), seed=7).simulation.seed == 7


def test_a_sub_section_without_kind_takes_the_default_kind(tmp_path):
    scenario = load_scenario(write(tmp_path, "facility:\n  pue: {value: 1.45}\nworkload:\n  target_utilization: 0.5\n"))
    assert scenario.facility.pue.kind == "constant" and scenario.facility.pue.value == 1.45
    assert scenario.workload.kind == "synthetic" and scenario.workload.target_utilization == 0.5
