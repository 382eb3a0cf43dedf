"""Database tables. API shapes live in schemas.py; the campaign rules in status.py."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from .db_types import SentenceJSON, UTCDateTime, enum_column, utcnow
from .enums import (
    ActorKind,
    AgencyKind,
    Alerts,
    AnnouncementEffect,
    AuditAction,
    CampaignStatus,
    Channel,
    DeliveryState,
    EffectiveVia,
    FollowTarget,
    JurisdictionKind,
    LetterPurpose,
    ResponseKind,
    Role,
    Scope,
    VoteOutcome,
    VoteTopic,
)
from .i18n import Sentence

# Named constraints make migrations reproducible and SQLite batch alterations possible.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TEXT = sa.Text()


def _updated_at(*, index: bool) -> Any:
    """When the row last changed (set on every UPDATE); indexed for `updated_since`."""
    return Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        sa_column_kwargs={"nullable": False, "onupdate": utcnow},
        index=index,
    )


class Tracked(SQLModel):
    """id, timestamps and an optimistic-lock version on every table."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"nullable": False}
    )
    updated_at: datetime = _updated_at(index=True)
    version: int = Field(default=1, nullable=False)

    # SQLAlchemy bumps `version` on every UPDATE and adds `AND version = :old` to it, so a
    # concurrent writer's change fails loudly instead of being overwritten.
    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class Jurisdiction(Tracked, table=True):
    name: str = Field(max_length=200, index=True)
    kind: JurisdictionKind = Field(sa_type=enum_column(JurisdictionKind, "kind"), index=True)
    slug: str = Field(max_length=120, unique=True)
    state: str = Field(max_length=2, index=True)
    parent_id: int | None = Field(default=None, foreign_key="jurisdiction.id", index=True)
    fips: str | None = Field(default=None, max_length=7, unique=True)
    ocd_id: str | None = Field(default=None, max_length=200, unique=True)
    population: int | None = Field(default=None)
    scheduled_activation_on: date | None = Field(default=None, index=True)
    activated_on: date | None = Field(default=None, index=True)
    public_notes: str | None = Field(default=None, sa_type=TEXT)
    private_notes: str | None = Field(default=None, sa_type=TEXT)

    __table_args__ = (sa.CheckConstraint("population >= 0", name="population_nonneg"),)


class JurisdictionStatus(SQLModel, table=True):
    """The derived campaign status, written only by services.status_projection."""

    __tablename__ = "jurisdiction_status"
    model_config = {"arbitrary_types_allowed": True}  # the Sentence of status_reason

    jurisdiction_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("jurisdiction.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    status: CampaignStatus = Field(
        default=CampaignStatus.no_action,
        sa_type=enum_column(CampaignStatus, "status"),
        index=True,
    )
    status_since: date | None = Field(default=None, index=True)
    # Said in each reader's language: the deciding event's sentence, with its parts.
    status_reason: Sentence | None = Field(default=None, sa_type=SentenceJSON)
    sib_notified: bool = False
    ice_notified: bool = False
    notice_complete: bool = Field(default=False, index=True)
    awaiting_response: bool = Field(default=False, index=True)
    # Earliest due date among unanswered notice letters: `overdue` is this < today, so it
    # stays true to the calendar without a nightly job.
    next_response_due_on: date | None = Field(default=None, index=True)
    next_vote_on: date | None = None
    campaign_closed_on: date | None = None
    # The campaign that covers the jurisdiction: its own, or its state's (status.effective_status).
    effective_status: CampaignStatus = Field(
        default=CampaignStatus.no_action,
        sa_type=enum_column(CampaignStatus, "effective_status"),
        sa_column_kwargs={"server_default": CampaignStatus.no_action.value},
        index=True,
    )
    effective_status_since: date | None = None
    effective_status_via: EffectiveVia = Field(
        default=EffectiveVia.own,
        sa_type=enum_column(EffectiveVia, "effective_status_via"),
        sa_column_kwargs={"server_default": EffectiveVia.own.value},
    )
    activated_despite_opt_out: bool = Field(
        default=False, index=True, sa_column_kwargs={"server_default": sa.false()}
    )
    # The first date after the one derived for with an event recorded: the stored answer
    # stays today's until then (status_projection.keep_current derives it again on that day).
    recompute_on: date | None = Field(default=None, index=True)
    # Bumped whenever a derived value changes; part of the jurisdiction's ETag.
    revision: int = 1
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"nullable": False}
    )


