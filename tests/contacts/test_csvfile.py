"""Reading contact files as people make them: encodings, delimiters, line endings, headers.

Pure tests of :mod:`smscope.contacts.csvfile` (no database).
"""

from __future__ import annotations

import codecs
import contextlib
import random
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smscope.contacts.csvfile import fold, map_columns, open_csv, strip_quote
from smscope.errors import ImportFileError
from tests.contacts.helpers import write


def read(path: Path, **kwargs: object) -> tuple[list[str], list[tuple[int, list[str] | None,
                                                                      str | None]]]:
    with open_csv(path, **kwargs) as source:  # type: ignore[arg-type]
        return source.header, list(source.rows())


def cells(rows: list[tuple[int, list[str] | None, str | None]]) -> list[list[str] | None]:
    return [row[1] for row in rows]


# --------------------------------------------------------------------- file-level errors


def test_missing_file_is_an_import_file_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        open_csv(tmp_path / "nope.csv")


def test_folder_instead_of_file_is_an_import_file_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="folder"):
        open_csv(tmp_path)


@pytest.mark.parametrize("content", [b"", b"\n\n\r\n", b"   \n\t\n", codecs.BOM_UTF8,
                                     codecs.BOM_UTF8 + b"\r\n\r\n"])
def test_empty_or_blank_file_is_an_import_file_error(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(ImportFileError, match="is empty"):
        open_csv(write(tmp_path / "empty.csv", content))


@pytest.mark.parametrize("seed", range(5))
def test_random_binary_bytes_are_refused_with_a_clear_message(tmp_path: Path,
                                                              seed: int) -> None:
    data = random.Random(seed).randbytes(4096)
    with pytest.raises(ImportFileError, match="not a CSV file"):
        open_csv(write(tmp_path / "garbage.csv", data))


def test_xlsx_workbook_is_refused_and_named(tmp_path: Path) -> None:
    path = tmp_path / "contacts.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    with pytest.raises(ImportFileError, match=r"ZIP archive \(an Excel \.xlsx"):
        open_csv(path)


@pytest.mark.parametrize(("magic", "kind"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Excel .xls"),
    (b"%PDF-1.7\n", "PDF"),
])
def test_other_office_files_are_refused_and_named(tmp_path: Path, magic: bytes,
                                                  kind: str) -> None:
    with pytest.raises(ImportFileError, match=kind):
        open_csv(write(tmp_path / "x.csv", magic + b"\x00" * 200))


@pytest.mark.parametrize("delimiter", ["ab", "", '"', "\n"])
def test_bad_explicit_delimiter_is_refused(tmp_path: Path, delimiter: str) -> None:
    path = write(tmp_path / "c.csv", "phone\n0612345678\n")
    with pytest.raises(ImportFileError, match="--delimiter"):
        open_csv(path, delimiter=delimiter)


def test_header_only_file_has_a_header_and_no_rows(tmp_path: Path) -> None:
    header, rows = read(write(tmp_path / "h.csv", "phone,first_name\r\n"))
    assert header == ["phone", "first_name"]
    assert rows == []


# --------------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    text = delimiter.join(["phone", "first_name", "city"]) + "\n" + delimiter.join(
        ["06 12 34 56 78", "Zoé", "Lyon"]) + "\n"
    with open_csv(write(tmp_path / "d.csv", text)) as source:
        assert source.delimiter == delimiter
        assert source.header == ["phone", "first_name", "city"]
        assert cells(list(source.rows())) == [["06 12 34 56 78", "Zoé", "Lyon"]]


def test_semicolon_wins_when_cells_contain_commas(tmp_path: Path) -> None:
    text = "nom;téléphone;adresse\nDupont;0612345678;1, rue de la Paix\n"
    with open_csv(write(tmp_path / "d.csv", text)) as source:
        assert source.delimiter == ";"


@pytest.mark.parametrize("spelling", ["\t", "\\t", "tab", "TAB"])
def test_explicit_tab_delimiter_spellings(tmp_path: Path, spelling: str) -> None:
    path = write(tmp_path / "t.csv", "phone\tname\n0612345678\tZoé\n")
    header, rows = read(path, delimiter=spelling)
    assert header == ["phone", "name"]
    assert cells(rows) == [["0612345678", "Zoé"]]


def test_explicit_delimiter_overrides_detection(tmp_path: Path) -> None:
    # Detection would pick the comma (more columns); the user knows better.
    path = write(tmp_path / "t.csv", "phone;name,with,commas\n0612345678;a,b,c\n")
    header, rows = read(path, delimiter=";")
    assert header == ["phone", "name,with,commas"]
    assert cells(rows) == [["0612345678", "a,b,c"]]


def test_single_column_file_is_read(tmp_path: Path) -> None:
    header, rows = read(write(tmp_path / "one.csv", "phone\n0612345678\n0612345679\n"))
    assert header == ["phone"]
    assert cells(rows) == [["0612345678"], ["0612345679"]]


# --------------------------------------------------------------------- encodings


def test_utf8_bom_is_not_part_of_the_first_header_name(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.csv", codecs.BOM_UTF8 + "phone,prénom\n0612345678,Zoé\n".encode())
    header, rows = read(path)
    assert header == ["phone", "prénom"]
    assert cells(rows) == [["0612345678", "Zoé"]]


def test_cp1252_file_is_decoded(tmp_path: Path) -> None:
    # é is 0xE9 and € is 0x80 in Windows-1252; neither is valid UTF-8 on its own.
    data = b"phone;pr\xe9nom;solde\r\n0612345678;Z\xe9lie;12 \x80\r\n"
    with open_csv(write(tmp_path / "cp.csv", data)) as source:
        assert source.encoding == "cp1252"
        assert source.header == ["phone", "prénom", "solde"]
        assert cells(list(source.rows())) == [["0612345678", "Zélie", "12 €"]]


def test_byte_undefined_in_cp1252_falls_back_to_latin1(tmp_path: Path) -> None:
    data = b"phone,note\n0612345678,a\x81b\xe9\n"
    _, rows = read(write(tmp_path / "l1.csv", data))
    assert cells(rows) == [["0612345678", "a\x81bé"]]


def test_utf8_file_with_one_stray_latin1_line_keeps_utf8_lines_intact(tmp_path: Path) -> None:
    data = ("phone,name\n0612345678,Zoé\n".encode()
            + "0612345679,Hélène\n".encode("cp1252")
            + "0612345670,Éric €\n".encode())
    _, rows = read(write(tmp_path / "mixed.csv", data))
    assert cells(rows) == [["0612345678", "Zoé"], ["0612345679", "Hélène"],
                           ["0612345670", "Éric €"]]


def test_stray_latin1_line_after_the_sample_is_decoded(tmp_path: Path) -> None:
    lines = [f"06{i:08d},Zoé\n".encode() for i in range(12, 6000)]
    data = b"phone,name\n" + b"".join(lines) + "0699999999,Hélène\n".encode("cp1252")
    assert len(data) > 64 * 1024
    _, rows = read(write(tmp_path / "late.csv", data))
    assert rows[-1][1] == ["0699999999", "Hélène"]
    assert rows[0][1] == ["0600000012", "Zoé"]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_decoded(tmp_path: Path, codec: str) -> None:
    text = "phone\tprénom\r\n0612345678\tZoé 😀\r\n0612345679\tÉric\r\n"
    bom = b"" if codec == "utf-16" else (
        codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE)
    with open_csv(write(tmp_path / "u16.csv", bom + text.encode(codec))) as source:
        assert source.encoding == "utf-16"
        assert source.header == ["phone", "prénom"]
        assert cells(list(source.rows())) == [["0612345678", "Zoé 😀"], ["0612345679", "Éric"]]


def test_truncated_utf16_file_gives_rows_not_a_decoding_traceback(tmp_path: Path) -> None:
    data = "phone,name\r\n0612345678,Zoé\r\n".encode("utf-16") + b"\x00\xd8\x41"
    _, rows = read(write(tmp_path / "bad16.csv", data))
    assert rows[0][1] == ["0612345678", "Zoé"]
    assert len(rows) == 2  # the broken tail is one (bad) row


def test_utf16_without_bom_is_refused_as_binary(tmp_path: Path) -> None:
    data = "phone,name\r\n0612345678,Zoé\r\n".encode("utf-16-le")
    with pytest.raises(ImportFileError, match="not a CSV file"):
        open_csv(write(tmp_path / "nobom16.csv", data))


# --------------------------------------------------------------------- lines and cells


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_lf_crlf_and_cr_only_line_endings_give_the_same_rows(tmp_path: Path,
                                                              ending: str) -> None:
    text = ending.join(["phone,name", "0612345678,Zoé", "", "0612345679,Éric", ""])
    header, rows = read(write(tmp_path / "e.csv", text))
    assert header == ["phone", "name"]
    assert cells(rows) == [["0612345678", "Zoé"], ["0612345679", "Éric"]]


def test_cr_only_file_larger_than_one_read_block(tmp_path: Path) -> None:
    lines = [f"06{i:08d};Zoé" for i in range(12, 8000)]
    text = "\r".join(["phone;name", *lines]) + "\r"
    assert len(text) > 64 * 1024
    header, rows = read(write(tmp_path / "mac.csv", text))
    assert header == ["phone", "name"]
    assert len(rows) == len(lines)
    assert rows[-1][1] == ["0600007999", "Zoé"]


def test_cr_only_file_keeps_quoted_cr_inside_a_cell(tmp_path: Path) -> None:
    text = 'phone,note\r0612345678,"two\rlines"\r0612345679,x\r'
    _, rows = read(write(tmp_path / "mac.csv", text))
    assert cells(rows) == [["0612345678", "two\rlines"], ["0612345679", "x"]]


def test_quoted_fields_keep_embedded_delimiters_quotes_and_newlines(tmp_path: Path) -> None:
    text = ('phone;name;address\r\n'
            '0612345678;"Dupont; Jean";"1 rue X\r\n75001 Paris"\r\n'
            '0612345679;"Le ""Grand"" Duc";"a\nb"\r\n'
            '0612345670;plain;x\r\n')
    with open_csv(write(tmp_path / "q.csv", text)) as source:
        assert source.delimiter == ";"
        rows = list(source.rows())
    assert cells(rows) == [
        ["0612345678", "Dupont; Jean", "1 rue X\r\n75001 Paris"],
        ["0612345679", 'Le "Grand" Duc', "a\nb"],
        ["0612345670", "plain", "x"],
    ]
    # A row spanning two lines is still one row, numbered as such.
    assert [number for number, _, _ in rows] == [2, 3, 4]


def test_blank_lines_are_skipped_and_not_numbered(tmp_path: Path) -> None:
    text = "\n\nphone,name\n\n0612345678,a\n , \n\n0612345679,b\n\n"
    header, rows = read(write(tmp_path / "b.csv", text))
    assert header == ["phone", "name"]
    assert rows == [(2, ["0612345678", "a"], None), (3, ["0612345679", "b"], None)]


def test_nul_bytes_are_removed(tmp_path: Path) -> None:
    data = b"pho\x00ne,name\n06123\x0045678,Zo\x00e\n\x00\n0612345679,b\n"
    header, rows = read(write(tmp_path / "nul.csv", data))
    assert header == ["phone", "name"]
    assert cells(rows) == [["0612345678", "Zoe"], ["0612345679", "b"]]


def test_ragged_rows_are_returned_as_they_are(tmp_path: Path) -> None:
    text = "phone,first_name,last_name\n0612345678\n0612345679,a,b,c,d\n"
    _, rows = read(write(tmp_path / "r.csv", text))
    assert cells(rows) == [["0612345678"], ["0612345679", "a", "b", "c", "d"]]


def test_ten_megabyte_cell_makes_one_bad_row_and_reading_goes_on(tmp_path: Path) -> None:
    data = (b"phone,note\n0612345678,before\n0612345679,"
            + b"x" * 10_000_000 + b"\n0612345670,after\n")
    _, rows = read(write(tmp_path / "big.csv", data))
    assert rows[0] == (2, ["0612345678", "before"], None)
    number, bad, error = rows[1]
    assert (number, bad) == (3, None)
    assert error is not None and "field larger than field limit" in error
    assert rows[2] == (4, ["0612345670", "after"], None)
    assert len(rows) == 3


def test_ten_megabyte_quoted_cell_makes_one_bad_row_and_reading_goes_on(tmp_path: Path) -> None:
    data = (b'phone;note\n0612345678;before\n0612345679;"'
            + b"x" * 10_000_000 + b'"\n0612345670;after\n')
    _, rows = read(write(tmp_path / "bigq.csv", data))
    assert cells(rows) == [["0612345678", "before"], None, ["0612345670", "after"]]


def test_huge_line_among_the_first_lines_does_not_break_delimiter_detection(
        tmp_path: Path) -> None:
    data = (b"phone;first_name;note\n0612345678;a;b\n0612345679;c;"
            + b"y" * 200_000 + b"\n0612345670;d;e\n")
    with open_csv(write(tmp_path / "bigsemi.csv", data)) as source:
        assert source.delimiter == ";"
        assert source.header == ["phone", "first_name", "note"]
        assert cells(list(source.rows())) == [["0612345678", "a", "b"], None,
                                              ["0612345670", "d", "e"]]


def test_header_cells_are_trimmed_and_lose_one_leading_quote(tmp_path: Path) -> None:
    header, _ = read(write(tmp_path / "h.csv", "'phone , first_name \n0612345678,a\n"))
    assert header == ["phone", "first_name"]


def test_unreadable_header_is_an_import_file_error(tmp_path: Path) -> None:
    data = b"phone," + b"z" * 200_000 + b"\n0612345678,a\n"
    with pytest.raises(ImportFileError, match="header row cannot be read"):
        open_csv(write(tmp_path / "h.csv", data))


def test_progress_counters_reach_the_file_size(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "phone\n" + "0612345678\n" * 100)
    with open_csv(path) as source:
        list(source.rows())
        assert source.bytes_read == source.size == path.stat().st_size


# --------------------------------------------------------------------- strip_quote, fold


@pytest.mark.parametrize(("cell", "expected"), [
    ("'=1+1", "=1+1"), ("''x", "'x"), ("x'", "x'"), ("'", ""), ("", ""), ("+33", "+33"),
])
def test_strip_quote_removes_exactly_one_leading_quote(cell: str, expected: str) -> None:
    assert strip_quote(cell) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("Téléphone portable", "telephone_portable"),
    ("  PRÉNOM ", "prenom"),
    ("Numéro de téléphone", "numero_de_telephone"),
    ("First-Name", "first_name"),
    ("e-mail (pro)", "e_mail_pro"),
    ("Te\u0301le\u0301phone", "telephone"),  # decomposed accents, as macOS writes them
])
def test_fold_ignores_case_accents_and_punctuation(name: str, expected: str) -> None:
    assert fold(name) == expected


