"""``python -m simulator`` is the ``dcsim`` command."""

from simulator.cli import app

app(prog_name="dcsim")
