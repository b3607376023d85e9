"""CSV import into a list: every row accounted for, nothing valid lost, bad rows explained.

Every test runs on SQLite and on PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

import codecs
import itertools
import random
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from smscope.contacts import blacklist, importer
from smscope.contacts.book import lists_summary
from smscope.contacts.importer import ImportResult
from smscope.csvio import neutralise
from smscope.db import Database
from smscope.db.tables import Contact, ContactList, Import, ImportReject, ListMember
from smscope.errors import ImportFileError
from tests.contacts.helpers import (
    contacts,
    csv_text,
    e164,
    members,
    mobile,
    read_csv,
    run_import,
    total,
    write,
    write_rows,
)


def rejects_of(db: Database, import_id: int) -> list[ImportReject]:
    with db.session() as session:
        return list(session.scalars(select(ImportReject).where(ImportReject.import_id == import_id)
                                    .order_by(ImportReject.row_number)))


def import_record(db: Database, import_id: int) -> Import:
    with db.session() as session:
        record = session.get(Import, import_id)
        assert record is not None
        return record


# --------------------------------------------------------------------- the usual case


def test_import_creates_contacts_in_the_list_with_names_and_custom_fields(
        db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [
        ["phone", "first_name", "last_name", "city"],
        [mobile(1), "Zoé", "Durand", "Lyon"],
        [mobile(2), "Éric", "", ""],
    ])
    result = run_import(db, path, "customers")
    assert (result.rows, result.imported, result.updated, result.duplicates, result.invalid) == (
        2, 2, 0, 0, 0)
    assert result.to_json() == {"list": "customers", "rows": 2, "imported": 2, "updated": 0,
                                "duplicates": 0, "invalid": 0}
    found = contacts(db)
    zoe = found[e164(1)]
    assert (zoe.first_name, zoe.last_name, zoe.fields, zoe.region, zoe.state) == (
        "Zoé", "Durand", {"city": "Lyon"}, "FR", "active")
    eric = found[e164(2)]
    # Empty cells are not stored: no empty names, no empty custom fields.
    assert (eric.first_name, eric.last_name, eric.fields) == ("Éric", None, {})
    assert members(db, "customers") == [e164(1), e164(2)]
    record = import_record(db, result.import_id)
    assert (record.state, record.rows, record.imported, record.finished_at is not None) == (
        "done", 2, 2, True)


def test_list_name_is_trimmed_and_an_empty_one_refused(db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone"], [mobile(1)]])
    assert run_import(db, path, "  vip  ").list_name == "vip"
    with pytest.raises(ImportFileError, match="--list"):
        run_import(db, path, "   ")


@pytest.mark.parametrize("written", ["+33 6 10 00 00 07", "0033610000007", "06.10.00.00.07",
                                     "06-10-00-00-07", "'+33610000007", " 0610000007 ",
                                     "+33 (0)6 10 00 00 07", "06\u00a010\u00a000\u00a000\u00a007"])
def test_numbers_are_stored_in_e164_whatever_the_spelling(db: Database, tmp_path: Path,
                                                          written: str) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone"], [written]])
    result = run_import(db, path)
    assert result.imported == 1, result.reasons
    assert list(contacts(db)) == [e164(7)]


def test_foreign_number_with_country_code_is_imported_with_its_region(
        db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone"], ["+44 7400 123456"], ["+32 470 12 34 56"]])
    assert run_import(db, path).imported == 2
    assert {n: c.region for n, c in contacts(db).items()} == {
        "+447400123456": "GB", "+32470123456": "BE"}


# --------------------------------------------------------------------- bad numbers


@pytest.mark.parametrize(("number", "code"), [
    ("+", "not_a_number"),
    ("00", "not_a_number"),
    ("123", "invalid"),
    ("06 12 AB 56 78", "not_a_number"),
    ("abc", "not_a_number"),
    ("📱 06 12 34 56 78", "not_a_number"),
    ("06 12 34 56 78 😀", "not_a_number"),
    ("0612345678 ext. 12", "not_a_number"),
    ("01 23 45 67 89", "line_type"),  # a French fixed line cannot receive SMS
    ("061234567890123456789", "invalid"),
    ("=HYPERLINK(\"http://x\")", "not_a_number"),
])
def test_row_with_a_bad_number_is_invalid_with_reason(db: Database, tmp_path: Path,
                                                      number: str, code: str) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone", "name"], [mobile(1), "ok"], [number, "x"],
                                           [mobile(2), "ok too"]])
    result = run_import(db, path, rejects=tmp_path / "rejects.csv")
    assert (result.rows, result.imported, result.invalid) == (3, 2, 1)
    assert result.reasons == {code: 1}
    [reject] = rejects_of(db, result.import_id)
    assert (reject.row_number, reject.outcome) == (3, "invalid")
    assert reject.reason  # a sentence for people
    assert reject.cells == {"values": [number, "x"]}
    _, rows = read_csv(tmp_path / "rejects.csv")
    assert rows[0] == ["phone", "name", "reason"]
    assert len(rows) == 2
    # The reason is neutralised like any cell ("+33 1 …" would be a formula).
    assert rows[1][2] == neutralise(reject.reason)


def test_row_with_letters_in_number_is_invalid_with_reason(db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone"], ["06 12 34 5G 78"]])
    result = run_import(db, path)
    [reject] = rejects_of(db, result.import_id)
    assert "'G'" in reject.reason and "not allowed" in reject.reason


def test_national_number_without_default_region_is_invalid_and_says_how_to_fix(
        db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone"], ["06 12 34 56 78"], ["+33612345679"]])
    result = run_import(db, path, default_region=None)
    assert (result.imported, result.invalid, result.reasons) == (1, 1, {"no_region": 1})
    assert "default_region" in rejects_of(db, result.import_id)[0].reason


@pytest.mark.parametrize("cell", ["", "   ", "'"])
def test_row_with_an_empty_number_cell_is_invalid(db: Database, tmp_path: Path,
                                                  cell: str) -> None:
    path = write_rows(tmp_path / "c.csv", [["name", "phone"], ["Zoé", cell], ["Éric", mobile(1)]])
    result = run_import(db, path)
    assert (result.rows, result.imported, result.invalid) == (2, 1, 1)


# --------------------------------------------------------------------- row shapes


def test_row_with_too_many_columns_is_invalid_and_the_valid_rows_are_imported(
        db: Database, tmp_path: Path) -> None:
    text = ("name,phone\n"
            "Dupont, Jean,06 10 00 00 01\n"  # unquoted comma: every column shifted
            "Zoé,06 10 00 00 02\n")
    result = run_import(db, write(tmp_path / "c.csv", text), rejects=tmp_path / "r.csv")
    assert (result.rows, result.imported, result.invalid) == (2, 1, 1)
    assert result.reasons == {"columns": 1}
    [reject] = rejects_of(db, result.import_id)
    assert "3 columns" in reject.reason and "header has 2" in reject.reason
    # The rejects file keeps every original cell, including those beyond the header.
    _, rows = read_csv(tmp_path / "r.csv")
    assert rows == [["name", "phone", "reason"],
                    ["Dupont", " Jean", reject.reason, "06 10 00 00 01"]]


def test_trailing_empty_cells_beyond_the_header_are_harmless(db: Database,
                                                            tmp_path: Path) -> None:
    text = "phone,name\n06 10 00 00 01,Zoé,,\n06 10 00 00 02,Éric, , \n"
    result = run_import(db, write(tmp_path / "c.csv", text))
    assert result.imported == 2


def test_row_with_too_few_columns_is_imported_when_it_has_the_number(
        db: Database, tmp_path: Path) -> None:
    text = "phone,first_name,last_name,city\n06 10 00 00 01\n06 10 00 00 02,Zoé\n"
    result = run_import(db, write(tmp_path / "c.csv", text))
    assert result.imported == 2
    assert contacts(db)[e164(2)].first_name == "Zoé"


def test_row_with_too_few_columns_to_reach_the_number_is_invalid(db: Database,
                                                                 tmp_path: Path) -> None:
    text = "first_name,last_name,phone\nZoé\nÉric,Durand,06 10 00 00 02\n"
    result = run_import(db, write(tmp_path / "c.csv", text))
    assert (result.imported, result.invalid) == (1, 1)
    assert rejects_of(db, result.import_id)[0].reason == "no phone number in this row"


def test_names_and_fields_over_the_length_limits_make_the_row_invalid(
        db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [
        ["phone", "first_name", "last_name", "note"],
        [mobile(1), "x" * 201, "", ""],
        [mobile(2), "", "y" * 201, ""],
        [mobile(3), "", "", "z" * 1001],
        [mobile(4), "x" * 200, "y" * 200, "z" * 1000],
    ])
    result = run_import(db, path)
    assert (result.imported, result.invalid, result.reasons) == (1, 3, {"too_long": 3})
    assert [r.reason for r in rejects_of(db, result.import_id)] == [
        "first name longer than 200 characters", "last name longer than 200 characters",
        "field 'note' longer than 1000 characters"]


def test_ten_megabyte_line_in_the_middle_is_one_invalid_row(db: Database,
                                                             tmp_path: Path) -> None:
    before = "".join(f"{mobile(i)};n{i}\n" for i in range(1, 26))
    after = "".join(f"{mobile(i)};n{i}\n" for i in range(26, 51))
    data = ("phone;name\n" + before).encode() + f"{mobile(99)};".encode() + b"x" * 10_000_000 \
        + b"\n" + after.encode()
    result = run_import(db, write(tmp_path / "big.csv", data), rejects=tmp_path / "r.csv")
    assert (result.rows, result.imported, result.invalid) == (51, 50, 1)
    assert result.reasons == {"unreadable": 1}
    [reject] = rejects_of(db, result.import_id)
    assert reject.row_number == 27
    assert "field larger than field limit" in reject.reason
    assert e164(99) not in contacts(db)
    assert members(db, "customers") == sorted(e164(i) for i in range(1, 51))
    _, rows = read_csv(tmp_path / "r.csv")
    assert rows[1] == ["", "", reject.reason]


def test_nul_bytes_do_not_stop_the_import(db: Database, tmp_path: Path) -> None:
    data = b"phone,first_name\n06 10 00\x00 00 01,Zo\x00\xc3\xa9\n\x00\x00\n06 10 00 00 02,b\n"
    result = run_import(db, write(tmp_path / "nul.csv", data))
    assert (result.rows, result.imported) == (2, 2)
    assert contacts(db)[e164(1)].first_name == "Zoé"


def test_unclosed_quote_does_not_swallow_the_rows_after_it(db: Database,
                                                           tmp_path: Path) -> None:
    text = (f"phone,first_name\n{mobile(1)},a\n{mobile(2)},\"Dupont\n"
            f"{mobile(3)},b\n{mobile(4)},c\n")
    result = run_import(db, write(tmp_path / "c.csv", text))
    assert result.rows == 4
    assert {e164(1), e164(3), e164(4)} <= set(members(db, "customers"))


# --------------------------------------------------------------------- file-level errors


def _no_import_happened(db: Database) -> None:
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Import)) == 0
        assert session.scalar(select(func.count()).select_from(ContactList)) == 0


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"),
    (b"", "is empty"),
    (b"\r\n\r\n", "is empty"),
    (random.Random(7).randbytes(10_000), "not a CSV file"),
    (b"PK\x03\x04" + bytes(100), "xlsx"),
    (b"Name,Email\nZoe,zoe@example.com\n", "no phone column"),
])
def test_file_level_problems_raise_one_clear_error_and_import_nothing(
        db: Database, tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        run_import(db, path)
    _no_import_happened(db)


def test_real_xlsx_workbook_is_refused(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "contacts.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<sheetData>" + "<row/>" * 1000)
    with pytest.raises(ImportFileError, match="Excel"):
        run_import(db, path)
    _no_import_happened(db)


def test_unknown_phone_column_override_names_the_columns(db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["Nom", "Mobile"], ["Zoé", mobile(1)]])
    with pytest.raises(ImportFileError, match="'Nom', 'Mobile'"):
        run_import(db, path, phone_column="GSM")
    _no_import_happened(db)


def test_unknown_map_column_names_the_columns(db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["Nom", "Mobile"], ["Zoé", mobile(1)]])
    with pytest.raises(ImportFileError, match="'Nom', 'Mobile'"):
        run_import(db, path, mapping=["Prénom=first_name"])
    _no_import_happened(db)


def test_unwritable_rejects_file_is_an_import_file_error(db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone"], [mobile(1)]])
    with pytest.raises(ImportFileError, match="rejects file"):
        run_import(db, path, rejects=tmp_path / "no such folder" / "r.csv")


def test_rejects_file_that_is_the_input_file_is_refused_before_touching_it(
        db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone"], [mobile(1)], ["bad"]])
    original = path.read_bytes()
    with pytest.raises(ImportFileError, match="rejects file"):
        run_import(db, path, rejects=tmp_path / "." / "c.csv")
    assert path.read_bytes() == original
    _no_import_happened(db)


def test_header_only_file_imports_nothing_and_creates_the_list(db: Database,
                                                               tmp_path: Path) -> None:
    result = run_import(db, write(tmp_path / "h.csv", "phone,first_name\r\n"), "empty-list")
    assert (result.rows, total(result)) == (0, 0)
    assert [item["name"] for item in lists_summary_of(db)] == ["empty-list"]
    assert import_record(db, result.import_id).state == "done"


def lists_summary_of(db: Database) -> list[dict[str, object]]:
    with db.session() as session:
        return lists_summary(session)


# --------------------------------------------------------------------- encodings and layout


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_any_delimiter_is_imported(db: Database, tmp_path: Path, delimiter: str) -> None:
    text = csv_text([["Prénom", "Téléphone", "Ville"], ["Zoé", mobile(1), "Lyon, FR"],
                     ["Éric", mobile(2), "Paris"]], delimiter)
    result = run_import(db, write(tmp_path / "c.csv", text))
    assert result.imported == 2
    assert contacts(db)[e164(1)].fields == {"ville": "Lyon, FR"}


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_line_endings_lf_crlf_and_cr_only_are_all_imported(db: Database, tmp_path: Path,
                                                           ending: str) -> None:
    text = ending.join(["phone,name", f"{mobile(1)},a", "", f"{mobile(2)},b", ""])
    result = run_import(db, write(tmp_path / "c.csv", text))
    assert (result.rows, result.imported) == (2, 2)


@pytest.mark.parametrize(("data", "first_name"), [
    (codecs.BOM_UTF8 + "téléphone;prénom\n06 10 00 00 01;Zoé\n".encode(), "Zoé"),
    ("téléphone;prénom\n06 10 00 00 01;Zoé €\n".encode("cp1252"), "Zoé €"),
    (b"t\xe9l\xe9phone;pr\xe9nom\n06 10 00 00 01;Z\xe9lie \x80\n", "Zélie €"),
    ("téléphone\tprénom\r\n06 10 00 00 01\tZoé 😀\r\n".encode("utf-16"), "Zoé 😀"),
    ("téléphone;prénom\n06 10 00 00 01;Zoé\n".encode("utf-16-be").join(
        [codecs.BOM_UTF16_BE, b""]), "Zoé"),
], ids=["utf8-bom", "cp1252", "cp1252-bytes", "utf16-le-bom", "utf16-be-bom"])
def test_encodings_utf8_bom_cp1252_and_utf16_keep_accents(
        db: Database, tmp_path: Path, data: bytes, first_name: str) -> None:
    result = run_import(db, write(tmp_path / "c.csv", data))
    assert result.imported == 1, result.reasons
    assert contacts(db)[e164(1)].first_name == first_name


def test_utf8_file_with_a_stray_latin1_line_keeps_every_name_right(db: Database,
                                                                  tmp_path: Path) -> None:
    data = ("phone,first_name\n" f"{mobile(1)},Zoé\n").encode() \
        + f"{mobile(2)},Hélène\n".encode("cp1252") + f"{mobile(3)},Chloé\n".encode()
    result = run_import(db, write(tmp_path / "c.csv", data))
    assert result.imported == 3
    assert [c.first_name for c in contacts(db).values()] == ["Zoé", "Hélène", "Chloé"]


def test_quoted_cells_with_delimiters_and_newlines_are_kept_whole(db: Database,
                                                                  tmp_path: Path) -> None:
    text = ('phone;first_name;address\r\n'
            f'{mobile(1)};"Jean; dit ""Jo""";"1 rue X\r\n75001 Paris"\r\n'
            f'{mobile(2)};Zoé;x\r\n')
    result = run_import(db, write(tmp_path / "c.csv", text))
    assert (result.rows, result.imported) == (2, 2)
    jean = contacts(db)[e164(1)]
    assert jean.first_name == 'Jean; dit "Jo"'
    assert jean.fields == {"address": "1 rue X\r\n75001 Paris"}


