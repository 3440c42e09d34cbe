"""The scenario schema: every section as a pydantic model, with every default readable in this one module.

A scenario has the sections ``cluster``, ``facility``, ``workload``, ``power_model``, ``grid``, ``policy``,
``simulation`` and ``output``; each may be left out to take its defaults. Reading a file and turning a
validation error into one line per mistake is :mod:`simulator.config.loading`'s.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from simulator.common.catalog import gpu_spec
from simulator.common.families import FAMILIES

_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: Any) -> Any:
    """Read '90s', '15min', '12h', '7d', '2w' or a number of seconds; leave anything else to pydantic."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-z]+)?\s*", value.lower())
        if not match or (match.group(2) or "s") not in _UNITS:
            raise ValueError("expected a duration such as 90, '90s', '15min', '12h', '7d' or '2w'")
        return float(match.group(1)) * _UNITS[match.group(2) or "s"]
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


class Section(BaseModel):
    """Base of every section: unknown keys are errors (a typo must not silently fall back to a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ClusterConfig(Section):
    servers: int = Field(16, ge=1, description="number of GPU servers")
    gpus_per_server: int = Field(8, ge=1, le=16)
    gpu: str = Field("A100-80GB", description="a name from simulator.common.catalog")
    server_base_power_w: float = Field(
        1200.0, ge=0, description="host power without GPUs (CPUs, memory, fans, NICs); DGX A100 ~1.2 kW"
    )
    psu_efficiency: float = Field(0.94, gt=0, le=1, description="DC power / wall power (80 PLUS Titanium ~0.94)")
    gpu_power_limit_w: float | None = Field(
        None, gt=0, description="power cap per GPU (nvidia-smi -pl); waves follow the Zeus-learned capping curve"
    )
    scheduler: Literal["fifo", "easy"] = "easy"
    backfill_depth: int = Field(64, ge=1, description="queued jobs EASY looks at per pass, as Slurm's bf_max_job_test")

    @field_validator("gpu")
    @classmethod
    def _known_gpu(cls, name: str) -> str:
        try:
            return gpu_spec(name).name
        except KeyError as err:
            raise ValueError(err.args[0]) from None

    @property
    def total_gpus(self) -> int:
        return self.servers * self.gpus_per_server

    def it_power_w(self, gpu_w: float) -> float:
        """IT power at the wall for a total GPU draw: hosts added, PSU losses included."""
        return (gpu_w + self.server_base_power_w * self.servers) / self.psu_efficiency

    @property
    def rated_it_w(self) -> float:
        """IT power with every GPU at its TDP: the facility's rating and the unit of per-unit load."""
        return self.it_power_w(gpu_spec(self.gpu).tdp_w * self.total_gpus)


class ConstantPue(Section):
    kind: Literal["constant"] = "constant"
    value: float = Field(1.3, ge=1.0)


class CurvePue(Section):
    """PUE that rises at light IT load (fixed overheads) and in hot weather (less free cooling).

    facility = IT x (1 + cooling) + fixed, cooling = cooling_base + cooling_per_degc x max(0, T - free_cooling_below_c),
    fixed = fixed_fraction x the rated IT power of the cluster.
    """

    kind: Literal["curve"]
    fixed_fraction: float = Field(0.04, ge=0, description="UPS, lighting, distribution, share of rated IT power")
    cooling_base: float = Field(0.08, ge=0, description="cooling energy per IT energy with free cooling")
    cooling_per_degc: float = Field(0.012, ge=0, description="extra cooling per IT energy per degree C")
    free_cooling_below_c: float = 18.0
    weather: Path | None = Field(None, description="EnergyPlus .epw file, relative to the scenario file")
    outdoor_temp_c: float = Field(20.0, description="used when no weather file is given")


def _with_kind(data: Any, section: str, kind: str) -> Any:
    """Fill in ``kind`` of a sub-section written without one, so `pue: {value: 1.4}` means a constant PUE."""
    if isinstance(data, dict) and isinstance(data.get(section), dict) and "kind" not in data[section]:
        data = {**data, section: {"kind": kind, **data[section]}}
    return data


class FacilityConfig(Section):
    pue: ConstantPue | CurvePue = Field(default_factory=ConstantPue, discriminator="kind")

    @model_validator(mode="before")
    @classmethod
    def _pue_kind(cls, data: Any) -> Any:
        return _with_kind(data, "pue", "constant")


