"""The engine: the SimPy schedule of jobs on a cluster, and the meter that turns their waves into power.

Holds the simulation (:mod:`~simulator.engine.simulation`), scheduling policies, the cluster's GPU placement,
metering of square waves and replayed power logs, and facility power (PUE, weather). It knows jobs as arrays of
submit times, GPU counts and waves, not where they came from. May import :mod:`simulator.config`,
:mod:`forecasters` (the power-log reader) and :mod:`simulator.common`.
"""
