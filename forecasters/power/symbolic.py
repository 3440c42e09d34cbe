"""Symbolic regression of job power: one readable formula per target, found by genetic programming (gplearn).

Per target: the features are chosen by Pearson correlation and mutual information with the target (a feature
is kept when either reaches the threshold, 0.3; both numbers are reported; a family's formula is also offered
those chosen over all rows), standardised, and a ``SymbolicRegressor`` with the published search space (by
default plus ``min`` and ``max``, and with linear scaling) and operators evolves a formula for the standardised
target (optionally its logarithm, for durations that span orders of magnitude). The fitted model is saved as
JSON: the formula's tokens and its readable form, the scalers and the feature report; it predicts with plain
numpy (:mod:`forecasters.power.formula`), so the simulator needs neither gplearn nor pickles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecasters.power.base import PowerModel
from forecasters.power.formula import FUNCTIONS, Token, evaluate, to_infix
from forecasters.power.schema import numeric_features
from simulator.common.atomic import write_text_atomic
from simulator.common.errors import UserError
from simulator.common.jobs import WAVE_COLUMNS

PUBLISHED_SETTINGS = {
    "population_size": 15_000,
    "generations": 50,
    "stopping_criteria": 0.01,
    "p_crossover": 0.7,
    "p_subtree_mutation": 0.1,
    "p_hoist_mutation": 0.05,
    "p_point_mutation": 0.1,
}
"""The published gplearn settings (MAE fitness and the function set are fixed below)."""

QUICK_SETTINGS = {**PUBLISHED_SETTINGS, "population_size": 2_000, "generations": 20, "parsimony_coefficient": 3e-4,
                  "restarts": 3}
"""The default: the published operators and rates with a smaller search, ~6x fewer program evaluations.

The published settings leave gplearn's parsimony at its default, 0.001; on a standardised target whose error is
a few hundredths that penalty stops formulas at a handful of nodes (many Zeus families got a straight line in
the power limit), so the default charges a third of it.

``restarts``: independent searches per formula (seeds ``random_state``, ``+1``, ...), keeping the one with the
lowest training fitness. Why: on a family of ~100 rows a small search's outcome depends on its seed more than on
its size (V100 ShuffleNet, four seeds at population 2,000: training MRE 2.8 to 6.0 %), and a few independent runs
are the standard remedy; the validation and test rows are never looked at. In the README's Zeus comparison three
runs took the held-out MRE on average power from 2.54 % to 2.06 %.
"""

SELECTION_THRESHOLD = 0.3
MODEL_FORMAT = "dcsim-symbolic-power-model/1"
DEFAULT_MODEL = Path(__file__).with_name("models") / "symbolic_default.json"
"""The fitted model that ships: `power_model: {kind: symbolic}` without a path loads it."""

LOG_FEATURES = ("params", "flops_per_sample", "batch_size", "image_size", "dataset_size", "num_gpus")
"""Sizes that span orders of magnitude enter as natural logarithms (power grows with log batch size)."""

LOG_TARGETS = frozenset({"peak_duration_s", "valley_duration_s", "time_per_epoch"})
"""Targets fitted in log space by default: durations range over orders of magnitude, powers do not."""

PHYSICS_REFERENCES = {"average_power": "envelope", "peak_power_w": "envelope", "valley_power_w": "envelope",
                      "time_per_epoch": "roofline", "peak_duration_s": "roofline"}
"""With ``physics=True``, what a target is measured against, so that one formula can hold on GPUs it was not
fitted on: a power as its share of the GPU's envelope, (P - idle) / (min(limit, TDP) - idle), and a compute
time against the roofline time of its FLOPs at the GPU's dense tensor peak (``log_work_s``), so the formula
fits an inverse efficiency. The checkpoint valley's duration has no such reference and stays as it is."""