def test_one_leading_apostrophe_is_stripped_from_every_cell(db: Database,
                                                            tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone", "first_name", "note"],
                                           [f"'{e164(1)}", "'=Zoé", "''quoted"]])
    assert run_import(db, path).imported == 1
    zoe = contacts(db)[e164(1)]
    assert (zoe.first_name, zoe.fields) == ("=Zoé", {"note": "'quoted"})


# --------------------------------------------------------------------- header mapping


def test_french_header_with_accents_is_mapped_automatically(db: Database,
                                                           tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["Prénom", "Nom", "Téléphone portable", "Ville"],
                                           ["Zoé", "Durand", mobile(1), "Lyon"]], ";")
    assert run_import(db, path).imported == 1
    zoe = contacts(db)[e164(1)]
    assert (zoe.first_name, zoe.last_name, zoe.fields) == ("Zoé", "Durand", {"ville": "Lyon"})


def test_phone_column_and_map_overrides_are_applied(db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [
        ["Portable perso", "Mobile pro", "Qui", "Famille", "Notes", "Code"],
        [mobile(1), mobile(2), "Zoé", "Durand", "VIP", "secret"],
    ])
    result = run_import(db, path, phone_column="Portable perso",
                        mapping=["Qui=first_name", "Famille=last_name", "Notes=custom:tier",
                                 "code=ignore"])
    assert result.imported == 1
    [zoe] = contacts(db).values()
    assert zoe.number == e164(1)
    assert (zoe.first_name, zoe.last_name) == ("Zoé", "Durand")
    assert zoe.fields == {"mobile_pro": mobile(2), "tier": "VIP"}


