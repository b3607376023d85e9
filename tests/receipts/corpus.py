"""Real-world delivery receipt texts, each with where it was published.

Each entry is ``(source, raw, expected)``: ``raw`` is the receipt as published
(``str``, or ``bytes`` when it was given as the bytes of a PDU) and ``expected`` the
fields :func:`~smscope.receipts.parse_receipt` must return for it (the fields not
listed are checked only where a test says so).
"""

from __future__ import annotations

from typing import Any

CORPUS: list[tuple[str, str | bytes, dict[str, Any]]] = [
    # SMPP v3.4 specification, Appendix B "Delivery Receipt Format" (the template itself)
    (
        "SMPP 3.4 spec, Appendix B",
        "id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm "
        "stat:DDDDDDD err:E Text: . . . . . . . . .",
        {"id": "IIIIIIIIII", "sub": "SSS", "dlvrd": "DDD", "submit_date": "YYMMDDhhmm",
         "done_date": "YYMMDDhhmm", "stat": "DDDDDDD", "err": "E",
         "text": " . . . . . . . . ."},
    ),
    # jsmpp: jsmpp/src/test/java/org/jsmpp/util/DeliveryReceiptParserTest.java
    # (parseTextWithLowerCase)
    (
        "jsmpp DeliveryReceiptParserTest.parseTextWithLowerCase",
        "id:0123456789 sub:001 dlvrd:001 submit date:0809011130 done date:0809011131 "
        "stat:DELIVRD err:000 text:testing jsmpp bow",
        {"id": "0123456789", "stat": "DELIVRD", "err": "000", "submit_date": "0809011130",
         "done_date": "0809011131", "text": "testing jsmpp bow"},
    ),
    # jsmpp: same file, parsingTextWithUpperCase
    (
        "jsmpp DeliveryReceiptParserTest.parsingTextWithUpperCase",
        "id:0123456789 sub:001 dlvrd:001 submit date:0809011130 done date:0809011131 "
        "stat:DELIVRD err:000 Text:testing jsmpp bow",
        {"id": "0123456789", "stat": "DELIVRD", "text": "testing jsmpp bow"},
    ),
    # jsmpp: same file, parseWithNoTextAttribute (message words without a "text:" key)
    (
        "jsmpp DeliveryReceiptParserTest.parseWithNoTextAttribute",
        "id:0123456789 sub:001 dlvrd:001 submit date:0809011130 done date:0809011131 "
        "stat:DELIVRD err:000 testing jsmpp bow",
        {"id": "0123456789", "stat": "DELIVRD", "err": "000", "text": None},
    ),
    # Cloudhopper SMPP: src/test/java/com/cloudhopper/smpp/util/DeliveryReceiptTest.java
    # (toShortMessage: what cloudhopper itself generates)
    (
        "cloudhopper-smpp DeliveryReceiptTest.toShortMessage",
        "id:0123456789 sub:001 dlvrd:001 submit date:1005232039 done date:1005242339 "
        "stat:DELIVRD err:012 text:This is a sample mes",
        {"id": "0123456789", "sub": "001", "dlvrd": "001", "stat": "DELIVRD", "err": "012",
         "text": "This is a sample mes"},
    ),
    # Cloudhopper SMPP: same file, parseShortMessage (sub 002)
    (
        "cloudhopper-smpp DeliveryReceiptTest.parseShortMessage",
        "id:0123456789 sub:002 dlvrd:001 submit date:1005232039 done date:1005242339 "
        "stat:DELIVRD err:012 text:This is a sample mes",
        {"id": "0123456789", "sub": "002", "dlvrd": "001", "stat": "DELIVRD"},
    ),
    # Cloudhopper SMPP: same file, "example receipt from smsc simulator"
    (
        "cloudhopper-smpp DeliveryReceiptTest.parseShortMessage (smsc simulator)",
        "id:4 sub:001 dlvrd:001 submit date:1006020051 done date:1006020051 stat:DELIVRD "
        "err:000 Text:Hello",
        {"id": "4", "stat": "DELIVRD", "err": "000", "text": "Hello"},
    ),
    # Cloudhopper SMPP: same file, parseRealWorldReceipt0 (short_message of a real PDU,
    # decoded as ISO-8859-1; the text holds a colon)
    (
        "cloudhopper-smpp DeliveryReceiptTest.parseRealWorldReceipt0",
        b"id:0059113978 sub:001 dlvrd:001 submit date:1002101730 done date:1002101731 "
        b"stat:DELIVRD err:000 text:@$#!%&/:",
        {"id": "0059113978", "stat": "DELIVRD", "submit_date": "1002101730",
         "done_date": "1002101731", "text": "@$#!%&/:"},
    ),
    # Cloudhopper SMPP: same file, parseReceiptWithTimestampIncludingSeconds (UUID id,
    # 12-digit dates, empty text)
    (
        "cloudhopper-smpp DeliveryReceiptTest.parseReceiptWithTimestampIncludingSeconds",
        "id:74e02ee1-4e2f-4a6e-a78b-4b247d756a22 sub:001 dlvrd:001 submit date:110206193041 "
        "done date:110206193110 stat:DELIVRD err:000 text:",
        {"id": "74e02ee1-4e2f-4a6e-a78b-4b247d756a22", "submit_date": "110206193041",
         "done_date": "110206193110", "stat": "DELIVRD", "text": ""},
    ),
    # Cloudhopper SMPP: same file, parseReceiptWithFieldsOutOfOrder
    (
        "cloudhopper-smpp DeliveryReceiptTest.parseReceiptWithFieldsOutOfOrder",
        "sub:001 id:74e02ee1-4e2f-4a6e-a78b-4b247d756a22 err:000 dlvrd:001 "
        "done date:110206193110 submit date:110206193041 text: stat:DELIVRD",
        {"id": "74e02ee1-4e2f-4a6e-a78b-4b247d756a22", "sub": "001", "dlvrd": "001",
         "err": "000", "submit_date": "110206193041", "done_date": "110206193110",
         "stat": "DELIVRD", "text": ""},
    ),
    # Cloudhopper SMPP: same file, parseShortMessageWith11DigitLongMessageId
    (
        "cloudhopper-smpp DeliveryReceiptTest.parseShortMessageWith11DigitLongMessageId",
        "id:98765432101 sub:000 dlvrd:000 submit date:1001010000 done date:1001010000 "
        "stat:ENROUTE err:000 text:",
        {"id": "98765432101", "stat": "ENROUTE", "sub": "000", "dlvrd": "000"},
    ),
    # Cloudhopper SMPP: same file, parseReceiptWithMissingSubAndDlvrdFields (14-digit
    # dates, no sub/dlvrd, no text, 1-digit err)
    (
        "cloudhopper-smpp DeliveryReceiptTest.parseReceiptWithMissingSubAndDlvrdFields",
        "id:2E179B310EDE971B2760C72B7F026E1B submit date:20110314181534 "
        "done date:20110314181741 stat:DELIVRD err:0",
        {"id": "2E179B310EDE971B2760C72B7F026E1B", "sub": None, "dlvrd": None,
         "submit_date": "20110314181534", "done_date": "20110314181741",
         "stat": "DELIVRD", "err": "0", "text": None},
    ),
    # Cloudhopper SMPP: same file, toShortMessageWith9DigitLongMessageId (unset fields)
    (
        "cloudhopper-smpp DeliveryReceiptTest.toShortMessageWith9DigitLongMessageId",
        "id:0123456789 sub:000 dlvrd:000 submit date:0000000000 done date:0000000000 "
        "stat:BADSTAT err:000 text:",
        {"id": "0123456789", "stat": "BADSTAT", "text": ""},
    ),
    # Bulat Nigmatullin's Java SMPP library: SmscDeliveryReceiptTest.test1
    # (package org.bulatnig.smpp.pdu.impl)
    (
        "bulatnig smpp SmscDeliveryReceiptTest.test1",
        b"id:c449ab9744f47b6af1879e49e75e4f40 sub:001 dlvrd:0 submit date:0610191018 "
        b"done date:0610191018 stat:ACCEPTD err:0 text:This is an Acti",
        {"id": "c449ab9744f47b6af1879e49e75e4f40", "dlvrd": "0", "stat": "ACCEPTD",
         "err": "0", "text": "This is an Acti"},
    ),
    # same file, test2
    (
        "bulatnig smpp SmscDeliveryReceiptTest.test2",
        b"id:7220bb6bd0be98fa628de66590f80070 sub:001 dlvrd:1 submit date:0610190851 "
        b"done date:0610190951 stat:DELIVRD err:0 text:This is an Acti",
        {"id": "7220bb6bd0be98fa628de66590f80070", "dlvrd": "1", "stat": "DELIVRD"},
    ),
    # same file, test3
    (
        "bulatnig smpp SmscDeliveryReceiptTest.test3",
        b"id:b756c4f97aa2e1e67377dffc5e2f7d9b sub:001 dlvrd:0 submit date:0610191211 "
        b"done date:0610191211 stat:REJECTD err:1 text:This is an Acti",
        {"id": "b756c4f97aa2e1e67377dffc5e2f7d9b", "stat": "REJECTD", "err": "1"},
    ),
    # same file, test4
    (
        "bulatnig smpp SmscDeliveryReceiptTest.test4",
        b"id:bd778cd76ae9e79da2ddc8188c68f8c1 sub:001 dlvrd:0 submit date:0610191533 "
        b"done date:0610191539 stat:UNDELIV err:1 text:This is an Acti",
        {"id": "bd778cd76ae9e79da2ddc8188c68f8c1", "stat": "UNDELIV", "err": "1",
         "done_date": "0610191539"},
    ),
    # same file, test5
    (
        "bulatnig smpp SmscDeliveryReceiptTest.test5",
        b"id:1661543146 sub:001 dlvrd:001 submit date:1101261110 done date:1101261110 "
        b"stat:DELIVRD err:000 text:Hello, how are you?",
        {"id": "1661543146", "stat": "DELIVRD", "text": "Hello, how are you?"},
    ),
    # Jasmin SMS gateway: jasmin/vendor/smpp/pdu/tests/test_pdu_encoding.py
    # (a deliver_sm receipt whose short_message ends with a NUL)
    (
        "jasmin test_pdu_encoding.py",
        b"id:1891273321 sub:001 dlvrd:001 submit date:1305050826 done date:1305050826 "
        b"stat:DELIVRD err:000 Text:DLVRD TO MOBILE\x00",
        {"id": "1891273321", "stat": "DELIVRD", "err": "000", "text": "DLVRD TO MOBILE"},
    ),
    # Adobe Campaign Classic documentation, "SMS connector protocol and settings",
    # SR text field format (Appendix B example)
    (
        "Adobe Campaign Classic docs, SMS connector protocol and settings",
        "id:1234567890 sub:001 dlvrd:001 submit date:1608011415 done date:1608011417 "
        "stat:DELIVRD err:000 Text:Hello Adobe world",
        {"id": "1234567890", "stat": "DELIVRD", "submit_date": "1608011415",
         "done_date": "1608011417", "text": "Hello Adobe world"},
    ),
    # sms-stream (blinohod/sms-stream): sms-stream/sbin/hlr-recv.fcgi, comment
    # "DLR body (successful)": an HLR-lookup receipt through Kannel, vendor fields, no text
    (
        "sms-stream hlr-recv.fcgi (successful)",
        "id:40072910491427628 sub:001 dlvrd:001 submit date:1007291049 "
        "done date:1007291049 stat:DELIVRD err:000 IMSI:219101100935850 MSC:38591016 "
        "HLR:38591xxxxxxx ORN:VipNet PON:VipNet RON:VipNet ROC:HR MCCMNC:21910",
        {"id": "40072910491427628", "stat": "DELIVRD", "err": "000", "text": None,
         "extra": {"IMSI": "219101100935850", "MSC": "38591016", "HLR": "38591xxxxxxx",
                   "ORN": "VipNet", "PON": "VipNet", "RON": "VipNet", "ROC": "HR",
                   "MCCMNC": "21910"}},
    ),
    # same file, comment "DLR body (error)": empty vendor fields
    (
        "sms-stream hlr-recv.fcgi (error)",
        "id:40072910491419819 sub:001 dlvrd:001 submit date:1007291049 "
        "done date:1007291049 stat:UNDELIV err:001 IMSI: MSC: ORN:VipNet MCCMNC:",
        {"id": "40072910491419819", "stat": "UNDELIV", "err": "001",
         "extra": {"IMSI": "", "MSC": "", "ORN": "VipNet", "MCCMNC": ""}},
    ),
    # RestComm SMSC gateway: core/smsc-common-library/src/test/java/org/mobicents/smsc/
    # library/ParseDeliveryReceiptTest.java (msg)
    (
        "RestComm smscgateway ParseDeliveryReceiptTest (msg)",
        "id:0512249005 sub:001 dlvrd:000 submit date:1609051327 done date:1609051337 "
        "stat:ENROUTE err:054 text:xxssxx",
        {"id": "0512249005", "dlvrd": "000", "stat": "ENROUTE", "err": "054",
         "text": "xxssxx"},
    ),
    # same file (msg2: empty text)
    (
        "RestComm smscgateway ParseDeliveryReceiptTest (msg2)",
        "id:0512249005 sub:001 dlvrd:000 submit date:1609051327 done date:1609051337 "
        "stat:ENROUTE err:054 text:",
        {"id": "0512249005", "stat": "ENROUTE", "text": ""},
    ),
    # python-smpplib: tests/test_command.py, test_parse_deliver_sm (the receipt is in the
    # message_payload TLV; its text is UCS-2 bytes)
    (
        "python-smpplib tests/test_command.py",
        b"id:0489708364 sub:001 dlvrd:001 submit date:1810151907 done date:1810151907 "
        b"stat:DELIVRD err:000 text:\x04\x1f\x04@\x048\x042\x045\x04B",
        {"id": "0489708364", "stat": "DELIVRD", "err": "000",
         "text": "\x04\x1f\x04@\x048\x042\x045\x04B"},
    ),
    # Restcomm-Connect: restcomm/restcomm.sms/src/test/java/org/restcomm/connect/sms/smpp/
    # dlr/provider/TelestaxDlrParserTest.java (trailing blanks in the text)
    (
        "Restcomm-Connect TelestaxDlrParserTest.parseDLRMessageTest",
        "id:0000058049 sub:001 dlvrd:001 submit date:1805170144 done date:1805170144 "
        "stat:DELIVRD err:000 text:none                ",
        {"id": "0000058049", "stat": "DELIVRD", "text": "none                "},
    ),
]