class Agency(Tracked, table=True):
    name: str = Field(max_length=200)
    kind: AgencyKind = Field(sa_type=enum_column(AgencyKind, "kind"), index=True)
    state: str | None = Field(default=None, max_length=2, index=True)
    email: str | None = Field(default=None, max_length=254)
    fax: str | None = Field(default=None, max_length=40)
    postal_address: str | None = Field(default=None, sa_type=TEXT)
    website: str | None = Field(default=None, max_length=2000)
    # Where and when the contact details above were confirmed: empty ones stay unknown.
    contact_source_url: str | None = Field(default=None, max_length=2000)
    contact_checked_on: date | None = None
    response_window_days: int | None = None  # else the settings' window
    notes: str | None = Field(default=None, sa_type=TEXT)

    __table_args__ = (
        sa.CheckConstraint("response_window_days > 0", name="response_window_positive"),
    )


class Vote(Tracked, table=True):
    jurisdiction_id: int = Field(foreign_key="jurisdiction.id", index=True)
    body: str = Field(max_length=200)
    held_on: date = Field(index=True)
    measure: str | None = Field(default=None, max_length=500)
    topic: VoteTopic = Field(
        default=VoteTopic.opt_out,
        sa_type=enum_column(VoteTopic, "topic"),
        sa_column_kwargs={"server_default": VoteTopic.opt_out.value},  # rows of before topics
    )  # no index: nearly every vote is an opt-out vote (migration 4b7e2f1c9a35)
    outcome: VoteOutcome = Field(sa_type=enum_column(VoteOutcome, "outcome"), index=True)
    yes: int | None = None
    no: int | None = None
    abstain: int | None = None
    absent: int | None = None
    source_url: str | None = Field(default=None, max_length=2000)
    public_notes: str | None = Field(default=None, sa_type=TEXT)
    private_notes: str | None = Field(default=None, sa_type=TEXT)

    __table_args__ = tuple(
        sa.CheckConstraint(f"{c} >= 0", name=f"{c}_nonneg")
        for c in ("yes", "no", "abstain", "absent")
    )


class Letter(Tracked, table=True):
    jurisdiction_id: int = Field(foreign_key="jurisdiction.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    channel: Channel | None = Field(
        default=None, sa_type=enum_column(Channel, "channel"), index=True
    )
    sent_on: date = Field(index=True)
    purpose: LetterPurpose = Field(sa_type=enum_column(LetterPurpose, "purpose"), index=True)
    signed_by: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=500)
    summary: str | None = Field(default=None, sa_type=TEXT)
    body: str | None = Field(default=None, sa_type=TEXT)  # the letter's full text
    document_url: str | None = Field(default=None, max_length=2000)
    follows_letter_id: int | None = Field(default=None, foreign_key="letter.id", index=True)
    response_due_on: date = Field(index=True)
    # The language the site wrote the text in (notice, chaser: the organizer's choice); None
    # for a text it did not write. With it, for reading only, the same letter in the other
    # language the site speaks ({"subject", "body"}), written from the same records at once;
    # dropped when the text or the subject is edited, as it no longer translates them.
    language: str | None = Field(default=None, max_length=5)
    translation: dict[str, str | None] | None = Field(
        default=None, sa_type=sa.JSON(none_as_null=True)
    )


