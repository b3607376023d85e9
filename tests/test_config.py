"""Configuration: file, environment overrides, defaults, and clear errors."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from smscope.config import load_config, parse_duration
from smscope.errors import ConfigError


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "smscope.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_work_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.database_url == "sqlite:///smscope.db"
    assert config.timezone == "UTC"
    assert config.public_url == "http://127.0.0.1:8000"
    assert config.default_region is None
    assert config.retry.backoff == [timedelta(hours=2), timedelta(hours=12), timedelta(hours=36)]
    assert config.validity.default == timedelta(hours=72)
    assert config.duplicates.window == timedelta(hours=24)
    assert (config.suspension.soft_bounce, config.suspension.hard_bounce,
            config.suspension.unsubscribe, config.suspension.min_sample) == (0.10, 0.05, 0.02, 200)
    assert "STOP" in config.stop.keywords and "ARRET" in config.stop.keywords
    assert config.source == "defaults"


def test_france_has_its_sending_window_built_in() -> None:
    window = load_config(environ={}).window_for("fr")
    assert window is not None
    assert window.days == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert (window.start, window.end, window.holidays) == (time(8), time(20), True)
    assert load_config(environ={}).window_for("BE") is None


def test_the_file_in_the_working_directory_is_read(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, """
timezone = "Europe/Paris"
default_region = "fr"
[smtp]
host = "mail.example.com"
tls = "starttls"
from = "reports@example.com"
[retry]
backoff = ["30m", "1h"]
[windows.be]
days = ["mon", "tue"]
start = "09:00"
end = "18:30"
[prices]
default = 1.5
fr = 0.07
[connectors.orange]
type = "smpp"
host = "smpp.example.com"
port = 2775
[connectors.orange.mapping]
"UNDELIV:001" = "permanent_error_absence"
""")
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.default_region == "FR"
    assert config.smtp.host == "mail.example.com" and config.smtp.effective_port == 587
    assert config.smtp.from_ == "reports@example.com"
    assert config.retry.backoff == [timedelta(minutes=30), timedelta(hours=1)]
    assert config.window_for("BE") is not None
    assert config.window_for("BE").end == time(18, 30)  # type: ignore[union-attr]
    assert config.prices == {"default": Decimal("1.5"), "FR": Decimal("0.07")}
    orange = config.connectors["orange"]
    assert orange.type == "smpp" and orange.settings == {"host": "smpp.example.com", "port": 2775}
    assert orange.mapping == {"UNDELIV:001": "permanent_error_absence"}


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[smtp]\nhost = "a"\nport = 25\n')
    env = {
        "SMSCOPE_CONFIG": str(path),
        "SMSCOPE_DATABASE_URL": "postgresql://db/smscope",
        "SMSCOPE_TIMEZONE": "America/New_York",
        "SMSCOPE_SMTP_HOST": "b",
        "SMSCOPE_SMTP_PORT": "2525",
        "SMSCOPE_SMTP_TLS": "tls",
        "SMSCOPE_SUSPENSION_SOFT_BOUNCE": "0.2",
        "SMSCOPE_RETRY_BACKOFF": "1h,2h",
        "SMSCOPE_STOP_KEYWORDS": "STOP, FIN",
        "SMSCOPE_PRICES_DEFAULT": "3",
        "SMSCOPE_DEBUG": "1",  # not a setting: ignored
    }
    config = load_config(environ=env)
    assert config.database_url == "postgresql://db/smscope"
    assert config.smtp.host == "b" and config.smtp.port == 2525 and config.smtp.tls == "tls"
    assert config.suspension.soft_bounce == 0.2
    assert config.retry.backoff == [timedelta(hours=1), timedelta(hours=2)]
    assert config.stop.keywords == ["STOP", "FIN"]
    assert config.prices["default"] == Decimal(3)
    assert config.source.endswith("+ environment")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("timezone = 'Mars/Olympus'", "timezone: unknown time zone 'Mars/Olympus'"),
        ("default_region = 'XX'", "default_region: unknown region 'XX'"),
        ("[smtp]\nport = 'abc'", r"\[smtp\] port: "),
        ("[smtp]\ntls = 'ssl'", r"\[smtp\] tls: "),
        ("[suspension]\nhard_bounce = 5", r"\[suspension\] hard_bounce"),
        ("[retry]\nbackoff = ['soon']", "'soon' is not a duration"),
        ("[windows.FR]\ndays = ['funday']", "unknown day 'fun'"),
        ("[stop]\nkeywords = []", "at least one STOP keyword"),
        ("[smpt]\nhost = 'x'", "smpt: unknown setting"),
        ("[connectors.x]\ntype = 'carrier-pigeon'", r"\[connectors.x\] type"),
        ("[prices]\nFR = -1", "negative"),
        ("this is = not toml =", "not valid TOML"),
    ],
)
def test_bad_configuration_gets_one_clear_line_with_its_place(tmp_path: Path, body: str,
                                                             message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(environ={"SMSCOPE_CONFIG": str(path)})
    assert "\n" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_missing_config_file_named_by_the_environment_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a file"):
        load_config(environ={"SMSCOPE_CONFIG": str(tmp_path / "nope.toml")})


def test_a_bad_environment_value_names_the_environment() -> None:
    with pytest.raises(ConfigError, match=r"environment: \[smtp\] port"):
        load_config(environ={"SMSCOPE_SMTP_PORT": "many"})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("2h", 7200), ("3d", 259200), ("1w", 604800), ("45", 45),
     (12, 12), ("1.5h", 5400)],
)
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "h", "-1h", "2 hours", "1y"])
def test_bad_durations_say_how_to_write_them(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)