# --------------------------------------------------------------------- map_columns


@pytest.mark.parametrize("header", [
    ["phone"], ["Phone"], ["MOBILE"], ["number"], ["Téléphone"], ["telephone"],
    ["Portable"], ["Numéro"], ["NUMERO"], ["Téléphone portable"], ["Phone Number"],
    ["msisdn"], ["Tel"],
])
def test_phone_column_is_recognised_in_english_and_french(header: list[str]) -> None:
    assert map_columns(header).number == 0


def test_french_header_with_accents_maps_every_field() -> None:
    mapping = map_columns(["Prénom", "Nom", "Téléphone portable", "Ville"])
    assert (mapping.first_name, mapping.last_name, mapping.number) == (0, 1, 2)
    assert mapping.custom == {3: "ville"}


@pytest.mark.parametrize(("header", "first", "last"), [
    (["first_name", "last_name", "phone"], 0, 1),
    (["FirstName", "LastName", "phone"], 0, 1),
    (["First Name", "Last Name", "phone"], 0, 1),
    (["prénom", "nom de famille", "phone"], 0, 1),
])
def test_name_columns_are_recognised(header: list[str], first: int, last: int) -> None:
    mapping = map_columns(header)
    assert (mapping.first_name, mapping.last_name) == (first, last)


