"""The campaign pages: the list, the draft form (errors next to each field, the form
keeps what was typed, the counter and preview without JavaScript), the actions with
their roles and CSRF, the report page, a message's history, and the exports."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from smscope.db.tables import Campaign, CampaignEvent, Message
from tests.campaigns.helpers import Engine, number
from tests.web.conftest import signed_in


@pytest.fixture
def engine(site):
    engine = Engine(site.smscope.db, config=site.smscope.config).setup(credits=1000)
    engine.contacts("clients", [{"number": number(i), "first_name": f"Ana{i}",
                                 "last_name": "Lopez"} for i in range(1, 6)])
    return engine


def form(csrf: str, **fields) -> dict:
    data = {"csrf_token": csrf, "name": "Soldes", "sender": "SHOP",
            "text": "Bonjour {first_name}, -20% ce week-end", "lists": "clients",
            "numbers": "", "type": "transactional", "connector": "sim", "schedule": "",
            "validity": "", "track_links": "1"}
    data.update(fields)
    return data


def campaigns_in(site) -> list[Campaign]:
    with site.smscope.db.session() as session:
        return list(session.scalars(select(Campaign).order_by(Campaign.id)))


def test_the_empty_list_says_how_to_create_the_first_campaign(site) -> None:
    client, _ = signed_in(site, "member@example.com")
    page = client.get("/campaigns")
    assert page.status_code == 200
    assert 'id="no-campaigns"' in page.text and 'href="/campaigns/new"' in page.text
    reader, _ = signed_in(site, "reader@example.com")
    assert 'href="/campaigns/new"' not in reader.get("/campaigns").text


def test_a_draft_is_created_from_the_form_and_listed_with_its_figures(site, engine) -> None:
    client, csrf = signed_in(site, "member@example.com")
    page = client.get("/campaigns/new")
    assert page.status_code == 200 and 'name="lists"' in page.text
    made = client.post("/campaigns/new", data=form(csrf), follow_redirects=False)
    assert made.status_code == 303, made.text
    [campaign] = campaigns_in(site)
    assert made.headers["location"] == f"/campaigns/{campaign.id}"
    assert (campaign.name, campaign.state, campaign.type) == ("Soldes", "draft",
                                                             "transactional")
    with site.smscope.db.session() as session:
        [event] = session.scalars(select(CampaignEvent)).all()
    assert event.actor == "web:member@example.com"
    listing = client.get("/campaigns")
    assert f'href="/campaigns/{campaign.id}"' in listing.text and "draft" in listing.text
    assert client.get("/campaigns?state=sending").text.count("<tbody>") == 0
    for link in set(re.findall(r'href="(/campaigns[^"#]*)"', listing.text)):
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_each_bad_field_is_told_next_to_it_and_the_form_keeps_what_was_typed(
        site, engine) -> None:
    client, csrf = signed_in(site, "member@example.com")
    long_text = "x" * 10_001
    answer = client.post("/campaigns/new", data=form(
        csrf, name="", sender="THIS SENDER IS TOO LONG", text=long_text, lists="nowhere",
        numbers="+33 6 12 34 56 78\nnot a number", schedule="2001-01-01T10:00",
        validity="forever", connector="ghost"))
    assert answer.status_code == 422
    for name in ("name", "sender", "text", "lists", "numbers", "schedule", "validity",
                 "connector"):
        assert f'id="{name}-error"' in answer.text, name
    assert "THIS SENDER IS TOO LONG" in answer.text and "not a number" in answer.text
    assert "There is no list named &#39;nowhere&#39;" in answer.text
    assert "10,001 characters" in answer.text
    assert campaigns_in(site) == []


def test_a_text_with_a_field_no_contact_has_is_refused_next_to_the_text(site, engine) -> None:
    client, csrf = signed_in(site, "member@example.com")
    answer = client.post("/campaigns/new", data=form(csrf, text="Hi {shoe_size}"))
    assert answer.status_code == 422 and 'id="text-error"' in answer.text
    assert "shoe_size" in answer.text and campaigns_in(site) == []


def test_the_counter_and_the_preview_work_without_javascript(site, engine) -> None:
    client, csrf = signed_in(site, "member@example.com")
    answer = client.post("/campaigns/new", data=form(csrf, text="ж" * 71, preview="1"))
    assert answer.status_code == 200 and campaigns_in(site) == []
    assert re.search(r'id="counter-encoding">UCS-2<', answer.text)
    assert re.search(r'id="counter-segments">2<', answer.text)
    # five recipients of one segment... here two: 5 × 2 credits
    assert re.search(r'id="counter-cost">10<', answer.text)
    nxt = client.post("/campaigns/new", data=form(csrf, preview="next", offset="0"))
    assert "Bonjour Ana2, -20% ce week-end" in nxt.text


def test_the_segment_counter_endpoint_counts_as_the_campaign_will(site, engine) -> None:
    client, csrf = signed_in(site, "member@example.com")
    headers = {"X-CSRF-Token": csrf}
    for text, encoding, segments in (("a" * 160, "GSM-7", 1), ("a" * 161, "GSM-7", 2),
                                     ("a" * 306, "GSM-7", 2), ("a" * 307, "GSM-7", 3),
                                     ("ж" * 70, "UCS-2", 1), ("ж" * 71, "UCS-2", 2),
                                     ("ж" * 134, "UCS-2", 2), ("ж" * 135, "UCS-2", 3),
                                     ("€" * 80, "GSM-7", 1), ("€" * 81, "GSM-7", 2)):
        got = client.post("/api/v1/texts/segments", json={"text": text}, headers=headers)
        assert got.status_code == 200, got.text
        assert (got.json()["encoding"], got.json()["segments"]) == (encoding, segments), text
    linked = client.post("/api/v1/texts/segments", headers=headers, json={
        "text": "Hi {first_name} https://shop.example.com/a/very/long/path/indeed",
        "lists": ["clients"]}).json()
    assert linked["links"] == 1 and linked["recipients"] == 5
    assert linked["preview"]["text"].startswith("Hi Ana1 http://127.0.0.1:8000/c/")
    bad = client.post("/api/v1/texts/segments", json={"text": "x" * 10_001},
                      headers=headers)
    assert bad.status_code == 422 and "error" in bad.json()
    assert client.post("/api/v1/texts/segments", json={"text": "x"}).status_code == 403


def sent_campaign(engine, *, numbers=(), lists=("clients",)) -> int:
    """A campaign of the clients list, sent, its messages at the operator, the first
    one delivered."""
    campaign_id = engine.campaign(lists=list(lists), numbers=list(numbers),
                                  text="Bonjour {first_name}")
    engine.send_all()
    return campaign_id


def deliver(engine, campaign_id: int, to: str) -> None:
    from tests.campaigns.helpers import receipt
    message = engine.message(campaign_id, to)
    [part] = engine.parts(message.id)
    engine.receipts([receipt(part.operator_id, "DELIVRD", to=to)])


@pytest.mark.parametrize("action", ["send", "pause", "resume", "cancel", "test"])
def test_a_readonly_user_sees_no_action_and_gets_403_when_posting(site, engine,
                                                                   action) -> None:
    campaign_id = engine.campaign(lists=["clients"], send=False)
    reader, csrf = signed_in(site, "reader@example.com")
    page = reader.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200
    assert 'id="send"' not in page.text and 'id="test-send"' not in page.text
    assert reader.get("/campaigns/new").status_code == 403
    answer = reader.post(f"/campaigns/{campaign_id}/{action}",
                         data={"csrf_token": csrf, "confirm": "yes",
                               "numbers": number(1)}, follow_redirects=False)
    assert answer.status_code == 403 and "read-only" in answer.text
    assert campaigns_in(site)[0].state == "draft"


@pytest.mark.parametrize("path", ["send", "pause", "resume", "cancel", "test", "edit",
                                  "share"])
def test_every_campaign_form_needs_the_session_csrf_token(site, engine, path) -> None:
    campaign_id = engine.campaign(lists=["clients"], send=False)
    client, _ = signed_in(site, "admin@example.com")
    answer = client.post(f"/campaigns/{campaign_id}/{path}",
                         data={**form("wrong"), "confirm": "yes", "addresses": "a@b.c",
                               "numbers": number(1)}, follow_redirects=False)
    assert answer.status_code == 403 and "reload the page" in answer.text
    assert client.post("/campaigns/new", data=form("")).status_code == 403
    [campaign] = campaigns_in(site)
    assert (campaign.state, campaign.name) == ("draft", "c")


def test_send_pause_resume_and_cancel_after_confirming(site, engine) -> None:
    campaign_id = engine.campaign(lists=["clients"], send=False)
    client, csrf = signed_in(site, "member@example.com")
    page = client.get(f"/campaigns/{campaign_id}")
    assert 'id="send"' in page.text and 'id="no-recipients"' in page.text
    sent = client.post(f"/campaigns/{campaign_id}/send", data={"csrf_token": csrf})
    assert sent.status_code == 200 and "Sending started to 5 recipients" in sent.text
    assert client.post(f"/campaigns/{campaign_id}/send",
                       data={"csrf_token": csrf}).text.count("only a draft can be sent") == 1
    paused = client.post(f"/campaigns/{campaign_id}/pause", data={"csrf_token": csrf})
    assert "Paused" in paused.text and 'id="resume"' in paused.text
    resumed = client.post(f"/campaigns/{campaign_id}/resume", data={"csrf_token": csrf})
    assert 'id="pause"' in resumed.text
    # cancelling asks first; a post without the confirmation only shows that question
    asked = client.post(f"/campaigns/{campaign_id}/cancel", data={"csrf_token": csrf})
    assert "This cannot be undone" in asked.text and campaigns_in(site)[0].state == "sending"
    done = client.post(f"/campaigns/{campaign_id}/cancel",
                       data={"csrf_token": csrf, "confirm": "yes"})
    assert "Cancelled" in done.text and campaigns_in(site)[0].state == "cancelled"
    with site.smscope.db.session() as session:
        actors = {e.kind: e.actor for e in session.scalars(select(CampaignEvent))}
    assert actors["started"] == actors["paused"] == actors["cancelled"] == \
        "web:member@example.com"


def test_a_test_send_is_tracked_apart_from_the_figures(site, engine) -> None:
    campaign_id = engine.campaign(lists=["clients"], send=False)
    client, csrf = signed_in(site, "member@example.com")
    answer = client.post(f"/campaigns/{campaign_id}/test",
                         data={"csrf_token": csrf, "numbers": f"{number(1)}, {number(9)}"})
    assert "Test sent to 2 numbers" in answer.text
    assert "Test sends (not counted in the statistics)" in answer.text
    bad = client.post(f"/campaigns/{campaign_id}/test",
                      data={"csrf_token": csrf, "numbers": "hello"})
    assert bad.status_code == 200 and "flash-error" in bad.text
    with site.smscope.db.session() as session:
        kinds = list(session.scalars(select(Message.kind)))
    assert kinds == ["test", "test"]
    api = client.post(f"/api/v1/campaigns/{campaign_id}/test", json={"numbers": [number(3)]},
                      headers={"X-CSRF-Token": csrf})
    assert api.status_code == 201 and len(api.json()["messages"]) == 1


def test_editing_a_draft_changes_it_and_a_sent_one_cannot_be_edited(site, engine) -> None:
    campaign_id = engine.campaign(lists=["clients"], send=False)
    client, csrf = signed_in(site, "member@example.com")
    page = client.get(f"/campaigns/{campaign_id}/edit")
    assert page.status_code == 200 and 'value="c"' in page.text
    saved = client.post(f"/campaigns/{campaign_id}/edit",
                        data=form(csrf, name="Renamed", lists="", numbers=number(7)))
    assert "Campaign saved" in saved.text
    with site.smscope.db.session() as session:
        campaign = session.get(Campaign, campaign_id)
        assert (campaign.name, campaign.numbers[0]["number"]) == ("Renamed", number(7))
    wrong = client.post(f"/campaigns/{campaign_id}/edit", data=form(csrf, sender=""))
    assert wrong.status_code == 422 and 'id="sender-error"' in wrong.text
    client.post(f"/campaigns/{campaign_id}/send", data={"csrf_token": csrf})
    assert "can no longer be edited" in client.get(f"/campaigns/{campaign_id}/edit").text
    late = client.post(f"/campaigns/{campaign_id}/edit", data=form(csrf))
    assert late.status_code == 200 and "only a draft" in late.text


@pytest.mark.parametrize("path", ["/campaigns/999", "/campaigns/abc", "/campaigns/-1",
                                  "/campaigns/99999999999999999999999",
                                  "/campaigns/999/edit", "/campaigns/999/cancel",
                                  "/campaigns/999/messages/1", "/campaigns/1/messages/x",
                                  "/campaigns/999/recipients.csv",
                                  "/campaigns/999/statistics.csv", "/campaigns/999/events"])
def test_unknown_or_malformed_ids_are_404_pages(site, engine, path) -> None:
    engine.campaign(lists=["clients"], send=False)
    client, _ = signed_in(site, "member@example.com")
    answer = client.get(path)
    assert answer.status_code == 404, path
    assert "<html" in answer.text and "Traceback" not in answer.text


def test_unknown_campaign_actions_are_404(site, engine) -> None:
    client, csrf = signed_in(site, "member@example.com")
    for action in ("send", "pause", "test", "share"):
        answer = client.post(f"/campaigns/999/{action}",
                             data={"csrf_token": csrf, "numbers": number(1),
                                   "addresses": "a@example.com"})
        assert answer.status_code == 404, action


def test_the_report_page_shows_the_reports_figures_and_formulas(site, engine) -> None:
    campaign_id = sent_campaign(engine)
    deliver(engine, campaign_id, number(1))
    client, _ = signed_in(site, "reader@example.com")
    page = client.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200
    report = engine.report(campaign_id)
    assert re.search(r'id="live-recipients">5<', page.text)
    assert re.search(r'id="live-delivered">1<', page.text)
    rate = f'{report["rates"]["receipt_rate"]:.1%}'
    assert re.search(rf'id="live-delivered_share" title="[^"]+">{rate}<', page.text)
    from smscope.reports.figures import FORMULAS
    for key in ("receipt_rate", "waiting_rate", "permanent_error_rate", "unsubscribe_rate",
                "delivery_rate"):
        assert f'title="{FORMULAS[key]}"' in page.text, key
    assert "<svg" in page.text and 'id="timeline"' in page.text
    assert page.text.count(f'href="/campaigns/{campaign_id}/messages/') == 5
    assert 'href="/campaigns/report.css"' in page.text
    css = client.get("/campaigns/report.css")
    assert css.status_code == 200 and ".report-figure" in css.text


def test_the_recipients_table_filters_searches_sorts_and_pages(site, engine, monkeypatch) -> None:
    from smscope.web.pages import campaign_report
    monkeypatch.setattr(campaign_report, "RECIPIENTS_PAGE", 2)
    campaign_id = sent_campaign(engine)
    deliver(engine, campaign_id, number(3))
    client, _ = signed_in(site, "member@example.com")
    base = f"/campaigns/{campaign_id}"
    delivered = client.get(f"{base}?status=delivered").text
    assert number(3) in delivered and number(1) not in delivered
    found = client.get(f"{base}?search=Ana4").text
    assert number(4) in found and number(2) not in found
    page1 = client.get(f"{base}?sort=number&desc=1").text
    assert page1.index(number(5)) < page1.index(number(4)) and number(3) not in page1
    nxt = re.search(r'id="recipients-next" href="([^"]+)"', page1).group(1)
    page2 = client.get(base + nxt.replace("&amp;", "&")).text
    assert number(3) in page2 and number(2) in page2 and number(5) not in page2
    bad = client.get(f"{base}?status=nonsense")
    assert bad.status_code == 400 and "unknown status or category" in bad.text
    assert client.get(f"{base}?cursor=%%%").status_code == 400
    assert client.get(f"{base}?sort=password").status_code == 400
    assert 'id="no-recipients"' in client.get(f"{base}?search=nobody").text


def test_the_message_page_shows_its_whole_history(site, engine) -> None:
    campaign_id = sent_campaign(engine)
    deliver(engine, campaign_id, number(2))
    message = engine.message(campaign_id, number(2))
    client, _ = signed_in(site, "reader@example.com")
    page = client.get(f"/campaigns/{campaign_id}/messages/{message.id}")
    assert page.status_code == 200
    assert "Bonjour Ana2" in page.text and "DELIVRD" in page.text
    assert page.text.count('class="event-status"') >= 2
    assert 'class="event-submit"' in page.text and 'class="event-receipt"' in page.text
    other = engine.campaign(lists=["clients"], send=False)
    assert client.get(f"/campaigns/{other}/messages/{message.id}").status_code == 404


def test_the_recipients_csv_is_streamed_with_the_tables_filters(site, engine) -> None:
    campaign_id = sent_campaign(engine, numbers=["=HYPERLINK(1)"])
    deliver(engine, campaign_id, number(1))
    client, _ = signed_in(site, "reader@example.com")
    answer = client.get(f"/campaigns/{campaign_id}/recipients.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert f'filename="campaign-{campaign_id}-recipients.csv"' in \
        answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(rows) == 6 and {r["number"] for r in rows} >= {number(i) for i in range(1, 6)}
    assert next(r for r in rows if r["number"] == number(1))["status"] == "received"
    assert not any(v.startswith("=") for r in rows for k, v in r.items() if k != "number")
    filtered = client.get(f"/campaigns/{campaign_id}/recipients.csv?status=delivered")
    assert [r["number"] for r in csv.DictReader(io.StringIO(
        filtered.content.decode("utf-8-sig")))] == [number(1)]
    bad = client.get(f"/campaigns/{campaign_id}/recipients.csv?status=nonsense")
    assert "unknown status or category" in bad.text


def test_the_statistics_csv_the_print_layout_and_the_pdf(site, engine) -> None:
    campaign_id = sent_campaign(engine)
    client, _ = signed_in(site, "reader@example.com")
    stats = client.get(f"/campaigns/{campaign_id}/statistics.csv")
    assert stats.status_code == 200 and stats.content.startswith(b"\xef\xbb\xbf")
    assert "receipt_rate" in stats.text or "delivered" in stats.text
    printed = client.get(f"/campaigns/{campaign_id}/print")
    assert printed.status_code == 200 and "@media print" in printed.text
    assert "script-src" not in printed.headers["content-security-policy"]
    pdf = client.get(f"/campaigns/{campaign_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"


def test_sharing_without_a_mail_server_says_how_to_set_one(site, engine) -> None:
    campaign_id = sent_campaign(engine)
    client, csrf = signed_in(site, "member@example.com")
    page = client.get(f"/campaigns/{campaign_id}")
    assert "No mail server is configured" in page.text
    answer = client.post(f"/campaigns/{campaign_id}/share",
                         data={"csrf_token": csrf, "addresses": "boss@example.com"})
    assert answer.status_code == 200 and "no SMTP server is configured" in answer.text
    bad = client.post(f"/campaigns/{campaign_id}/share",
                      data={"csrf_token": csrf, "addresses": "not an address"})
    assert "is not an email address" in bad.text


def with_smtp(site, port: int) -> None:
    from smscope.config import SMTPConfig
    site.smscope._config = site.smscope.config.model_copy(update={"smtp": SMTPConfig(
        host="127.0.0.1", port=port, **{"from": "reports@example.com"})})
    for cached in ("config", "base_config", "layers"):  # read again from _config
        site.smscope.__dict__.pop(cached, None)


def test_sharing_mails_the_pdf_and_names_the_saved_file(site, engine, tmp_path,
                                                        monkeypatch) -> None:
    from tests.reports.test_share import smtp_server
    monkeypatch.chdir(tmp_path)
    campaign_id = sent_campaign(engine)
    client, csrf = signed_in(site, "member@example.com")
    with smtp_server() as (mailbox, port):
        with_smtp(site, port)
        answer = client.post(f"/campaigns/{campaign_id}/share",
                             data={"csrf_token": csrf,
                                   "addresses": "boss@example.com, nobody@example.com"})
    assert "Report sent to boss@example.com" in answer.text
    assert "nobody@example.com" in answer.text and "550" in answer.text
    [saved] = (tmp_path / "reports").glob("campaign-*.pdf")
    assert saved.name in answer.text
    assert [to for _, to, _ in mailbox.received] == [["boss@example.com"]]
    with site.smscope.db.session() as session:
        shared = [e for e in session.scalars(select(CampaignEvent)) if e.kind == "shared"]
    assert [e.actor for e in shared] == ["web:member@example.com"]


def test_an_smtp_failure_is_told_plainly_with_the_saved_pdf(site, engine, tmp_path,
                                                            monkeypatch) -> None:
    from tests.reports.test_share import free_port
    monkeypatch.chdir(tmp_path)
    campaign_id = sent_campaign(engine)
    client, csrf = signed_in(site, "member@example.com")
    with_smtp(site, free_port())  # nothing listens there
    answer = client.post(f"/campaigns/{campaign_id}/share",
                         data={"csrf_token": csrf, "addresses": "boss@example.com"})
    assert answer.status_code == 200 and "flash-error" in answer.text
    [saved] = (tmp_path / "reports").glob("campaign-*.pdf")
    assert saved.name in answer.text and "Traceback" not in answer.text


def test_form_edit_report_table_and_csv_on_each_backend(any_site) -> None:
    site = any_site
    engine = Engine(site.smscope.db, config=site.smscope.config).setup(credits=100)
    engine.contacts("clients", [{"number": number(i), "first_name": f"Ana{i}"}
                                for i in range(1, 4)])
    engine.contacts("vip", [{"number": number(2)}, {"number": number(9)}])
    client, csrf = signed_in(site, "member@example.com")
    counted = client.post("/api/v1/texts/segments", headers={"X-CSRF-Token": csrf},
                          json={"text": "Bonjour {first_name|toi}",
                                "lists": ["clients", "vip"], "numbers": [number(2)]})
    # distinct contacts of both lists (2 is in both), then the ad-hoc number
    assert counted.json()["recipients"] == 5
    made = client.post("/campaigns/new", data=form(csrf, text="Bonjour {first_name|toi}"),
                       follow_redirects=False)
    campaign_id = int(made.headers["location"].rsplit("/", 1)[1])
    edited = client.post(f"/campaigns/{campaign_id}/edit",
                         data={**form(csrf, text="Bonjour {first_name|toi}"),
                               "lists": ["clients", "vip"]})
    assert "Campaign saved" in edited.text, re.findall(r'class="(?:flash|field-error)[^<]*<',
                                                       edited.text)
    with site.smscope.db.session() as session:
        from smscope.campaigns.service import get_campaign
        assert get_campaign(session, campaign_id).recipients == 0
    client.post(f"/campaigns/{campaign_id}/send", data={"csrf_token": csrf})
    engine.send_all()
    page = client.get(f"/campaigns/{campaign_id}?sort=status_updated_at&desc=1")
    assert page.status_code == 200 and re.search(r'id="live-recipients">4<', page.text), \
        re.findall(r'id="live-recipients">[^<]*<|class="flash[^<]*<', page.text)
    rows = list(csv.DictReader(io.StringIO(client.get(
        f"/campaigns/{campaign_id}/recipients.csv?search=Ana").content.decode("utf-8-sig"))))
    assert sorted(r["number"] for r in rows) == [number(1), number(2), number(3)]


def test_the_list_filters_by_state_and_pages_from_newest(site, engine, monkeypatch) -> None:
    from smscope.web.pages import campaigns as page_module
    monkeypatch.setattr(page_module, "PAGE_SIZE", 2)
    ids = [engine.campaign(lists=["clients"], send=False, name=f"c{i}") for i in range(3)]
    sent = engine.campaign(numbers=[number(8)], name="sent one")
    client, _ = signed_in(site, "reader@example.com")
    first = client.get("/campaigns").text
    assert f'href="/campaigns/{sent}"' in first and f'href="/campaigns/{ids[2]}"' in first
    assert f'href="/campaigns/{ids[1]}"' not in first
    older = re.search(r'id="next-page" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).text
    assert f'href="/campaigns/{ids[1]}"' in second and f'href="/campaigns/{ids[0]}"' in second
    assert 'id="next-page"' not in second
    sending = client.get("/campaigns?state=sending").text
    assert f'href="/campaigns/{sent}"' in sending and f'href="/campaigns/{ids[0]}"' not in sending
    assert "No campaign is cancelled" in client.get("/campaigns?state=cancelled").text
    for bad in ("/campaigns?state=nonsense", "/campaigns?before=abc"):
        answer = client.get(bad)
        assert answer.status_code == 400 and "Traceback" not in answer.text


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/api/v1/campaigns/{id}/test", {"numbers": []}, 422),
    ("/api/v1/campaigns/{id}/test", {"numbers": [number(i) for i in range(21)]}, 422),
    ("/api/v1/campaigns/{id}/test", {"numbers": ["hello"]}, 422),
    ("/api/v1/campaigns/{id}/test", {"numbers": [number(1)], "extra": 1}, 422),
    ("/api/v1/campaigns/999/test", {"numbers": [number(1)]}, 404),
    ("/api/v1/texts/segments", {"text": "hi", "offset": -1}, 422),
    ("/api/v1/texts/segments", {"text": "hi", "lists": "clients"}, 422),
    ("/api/v1/texts/segments", {"text": ["hi"]}, 422),
])
def test_the_new_api_routes_refuse_malformed_bodies(site, engine, path, body, status) -> None:
    campaign_id = engine.campaign(lists=["clients"], send=False)
    client = site.client()
    answer = client.post(path.format(id=campaign_id), json=body,
                         headers={"Authorization": f"Bearer {site.token('admin@example.com')}"})
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"error"}
    assert engine.messages(campaign_id) == []


def test_single_messages_are_listed_apart_from_the_campaigns(any_site) -> None:
    from smscope.campaigns import service
    from smscope.pricing import PriceTable
    from tests.campaigns.helpers import NOW

    site = any_site
    engine = Engine(site.smscope.db, config=site.smscope.config).setup(credits=100)
    engine.contacts("clients", [{"number": number(1)}])
    campaign_id = engine.campaign(lists=["clients"], name="Soldes", send=False)
    with site.smscope.db.transaction() as session:
        single = service.send_single(session, number(7), sender="SHOP", text="Your code",
                                     config=engine.config, prices=PriceTable(), now=NOW,
                                     connector="sim")
        single_id = single.campaign_id
    client, _ = signed_in(site, "member@example.com")

    def listed(query: str = "") -> set[int]:
        page = client.get(f"/campaigns{query}")
        assert page.status_code == 200
        return {int(i) for i in re.findall(r'<a href="/campaigns/(\d+)">', page.text)}

    assert listed() == {campaign_id}
    assert listed("?show=single") == {single_id}
    assert listed("?show=all") == {campaign_id, single_id}
    assert listed("?show=single&state=draft") == set()
    assert 'id="no-campaigns">No single message is draft' in client.get(
        "/campaigns?show=single&state=draft").text
    dashboard = client.get("/").text
    assert f'href="/campaigns/{campaign_id}"' in dashboard
    assert f'href="/campaigns/{single_id}"' not in dashboard
    bad = client.get("/campaigns?show=nonsense")
    assert bad.status_code == 400 and "choose one of campaigns, single, all" in bad.text


def test_the_preview_shows_only_contacts_who_will_get_the_text(site, engine) -> None:
    from smscope.contacts import blacklist
    with site.smscope.db.transaction() as session:
        blacklist.add(session, number(1), reason="asked")
    client, csrf = signed_in(site, "member@example.com")
    counted = client.post("/api/v1/texts/segments", headers={"X-CSRF-Token": csrf},
                          json={"text": "Bonjour {first_name}", "lists": ["clients"]}).json()
    assert counted["recipients"] == 4
    assert counted["preview"]["first_name"] == "Ana2"  # not Ana1, who is blacklisted
