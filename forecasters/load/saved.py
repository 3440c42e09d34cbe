"""Read back any saved forecaster: a folder of ``config.json`` (its kind and settings) and ``weights.npz``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from forecasters.load.base import Forecaster
from forecasters.load.baselines import KnownLoad, NLinear, Persistence, SeasonalNaive
from forecasters.load.sequence import RecurrentForecaster, TeacherForecaster
from forecasters.load.student import StudentForecaster
from simulator.common.errors import UserError


def load_forecaster(directory: Path) -> Forecaster:
    """The forecaster saved in ``directory``, whatever its kind."""
    directory = Path(directory)
    try:
        config = json.loads((directory / "config.json").read_text())
        with np.load(directory / "weights.npz") as saved:
            arrays = dict(saved)
    except (OSError, json.JSONDecodeError, ValueError) as err:
        raise UserError(f"{directory}: not a saved forecaster ({err})") from None
    kind = config.get("kind")
    simple = {"persistence": Persistence, "known_load": KnownLoad}
    if kind in simple:
        return simple[kind](config["horizon"])
    if kind == "seasonal_naive":
        return SeasonalNaive(config["period"], config["horizon"])
    trained = {"nlinear": NLinear, "teacher": TeacherForecaster, "lstm": RecurrentForecaster,
               "gru": RecurrentForecaster, "student": StudentForecaster}
    if kind not in trained:
        raise UserError(f"{directory / 'config.json'}: kind: unknown forecaster {kind!r}")
    return trained[kind].from_saved(config, arrays)
