"""Train the teacher, the distilled student, its ablations and the baselines on one data source, and save them.

The data come as :class:`DataSplits` (chronological within every series, 70 / 15 / 15 %), made by
:func:`simulator.training_data.load_series.load_data` from ``simulated`` (the simulator at four cluster sizes
and seeds for training and validation, the test part of a fifth size and seed for testing), ``philly`` (the
shipped occupancy trace) or a user's CSV.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from forecasters.load.base import Forecaster
from forecasters.load.baselines import KnownLoad, NLinear, Persistence, SeasonalNaive
from forecasters.load.sequence import RecurrentForecaster, TeacherForecaster
from forecasters.load.series import LoadSeries
from forecasters.load.student import StudentForecaster
from forecasters.load.training import TrainSettings
from simulator.common.atomic import write_text_atomic


@dataclass(frozen=True)
class DataSplits:
    """Train, validation and test series of one data source (``name``)."""

    name: str
    train: list[LoadSeries]
    val: list[LoadSeries]
    test: list[LoadSeries]

    @property
    def has_known(self) -> bool:
        return self.train[0].known is not None


@dataclass(frozen=True)
class Sizes:
    """Model sizes; the defaults are the README's, the tests use :data:`TINY`."""

    teacher_channels: int = 64
    teacher_levels: int = 6
    student_window: int = 16
    student_hidden: int = 32
    rnn_hidden: int = 64
    lookback: int = 64
    season: int = 1440


TINY = Sizes(teacher_channels=8, teacher_levels=2, student_window=4, student_hidden=8, rnn_hidden=8, lookback=8,
             season=60)

STUDENT_VARIANTS = {"student": (1.0, 0.1), "student_no_distillation": (0.0, 0.0),
                    "student_no_near_term": (0.0, 0.1), "student_no_representation": (1.0, 0.0)}
"""(alpha, beta) of the distilled student and its ablations."""


def train_all(data: DataSplits, settings: TrainSettings, sizes: Sizes = Sizes(), baselines: bool = True,
              progress: Callable[[str], None] | None = None, save_to: Path | None = None,
              reuse: dict[str, tuple[Forecaster, float]] | None = None,
              ) -> tuple[dict[str, Forecaster], dict[str, float]]:
    """Every model, fitted (and saved under ``save_to`` as soon as it is); and the seconds each took to train.

    ``reuse`` maps names to (model, train seconds) already trained with the same code and settings, which a
    benchmark rerun need not train again.
    """
    reuse = reuse or {}
    known = data.has_known
    models: dict[str, Forecaster] = {}
    seconds: dict[str, float] = {}

    def timed(name: str, make: Callable[[], Forecaster]) -> None:
        if name in reuse:
            models[name], seconds[name] = reuse[name]
            return
        if progress:
            progress(name)
        t0 = time.perf_counter()
        models[name] = make()
        seconds[name] = time.perf_counter() - t0
        if save_to is not None:
            models[name].save(save_to / name)

    timed("teacher", lambda: TeacherForecaster(sizes.lookback, use_known=known, settings=settings,
                                               channels=sizes.teacher_channels, levels=sizes.teacher_levels)
          .fit(data.train, data.val))
    teacher = models["teacher"]
    for name, (alpha, beta) in STUDENT_VARIANTS.items():
        timed(name, lambda a=alpha, b=beta: StudentForecaster(sizes.student_window, sizes.student_hidden,
                                                               use_known=known, alpha=a, beta=b, settings=settings)
              .fit(data.train, data.val, teacher=teacher))
    if baselines:
        timed("persistence", lambda: Persistence())
        timed("seasonal_naive", lambda: SeasonalNaive(sizes.season))
        if known:
            timed("known_load", lambda: KnownLoad())
        timed("nlinear", lambda: NLinear(sizes.lookback, use_known=known).fit(data.train, data.val))
        for cell in ("lstm", "gru"):
            timed(cell, lambda c=cell: RecurrentForecaster(sizes.lookback, use_known=known, settings=settings,
                                                           cell=c, hidden=sizes.rnn_hidden).fit(data.train, data.val))
    return models, seconds


def save_all(models: dict[str, Forecaster], seconds: dict[str, float], data: DataSplits, settings: TrainSettings,
             out: Path) -> None:
    """One folder per model under ``out`` and ``out/training.json`` (data, settings, train seconds)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, model in models.items():
        model.save(out / name)
    summary = {"data": data.name, "settings": asdict(settings), "train_seconds": seconds,
               "parameters": {n: m.num_parameters() for n, m in models.items()}}
    write_text_atomic(out / "training.json", json.dumps(summary, indent=2) + "\n")
