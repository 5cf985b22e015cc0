"""Find people in camera frames; frames never leave this package's process (PRIVACY.md P1)."""
