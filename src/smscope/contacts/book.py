"""The address book: contacts, lists, and the reversible hygiene log.

State changes of a contact (``active`` / ``invalid`` / ``blacklisted``) always say why
and when, and write a :class:`~smscope.db.tables.ContactEvent`; removals from lists by
hygiene are logged so that ``smscope contacts restore`` can undo them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from smscope import numbers
from smscope.db.sql import insert_ignore
from smscope.db.tables import Contact, ContactEvent, ContactList, ListMember
from smscope.db.types import utcnow
from smscope.errors import NotFoundError, UsageError
from smscope.pagination import Page, fetch_page, text_filter

STATES = ("active", "invalid", "blacklisted")


# ----------------------------------------------------------------------------- lists


def get_or_create_list(session: Session, name: str) -> ContactList:
    name = name.strip()
    found = session.scalar(select(ContactList).where(ContactList.name == name))
    if found is not None:
        return found
    session.execute(insert_ignore(session, ContactList, ["name"]),
                    [{"name": name, "description": "", "created_at": utcnow()}])
    return session.scalars(select(ContactList).where(ContactList.name == name)).one()


def get_list(session: Session, name: str) -> ContactList:
    found = session.scalar(select(ContactList).where(ContactList.name == name.strip()))
    if found is None:
        names = session.scalars(select(ContactList.name).order_by(ContactList.name).limit(20))
        known = ", ".join(names) or "none yet; import a file with --list NAME"
        raise NotFoundError(f"no list named {name!r}; lists: {known}")
    return found


def lists_summary(session: Session) -> list[dict[str, Any]]:
    """Every list with its number of contacts, by state."""
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(ListMember.list_id, Contact.state, func.count())
        .join(Contact, Contact.id == ListMember.contact_id)
        .group_by(ListMember.list_id, Contact.state)
    )
    for list_id, state, count in rows:
        counts.setdefault(list_id, {})[state] = count
    result = []
    for item in session.scalars(select(ContactList).order_by(ContactList.id)):
        by_state = counts.get(item.id, {})
        result.append({
            "id": item.id,
            "name": item.name,
            "contacts": sum(by_state.values()),
            "active": by_state.get("active", 0),
            "invalid": by_state.get("invalid", 0),
            "blacklisted": by_state.get("blacklisted", 0),
            "created_at": item.created_at,
        })
    return result


# ----------------------------------------------------------------------------- contacts


def contact_to_json(contact: Contact, lists: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "id": contact.id,
        "number": contact.number,
        "region": contact.region,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "fields": contact.fields or {},
        "state": contact.state,
        "state_reason": contact.state_reason,
        "state_changed_at": contact.state_changed_at,
        "lists": list(lists),
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def list_contacts(session: Session, *, list_name: str | None = None, state: str | None = None,
                  search: str | None = None, cursor: str | None = None,
                  limit: int | None = None) -> Page[dict[str, Any]]:
    """One page of contacts, oldest first, filtered by list, state and text."""
    query: Select[Contact] = select(Contact)
    if list_name is not None:
        contact_list = get_list(session, list_name)
        query = query.join(ListMember, ListMember.contact_id == Contact.id).where(
            ListMember.list_id == contact_list.id)
    if state is not None:
        if state not in STATES:
            raise UsageError(f"unknown state {state!r}; use one of: {', '.join(STATES)}")
        query = query.where(Contact.state == state)
    if search:
        query = query.where(
            text_filter(search, Contact.number, Contact.first_name, Contact.last_name))
    contacts, next_cursor = fetch_page(session, query, Contact.id, cursor=cursor, limit=limit)
    names = _list_names(session, [c.id for c in contacts])
    return Page([contact_to_json(c, names.get(c.id, [])) for c in contacts], next_cursor)


def _list_names(session: Session, contact_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    if not contact_ids:
        return names
    rows = session.execute(
        select(ListMember.contact_id, ContactList.name)
        .join(ContactList, ContactList.id == ListMember.list_id)
        .where(ListMember.contact_id.in_(contact_ids))
        .order_by(ContactList.name)
    )
    for contact_id, name in rows:
        names.setdefault(contact_id, []).append(name)
    return names


def find_contact(session: Session, number: str, default_region: str | None) -> Contact:
    e164 = numbers.normalize(number, default_region)
    contact = session.scalar(select(Contact).where(Contact.number == e164))
    if contact is None:
        raise NotFoundError(f"no contact with the number {e164}")
    return contact


def set_state(session: Session, contact: Contact, state: str, reason: str, *,
              actor: str = "system", message_id: int | None = None) -> bool:
    """Change a contact's state, logged; returns False when it already had it."""
    if state not in STATES:
        raise ValueError(f"unknown contact state {state!r}")
    if contact.state == state:
        return False
    session.add(ContactEvent(contact_id=contact.id, kind="state_changed",
                             from_state=contact.state, to_state=state, reason=reason,
                             actor=actor, message_id=message_id))
    contact.state, contact.state_reason, contact.state_changed_at = state, reason, utcnow()
    return True