def test_duplicate_header_names_become_distinct_custom_fields(db: Database,
                                                             tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone", "email", "email", "phone"],
                                           [mobile(1), "a@x", "b@x", mobile(2)]])
    assert run_import(db, path).imported == 1
    assert contacts(db)[e164(1)].fields == {"email": "a@x", "email_2": "b@x",
                                            "phone": mobile(2)}


# --------------------------------------------------------------------- duplicates, re-import


def test_same_number_twice_in_a_file_is_a_duplicate_whatever_its_spelling(
        db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [
        ["phone", "first_name"], [mobile(1), "first"], [e164(1), "second"],
        ["0033610000001", "third"], [mobile(2), "other"]])
    result = run_import(db, path, rejects=tmp_path / "r.csv")
    assert (result.rows, result.imported, result.duplicates, result.invalid) == (4, 2, 2, 0)
    assert contacts(db)[e164(1)].first_name == "first"
    dupes = rejects_of(db, result.import_id)
    assert [(r.row_number, r.outcome) for r in dupes] == [(3, "duplicate"), (4, "duplicate")]
    assert e164(1) in dupes[0].reason
    # The rejects file is for rows to fix: duplicates are not in it.
    assert read_csv(tmp_path / "r.csv")[1] == [["phone", "first_name", "reason"]]


