"""The contract's closed vocabularies, as snake_case string enums with display labels."""

from enum import IntEnum, StrEnum

from .i18n import N_, gettext


class JurisdictionKind(StrEnum):
    state = "state"
    federal_district = "federal_district"
    territory = "territory"
    county = "county"
    city = "city"


STATE_LEVEL = (
    JurisdictionKind.state,
    JurisdictionKind.federal_district,
    JurisdictionKind.territory,
)


class AgencyKind(StrEnum):
    state_identification_bureau = "state_identification_bureau"
    ice = "ice"
    dhs = "dhs"
    fbi = "fbi"
    governor = "governor"
    other = "other"


class VoteTopic(StrEnum):
    """What a vote is about: only an opt-out measure moves a campaign along."""

    opt_out = "opt_out"
    detainer_policy = "detainer_policy"
    other_related = "other_related"


class VoteOutcome(StrEnum):
    introduced = "introduced"
    scheduled = "scheduled"
    passed = "passed"
    failed = "failed"
    tabled = "tabled"
    withdrawn = "withdrawn"


class Channel(StrEnum):
    email = "email"
    mail = "mail"
    fax = "fax"
    hand_delivery = "hand_delivery"


class LetterPurpose(StrEnum):
    opt_out_request = "opt_out_request"
    activation_delay_request = "activation_delay_request"
    clarification_request = "clarification_request"
    follow_up = "follow_up"  # a chaser, with follows_letter_id
    records_request = "records_request"
    other = "other"


class ResponseKind(StrEnum):
    acknowledged = "acknowledged"
    meeting_requested = "meeting_requested"
    meeting_held = "meeting_held"
    activation_date_adjusted = "activation_date_adjusted"
    removed_from_deployment_plan = "removed_from_deployment_plan"
    notifications_only = "notifications_only"
    denied = "denied"
    other = "other"


class AnnouncementEffect(StrEnum):
    """What an announcement does to the campaigns in its scope (status.derive_status)."""

    none = "none"
    opt_out_denied = "opt_out_denied"
    notifications_only = "notifications_only"
    program_ended = "program_ended"


class Role(StrEnum):
    """A signed-in user's role; each includes the ones before it."""

    viewer = "viewer"
    organizer = "organizer"
    admin = "admin"


class Scope(StrEnum):
    """An API key's scope; each includes the ones before it."""

    read = "read"
    write = "write"
    admin = "admin"


class Access(IntEnum):
    """What a caller may do, whatever the way it authenticated."""

    public = 0
    read = 1  # also private notes and the audit of one's own changes
    write = 2
    admin = 3


ROLE_ACCESS = {Role.viewer: Access.read, Role.organizer: Access.write, Role.admin: Access.admin}
SCOPE_ACCESS = {Scope.read: Access.read, Scope.write: Access.write, Scope.admin: Access.admin}


class AuditAction(StrEnum):
    create = "create"
    update = "update"
    delete = "delete"


class DeliveryState(StrEnum):
    """A webhook delivery: waiting (first try or a retry), delivered, or given up on."""

    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class FollowTarget(StrEnum):
    jurisdiction = "jurisdiction"
    state = "state"
    all = "all"


class Alerts(StrEnum):
    """How a follow reaches its user: each change at once, a digest, or not at all."""

    immediate = "immediate"
    daily = "daily"
    weekly = "weekly"
    off = "off"


class ActorKind(StrEnum):
    user = "user"
    api_key = "api_key"
    cli = "cli"


class CampaignStatus(StrEnum):
    """Declared in precedence order: on the same date the later member wins."""

    no_action = "no_action"
    vote_scheduled = "vote_scheduled"
    vote_failed = "vote_failed"
    vote_passed = "vote_passed"
    notified = "notified"
    in_negotiation = "in_negotiation"
    delayed = "delayed"
    denied = "denied"
    notifications_only = "notifications_only"
    opted_out = "opted_out"

    @property
    def rank(self) -> int:
        return _STATUS_ORDER.index(self)

    @property
    def label(self) -> str:
        """The label in the language of the answer being made."""
        return gettext(STATUS_LABELS[self])


_STATUS_ORDER = list(CampaignStatus)


class EffectiveVia(StrEnum):
    """Whose campaign decides a jurisdiction's `effective_status`: its own, or its state's
    (a county or city with no stage-setting event of its own)."""

    own = "own"
    state = "state"


STATUS_LABELS: dict[CampaignStatus, str] = {
    CampaignStatus.no_action: N_("No action"),
    CampaignStatus.vote_scheduled: N_("Measure pending"),  # introduced or scheduled
    CampaignStatus.vote_failed: N_("Vote failed"),
    CampaignStatus.vote_passed: N_("Vote passed"),
    CampaignStatus.notified: N_("SIB/ICE notified"),
    CampaignStatus.in_negotiation: N_("In negotiation"),
    CampaignStatus.delayed: N_("Activation delayed"),
    CampaignStatus.denied: N_("Opt-out denied"),
    CampaignStatus.notifications_only: N_("Notifications only"),
    CampaignStatus.opted_out: N_("Opted out"),
}


class Rollout(StrEnum):
    """Where the program stood in a jurisdiction as of a date (the map's `rollout` layer)."""

    not_activated = "not_activated"
    activation_scheduled = "activation_scheduled"
    activated = "activated"
    activated_despite_opt_out = "activated_despite_opt_out"

    @property
    def label(self) -> str:
        """The label in the language of the answer being made."""
        return gettext(ROLLOUT_LABELS[self])


ROLLOUT_LABELS: dict[Rollout, str] = {
    Rollout.not_activated: N_("Not activated"),
    Rollout.activation_scheduled: N_("Activation scheduled"),
    Rollout.activated: N_("Activated"),
    Rollout.activated_despite_opt_out: N_("Activated despite opt-out"),
}


# Webhook events: one per change of a campaign record (schemas.RECORD_EVENTS), and the
# derived status moving on.
PAST_TENSE = {
    AuditAction.create: "created",
    AuditAction.update: "updated",
    AuditAction.delete: "deleted",
}
STATUS_CHANGED = "jurisdiction.status_changed"
TEST_EVENT = "webhook.test"  # sent only on request, to the one subscription tested
