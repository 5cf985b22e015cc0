"""Test harness: real services and real ``crowdmap`` processes started and stopped by tests.

Never used by the product. ``localredis`` runs a private ``redis-server`` on a free port (so a
test may restart it without touching the shared one); ``localstation`` runs ``crowdmap edge``,
``aggregate`` and ``serve`` as separate OS processes against it. The fixtures that use them are in
``tests/conftest.py``; the soak and Redis benchmarks in ``bench/`` use them too.
"""