def mark_invalid(session: Session, contact: Contact, reason: str, *,
                 remove_from_lists: bool, message_id: int | None = None,
                 actor: str = "system") -> list[int]:
    """Hygiene after a permanent error: mark invalid and (optionally) leave every list.

    Each removal is logged with the message that caused it, so that
    :func:`restore` can put the contact back. Returns the ids of the lists left.
    A blacklisted contact stays blacklisted (opting out is the stronger fact).
    """
    if contact.state != "blacklisted":
        set_state(session, contact, "invalid", reason, actor=actor, message_id=message_id)
    if not remove_from_lists:
        return []
    list_ids = list(session.scalars(
        select(ListMember.list_id).where(ListMember.contact_id == contact.id)))
    for list_id in list_ids:
        session.add(ContactEvent(contact_id=contact.id, kind="removed_from_list",
                                 list_id=list_id, reason=reason, actor=actor,
                                 message_id=message_id))
    if list_ids:
        session.execute(delete(ListMember).where(ListMember.contact_id == contact.id))
    return list_ids


def restore(session: Session, number: str, default_region: str | None, *,
            actor: str = "cli") -> dict[str, Any]:
    """Undo hygiene: the contact is active again and back in the lists it was removed from."""
    contact = find_contact(session, number, default_region)
    if contact.state == "blacklisted":
        raise UsageError(
            f"{contact.number} is on the blacklist; remove it with "
            f"'smscope blacklist remove {contact.number}' first"
        )
    removals = list(session.scalars(
        select(ContactEvent).where(ContactEvent.contact_id == contact.id,
                                   ContactEvent.kind == "removed_from_list",
                                   ContactEvent.restored_at.is_(None),
                                   ContactEvent.list_id.is_not(None))))
    now = utcnow()
    list_ids = sorted({r.list_id for r in removals if r.list_id is not None})
    if list_ids:
        session.execute(insert_ignore(session, ListMember, ["list_id", "contact_id"]),
                        [{"list_id": i, "contact_id": contact.id, "added_at": now}
                         for i in list_ids])
    for removal in removals:
        removal.restored_at = now
        session.add(ContactEvent(contact_id=contact.id, kind="restored_to_list",
                                 list_id=removal.list_id, reason="restored by hand",
                                 actor=actor))
    changed = set_state(session, contact, "active", "restored by hand", actor=actor)
    if not changed and not list_ids:
        raise UsageError(f"{contact.number} is active and was not removed from any list")
    names = session.scalars(select(ContactList.name).where(ContactList.id.in_(list_ids)))
    return {"number": contact.number, "state": contact.state, "lists": sorted(names)}


# ----------------------------------------------------------------------------- editing

#: the longest name and custom field value a contact keeps (as the import allows)
MAX_NAME = 200
MAX_FIELD = 1000
_FIELD_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


def get_contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFoundError(f"there is no contact {contact_id}; the contacts page lists them")
    return contact


def contact_lists(session: Session, contact_id: int) -> list[ContactList]:
    return list(session.scalars(
        select(ContactList).join(ListMember, ListMember.list_id == ContactList.id)
        .where(ListMember.contact_id == contact_id).order_by(ContactList.name)))


