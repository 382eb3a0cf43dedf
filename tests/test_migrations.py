"""Migrations build the schema the models describe, and take it down again, on both backends."""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, col

from optout_tracker import migrate, models  # noqa: F401  (registers the tables)
from optout_tracker.db import create_db_engine
from optout_tracker.i18n import Sentence
from tests.conftest import DatabaseFactory, make_settings

TABLES = {"jurisdiction", "jurisdiction_status", "agency", "vote", "letter", "response"}
BEFORE_AUTOINCREMENT = "3f6c2a9d1e47"
AUTOINCREMENT = "9a1d4c7e2b60"


def test_upgrade_to_head_and_back_to_base(databases: DatabaseFactory) -> None:
    engine = create_db_engine(make_settings(databases.new_url()))
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert TABLES <= set(sa.inspect(engine).get_table_names())

        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}

        migrate.upgrade(engine)  # and the way up works again after a full round trip
        assert TABLES <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_differ(databases: DatabaseFactory) -> None:
    engine = create_db_engine(make_settings(databases.new_url()))
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_constraints_are_enforced_by_the_database(databases: DatabaseFactory) -> None:
    engine = create_db_engine(make_settings(databases.new_url()))
    try:
        migrate.upgrade(engine)
        now = "2024-01-01 00:00:00+00:00"
        insert = (
            "INSERT INTO jurisdiction (name, kind, slug, state, created_at, updated_at, version) "
            f"VALUES ('X', '{{kind}}', '{{slug}}', 'CA', '{now}', '{now}', 1)"
        )
        with engine.begin() as conn:
            conn.exec_driver_sql(insert.format(kind="county", slug="ca-x"))
        for kind, slug in [("country", "ca-y"), ("county", "ca-x")]:  # bad enum, duplicate slug
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql(insert.format(kind=kind, slug=slug))
            except sa.exc.IntegrityError:
                continue
            raise AssertionError(f"accepted kind={kind} slug={slug}")
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO vote (jurisdiction_id, body, held_on, outcome, yes, created_at, "
                    "updated_at, version) VALUES (1, 'Board', '2010-01-01', 'passed', -1, "
                    f"'{now}', '{now}', 1)"
                )
        except sa.exc.IntegrityError:
            pass
        else:
            raise AssertionError("accepted a negative tally")
    finally:
        engine.dispose()


def test_migrations_keep_the_data_of_a_populated_database(
    databases: DatabaseFactory, history_engine: sa.Engine
) -> None:
    engine = create_db_engine(make_settings(databases.new_url()))
    try:
        migrate.upgrade(engine)
        _populate(engine, history_engine)
        counts = _counts(engine)
        assert all(counts.values()), counts

        # A batch alteration, as SQLite migrations do it: copy, drop, rename the table.
        with migrate.migration_connection(engine) as connection:
            context = MigrationContext.configure(connection, opts={"render_as_batch": True})
            with Operations(context).batch_alter_table("jurisdiction") as batch:
                batch.alter_column("name", type_=sa.String(250), existing_type=sa.String(200))
        assert _counts(engine) == counts

        migrate.downgrade(engine, "base")
        migrate.upgrade(engine)
        assert TABLES <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.scalar(sa.text(f"SELECT count(*) FROM {t}")) or 0 for t in sorted(TABLES)}


def _shape(engine: sa.Engine) -> dict[str, Any]:
    """Each table's columns, keys, indexes and checks as the database reports them."""
    inspector = sa.inspect(engine)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            inspector.get_pk_constraint(table)["constrained_columns"],
            sorted(str(fk) for fk in inspector.get_foreign_keys(table)),
            sorted(str(i) for i in inspector.get_indexes(table)),
            sorted(str(u) for u in inspector.get_unique_constraints(table)),
            sorted(str(c) for c in inspector.get_check_constraints(table)),
        )
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }


def _newest_ids(engine: sa.Engine) -> dict[str, int]:
    tables = _tables(engine)
    with engine.connect() as conn:
        return {
            t.name: conn.scalar(sa.select(sa.func.max(t.c.id))) or 0
            for t in tables.sorted_tables
            if "id" in t.c and t.c.id.primary_key
        }


def _tables(engine: sa.Engine) -> sa.MetaData:
    """The tables as the database has them (an older revision lacks the models' newest)."""
    tables = sa.MetaData()
    tables.reflect(engine)
    return tables


