"""Torch sequence forecasters: the TCN teacher and the LSTM / GRU baselines, H steps at once.

Why a TCN for the teacher: dilated causal convolutions see a 64-step window with six layers, train in parallel
over time (an LSTM steps through it), run deterministically on CPU, and give a hidden state at every step,
whose time mean is the pooled representation the student is aligned with. It predicts the residual over the
known load (or the last value), which keeps it stable when the load level shifts (non-stationary load).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from forecasters.load.base import Forecaster, Windows, windows_of
from forecasters.load.series import HORIZON, LoadSeries
from forecasters.load.training import (
    TrainSettings,
    deterministic,
    in_batches,
    load_state,
    residual_scale,
    sequence_inputs,
    state_arrays,
    train_loop,
)

VAL_WINDOWS = 8192
"""Validation loss is measured on at most this many origins (a fixed, seeded choice) to keep epochs short."""


def validation_rows(n: int, seed: int) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).permutation(n)[:VAL_WINDOWS])


class SequenceForecaster(Forecaster):
    """Shared by the teacher and the recurrent baselines; subclasses build the module."""

    def __init__(self, lookback: int = 64, horizon: int = HORIZON, use_known: bool = True,
                 settings: TrainSettings | None = None, **arch):
        self.lookback, self.horizon, self.use_known = lookback, horizon, use_known
        self.settings = settings or TrainSettings()
        self.arch = arch
        self.scale = 1.0  # inputs: the one-step residual's spread
        self.step_scale = np.ones(horizon)  # targets: each step's own, so near and far steps weigh alike
        self.extra = 0
        self.module = None
        self.val_history: list[float] = []

    def build(self, extra: int):
        raise NotImplementedError

    def fit(self, train: LoadSeries | Sequence[LoadSeries], val: LoadSeries | Sequence[LoadSeries] | None = None,
            ) -> SequenceForecaster:
        import torch

        windows = windows_of(train, self.lookback, self.horizon, self.use_known)
        held = windows_of(val, self.lookback, self.horizon, self.use_known) if val is not None else windows
        held = held.take(validation_rows(len(held), self.settings.seed))
        self.scale = residual_scale(windows)
        self.step_scale = np.maximum(np.std(windows.target - windows.reference(self.horizon), axis=0), 1e-4)
        seq, extra = map(torch.from_numpy, sequence_inputs(windows, self.scale, self.horizon))
        target = torch.from_numpy(self.scaled_residual(windows))
        v_seq, v_extra = map(torch.from_numpy, sequence_inputs(held, self.scale, self.horizon))
        v_target = torch.from_numpy(self.scaled_residual(held))
        self.extra = extra.shape[1]
        with deterministic(self.settings.seed, self.settings.threads):
            self.module = self.build(self.extra)

            def loss_of(rows):
                return torch.mean(torch.abs(self.module(seq[rows], extra[rows])[0] - target[rows]))

            def val_loss():
                return torch.mean(torch.abs(self.module(v_seq, v_extra)[0] - v_target))

            self.val_history = train_loop(self.module, loss_of, len(windows), val_loss, self.settings)
        return self

    def scaled_residual(self, windows: Windows) -> np.ndarray:
        return ((windows.target - windows.reference(self.horizon)) / self.step_scale).astype(np.float32)

    def forward(self, windows: Windows) -> tuple[np.ndarray, np.ndarray]:
        """Residuals (N, H) in units of :attr:`step_scale` and the time-pooled hidden state (N, C)."""
        import torch

        windows = windows.trimmed(self.lookback)
        residual, pooled = [], []
        with torch.no_grad():
            for part in in_batches(len(windows)):
                seq, extra = sequence_inputs(windows.take(np.arange(part.start, part.stop)), self.scale,
                                             self.horizon)
                out, hidden = self.module(torch.from_numpy(seq), torch.from_numpy(extra))
                residual.append(out.numpy())
                pooled.append(hidden.mean(dim=2).numpy())
        return np.concatenate(residual), np.concatenate(pooled)

    def predict_windows(self, windows: Windows) -> np.ndarray:
        return windows.reference(self.horizon) + self.step_scale * self.forward(windows)[0]

    def num_parameters(self) -> int:
        return int(sum(p.numel() for p in self.module.parameters()))

    def config(self) -> dict:
        return {**super().config(), "scale": self.scale, "step_scale": self.step_scale.tolist(),
                "extra": self.extra, "arch": self.arch,
                "settings": asdict(self.settings), "val_history": self.val_history}

    def arrays(self) -> dict[str, np.ndarray]:
        return state_arrays(self.module)

    @classmethod
    def from_saved(cls, config: dict, arrays: dict) -> SequenceForecaster:
        model = cls(config["lookback"], config["horizon"], config["use_known"], TrainSettings(**config["settings"]),
                    **config["arch"])
        model.scale, model.extra, model.val_history = config["scale"], config["extra"], config["val_history"]
        model.step_scale = np.asarray(config["step_scale"])
        model.module = model.build(model.extra)
        load_state(model.module, arrays)
        return model


class TeacherForecaster(SequenceForecaster):
    """The high-capacity teacher (TCN: ``channels`` wide, ``levels`` dilated blocks)."""

    kind = "teacher"

    def __init__(self, lookback: int = 64, horizon: int = HORIZON, use_known: bool = True,
                 settings: TrainSettings | None = None, channels: int = 64, levels: int = 6, kernel: int = 3):
        super().__init__(lookback, horizon, use_known, settings, channels=channels, levels=levels, kernel=kernel)

    @property
    def width(self) -> int:
        return self.arch["channels"]

    def build(self, extra: int):
        from forecasters.load.networks import TCN

        return TCN(extra, self.horizon, **self.arch)


class RecurrentForecaster(SequenceForecaster):
    """LSTM or GRU baseline of the usual size (2 layers of 64), multi-output head."""

    def __init__(self, lookback: int = 64, horizon: int = HORIZON, use_known: bool = True,
                 settings: TrainSettings | None = None, cell: str = "lstm", hidden: int = 64, layers: int = 2):
        super().__init__(lookback, horizon, use_known, settings, cell=cell, hidden=hidden, layers=layers)
        self.kind = cell

    def build(self, extra: int):
        from forecasters.load.networks import Recurrent

        return Recurrent(extra=extra, horizon=self.horizon, **self.arch)
