"""The runtime: the CLI, the tier loops and process wiring. The only package that imports every stage.

- ``commands/``: one module per ``crowdmap`` command; each parses its arguments and calls the rest.
- ``tiers/``: the edge, aggregator, relay and ops loops, and the scale-out processes around them.
- ``station.py`` loads a station and fits its cameras; ``wiring.py`` builds the iconizer and the
  web tier from it; ``observers.py`` builds each camera's source and detector (or the simulator).
- ``embedded.py``, ``processes.py``, ``webproc.py``: one station on one machine (``demo``, ``run``).
- ``station_check.py`` (camera checks for the web tier), ``evaluation.py`` (the ``eval`` setups),
  ``logging_setup.py``, ``progress.py``.

The bus itself is the ``bus`` package; the stages' own code is in their packages.
"""
