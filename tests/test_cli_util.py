"""Helpers plugins import: option decorators, resolvers, ``CopickURI``, ``get_logger``, error texts."""

from __future__ import annotations

import logging

import click
import pytest
from click.testing import CliRunner

from copick.cli import util
from copick.cli.common import error_message
from copick.cli.types import CopickURI
from copick.util.log import get_logger

pytestmark = pytest.mark.usefixtures("restore_logging")


class RecordingLogger:
    """Collects warning messages."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, msg: str, *args: object, **kwargs: object) -> None:
        self.warnings.append(msg)


def params_of(command: click.Command) -> dict[str, click.Parameter]:
    return {p.name: p for p in command.params}


@pytest.mark.parametrize("called", [False, True])
def test_decorators_bare_or_called(called: bool) -> None:
    decorators = [
        util.add_config_option,
        util.add_debug_option,
        util.add_run_names_option,
        util.add_create_overwrite_options,
        util.add_run_options,
        util.add_volume_transform_options,
        util.add_user_session_options,
        util.add_max_workers_option,
        util.add_pyramid_create_options,
        util.add_export_common_options,
        util.add_pyramid_export_options,
    ]

    def body(**kwargs: object) -> None:
        click.echo(repr(sorted(kwargs.items())))

    for decorator in reversed(decorators):
        body = decorator()(body) if called else decorator(body)
    body = util.add_deprecated_run_alias("--runs")(body)
    command = click.command()(body)
    params = params_of(command)
    expected_defaults = {
        "config": None,
        "debug": False,
        "run_names": (),
        "create": True,
        "overwrite": False,
        "run": "",
        "run_regex": "(.*)",
        "run_name_prefix": "",
        "flip": None,
        "transpose": None,
        "user_id": "copick",
        "session_id": "1",
        "max_workers": 4,
        "create_pyramid": True,
        "pyramid_levels": 3,
        "chunk_size": "256,256,256",
        "output_dir": None,
        "level": 0,
        "compression": None,
        "copy_all_levels": True,
        "legacy_run_names": (),
    }
    assert {name: params[name].default for name in expected_defaults} == expected_defaults
    assert params["config"].envvar == "COPICK_CONFIG"
    assert params["legacy_run_names"].hidden
    assert params["run_names"].opts == ["-r", "--run-names"] and params["run_names"].multiple
    result = CliRunner().invoke(command, ["-r", "a", "--runs", "b", "--no-create"], env={"COPICK_CONFIG": ""})
    assert result.exit_code == 0, result.output
    assert "('run_names', ('a',))" in result.stdout and "('legacy_run_names', ('b',))" in result.stdout


def test_config_option_reads_env(tmp_path) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text("{}")

    @click.command()
    @util.add_config_option
    def show(config: str | None) -> None:
        click.echo(config)

    assert CliRunner().invoke(show, [], env={"COPICK_CONFIG": str(cfg)}).stdout.strip() == str(cfg)
    assert "COPICK_CONFIG]" in " ".join(CliRunner().invoke(show, ["--help"]).stdout.split())


def test_resolve_run_names() -> None:
    log = RecordingLogger()
    assert util.resolve_run_names((), ()) is None
    assert util.resolve_run_names(("a", "b", "a")) == ["a", "b"]
    assert util.resolve_run_names(("a,b", "c"), logger=log) == ["a", "b", "c"]
    assert len(log.warnings) == 1 and "deprecated" in log.warnings[0]
    log = RecordingLogger()
    assert util.resolve_run_names(("a",), ("b,c",), legacy_flag="--runs", logger=log) == ["a", "b", "c"]
    assert any("--runs is deprecated" in w for w in log.warnings)


def test_resolve_deprecated_option() -> None:
    log = RecordingLogger()
    assert util.resolve_deprecated_option(4, None, old_flag="--old", new_flag="--new", logger=log) == 4
    assert log.warnings == []
    assert util.resolve_deprecated_option(None, 3, old_flag="--old", new_flag="--new", logger=log) == 3
    assert log.warnings == ["--old is deprecated; use --new instead."]
    assert util.resolve_deprecated_option(3, 3, old_flag="--old", new_flag="--new") == 3
    # both given: the deprecated option's value wins, with the warning (as copick 1.31)
    assert util.resolve_deprecated_option(2, 3, old_flag="--old", new_flag="--new", logger=log) == 3
    assert log.warnings[-1] == "--old is deprecated; use --new instead."


def test_resolve_tomogram_uri() -> None:
    log = RecordingLogger()
    assert util.resolve_tomogram_uri("wbp@7.5", None, None, logger=log) == "wbp@7.5"
    assert log.warnings == []
    assert util.resolve_tomogram_uri(None, "denoised", None, logger=log) == "denoised@10.0"
    assert util.resolve_tomogram_uri(None, "wbp", 13.48, default_vs=5.0) == "wbp@13.48"
    assert len(log.warnings) == 1 and "deprecated" in log.warnings[0]
    with pytest.raises(click.UsageError):
        util.resolve_tomogram_uri(None, None, 10.0)


def test_copick_uri_type() -> None:
    uri_type = CopickURI("picks", "output")
    assert (uri_type.object_type, uri_type.role) == ("picks", "output")
    assert CopickURI("any").role == "input"
    assert uri_type.convert("ribosome:*/1", None, None) == "ribosome:*/1"

    @click.command()
    @click.argument("uri", type=CopickURI("segmentation"))
    def show(uri: str) -> None:
        click.echo(uri)

    assert (
        CliRunner().invoke(show, ["re:a.*:b/1@10?multilabel=true"]).stdout
        == "re:a.*:b/1@10?multilabel=true\n"
    )
    assert "URI" in CliRunner().invoke(show, ["--help"]).stdout
    assert uri_type.to_info_dict()["object_type"] == "picks"


def test_get_logger_writes_to_stderr_only(capsys: pytest.CaptureFixture) -> None:
    logger = get_logger("copick.test", debug=False)
    logger.info("informative")
    logger.debug("hidden")
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "informative\n"
    logger = get_logger("copick.test", debug=True)
    logger.debug("visible")
    out, err = capsys.readouterr()
    assert out == "" and "DEBUG" in err and "visible" in err and "test_cli_util.py" in err
    assert logging.getLogger("fsspec").level == logging.NOTSET
    get_logger("copick.test")
    assert logging.getLogger("fsspec").level == logging.WARNING
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "_copick_handler", False)]
    assert len(handlers) == 1


def test_error_message() -> None:
    assert error_message(ValueError("Run name x already exists.")) == "Run name x already exists."
    assert error_message(FileNotFoundError(2, "No such file or directory", "/x.json")).endswith("'/x.json'")
    message = error_message(KeyError("zzz"))
    assert message.startswith("KeyError: 'zzz'") and "--debug" in message