def test_first_phone_like_column_in_header_order_is_the_number() -> None:
    mapping = map_columns(["Nom", "Mobile", "Téléphone", "Phone"])
    assert mapping.number == 1
    assert mapping.custom == {2: "telephone", 3: "phone"}


def test_other_columns_become_custom_fields_named_after_the_folded_header() -> None:
    mapping = map_columns(["phone", "Ville de naissance", "", "E-mail"])
    assert mapping.custom == {1: "ville_de_naissance", 2: "column_3", 3: "e_mail"}


def test_duplicate_header_names_get_distinct_custom_field_names() -> None:
    mapping = map_columns(["phone", "email", "Email", "EMAIL", "phone"])
    assert mapping.number == 0
    assert mapping.custom == {1: "email", 2: "email_2", 3: "email_3", 4: "phone"}


def test_duplicate_name_columns_keep_the_first_as_the_field() -> None:
    mapping = map_columns(["nom", "phone", "Nom"])
    assert mapping.last_name == 0
    assert mapping.custom == {2: "nom"}


def test_no_phone_column_names_the_columns_and_the_fix() -> None:
    with pytest.raises(ImportFileError) as caught:
        map_columns(["Prénom", "Email"])
    message = str(caught.value)
    assert "no phone column" in message
    assert "'Prénom', 'Email'" in message
    assert "--phone-column" in message


