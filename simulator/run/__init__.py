"""The run pipeline: one scenario, start to finish, as a :class:`~simulator.run.pipeline.RunResult`.

Workload -> power model -> SimPy schedule -> metered power -> grid coordination -> metrics; also the gymnasium
environment built on a run. Writes no files (:mod:`simulator.report` does). May import every room below it:
:mod:`simulator.grid`, :mod:`simulator.workload`, :mod:`simulator.engine`, :mod:`simulator.config`,
:mod:`forecasters` and :mod:`simulator.common`.
"""
