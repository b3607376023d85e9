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
from smscope.contacts.importer import ImportResult, StartedImport, import_contacts, start_import

__all__ = [
    "ImportResult",
    "StartedImport",
    "blacklist",
    "get_list",
    "get_or_create_list",
    "import_contacts",
    "list_contacts",
    "lists_summary",
    "mark_invalid",
    "restore",
    "set_state",
    "start_import",
]
