"""The point-wise student: a small MLP, one step ahead, rolled forward; distilled from the teacher.

Inference is plain numpy from ``weights.npz`` + ``config.json``, so the simulator calls it every control step
without torch. Training (torch) minimises

    task (1-step MAE) + alpha * near-term alignment + beta * representation alignment

where near-term alignment is the mean absolute gap between the student's next-step prediction and the
teacher's (with ``align_steps`` > 1 the student is rolled that far against the teacher's first predictions,
each step's gap in units of its own spread; one step measured best), and representation alignment is the
MSE between a linear projection of the student's last hidden layer and the teacher's hidden state pooled over
time (standardised per channel). The projection is discarded after training. ``alpha = beta = 0`` is the
student without distillation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from forecasters.load.base import Forecaster, Windows, windows_of
from forecasters.load.sequence import TeacherForecaster, validation_rows
from forecasters.load.series import HORIZON, LoadSeries
from forecasters.load.training import LEVEL, TrainSettings, deterministic, residual_scale, train_loop


class StudentForecaster(Forecaster):
    kind = "student"

    def __init__(self, window: int = 16, hidden: int = 32, layers: int = 2, horizon: int = HORIZON,
                 use_known: bool = True, alpha: float = 1.0, beta: float = 0.1, align_steps: int = 1,
                 settings: TrainSettings | None = None):
        self.window, self.hidden, self.layers = window, hidden, layers
        self.lookback, self.horizon, self.use_known = window + 1, horizon, use_known
        self.alpha, self.beta, self.align_steps = alpha, beta, align_steps
        self.settings = settings or TrainSettings()
        self.scale = 1.0
        self.weights: list[tuple[np.ndarray, np.ndarray]] = []  # hidden layers then the output layer
        self._fused_cache: dict[bool, tuple] = {}  # predict_next's form of the weights; cleared when they change
        self.val_history: list[float] = []

    # -- inference (numpy) ------------------------------------------------------------------------------------

    def features(self, recent: np.ndarray, time_features: np.ndarray, known_next: np.ndarray | None) -> np.ndarray:
        """Inputs of one step: the last ``window`` values minus the newest, its level, time of day, known load."""
        last = recent[:, -1:]
        parts = [(recent[:, :-1] - last) / self.scale, last - LEVEL, time_features]
        if known_next is not None:
            parts.append((known_next[:, None] - last) / self.scale)
        return np.concatenate(parts, axis=1)

    def mlp(self, x: np.ndarray) -> np.ndarray:
        for w, b in self.weights[:-1]:
            x = np.maximum(x @ w + b, 0.0)
        w, b = self.weights[-1]
        return (x @ w + b)[:, 0]

    def roll(self, windows: Windows, steps: int) -> np.ndarray:
        """Predict one step, append it to the window, repeat: (N, steps)."""
        recent = windows.history[:, -self.lookback:].copy()
        time_features = windows.time_features()
        known = windows.known
        out = np.empty((len(windows), steps))
        for k in range(steps):
            known_k = None if known is None else known[:, k]
            residual = self.mlp(self.features(recent, time_features, known_k))
            out[:, k] = (recent[:, -1] if known_k is None else known_k) + self.scale * residual
            recent = np.concatenate([recent[:, 1:], out[:, k : k + 1]], axis=1)
        return out

    def predict_windows(self, windows: Windows) -> np.ndarray:
        return self.roll(windows, self.horizon)

    def predict_next(self, recent: np.ndarray, hour: float, known_next: float | None = None) -> float:
        """One step ahead for one series: the call a control loop makes every step (see the latency benchmark).

        Same result as :meth:`roll` for one step, but the feature scaling is folded into the first layer
        and its bias (:meth:`_raw_first_layer`), so a call is a few small numpy operations: at this size each
        operation's overhead, not the arithmetic, is the cost.
        """
        weight, hidden, out_weight, out_bias = self._fused(known_next is not None)
        w = self.window
        v = np.empty(weight.shape[0])
        v[: w + 1] = recent[-w - 1 :]
        angle = 2 * math.pi * hour / 24
        v[w + 1], v[w + 2], v[-1] = math.sin(angle), math.cos(angle), 1.0
        if known_next is not None:
            v[w + 3] = known_next
        x = np.dot(v, weight)
        for layer_weight, layer_bias in hidden:
            np.maximum(x, 0.0, out=x)
            x = np.dot(x, layer_weight)
            x += layer_bias
        np.maximum(x, 0.0, out=x)
        base = recent[-1] if known_next is None else known_next
        return float(base + self.scale * (np.dot(x, out_weight) + out_bias))

    def _fused(self, known: bool) -> tuple:
        """(raw first layer, later hidden layers, output weights, output bias), made once per weights."""
        if self._fused_cache.get(known) is None:
            out_weight, out_bias = self.weights[-1]
            self._fused_cache[known] = (self._raw_first_layer(known), self.weights[1:-1], out_weight[:, 0].copy(),
                                        float(out_bias[0]))
        return self._fused_cache[known]

    def _raw_first_layer(self, known: bool) -> np.ndarray:
        """The first layer acting on [last window + 1 values, sin, cos, (known,) 1] instead of on :meth:`features`.

        features = ((recent_i - last) / s, last - LEVEL, sin, cos, (known - last) / s) is affine in the raw values,
        so W0 and b0 absorb it: recent_i gets W_i / s, last gets W_last - sum_i W_i / s - W_known / s, known gets
        W_known / s, and the constant 1 carries b0 - LEVEL W_last.
        """
        w0, b0 = self.weights[0]
        w, s = self.window, self.scale
        raw = np.zeros((w + 4 + known, w0.shape[1]))
        raw[:w] = w0[:w] / s
        raw[w] = w0[w] - w0[:w].sum(axis=0) / s - (w0[w + 3] / s if known else 0.0)
        raw[w + 1 : w + 3] = w0[w + 1 : w + 3]
        if known:
            raw[w + 3] = w0[w + 3] / s
        raw[-1] = b0 - LEVEL * w0[w]
        return raw

    # -- training (torch) -------------------------------------------------------------------------------------

    def fit(self, train: LoadSeries | Sequence[LoadSeries], val: LoadSeries | Sequence[LoadSeries] | None = None,
            teacher: TeacherForecaster | None = None) -> StudentForecaster:
        """Train on ``train``; distil from ``teacher`` when given and ``alpha`` or ``beta`` is non-zero."""
        import torch

        from forecasters.load.networks import StudentMLP

        distil = teacher is not None and (self.alpha > 0 or self.beta > 0)
        lookback = max(self.lookback, teacher.lookback) if distil else self.lookback
        windows = windows_of(train, lookback, self.horizon, self.use_known)
        held = windows_of(val, self.lookback, self.horizon, self.use_known) if val is not None else windows
        held = held.take(validation_rows(len(held), self.settings.seed))
        self.scale = residual_scale(windows)
        steps = self.align_steps if distil else 1
        tensors = _torch_inputs(self, windows, steps)
        v_tensors = _torch_inputs(self, held, 1)
        if distil:
            teacher_residual, pooled = teacher.forward(windows)
            teacher_pred = windows.reference(self.horizon) + teacher.step_scale * teacher_residual
            near = torch.from_numpy(((teacher_pred[:, :steps] - windows.target[:, :steps]) / self.scale)
                                    .astype(np.float32))
            # each step's gap in units of that step's spread, so later, wider steps do not outweigh the first
            step_weight = torch.from_numpy((teacher.step_scale[:steps] / teacher.step_scale[0]).astype(np.float32))
            pooled = torch.from_numpy(((pooled - pooled.mean(0)) / (pooled.std(0) + 1e-6)).astype(np.float32))
        width = teacher.width if distil else 1
        with deterministic(self.settings.seed, self.settings.threads):
            inputs = self.window + 3 + (windows.known is not None)  # the layout of :meth:`features`
            module = StudentMLP(inputs, self.hidden, self.layers, width)

            def loss_of(rows):
                predicted, hidden = _torch_roll(self, module, tensors, rows, steps)  # scaled, minus truth
                loss = torch.mean(torch.abs(predicted[:, 0]))
                if distil:
                    loss = loss + self.alpha * torch.mean(torch.abs(predicted - near[rows]) / step_weight)
                    loss = loss + self.beta * torch.mean((module.project(hidden) - pooled[rows]) ** 2)
                return loss

            def val_loss():
                return torch.mean(torch.abs(_torch_roll(self, module, v_tensors, slice(None), 1)[0]))

            self.val_history = train_loop(module, loss_of, len(windows), val_loss, self.settings)
        self.weights = [(layer.weight.detach().numpy().T.astype(np.float64), layer.bias.detach().numpy()
                         .astype(np.float64)) for layer in [*module.layers, module.out]]
        self._fused_cache = {}
        return self

    # -- saving -----------------------------------------------------------------------------------------------

    def num_parameters(self) -> int:
        return int(sum(w.size + b.size for w, b in self.weights))

    def config(self) -> dict:
        return {**super().config(), "window": self.window, "hidden": self.hidden, "layers": self.layers,
                "alpha": self.alpha, "beta": self.beta, "align_steps": self.align_steps, "scale": self.scale,
                "settings": asdict(self.settings), "val_history": self.val_history}

    def arrays(self) -> dict[str, np.ndarray]:
        return {f"{kind}{i}": a.astype(np.float32) for i, (w, b) in enumerate(self.weights)
                for kind, a in (("w", w), ("b", b))}

    @classmethod
    def from_saved(cls, config: dict, arrays: dict) -> StudentForecaster:
        model = cls(config["window"], config["hidden"], config["layers"], config["horizon"], config["use_known"],
                    config["alpha"], config["beta"], config["align_steps"], TrainSettings(**config["settings"]))
        model.scale, model.val_history = config["scale"], config["val_history"]
        model.weights = [(np.asarray(arrays[f"w{i}"], np.float64), np.asarray(arrays[f"b{i}"], np.float64))
                         for i in range(config["layers"] + 1)]
        return model


def _torch_inputs(student: StudentForecaster, windows: Windows, steps: int) -> dict:
    """Tensors for training: the recent window, time of day, known load and truth for ``steps`` ahead."""
    import torch

    def as_tensor(a):
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

    known = windows.known
    return {"recent": as_tensor(windows.history[:, -student.lookback:]), "time": as_tensor(windows.time_features()),
            "known": None if known is None else as_tensor(known[:, :steps]),
            "target": as_tensor(windows.target[:, :steps])}


def _torch_roll(student: StudentForecaster, module, tensors: dict, rows, steps: int):
    """The numpy :meth:`StudentForecaster.roll` in torch: scaled errors against the truth (B, steps) and the
    first step's last hidden layer."""
    import torch

    s = student.scale
    recent, time, known = tensors["recent"][rows], tensors["time"][rows], tensors["known"]
    known = None if known is None else known[rows]
    errors, first_hidden = [], None
    for k in range(steps):
        last = recent[:, -1:]
        parts = [(recent[:, :-1] - last) / s, last - LEVEL, time]
        if known is not None:
            parts.append((known[:, k : k + 1] - last) / s)
        residual, hidden = module(torch.cat(parts, dim=1))
        base = last[:, 0] if known is None else known[:, k]
        predicted = base + s * residual
        errors.append((predicted - tensors["target"][rows][:, k]) / s)
        first_hidden = hidden if first_hidden is None else first_hidden
        recent = torch.cat([recent[:, 1:], predicted[:, None]], dim=1)
    return torch.stack(errors, dim=1), first_hidden
