"""Training data that runs the simulator: load series for the forecasters, from dcsim's own runs.

Sits above the run pipeline (it calls :func:`simulator.run.pipeline.simulate`) so that :mod:`forecasters`
never has to. May import: :mod:`simulator.run` and everything below it, and :mod:`forecasters`.
"""
