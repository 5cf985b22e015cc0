"""The runtime: CLI, settings, bus and process wiring. The only package that imports every stage."""
