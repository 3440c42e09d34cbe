"""The ``dcsim`` command, the top layer: :mod:`~simulator.cli.main` (run, validate) and one module per command
group (power, forecast, trace, sweep). Turns a user's mistake into one line and exit code 2.

May import everything below it; nothing imports it.
"""

from simulator.cli.main import app

__all__ = ["app"]
