"""The publishing tier: web pages, REST and websockets over icon frames only. Never imports detector.

The runtime builds the app with :func:`create_app`, delivers bus messages to
``hub_of(app).receive(raw)`` (or runs ``hub_of(app).pump(queue, stop, sleep=socketio.sleep)`` as a
background task) and serves it with :func:`serve`.
"""

from webmap.app import NoticeError, create_app, hub_of, serve, socketio
from webmap.payload import broadcast_targets, public_payload
from webmap.settings import WebSettings

__all__ = [
    "NoticeError",
    "WebSettings",
    "broadcast_targets",
    "create_app",
    "hub_of",
    "public_payload",
    "serve",
    "socketio",
]
