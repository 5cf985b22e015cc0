"""Subcommands of the ``crowdmap`` CLI, one module each, registered in ``crowdmap.cli``."""
