"""The campaign pages: the list, the draft form (errors next to each field, the form
keeps what was typed, the counter and preview without JavaScript), the actions with
their roles and CSRF, the report page, a message's history, and the exports."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from smscope.db.tables import Campaign, CampaignEvent
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
