from tests.conftest import one_line


def test_broker_without_a_terminal_refuses_in_one_line(run_broker) -> None:
    result = run_broker()
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "broker: error: the terminal app needs a terminal; run `broker --help` for commands"
    )
    assert result.stdout == ""


def test_app_flags_are_on_the_top_level_parser(run_broker) -> None:
    result = run_broker("--help")
    assert result.returncode == 0
    for flag in ("--no-color", "--ascii", "--readonly"):
        assert flag in result.stdout
