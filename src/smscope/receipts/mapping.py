"""From a receipt's ``stat`` + ``err`` (+ ``network_error_code`` TLV) to a :class:`Status`.

Precedence of :meth:`StatusMapping.map`, first that answers wins:

1. a connector override for ``STAT:ERR`` (exact stat and error code);
2. a connector override for ``STAT`` (``STAT`` and ``STAT:*`` mean the same);
3. for a failed message (``UNDELIV``, ``REJECTD``): the default table by the
   ``network_error_code`` TLV when its network type is GSM (3);
4. for a failed message: the default table by ``err``;
5. the default table by ``stat``;
6. :attr:`Status.UNDEFINED`.

Error codes are read only for ``UNDELIV`` and ``REJECTD``: a delivered, expired or
in-progress message has its status from ``stat`` alone, because SMSCs put anything
in ``err`` for those (receipts like ``stat:DELIVRD err:012`` are common).

``stat`` matching is case-insensitive and accepts the long spellings
(``DELIVERED``, ``UNDELIVERABLE``, ``REJECTED``…) and the numeric ``message_state``
values 1–9 (SMPP 3.4 §5.2.28, 9 = SKIPPED from SMPP 5.0).

``err`` is read as a decimal number when it has only digits (``"001"``, ``"27"``),
as hex when it has hex letters or a ``0x`` prefix (``"00B"``, ``"0x0000000B"``),
and not at all otherwise. The numbers are GSM MAP error codes (3GPP TS 29.002
§17.6.6), which is what most SMSCs in front of a GSM network report, in 3-digit
decimal; a few codes of 3GPP TS 23.040 (TP-Failure-Cause) are added where they do
not clash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from smscope.statuses import Status

__all__ = [
    "DEFAULT_BY_ERR",
    "DEFAULT_BY_STAT",
    "DEFAULT_MAPPING",
    "FAILED_STATS",
    "NetworkError",
    "StatusMapping",
    "canonical_stat",
    "parse_error_code",
]

#: ``(network_type, error_code)`` as in the ``network_error_code`` TLV (0x0423):
#: type 1 = ANSI-136, 2 = IS-95, 3 = GSM; or the 3 raw bytes of the TLV value
NetworkError = tuple[int, int] | bytes

GSM_NETWORK = 3

# stat spellings → the 7-letter Appendix B form
_STAT_ALIASES: dict[str, str] = {
    "DELIVRD": "DELIVRD", "DELIVERED": "DELIVRD", "DELIVRED": "DELIVRD", "2": "DELIVRD",
    "UNDELIV": "UNDELIV", "UNDELIVERABLE": "UNDELIV", "UNDELIVERED": "UNDELIV",
    "UNDELIVRD": "UNDELIV", "5": "UNDELIV",
    "REJECTD": "REJECTD", "REJECTED": "REJECTD", "8": "REJECTD",
    "EXPIRED": "EXPIRED", "EXPIRD": "EXPIRED", "3": "EXPIRED",
    "DELETED": "DELETED", "DELETD": "DELETED", "4": "DELETED",
    "ACCEPTD": "ACCEPTD", "ACCEPTED": "ACCEPTD", "6": "ACCEPTD",
    "ENROUTE": "ENROUTE", "1": "ENROUTE",
    "UNKNOWN": "UNKNOWN", "7": "UNKNOWN",
    "SKIPPED": "SKIPPED", "9": "SKIPPED",
}

#: stats whose error code is read (the message failed; the code may say why)
FAILED_STATS = frozenset({"UNDELIV", "REJECTD"})

#: default status by canonical stat
DEFAULT_BY_STAT: Mapping[str, Status] = MappingProxyType({
    # delivered to the handset
    "DELIVRD": Status.RECEIVED,
    # failed, cause unknown (the error code, when known, says more)
    "UNDELIV": Status.OTHER_ERROR,
    # refused by the SMSC or the network (the error code may say more)
    "REJECTD": Status.REJECTED,
    # validity period elapsed before delivery
    "EXPIRED": Status.EXPIRED,
    # deleted by the SMSC (cancel_sm, operator action, purge): final, not delivered,
    # and not the subscriber's fault
    "DELETED": Status.OTHER_ERROR,
    # accepted / in transit: the operator has it, the handset not yet
    "ACCEPTD": Status.DELIVERED_TO_OPERATOR,
    "ENROUTE": Status.DELIVERED_TO_OPERATOR,
    # the SMSC does not know
    "UNKNOWN": Status.UNDEFINED,
    # SMPP 5.0: accepted but not transmitted on the network: final, cause unknown
    "SKIPPED": Status.OTHER_ERROR,
})

#: default status by error code (GSM MAP error codes unless said otherwise)
DEFAULT_BY_ERR: Mapping[int, Status] = MappingProxyType({
    # MAP 1 unknownSubscriber: no such number in the HLR
    1: Status.PERMANENT_ERROR_ABSENCE,
    # MAP 5 unidentifiedSubscriber: the VLR does not know the subscriber
    5: Status.PERMANENT_ERROR_ABSENCE,
    # MAP 6 absentSubscriberSM: handset off or out of coverage, for SMS
    6: Status.TEMPORARY_ERROR_ABSENCE,
    # MAP 9 illegalSubscriber: authentication failed
    9: Status.PERMANENT_ERROR_PHONE,
    # MAP 11 teleserviceNotProvisioned: the subscription has no SMS
    11: Status.PERMANENT_ERROR_PHONE,
    # MAP 12 illegalEquipment: the handset (IMEI) is barred
    12: Status.PERMANENT_ERROR_PHONE,
    # MAP 13 callBarred: barring (operator, subscriber or roaming)
    13: Status.REJECTED,
    # MAP 21 facilityNotSupported: the visited network does not support it
    21: Status.REJECTED,
    # MAP 27 absentSubscriber: handset off or out of coverage
    27: Status.TEMPORARY_ERROR_ABSENCE,
    # MAP 31 subscriberBusyForMT-SMS: the handset is busy with another SMS
    31: Status.TEMPORARY_ERROR_PHONE,
    # MAP 32 sm-DeliveryFailure: the handset refused or failed; its usual causes
    # (memoryCapacityExceeded, equipmentProtocolError) are the phone's, and pass
    32: Status.TEMPORARY_ERROR_PHONE,
    # MAP 33 messageWaitingListFull: subscriber absent and the HLR's waiting list full
    33: Status.TEMPORARY_ERROR_ABSENCE,
    # MAP 34 systemFailure: a network node failed
    34: Status.TEMPORARY_ERROR_OPERATOR,
    # MAP 35 dataMissing / 36 unexpectedDataValue: protocol errors between nodes
    35: Status.OTHER_ERROR,
    36: Status.OTHER_ERROR,
    # TS 23.040 TP-FCS 0xD0 (U)SIM SMS storage full
    0xD0: Status.TEMPORARY_ERROR_PHONE,
    # TS 23.040 TP-FCS 0xD3 memory capacity exceeded
    0xD3: Status.TEMPORARY_ERROR_PHONE,
})

_MAX_CODE_DIGITS = 10
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def canonical_stat(stat: str | None) -> str:
    """The Appendix B spelling of a stat (``delivered`` → ``DELIVRD``), else uppercased."""
    value = (stat or "").strip().upper()
    if value.isascii() and value.isdigit() and len(value) <= 3:
        value = str(int(value))
    return _STAT_ALIASES.get(value, value)


def parse_error_code(err: str | None) -> int | None:
    """The number in an ``err`` field (decimal if digits only, else hex), or ``None``."""
    value = (err or "").strip()
    if value[:2] in ("0x", "0X"):
        value = value[2:]
        digits_only = False
    else:
        digits_only = value.isascii() and value.isdigit()
    if not value or len(value) > _MAX_CODE_DIGITS or not set(value) <= _HEX_DIGITS:
        return None
    return int(value, 10 if digits_only else 16)


def _gsm_code(network_error: NetworkError | None) -> int | None:
    if network_error is None:
        return None
    if isinstance(network_error, bytes | bytearray):
        if len(network_error) != 3:
            return None
        net_type = network_error[0]
        code = int.from_bytes(network_error[1:3], "big")
    else:
        net_type, code = network_error
    return code if net_type == GSM_NETWORK else None


def _override_err(err: str) -> int | str:
    code = parse_error_code(err)
    return code if code is not None else err.strip().upper()


def _to_status(key: str, value: Status | str) -> Status:
    if isinstance(value, Status):
        return value
    try:
        return Status(str(value).strip().lower())
    except ValueError:
        raise ValueError(
            f"receipt mapping {key!r}: unknown status {value!r}"
            f" (one of: {', '.join(s.value for s in Status)})"
        ) from None


@dataclass(frozen=True)
class StatusMapping:
    """The receipt → status table of one connector: defaults plus its overrides."""

    by_stat_err: Mapping[tuple[str, int | str], Status] = field(
        default_factory=lambda: MappingProxyType({})
    )
    by_stat: Mapping[str, Status] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Status | str]) -> StatusMapping:
        """Build a mapping from ``{"STAT": status, "STAT:ERR": status, "STAT:*": status}``.

        Stats are matched like receipts' (``UNDELIVERABLE`` = ``UNDELIV`` = ``5``);
        error codes numerically (``UNDELIV:001`` = ``UNDELIV:1``). A malformed key, a
        key given twice, or an unknown status raises :class:`ValueError` naming it.
        """
        by_stat_err: dict[tuple[str, int | str], Status] = {}
        by_stat: dict[str, Status] = {}
        for key, value in overrides.items():
            if not isinstance(key, str):
                raise ValueError(f"receipt mapping key {key!r} is not a string")
            stat_part, sep, err_part = key.strip().partition(":")
            bad = (
                not stat_part.strip()
                or any(c.isspace() or c == ":" for c in stat_part.strip() + err_part.strip())
                or (sep and not err_part.strip())
            )
            if bad:
                raise ValueError(
                    f"receipt mapping key {key!r} is malformed: use 'STAT' or 'STAT:ERR'"
                )
            status = _to_status(key, value)
            stat = canonical_stat(stat_part)
            err = err_part.strip()
            if not sep or err == "*":
                if stat in by_stat:
                    raise ValueError(f"receipt mapping key {key!r} repeats stat {stat}")
                by_stat[stat] = status
            else:
                err_key = (stat, _override_err(err))
                if err_key in by_stat_err:
                    raise ValueError(f"receipt mapping key {key!r} is given twice")
                by_stat_err[err_key] = status
        return cls(MappingProxyType(by_stat_err), MappingProxyType(by_stat))

    def override(self, stat: str | None, err: str | None = None) -> Status | None:
        """The connector's own override for ``stat`` + ``err``, if it has one (what
        an HTTP provider's table yields to)."""
        if not self.by_stat_err and not self.by_stat:
            return None
        canon = canonical_stat(stat)
        if err is not None and err.strip():
            found = self.by_stat_err.get((canon, _override_err(err)))
            if found is not None:
                return found
        return self.by_stat.get(canon)

    def map(
        self,
        stat: str | None,
        err: str | None = None,
        network_error: NetworkError | None = None,
    ) -> Status:
        """The status of a message whose receipt says ``stat`` and ``err``."""
        canon = canonical_stat(stat)
        if err is not None and err.strip():
            found = self.by_stat_err.get((canon, _override_err(err)))
            if found is not None:
                return found
        found = self.by_stat.get(canon)
        if found is not None:
            return found
        if canon in FAILED_STATS:
            for code in (_gsm_code(network_error), parse_error_code(err)):
                if code is not None and code in DEFAULT_BY_ERR:
                    return DEFAULT_BY_ERR[code]
        return DEFAULT_BY_STAT.get(canon, Status.UNDEFINED)


#: the mapping with no overrides
DEFAULT_MAPPING = StatusMapping()