class Response(Tracked, table=True):
    jurisdiction_id: int = Field(foreign_key="jurisdiction.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    letter_id: int | None = Field(default=None, foreign_key="letter.id", index=True)
    received_on: date = Field(index=True)
    channel: Channel | None = Field(default=None, sa_type=enum_column(Channel, "channel"))
    kind: ResponseKind = Field(sa_type=enum_column(ResponseKind, "kind"), index=True)
    summary: str | None = Field(default=None, sa_type=TEXT)
    new_activation_on: date | None = None
    document_url: str | None = Field(default=None, max_length=2000)

    __table_args__ = (
        sa.CheckConstraint(
            "kind != 'activation_date_adjusted' OR new_activation_on IS NOT NULL",
            name="new_activation_required",
        ),
    )


class Announcement(Tracked, table=True):
    """Said by an agency to every campaign in its scope at once."""

    agency_id: int = Field(foreign_key="agency.id", index=True)
    announced_on: date = Field(index=True)
    scope: str = Field(max_length=8, index=True)  # "national" or a USPS state code
    effect: AnnouncementEffect = Field(
        sa_type=enum_column(AnnouncementEffect, "effect"), index=True
    )
    title: str = Field(max_length=200)
    summary: str | None = Field(default=None, sa_type=TEXT)
    source_url: str | None = Field(default=None, max_length=2000)
    public_notes: str | None = Field(default=None, sa_type=TEXT)
    private_notes: str | None = Field(default=None, sa_type=TEXT)


class Document(Tracked, table=True):
    """A scan or file attached to a letter or a response. The bytes live in the database,
    so that every app process serves them and a backup holds them."""

    __table_args__ = (
        sa.CheckConstraint("(letter_id IS NULL) != (response_id IS NULL)", name="one_record"),
        sa.CheckConstraint("size >= 0", name="size_nonneg"),
    )

    letter_id: int | None = Field(default=None, foreign_key="letter.id", index=True)
    response_id: int | None = Field(default=None, foreign_key="response.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    public: bool = False
    content: bytes = Field(sa_type=sa.LargeBinary)


class User(Tracked, table=True):
    email: str = Field(max_length=254, unique=True)  # stored lower-cased
    password_hash: str = Field(max_length=200)
    role: Role = Field(sa_type=enum_column(Role, "role"))
    active: bool = True
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The language of their pages (once signed in) and of their mail; None: not chosen yet.
    locale: str | None = Field(default=None, max_length=5)


class ApiKey(Tracked, table=True):
    __tablename__ = "api_key"

    name: str = Field(max_length=200)
    scope: Scope = Field(sa_type=enum_column(Scope, "scope"))
    # The token is "optk_<prefix>_<secret>"; the prefix finds the row, the hash proves the rest.
    prefix: str = Field(max_length=16, unique=True)
    key_hash: str = Field(max_length=64)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(Tracked, table=True):
    __tablename__ = "audit_entry"
    # No index leads with entity or actor kind, columns of a few common values: SQLite would
    # pick it for `entity IN (...) ORDER BY id DESC LIMIT 50` and sort the whole log, where
    # reading the newest rows by id stops after 50. (`action` keeps its own: deletions are
    # rare and syncing partners ask for them.) An import adds a row per record, so each
    # index costs time too.
    __table_args__ = (
        sa.Index("ix_audit_entry_record", "entity_id", "entity"),
        sa.Index("ix_audit_entry_actor", "actor_id", "actor_kind"),
        sa.Index("ix_audit_entry_created_at", "created_at"),  # the log's order, time filters
    )

    actor_kind: ActorKind = Field(sa_type=enum_column(ActorKind, "actor_kind"))
    actor_id: int | None = None
    actor_label: str = Field(max_length=254)
    action: AuditAction = Field(sa_type=enum_column(AuditAction, "action"), index=True)
    # Without the index: an entry is never updated, and the audit list's updated_since and
    # sort read created_at (api/audit.py).
    updated_at: datetime = _updated_at(index=False)
    entity: str = Field(max_length=40)
    entity_id: int
    jurisdiction_id: int | None = Field(default=None, index=True)  # kept after a delete
    # {field: [before, after]}: values as JSON would show them.
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class DataVersion(SQLModel, table=True):
    """One row: the token that each commit changing public data replaces (data_version.py)."""

    __tablename__ = "data_version"
    __table_args__ = (sa.CheckConstraint("id = 1", name="one_row"),)

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    token: int = Field(sa_type=sa.BigInteger)


class IdempotencyKey(Tracked, table=True):
    """A POST's answer, kept so that a retry with the same key gets it again."""

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("actor", "key", name="actor_key"),)

    actor: str = Field(max_length=60)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: str = Field(sa_type=TEXT)
    location: str | None = Field(default=None, max_length=500)
    etag: str | None = Field(default=None, max_length=200)


class UserSession(Tracked, table=True):
    """A signed-in browser. Its cookie holds a random token and this row only the token's
    hash, so that signing out or deactivation ends the session on the server."""

    __tablename__ = "user_session"
    # Sessions expire by age, and sign-in deletes the expired ones.
    __table_args__ = (sa.Index("ix_user_session_created_at", "created_at"),)

    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)


