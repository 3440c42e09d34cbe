"""dcsim: a discrete-event power simulator for AI data centers.

The package is the engine: a scenario file becomes a validated config, the config a workload, the workload
a SimPy simulation whose jobs draw square-wave power, and the metered power a set of metrics and a report.
"""

__version__ = "0.1.0"
