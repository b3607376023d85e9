"""The address book: contacts, lists, and the reversible hygiene log.

State changes of a contact (``active`` / ``invalid`` / ``blacklisted``) always say why
and when, and write a :class:`~smscope.db.tables.ContactEvent`; removals from lists by
hygiene are logged so that ``smscope contacts restore`` can undo them.
"""

from __future__ import annotations

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