def test_reimport_counts_updates_updates_names_and_merges_custom_fields(
        db: Database, tmp_path: Path) -> None:
    first = write_rows(tmp_path / "a.csv", [
        ["phone", "first_name", "last_name", "city", "tier"],
        [mobile(1), "Zoé", "Durand", "Lyon", "gold"],
        [mobile(2), "Éric", "Martin", "Paris", ""],
    ])
    run_import(db, first)
    second = write_rows(tmp_path / "b.csv", [
        ["phone", "first_name", "last_name", "city", "email"],
        [mobile(1), "Zoë", "", "Nice", "zoe@x"],  # empty last name: the old one is kept
        [mobile(2), "Éric", "Martin", "Paris", ""],  # unchanged: still counted as updated
        [mobile(3), "New", "", "", ""],
    ])
    result = run_import(db, second)
    assert (result.rows, result.imported, result.updated) == (3, 1, 2)
    zoe = contacts(db)[e164(1)]
    assert (zoe.first_name, zoe.last_name) == ("Zoë", "Durand")
    assert zoe.fields == {"city": "Nice", "tier": "gold", "email": "zoe@x"}
    assert members(db, "customers") == [e164(1), e164(2), e164(3)]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ListMember)) == 3
        assert session.scalar(select(func.count()).select_from(Contact)) == 3


