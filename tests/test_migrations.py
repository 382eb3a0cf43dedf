"""Migrations build the schema the models describe, and take it down again, on both backends."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlmodel import Session, SQLModel

from optout_tracker import migrate, models  # noqa: F401  (registers the tables)
from optout_tracker.db import create_db_engine
from optout_tracker.history import load_history
from optout_tracker.seed import seed
from tests.conftest import DatabaseFactory, make_settings

TABLES = {"jurisdiction", "jurisdiction_status", "agency", "vote", "letter", "response"}


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


def test_migrations_keep_the_data_of_a_populated_database(databases: DatabaseFactory) -> None:
    engine = create_db_engine(make_settings(databases.new_url()))
    try:
        migrate.upgrade(engine)
        with Session(engine) as session:
            seed(session)
            load_history(session, 30)
            session.commit()
        counts = _counts(engine)

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
