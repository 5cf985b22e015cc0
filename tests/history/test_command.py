import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from crowdmap.cli import main
from history.aggregate import ZoneMinute
from history.store import open_store

TOKYO = ZoneInfo("Asia/Tokyo")


def _minute(when: datetime, zone_id="lawn", density=0.1):
    return ZoneMinute("pets2009", zone_id, int(when.timestamp()) // 60 * 60, 2.0, 3, density, density, 0, "A", 60, 0)


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path}/h.db"
    with open_store(url) as store:
        store.write(
            [
                _minute(datetime(2026, 11, 27, 8, 0, tzinfo=TOKYO)),
                _minute(datetime(2026, 11, 27, 8, 1, tzinfo=TOKYO), zone_id="road"),
                _minute(datetime(2026, 11, 27, 9, 30, tzinfo=TOKYO)),
                _minute(datetime(2020, 1, 1, 0, 0, tzinfo=TOKYO)),  # far beyond any retention
            ]
        )
    return url


def _export(db, since, until, *options):
    """``crowdmap history export`` of pets2009 from ``db``; returns the exit code."""
    return main(
        ["history", "export", "--station", "pets2009", "--history", db, "--since", since, "--until", until, *options]
    )


def test_export_period_and_zone(db, capsys):
    assert _export(db, "2026-11-27T07:00", "2026-11-27T09:00", "--zone", "lawn") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["zone_id"], r["minute_utc"]) for r in rows] == [("lawn", "2026-11-26T23:00:00Z")]


def test_export_to_file(db, tmp_path):
    out = tmp_path / "export.csv"
    assert _export(db, "2026-11-27T00:00+09:00", "2026-11-28T00:00+09:00", "--out", str(out)) == 0
    assert len(out.read_text().splitlines()) == 1 + 3


def test_purge_uses_layout_retention(db):
    assert main(["history", "purge", "--station", "pets2009", "--history", db]) == 0
    with open_store(db) as store:
        assert len(store.series("pets2009", None, 0, 2e9)) == 3  # only the 2020 minute went


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "--since", "yesterday"], "ISO 8601"),
        (["export", "--zone", "platform-9"], "no zone 'platform-9'"),
        (["export", "--since", "2026-11-27T09:00", "--until", "2026-11-27T08:00"], "--since must be before"),
        (["purge", "--retention-days", "0"], "--retention-days must be >= 1"),
    ],
)
def test_errors(db, capsys, argv, message):
    try:
        code = main(["history", argv[0], "--station", "pets2009", "--history", db, *argv[1:]])
    except SystemExit as exit_:
        code, err = exit_.code, str(exit_)
    else:
        err = capsys.readouterr().err
    assert code != 0
    assert message in err + capsys.readouterr().err


def test_export_into_a_pipe_that_closes_early_ends_quietly(tmp_path):
    """``crowdmap history export | head -1``: no BrokenPipeError traceback, the exit of a process killed by SIGPIPE."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path}/long.db"
    start = datetime(2026, 11, 20, 0, 0, tzinfo=TOKYO)
    with open_store(url) as store:
        # 4,000 rows of ~90 bytes: far more than a pipe buffer, so the writer outlives the reader.
        store.write([_minute(datetime.fromtimestamp(start.timestamp() + 60 * i, TOKYO)) for i in range(4000)])
    command = (
        f"{sys.executable} -m crowdmap.cli history export --station pets2009 --history {url} "
        '--since 2026-11-19T00:00 --until 2026-11-24T00:00 | head -1; echo "status=${PIPESTATUS[0]}" >&2'
    )
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.stdout.startswith("minute_utc,station_id,") and result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert "status=141" in result.stderr


@pytest.mark.parametrize("command", ["export", "purge"])
def test_a_mistyped_data_folder_is_an_error_naming_it_and_creates_nothing(tmp_path, capsys, command):
    missing = tmp_path / "dta"  # the real folder would be "data"
    with pytest.raises(SystemExit) as exit_:
        main(["history", command, "--station", "pets2009", "--data-dir", str(missing)])
    assert exit_.value.code == 2
    assert f"--data-dir {missing}: no such folder" in capsys.readouterr().err
    assert not missing.exists()


@pytest.mark.parametrize("command", ["export", "purge"])
def test_a_history_file_that_does_not_exist_is_an_error_and_is_not_created(tmp_path, capsys, command):
    (tmp_path / "data").mkdir()
    with pytest.raises(SystemExit) as exit_:
        main(["history", command, "--station", "pets2009", "--data-dir", str(tmp_path / "data")])
    assert exit_.value.code == 2
    assert f"no history of station 'pets2009' at {tmp_path / 'data' / 'history-pets2009.sqlite3'}" in (
        capsys.readouterr().err
    )
    assert list((tmp_path / "data").iterdir()) == []
    typo = tmp_path / "histroy.db"
    with pytest.raises(SystemExit):
        main(["history", command, "--station", "pets2009", "--history", str(typo)])
    assert not typo.exists()
