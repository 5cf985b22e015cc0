"""The publishing tier: web pages, REST and websockets over icon frames only. Never imports detector."""