def test_importing_the_same_file_twice_changes_nothing_but_the_counts(
        db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone", "first_name"], [mobile(1), "Zoé"],
                                           [mobile(2), "Éric"], ["bad", "x"]])
    run_import(db, path)
    before = {n: (c.first_name, c.fields) for n, c in contacts(db).items()}
    again = run_import(db, path)
    assert (again.imported, again.updated, again.invalid) == (0, 2, 1)
    assert {n: (c.first_name, c.fields) for n, c in contacts(db).items()} == before
    assert members(db, "customers") == [e164(1), e164(2)]


def test_importing_into_a_second_list_adds_membership_without_copying_contacts(
        db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone"], [mobile(1)], [mobile(2)]])
    run_import(db, path, "a")
    result = run_import(db, path, "b")
    assert (result.imported, result.updated) == (0, 2)
    assert members(db, "a") == members(db, "b") == [e164(1), e164(2)]
    assert len(contacts(db)) == 2


def test_blacklisted_number_is_imported_as_blacklisted(db: Database, tmp_path: Path) -> None:
    with db.transaction() as session:
        blacklist.add(session, e164(2), reason="STOP")
    path = write_rows(tmp_path / "c.csv", [["phone"], [mobile(1)], [mobile(2)]])
    result = run_import(db, path)
    assert result.imported == 2
    found = contacts(db)
    assert found[e164(1)].state == "active"
    assert found[e164(2)].state == "blacklisted"
    assert found[e164(2)].state_reason
    # Re-importing does not make it active again.
    run_import(db, path)
    assert contacts(db)[e164(2)].state == "blacklisted"


# --------------------------------------------------------------------- rejects file


def test_rejects_file_holds_header_reason_and_neutralised_original_cells(
        db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [
        ["phone", "first_name", "note"],
        [mobile(1), "ok", ""],
        ["06 12 34 5G 78", "=HYPERLINK(\"http://evil\")", "-2+3"],
        ["+", "@SUM(A1)", "\tx"],
    ])
    rejects = tmp_path / "out" / "rejects.csv"
    rejects.parent.mkdir()
    result = run_import(db, path, rejects=rejects)
    assert result.rejects_file == str(rejects)
    bom, rows = read_csv(rejects)
    assert bom == codecs.BOM_UTF8
    assert rows[0] == ["phone", "first_name", "note", "reason"]
    assert rows[1][:3] == ["06 12 34 5G 78", "'=HYPERLINK(\"http://evil\")", "'-2+3"]
    assert rows[2][:3] == ["'+", "'@SUM(A1)", "'\tx"]
    assert all(row[3] for row in rows[1:])
    assert rejects.read_bytes().count(b"\r\n") == 3


def test_no_rejects_file_unless_asked(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    path = write_rows(folder / "c.csv", [["phone"], ["bad"]])
    assert run_import(db, path).rejects_file is None
    assert sorted(p.name for p in folder.iterdir()) == ["c.csv"]


def test_rejects_file_can_be_fixed_and_reimported(db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.csv", [
        ["Téléphone", "Prénom"],
        [mobile(1), "Zoé"],
        ["06 10 00 00 0X", "=Éric"],
        ["+33 6 10 00 00 03 ext 4", "-Chloé"],
    ])
    rejects = tmp_path / "rejects.csv"
    first = run_import(db, path, rejects=rejects)
    assert (first.imported, first.invalid) == (1, 2)
    # Someone fixes the numbers in a spreadsheet and saves the file again.
    _, rows = read_csv(rejects)
    rows[1][0], rows[2][0] = mobile(2), "+33 6 10 00 00 03"
    fixed = write(tmp_path / "fixed.csv", codecs.BOM_UTF8 + csv_text(rows).encode())
    second = run_import(db, fixed, mapping=["reason=ignore"])
    assert (second.rows, second.imported, second.invalid) == (2, 2, 0)
    found = contacts(db)
    # The quote the rejects file added before formula-like names is gone again.
    assert (found[e164(2)].first_name, found[e164(3)].first_name) == ("=Éric", "-Chloé")
    assert found[e164(2)].fields == {}


# --------------------------------------------------------------------- chunks and totals


def test_import_across_chunk_boundaries_counts_every_row_once(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "CHUNK_ROWS", 3)
    rows = [["phone", "n"]]
    for i in range(1, 21):
        rows.append([mobile(i), str(i)])
        if i % 4 == 0:
            rows.append([mobile(i - 3), "dup"])  # duplicate of a row in an earlier chunk
        if i % 5 == 0:
            rows.append(["bad", str(i)])
    path = write_rows(tmp_path / "c.csv", rows)
    run_import(db, write_rows(tmp_path / "old.csv", [["phone"], [mobile(7)], [mobile(15)]]))
    progress: list[tuple[int, int]] = []
    result = run_import(db, path, rejects=tmp_path / "r.csv",
                        progress=lambda done, size: progress.append((done, size)))
    assert (result.rows, result.imported, result.updated, result.duplicates, result.invalid) == (
        29, 18, 2, 5, 4)
    assert total(result) == result.rows
    assert members(db, "customers") == sorted(e164(i) for i in range(1, 21))
    assert contacts(db)[e164(1)].fields == {"n": "1"}
    assert len(read_csv(tmp_path / "r.csv")[1]) == 1 + 4
    assert [r.row_number for r in rejects_of(db, result.import_id)] == sorted(
        r.row_number for r in rejects_of(db, result.import_id))
    assert len(progress) > 5
    assert progress[-1] == (path.stat().st_size, path.stat().st_size)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(progress))
    record = import_record(db, result.import_id)
    assert (record.rows, record.imported, record.updated, record.duplicates, record.invalid) == (
        29, 18, 2, 5, 4)


