"""A real crowdmap web server for browser tests: gevent, the bundled layouts, frames from stdin.

Run as ``python tests/webmap/live_server.py PORT DATA_DIR [HISTORY_URL]``. Each line on standard input is one
raw bus message; it goes to ``hub.receive`` exactly as the runtime's embedded bus delivers it.
The line ``quit`` stops the server. ``CROWDMAP_*`` variables apply (``webmap.settings``).
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

from gevent.fileobject import FileObjectPosix  # noqa: E402
from gevent.pool import Pool  # noqa: E402

from crowdmap.station_check import check_in_subprocess  # noqa: E402
from station import load_layout  # noqa: E402
from webmap import WebSettings, create_app, hub_of, serve  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    port, data_dir = int(sys.argv[1]), Path(sys.argv[2])
    settings = replace(WebSettings.from_env(), host="127.0.0.1", port=port, data_dir=data_dir, async_mode="gevent")
    # Every bundled station, the demo first (the map's default), each with its camera check
    # fitted in a child process as the runtime does.
    folders = [ROOT / "station_layouts" / name for name in ("demo-station", "pets2009", "grand-central")]
    layouts = [load_layout(folder) for folder in folders]
    checks = [check for check in Pool(len(folders)).map(check_in_subprocess, folders) if check is not None]
    history = None
    if len(sys.argv) > 3:
        from history.source import StoreHistorySource
        from history.store import open_store

        # One source for every station: the tests' stations share the time zone of the usual day.
        history = StoreHistorySource(open_store(sys.argv[3]))
    app, sio = create_app(settings, layouts=layouts, checks=checks, history=history)
    hub = hub_of(app)

    def read_stdin() -> None:
        stdin = FileObjectPosix(sys.stdin.fileno(), "rb")
        for line in stdin:
            line = line.strip()
            if line == b"quit":
                break
            if line:
                hub.receive(line)
        sio.stop()

    sio.start_background_task(read_stdin)
    serve(app, sio, host="127.0.0.1", port=port, log_output=False)


if __name__ == "__main__":
    main()
