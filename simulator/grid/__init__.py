"""Grid coordination: what the grid signals, what the site is billed, and the policies that act on both.

- :mod:`~simulator.grid.signals`: :class:`GridSignals`, the one carrier of per-step prices, carbon, solar,
  limits and the :class:`Tariff`; :mod:`~simulator.grid.signal_files` reads their files.
- :mod:`~simulator.grid.billing`: the bill and the demand-charge peaks; :mod:`~simulator.grid.battery`.
- :mod:`~simulator.grid.policies`: none, threshold, MPC and the oracle behind one interface.
- :mod:`~simulator.grid.dispatch`: the control loop; :mod:`~simulator.grid.forecast`: the load forecast a
  policy sees; :mod:`~simulator.grid.levers`: power-cap windows and deferral, which change the jobs.
- :mod:`~simulator.grid.coordinate`: a scenario's metered load through every policy, billed.

May import :mod:`simulator.engine`, :mod:`simulator.config`, :mod:`forecasters` and :mod:`simulator.common`;
never :mod:`simulator.workload` (the two are independent) or anything above.
"""
