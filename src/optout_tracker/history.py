"""The historical dataset: the real 2008–2014 Secure Communities rollout and opt-out campaigns.

Activation dates go onto every county the file names. The curated campaign events are mapped
onto votes, letters and responses only where the record says what happened (CURATED below);
everything else becomes a dated, sourced line in the jurisdiction's public notes, so the demo
never invents an event. Loading is idempotent and never overwrites a value users have set.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from .enums import AgencyKind, LetterPurpose, ResponseKind, VoteOutcome
from .models import Agency, Jurisdiction, Letter, Response, Vote
from .paths import DATA_DIR
from .refdata import resolve_fips
from .services import status_projection

T = TypeVar("T", bound=SQLModel)
HISTORY_CSV = DATA_DIR / "secure_communities_history.csv"
ACTIVATION_SOURCE = "ICE interoperability statistics, via the replication data of White (2016)"


@dataclass(frozen=True)
class HistoryRow:
    jurisdiction: str
    state: str
    fips: str
    event_kind: str
    date_text: str
    detail: str
    sources: tuple[str, ...]

    @property
    def month_only(self) -> bool:
        return len(self.date_text) == 7

    @property
    def on(self) -> date:
        """The event's date; a month-only date (YYYY-MM) becomes the first of that month."""
        return date.fromisoformat(self.date_text + "-01" if self.month_only else self.date_text)

    @property
    def urls(self) -> list[str]:
        return [s for s in self.sources if s.startswith(("http://", "https://"))]

    @property
    def described(self) -> str:
        """The detail, with every source beyond the first (the record's URL field holds that)."""
        more = [s for s in self.sources if s != (self.urls[0] if self.urls else None)]
        return f"{self.detail} Other sources: {'; '.join(more)}" if more else self.detail

    def note(self) -> str:
        when = f"{self.date_text} (month only)" if self.month_only else self.date_text
        return f"{when}: {self.detail} Source: {'; '.join(self.sources)}"


def read_history(path: str | None = None) -> list[HistoryRow]:
    with open(path or HISTORY_CSV, newline="", encoding="utf-8") as f:
        return [
            HistoryRow(
                jurisdiction=r["jurisdiction"],
                state=r["state"],
                fips=r["fips"],
                event_kind=r["event_kind"],
                date_text=r["date"],
                detail=r["detail"].rstrip(".") + ".",
                sources=tuple(s.strip() for s in r["source"].split(" ; ") if s.strip()),
            )
            for r in csv.DictReader(f)
        ]


# What the curated rows faithfully say, keyed by (fips, date). Agencies are named by kind:
# "sib" is the state identification bureau of the jurisdiction's state (in California the
# Attorney General's Department of Justice), "ice" and "dhs" the national offices.


@dataclass(frozen=True)
class VoteSpec:
    body: str
    measure: str
    yes: int | None = None
    no: int | None = None


@dataclass(frozen=True)
class LetterSpec:
    to: str
    purpose: LetterPurpose
    signed_by: str
    subject: str


@dataclass(frozen=True)
class ResponseSpec:
    sender: str
    kind: ResponseKind
    answers: tuple[str, str] | None = None  # (fips, date) of the letter it answers


@dataclass(frozen=True)
class ActivationSpec:
    """A statewide activation: the state's own `activated_on`."""


Spec = VoteSpec | LetterSpec | ResponseSpec | ActivationSpec

