"""The schema: migrations match the models, on both backends; opening rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from smscope.db import Base, Database, normalize_url
from smscope.db.engine import _alembic_config
from smscope.db.tables import Campaign, Contact, Counter, CreditAccount, StatCounter
from smscope.errors import DatabaseError, SchemaOutdatedError
from tests.campaigns.helpers import NOW, Engine, mo, number, receipt


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_migrations_create_exactly_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_the_whole_data_model_is_there(db: Database) -> None:
    expected = {
        "users", "api_tokens", "login_attempts", "settings", "prices", "credit_account",
        "credit_reservations", "credit_ledger", "contacts", "lists", "list_members",
        "contact_events", "blacklist", "blacklist_log", "imports", "import_rejects",
        "connectors", "connector_leases", "campaigns", "campaign_lists", "campaign_events",
        "messages", "message_parts", "receipts", "status_events", "replies", "counters",
        "stat_counters", "stat_days", "links", "tracked_links", "clicks", "webhook_endpoints",
        "webhook_deliveries",
    }
    assert expected <= set(Base.metadata.tables)
    from sqlalchemy import inspect

    with db.engine.connect() as conn:
        assert expected <= set(inspect(conn).get_table_names())


def test_times_come_back_as_aware_utc(db: Database) -> None:
    paris_summer = timezone(timedelta(hours=2))
    moment = datetime(2026, 7, 1, 12, 0, 0, tzinfo=paris_summer)
    with db.transaction() as session:
        session.add(Contact(number="+33612345678", created_at=moment, updated_at=moment))
    with db.session() as session:
        stored = session.scalars(select(Contact.created_at)).one()
    assert stored == moment
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored.hour == 10


def test_credits_add_up_exactly_in_sql(db: Database) -> None:
    """0.1 added ten times by the database is exactly 1 (a float column drifts)."""
    from sqlalchemy import update

    with db.transaction() as session:
        session.add(CreditAccount(id=1, balance=Decimal(0), reserved=Decimal("12345678.9999")))
    for _ in range(10):
        with db.transaction() as session:
            session.execute(update(CreditAccount).values(
                balance=CreditAccount.balance + Decimal("0.1")))
    with db.session() as session:
        account = session.get(CreditAccount, 1)
        assert account is not None
        assert account.balance == Decimal("1.0000")
        assert account.reserved == Decimal("12345678.9999")
        assert session.execute(text("SELECT balance FROM credit_account")).scalar() == 10_000


def test_a_negative_balance_is_refused_by_the_database_itself(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(CreditAccount(id=1, balance=Decimal("-1"), reserved=Decimal(0)))


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    database.dispose()


def test_several_processes_opening_a_new_database_at_once(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """The first migrates, the others wait and find the schema there."""
    import subprocess
    import sys

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        if cluster is None:
            pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
        from sqlalchemy import create_engine

        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "fresh_{tmp_path.name[-12:]}"'))
        admin.dispose()
        url = cluster.url(f"fresh_{tmp_path.name[-12:]}")
    code = ("import sys; from smscope.db import Database; d = Database(sys.argv[1]); "
            "d.ensure_schema(); print(d.current_revision())")
    procs = [subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    head = Database.head_revision()
    assert [out.strip() for out, _ in results] == [head] * 4, results


def test_an_empty_database_gets_the_schema_on_first_use(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'new.db'}")
    assert database.current_revision() is None
    database.ensure_schema()
    assert database.current_revision() == database.head_revision()
    database.ensure_schema()  # a second time changes nothing
    database.dispose()


def test_an_older_schema_is_refused_with_the_command_that_fixes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    database.upgrade()
    monkeypatch.setattr(Database, "head_revision", staticmethod(lambda: "0099"))
    with pytest.raises(SchemaOutdatedError, match="run 'smscope db upgrade'"):
        database.ensure_schema()
    database.dispose()


def test_a_schema_from_a_newer_smscope_is_refused(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'new.db'}")
    database.upgrade()
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(SchemaOutdatedError, match="unknown to this smscope"):
        database.ensure_schema()
    database.dispose()


def test_a_database_of_another_application_is_not_touched(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'other.db'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaOutdatedError, match="no smscope schema"):
        database.ensure_schema()
    database.dispose()


def test_database_urls_are_normalised() -> None:
    assert normalize_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("postgresql://h/db") == "postgresql+psycopg://h/db"
    assert normalize_url("data/smscope.db") == "sqlite:///data/smscope.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("mysql://h/db", "unsupported database 'mysql'"),
        ("sqlite:////no/such/folder/x.db", "folder /no/such/folder does not exist"),
    ],
)
def test_bad_database_urls_get_a_clear_error(url: str, message: str) -> None:
    with pytest.raises(DatabaseError, match=message):
        Database(url)


def test_an_unreachable_postgresql_gets_a_clear_error() -> None:
    database = Database("postgresql://nobody:secret@127.0.0.1:9/none?connect_timeout=2")
    with pytest.raises(DatabaseError, match="cannot reach the database") as caught:
        database.ensure_schema()
    assert "secret" not in str(caught.value)


def test_utc_type_reads_naive_values_as_utc(db: Database) -> None:
    with db.transaction() as session:
        session.add(Contact(number="+33612345679", created_at=datetime(2026, 1, 1, 8, 0),
                            updated_at=datetime(2026, 1, 1, 8, 0, tzinfo=UTC)))
    with db.session() as session:
        assert session.scalars(select(Contact.created_at)).one() == datetime(
            2026, 1, 1, 8, 0, tzinfo=UTC)


def test_migration_0004_moves_ad_hoc_numbers_out_of_the_options(tmp_path: Path) -> None:
    """A campaign made before 0004 kept its ``--numbers`` list in ``options``; after the
    upgrade it is in ``campaigns.numbers`` and the other options stay."""
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = _alembic_config()
    with database.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        conn.execute(text(
            "INSERT INTO campaigns (name, sender, text, type, state, options, recipients, "
            "created_at, updated_at) VALUES ('c', 'S', 't', 'marketing', 'draft', :options, "
            "0, '2026-11-24 10:00:00.000000', '2026-11-24 10:00:00.000000')"),
            {"options": '{"numbers": [{"number": "+33612345678", "region": "FR"}], '
                        '"validity_seconds": 3600}'})
    database.upgrade()
    with database.session() as session:
        campaign = session.scalars(select(Campaign)).one()
        assert campaign.options == {"validity_seconds": 3600}
        assert campaign.numbers == [{"number": "+33612345678", "region": "FR"}]
    database.dispose()


def _stat_figures(database: Database) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with database.session() as session:
        stats = session.execute(select(
            StatCounter.bucket, StatCounter.campaign_id, StatCounter.region,
            StatCounter.sender, StatCounter.connector_id, StatCounter.name,
            StatCounter.value).where(StatCounter.value != 0)).all()
        latency = session.execute(
            select(Counter.campaign_id, Counter.list_id, Counter.name, Counter.value)
            .where(Counter.name.like("latency:%"), Counter.value != 0)).all()
    return sorted(map(tuple, stats)), sorted(map(tuple, latency))


def test_migration_0005_fills_the_statistics_as_the_pipeline_keeps_them(db: Database) -> None:
    """Statistics counters and delivery-time counters made from the stored messages
    (upgrade from 0004) equal the ones the pipeline kept as it went."""
    engine = Engine(db).setup()
    engine.contacts("a", [{"number": number(1)}, {"number": number(2)}])
    first = engine.campaign(lists=["a"], numbers=[number(3), "+447700900123"])
    ids = engine.send_all()
    later = NOW + timedelta(minutes=20)
    engine.campaign(numbers=[number(4)], name="second", now=later)
    ids.update(engine.send_all(later))
    engine.receipts([receipt(ids[number(1)], to=number(1)),
                     receipt(ids[number(3)], "UNDELIV", "001", to=number(3))],
                    NOW + timedelta(seconds=40))
    engine.receipts([receipt(ids[number(4)], to=number(4))], later + timedelta(hours=2))
    engine.replies([mo("STOP", frm=number(2)), mo("thanks", frm=number(1))],
                   NOW + timedelta(minutes=5))
    engine.report(first)
    kept = _stat_figures(db)
    assert kept[0] and kept[1]
    cfg = _alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
        command.upgrade(cfg, "head")
    assert _stat_figures(db) == kept
