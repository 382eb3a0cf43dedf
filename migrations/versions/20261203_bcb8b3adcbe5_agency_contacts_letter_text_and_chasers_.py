"""agency contacts, letter text and chasers, documents, follows, the mail outbox

Revision ID: bcb8b3adcbe5
Revises: 9a1d4c7e2b60
Create Date: 2026-12-03 13:28:07.776102
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import optout_tracker.db_types

revision: str = "bcb8b3adcbe5"
down_revision: str | None = "9a1d4c7e2b60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A table SQLite rebuilds keeps AUTOINCREMENT, so that ids are still never reused.
KEEP_IDS = {"sqlite_autoincrement": True}
# Letter purposes (a VARCHAR with a CHECK of its values), before and after `follow_up`.
PURPOSES_BEFORE = (
    "opt_out_request",
    "activation_delay_request",
    "clarification_request",
    "records_request",
    "other",
)
PURPOSES = (*PURPOSES_BEFORE[:3], "follow_up", *PURPOSES_BEFORE[3:])


def _purposes(values: Sequence[str]) -> sa.TextClause:
    return sa.text(f"purpose IN ({', '.join(repr(v) for v in values)})")


def upgrade() -> None:
    op.create_table(
        "follow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "target",
            sa.Enum(
                "jurisdiction",
                "state",
                "all",
                name="target",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column(
            "alerts",
            sa.Enum(
                "immediate",
                "daily",
                "weekly",
                "off",
                name="alerts",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(target = 'jurisdiction') = (jurisdiction_id IS NOT NULL)"
            " AND (target = 'state') = (state IS NOT NULL)",
            name=op.f("ck_follow_target_fields"),
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdiction.id"],
            name=op.f("fk_follow_jurisdiction_id_jurisdiction"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_follow_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("follow", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_follow_jurisdiction_id"), ["jurisdiction_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_follow_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_user_id"), ["user_id"], unique=False)

    op.create_table(
        "mail_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("unsubscribe_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "delivered",
                "failed",
                name="state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "locked_until", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("locked_by", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("sent_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_mail_message_user_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_message")),
        sa.UniqueConstraint("key", name=op.f("uq_mail_message_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.create_index("ix_mail_message_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mail_message_updated_at"), ["updated_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_message_user_id"), ["user_id"], unique=False)

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", optout_tracker.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(
            "(letter_id IS NULL) != (response_id IS NULL)", name=op.f("ck_document_one_record")
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_document_size_nonneg")),
        sa.ForeignKeyConstraint(
            ["letter_id"], ["letter.id"], name=op.f("fk_document_letter_id_letter")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_document_response_id_response")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_letter_id"), ["letter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_document_response_id"), ["response_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_document_updated_at"), ["updated_at"], unique=False)

    with op.batch_alter_table("agency", schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(
            sa.Column("website", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "contact_source_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True
            )
        )
        batch_op.add_column(sa.Column("contact_checked_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("response_window_days", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_agency_response_window_positive"), "response_window_days > 0"
        )

    with op.batch_alter_table("letter", schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_letter_purpose"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_letter_purpose"), _purposes(PURPOSES))
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("follows_letter_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_letter_follows_letter_id"), ["follows_letter_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_letter_follows_letter_id_letter"),
            "letter",
            ["follows_letter_id"],
            ["id"],
        )


def downgrade() -> None:
    # The old schema knows no chasers: they stay letters, of purpose `other`.
    op.execute("UPDATE letter SET purpose = 'other' WHERE purpose = 'follow_up'")
    with op.batch_alter_table("letter", schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_letter_follows_letter_id_letter"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_letter_follows_letter_id"))
        batch_op.drop_column("follows_letter_id")
        batch_op.drop_column("body")
        batch_op.drop_constraint(batch_op.f("ck_letter_purpose"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_letter_purpose"), _purposes(PURPOSES_BEFORE)
        )

    with op.batch_alter_table("agency", schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_agency_response_window_positive"), type_="check")
        batch_op.drop_column("response_window_days")
        batch_op.drop_column("contact_checked_on")
        batch_op.drop_column("contact_source_url")
        batch_op.drop_column("website")

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_updated_at"))
        batch_op.drop_index(batch_op.f("ix_document_response_id"))
        batch_op.drop_index(batch_op.f("ix_document_letter_id"))

    op.drop_table("document")
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_message_user_id"))
        batch_op.drop_index(batch_op.f("ix_mail_message_updated_at"))
        batch_op.drop_index("ix_mail_message_due")

    op.drop_table("mail_message")
    with op.batch_alter_table("follow", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_user_id"))
        batch_op.drop_index(batch_op.f("ix_follow_updated_at"))
        batch_op.drop_index(batch_op.f("ix_follow_state"))
        batch_op.drop_index(batch_op.f("ix_follow_jurisdiction_id"))

    op.drop_table("follow")
