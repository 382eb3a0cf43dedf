"""API shapes: what the JSON API accepts and answers (tables are in models.py)."""

import re
from collections.abc import Mapping, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import UnionType
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Generic,
    Literal,
    Optional,
    Self,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
)

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import core_schema
from sqlalchemy import JSON
from sqlmodel import SQLModel
from typing_extensions import TypedDict  # pydantic needs its own before Python 3.12

from .enums import (
    PAST_TENSE,
    STATUS_CHANGED,
    TEST_EVENT,
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
    Rollout,
    Scope,
    VoteOutcome,
    VoteTopic,
)
from .i18n import Sentence
from .models import (
    Agency,
    Announcement,
    AuditEntry,
    Jurisdiction,
    Letter,
    Response,
    Vote,
    Webhook,
    WebhookDelivery,
)
from .refdata import state_codes
from .status import Step

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER: larger values would reach the database and fail there


def _known_state(code: str) -> str:
    if code not in state_codes():
        raise ValueError(Sentence("{code} is not a USPS code of a state or DC", code=repr(code)))
    return code


def _assume_utc(value: datetime) -> datetime:
    # A timestamp without an offset is read as UTC, the zone of every stored timestamp.
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError(Sentence("is outside the years 1–9999 once converted to UTC")) from None


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _refuse_nul(value: Any) -> Any:
    # PostgreSQL cannot store NUL, XML (the feeds) cannot carry other control characters, and
    # no person types them; tabs and line breaks are fine.
    if isinstance(value, str) and CONTROL.search(value):
        raise ValueError(Sentence("must not contain control characters"))
    return value


class Input(BaseModel):
    """Anything a client sends: unknown fields refused, NUL characters refused everywhere."""

    model_config = ConfigDict(extra="forbid")

    # Checks every field of every CSV row an import reads, so it is called directly.
    _no_nul = field_validator("*", mode="before")(_refuse_nul)


class QueryInput(Input):
    """Query parameters, from a link or a GET form. A browser sends a form's empty fields
    too (`?kind=&status=`): an empty value means the parameter was not given."""

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {name: value for name, value in data.items() if value != ""}
        return data


StateCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True),
    AfterValidator(_known_state),
]
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
Timestamp = Annotated[datetime, AfterValidator(_assume_utc)]
T = TypeVar("T")
Fips = Annotated[str, StringConstraints(pattern=r"^(\d{2}|\d{5}|\d{7})$")]


PRIVATE_FIELDS = frozenset({"private_notes"})


PRIVATE_NOTE = "Only for signed-in users and API keys; absent for anonymous callers."


