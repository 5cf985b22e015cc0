"""A real crowdmap web server for browser tests: gevent, the bundled layouts, frames from stdin.

Run as ``python tests/webmap/live_server.py PORT DATA_DIR``. Each line on standard input is one
raw bus message; it goes to ``hub.receive`` exactly as the runtime's embedded bus delivers it.
The line ``quit`` stops the server.
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from gevent.fileobject import FileObjectPosix  # noqa: E402

from station import load_layout  # noqa: E402
from webmap import WebSettings, create_app, hub_of, serve  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    port, data_dir = int(sys.argv[1]), Path(sys.argv[2])
    settings = WebSettings(host="127.0.0.1", port=port, data_dir=data_dir, async_mode="gevent")
    layouts = [load_layout(ROOT / "station_layouts" / name) for name in ("demo-station", "pets2009")]
    app, sio = create_app(settings, layouts=layouts)
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
