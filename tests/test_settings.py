"""Settings edited in smscope: layered over the config file, under the environment,
checked like the file, and read by Smscope.config (what the engine uses)."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from smscope import settings
from smscope.app import Smscope
from smscope.config import read_layers
from smscope.errors import ConfigError


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "smscope.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path}/s.db"\n'
                      '[smtp]\nhost = "file.example.com"\nport = 2525\n'
                      '[suspension]\nsoft_bounce = 0.2\n')
    monkeypatch.setenv("SMSCOPE_CONFIG", str(config))
    monkeypatch.setenv("SMSCOPE_SMTP_PORT", "587")
    for name in ("SMSCOPE_SMTP_HOST", "SMSCOPE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    made = Smscope()
    yield made
    made.close()


def test_values_edited_here_go_over_the_file_and_under_the_environment(app) -> None:
    with app.db.transaction() as session:
        settings.save_section(session, app.layers, "smtp",
                              {"host": "ui.example.com", "port": "25"}, actor="t")
        settings.save_section(session, app.layers, "suspension", {"min_sample": "50"},
                              actor="t")
    config = app.reload_settings()
    assert config.smtp.host == "ui.example.com"  # over the file
    assert config.smtp.port == 587  # the environment wins
    assert (config.suspension.soft_bounce, config.suspension.min_sample) == (0.2, 50)
    with app.db.session() as session:
        edited = settings.edited_settings(session)
    assert settings.origin(app.layers, edited, "smtp", "host") == "smscope"
    assert settings.origin(app.layers, edited, "smtp", "port") == "environment"
    assert settings.origin(app.layers, edited, "suspension", "soft_bounce") == "file"
    assert settings.origin(app.layers, edited, "retry", "backoff") == "default"
    # a fresh process reads the same effective values
    assert Smscope().config.smtp.host == "ui.example.com"


def test_unsetting_a_value_goes_back_to_the_file(app) -> None:
    with app.db.transaction() as session:
        settings.save_section(session, app.layers, "smtp", {"host": "ui.example.com"},
                              actor="t")
        settings.save_section(session, app.layers, "smtp", {"host": None}, actor="t")
        assert settings.edited_settings(session) == {}
    assert app.reload_settings().smtp.host == "file.example.com"


@pytest.mark.parametrize(("section", "values", "loc"), [
    ("smtp", {"port": "seventy"}, ("smtp", "port")),
    ("smtp", {"tls": "ssl"}, ("smtp", "tls")),
    ("suspension", {"hard_bounce": "1.5"}, ("suspension", "hard_bounce")),
    ("retry", {"backoff": "2h, soon"}, ("retry", "backoff")),
    ("validity", {"default": "forever"}, ("validity", "default")),
    ("stop", {"keywords": " , "}, ("stop", "keywords")),
    ("smtp", {"colour": "blue"}, ("smtp", "colour")),
])
def test_a_bad_value_is_refused_with_its_place_and_nothing_is_stored(
        app, section, values, loc) -> None:
    with app.db.transaction() as session:
        with pytest.raises(ConfigError) as caught:
            settings.save_section(session, app.layers, section, values, actor="t")
        assert caught.value.loc[:2] == loc
        assert settings.edited_settings(session) == {}


def test_a_section_that_is_not_editable_is_refused(app) -> None:
    with app.db.transaction() as session, pytest.raises(ConfigError):
        settings.save_section(session, app.layers, "database_url", {"x": "y"}, actor="t")


def test_sending_windows_are_set_and_removed_per_country(app) -> None:
    with app.db.transaction() as session:
        settings.save_window(session, app.layers, "be", {
            "days": ["mon", "tue"], "start": "09:00", "end": "18:00", "holidays": True},
            actor="t")
    config = app.reload_settings()
    window = config.window_for("BE")
    assert window is not None and (window.days, window.start, window.end) == (
        ["mon", "tue"], time(9), time(18))
    assert config.window_for("FR") is not None  # the built-in one stays
    with app.db.transaction() as session:
        with pytest.raises(ConfigError):
            settings.save_window(session, app.layers, "XX", {"days": ["mon"]}, actor="t")
        with pytest.raises(ConfigError):
            settings.save_window(session, app.layers, "BE", {"start": "25:00"}, actor="t")
        settings.save_window(session, app.layers, "BE", None, actor="t")
    assert app.reload_settings().window_for("BE") is None


def test_the_environment_wins_over_prices_set_here(app, monkeypatch) -> None:
    from smscope.pricing import set_price

    with app.db.transaction() as session:
        set_price(session, "FR", "0.5")
        set_price(session, "BE", "0.7")
    monkeypatch.setenv("SMSCOPE_PRICES_FR", "0.9")
    fresh = Smscope()
    table = fresh.price_table()
    assert (table.price_for("FR"), table.price_for("BE")) == (
        table.price_for("FR").__class__("0.9"), table.price_for("BE").__class__("0.7"))
    fresh.close()


def test_layers_keep_the_file_and_the_environment_apart(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[validity]\ndefault = "48h"\n')
    layers = read_layers(path, {"SMSCOPE_VALIDITY_DEFAULT": "24h"})
    assert layers.file == {"validity": {"default": "48h"}}
    assert layers.env == {"validity": {"default": "24h"}}
    assert layers.build().validity.default == timedelta(hours=24)
    assert layers.build({"validity": {"default": "12h"}}).validity.default == timedelta(hours=24)