def reference(kind: str, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(base, span) of a physics reference (``envelope`` or ``roofline``) for each row: a target is fitted as
    (value - base) / span."""
    if kind == "envelope":
        idle, tdp = features["gpu_idle_w"].to_numpy(float), features["gpu_tdp_w"].to_numpy(float)
        cap = np.minimum(features["power_limit"].to_numpy(float), tdp) if "power_limit" in features else tdp
        return idle, cap - idle
    if kind == "roofline":
        return np.zeros(len(features)), np.exp(features["log_work_s"].to_numpy(float))
    raise ValueError(f"unknown physics reference {kind!r}; expected one of {sorted(set(PHYSICS_REFERENCES.values()))}")


def to_fitted(values: np.ndarray, kind: str, log: bool, features: pd.DataFrame) -> np.ndarray:
    """A target in the space its formula is fitted in: against its physics reference, then logarithm."""
    ratio = values
    if kind:
        base, span = reference(kind, features)
        ratio = (values - base) / span
    return np.log(ratio) if log else ratio


def from_fitted(fitted: np.ndarray, kind: str, log: bool, features: pd.DataFrame) -> np.ndarray:
    """The inverse of :func:`to_fitted`: a prediction back in the target's own units."""
    value = np.exp(fitted) if log else fitted
    if not kind:
        return value
    base, span = reference(kind, features)
    return base + span * value


@dataclass
class TargetFormula:
    """Everything needed to predict one target, and to explain where its formula came from."""

    target: str
    features: list[str]
    feature_mean: list[float]
    feature_scale: list[float]
    target_mean: float
    target_scale: float
    log_target: bool
    tokens: list[Token]
    formula: str = ""
    selection: list[dict] = field(default_factory=list)  # per candidate feature: pearson, mutual_info, selected
    train_mae_scaled: float | None = None
    reference: str = ""  # the physics reference the target is fitted against (PHYSICS_REFERENCES), if any

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        z = {
            f"z_{name}": (features[name].to_numpy(float) - mean) / scale
            for name, mean, scale in zip(self.features, self.feature_mean, self.feature_scale, strict=True)
        }
        if not z:
            z = {"_rows": np.zeros(len(features))}
        value = self.target_mean + self.target_scale * evaluate(self.tokens, z)
        return from_fitted(value, self.reference, self.log_target, features)

    def readable(self) -> str:
        """The formula in the units of the target, for the README and ``dcsim power fit``."""
        sign = "-" if self.target_scale < 0 else "+"  # linear scaling may fit a falling line
        inner = f"{self.target_mean:.6g} {sign} {abs(self.target_scale):.6g} * {self.formula}"
        against = {"envelope": f"({self.target} - gpu_idle_w) / (min(power_limit, gpu_tdp_w) - gpu_idle_w)",
                   "roofline": f"{self.target} / exp(log_work_s)"}.get(self.reference, self.target)
        lhs = f"log({against})" if self.log_target else against
        used = set(self.tokens)
        scaled = ", ".join(
            f"z_{n} = ({n} - {m:.6g}) / {s:.6g}"
            for n, m, s in zip(self.features, self.feature_mean, self.feature_scale, strict=True)
            if f"z_{n}" in used
        )
        return f"{lhs} = {inner}" + (f"   where {scaled}" if scaled else "")


def candidate_features(jobs: pd.DataFrame) -> pd.DataFrame:
    """The features a formula may use: :func:`numeric_features` with the sizes as logarithms, plus two ratios.

    Standardising a raw batch size of 8..32,768 would squeeze most jobs into a sliver near the mean; its
    logarithm spreads them evenly, and the published fits are logarithmic in batch and image size. The two
    derived features are ones a person would write down first, which spares the search from rediscovering them.
    """
    features = numeric_features(jobs)
    # the compute of one epoch on one GPU at full speed: what a duration scales with, before efficiency
    features["log_work_s"] = np.log(features["dataset_size"] * features["flops_per_sample"]
                                    / (features["num_gpus"] * features["gpu_tflops"] * 1e12))
    # how hard the cap bites: power follows the limit below the draw and ignores it above
    features["limit_ratio"] = features["power_limit"] / features["gpu_tdp_w"]
    for name in LOG_FEATURES:
        features[f"log_{name}"] = np.log(features.pop(name))
    return features


def select_features(features: pd.DataFrame, target: np.ndarray, threshold: float = SELECTION_THRESHOLD,
                    random_state: int = 0) -> list[dict]:
    """Pearson |r| and mutual information of every non-constant feature with the target.

    A feature is selected when either reaches ``threshold``. Mutual information catches the nonlinear
    dependencies (power against power limit: flat, then linear) that correlation misses.
    """
    from sklearn.feature_selection import mutual_info_regression  # fitting only: predicting needs numpy alone

    usable = [c for c in features.columns if features[c].nunique() > 1]
    report = []
    if usable:
        mi = mutual_info_regression(features[usable].to_numpy(float), target, random_state=random_state)
    for i, name in enumerate(usable):
        r = float(np.corrcoef(features[name].to_numpy(float), target)[0, 1])
        report.append({"feature": name, "pearson": r, "mutual_info": float(mi[i]),
                       "selected": bool(abs(r) >= threshold or mi[i] >= threshold)})
    return report


ALL = "*"
"""Group key of the formula fitted on every row: used for model families the fit never saw."""


def linear_scaling(output: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Offset ``a`` and slope ``b`` of the least-squares line ``target ~ a + b * output``.

    A constant program (or one whose output is not finite everywhere) gets ``b = 0``: the target's mean.
    """
    variance = float(np.var(output)) if np.isfinite(output).all() else 0.0
    if variance < 1e-12:
        return float(np.mean(target)), 0.0
    slope = float(np.mean((output - output.mean()) * (target - target.mean()))) / variance
    return float(target.mean() - slope * output.mean()), slope


def scaled_mae(y: np.ndarray, y_pred: np.ndarray, w: np.ndarray) -> float:
    """Mean absolute error of a program after linear scaling (Keijzer, EuroGP 2003): the default fitness.

    Why: with plain MAE a program must find the target's offset and scale out of random constants before its
    shape is judged, and most of a small search goes into that; scaled, a program is judged on its shape alone
    and the best line through it is exact arithmetic. In the README's Zeus comparison (one search per formula)
    it took the held-out MRE from 3.09 % to 2.54 % on average power and from 7.82 % to 6.04 % on epoch time. The line
    is folded into the formula's target scaling, so the saved formula stays ``mean + scale * program``.
    """
    offset, slope = linear_scaling(y_pred, y)
    error = float(np.average(np.abs(offset + slope * y_pred - y), weights=w))
    return error if np.isfinite(error) else np.inf


def _function_set(published: bool) -> tuple:
    """The published search space, plus gplearn's own ``min`` and ``max`` unless the published one is asked for.

    Why min and max: a power cap is a minimum (the draw, or what the limit allows, whichever is lower), and a
    GPU's draw saturates once the batch fills it; with ``min`` a formula says so in one node, where the published
    set needs ``(a + b - abs(a - b)) / 2``, which the search rarely finds. The sigmoid is not built into gplearn
    and is made with make_function.
    """
    from gplearn.functions import make_function

    sigmoid = make_function(function=FUNCTIONS["sig"][1], name="sig", arity=1)
    published_set = ("add", "sub", "mul", "div", "sqrt", "log", "abs", "neg", "inv", sigmoid, "sin", "cos", "tan")
    return published_set if published else (*published_set, "min", "max")


class SymbolicPowerModel(PowerModel):
    """gplearn symbolic regression, one formula per target and model family, scikit-learn fit/predict API.

    Why per family: a job's power and epoch time depend on batch size and power limit through curves whose
    shape is the network's own (ResNet-50 saturates its GPU at any batch, ShuffleNet does not). One formula
    across families must also encode which network it is looking at, which genetic programming does badly;
    per family it only has to describe the curve. A formula over all rows (group ``*``) serves families the fit
    never saw. ``group_by`` names the column, or columns, that make a family: ``"model"`` by default;
    ``["gpu", "dataset", "model"]`` on data that measured one workload on several GPUs (Zeus), where the curve
    differs from GPU to GPU as much as from network to network. ``group_by=None`` fits that one formula only.

    ``physics=True`` fits each target against its physics reference (:data:`PHYSICS_REFERENCES`), so a formula
    fitted on some GPUs can be asked about another; it is off by default, and off the model is exactly the one
    before the option existed (leave-one-GPU-out on the two Zeus GPUs, where it does not help: README).

    ``settings`` overrides gplearn parameters; ``published=True`` uses exactly the published ones
    (population 15,000, 50 generations, stopping 0.01, crossover 0.7, subtree 0.1, hoist 0.05, point 0.1) and
    the published fitness, plain MAE, where the default judges programs by :func:`scaled_mae`.
    """

    def __init__(self, targets: Sequence[str] = WAVE_COLUMNS, published: bool = False, random_state: int = 0,
                 n_jobs: int = 1, log_targets: Sequence[str] | None = None,
                 group_by: str | Sequence[str] | None = "model",
                 min_group_rows: int = 20, physics: bool = False, **settings):
        self.targets = list(targets)
        self.published = published
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.log_targets = sorted(LOG_TARGETS & set(self.targets)) if log_targets is None else list(log_targets)
        self.group_by = group_by
        self.min_group_rows = min_group_rows
        self.physics = physics
        self.settings = settings
        self.formulas: dict[str, dict[str, TargetFormula]] = {}  # target -> group -> formula
        self.metadata: dict = {}

    def get_params(self, deep: bool = True) -> dict:
        return {"targets": self.targets, "published": self.published, "random_state": self.random_state,
                "n_jobs": self.n_jobs, "log_targets": self.log_targets, "group_by": self.group_by,
                "min_group_rows": self.min_group_rows, "physics": self.physics, **self.settings}

    def gp_settings(self) -> dict:
        base = PUBLISHED_SETTINGS if self.published else QUICK_SETTINGS
        return {**base, **({} if self.published else self.settings)}

    def fit(self, jobs: pd.DataFrame, y: pd.DataFrame | None = None) -> SymbolicPowerModel:
        """Fit the formulas; targets are columns of ``y`` (default: of ``jobs``)."""
        y = jobs if y is None else y
        features = candidate_features(jobs)
        if not (features["power_limit"] != features["gpu_tdp_w"]).any():
            # never capped in training: the limit only restates the TDP, and a formula that used it would read a
            # cap at prediction time as a different GPU; capping then comes from the Zeus curve instead
            features = features.drop(columns=["power_limit", "limit_ratio"])
        families: dict[str, np.ndarray] = {}
        if self.group_by:
            missing = [c for c in self._group_columns() if c not in jobs.columns]
            if missing:
                raise UserError(f"group_by: no column {', '.join(missing)} in the data "
                                f"(columns: {', '.join(map(str, jobs.columns))})")
            keys = self.family_of(jobs)
            for name, rows in keys.groupby(keys, sort=True).indices.items():
                if len(rows) >= self.min_group_rows:
                    families[str(name)] = rows
        self.formulas = {}
        for target in self.targets:
            values = y[target].to_numpy(float)
            overall = self._fit_one(features, values, target)
            self.formulas[target] = {ALL: overall} | {
                family: self._fit_one(features.iloc[rows], values[rows], target, offered=overall.features)
                for family, rows in families.items()}
        self.metadata = {"rows": len(jobs), "gplearn": self.gp_settings(), "random_state": self.random_state,
                         "groups": {ALL: len(jobs)} | {g: len(r) for g, r in families.items()},
                         "power_limit": "power_limit" in features.columns}
        return self

    def _fit_one(self, features: pd.DataFrame, values: np.ndarray, target: str,
                 offered: Sequence[str] = ()) -> TargetFormula:
        """One formula. ``offered``: features selected over all rows, kept where they vary within this family.

        Why offer them: within one family a feature can act only jointly with another (power limit slows an
        epoch only at batch sizes that load the GPU), so its marginal correlation there can miss the threshold
        while the data as a whole shows it matters; a formula that cannot see it must ignore it.
        """
        from gplearn.fitness import make_fitness
        from gplearn.genetic import SymbolicRegressor

        log_target = target in self.log_targets
        kind = self.reference_of(target)
        t = to_fitted(values, kind, log_target, features)
        selection = select_features(features, t, random_state=self.random_state)
        chosen = [row["feature"] for row in selection if row["selected"]]
        varying = {row["feature"] for row in selection}  # the report covers exactly the non-constant features
        chosen += [c for c in offered if c not in chosen and c in varying]
        if not chosen and selection:  # nothing reaches the threshold: the strongest correlate, not a constant
            chosen = [max(selection, key=lambda row: abs(row["pearson"]))["feature"]]
        chosen = _distinct(features, chosen)
        x = features[chosen].to_numpy(float)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        t_mean, t_scale = float(t.mean()), float(t.std() or 1.0)
        names = [f"z_{c}" for c in chosen] or ["_rows"]
        z = (x - mean) / scale if chosen else np.zeros((len(t), 1))
        zt = (t - t_mean) / t_scale
        metric = "mean absolute error" if self.published else make_fitness(function=scaled_mae,
                                                                           greater_is_better=False)
        settings = self.gp_settings()
        restarts = settings.pop("restarts", 1)  # ours, not gplearn's
        runs = (SymbolicRegressor(function_set=_function_set(self.published), metric=metric, feature_names=names,
                                  random_state=self.random_state + restart, n_jobs=self.n_jobs, **settings).fit(z, zt)
                for restart in range(restarts))
        regressor = min(runs, key=lambda run: run._program.raw_fitness_)  # on a tie, the earliest seed
        offset, slope = (0.0, 1.0) if self.published else linear_scaling(regressor.predict(z), zt)
        tokens = _tokens(regressor._program.program, names)
        return TargetFormula(target=target, features=chosen, feature_mean=mean.tolist(), feature_scale=scale.tolist(),
                             target_mean=t_mean + t_scale * offset, target_scale=t_scale * slope,
                             log_target=log_target, tokens=tokens, formula=to_infix(tokens), selection=selection,
                             train_mae_scaled=float(regressor._program.raw_fitness_), reference=kind)

    def reference_of(self, target: str) -> str:
        """The physics reference ``target`` is fitted against: none unless ``physics``."""
        return PHYSICS_REFERENCES.get(target, "") if self.physics else ""

    def _group_columns(self) -> list[str]:
        return [self.group_by] if isinstance(self.group_by, str) else list(self.group_by or [])

    def family_of(self, jobs: pd.DataFrame) -> pd.Series:
        """Each job's family key: its ``group_by`` values joined by ``|`` (``*`` when it lacks one of them)."""
        columns = self._group_columns()
        if not columns or any(c not in jobs.columns for c in columns):
            return pd.Series(ALL, index=jobs.index)
        keys = jobs[columns[0]].astype(str)
        for column in columns[1:]:
            keys = keys + "|" + jobs[column].astype(str)
        return keys

    def models_power_limit(self) -> bool:
        """Whether a cap is in the formulas: as a feature, or as the envelope of a physics target fitted on capped
        jobs (then the capping curve must not be applied on top)."""
        formulas = [f for by_group in self.formulas.values() for f in by_group.values()]
        return any("power_limit" in f.features or "limit_ratio" in f.features for f in formulas) or (
            self.metadata.get("power_limit", False) and any(f.reference == "envelope" for f in formulas))

    def _predict_uncapped(self, jobs: pd.DataFrame) -> pd.DataFrame:
        if not self.formulas:
            raise RuntimeError("fit or load the model before predicting")
        features = candidate_features(jobs)
        if not self.models_power_limit():  # fitted without a cap: a cap is the capping curve's (PowerModel.predict)
            features = features.drop(columns=["power_limit", "limit_ratio"], errors="ignore")
        keys = self.family_of(jobs)
        out = pd.DataFrame(index=jobs.index, columns=list(self.formulas), dtype=float)
        for target, by_group in self.formulas.items():
            group_of = keys.where(keys.isin(list(by_group)), ALL)
            for group, rows in group_of.groupby(group_of).groups.items():
                out.loc[rows, target] = by_group[group].predict(features.loc[rows])
        return out

    def describe(self) -> list[tuple[str, str, str]]:
        """(target, group, readable formula) for every formula, for people."""
        return [(t, g, f.readable()) for t, by_group in self.formulas.items() for g, f in by_group.items()]

    def save(self, path: Path) -> None:
        """JSON, written atomically: formulas as tokens and as text, scalers, feature reports, settings."""
        document = {"format": MODEL_FORMAT, "params": self.get_params(), "metadata": self.metadata,
                    "formulas": {t: {g: asdict(f) for g, f in by_group.items()}
                                 for t, by_group in self.formulas.items()}}
        write_text_atomic(path, json.dumps(document, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> SymbolicPowerModel:
        try:
            document = json.loads(Path(path).read_text())
        except OSError as err:
            raise UserError(f"{path}: cannot read power model ({err.strerror})") from None
        except json.JSONDecodeError as err:
            raise UserError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
        if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
            raise UserError(f"{path}: not a dcsim symbolic power model (expected format {MODEL_FORMAT!r})")
        model = cls(**document["params"])
        model.formulas = {t: {g: TargetFormula(**f) for g, f in by_group.items()}
                          for t, by_group in document["formulas"].items()}
        model.metadata = document.get("metadata", {})
        return model


def _distinct(features: pd.DataFrame, chosen: list[str]) -> list[str]:
    """``chosen`` without a feature that standardises to the same column as an earlier one (up to its sign).

    Why: within one GPU's rows ``limit_ratio`` is ``power_limit`` over a constant; offered both, a formula
    gets two names for one input (``z_limit_ratio - z_power_limit`` reads as a dependency and is zero).
    """
    kept: list[str] = []
    for name in chosen:
        column = features[name].to_numpy(float)
        if not any(abs(np.corrcoef(column, features[k].to_numpy(float))[0, 1]) > 1 - 1e-9 for k in kept):
            kept.append(name)
    return kept


def _tokens(program: list, names: list[str]) -> list[Token]:
    """gplearn's program (functions, feature indices, constants) as JSON-ready tokens."""
    tokens: list[Token] = []
    for node in program:
        if isinstance(node, int | np.integer):
            tokens.append(names[int(node)] if names else "_rows")
        elif isinstance(node, float | np.floating):
            tokens.append(float(node))
        else:
            tokens.append(node.name)
    return tokens