DEFAULT_MIX = {"resnet": 0.15, "vgg": 0.05, "vit": 0.2, "bert": 0.2, "mobilenet": 0.1, "gpt": 0.3}


class SyntheticWorkload(Section):
    kind: Literal["synthetic"] = "synthetic"
    calibration: Literal["kalos", "seren", "philly", "helios"] = Field(
        "kalos", description="real cluster whose job sizes and run times the generator reproduces"
    )
    target_utilization: float = Field(
        0.74, gt=0, le=1.5, description="offered GPU-time / capacity; 0.74 = Philly's mean busy-node share"
    )
    daily_amplitude: float = Field(0.3, ge=0, lt=1, description="relative swing of arrivals over a day")
    peak_hour: float = Field(14.0, ge=0, lt=24, description="local hour with the most arrivals")
    weekend_factor: float = Field(0.7, gt=0, le=2, description="arrival rate on Sat/Sun relative to weekdays")
    max_gpus: int | None = Field(
        None, ge=1, description="largest job; default a quarter of the cluster (a whole-cluster job drains it)"
    )
    model_mix: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MIX))

    @field_validator("model_mix")
    @classmethod
    def _known_models(cls, mix: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(mix) - set(FAMILIES))
        if unknown:
            raise ValueError(f"unknown model families {unknown}; expected some of {sorted(FAMILIES)}")
        if any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        return mix


class TraceWorkload(Section):
    """A job trace (simulator/workload/traces/): dcsim's CSV or a public cluster's log, one job a row.

    ``strict`` left out: a dcsim CSV stops at its first bad row (it is written for dcsim, so a bad row is a
    mistake to fix, and that was always its behaviour), a public trace skips bad rows and counts them.
    """

    kind: Literal["trace"]
    path: Path = Field(description="trace file, relative to the scenario file")
    format: Literal["dcsim", "philly", "helios", "alibaba2020", "alibaba2023"] = "dcsim"
    strict: bool | None = Field(None, description="stop at the first bad row; default: dcsim yes, others no")
    offset: Annotated[float, BeforeValidator(parse_duration), Field(ge=0)] = Field(
        0.0, description="trace time (after the trace's start) that plays at t = 0")
    model_mix: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MIX),
                                        description="families sampled for jobs the trace gives no model")

    @field_validator("model_mix")
    @classmethod
    def _known_models(cls, mix: dict[str, float]) -> dict[str, float]:
        return SyntheticWorkload._known_models(mix)

    @property
    def is_strict(self) -> bool:
        return self.format == "dcsim" if self.strict is None else self.strict


class OccupancyWorkload(Section):
    """Jobs that reproduce a measured busy-node series (time,active,total), scaled to the cluster."""

    kind: Literal["occupancy"]
    path: Path = Field(description="occupancy CSV, relative to the scenario file")
    gpus_per_node: int | None = Field(None, ge=1, description="GPUs per busy node; default cluster.gpus_per_server")
    offset: Annotated[float, BeforeValidator(parse_duration), Field(ge=0)] = Field(
        0.0, description="series time (after its first row) that plays at t = 0")
    strict: bool = Field(False, description="stop at the first bad row instead of skipping and counting it")
    model_mix: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MIX))

    @field_validator("model_mix")
    @classmethod
    def _known_models(cls, mix: dict[str, float]) -> dict[str, float]:
        return SyntheticWorkload._known_models(mix)


class PowerModelConfig(Section):
    kind: Literal["analytic", "symbolic"] = Field(
        "analytic", description="analytic: documented closed form; symbolic: fitted formulas (dcsim power fit)"
    )
    path: Path | None = Field(None, description="symbolic model JSON, relative to the scenario; default: shipped")


class FlatPrice(Section):
    kind: Literal["flat"] = "flat"
    usd_per_mwh: float = Field(100.0, description="one energy price for every hour")


class SeriesPrice(Section):
    kind: Literal["series"] = "series"
    file: Path = Field(description="hourly prices: Datetime,Price (USD/MWh) or time,usd_per_mwh (data/grid/)")


class TouPeriod(Section):
    start_hour: float = Field(ge=0, le=24)
    end_hour: float = Field(ge=0, le=24)
    usd_per_mwh: float


