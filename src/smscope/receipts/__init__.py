"""SMPP delivery receipts: parse the text, match its id, map its status.

* :func:`parse_receipt` turns a receipt text (SMPP 3.4 Appendix B and the usual
  vendor variations) into a :class:`Receipt` of raw strings.
* :mod:`smscope.receipts.ids` matches a receipt id with the id a submit returned,
  across hex/decimal renderings and leading zeros.
* :class:`StatusMapping` turns ``stat`` + ``err`` (+ the ``network_error_code`` TLV)
  into a canonical :class:`~smscope.statuses.Status`, overridable per connector.
* :meth:`Receipt.from_pdu` reads a receipt from an SMPP ``deliver_sm``/``data_sm``
  (text, ``message_payload`` and TLVs together; the TLVs win).
"""

from __future__ import annotations

from smscope.receipts.ids import ID_MODES, id_keys, ids_match, index_key, lookup_keys
from smscope.receipts.mapping import DEFAULT_MAPPING, StatusMapping, canonical_stat
from smscope.receipts.parser import Receipt, parse_receipt

__all__ = [
    "DEFAULT_MAPPING",
    "ID_MODES",
    "Receipt",
    "StatusMapping",
    "canonical_stat",
    "id_keys",
    "ids_match",
    "index_key",
    "lookup_keys",
    "parse_receipt",
]