def _plain(annotation: Any) -> Any:
    """The type without its constraints: `Text200 | None` is `str | None`."""
    if get_origin(annotation) is Annotated:
        return _plain(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return Union[tuple(_plain(a) for a in get_args(annotation))]  # noqa: UP007
    return annotation


def _rebuild(cls: type[BaseModel], fields: dict[str, FieldInfo]) -> None:
    cls.__pydantic_fields__ = fields
    cls.model_rebuild(force=True)


class Record(BaseModel):
    """A stored record as the API shows it.

    The fields a subclass gets from a kind's `...Fields` are shown with their plain types,
    each present (null when empty): their constraints are the input's, checked when the
    values came in. A private field may be left out (see hide_private).
    """

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        shown = {
            n
            for c in cls.__mro__
            if issubclass(c, Record)
            for n in vars(c).get("__annotations__", {})
        }
        fields = dict(cls.model_fields)
        for name in fields.keys() - shown:
            plain = _plain(fields[name].annotation)
            private = name in PRIVATE_FIELDS
            fields[name] = (
                FieldInfo(annotation=plain, default=None, description=PRIVATE_NOTE)
                if private
                else FieldInfo(annotation=plain)
            )
        if fields.keys() - shown:
            _rebuild(cls, fields)

    @model_serializer(mode="wrap")
    def _omit_hidden(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Private fields a caller may not see are left out, not shown as null (see hide_private).
        data: dict[str, Any] = handler(self)
        for name in PRIVATE_FIELDS - self.model_fields_set:
            data.pop(name, None)
        return data

    def hide_private(self) -> Self:
        """This record without its private fields, for callers who may not see them."""
        shown = self.model_copy(update=dict.fromkeys(PRIVATE_FIELDS & set(type(self).model_fields)))
        shown.model_fields_set.difference_update(PRIVATE_FIELDS)
        return shown


# Each kind of record declares its fields once, in `...Fields`, with the types its input is
# checked with; its Create, Update and Public shapes derive from them. Unknown fields are
# refused; PATCH bodies change only the fields they name.

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text500 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
WEB_ADDRESS = re.compile(r"https?://\S+")


def _web_address(value: str) -> str:
    # Checked here rather than as a pattern constraint, whose error quotes the regex.
    if not WEB_ADDRESS.fullmatch(value):
        raise ValueError(Sentence("must be an http:// or https:// URL without spaces"))
    return value


Url = Annotated[
    str,
    StringConstraints(max_length=2000),
    AfterValidator(_web_address),
    # The document still gives the pattern, for clients and generated test data.
    WithJsonSchema({"type": "string", "maxLength": 2000, "pattern": f"^{WEB_ADDRESS.pattern}$"}),
]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=120)]
OCD_PATTERN = r"^ocd-division/country:[a-z]{2}(/[^/\s]+:[^/\s]+)*$"
OcdId = Annotated[str, StringConstraints(pattern=OCD_PATTERN, max_length=200)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
# Strict: JSON `true` is not a tally of 1, nor "3" an id.
Tally = Annotated[StrictInt, Field(ge=0, le=100_000)]
BodyId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Fax = Annotated[str, StringConstraints(pattern=r"^[0-9+()\-. ]{5,40}$")]
FIPS_LENGTHS = {
    JurisdictionKind.state: {2},
    JurisdictionKind.territory: {2},
    JurisdictionKind.federal_district: {2, 5},
    JurisdictionKind.county: {5},
    JurisdictionKind.city: {7},
}


class WriteModel(Input):
    pass


class Partial(WriteModel):
    """Every field optional and without a default, for a PATCH body that names only what
    it changes (the descriptions are the create's)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        fields = {}
        for name, field in cls.model_fields.items():
            optional = copy(field)
            # The constraints and validators go with the type they check, inside the
            # Optional: a null is never handed to them (records.changes_of refuses a null
            # where the column needs a value).
            checked = (
                Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
            )
            optional.annotation = cast(Any, Optional[checked])  # noqa: UP045
            optional.metadata = []
            optional.default = None
            optional.description = None
            fields[name] = optional
        _rebuild(cls, fields)


class JurisdictionFields(BaseModel):
    name: Text200
    kind: JurisdictionKind
    slug: Slug | None = Field(None, description="Derived from state and name when omitted.")
    state: StateCode
    parent_id: BodyId | None = Field(None, description="Defaults to the state's jurisdiction.")
    fips: Fips | None = None
    ocd_id: OcdId | None = None
    population: Annotated[StrictInt, Field(ge=0, le=1_000_000_000)] | None = None
    scheduled_activation_on: date | None = None
    activated_on: date | None = None
    public_notes: LongText | None = None
    private_notes: LongText | None = None


class JurisdictionCreate(WriteModel, JurisdictionFields):
    pass


class JurisdictionUpdate(Partial, JurisdictionFields):
    if TYPE_CHECKING:  # every field optional, as Partial makes them

        def __init__(self, **fields: Any) -> None: ...


class JurisdictionPublic(JurisdictionFields, Record):
    slug: str  # always set once created
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
    next_vote_on: date | None
    campaign_closed_on: date | None
    effective_status: CampaignStatus = Field(
        description="The status of the campaign that covers it: its own, or its state's."
    )
    effective_status_since: date | None
    effective_status_via: EffectiveVia
    activated_despite_opt_out: bool
    as_of: date = Field(description="The day the derived fields above are as of.")


class AgencyFields(BaseModel):
    name: Text200
    kind: AgencyKind
    state: StateCode | None = Field(None, description="Required for a state identification bureau.")
    email: Email | None = None
    fax: Fax | None = None
    postal_address: LongText | None = None
    website: Url | None = None
    contact_source_url: Url | None = Field(
        None, description="Where the contact details above were confirmed."
    )
    contact_checked_on: date | None = Field(
        None, description="When they were confirmed there; not in the future."
    )
    response_window_days: Annotated[StrictInt, Field(ge=1, le=365)] | None = Field(
        None, description="Days an answer is due after a letter; else the settings' window."
    )
    notes: LongText | None = None


class AgencyCreate(WriteModel, AgencyFields):
    pass


class AgencyUpdate(Partial, AgencyFields):
    if TYPE_CHECKING:  # every field optional, as Partial makes them

        def __init__(self, **fields: Any) -> None: ...


class AgencyPublic(AgencyFields, Record):
    pass


class VoteFields(BaseModel):
    jurisdiction_id: BodyId
    body: Text200 = Field(description='Who voted, e.g. "Board of Supervisors".')
    held_on: date = Field(description="Only an introduced or scheduled vote may lie in the future.")
    measure: Text500 | None = None
    topic: VoteTopic = Field(
        VoteTopic.opt_out,
        description="Only a vote on opting out sets a stage; others are related measures.",
    )
    outcome: VoteOutcome
    yes: Tally | None = None
    no: Tally | None = None
    abstain: Tally | None = None
    absent: Tally | None = None
    source_url: Url | None = None
    public_notes: LongText | None = None
    private_notes: LongText | None = None


class VoteCreate(WriteModel, VoteFields):
    pass


class VoteUpdate(Partial, VoteFields):
    if TYPE_CHECKING:  # every field optional, as Partial makes them

        def __init__(self, **fields: Any) -> None: ...


class VotePublic(VoteFields, Record):
    pass


class LetterFields(BaseModel):
    jurisdiction_id: BodyId
    agency_id: BodyId = Field(description="The recipient.")
    channel: Channel | None = None
    sent_on: date = Field(description="Not in the future.")
    purpose: LetterPurpose
    signed_by: Text200 | None = None
    subject: Text500 | None = None
    summary: LongText | None = None
    body: LongText | None = Field(None, description="The letter's full text.")
    document_url: Url | None = None
    follows_letter_id: BodyId | None = Field(
        None,
        description="The letter this one chases: same jurisdiction, sent on or before it.",
    )
    response_due_on: date | None = Field(
        None, description="Defaults to sent_on plus the response window (30 days)."
    )


class LetterCreate(WriteModel, LetterFields):
    pass


class LetterUpdate(Partial, LetterFields):
    if TYPE_CHECKING:  # every field optional, as Partial makes them

        def __init__(self, **fields: Any) -> None: ...


class LetterPublic(LetterFields, Record):
    response_due_on: date  # always set once created


class NoticeCreate(Input):
    """The written notice: one letter per recipient, all logged or none."""

    recipients: list[BodyId] | None = Field(
        None,
        min_length=1,
        max_length=10,
        description="Agency ids (SIBs, ICE, DHS or others); default: the state's SIB and ICE.",
    )
    sent_on: date = Field(description="Not in the future.")
    channel: Channel | None = None
    signed_by: Text200
    subject: Text500 | None = Field(None, description="Default: a subject naming the notice.")
    body: LongText | None = Field(
        None, description="Default: the notice's text, from the latest passed opt-out vote."
    )


class NoticeLetters(BaseModel):
    letters: list[LetterPublic]


class ResponseFields(BaseModel):
    jurisdiction_id: BodyId
    agency_id: BodyId = Field(description="The sender.")
    letter_id: BodyId | None = Field(
        None, description="The letter answered: same jurisdiction, sent on or before received_on."
    )
    received_on: date
    channel: Channel | None = None
    kind: ResponseKind
    summary: LongText | None = None
    new_activation_on: date | None = Field(
        None,
        description="Required for activation_date_adjusted; becomes the jurisdiction's "
        "scheduled_activation_on.",
    )
    document_url: Url | None = None


class ResponseCreate(WriteModel, ResponseFields):
    pass


class ResponseUpdate(Partial, ResponseFields):
    if TYPE_CHECKING:  # every field optional, as Partial makes them

        def __init__(self, **fields: Any) -> None: ...


class ResponsePublic(ResponseFields, Record):
    pass


NATIONAL = "national"
SCOPE_PATTERN = r"^(national|[A-Za-z]{2})$"


def _scope(value: str) -> str:
    # Checked here rather than as a pattern constraint, whose error quotes the regex.
    if value == NATIONAL:
        return value
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise ValueError(Sentence('must be "national" or the USPS code of a state'))
    return _known_state(value.upper())


# "national", or a state's USPS code in either case (stored upper-case, as StateCode does).
AnnouncementScope = Annotated[
    str,
    StringConstraints(max_length=8),
    AfterValidator(_scope),
    WithJsonSchema({"type": "string", "maxLength": 8, "pattern": SCOPE_PATTERN}),
]


class AnnouncementFields(BaseModel):
    agency_id: BodyId = Field(description="Who said it.")
    announced_on: date = Field(description="Not in the future.")
    scope: AnnouncementScope = Field(
        description='"national", or the USPS code of the state it was said to.'
    )
    effect: AnnouncementEffect = Field(
        description="What it does to the open campaigns in its scope (none: timeline only)."
    )
    title: Text200
    summary: LongText | None = None
    source_url: Url | None = None
    public_notes: LongText | None = None
    private_notes: LongText | None = None


class AnnouncementCreate(WriteModel, AnnouncementFields):
    pass


class AnnouncementUpdate(Partial, AnnouncementFields):
    if TYPE_CHECKING:  # every field optional, as Partial makes them

        def __init__(self, **fields: Any) -> None: ...


class AnnouncementPublic(AnnouncementFields, Record):
    pass


class ProblemFieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An error, as application/problem+json (RFC 9457)."""

    type: str = "about:blank"
    status: int
    title: str
    detail: str
    errors: list[ProblemFieldError] | None = Field(
        None, description="For invalid input: each field and what is wrong with it."
    )


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class TimelineEntry(BaseModel):
    type: Literal["vote", "letter", "response", "announcement"]
    date: date
    stage: CampaignStatus | None = Field(description="The stage this event sets, if any.")
    description: str
    agency_id: int | None
    record: VotePublic | LetterPublic | ResponsePublic | AnnouncementPublic


class Timeline(Page[TimelineEntry]):
    """One page of a jurisdiction's events, oldest first."""

    jurisdiction_id: int
    status: CampaignStatus


class StatusCounts(BaseModel):
    total: int
    counts: dict[CampaignStatus, int]


class CoverageCounts(BaseModel):
    counts: dict[CampaignStatus, int] = Field(
        description="By effective status: the state's campaign for those it covers."
    )
    activated_despite_opt_out: int


class CoverageSummary(BaseModel):
    overall: CoverageCounts
    by_state: dict[str, CoverageCounts]


class StatusSummary(BaseModel):
    as_of: date
    overall: StatusCounts
    by_state: dict[str, StatusCounts]
    effective: CoverageSummary


class FipsStatus(BaseModel):
    fips: str
    id: int
    slug: str
    name: str
    kind: JurisdictionKind
    state: str
    status: CampaignStatus
    status_since: date | None
    effective_status: CampaignStatus
    effective_status_via: EffectiveVia
    notice_complete: bool
    overdue: bool
    activated: bool
    activated_despite_opt_out: bool
    rollout: Rollout = Field(description="Where the program stood there as of the day asked.")


# Query parameters. Unknown parameters are refused so a misspelt filter is a 422, not
# a silently unfiltered list.


AsOf = Annotated[
    date | None,
    Field(
        description="The day the statuses are as of (YYYY-MM-DD; default: today, UTC). Only "
        "events dated on or before it count."
    ),
]


class AsOfParams(QueryInput):
    as_of: AsOf = None


class PageParams(QueryInput):
    limit: int = Field(50, ge=1, le=500, description="Page size, 1–500.")
    offset: int = Field(0, ge=0, le=MAX_ID, description="Items to skip.")


# Columns only readers see (a webhook's secret: nobody): no list filters or sorts by them,
# since the order alone would tell what they hold.
PRIVATE_COLUMNS = PRIVATE_FIELDS | {"secret"}
JURISDICTION_SORTS = (
    "id", "name", "state", "kind", "fips", "slug", "population", "status", "status_since",
    "effective_status", "effective_status_since", "activated_on", "scheduled_activation_on",
    "next_response_due_on", "updated_at", "created_at",
)  # fmt: skip


def listed_columns(model: type[SQLModel]) -> list[str]:
    """The columns of `model` a list filters and sorts by: not the private ones, nor JSON
    (a webhook's events, an audit entry's changes), which has no order."""
    columns = model.__table__.c  # type: ignore[attr-defined]
    return [c.name for c in columns if c.name not in PRIVATE_COLUMNS and not _json(c.type)]


def _json(column_type: Any) -> bool:
    return isinstance(column_type, JSON) or isinstance(getattr(column_type, "impl", None), JSON)


@dataclass(frozen=True)
class SortBy:
    """The annotation of a list's `sort`: one of its fields, ascending, or with - before it,
    descending. Documented as an enum, so that a generated client names each choice."""

    fields: Sequence[str]

    @property
    def choices(self) -> list[str]:
        return [value for f in self.fields for value in (f, f"-{f}")]

    def _check(self, value: str | None) -> str | None:
        if value is not None and value not in self.choices:
            raise ValueError(
                Sentence(
                    "must be one of: {fields} (prefix - to reverse)", fields=", ".join(self.fields)
                )
            )
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return {"anyOf": [{"type": "string", "enum": self.choices}, {"type": "null"}]}


class ListParams(PageParams):
    sort: str | None = Field(None, description="A field; prefix with - for descending.")
    updated_since: Timestamp | None = Field(
        None, description="Changed at or after (ISO 8601; UTC when no offset is given)."
    )


class JurisdictionFilters(ListParams):
    sort: Annotated[str | None, SortBy(JURISDICTION_SORTS)] = None
    as_of: AsOf = None
    state: StateCode | None = None
    kind: JurisdictionKind | None = None
    status: CampaignStatus | None = None
    effective_status: CampaignStatus | None = None
    effective_status_via: EffectiveVia | None = None
    fips: Fips | None = None
    ocd_id: str | None = None
    slug: str | None = None
    parent_id: RecordId | None = None
    q: str | None = Field(None, min_length=1, max_length=100, description="Name contains.")
    overdue: bool | None = None
    awaiting_response: bool | None = None
    notice_complete: bool | None = None
    activated: bool | None = None
    activated_despite_opt_out: bool | None = None
    activated_on_from: date | None = None
    activated_on_to: date | None = None
    scheduled_activation_on_from: date | None = None
    scheduled_activation_on_to: date | None = None
    status_since_from: date | None = None
    status_since_to: date | None = None


class AgencyFilters(ListParams):
    sort: Annotated[str | None, SortBy(listed_columns(Agency))] = None
    kind: AgencyKind | None = None
    state: StateCode | None = None
    q: str | None = Field(None, min_length=1, max_length=100, description="Name contains.")


class EventFilters(ListParams):
    jurisdiction_id: RecordId | None = None
    state: StateCode | None = Field(None, description="USPS code of the jurisdiction.")


class VoteFilters(EventFilters):
    sort: Annotated[str | None, SortBy(listed_columns(Vote))] = None
    topic: VoteTopic | None = None
    outcome: VoteOutcome | None = None
    held_on_from: date | None = None
    held_on_to: date | None = None


class LetterFilters(EventFilters):
    sort: Annotated[str | None, SortBy(listed_columns(Letter))] = None
    agency_id: RecordId | None = None
    purpose: LetterPurpose | None = None
    channel: Channel | None = None
    sent_on_from: date | None = None
    sent_on_to: date | None = None
    response_due_on_from: date | None = None
    response_due_on_to: date | None = None


class ResponseFilters(EventFilters):
    sort: Annotated[str | None, SortBy(listed_columns(Response))] = None
    agency_id: RecordId | None = None
    letter_id: RecordId | None = None
    kind: ResponseKind | None = None
    received_on_from: date | None = None
    received_on_to: date | None = None


class AnnouncementFilters(ListParams):
    sort: Annotated[str | None, SortBy(listed_columns(Announcement))] = None
    agency_id: RecordId | None = None
    scope: AnnouncementScope | None = None
    effect: AnnouncementEffect | None = None
    announced_on_from: date | None = None
    announced_on_to: date | None = None


class SummaryFilters(AsOfParams):
    kind: JurisdictionKind | None = None


class ByFipsFilters(AsOfParams):
    state: StateCode | None = None
    kind: JurisdictionKind | None = None
    status: CampaignStatus | None = None


# The record kinds: the one list of them. Imports, exports, the CLI, public shapes, webhook
# events and feeds derive from it; services.kinds adds what the services do with each.


@dataclass(frozen=True)
class RecordKind:
    plural: str  # in URLs and file names: what imports, exports and the CLI call the kind
    model: type[SQLModel]
    create: type[WriteModel]
    update: type[WriteModel]
    public: type[Record]
    filters: type[ListParams]
    described: str = ""  # what the rows are, for the export's summary, if more than the plural

    @property
    def entity(self) -> str:
        """The table's name: audit entries' `entity` and webhook events' prefix."""
        return str(self.model.__tablename__)

    @property
    def export_summary(self) -> str:
        return (
            f"{self.described or self.plural.capitalize()} as CSV; the list's filters, all pages."
        )

    @property
    def labels(self) -> dict[str, tuple[str, ...]]:
        """The columns an export adds after each id this kind refers to, by that id."""
        return {ref: shown for ref, shown in LABELS.items() if ref in self.public.model_fields}

    @property
    def export_columns(self) -> list[str]:
        """The CSV header: the public fields, each id followed by the columns that name it."""
        return [c for f in self.public.model_fields for c in (f, *self.labels.get(f, ()))]


# What a spreadsheet shows beside an id it refers to, so that a row reads "Marin County" where
# "258" stood; an import ignores them (a row without jurisdiction_id may name its
# jurisdiction by jurisdiction_fips instead).
LABELS = {
    "jurisdiction_id": ("jurisdiction_name", "jurisdiction_fips"),
    "agency_id": ("agency_name",),
}
LABEL_COLUMNS = frozenset(c for shown in LABELS.values() for c in shown)


JURISDICTIONS = RecordKind(
    "jurisdictions",
    Jurisdiction,
    JurisdictionCreate,
    JurisdictionUpdate,
    JurisdictionPublic,
    JurisdictionFilters,
    described="Jurisdictions with their campaign status",
)
AGENCIES = RecordKind("agencies", Agency, AgencyCreate, AgencyUpdate, AgencyPublic, AgencyFilters)
VOTES = RecordKind("votes", Vote, VoteCreate, VoteUpdate, VotePublic, VoteFilters)
LETTERS = RecordKind("letters", Letter, LetterCreate, LetterUpdate, LetterPublic, LetterFilters)
RESPONSES = RecordKind(
    "responses", Response, ResponseCreate, ResponseUpdate, ResponsePublic, ResponseFilters
)
ANNOUNCEMENTS = RecordKind(
    "announcements",
    Announcement,
    AnnouncementCreate,
    AnnouncementUpdate,
    AnnouncementPublic,
    AnnouncementFilters,
)
KINDS = (JURISDICTIONS, AGENCIES, VOTES, LETTERS, RESPONSES, ANNOUNCEMENTS)
BY_PLURAL = {k.plural: k for k in KINDS}
BY_MODEL: dict[type[SQLModel], RecordKind] = {k.model: k for k in KINDS}
ENTITIES = tuple(k.entity for k in KINDS)
RECORD_EVENTS = tuple(f"{entity}.{past}" for entity in ENTITIES for past in PAST_TENSE.values())
DOCUMENT_EVENTS = ("document.created", "document.deleted")  # documents are never edited
WEBHOOK_EVENTS = (*RECORD_EVENTS, STATUS_CHANGED, *DOCUMENT_EVENTS)


# The report of a CSV import.

ImportAction = Literal["created", "updated", "unchanged"]


# A dict, not a model: a dry run of 100,000 rows makes one each, and a model costs ten times
# as much.
class ImportRowPlan(TypedDict):
    """What a dry run would do with one row of the file."""

    row: Annotated[int, Field(description="The row's line in the file (the header is row 1).")]
    action: ImportAction
    id: Annotated[
        int | None, Field(description="The record it updates or leaves; null for a new one.")
    ]
    changed: Annotated[list[str], Field(description="The fields an update changes.")]


class ImportReport(BaseModel):
    """What an import did (or, in a dry run, would do): every row creates a record, updates
    one (named by `id`; for jurisdictions also by a known `fips` or `slug`) or leaves one
    unchanged."""

    kind: str
    rows: int = Field(description="Rows read, the header not counted.")
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    created_ids: list[int] = Field(description="The new records' ids, in the file's order.")
    updated_ids: list[int] = Field(description="The ids of the records changed.")
    plan: list[ImportRowPlan] | None = Field(
        None, description="In a dry run: each row and what it would do; null otherwise."
    )


# The changes feed: every record created, updated and deleted, in order, for a partner's copy.


Cursor = Annotated[
    str,
    StringConstraints(pattern=r"^\d{1,18}$"),
    Field(description="A change's `cursor`, or a page's `next_cursor`: opaque, in order."),
]


class ChangesParams(QueryInput):
    after: Cursor | None = Field(None, description="Changes after this cursor (default: all).")
    limit: int = Field(100, ge=1, le=1000, description="Page size, 1–1000.")


class Change(BaseModel):
    cursor: Cursor
    entity: Annotated[str, WithJsonSchema({"type": "string", "enum": [k.entity for k in KINDS]})]
    id: int = Field(description="The record's id: fetch it at /api/v1/{entity's plural}/{id}.")
    action: Literal["created", "updated", "deleted"]
    at: datetime
    jurisdiction_id: int | None = Field(
        description="The jurisdiction it is, or belongs to (its derived status may have moved)."
    )


class ChangesPage(BaseModel):
    """Changes in the order they were made. Fewer than `limit` items: nothing more for now;
    keep `next_cursor` and ask again later."""

    items: list[Change]
    next_cursor: Cursor | None = Field(
        description="Where the next page starts: pass it as `after` (null only before any "
        "change at all)."
    )


# Documents: files attached to a letter or a response.


class DocumentPublic(Record):
    """A document's metadata; its bytes are at `url`. A private one is shown only to
    signed-in users and API keys."""

    letter_id: int | None
    response_id: int | None
    filename: str
    content_type: str = Field(description="Detected from the bytes: PDF, PNG, JPEG or text.")
    size: int = Field(description="In bytes.")
    sha256: str = Field(description="Hex SHA-256 of the bytes; the file's ETag.")
    public: bool = Field(description="False: only signed-in users and API keys see it.")
    url: str = Field(description="Where the bytes are served.")


# Accounts and the audit log.


class ApiKeyCreate(WriteModel):
    name: Text200
    scope: Scope


class ApiKeyPublic(Record):
    name: str
    scope: Scope
    prefix: str
    created_by_id: int | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    token: str = Field(description="The key itself: shown this once, never again.")


class AuditEntryPublic(Record):
    actor_kind: ActorKind
    actor_id: int | None
    actor_label: str
    action: AuditAction
    entity: str
    entity_id: int
    jurisdiction_id: int | None
    changes: dict[str, list[Any]] = Field(description="{field: [before, after]}")


class AuditFilters(ListParams):
    sort: Annotated[str | None, SortBy(listed_columns(AuditEntry))] = None
    entity: str | None = None
    entity_id: RecordId | None = None
    jurisdiction_id: RecordId | None = None
    actor_kind: ActorKind | None = None
    actor_id: RecordId | None = None
    action: AuditAction | None = None
    created_at_from: Timestamp | None = None
    created_at_to: Timestamp | None = None


# Webhooks.


def _known_event(name: str) -> str:
    if name != "*" and name not in WEBHOOK_EVENTS:
        raise ValueError(
            Sentence(
                "{name} is not an event: use * or one of {events}",
                name=repr(name),
                events=", ".join(WEBHOOK_EVENTS),
            )
        )
    return name


EventName = Annotated[str, AfterValidator(_known_event)]
Events = Annotated[list[EventName], Field(min_length=1, max_length=len(WEBHOOK_EVENTS) + 1)]
Secret = Annotated[
    str, StringConstraints(pattern=r"^[!-~]+$", min_length=16, max_length=200)
]  # printable ASCII, no spaces: it has to survive being pasted into the receiver's config


class WebhookCreate(WriteModel):
    url: Url = Field(
        description="An https:// URL on a public address (see OPTOUT_WEBHOOK_ALLOW_PRIVATE).",
        examples=["https://coalition.example.org/hooks/optout"],
    )
    secret: Secret | None = Field(
        None, description="Keys the signature; one is made (and shown once) when omitted."
    )
    events: Events = Field(["*"], description="Event names, or * for every event.")
    active: bool = True
    description: Text200 | None = None


class WebhookUpdate(WriteModel):
    url: Url | None = None
    secret: Secret | None = None
    events: Events | None = None
    active: bool | None = None
    description: Text200 | None = None


class WebhookPublic(Record):
    url: str
    events: list[str]
    active: bool
    description: str | None


class WebhookCreated(WebhookPublic):
    secret: str = Field(
        description="Keys X-Optout-Signature and webhook-signature (a generated one is in the "
        "Standard Webhooks form, whsec_ and base64): shown this once, never again."
    )


class WebhookAttemptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    created_at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered.")
    error: str | None
    response_excerpt: str | None
    duration_ms: int


class WebhookDeliveryPublic(Record):
    webhook_id: int
    uuid: str = Field(description="Sent as X-Optout-Delivery; the same on every retry.")
    message_id: str = Field(
        description="Sent as webhook-id: the event's, the same on every retry and on every "
        "redelivery of it (the uuid of its first delivery)."
    )
    event: str = Field(examples=[TEST_EVENT])
    state: DeliveryState
    attempt_count: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description="The body sent: {event, occurred_at, data}.")
    attempts: list[WebhookAttemptPublic]


