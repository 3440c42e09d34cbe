"""The validated scenario: the schema every scenario file is checked against, and its loading from YAML.

The first step of the flow (scenario file -> validated config): every later layer reads a :class:`Scenario`,
none reads YAML. May import: :mod:`simulator.common` only.
"""

from simulator.config.loading import (
    describe_error,
    error_message,
    line_of,
    load_gpu_specs,
    load_scenario,
    read_yaml,
)
from simulator.config.schema import (
    BatteryConfig,
    CappingConfig,
    CarbonConfig,
    ClusterConfig,
    ConstantPue,
    CurvePue,
    DeferralConfig,
    DemandResponseEvent,
    FacilityConfig,
    FlatPrice,
    GridConfig,
    OccupancyWorkload,
    OutputConfig,
    PolicyConfig,
    PowerModelConfig,
    Scenario,
    SeriesPrice,
    SimulationConfig,
    SolarConfig,
    SyntheticWorkload,
    TouPeriod,
    TouPrice,
    TraceWorkload,
    parse_duration,
)

__all__ = [
    "BatteryConfig", "CappingConfig", "CarbonConfig", "ClusterConfig", "ConstantPue", "CurvePue", "DeferralConfig",
    "DemandResponseEvent", "FacilityConfig", "FlatPrice", "GridConfig", "OccupancyWorkload",
    "OutputConfig", "PolicyConfig", "PowerModelConfig", "Scenario", "SeriesPrice", "SimulationConfig",
    "SolarConfig", "SyntheticWorkload", "TouPeriod", "TouPrice", "TraceWorkload", "describe_error", "error_message",
    "line_of", "load_gpu_specs", "load_scenario", "parse_duration", "read_yaml",
]
