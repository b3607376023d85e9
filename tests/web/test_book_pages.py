"""The address book's pages: contacts (search, pages, a contact's page, edit with
errors next to the field, hygiene undo, delete), lists, the blacklist and its log, and
credits — each change made through the CLI's services and visible to them."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from smscope.contacts import book
from smscope.db.tables import BlacklistLog, Contact, ContactEvent, ContactList, ListMember
from smscope.pricing import CreditBank
from tests.web.book_helpers import add_contacts, blacklist, mobile
from tests.web.conftest import signed_in


def contact(site, contact_id: int) -> Contact:
    with site.smscope.db.session() as session:
        found = session.get(Contact, contact_id)
        session.expunge(found)
        return found


def test_an_empty_address_book_says_how_to_fill_it(site) -> None:
    client, _ = signed_in(site, "member@example.com")
    page = client.get("/contacts")
    assert page.status_code == 200 and 'id="no-contacts"' in page.text
    assert "Import a CSV file" in page.text
    assert 'id="no-lists"' in client.get("/lists").text
    assert 'id="no-entries"' in client.get("/blacklist").text
    assert 'id="no-ledger"' in client.get("/credits").text


def test_contacts_are_searched_filtered_and_paged_by_keyset(site) -> None:
    add_contacts(site, 120)
    blacklist(site, mobile(7))
    client, _ = signed_in(site, "reader@example.com")
    first = client.get("/contacts")
    numbers = re.findall(r'<a href="/contacts/\d+">(\+\d+)</a>', first.text)
    assert numbers == [mobile(i) for i in range(50)]
    cursor = re.search(r'href="/contacts\?cursor=([^"]+)"', first.text).group(1)
    second = client.get(f"/contacts?cursor={cursor}")
    assert re.findall(r'<a href="/contacts/\d+">(\+\d+)</a>', second.text)[0] == mobile(50)
    assert "First page" in second.text
    found = client.get("/contacts", params={"search": "Name117"}).text
    assert re.findall(r'<a href="/contacts/\d+">(\+\d+)</a>', found) == [mobile(117)]
    state = client.get("/contacts", params={"state": "blacklisted"}).text
    assert re.findall(r'<a href="/contacts/\d+">(\+\d+)</a>', state) == [mobile(7)]
    missing = client.get("/contacts", params={"list": "nope"})
    assert missing.status_code == 200 and "no list named 'nope'" in unescape(missing.text)
    mangled = client.get("/contacts", params={"cursor": "garbage", "state": "weird"})
    assert mangled.status_code == 200 and mobile(0) in mangled.text


def test_a_contact_is_edited_custom_fields_too(site) -> None:
    [cid] = add_contacts(site, 1)
    client, csrf = signed_in(site, "member@example.com")
    page = client.get(f"/contacts/{cid}")
    assert page.status_code == 200 and 'id="edit-contact"' in page.text
    saved = client.post(f"/contacts/{cid}", data={
        "csrf_token": csrf, "first_name": " Anne ", "last_name": "Martin",
        "new_field_name": "Code Postal", "new_field_value": "75001"})
    assert saved.status_code == 200 and f"{mobile(0)} is saved." in saved.text
    found = contact(site, cid)
    assert (found.first_name, found.last_name, found.fields) == (
        "Anne", "Martin", {"code_postal": "75001"})
    assert 'name="field:code_postal" value="75001"' in saved.text
    # an empty value removes the field
    client.post(f"/contacts/{cid}", data={"csrf_token": csrf, "first_name": "Anne",
                                          "last_name": "", "field:code_postal": ""})
    assert contact(site, cid).fields == {} and contact(site, cid).last_name is None


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"first_name": "x" * 201}, "first-name", "longer than 200"),
    ({"new_field_name": "first_name", "new_field_value": "x"}, "new-field-name",
     "cannot name a custom field"),
    ({"new_field_value": "lost"}, "new-field-name", "give the new field a name"),
    ({"field:zip": "y" * 1001}, "field-1", "longer than 1000"),
])
def test_a_wrong_edit_is_shown_next_to_its_field_and_changes_nothing(
        site, data, field, message) -> None:
    [cid] = add_contacts(site, 1)
    client, csrf = signed_in(site, "member@example.com")
    answer = client.post(f"/contacts/{cid}", data={"csrf_token": csrf, "first_name": "Z",
                                                   **data})
    assert answer.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error" role="alert">([^<]+)',
                      answer.text)
    assert error and message in error.group(1), answer.text
    assert f'aria-describedby="{field}-error"' in answer.text
    assert contact(site, cid).first_name == "Name0"


def test_hygiene_is_undone_from_the_contact_page(site) -> None:
    [cid] = add_contacts(site, 1)
    with site.smscope.db.transaction() as session:
        found = session.get(Contact, cid)
        book.mark_invalid(session, found, "unknown subscriber", remove_from_lists=True)
    client, csrf = signed_in(site, "member@example.com")
    page = client.get(f"/contacts/{cid}").text
    assert "removed from customers" in page and 'id="restore"' in page
    restored = client.post(f"/contacts/{cid}/restore", data={"csrf_token": csrf})
    assert "is active again (back in: customers)" in restored.text
    assert contact(site, cid).state == "active"
    again = client.post(f"/contacts/{cid}/restore", data={"csrf_token": csrf})
    assert "was not removed from any list" in again.text


def test_a_contact_is_deleted_after_a_confirmation(site) -> None:
    [cid] = add_contacts(site, 1)
    client, csrf = signed_in(site, "member@example.com")
    confirm = client.get(f"/contacts/{cid}/delete")
    assert confirm.status_code == 200 and 'id="confirm"' in confirm.text
    assert contact(site, cid) is not None  # asking changes nothing
    done = client.post(f"/contacts/{cid}/delete", data={"csrf_token": csrf})
    assert f"{mobile(0)} is deleted." in done.text
    assert client.get(f"/contacts/{cid}").status_code == 404


def test_unknown_ids_are_404_pages(site) -> None:
    client, csrf = signed_in(site, "member@example.com")
    for path in ("/contacts/999", "/lists/999", "/imports/999", "/contacts/999/delete",
                 "/lists/999/delete"):
        answer = client.get(path)
        assert answer.status_code == 404 and "Traceback" not in answer.text, path
    for path in ("/contacts/999", "/contacts/999/delete", "/lists/999/delete",
                 "/lists/999/members", "/lists/999/rename"):
        answer = client.post(path, data={"csrf_token": csrf, "number": mobile(1),
                                          "name": "x"})
        assert answer.status_code == 404, path
    # a malformed id is an unknown address too: the page, not FastAPI's JSON
    malformed = client.get("/contacts/not-a-number")
    assert malformed.status_code == 404 and "There is no such page" in malformed.text


def test_lists_are_made_renamed_filled_emptied_and_deleted(site) -> None:
    client, csrf = signed_in(site, "member@example.com")
    made = client.post("/lists", data={"csrf_token": csrf, "name": "VIP"})
    assert "The list VIP is made." in made.text
    with site.smscope.db.session() as session:
        list_id = session.scalar(select(ContactList.id).where(ContactList.name == "VIP"))
    twice = client.post("/lists", data={"csrf_token": csrf, "name": "VIP"})
    assert twice.status_code == 422 and "exists already" in twice.text
    empty = client.post("/lists", data={"csrf_token": csrf, "name": "  "})
    assert empty.status_code == 422 and "give the list a name" in empty.text
    added = client.post(f"/lists/{list_id}/members", data={"csrf_token": csrf,
                                                          "number": "+33 6 12 34 56 78"})
    assert "+33612345678 is in the list now." in added.text
    bad = client.post(f"/lists/{list_id}/members", data={"csrf_token": csrf,
                                                        "number": "+33 1 23 45 67 89"})
    assert bad.status_code == 422 and 'id="member-number-error"' in bad.text
    assert "fixed" in bad.text.lower()
    assert client.get("/lists").text.count(">1</td>") >= 1
    renamed = client.post(f"/lists/{list_id}/rename", data={"csrf_token": csrf,
                                                           "name": "Gold"})
    assert "The list is now Gold." in renamed.text
    with site.smscope.db.session() as session:
        cid = session.scalar(select(ListMember.contact_id).where(ListMember.list_id == list_id))
    out = client.post(f"/lists/{list_id}/members/{cid}/remove", data={"csrf_token": csrf})
    assert "is out of the list" in out.text
    with site.smscope.db.session() as session:
        assert session.scalar(select(ContactEvent.kind).where(
            ContactEvent.contact_id == cid).order_by(ContactEvent.id.desc())) == "left_list"
    assert 'id="confirm"' in client.get(f"/lists/{list_id}/delete").text
    gone = client.post(f"/lists/{list_id}/delete", data={"csrf_token": csrf})
    assert "The list Gold is deleted." in gone.text
    assert contact(site, cid) is not None  # the contact stays


def test_a_list_pages_its_contacts(site) -> None:
    add_contacts(site, 60)
    client, _ = signed_in(site, "reader@example.com")
    page = client.get("/lists/1").text
    assert len(re.findall(r'<a href="/contacts/\d+">', page)) == 50
    cursor = re.search(r'href="/lists/1\?cursor=([^"]+)"', page).group(1)
    rest = client.get(f"/lists/1?cursor={cursor}").text
    assert len(re.findall(r'<a href="/contacts/\d+">', rest)) == 10


def test_the_blacklist_is_added_to_removed_from_and_logged(site) -> None:
    add_contacts(site, 1)
    client, csrf = signed_in(site, "member@example.com")
    added = client.post("/blacklist", data={"csrf_token": csrf, "number": "+33 6.10.00.00.00",
                                            "reason": "asked by phone"})
    assert f"{mobile(0)} is blacklisted" in added.text
    assert contact(site, 1).state == "blacklisted"
    assert "already" in client.post("/blacklist", data={"csrf_token": csrf,
                                                        "number": mobile(0)}).text
    bad = client.post("/blacklist", data={"csrf_token": csrf, "number": "hello"})
    assert bad.status_code == 422 and 'id="bl-number-error"' in bad.text
    empty = client.post("/blacklist", data={"csrf_token": csrf, "number": ""})
    assert empty.status_code == 422 and "give the number" in empty.text
    confirm = client.get("/blacklist/remove", params={"number": mobile(0)})
    assert confirm.status_code == 200 and 'name="reason"' in confirm.text
    assert client.get("/blacklist/remove", params={"number": mobile(5)}).status_code == 404
    assert client.get("/blacklist/remove", params={"number": "junk"}).status_code == 404
    removed = client.post("/blacklist/remove", data={"csrf_token": csrf, "number": mobile(0),
                                                     "reason": "opted in again"})
    assert "is off the blacklist" in removed.text
    assert contact(site, 1).state == "active"
    twice = client.post("/blacklist/remove", data={"csrf_token": csrf, "number": mobile(0)})
    assert "is not on the blacklist" in twice.text
    with site.smscope.db.session() as session:
        log = [(r.action, r.actor, r.reason) for r in session.scalars(
            select(BlacklistLog).order_by(BlacklistLog.id))]
    assert log == [("add", "web:member@example.com", "asked by phone"),
                   ("remove", "web:member@example.com", "opted in again")]
    page = client.get("/blacklist").text
    assert page.index("removed") < page.index("added")  # newest first
    assert "opted in again" in page


def test_the_blacklist_is_searched_and_exported(site) -> None:
    blacklist(site, mobile(1))
    blacklist(site, mobile(2))
    client, _ = signed_in(site, "reader@example.com")
    found = client.get("/blacklist", params={"search": mobile(2)[-4:]}).text
    assert mobile(2) in found and mobile(1) not in found.split('id="blacklist-log"')[0]
    export = client.get("/blacklist.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "number,reason,source,actor,created_at"
    assert [line.split(",")[0] for line in lines[1:]] == [mobile(1), mobile(2)]


def test_credits_are_added_by_an_admin_and_the_ledger_shows_them(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    added = client.post("/credits", data={"csrf_token": csrf, "amount": "1000",
                                          "note": "first top-up"})
    assert "The balance is now 1,000 credits." in added.text or "1000" in added.text
    with site.smscope.db.session() as session:
        assert CreditBank(session).balance().available == 1000
    page = client.get("/credits").text
    assert "first top-up" in page and "web:admin@example.com" in page
    for amount, message in (("abc", "not"), ("0", "changes nothing"),
                            ("-5000", "not enough credit"), ("", "changes nothing")):
        bad = client.post("/credits", data={"csrf_token": csrf, "amount": amount})
        assert bad.status_code == 422 and 'id="credit-amount-error"' in bad.text, amount
        assert message in bad.text, (amount, bad.text)
    with site.smscope.db.session() as session:
        assert CreditBank(session).balance().available == 1000


def test_a_member_sees_credits_but_cannot_add_them(site) -> None:
    client, csrf = signed_in(site, "member@example.com")
    assert 'id="add-credits"' not in client.get("/credits").text
    assert client.post("/credits", data={"csrf_token": csrf, "amount": "5"}
                       ).status_code == 403


READONLY_POSTS = ["/contacts/1", "/contacts/1/restore", "/contacts/1/delete", "/lists",
                  "/lists/1/rename", "/lists/1/members", "/lists/1/members/1/remove",
                  "/lists/1/delete", "/blacklist", "/blacklist/remove", "/credits",
                  "/imports", "/connectors", "/connectors/x/enabled", "/connectors/x/limits",
                  "/settings/section/smtp", "/settings/section/smtp/reset",
                  "/settings/windows", "/settings/windows/BE/remove", "/settings/prices",
                  "/settings/prices/FR/remove", "/settings/smtp/test"]


def test_a_readonly_user_sees_no_forms_and_gets_403_when_posting(site) -> None:
    add_contacts(site, 1)
    blacklist(site, mobile(3))
    client, csrf = signed_in(site, "reader@example.com")
    for path in ("/contacts", "/contacts/1", "/lists", "/lists/1", "/blacklist",
                 "/credits", "/connectors", "/settings", "/imports/new"):
        page = client.get(path)
        assert page.status_code == 200, path
        forms = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', page.text)
        assert forms == ["/logout"], (path, forms)
    for path in READONLY_POSTS:
        answer = client.post(path, data={"csrf_token": csrf, "number": mobile(3),
                                         "name": "x", "amount": "5"})
        assert answer.status_code == 403, path
        assert "Traceback" not in answer.text
    assert contact(site, 1).first_name == "Name0"


def test_the_pages_link_nowhere_dead_and_load_nothing_from_the_network(site) -> None:
    [cid] = add_contacts(site, 1)
    blacklist(site, mobile(5))
    with site.smscope.db.transaction() as session:
        CreditBank(session).add(10, note="x", actor="t")
    client, _ = signed_in(site, "admin@example.com")
    for path in ("/contacts", f"/contacts/{cid}", "/lists", "/lists/1", "/blacklist",
                 "/credits", "/connectors", "/settings", "/imports/new"):
        html = client.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//', html), path
        for link in re.findall(r'href="(/[^"#]*)', html):
            link = unescape(link)
            assert client.get(link).status_code == 200, (path, link)
