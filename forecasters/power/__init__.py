"""Job power models: predict each job's square wave from its metadata, before the job runs."""

from forecasters.power.analytic import AnalyticPowerModel
from forecasters.power.base import PowerModel

__all__ = ["AnalyticPowerModel", "PowerModel"]
