"""Per-zone, per-minute crowding aggregates: storage, retention, the usual day, CSV export (PRIVACY.md P3)."""
