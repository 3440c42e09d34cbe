"""``python -m simulator`` is the ``dcsim`` command."""

from simulator.cli.main import app

app(prog_name="dcsim")
