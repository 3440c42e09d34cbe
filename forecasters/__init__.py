"""Models that predict before the fact: job power profiles (``forecasters.power``) and facility load
(``forecasters.load``).

They learn from tables and series, not from the simulator: they may import :mod:`simulator.common` and nothing
else of dcsim's (import-linter's forbidden contract in pyproject.toml), so a model can be fitted, tested and
shipped on its own. Series made by running the simulator come from :mod:`simulator.training_data`.
"""