class LoginThrottle(Tracked, table=True):
    """Sign-in attempts per email and client address, shared by every app process through
    the database (services/accounts.py explains why per client)."""

    __tablename__ = "login_throttle"
    __table_args__ = (sa.UniqueConstraint("email", "client", name="email_client"),)

    email: str = Field(max_length=254)
    client: str = Field(max_length=100)
    failures: int = 0
    last_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DatasetRecord(Tracked, table=True):
    """What a dataset load made from which source row, so that a re-run skips it for good,
    even after users edited or deleted what it made."""

    __tablename__ = "dataset_record"
    __table_args__ = (sa.UniqueConstraint("dataset", "key", name="dataset_key"),)

    dataset: str = Field(max_length=60)
    key: str = Field(max_length=300)
    entity: str = Field(max_length=40)
    entity_id: int | None = None


class Webhook(Tracked, table=True):
    """A partner's subscription: which events to POST to which URL, signed with `secret`."""

    url: str = Field(max_length=2000)
    # Kept in clear: it keys the HMAC of every delivery. Shown once, never listed.
    secret: str = Field(max_length=200)
    events: list[str] = Field(default_factory=lambda: ["*"], sa_type=sa.JSON)
    active: bool = True
    description: str | None = Field(default=None, max_length=200)


class WebhookDelivery(Tracked, table=True):
    """The outbox: one event for one subscription, written in the transaction of the change."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # What the worker asks for: pending deliveries by due time.
        sa.Index("ix_webhook_delivery_due", "state", "next_attempt_at"),
    )

    webhook_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("webhook.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    # Sent as X-Optout-Delivery, the same on every retry (a redelivery has its own).
    uuid: str = Field(max_length=36, unique=True)
    # Sent as webhook-id: the event's, the same on every retry and on every redelivery of it
    # (the first delivery's uuid), as Standard Webhooks has it.
    message_id: str = Field(max_length=36)
    event: str = Field(max_length=60, index=True)
    body: str = Field(sa_type=TEXT)  # the exact bytes signed and sent, fixed at the change
    state: DeliveryState = Field(
        default=DeliveryState.pending, sa_type=enum_column(DeliveryState, "state")
    )
    attempt_count: int = 0
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # A worker's claim: others skip the delivery until the lease runs out.
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_by: str | None = Field(default=None, max_length=60)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookAttempt(Tracked, table=True):
    """One POST of a delivery and what came back."""

    __tablename__ = "webhook_attempt"

    delivery_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("webhook_delivery.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    number: int
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    response_excerpt: str | None = Field(default=None, max_length=500)
    duration_ms: int = 0


class Follow(Tracked, table=True):
    """A user follows a jurisdiction, a state or everything, and how alerts reach them."""

    __table_args__ = (
        sa.CheckConstraint(
            "(target = 'jurisdiction') = (jurisdiction_id IS NOT NULL)"
            " AND (target = 'state') = (state IS NOT NULL)",
            name="target_fields",
        ),
    )

    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    target: FollowTarget = Field(sa_type=enum_column(FollowTarget, "target"))
    jurisdiction_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("jurisdiction.id", ondelete="CASCADE"), index=True
        ),
    )
    state: str | None = Field(default=None, max_length=2, index=True)
    alerts: Alerts = Field(default=Alerts.immediate, sa_type=enum_column(Alerts, "alerts"))
    # The language of the request that made it: its mail's, while the user has chosen none.
    locale: str | None = Field(default=None, max_length=5)


class MailMessage(Tracked, table=True):
    """The mail outbox: one message to one person, written in the transaction of what it
    tells (or by the digest run), sent by the worker with retries."""

    __tablename__ = "mail_message"
    __table_args__ = (sa.Index("ix_mail_message_due", "state", "next_attempt_at"),)

    # What the message is about, once per recipient ("alert:status:12:2026-12-03:user:4",
    # "digest:daily:2026-12-03:user:4"): a change, or a digest run twice, mails once.
    key: str = Field(max_length=200, unique=True)
    user_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("user.id", ondelete="SET NULL"), index=True),
    )
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    text_body: str = Field(sa_type=TEXT)
    html_body: str = Field(sa_type=TEXT)
    unsubscribe_url: str | None = Field(default=None, max_length=2000)
    state: DeliveryState = Field(
        default=DeliveryState.pending, sa_type=enum_column(DeliveryState, "state")
    )
    attempt_count: int = 0
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_by: str | None = Field(default=None, max_length=60)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)


# SQLite hands the largest id out again once its row is deleted: a partner syncing by id
# would take the new record for the deleted one. AUTOINCREMENT never reuses an id.
for _table in SQLModel.metadata.tables.values():
    if [c.name for c in _table.primary_key] == ["id"]:
        _table.dialect_kwargs["sqlite_autoincrement"] = True
