"""API shapes: what the JSON API accepts and answers (tables are in models.py)."""

from datetime import UTC, date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from .enums import (
    AgencyKind,
    CampaignStatus,
    Channel,
    JurisdictionKind,
    LetterPurpose,
    ResponseKind,
    VoteOutcome,
)
from .refdata import state_codes

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER: larger values would reach the database and fail there


def _known_state(code: str) -> str:
    if code not in state_codes():
        raise ValueError(f"{code!r} is not a USPS code of a state or DC")
    return code


def _assume_utc(value: datetime) -> datetime:
    # A timestamp without an offset is read as UTC, the zone of every stored timestamp.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


StateCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True),
    AfterValidator(_known_state),
]
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
Timestamp = Annotated[datetime, AfterValidator(_assume_utc)]
T = TypeVar("T")
Fips = Annotated[str, StringConstraints(pattern=r"^(\d{2}|\d{5}|\d{7})$")]


class Record(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime
    version: int


class JurisdictionPublic(Record):
    name: str
    kind: JurisdictionKind
    slug: str
    state: str
    parent_id: int | None
    fips: str | None
    ocd_id: str | None
    population: int | None
    scheduled_activation_on: date | None
    activated_on: date | None
    public_notes: str | None
    status: CampaignStatus
    status_label: str
    status_since: date | None
    status_reason: str | None
    sib_notified: bool
    ice_notified: bool
    notice_complete: bool
    awaiting_response: bool
    next_response_due_on: date | None
    overdue: bool
    activated: bool


class AgencyPublic(Record):
    name: str
    kind: AgencyKind
    state: str | None
    email: str | None
    fax: str | None
    postal_address: str | None
    notes: str | None


class VotePublic(Record):
    jurisdiction_id: int
    body: str
    held_on: date
    measure: str | None
    outcome: VoteOutcome
    yes: int | None
    no: int | None
    abstain: int | None
    absent: int | None
    source_url: str | None
    public_notes: str | None


class LetterPublic(Record):
    jurisdiction_id: int
    agency_id: int
    channel: Channel | None
    sent_on: date
    purpose: LetterPurpose
    signed_by: str | None
    subject: str | None
    summary: str | None
    document_url: str | None
    response_due_on: date


class ResponsePublic(Record):
    jurisdiction_id: int
    agency_id: int
    letter_id: int | None
    received_on: date
    channel: Channel | None
    kind: ResponseKind
    summary: str | None
    new_activation_on: date | None
    document_url: str | None


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class TimelineEntry(BaseModel):
    type: Literal["vote", "letter", "response"]
    date: date
    stage: CampaignStatus | None = Field(description="The stage this event sets, if any.")
    description: str
    agency_id: int | None
    record: VotePublic | LetterPublic | ResponsePublic


class Timeline(BaseModel):
    jurisdiction_id: int
    status: CampaignStatus
    items: list[TimelineEntry]


class StatusCounts(BaseModel):
    total: int
    counts: dict[CampaignStatus, int]


class StatusSummary(BaseModel):
    as_of: date
    overall: StatusCounts
    by_state: dict[str, StatusCounts]


class FipsStatus(BaseModel):
    fips: str
    id: int
    slug: str
    name: str
    kind: JurisdictionKind
    state: str
    status: CampaignStatus
    status_since: date | None
    notice_complete: bool
    overdue: bool
    activated: bool


# Query parameters. Unknown parameters are refused so a misspelt filter is a 422, not
# a silently unfiltered list.


class ListParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=500, description="Page size, 1–500.")
    offset: int = Field(0, ge=0, le=MAX_ID, description="Items to skip.")
    sort: str | None = Field(None, description="A field name; prefix with - for descending.")
    updated_since: Timestamp | None = Field(
        None, description="Changed at or after (ISO 8601; UTC when no offset is given)."
    )


class JurisdictionFilters(ListParams):
    state: StateCode | None = None
    kind: JurisdictionKind | None = None
    status: CampaignStatus | None = None
    fips: Fips | None = None
    ocd_id: str | None = None
    slug: str | None = None
    parent_id: RecordId | None = None
    q: str | None = Field(None, min_length=1, max_length=100, description="Name contains.")
    overdue: bool | None = None
    awaiting_response: bool | None = None
    notice_complete: bool | None = None
    activated: bool | None = None
    activated_on_from: date | None = None
    activated_on_to: date | None = None
    scheduled_activation_on_from: date | None = None
    scheduled_activation_on_to: date | None = None
    status_since_from: date | None = None
    status_since_to: date | None = None


class AgencyFilters(ListParams):
    kind: AgencyKind | None = None
    state: StateCode | None = None
    q: str | None = Field(None, min_length=1, max_length=100, description="Name contains.")


class EventFilters(ListParams):
    jurisdiction_id: RecordId | None = None
    state: StateCode | None = Field(None, description="USPS code of the jurisdiction.")


class VoteFilters(EventFilters):
    outcome: VoteOutcome | None = None
    held_on_from: date | None = None
    held_on_to: date | None = None


class LetterFilters(EventFilters):
    agency_id: RecordId | None = None
    purpose: LetterPurpose | None = None
    channel: Channel | None = None
    sent_on_from: date | None = None
    sent_on_to: date | None = None
    response_due_on_from: date | None = None
    response_due_on_to: date | None = None


class ResponseFilters(EventFilters):
    agency_id: RecordId | None = None
    letter_id: RecordId | None = None
    kind: ResponseKind | None = None
    received_on_from: date | None = None
    received_on_to: date | None = None


class SummaryFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: JurisdictionKind | None = None


class ByFipsFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: StateCode | None = None
    kind: JurisdictionKind | None = None
    status: CampaignStatus | None = None
