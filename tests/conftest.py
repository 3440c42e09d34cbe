"""Shared helpers: small scenarios that run in well under a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.config import Scenario

ROOT = Path(__file__).resolve().parents[1]


def small_scenario(**sections) -> Scenario:
    """A 4-server cluster for 6 hours at 10-s metering; keyword arguments replace or extend sections."""
    data = {
        "name": "small",
        "cluster": {"servers": 4, "gpus_per_server": 8},
        "simulation": {"duration": "6h", "warmup": "2h", "resolution": "10s", "seed": 3},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    data["base_dir"] = ROOT / "scenarios"
    return Scenario.model_validate(data)


@pytest.fixture
def scenario() -> Scenario:
    return small_scenario()
