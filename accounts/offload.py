"""Run a blocking call off the server's event loop when there is one (gevent), else in place.

An argon2 check takes about 150 ms of CPU in C. Under gevent every request and every websocket
write of a web process shares one thread, so a login would stall the map for everyone; gevent's
thread pool runs the call in a real thread instead (argon2-cffi releases the GIL while hashing)
and only the waiting greenlet blocks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("threading"))


def run_blocking(call: Callable[[], T]) -> T:
    """``call()``, in gevent's thread pool when this process is gevent-patched.

    Exceptions raised by ``call`` reach the caller either way.
    """
    if not _gevent_patched():
        return call()
    import gevent

    return gevent.get_hub().threadpool.apply(call)
