"""The bus between the tiers: what may cross it, and the two ways it travels.

- :mod:`bus.schema`: the message schemas (``positions``, ``camera_status``, ``icon_frames``) as
  pydantic models; the only shapes allowed between tiers.
- :mod:`bus.codec`: messages to JSON bytes and back, validated against those schemas at every
  receive; a refused message names its reason.
- :mod:`bus.embedded`: the publisher/subscriber protocols and the embedded bus, bounded
  multiprocessing queues (one machine, nothing to install).
- :mod:`bus.redis_link`, :mod:`bus.redis_publisher`, :mod:`bus.redis_subscribers`: the
  scale-out bus over Redis Streams (the client and its health, the sending end, the reading ends).
- :mod:`bus.acl`: the least-privilege Redis accounts of the edge, aggregator and web roles.
- :mod:`bus.backoff`: the one backoff every retry loop of the project uses (standard library only).

Importing ``bus`` loads nothing: each user imports the module it needs, so the detector can use
the backoff without loading Redis, and the web tier the codec without the queues.
"""
