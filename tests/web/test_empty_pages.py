"""The empty pages: each says what fills it and, when the user may act, links to the
page that does (never to a command line); a read-only user reads who does instead,
without a link or a form it does not have."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import signed_in


def empty_state(html: str, element_id: str) -> str:
    return re.search(rf'<p class="empty" id="{element_id}">(.*?)</p>', html, re.S).group(1)


def test_an_empty_dashboard_leads_a_member_to_the_import_and_the_campaign_form(site) -> None:
    client, _ = signed_in(site, "member@example.com")
    said = empty_state(client.get("/").text, "no-campaigns")
    assert 'href="/imports/new"' in said and 'href="/campaigns/new"' in said
    assert "<code>" not in said  # the page, not the command line


@pytest.mark.parametrize(("path", "element_id"), [
    ("/", "no-campaigns"), ("/campaigns", "no-campaigns"), ("/messages", "no-messages"),
    ("/stats", "no-stats"), ("/contacts", "no-contacts"), ("/lists", "no-lists"),
    ("/imports/new", "no-imports"), ("/blacklist", "no-entries"), ("/credits", "no-ledger"),
    ("/connectors", "no-connectors"),
])
def test_an_empty_page_shows_a_reader_no_way_to_act(site, path: str, element_id: str) -> None:
    client, _ = signed_in(site, "reader@example.com")
    said = empty_state(client.get(path).text, element_id)
    for action in ("/campaigns/new", "/imports/new", "<code>"):
        assert action not in said, (path, said)
    if path in ("/lists", "/blacklist"):  # their forms are not shown to a reader
        assert "above" not in said, said


@pytest.mark.parametrize(("path", "element_id", "action"), [
    ("/campaigns", "no-campaigns", "/campaigns/new"), ("/messages", "no-messages",
                                                       "/campaigns/new"),
    ("/stats", "no-stats", "/campaigns"), ("/contacts", "no-contacts", "/imports/new"),
    ("/lists", "no-lists", "/imports/new"),
])
def test_an_empty_page_links_a_member_to_what_fills_it(site, path: str, element_id: str,
                                                       action: str) -> None:
    client, _ = signed_in(site, "member@example.com")
    assert f'href="{action}"' in empty_state(client.get(path).text, element_id)
