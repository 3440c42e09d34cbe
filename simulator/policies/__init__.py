"""Grid-coordination policies behind one interface: none, threshold, mpc, oracle."""

from simulator.policies.base import Context, NoPolicy, Observation, Policy
from simulator.policies.mpc import MpcPolicy, OraclePolicy, make_policy
from simulator.policies.threshold import ThresholdPolicy

__all__ = ["Context", "MpcPolicy", "NoPolicy", "Observation", "OraclePolicy", "Policy", "ThresholdPolicy",
           "make_policy"]