SF_SHERIFF = "Sheriff Michael Hennessey"
CURATED: dict[tuple[str, str], tuple[Spec, ...]] = {
    ("06085", "2010-06-22"): (
        VoteSpec("Board of Supervisors", "Resolution against Secure Communities restating the "
                 "county's non-involvement in federal civil immigration enforcement"),
    ),
    ("06085", "2010-09-28"): (
        VoteSpec("Board of Supervisors", "Request to opt out of Secure Communities", 5, 0),
    ),
    ("51013", "2010-09-28"): (
        VoteSpec("County Board", "Resolution to withdraw from Secure Communities"),
    ),
    ("51013", "2010-10-07"): (
        LetterSpec("ice", LetterPurpose.opt_out_request, "Arlington County Manager",
                   "Arlington's inclusion in and withdrawal from Secure Communities"),
    ),
    ("51013", "2010-11-05"): (
        ResponseSpec("ice", ResponseKind.meeting_held, ("51013", "2010-10-07")),
    ),
    ("51013", "2011-03-01"): (
        ResponseSpec("ice", ResponseKind.denied, ("51013", "2010-10-07")),
    ),
    ("06075", "2010-05-18"): (
        LetterSpec("sib", LetterPurpose.opt_out_request, SF_SHERIFF,
                   "Request that San Francisco fingerprints not be shared with ICE"),
    ),
    ("06075", "2010-05-25"): (
        ResponseSpec("sib", ResponseKind.denied, ("06075", "2010-05-18")),
    ),
    ("06075", "2010-08-31"): (
        LetterSpec("sib", LetterPurpose.opt_out_request, SF_SHERIFF, "Opt-out request reaffirmed"),
        LetterSpec("ice", LetterPurpose.opt_out_request, SF_SHERIFF, "Opt-out request reaffirmed"),
    ),
    ("17", "2011-05-04"): (
        LetterSpec("ice", LetterPurpose.opt_out_request, "Governor Pat Quinn",
                   "Termination of the Illinois State Police–ICE memorandum of agreement"),
    ),
    ("17", "2011-08-18"): (
        LetterSpec("ice", LetterPurpose.clarification_request, "General counsel to Governor Quinn",
                   "Re-confirmation of the 26 participating Illinois counties"),
    ),
    ("36", "2011-06-01"): (
        LetterSpec("dhs", LetterPurpose.opt_out_request, "Governor Andrew Cuomo",
                   "New York suspends participation in Secure Communities"),
    ),
    ("25", "2011-06-03"): (
        LetterSpec("ice", LetterPurpose.opt_out_request,
                   "Mary Beth Heffernan, Secretary of Public Safety",
                   "Massachusetts will not sign the Secure Communities MOA"),
    ),
    ("51", "2010-06-21"): (ActivationSpec(),),
    ("25", "2012-05-15"): (ActivationSpec(),),
}  # fmt: skip


@dataclass
class DemoReport:
    activations: int = 0
    votes: int = 0
    letters: int = 0
    responses: int = 0
    notes: int = 0
    unmatched: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"set {self.activations} activation dates; added {self.votes} votes, "
            f"{self.letters} letters, {self.responses} responses and {self.notes} notes"
        )
        if self.unmatched:
            text += f"; no jurisdiction for FIPS {', '.join(sorted(set(self.unmatched)))}"
        return text