def test_failed_import_is_recorded_as_failed_and_keeps_committed_chunks(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
    path = write_rows(tmp_path / "c.csv", [["phone"], *[[mobile(i)] for i in range(1, 8)]])
    calls = 0

    def stop(done: int, size: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_import(db, path, progress=stop)
    with db.session() as session:
        [record] = session.scalars(select(Import))
    assert record.state == "failed" and "KeyboardInterrupt" in (record.error or "")
    assert record.rows == 4
    assert len(contacts(db)) == 4


_CELLS = st.one_of(
    st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=20),
    st.sampled_from(["", " ", "+", "00", "123", "06 10 00 00 01", "+33610000002",
                     "0033 6 10 00 00 03", "'06 10 00 00 04", "=1+1", "é", "€", "😀",
                     "a,b", 'say "hi"', "line\nbreak", "cr\rbreak", "\t", "x" * 1200,
                     "'", "Zoé;Éric|x",
                     # NUL bytes, diluted enough that the file does not look binary
                     "06 10 00\x00 00 05, with a NUL in the middle of a long enough cell"]),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rows=st.lists(st.lists(_CELLS, min_size=0, max_size=6), max_size=25),
       chunk=st.integers(1, 7))
def test_random_rows_never_raise_and_totals_sum_to_rows(
        db: Database, tmp_path: Path, rows: list[list[str]], chunk: int) -> None:
    expected = sum(1 for row in rows if any(c.replace("\x00", "").strip() for c in row))
    path = write_rows(tmp_path / "random.csv", [["phone", "first_name", "last_name", "note"],
                                                *rows])
    original = importer.CHUNK_ROWS
    importer.CHUNK_ROWS = chunk
    try:
        result = run_import(db, path, "random", rejects=tmp_path / "r.csv")
    finally:
        importer.CHUNK_ROWS = original
    assert result.rows == expected
    assert total(result) == result.rows
    assert sum(result.reasons.values()) == result.invalid
    _, rejected = read_csv(tmp_path / "r.csv")
    assert len(rejected) == 1 + result.invalid
    assert import_record(db, result.import_id).state == "done"


def test_rows_in_the_rejects_csv_parse_back_to_the_original_cells(db: Database,
                                                                   tmp_path: Path) -> None:
    # Cells a spreadsheet would mangle or execute survive the round trip, minus the quote.
    tricky = ["bad", "a,b", 'say "hi"', "line\r\nbreak", "=1+1", "  spaced  "]
    path = write_rows(tmp_path / "c.csv", [["phone", "a", "b", "c", "d", "e"], tricky])
    run_import(db, path, rejects=tmp_path / "r.csv")
    _, rows = read_csv(tmp_path / "r.csv")
    assert [c[1:] if c.startswith("'") else c for c in rows[1][:6]] == tricky


def test_parsing_in_a_second_process_gives_the_same_outcome(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large files are parsed in a child process; the outcome must not change."""
    rows = [["phone", "first_name", "city"]]
    for i in range(1, 40):
        rows.append([mobile(i), f"n{i}", "Paris"])
        if i % 7 == 0:
            rows.append([mobile(i - 1), "dup", ""])
        if i % 5 == 0:
            rows.append(["01 42 68 53 00", "fixed", ""])
    path = write_rows(tmp_path / "c.csv", rows)
    monkeypatch.setattr(importer, "CHUNK_ROWS", 6)
    sequential = run_import(db, path, "seq", rejects=tmp_path / "seq.csv")
    monkeypatch.setattr(importer, "PARALLEL_MIN_BYTES", 0)
    parallel = run_import(db, path, "par", rejects=tmp_path / "par.csv")
    def outcome(r: ImportResult) -> tuple[int, int, int]:
        return r.rows, r.duplicates, r.invalid

    assert outcome(parallel) == outcome(sequential) == (51, 5, 7)
    assert (parallel.imported, parallel.updated) == (0, sequential.imported)  # now known
    assert (tmp_path / "seq.csv").read_bytes() == (tmp_path / "par.csv").read_bytes()
    assert set(members(db, "seq")) == set(members(db, "par"))
