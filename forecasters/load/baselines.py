"""The yardsticks: persistence, seasonal naive, the known load alone, and a linear model (NLinear style)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from forecasters.load.base import Forecaster, Windows, windows_of
from forecasters.load.series import HORIZON, LoadSeries
from forecasters.load.training import LEVEL

DAY = 1440


class Persistence(Forecaster):
    """Tomorrow is today: every step ahead is the last value."""

    kind = "persistence"
    use_known = False

    def __init__(self, horizon: int = HORIZON):
        self.horizon = horizon

    def fit(self, train, val=None) -> Persistence:
        return self

    def predict_windows(self, windows: Windows) -> np.ndarray:
        return np.repeat(windows.last[:, None], self.horizon, axis=1)


class SeasonalNaive(Forecaster):
    """The value one period (a day of 1-min steps) before each step ahead."""

    kind = "seasonal_naive"
    use_known = False

    def __init__(self, period: int = DAY, horizon: int = HORIZON):
        self.period, self.lookback, self.horizon = period, period, horizon

    def fit(self, train, val=None) -> SeasonalNaive:
        return self

    def predict_windows(self, windows: Windows) -> np.ndarray:
        # history[L-1] is the origin; the step k ahead one period earlier is history[L-1-period+k]
        first = windows.history.shape[1] - 1 - self.period + 1
        return windows.history[:, first : first + self.horizon]

    def config(self) -> dict:
        return {**super().config(), "period": self.period}


class KnownLoad(Forecaster):
    """The load the running jobs imply and nothing more: what every residual model starts from."""

    kind = "known_load"

    def __init__(self, horizon: int = HORIZON):
        self.horizon = horizon

    def fit(self, train, val=None) -> KnownLoad:
        return self

    def predict_windows(self, windows: Windows) -> np.ndarray:
        return windows.reference(self.horizon)


def linear_features(windows: Windows, horizon: int) -> np.ndarray:
    """The window minus its last value (NLinear's normalisation), its level, time of day, known load minus last."""
    last = windows.last[:, None]
    parts = [windows.history - last, last - LEVEL, windows.time_features()]
    if windows.known is not None:
        parts.append(windows.known[:, :horizon] - last)
    return np.concatenate(parts, axis=1)


class NLinear(Forecaster):
    """A linear map from the last-value-normalised window to the H residuals (Zeng et al., 2023), with a ridge
    penalty chosen on the validation series; the exogenous inputs enter linearly like the history."""

    kind = "nlinear"
    ALPHAS = (1e-6, 1e-4, 1e-2, 1.0)

    def __init__(self, lookback: int = 64, horizon: int = HORIZON, use_known: bool = True):
        self.lookback, self.horizon, self.use_known = lookback, horizon, use_known
        self.coef: np.ndarray | None = None
        self.intercept: np.ndarray | None = None

    def fit(self, train: LoadSeries | Sequence[LoadSeries], val=None) -> NLinear:
        from sklearn.linear_model import Ridge

        windows = windows_of(train, self.lookback, self.horizon, self.use_known)
        x, t = linear_features(windows, self.horizon), windows.target - windows.reference(self.horizon)
        held = windows_of(val, self.lookback, self.horizon, self.use_known) if val is not None else None
        best = None
        for alpha in self.ALPHAS if held is not None else self.ALPHAS[:1]:
            model = Ridge(alpha=alpha).fit(x, t)
            if held is None:
                best = model
                break
            error = np.mean(np.abs(model.predict(linear_features(held, self.horizon))
                                   - (held.target - held.reference(self.horizon))))
            if best is None or error < best[0]:
                best = (error, model)
        model = best if held is None else best[1]
        self.coef, self.intercept = model.coef_.T.copy(), np.asarray(model.intercept_, float)
        return self

    def predict_windows(self, windows: Windows) -> np.ndarray:
        windows = windows.trimmed(self.lookback)
        return windows.reference(self.horizon) + linear_features(windows, self.horizon) @ self.coef + self.intercept

    def num_parameters(self) -> int:
        return int(self.coef.size + self.intercept.size)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef, "intercept": self.intercept}

    @classmethod
    def from_saved(cls, config: dict, arrays: dict) -> NLinear:
        model = cls(config["lookback"], config["horizon"], config["use_known"])
        model.coef, model.intercept = arrays["coef"], arrays["intercept"]
        return model