class TouPrice(Section):
    kind: Literal["tou"] = "tou"
    periods: list[TouPeriod] = Field(description="site-local hours [start, end) with their price")
    default_usd_per_mwh: float = Field(description="the price outside every period")
    weekdays_only: bool = Field(True, description="periods apply Monday to Friday only")


class CarbonConfig(Section):
    file: Path = Field(description="hourly carbon intensity: Electricity Maps or EIA layout (data/grid/)")
    kind: Literal["direct", "LCA"] = "direct"


class BatteryConfig(Section):
    energy_kwh: float = Field(gt=0)
    power_kw: float = Field(gt=0)
    round_trip_efficiency: float = Field(0.9, gt=0, le=1)
    soc_min: float = Field(0.1, ge=0, le=1)
    soc_max: float = Field(0.9, ge=0, le=1)
    soc_initial: float = Field(0.5, ge=0, le=1)
    degradation_usd_per_kwh: float = Field(0.0, ge=0, description="cost per kWh charged or discharged")

    @model_validator(mode="after")
    def _bounds(self) -> BatteryConfig:
        if not self.soc_min <= self.soc_initial <= self.soc_max:
            raise ValueError("expected soc_min <= soc_initial <= soc_max")
        return self


class SolarConfig(Section):
    rated_kw: float = Field(gt=0)
    file: Path | None = Field(None, description="EIA fuel-mix CSV whose SUN column gives the shape; default: "
                                                "the shipped CAISO 2022 file")


class DemandResponseEvent(Section):
    start: datetime = Field(description="site-local time")
    end: datetime
    limit_kw: float = Field(ge=0, description="grid import allowed during the event")

    @model_validator(mode="after")
    def _order(self) -> DemandResponseEvent:
        if self.end <= self.start:
            raise ValueError("expected end after start")
        return self


class GridConfig(Section):
    timezone: str = Field("UTC", description="IANA zone of the site, e.g. America/Los_Angeles; signals are UTC")
    import_limit_kw: float | None = Field(None, gt=0, description="drawn on the plots; minutes above it reported")
    prices: FlatPrice | SeriesPrice | TouPrice = Field(default_factory=FlatPrice, discriminator="kind")
    demand_charge_usd_per_kw: float = Field(0.0, ge=0, description="per billing month, on the peak 15-min import")
    carbon: CarbonConfig | None = None
    demand_response: list[DemandResponseEvent] = Field(default_factory=list)
    battery: BatteryConfig | None = None
    solar: SolarConfig | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as America/Los_Angeles or UTC") from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _price_kind(cls, data: Any) -> Any:
        return _with_kind(data, "prices", "flat")


class CappingConfig(Section):
    """Facility-wide GPU power cap in windows fixed a day ahead (see :mod:`simulator.grid.levers`)."""

    gpu_power_limit_w: float = Field(gt=0, description="per-GPU limit while a window is on")
    demand_response: bool = Field(True, description="on during grid.demand_response events")
    price_above_usd_per_mwh: float | None = Field(None, description="on in hours priced above this")
    carbon_above_g_per_kwh: float | None = Field(None, description="on in hours with carbon intensity above this")

    @model_validator(mode="after")
    def _some_trigger(self) -> CappingConfig:
        if not (self.demand_response or self.price_above_usd_per_mwh is not None
                or self.carbon_above_g_per_kwh is not None):
            raise ValueError("expected a trigger: demand_response, price_above_usd_per_mwh or carbon_above_g_per_kwh")
        return self


class DeferralConfig(Section):
    """Queued jobs wait, within policy.slack, for the start with the lowest mean signal over their run."""

    signal: Literal["carbon", "price", "load"] = Field(
        "carbon", description="what a deferred job avoids: carbon intensity, energy price, or facility load (the "
                              "load without levers, as a day-ahead forecast)")
    step: Seconds = Field(900.0, description="candidate start times, every step from submission")
    min_gain: float = Field(0.05, ge=0, lt=1, description="relative improvement needed to wait at all")