def contact_events(session: Session, contact_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The contact's hygiene log, newest first, with each list's name."""
    rows = session.execute(
        select(ContactEvent, ContactList.name)
        .outerjoin(ContactList, ContactList.id == ContactEvent.list_id)
        .where(ContactEvent.contact_id == contact_id)
        .order_by(ContactEvent.id.desc()).limit(limit))
    return [{"at": e.at, "kind": e.kind, "from_state": e.from_state, "to_state": e.to_state,
             "list": name, "reason": e.reason, "actor": e.actor, "message_id": e.message_id,
             "restored_at": e.restored_at} for e, name in rows]


def can_restore(session: Session, contact: Contact) -> bool:
    """Whether :func:`restore` has something to undo (and is allowed to)."""
    if contact.state == "blacklisted":
        return False
    if contact.state == "invalid":
        return True
    return session.scalar(select(ContactEvent.id).where(
        ContactEvent.contact_id == contact.id, ContactEvent.kind == "removed_from_list",
        ContactEvent.restored_at.is_(None), ContactEvent.list_id.is_not(None)).limit(1)
    ) is not None


def check_field_name(name: str) -> str:
    """A custom field's name as placeholders use it (``{code_postal}``)."""
    from smscope.contacts.csvfile import FIELDS, fold

    key = fold(name)
    if not _FIELD_NAME.match(key) or key in FIELDS or key == "number":
        raise UsageError(f"{name!r} cannot name a custom field: use letters, digits and "
                         "'_' (at most 64), and not number, first_name or last_name")
    return key


def update_contact(session: Session, contact: Contact, *, first_name: str, last_name: str,
                   fields: dict[str, str], actor: str) -> Contact:
    """Change a contact's names and custom fields (an empty value removes a field).
    Raises UsageError naming the field that is wrong (``error.field``)."""
    first, last = first_name.strip(), last_name.strip()
    for label, key, value in (("first name", "first_name", first),
                              ("last name", "last_name", last)):
        if len(value) > MAX_NAME:
            raise FieldError(key, f"the {label} is longer than {MAX_NAME} characters")
    clean: dict[str, str] = {}
    for name, value in fields.items():
        try:
            key = check_field_name(name)
        except UsageError as exc:
            raise FieldError(f"field:{name}", str(exc)) from None
        value = value.strip()
        if len(value) > MAX_FIELD:
            raise FieldError(f"field:{name}",
                             f"{key} is longer than {MAX_FIELD} characters")
        if value:
            clean[key] = value
    contact.first_name, contact.last_name = first or None, last or None
    contact.fields = clean
    contact.updated_at = utcnow()
    session.add(ContactEvent(contact_id=contact.id, kind="edited", reason="edited by hand",
                             actor=actor))
    return contact


class FieldError(UsageError):
    """A wrong value of one field of a form: ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def delete_contact(session: Session, contact: Contact) -> None:
    """Delete a contact; its messages stay (their history and the reports keep them,
    without the contact). A blacklisted number stays blacklisted."""
    session.delete(contact)


# ----------------------------------------------------------------------------- lists


def _list_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise FieldError("name", "give the list a name")
    if len(name) > 200:
        raise FieldError("name", "a list's name has at most 200 characters")
    return name


def get_list_by_id(session: Session, list_id: int) -> ContactList:
    found = session.get(ContactList, list_id)
    if found is None:
        raise NotFoundError(f"there is no list {list_id}; the lists page shows them all")
    return found


def create_list(session: Session, name: str, description: str = "") -> ContactList:
    name = _list_name(name)
    if session.scalar(select(ContactList.id).where(ContactList.name == name)) is not None:
        raise FieldError("name", f"a list named {name!r} exists already")
    contact_list = ContactList(name=name, description=description.strip(),
                               created_at=utcnow())
    session.add(contact_list)
    session.flush()
    return contact_list


def rename_list(session: Session, list_id: int, name: str) -> ContactList:
    contact_list = get_list_by_id(session, list_id)
    name = _list_name(name)
    taken = session.scalar(select(ContactList.id).where(ContactList.name == name,
                                                        ContactList.id != list_id))
    if taken is not None:
        raise FieldError("name", f"a list named {name!r} exists already")
    contact_list.name = name
    return contact_list


def delete_list(session: Session, list_id: int) -> str:
    """Delete a list; its contacts stay in the address book (and in other lists).
    Campaigns keep their figures by list."""
    contact_list = get_list_by_id(session, list_id)
    name = contact_list.name
    session.execute(delete(ListMember).where(ListMember.list_id == list_id))
    session.delete(contact_list)
    return name


def add_to_list(session: Session, list_id: int, number: str,
                default_region: str | None) -> tuple[Contact, bool]:
    """Put the contact of ``number`` in a list (the contact is created when new);
    returns (contact, added) — False when it was in the list already."""
    get_list_by_id(session, list_id)
    e164 = numbers.normalize(number, default_region)
    contact = session.scalar(select(Contact).where(Contact.number == e164))
    if contact is None:
        from smscope.contacts.blacklist import is_blacklisted

        blacklisted = is_blacklisted(session, e164)
        contact = Contact(number=e164, region=numbers.region_of(e164), fields={},
                          state="blacklisted" if blacklisted else "active",
                          state_reason="on the blacklist" if blacklisted else None,
                          state_changed_at=utcnow() if blacklisted else None)
        session.add(contact)
        session.flush()
    added = session.execute(
        insert_ignore(session, ListMember, ["list_id", "contact_id"]).returning(
            ListMember.contact_id),
        {"list_id": list_id, "contact_id": contact.id, "added_at": utcnow()}).first()
    return contact, added is not None


def remove_from_list(session: Session, list_id: int, contact_id: int, *,
                     actor: str) -> bool:
    """Take a contact out of a list by hand (logged); False when it was not in it."""
    removed = session.execute(delete(ListMember).where(
        ListMember.list_id == list_id, ListMember.contact_id == contact_id)
        .returning(ListMember.contact_id)).first()
    if removed is None:
        return False
    session.add(ContactEvent(contact_id=contact_id, kind="left_list", list_id=list_id,
                             reason="removed by hand", actor=actor,
                             restored_at=None))
    return True