def _populate(engine: sa.Engine, source: sa.Engine) -> None:
    """Fill a database (at an older revision, say) as the code of then would have: copy each
    row's columns that its tables have from `source`, the run's shared database with the
    reference data and the history, which this only reads. (Today's models cannot write to
    yesterday's tables; loading the history again would take seconds.)"""
    current = _tables(source).tables
    with source.connect() as read, engine.begin() as write:
        for table in _tables(engine).sorted_tables:
            if table.name == "alembic_version" or write.scalar(
                sa.select(sa.func.count()).select_from(table)
            ):
                continue  # rows the migrations made themselves (data_version's one row)
            columns = [current[table.name].c[c.name] for c in table.c]
            # By id, so that a row referring to an earlier one of its table follows it.
            rows = read.execute(sa.select(*columns).order_by(*table.primary_key.columns))
            texts = [c.name for c in table.c if isinstance(c.type, sa.Text)]
            if batch := [_then(dict(r._mapping), texts) for r in rows]:
                write.execute(table.insert(), batch)
        if engine.dialect.name == "postgresql":  # the sequences, past the copied ids
            for table in _tables(engine).sorted_tables:
                if "id" in table.c and table.c.id.primary_key:
                    write.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'coalesce((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                    )


def _then(row: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    """A row as an older revision kept it: a status reason, a sentence with its parts since
    5e0d7b4c9f12, was its English text before."""
    for name in texts:
        if isinstance(row[name], dict):
            row[name] = str(Sentence.from_json(row[name]))
    return row


def test_ids_are_never_reused_after_the_migration_that_keeps_them(
    databases: DatabaseFactory, history_engine: sa.Engine
) -> None:
    engine = create_db_engine(make_settings(databases.new_url()))
    try:
        migrate.upgrade(engine, BEFORE_AUTOINCREMENT)
        _populate(engine, history_engine)
        shape, counts, newest = _shape(engine), _counts(engine), _newest_ids(engine)

        migrate.upgrade(engine, AUTOINCREMENT)
        assert _shape(engine) == shape  # every column, key, index and check kept
        assert _counts(engine) == counts and _newest_ids(engine) == newest  # rows and ids kept

        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master").all()
            ddl: dict[str, str] = {name: sql or "" for name, sql in rows}
            assert all("AUTOINCREMENT" in ddl[table] for table in newest), ddl
        # Delete the newest jurisdiction, add one: its id is new.
        with engine.begin() as conn:
            conn.execute(
                sa.delete(models.JurisdictionStatus).where(
                    col(models.JurisdictionStatus.jurisdiction_id) == newest["jurisdiction"]
                )
            )
            conn.execute(
                sa.delete(models.Jurisdiction).where(
                    col(models.Jurisdiction.id) == newest["jurisdiction"]
                )
            )
            now = sa.func.current_timestamp()
            made = conn.execute(
                sa.insert(models.Jurisdiction).values(
                    name="X",
                    kind="city",
                    slug="ca-x",
                    state="CA",
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            ).inserted_primary_key
        assert made is not None and made[0] > newest["jurisdiction"]

        migrate.downgrade(engine, BEFORE_AUTOINCREMENT)  # and back, rows still there
        assert _shape(engine) == shape
    finally:
        engine.dispose()


BEFORE_MESSAGE_ID = "6c1e9a0f3b27"


def test_deliveries_made_before_message_ids_are_their_own_message(
    databases: DatabaseFactory,
) -> None:
    """A delivery queued before an upgrade goes out afterwards with webhook-id = its uuid."""
    engine = create_db_engine(make_settings(databases.new_url()))
    uuids = ["1b4e28ba-2fa1-11d2-883f-0016d3cca427", "6fa459ea-ee8a-3ca4-894e-db77e160355e"]
    try:
        migrate.upgrade(engine, BEFORE_MESSAGE_ID)
        tables = _tables(engine).tables
        now = datetime.now(UTC)
        stamps = {"created_at": now, "updated_at": now, "version": 1}
        with engine.begin() as conn:
            made = conn.execute(
                tables["webhook"]
                .insert()
                .values(
                    url="https://partner.example/hook",
                    secret="s" * 16,
                    events=["*"],
                    active=True,
                    **stamps,
                )
            ).inserted_primary_key
            assert made is not None
            hook_id = made[0]
            conn.execute(
                tables["webhook_delivery"].insert(),
                [
                    {
                        "webhook_id": hook_id,
                        "uuid": u,
                        "event": "vote.created",
                        "body": "{}",
                        "state": "pending",
                        "attempt_count": 0,
                        **stamps,
                    }  # fmt: skip
                    for u in uuids
                ],
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT uuid, message_id FROM webhook_delivery")).all()
        assert sorted(rows) == [(u, u) for u in sorted(uuids)]
        column = next(
            c
            for c in sa.inspect(engine).get_columns("webhook_delivery")
            if c["name"] == "message_id"
        )
        assert column["nullable"] is False
    finally:
        engine.dispose()
