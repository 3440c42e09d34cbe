"""The workload: the jobs a scenario submits, from the calibrated synthetic generator, a job trace or an
occupancy series (trace adapters in :mod:`simulator.workload.traces`, one per format).

May import :mod:`simulator.engine` (power logs, checked before a run), :mod:`simulator.config`,
:mod:`forecasters` and :mod:`simulator.common`; never :mod:`simulator.grid` (the two are independent).
"""
