"""``--help`` is written for the people who run crowdmap, not for its developers."""

import pytest

from crowdmap.cli import COMMANDS, main

# Words of a text written for developers: module paths, code markup, "add new ones there".
DEVELOPER_WORDS = ("crowdmap.commands", "``", ":class:", ":func:", ":mod:", "add new ones", "module")


def help_text(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*words, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "words",
    [(), *((command,) for command in COMMANDS), ("layout", "check"), ("eval", "detect"), ("eval", "fusion"),
     ("eval", "station"), ("models", "pull"), ("users", "add"), ("history", "export"), ("history", "purge")],
)  # fmt: skip
def test_help_speaks_to_users(capsys: pytest.CaptureFixture[str], words: tuple[str, ...]) -> None:
    text = help_text(capsys, *words)
    _, _, rest = text.partition("\n\n")
    description = rest.split("\n\n")[0]
    # Every command says what it does before listing its options.
    assert not description.startswith(("options:", "positional arguments:")), text
    assert [word for word in DEVELOPER_WORDS if word in text] == [], text


def test_layout_help_is_not_the_calibration_tool(capsys: pytest.CaptureFixture[str]) -> None:
    layout = help_text(capsys, "layout")
    check = help_text(capsys, "layout", "check")
    assert "calibration tool" not in layout and "calibration tool" not in check
    assert "Check a station layout" in check


def test_every_command_is_listed_in_the_overview(capsys: pytest.CaptureFixture[str]) -> None:
    overview = help_text(capsys)
    for command in COMMANDS:
        assert command in overview
