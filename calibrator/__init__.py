"""The operator calibration tool: an edge-side web page to fit a camera to its floor plan.

It is the one place where a camera still is shown to a person (PRIVACY.md P1): it runs on the
edge, binds to the loopback address by default, serves the still only to logged-in operators
and only from memory, and audit-logs every saved change without the image (P5).
"""
