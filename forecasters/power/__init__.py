"""Job power models: predict each job's square wave from its metadata, before the job runs.

May import :mod:`simulator.common` only (never the simulator above it; checked by import-linter).
"""

from forecasters.power.analytic import AnalyticPowerModel
from forecasters.power.base import PowerModel
from forecasters.power.factory import make_power_model

__all__ = ["AnalyticPowerModel", "PowerModel", "make_power_model"]
