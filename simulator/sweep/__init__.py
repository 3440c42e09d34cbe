"""Sweeps: a sweep file (a base scenario and axes) expanded into points (:mod:`~simulator.sweep.spec`) and run
on Dask, resumable from the results already written (:mod:`~simulator.sweep.runner`).

May import :mod:`simulator.run` and everything below it.
"""
