"""Battery policies behind one interface (observe -> act): none, threshold, mpc and the oracle.

Part of :mod:`simulator.grid`: they see a :class:`Context` (battery, step, tariff) and an :class:`Observation`
per step, never the simulator's state. May import :mod:`simulator.grid.battery` and
:mod:`simulator.grid.signals`, nothing of the dispatch loop that drives them.
"""

from simulator.grid.policies.base import Context, NoPolicy, Observation, Policy
from simulator.grid.policies.mpc import MpcPolicy, OraclePolicy, make_policy
from simulator.grid.policies.threshold import ThresholdPolicy

__all__ = ["Context", "MpcPolicy", "NoPolicy", "Observation", "OraclePolicy", "Policy", "ThresholdPolicy",
           "make_policy"]
