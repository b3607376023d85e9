"""The connectors and settings pages: what the registry and the layered settings hold,
secrets never shown back, admins' changes checked as the CLI and the config loader
check them, and members kept to reading."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from smscope.config import Config
from smscope.connectors import registry
from smscope.db.tables import Connector, Setting
from tests.reports.test_share import free_port
from tests.web.conftest import signed_in


def connectors(site) -> dict[str, Connector]:
    with site.smscope.db.session() as session:
        found = {c.name: c for c in session.scalars(select(Connector))}
        for c in found.values():
            session.expunge(c)
        return found


def test_no_connector_says_what_to_do(site) -> None:
    client, _ = signed_in(site, "admin@example.com")
    page = client.get("/connectors").text
    assert 'id="no-connectors"' in page and 'id="add-connector"' in page


def test_an_admin_adds_an_smpp_connector_whose_password_is_never_shown(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    added = client.post("/connectors", data={
        "csrf_token": csrf, "name": "operator", "kind": "smpp", "host": "smsc.example.com",
        "port": "2775", "system_id": "ID", "password": "s3cret-pw", "rate": "50",
        "window": "20", "split": "sar", "mapping": "UNDELIV:001=permanent_error_absence"})
    assert added.status_code == 200 and "Connector operator is added (smpp)" in added.text
    stored = connectors(site)["operator"]
    assert stored.settings == {"host": "smsc.example.com", "port": 2775, "system_id": "ID",
                               "password": "s3cret-pw", "rate": 50.0, "window": 20,
                               "split": "sar"}
    assert stored.mapping == {"UNDELIV:001": "permanent_error_absence"}
    for user in ("admin@example.com", "reader@example.com"):
        page = signed_in(site, user)[0].get("/connectors").text
        assert "s3cret-pw" not in page and "password=<code>***</code>" in page


def test_a_simulator_connector_is_added_disabled_and_its_limits_changed(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    client.post("/connectors", data={"csrf_token": csrf, "name": "sim", "kind": "simulator",
                                     "profile": "instant", "seed": "7"})
    assert connectors(site)["sim"].settings == {"profile": "instant", "seed": 7}
    off = client.post("/connectors/sim/enabled", data={"csrf_token": csrf, "enabled": "0"})
    assert "sim is disabled" in off.text and connectors(site)["sim"].enabled is False
    client.post("/connectors/sim/enabled", data={"csrf_token": csrf, "enabled": "1"})
    assert connectors(site)["sim"].enabled is True
    client.post("/connectors/sim/limits", data={"csrf_token": csrf, "rate": "12.5",
                                                "window": "40"})
    assert connectors(site)["sim"].settings == {"profile": "instant", "seed": 7,
                                                "rate": 12.5, "window": 40}
    bad = client.post("/connectors/sim/limits", data={"csrf_token": csrf, "rate": "-1",
                                                      "window": ""})
    assert "rate must be a positive number" in bad.text
    assert connectors(site)["sim"].settings["rate"] == 12.5
    client.post("/connectors/sim/limits", data={"csrf_token": csrf, "rate": "", "window": ""})
    assert connectors(site)["sim"].settings == {"profile": "instant", "seed": 7}
    assert client.post("/connectors/nope/enabled", data={"csrf_token": csrf, "enabled": "0"}
                       ).status_code == 404


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "bad name!", "kind": "simulator"}, "c-name", "use letters"),
    ({"name": "op", "kind": "smpp", "host": "", "system_id": "x", "password": "y"},
     "c-host", "HOST:PORT"),
    ({"name": "op", "kind": "smpp", "host": "h", "port": "99999", "system_id": "x",
      "password": "y"}, "c-host", "HOST:PORT"),
    ({"name": "op", "kind": "smpp", "host": "h", "port": "2775"}, "c-system-id",
     "needs --system-id"),
    ({"name": "op", "kind": "simulator", "profile": "nowhere.toml"}, "c-profile", "nowhere"),
    ({"name": "op", "kind": "simulator", "window": "many"}, "c-window", "must be a number"),
    ({"name": "op", "kind": "simulator", "receivers": "40"}, "c-receivers", "1 to 16"),
    ({"name": "op", "kind": "simulator", "split": "zip"}, "c-split", "udh8"),
    ({"name": "op", "kind": "simulator", "mapping": "UNDELIV"}, "c-mapping", "STAT"),
    ({"name": "op", "kind": "simulator", "mapping": "UNDELIV=happy"}, "c-mapping", "happy"),
])
def test_a_wrong_connector_is_refused_next_to_its_field(site, data, field, message) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    answer = client.post("/connectors", data={"csrf_token": csrf, **data})
    assert answer.status_code == 422
    error = re.search(rf'id="{field}-error" role="alert">([^<]+)<', unescape(answer.text))
    assert error and message in error.group(1), unescape(answer.text)[-3000:]
    assert connectors(site) == {}


def test_a_taken_name_is_refused(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    client.post("/connectors", data={"csrf_token": csrf, "name": "sim", "kind": "simulator"})
    again = client.post("/connectors", data={"csrf_token": csrf, "name": "sim",
                                             "kind": "simulator"})
    assert again.status_code == 422 and "exists" in unescape(again.text)


def test_connectors_of_the_config_file_are_read_only(site) -> None:
    with site.smscope.db.transaction() as session:
        registry.add_connector(session, "filed", "simulator", {"profile": "instant"},
                               source="config")
    client, csrf = signed_in(site, "admin@example.com")
    page = client.get("/connectors").text
    assert "configuration file" in page and 'id="toggle-filed"' not in page
    refused = client.post("/connectors/filed/enabled", data={"csrf_token": csrf,
                                                             "enabled": "0"})
    assert "change it there" in unescape(refused.text)
    assert connectors(site)["filed"].enabled is True


def test_other_types_of_the_registry_are_listed_with_their_secrets_masked(site) -> None:
    with site.smscope.db.session() as session:
        connector = Connector(name="twilio", type="http", settings={
            "provider": "twilio", "auth_token": "tok-123", "api_secret": "zzz"},
            source="db")
        session.add(connector)
        session.commit()
    client, _ = signed_in(site, "member@example.com")
    page = client.get("/connectors").text
    assert "twilio" in page and "tok-123" not in page and "zzz" not in page


def test_members_see_connectors_but_cannot_change_them(site) -> None:
    client, csrf = signed_in(site, "member@example.com")
    assert 'id="add-connector"' not in client.get("/connectors").text
    answer = client.post("/connectors", data={"csrf_token": csrf, "name": "x",
                                              "kind": "simulator"})
    assert answer.status_code == 403 and "Only admins" in answer.text


# ---------------------------------------------------------------------------- settings


def origins(html: str) -> dict[str, str]:
    """label → origin badge text, for each field of the settings forms."""
    return dict(re.findall(r'<label for="[\w-]+">([^<]+?) <span class="origin [^"]+" '
                           r'title="[^"]*">([^<]+)</span>', unescape(html)))


def test_the_settings_page_tells_where_each_value_comes_from(site) -> None:
    client, _ = signed_in(site, "admin@example.com")
    page = client.get("/settings")
    assert page.status_code == 200
    found = origins(page.text)
    assert found["Server"] == "default" and found["Soft-bounce rate"] == "default"
    main = page.text.split("<main", 1)[1]  # the navigation has "Monitoring"
    assert "FR" in main and "Mon" not in main  # the built-in window
    assert 'id="save-smtp"' in page.text and 'id="test-email"' in page.text


def test_an_admin_saves_settings_that_the_engine_then_reads(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    page = client.get("/settings").text
    assert 'value="0.1"' in page  # the soft-bounce default, shown as written in the file
    saved = client.post("/settings/section/suspension", data={
        "csrf_token": csrf, "suspension.soft_bounce": "0.25", "suspension.hard_bounce": "0.05",
        "suspension.unsubscribe": "0.02", "suspension.min_sample": "100"})
    assert "Auto-suspension thresholds: saved." in saved.text
    assert site.smscope.config.suspension.soft_bounce == 0.25
    assert site.smscope.config.suspension.min_sample == 100
    with site.smscope.db.session() as session:
        stored = session.scalar(select(Setting.value).where(Setting.key == "config.suspension"))
    assert stored == {"soft_bounce": "0.25", "min_sample": "100"}  # unchanged ones not stored
    found = origins(saved.text)
    assert found["Soft-bounce rate"] == "set here" and found["Hard-bounce rate"] == "default"
    client.post("/settings/section/stop", data={"csrf_token": csrf,
                                                "stop.keywords": "STOP, ARRET, Fin"})
    assert site.smscope.config.stop.keywords == ["STOP", "ARRET", "Fin"]
    client.post("/settings/section/retry", data={"csrf_token": csrf,
                                                 "retry.backoff": "1h, 6h"})
    assert len(site.smscope.config.retry.backoff) == 2
    reset = client.post("/settings/section/suspension/reset", data={"csrf_token": csrf})
    assert "back to the configuration file" in reset.text
    assert site.smscope.config.suspension.soft_bounce == 0.10


@pytest.mark.parametrize(("section", "key", "value", "message"), [
    ("suspension", "soft_bounce", "2", "less than or equal to 1"),
    ("suspension", "min_sample", "many", "valid integer"),
    ("smtp", "port", "99999", "less than or equal to 65535"),
    ("validity", "default", "soon", "is not a duration"),
    ("stop", "keywords", ",", "at least one STOP keyword"),
])
def test_a_bad_setting_is_shown_next_to_its_field_and_not_stored(
        site, section, key, value, message) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    answer = client.post(f"/settings/section/{section}", data={
        "csrf_token": csrf, f"{section}.{key}": value})
    assert answer.status_code == 422
    error = re.search(rf'id="{section}-{key}-error">([^<]+)<', unescape(answer.text))
    assert error and message in error.group(1), error
    typed = unescape(answer.text)  # what was typed stays
    assert f'value="{value}"' in typed or f">{value}</textarea>" in typed
    with site.smscope.db.session() as session:
        assert session.scalars(select(Setting).where(Setting.key.like("config.%"))).all() == []


def test_the_smtp_password_is_never_shown_and_kept_when_left_empty(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    client.post("/settings/section/smtp", data={"csrf_token": csrf, "smtp.host": "mail.test",
                                                "smtp.password": "hunter2-pw", "smtp.tls": "none"})
    assert site.smscope.config.smtp.password == "hunter2-pw"
    page = client.get("/settings").text
    assert "hunter2-pw" not in page and "a password is set" in page
    client.post("/settings/section/smtp", data={"csrf_token": csrf, "smtp.host": "mail2.test",
                                                "smtp.password": "", "smtp.tls": "none"})
    assert site.smscope.config.smtp.password == "hunter2-pw"
    assert site.smscope.config.smtp.host == "mail2.test"
    client.post("/settings/section/smtp", data={"csrf_token": csrf, "smtp.host": "mail2.test",
                                                "smtp.password_clear": "1", "smtp.tls": "none"})
    assert site.smscope.config.smtp.password is None


def test_sending_windows_and_prices_are_set_and_removed(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    saved = client.post("/settings/windows", data={
        "csrf_token": csrf, "country": "be", "day_mon": "1", "day_fri": "1",
        "start": "09:30", "end": "18:00", "holidays": "1"})
    assert "The sending window of BE is saved." in saved.text
    window = site.smscope.config.window_for("BE")
    assert window is not None and window.days == ["mon", "fri"] and window.holidays
    bad = client.post("/settings/windows", data={"csrf_token": csrf, "country": "BE",
                                                  "day_mon": "1", "start": "9h", "end": "18:00"})
    assert bad.status_code == 422 and 'id="w-start-error"' in bad.text
    nodays = client.post("/settings/windows", data={"csrf_token": csrf, "country": "DE"})
    assert nodays.status_code == 422 and "at least one day" in nodays.text
    nowhere = client.post("/settings/windows", data={"csrf_token": csrf, "country": "ZZ",
                                                     "day_mon": "1"})
    assert nowhere.status_code == 422 and 'id="w-country-error"' in nowhere.text
    client.post("/settings/windows/BE/remove", data={"csrf_token": csrf})
    assert site.smscope.config.window_for("BE") is None
    priced = client.post("/settings/prices", data={"csrf_token": csrf, "country": "fr",
                                                   "price": "0.065"})
    assert "FR: 0.065 credits per segment." in priced.text
    assert site.smscope.price_table().price_for("FR") == site.smscope.price_table(
        ).price_for("FR").__class__("0.065")
    for country, price in (("France", "1"), ("FR", "-1"), ("FR", "cheap")):
        bad = client.post("/settings/prices", data={"csrf_token": csrf, "country": country,
                                                    "price": price})
        assert bad.status_code == 422, (country, price)
    client.post("/settings/prices/FR/remove", data={"csrf_token": csrf})
    assert site.smscope.price_table().price_for("FR") == 1


def test_values_from_the_environment_cannot_be_changed_here(site, monkeypatch) -> None:
    from smscope.config import Layers

    site.smscope.__dict__["layers"] = Layers(file={}, env={"smtp": {"host": "env.test"}})
    site.smscope.reload_settings()
    client, csrf = signed_in(site, "admin@example.com")
    page = unescape(client.get("/settings").text)
    assert "Set by SMSCOPE_SMTP_HOST" in page.replace("<code>", "").replace("</code>", "")
    assert 'name="smtp.host"' not in page
    client.post("/settings/section/smtp", data={"csrf_token": csrf, "smtp.tls": "none"})
    assert site.smscope.reload_settings().smtp.host == "env.test"


def test_a_test_email_goes_through_the_smtp_settings(site) -> None:
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        client, csrf = signed_in(site, "admin@example.com")
        no_server = client.post("/settings/smtp/test", data={"csrf_token": csrf})
        assert "no SMTP server is configured" in unescape(no_server.text)
        client.post("/settings/section/smtp", data={
            "csrf_token": csrf, "smtp.host": "127.0.0.1", "smtp.port": str(port),
            "smtp.tls": "none", "smtp.from": "reports@example.com"})
        sent = client.post("/settings/smtp/test", data={"csrf_token": csrf,
                                                        "to": "boss@example.com"})
        assert "A test e-mail went to boss@example.com." in sent.text
        assert len(received) == 1 and b"smscope: test e-mail" in received[0]
        bad = client.post("/settings/smtp/test", data={"csrf_token": csrf, "to": "nobody"})
        assert "is not an email address" in unescape(bad.text)
    finally:
        controller.stop()
    dead = client.post("/settings/smtp/test", data={"csrf_token": csrf})
    assert "The test e-mail was not sent" in unescape(dead.text)


def test_members_read_settings_but_cannot_change_them(site) -> None:
    client, csrf = signed_in(site, "member@example.com")
    page = client.get("/settings").text
    assert 'id="save-smtp"' not in page and "Auto-suspension thresholds" in page
    answer = client.post("/settings/section/smtp", data={"csrf_token": csrf,
                                                         "smtp.host": "x"})
    assert answer.status_code == 403
    assert isinstance(site.smscope.config, Config) and site.smscope.config.smtp.host is None


def test_an_unknown_section_is_404(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    assert client.post("/settings/section/database", data={"csrf_token": csrf}
                       ).status_code == 404

