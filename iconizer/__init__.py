"""Merge cameras, anonymise, and turn floor positions into dots and zone levels (the privacy boundary)."""
