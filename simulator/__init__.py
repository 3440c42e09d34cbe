"""dcsim: a discrete-event power simulator for AI data centers.

A scenario file becomes a validated config, the config a workload, the workload a SimPy simulation whose jobs
draw square-wave power, the metered power a grid bill under each policy, and all of it metrics and a report.
Each step is one subpackage, and imports run one way, down this list (import-linter checks it in the tests):

- :mod:`simulator.cli`: the ``dcsim`` command, one module per command group.
- :mod:`simulator.report`: files, plots and the HTML report of a run or a sweep.
- :mod:`simulator.sweep`: sweep files expanded into points, run on Dask.
- :mod:`simulator.training_data`: load series for the forecasters, made by running the simulator.
- :mod:`simulator.run`: one scenario start to finish (workload, power model, schedule, meter, grid, metrics).
- :mod:`simulator.grid` | :mod:`simulator.workload`: grid coordination; the jobs a scenario submits.
- :mod:`simulator.engine`: the SimPy schedule, the cluster, metering and facility power.
- :mod:`simulator.config`: the scenario schema and its loading from YAML.
- :mod:`forecasters`: job power models and load forecasters (they see only the common layer).
- :mod:`simulator.common`: errors, atomic writes, the GPU catalog, model families, job records.
"""

__version__ = "0.1.0"
