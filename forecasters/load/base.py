"""The forecaster interface and the windows every model reads, in the darts / neuralforecast style.

A forecast is made at an *origin* step i, from the last ``lookback`` values up to and including i, the hour of
day, and (where the series has it) the known load for steps i+1..i+H. Every model predicts the *residual* over
a reference: the known load where there is one (it already holds the running jobs), else the last value. So
a model that learned nothing still forecasts as well as persistence.

``fit(series)`` / ``predict(n, series)`` / ``save(dir)`` / ``load(dir)`` as darts users expect;
``predict_windows`` is the vectorised form that evaluation and training use.
"""

from __future__ import annotations

import io
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecasters.load.series import HORIZON, LoadSeries
from simulator.common.atomic import write_text_atomic
from simulator.common.errors import UserError


@dataclass(frozen=True)
class Windows:
    """N forecast origins: history (N, L), hour of day (N,), known load (N, H) or None, target (N, H) or None."""

    history: np.ndarray
    hour: np.ndarray
    known: np.ndarray | None
    target: np.ndarray | None

    def __len__(self) -> int:
        return len(self.history)

    @property
    def last(self) -> np.ndarray:
        return self.history[:, -1]

    def reference(self, horizon: int) -> np.ndarray:
        """What a model adds its residual to: the known load, else the last value held flat."""
        if self.known is not None:
            return self.known[:, :horizon]
        return np.repeat(self.last[:, None], horizon, axis=1)

    def time_features(self) -> np.ndarray:
        angle = 2 * np.pi * self.hour / 24
        return np.stack([np.sin(angle), np.cos(angle)], axis=1)

    def trimmed(self, lookback: int) -> Windows:
        """The same origins with only the last ``lookback`` values of history (models of different reach are
        evaluated on the same origins)."""
        return Windows(self.history[:, -lookback:], self.hour, self.known, self.target)

    def take(self, rows: np.ndarray) -> Windows:
        def pick(a):
            return None if a is None else a[rows]

        return Windows(self.history[rows], self.hour[rows], pick(self.known), pick(self.target))

    @staticmethod
    def concat(parts: Sequence[Windows]) -> Windows:
        def join(arrays):
            return None if arrays[0] is None else np.concatenate(arrays)

        return Windows(*(join([getattr(p, f) for p in parts]) for f in ("history", "hour", "known", "target")))


def make_windows(series: LoadSeries, lookback: int, horizon: int = HORIZON, targets: bool = True,
                 use_known: bool = True) -> Windows:
    """Every origin with a full history (and, when ``targets``, a full horizon after it)."""
    n = len(series)
    last_origin = n - 1 - (horizon if targets else 0)
    origins = np.arange(lookback - 1, last_origin + 1)
    if len(origins) == 0:
        raise UserError(f"{series.name}: {n} steps is too short for a {lookback}-step history and {horizon} ahead")
    history = np.lib.stride_tricks.sliding_window_view(series.values, lookback)[origins - lookback + 1]
    target = (np.lib.stride_tricks.sliding_window_view(series.values[1:], horizon)[origins] if targets else None)
    known = series.known[origins, :horizon] if (use_known and series.known is not None) else None
    return Windows(np.ascontiguousarray(history), series.hour_of_day()[origins], known, target)


def windows_of(series: LoadSeries | Sequence[LoadSeries], lookback: int, horizon: int = HORIZON,
               use_known: bool = True) -> Windows:
    many = [series] if isinstance(series, LoadSeries) else list(series)
    return Windows.concat([make_windows(s, lookback, horizon, use_known=use_known) for s in many])


class Forecaster(ABC):
    """fit / predict / save / load. ``lookback`` steps in, ``horizon`` steps out."""

    kind: str = ""
    lookback: int = 1
    horizon: int = HORIZON
    use_known: bool = True

    @abstractmethod
    def fit(self, train: LoadSeries | Sequence[LoadSeries], val: LoadSeries | Sequence[LoadSeries] | None = None,
            ) -> Forecaster:
        """Learn from ``train``; ``val`` (if given) picks the stopping point or the penalty."""

    @abstractmethod
    def predict_windows(self, windows: Windows) -> np.ndarray:
        """(N, horizon) forecasts for N origins."""

    def predict(self, n: int, series: LoadSeries) -> np.ndarray:
        """The next ``n`` values after the end of ``series`` (n <= horizon)."""
        if not 1 <= n <= self.horizon:
            raise ValueError(f"n must be within 1..{self.horizon}, got {n}")
        windows = make_windows(series, self.lookback, self.horizon, targets=False, use_known=self.use_known)
        return self.predict_windows(windows.take(np.array([len(windows) - 1])))[0, :n]

    def num_parameters(self) -> int:
        return 0

    def config(self) -> dict:
        return {"kind": self.kind, "lookback": self.lookback, "horizon": self.horizon, "use_known": self.use_known}

    def arrays(self) -> dict[str, np.ndarray]:
        """The learned numbers, saved as ``weights.npz``."""
        return {}

    def save(self, directory: Path) -> Path:
        """``config.json`` + ``weights.npz`` in ``directory`` (no pickles: both load without running code)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / "weights.tmp.npz"
        np.savez(tmp, **self.arrays())
        tmp.replace(directory / "weights.npz")
        write_text_atomic(directory / "config.json", json.dumps(self.config(), indent=2) + "\n")
        return directory

    def size_bytes(self) -> int:
        """Bytes of the saved weights (uncompressed npz), what a deployment would ship."""
        buffer = io.BytesIO()
        np.savez(buffer, **self.arrays())
        return buffer.tell()
