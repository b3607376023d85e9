"""CSV import from the browser and the API: the same importer as ``smscope contacts
import``, run in the background with its progress in the ``imports`` row, the
row-by-row result and its rejects CSV; bad files refused with a clear message before
anything is recorded."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from smscope.db.tables import Contact, Import, ListMember
from smscope.web import uploads
from tests.web.book_helpers import wait_for_import
from tests.web.conftest import signed_in


def rows_csv(count: int, *, bad_every: int = 0, delimiter: str = ",") -> str:
    lines = [delimiter.join(["Téléphone", "Prénom", "Ville"])]
    for i in range(count):
        number = f"06{10_000_000 + i:08d}" if not (bad_every and i % bad_every == 0) else f"bad{i}"
        lines.append(delimiter.join([number, f"P{i}", "Paris"]))
    return "\n".join(lines) + "\n"


def upload(client, csrf: str, content: bytes | str, *, name: str = "contacts.csv",
           **fields: str):
    data = {"csrf_token": csrf, "new_list": "imported", "default_region": "FR", **fields}
    return client.post("/imports", data=data, files={"file": (name, content, "text/csv")},
                       follow_redirects=False)


def test_a_file_of_thousands_of_rows_imports_with_its_progress_and_result(site) -> None:
    client, csrf = signed_in(site, "member@example.com")
    content = rows_csv(3000, bad_every=100)
    answer = upload(client, csrf, content)
    assert answer.status_code == 303
    import_id = int(answer.headers["location"].rsplit("/", 1)[1])
    running = client.get(f"/imports/{import_id}")
    assert running.status_code == 200 and 'id="import-bar"' in running.text
    record = wait_for_import(site, import_id)
    assert (record.state, record.rows, record.imported, record.invalid, record.duplicates) == (
        "done", 3000, 2970, 30, 0)
    assert record.bytes_read == record.size == len(content.encode())
    assert record.filename == "contacts.csv" and record.actor == "web:member@example.com"
    page = client.get(f"/imports/{import_id}").text
    assert re.findall(r'data-count="(\w+)">([\d,]+)<', page) == [
        ("rows", "3,000"), ("imported", "2,970"), ("updated", "0"), ("duplicates", "0"),
        ("invalid", "30")]
    assert 'http-equiv="refresh"' not in page  # finished: no more refreshing
    assert page.count("is not a phone number") == 30
    rejects = client.get(f"/imports/{import_id}/rejects.csv")
    lines = rejects.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Téléphone,Prénom,Ville,reason"
    assert len(lines) == 31 and lines[1].startswith("bad0,P0,Paris,")
    with site.smscope.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ListMember)) == 2970
        assert session.scalar(select(Contact.fields).where(Contact.first_name == "P1")
                              ) == {"ville": "Paris"}
    # the same file again: every number is known, so updated
    again = upload(client, csrf, content, new_list="", list="imported")
    second = wait_for_import(site, int(again.headers["location"].rsplit("/", 1)[1]))
    assert (second.imported, second.updated, second.invalid) == (0, 2970, 30)


def test_the_progress_is_read_while_the_import_runs(site, monkeypatch) -> None:
    """Chunks of 500 rows: the row is updated after each, the page shows the share."""
    from smscope.contacts import importer

    monkeypatch.setattr(importer, "CHUNK_ROWS", 500)
    seen: list[int] = []
    original = importer._flush

    def watched(db, chunk, result, writer, source):
        original(db, chunk, result, writer, source)
        with db.session() as session:
            seen.append(session.scalar(select(Import.bytes_read)))

    monkeypatch.setattr(importer, "_flush", watched)
    client, csrf = signed_in(site, "member@example.com")
    answer = upload(client, csrf, rows_csv(2000))
    record = wait_for_import(site, int(answer.headers["location"].rsplit("/", 1)[1]))
    assert record.state == "done" and len(seen) == 4
    assert seen == sorted(seen) and 0 < seen[0] < seen[-1] <= record.size


def test_a_running_import_page_refreshes_itself_and_has_its_script(site) -> None:
    with site.smscope.db.transaction() as session:
        session.add(Import(filename="big.csv", state="running", size=1000, bytes_read=250,
                           rows=10))
    client, _ = signed_in(site, "reader@example.com")
    page = client.get("/imports/1").text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert 'src="/static/imports.js"' in page and 'value="25.0"' in page
    assert client.get("/static/imports.js").status_code == 200
    status = client.get("/api/v1/imports/1").json()
    assert (status["state"], status["bytes_read"], status["size"]) == ("running", 250, 1000)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"\n\n", "is empty"),
    (b"PK\x03\x04" + bytes(200), "not a CSV file"),
    (b"%PDF-1.4 " + bytes(300), "not a CSV file"),
    (bytes(range(256)) * 4, "not a CSV file"),
    (b"name,city\nAnne,Paris\n", "no phone column found"),
])
def test_a_bad_file_is_refused_on_the_form_and_nothing_is_recorded(
        site, content, message) -> None:
    client, csrf = signed_in(site, "member@example.com")
    answer = upload(client, csrf, content, name="mine.csv")
    assert answer.status_code == 422
    text = unescape(answer.text)
    error = re.search(r'id="import-file-error" role="alert">([^<]+)<', text)
    assert error and message in error.group(1), text
    assert "smscope-upload" not in text  # never our temporary file's name
    if "phone column" not in message:
        assert error.group(1).startswith("mine.csv")
    with site.smscope.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Import)) == 0


def test_a_latin1_file_with_semicolons_imports(site) -> None:
    client, csrf = signed_in(site, "member@example.com")
    content = "Portable;Prénom\n0612345678;Hélène\n".encode("cp1252")
    answer = upload(client, csrf, content)
    record = wait_for_import(site, int(answer.headers["location"].rsplit("/", 1)[1]))
    assert (record.state, record.imported) == ("done", 1)
    with site.smscope.db.session() as session:
        assert session.scalar(select(Contact.first_name)) == "Hélène"


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"new_list": "", "list": ""}, "import-list", "choose a list"),
    ({"default_region": "XX"}, "import-region", "is not a country"),
    ({"phone_column": "Mobile"}, "import-phone-column", "not in the header"),
    ({"mapping": "Ville"}, "import-mapping", "COLUMN=FIELD"),
    ({"mapping": "Ville=street"}, "import-mapping", "FIELD must be"),
])
def test_wrong_options_are_shown_next_to_their_field(site, fields, field, message) -> None:
    client, csrf = signed_in(site, "member@example.com")
    answer = upload(client, csrf, rows_csv(3), **fields)
    assert answer.status_code == 422
    error = re.search(rf'id="{field}-error" role="alert">([^<]+)<', unescape(answer.text))
    assert error and message in error.group(1)


def test_the_mapping_and_phone_column_options_are_the_cli_ones(site) -> None:
    client, csrf = signed_in(site, "member@example.com")
    content = "Fixe,Mobile,Ville\n0123456789,0612345678,Lyon\n"
    answer = upload(client, csrf, content, phone_column="Mobile",
                    mapping="Ville=custom:city\nFixe=ignore")
    record = wait_for_import(site, int(answer.headers["location"].rsplit("/", 1)[1]))
    assert record.imported == 1
    assert record.options["phone_column"] == "Mobile"
    with site.smscope.db.session() as session:
        assert session.scalar(select(Contact.fields)) == {"city": "Lyon"}


def test_an_oversized_upload_is_refused_with_a_clear_message(site, monkeypatch) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOAD", 4096)
    client, csrf = signed_in(site, "member@example.com")
    answer = upload(client, csrf, rows_csv(400))  # about 10 KB, over the header check
    assert answer.status_code == 413 and "larger than" in unescape(answer.text)
    with site.smscope.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Import)) == 0


def test_an_upload_without_a_file_or_a_csrf_token_changes_nothing(site) -> None:
    client, csrf = signed_in(site, "member@example.com")
    none = client.post("/imports", data={"csrf_token": csrf, "new_list": "x"},
                       files={"other": ("a.txt", b"x")})
    assert none.status_code == 422 and "choose the CSV file" in none.text
    forged = upload(client, "wrong", rows_csv(2))
    assert forged.status_code == 403
    with site.smscope.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Import)) == 0


# ---------------------------------------------------------------------------- the API


def test_the_api_imports_a_body_and_reports_its_progress_and_rejects(site) -> None:
    token = site.token("member@example.com")
    client = site.client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    answer = client.post("/api/v1/imports", params={"list": "api", "default_region": "FR"},
                         content=rows_csv(1200, bad_every=300), headers=headers)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["list"] == "api" and body["state"] in ("running", "done")
    assert answer.headers["location"].endswith(f"/imports/{body['id']}")
    wait_for_import(site, body["id"])
    status = client.get(f"/api/v1/imports/{body['id']}", headers=headers).json()
    assert (status["state"], status["rows"], status["imported"], status["invalid"]) == (
        "done", 1200, 1196, 4)
    rejects = client.get(f"/api/v1/imports/{body['id']}/rejects", params={"limit": 3},
                         headers=headers).json()
    assert [r["row"] for r in rejects["items"]] == [2, 302, 602]
    assert rejects["items"][0]["cells"] == ["bad0", "P0", "Paris"]
    assert rejects["next_cursor"]


def test_the_api_refuses_bad_imports_with_its_error_shape(site, monkeypatch) -> None:
    token = site.token("member@example.com")
    client = site.client()
    headers = {"Authorization": f"Bearer {token}"}
    no_list = client.post("/api/v1/imports", content=b"phone\n0612345678\n", headers=headers)
    assert no_list.status_code == 422 and no_list.json()["error"]["code"] == "validation_error"
    empty = client.post("/api/v1/imports", params={"list": "x"}, content=b"",
                        headers=headers)
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "invalid_file"
    assert "the uploaded file is empty" in empty.json()["error"]["message"]
    region = client.post("/api/v1/imports", params={"list": "x", "default_region": "ZZ"},
                         content=b"phone\n1\n", headers=headers)
    assert region.status_code == 422
    monkeypatch.setattr(uploads, "MAX_UPLOAD", 1024)
    big = client.post("/api/v1/imports", params={"list": "x"}, content=b"phone\n" + b"1" * 5000,
                      headers=headers)
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    assert client.get("/api/v1/imports/99", headers=headers).status_code == 404
    reader = site.token("reader@example.com")
    refused = client.post("/api/v1/imports", params={"list": "x"}, content=b"phone\n",
                          headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403
    with site.smscope.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Import)) == 0