def test_phone_column_override_is_case_and_accent_insensitive() -> None:
    mapping = map_columns(["Nom", "Joignable au", "Mobile"], phone_column="JOIGNABLE AU")
    assert mapping.number == 1
    # The column that was auto-mapped as the number becomes a custom field.
    assert mapping.custom == {2: "mobile"}


def test_phone_column_override_naming_an_unknown_column_lists_the_columns() -> None:
    with pytest.raises(ImportFileError) as caught:
        map_columns(["Nom", "Mobile"], phone_column="GSM perso")
    message = str(caught.value)
    assert "--phone-column" in message and "'GSM perso'" in message
    assert "'Nom', 'Mobile'" in message


def test_map_overrides_set_every_kind_of_field() -> None:
    mapping = map_columns(
        ["Contact", "Given", "Family", "Ville", "Secret", "Phone"],
        overrides=["Contact=number", "Given=first_name", "Family=last_name",
                   "Ville=custom:City of birth", "Secret=ignore"],
    )
    assert (mapping.number, mapping.first_name, mapping.last_name) == (0, 1, 2)
    assert mapping.custom == {3: "city_of_birth", 5: "phone"}


def test_map_override_moves_a_field_away_from_the_auto_mapped_column() -> None:
    mapping = map_columns(["first_name", "surnom", "phone"],
                          overrides=["surnom=first_name"])
    assert mapping.first_name == 1
    assert mapping.custom == {0: "first_name_2"}