class WebhookFilters(ListParams):
    sort: Annotated[str | None, SortBy(listed_columns(Webhook))] = None


class DeliveryFilters(ListParams):
    sort: Annotated[str | None, SortBy(listed_columns(WebhookDelivery))] = None
    state: DeliveryState | None = None
    event: str | None = Field(None, max_length=60)


class FollowUpFilters(PageParams):
    state: StateCode | None = None
    step: Step | None = None


class FollowUpItem(BaseModel):
    """One next step of an open campaign (status.next_steps), as of today."""

    jurisdiction_id: int
    step: Step
    due_on: date = Field(description="The day it became due.")
    detail: str = Field(description="What is waiting, in a sentence.")
    jurisdiction_name: str
    jurisdiction_slug: str
    state: str
    letter_id: int | None = Field(
        None, description="For `chase`: the letter whose answer is overdue."
    )


class FollowFields(BaseModel):
    target: FollowTarget
    jurisdiction_id: RecordId | None = Field(None, description="For target `jurisdiction`.")
    state: StateCode | None = Field(None, description="For target `state`: a USPS code.")
    alerts: Alerts = Field(
        Alerts.immediate, description="Each change at once, a daily or weekly digest, or none."
    )


class FollowCreate(WriteModel, FollowFields):
    """Which fields fit the target is checked by services.follows (each error names its
    field)."""


class FollowUpdate(Input):
    alerts: Alerts


class FollowPublic(Record, FollowFields):
    user_id: int
