"""``crowdmap run``: a station it cannot start is refused at once, with the reason on standard error."""

import pytest

from crowdmap.cli import main


def exit_code(words: list[str]) -> int:
    try:
        return main(words)
    except SystemExit as exit_:
        return int(exit_.code)


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        (["--station", "pets2009"], "crowdmap run: cameras ['view-001'] read '{video}': give --video PATH\n"),
        (["--station", "pets2009", "--video", "missing.avi"], "crowdmap run: --video missing.avi: no such file\n"),
        (["--station", "no-such-station"], "crowdmap: "),
    ],
)
def test_a_station_that_cannot_start_is_refused_on_standard_error(capsys, words, reason) -> None:
    assert exit_code(["run", *words]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(reason) and err.count("\n") == 1, err