class PolicyConfig(Section):
    kind: Literal["none", "threshold", "mpc", "oracle"] = Field(
        "none", description="none: battery idle; threshold: hold import at threshold_kw; mpc: receding-horizon LP; "
                            "oracle: the LP with perfect foresight")
    forecaster: str = Field("student", description="student (shipped), perfect, persistence, or a saved model folder")
    step: Seconds = Field(60.0, description="control step")
    horizon: int = Field(15, ge=1, le=240, description="forecast steps the policy sees")
    threshold_kw: float | None = Field(None, gt=0, description="threshold policy; default grid.import_limit_kw")
    oracle: bool = Field(True, description="also run the oracle, for the share of its savings")
    slack: Seconds = Field(21600.0, description="a job waiting longer than this is late (reported); deferral never "
                                                "holds a job past it")
    capping: CappingConfig | None = None
    deferral: DeferralConfig | None = None

    @property
    def has_levers(self) -> bool:
        """Whether the policy changes the jobs (then the baseline is a second simulation)."""
        return self.capping is not None or self.deferral is not None

    @property
    def label(self) -> str:
        """The policy's name in reports: its battery policy and its job levers, e.g. ``mpc+capping``."""
        parts = [self.kind] if self.kind != "none" or not self.has_levers else []
        parts += [name for name, on in (("capping", self.capping), ("deferral", self.deferral)) if on is not None]
        return "+".join(parts)


class SimulationConfig(Section):
    start: datetime = Field(datetime(2023, 7, 3), description="site-local time of t = 0 (a Monday by default)")
    duration: Seconds = Field(86400.0, description="'7d', '12h', or seconds")
    resolution: Seconds = Field(1.0, description="metering interval: '1s' (default), '1min' for long runs")
    warmup: Annotated[float, BeforeValidator(parse_duration), Field(ge=0)] = Field(
        0.0, description="simulated before t = 0 and not metered, so the cluster does not start empty"
    )
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _bins(self) -> SimulationConfig:
        bins = self.duration / self.resolution
        if abs(bins - round(bins)) > 1e-9 * bins:
            raise ValueError("duration must be a whole number of metering intervals")
        if bins > 50_000_000:
            raise ValueError(f"{bins:.0f} metering intervals is too many; use a coarser resolution")
        return self

    @property
    def bins(self) -> int:
        return round(self.duration / self.resolution)


class OutputConfig(Section):
    dir: Path | None = Field(None, description="default runs/<scenario>-<timestamp>/")
    csv: bool = Field(False, description="also write timeseries.csv and jobs.csv")
    zoom: Seconds = Field(1800.0, description="width of the zoomed plot that shows the square waves")


class Scenario(Section):
    name: str = "scenario"
    description: str = ""
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    facility: FacilityConfig = Field(default_factory=FacilityConfig)
    workload: SyntheticWorkload | TraceWorkload | OccupancyWorkload = Field(default_factory=SyntheticWorkload,
                                                                            discriminator="kind")
    power_model: PowerModelConfig = Field(default_factory=PowerModelConfig)
    grid: GridConfig = Field(default_factory=GridConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    base_dir: Path = Field(Path("."), exclude=True, description="folder of the scenario file; set by load")

    @model_validator(mode="before")
    @classmethod
    def _workload_kind(cls, data: Any) -> Any:
        return _with_kind(data, "workload", "synthetic")

    def referenced_files(self) -> list[tuple[tuple[str, ...], Path]]:
        """(field path, file) of every file the scenario names, so they can be checked before a run."""
        files = []
        if isinstance(self.facility.pue, CurvePue) and self.facility.pue.weather is not None:
            files.append((("facility", "pue", "weather"), self.facility.pue.weather))
        if isinstance(self.workload, TraceWorkload | OccupancyWorkload):
            files.append((("workload", "path"), self.workload.path))
        if self.power_model.path is not None:
            files.append((("power_model", "path"), self.power_model.path))
        grid = self.grid
        if isinstance(grid.prices, SeriesPrice):
            files.append((("grid", "prices", "file"), grid.prices.file))
        if grid.carbon is not None:
            files.append((("grid", "carbon", "file"), grid.carbon.file))
        if grid.solar is not None and grid.solar.file is not None:
            files.append((("grid", "solar", "file"), grid.solar.file))
        return files

    def resolve(self, path: Path) -> Path:
        """A path written in the scenario, taken relative to the scenario file."""
        return path if path.is_absolute() else self.base_dir / path
