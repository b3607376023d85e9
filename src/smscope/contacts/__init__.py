"""Address book: contacts, lists, CSV import, blacklist, hygiene log."""

from smscope.contacts import blacklist
from smscope.contacts.book import (
    get_list,
    get_or_create_list,
    list_contacts,
    lists_summary,
    mark_invalid,
    restore,
    set_state,
)
from smscope.contacts.importer import ImportResult, import_contacts

__all__ = [
    "ImportResult",
    "blacklist",
    "get_list",
    "get_or_create_list",
    "import_contacts",
    "list_contacts",
    "lists_summary",
    "mark_invalid",
    "restore",
    "set_state",
]
