"""The bus between the tiers: what may cross it, and the two ways it travels.

- :mod:`bus.codec`: the message schemas (``positions``, ``camera_status``, ``icon_frames``),
  encoded to JSON bytes and validated at every receive; the only shapes allowed between tiers.
- :mod:`bus.embedded`: the publisher/subscriber protocols and the embedded bus, bounded
  multiprocessing queues (one machine, nothing to install).
- :mod:`bus.redis_link`, :mod:`bus.redis_publisher`, :mod:`bus.redis_subscribers`: the
  scale-out bus over Redis Streams (the client and its health, the sending end, the reading ends).
- :mod:`bus.backoff`: the one backoff every retry loop of the project uses (standard library only).

Importing ``bus`` loads nothing: each user imports the module it needs, so the detector can use
the backoff without loading Redis, and the web tier the codec without the queues.
"""
