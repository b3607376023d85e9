"""The main navigation: the pages in three sections (Sending, Audience, Admin), the
current section and page marked with aria-current, plain links (no script), the admin
pages shown to admins only."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import signed_in

SECTIONS = {"Sending": ["Dashboard", "Campaigns", "Monitoring", "Statistics"],
            "Audience": ["Contacts", "Lists", "Imports", "Blacklist"],
            "Admin": ["Credits", "Connectors", "Settings", "Webhooks", "Users", "API tokens"]}
TARGETS = {"Dashboard": "/", "Campaigns": "/campaigns", "Monitoring": "/messages",
           "Statistics": "/stats", "Contacts": "/contacts", "Lists": "/lists",
           "Imports": "/imports/new", "Blacklist": "/blacklist", "Credits": "/credits",
           "Connectors": "/connectors", "Settings": "/settings", "Webhooks": "/webhooks",
           "Users": "/users", "API tokens": "/tokens"}


def nav_of(html: str) -> str:
    return html.split('<nav class="site-nav" aria-label="Main">', 1)[1].split("</nav>", 1)[0]


def sections_of(html: str) -> dict[str, list[tuple[str, str]]]:
    """Each section's title and its links (label, address), in order."""
    found = {}
    for block in nav_of(html).split('<div class="section')[1:]:
        title = re.search(r'class="section-title"[^>]*>([^<]+)<', block).group(1)
        found[title] = [(label, href) for href, label in
                        re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', block)]
    return found


def test_an_admin_finds_every_page_in_its_section(site) -> None:
    client, _ = signed_in(site, "admin@example.com")
    html = client.get("/").text
    assert {title: [label for label, _ in links] for title, links in
            sections_of(html).items()} == SECTIONS
    for links in sections_of(html).values():
        for label, href in links:
            assert href == TARGETS[label]
            assert client.get(href).status_code == 200, href
    assert "<script" not in nav_of(html)


@pytest.mark.parametrize("email", ["member@example.com", "reader@example.com"])
def test_the_admin_pages_are_not_offered_to_others(site, email: str) -> None:
    client, _ = signed_in(site, email)
    admin = [label for label, _ in sections_of(client.get("/").text)["Admin"]]
    assert admin == ["Credits", "Connectors", "Settings", "API tokens"]


@pytest.mark.parametrize(("path", "section", "page"), [
    ("/", "Sending", "Dashboard"), ("/campaigns/new", "Sending", "Campaigns"),
    ("/messages", "Sending", "Monitoring"), ("/stats?by=week", "Sending", "Statistics"),
    ("/contacts", "Audience", "Contacts"), ("/imports/new", "Audience", "Imports"),
    ("/blacklist", "Audience", "Blacklist"), ("/lists", "Audience", "Lists"),
    ("/settings", "Admin", "Settings"), ("/webhooks/deliveries", "Admin", "Webhooks"),
    ("/tokens", "Admin", "API tokens"),
])
def test_the_current_section_and_page_are_marked(site, path: str, section: str,
                                                 page: str) -> None:
    client, _ = signed_in(site, "admin@example.com")
    nav = nav_of(client.get(path).text)
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == [page]
    # the section's tab (what a phone shows) and its pages, shown on a narrow screen
    assert re.findall(r'aria-current="true">([^<]+)<', nav) == [section]
    current = re.findall(r'<div class="section current">\s*<p class="section-title"'
                         r'[^>]*>([^<]+)<', nav)
    assert current == [section]


def test_the_login_page_has_no_navigation(site) -> None:
    assert 'aria-label="Main"' not in site.client().get("/login").text