class _Loader:
    def __init__(self, session: Session, response_window_days: int) -> None:
        self.session = session
        self.window = timedelta(days=response_window_days)
        self.report = DemoReport()
        self.by_fips = {j.fips: j for j in session.scalars(sa.select(Jurisdiction)) if j.fips}
        self.agencies = list(session.scalars(sa.select(Agency)))
        self.letters: dict[tuple[str, str, str], Letter] = {}
        self.touched: set[int] = set()

    def _find(self, model: type[T], **fields: object) -> T | None:
        return self.session.scalars(sa.select(model).filter_by(**fields)).first()

    def jurisdiction(self, fips: str) -> Jurisdiction | None:
        j = self.by_fips.get(resolve_fips(fips))
        if j is None:
            self.report.unmatched.append(fips)
        return j

    def agency(self, who: str, state: str) -> Agency:
        if who == "sib":
            kind, wanted_state = AgencyKind.state_identification_bureau, state
        else:
            kind, wanted_state = AgencyKind(who), None
        for a in self.agencies:
            if a.kind == kind and (wanted_state is None or a.state == wanted_state):
                return a
        raise LookupError(f"no {kind} agency for {state}: run `optout-tracker seed` first")

    def add_note(self, target: Jurisdiction | Agency, line: str) -> None:
        attr = "notes" if isinstance(target, Agency) else "public_notes"
        existing = getattr(target, attr) or ""
        if line in existing:
            return
        setattr(target, attr, f"{existing}\n{line}".strip())
        self.report.notes += 1

    def activation(self, j: Jurisdiction, row: HistoryRow) -> None:
        if j.activated_on is None:
            j.activated_on = row.on
            self.report.activations += 1
        if row.month_only:
            self.add_note(j, f"Activation date known only to the month ({row.date_text}); "
                             f"recorded as {row.on.isoformat()}.")  # fmt: skip
        if j.fips != row.fips:
            self.add_note(j, f"Activated {row.date_text} as {row.jurisdiction} (FIPS {row.fips}), "
                             f"now part of {j.name}.")  # fmt: skip

    def curated(self, j: Jurisdiction, row: HistoryRow, specs: tuple[Spec, ...]) -> None:
        source = row.urls[0] if row.urls else None
        for spec in specs:
            match spec:
                case VoteSpec():
                    self.vote(j, row, spec, source)
                case LetterSpec():
                    self.letter(j, row, spec, source)
                case ResponseSpec():
                    self.response(j, row, spec, source)
                case ActivationSpec():
                    self.activation(j, row)
                    self.add_note(j, row.note())

    def vote(self, j: Jurisdiction, row: HistoryRow, spec: VoteSpec, source: str | None) -> None:
        exists = self._find(Vote, jurisdiction_id=j.id, held_on=row.on, body=spec.body)
        if exists is None:
            self.session.add(
                Vote(
                    jurisdiction_id=j.id or 0,
                    body=spec.body,
                    held_on=row.on,
                    measure=spec.measure,
                    outcome=VoteOutcome.passed,
                    yes=spec.yes,
                    no=spec.no,
                    source_url=source,
                    public_notes=row.described,
                )  # fmt: skip
            )
            self.report.votes += 1
        self.touched.add(j.id or 0)

    def letter(
        self, j: Jurisdiction, row: HistoryRow, spec: LetterSpec, source: str | None
    ) -> None:
        agency = self.agency(spec.to, j.state)
        letter = self._find(
            Letter, jurisdiction_id=j.id, agency_id=agency.id, sent_on=row.on, purpose=spec.purpose
        )
        if letter is None:
            letter = Letter(
                jurisdiction_id=j.id or 0, agency_id=agency.id or 0, sent_on=row.on,
                purpose=spec.purpose, signed_by=spec.signed_by, subject=spec.subject,
                summary=row.described, document_url=source, response_due_on=row.on + self.window,
            )  # fmt: skip
            self.session.add(letter)
            self.session.flush()
            self.report.letters += 1
        self.letters[(row.fips, row.date_text, spec.to)] = letter
        self.touched.add(j.id or 0)

    def response(
        self, j: Jurisdiction, row: HistoryRow, spec: ResponseSpec, source: str | None
    ) -> None:
        agency = self.agency(spec.sender, j.state)
        answered = self.letters.get((*spec.answers, spec.sender)) if spec.answers else None
        exists = self._find(
            Response, jurisdiction_id=j.id, agency_id=agency.id, received_on=row.on, kind=spec.kind
        )
        if exists is None:
            self.session.add(
                Response(
                    jurisdiction_id=j.id or 0,
                    agency_id=agency.id or 0,
                    letter_id=answered.id if answered else None,
                    received_on=row.on,
                    kind=spec.kind,
                    summary=row.described,
                    document_url=source,
                )  # fmt: skip
            )
            self.report.responses += 1
        self.touched.add(j.id or 0)


def load_history(
    session: Session, response_window_days: int, rows: list[HistoryRow] | None = None
) -> DemoReport:
    """Apply the historical dataset to a seeded database, in the caller's transaction."""
    loader = _Loader(session, response_window_days)
    ice = loader.agency("ice", "US")
    for row in _in_order(rows if rows is not None else read_history()):
        if row.state == "US":
            loader.add_note(ice, row.note())
            continue
        j = loader.jurisdiction(row.fips)
        if j is None:
            continue
        if row.event_kind == "activated":
            loader.activation(j, row)
        elif specs := CURATED.get((row.fips, row.date_text)):
            loader.curated(j, row, specs)
        else:
            loader.add_note(j, row.note())
    status_projection.refresh(session, loader.touched)
    return loader.report


def _in_order(rows: list[HistoryRow]) -> Iterator[HistoryRow]:
    # Letters before the responses that answer them, whatever the file's order.
    return iter(sorted(rows, key=lambda r: (r.on, r.date_text)))
