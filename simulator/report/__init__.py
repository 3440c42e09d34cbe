"""Report writers: a run's tables, plots, metrics.json and self-contained report.html
(:mod:`~simulator.report.run_report`, with the grid comparison of :mod:`~simulator.report.grid_report`),
and a sweep's (:mod:`~simulator.report.sweep_report`). Every file is written to a temporary name and renamed.

May import :mod:`simulator.sweep`, :mod:`simulator.run` and everything below them.
"""