def test_map_custom_field_named_like_a_builtin_field_is_renamed() -> None:
    mapping = map_columns(["phone", "x"], overrides=["x=custom:number"])
    assert mapping.custom == {1: "number_2"}


def test_map_phone_column_to_ignore_leaves_no_phone_column() -> None:
    with pytest.raises(ImportFileError, match="no phone column"):
        map_columns(["phone", "name"], overrides=["phone=ignore"])


@pytest.mark.parametrize("override", ["phone", "=number", "phone=", "phone=email",
                                      "phone=custom:", "phone=custom:!!", "phone=Number"])
def test_malformed_map_override_is_an_import_file_error(override: str) -> None:
    with pytest.raises(ImportFileError, match="--map"):
        map_columns(["phone", "name"], overrides=[override])


def test_map_override_naming_an_unknown_column_lists_the_columns() -> None:
    with pytest.raises(ImportFileError) as caught:
        map_columns(["phone", "name"], overrides=["Ville=custom:city"])
    assert "'Ville'" in str(caught.value)
    assert "'phone', 'name'" in str(caught.value)


# --------------------------------------------------------------------- fuzzing


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE,
                               b"phone,name\n", b"phone;name\r", "téléphone\n".encode("utf-16")]),
       body=st.binary(max_size=3000),
       delimiter=st.sampled_from([None, ",", ";"]))
def test_any_bytes_give_rows_or_an_import_file_error_never_a_traceback(
        tmp_path: Path, prefix: bytes, body: bytes, delimiter: str | None) -> None:
    path = write(tmp_path / "fuzz.csv", prefix + body)
    try:
        with open_csv(path, delimiter=delimiter) as source:
            with contextlib.suppress(ImportFileError):
                map_columns(source.header)
            for number, row, error in source.rows():
                assert number >= 2
                assert (row is None) != (error is None)
    except ImportFileError as exc:
        assert str(exc)
