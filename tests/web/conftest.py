"""The web app in process over a real SQLite file, with users of each role."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from smscope.accounts import tokens, users
from smscope.accounts.sessions import Expiry
from smscope.app import Smscope
from smscope.config import Config
from smscope.db import Database
from smscope.web.app import create_app

PASSWORD = "correct horse battery staple"
CSRF_RX = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    smscope: Smscope
    make_client: Callable[..., TestClient]

    def client(self, **kwargs: object) -> TestClient:
        return self.make_client(**kwargs)

    def token(self, email: str) -> str:
        with self.smscope.db.transaction() as session:
            return tokens.create_token(session, email, name="test").token


def csrf_of(html: str) -> str:
    found = CSRF_RX.search(html)
    assert found, html
    return found.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD):
    page = client.get("/login")
    assert page.status_code == 200
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_of(page.text), "next": "/"},
                       follow_redirects=False)


def signed_in(site: Site, email: str) -> tuple[TestClient, str]:
    """A client logged in as ``email`` and its session's CSRF token."""
    client = site.client()
    assert log_in(client, email).status_code == 303
    return client, csrf_of(client.get("/").text)


def _site(url: str) -> Iterator[Site]:
    smscope = Smscope(Config(database_url=url, public_url="http://127.0.0.1:8000"))
    with smscope.db.transaction() as session:
        for email, role in (("admin@example.com", "admin"), ("member@example.com", "member"),
                            ("reader@example.com", "readonly")):
            users.create_user(session, email, role=role, password=PASSWORD)
    clients: list[TestClient] = []

    def make_client(expiry: Expiry | None = None, address: str = "198.51.100.7",
                    base_url: str = "http://testserver") -> TestClient:
        app = create_app(smscope, session_expiry=expiry)
        client = TestClient(app, base_url=base_url, raise_server_exceptions=False,
                            client=(address, 50000))
        clients.append(client)
        return client

    yield Site(smscope, make_client)
    for client in clients:
        client.close()
    smscope.close()


@pytest.fixture
def site(tmp_path: Path, sqlite_template: Path) -> Iterator[Site]:
    """The app over a fresh SQLite file."""
    path = tmp_path / "web.db"
    shutil.copyfile(sqlite_template, path)
    yield from _site(f"sqlite:///{path}")


@pytest.fixture
def pg_site(pg_db: Database) -> Iterator[Site]:
    """The app over a fresh PostgreSQL database (what SQLite lets pass, it may not)."""
    url = pg_db.url
    pg_db.dispose()
    yield from _site(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_site(request: pytest.FixtureRequest) -> Site:
    """The app on each backend, for what the storage could change."""
    site: Site = request.getfixturevalue("site" if request.param == "sqlite" else "pg_site")
    return site
