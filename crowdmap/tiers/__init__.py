"""The tier loops, one module per job; the CLI modules in ``crowdmap.commands`` only parse and call them.

- :mod:`crowdmap.tiers.edge`: one camera's loop (observe, project, publish positions and health).
- :mod:`crowdmap.tiers.edge_process`: ``crowdmap edge``: several cameras over Redis, each rebuilt
  with backoff when it fails, with ``/healthz`` and ``/metrics``.
- :mod:`crowdmap.tiers.aggregate`: the aggregator loop (validate, feed the iconizer, publish frames).
- :mod:`crowdmap.tiers.aggregate_process`: ``crowdmap aggregate``: the loop over Redis, silent
  edges reported dead, restarted with backoff, with ``/healthz`` and ``/metrics``.
- :mod:`crowdmap.tiers.relay`: ``crowdmap serve``'s frames relay (one web process emits, elected
  with a Redis lease).
- :mod:`crowdmap.tiers.serve_process`: ``crowdmap serve``: one web process fed from Redis.
- :mod:`crowdmap.tiers.ops`: the ops HTTP server (``/healthz``, ``/readyz``, ``/metrics``).

The embedded station (``crowdmap demo`` / ``run``) runs the same loops in child processes
(:mod:`crowdmap.embedded`, :mod:`crowdmap.processes`).
"""
