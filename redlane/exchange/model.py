"""What services exchange: intelligence reports, requests and replies, CIS alerts, mode notices
(MAR-, YACHT-, AIR-, CARGO-, BALKAN-Info), seizure reports and sightings, each with its
subject entities, grading and handling. A sighting (or a reply) to an alert or notice types
the result the sender asked for in its `Feedback` part.

A `Message` is what its author composes; the mailbox (`redlane.exchange.mailbox`) gives it its
id, sender, times, delivery and receipts. Facts and assessments are kept apart (LED Art. 7(1)):
`facts` says what is known, `assessment` what the author concludes from it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from redlane.model.base import RedlaneModel
from redlane.model.codes import CountryCode, LoCode, NonEmpty


class MessageKind(StrEnum):
    INTELLIGENCE_REPORT = "intelligence_report"
    REQUEST = "request"
    """A request for information, with its legal deadline."""
    REPLY = "reply"
    CIS_ALERT = "cis_alert"
    MODE_NOTICE = "mode_notice"
    SEIZURE_REPORT = "seizure_report"
    SIGHTING = "sighting"
    """What a service saw of an alert's or notice's subject: the result the sender asked for."""


class EntityKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"
    VESSEL = "vessel"
    AIRCRAFT = "aircraft"
    VEHICLE = "vehicle"
    CONTAINER = "container"
    PHONE = "phone"
    ADDRESS = "address"


class DataSubject(StrEnum):
    """The category of a person in the message (LED Art. 6): it sets how long and how
    carefully their data is kept."""

    SUSPECT = "suspect"
    CONVICTED = "convicted"
    VICTIM = "victim"
    WITNESS = "witness"
    CONTACT = "contact"
    INFORMANT = "informant"


class Entity(RedlaneModel):
    """A structured subject of a message. `identifier` is what identifies it in its kind: an
    IMO number (or MMSI, or call sign) for a vessel, a registration for an aircraft, a plate for a
    vehicle, an ISO 6346 number for a container, an E.164 number for a phone, the name for a
    person or company, the text for an address."""

    kind: EntityKind
    identifier: NonEmpty
    name: str | None = None
    country: CountryCode | None = None
    date_of_birth: date | None = None
    data_subject: DataSubject | None = None
    role: str | None = None
    """Free text: 'consignee', 'master', 'driver', ..."""

    @model_validator(mode="after")
    def _person_fields(self) -> Entity:
        if self.kind != EntityKind.PERSON and (self.date_of_birth or self.data_subject):
            raise ValueError("date_of_birth and data_subject are for persons only")
        if self.kind == EntityKind.PERSON and self.data_subject is None:
            raise ValueError("a person needs a data_subject category (suspect, witness, ...)")
        return self


class Grading(RedlaneModel):
    """The UK 3x5x2 grading as the author gave it: source evaluation (1 reliable, 2 untested,
    3 not reliable), intelligence assessment (A known directly to the source, B known indirectly
    but corroborated, C known indirectly, D not known, E suspected to be false) and handling
    (P sharing permitted, C permitted with the conditions given)."""

    source: Literal["1", "2", "3"]
    intelligence: Literal["A", "B", "C", "D", "E"]
    handling: Literal["P", "C"]
    conditions: str | None = None

    @model_validator(mode="after")
    def _conditions_with_c(self) -> Grading:
        if self.handling == "C" and not (self.conditions or "").strip():
            raise ValueError("handling code C needs its conditions")
        return self

    @property
    def code(self) -> str:
        return f"{self.source}{self.intelligence}{self.handling}"


class Tlp(StrEnum):
    """FIRST Traffic Light Protocol 2.0."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"


class Handling(RedlaneModel):
    """What the sender allows recipients to do with the message; enforced, not advisory."""

    tlp: Tlp = Tlp.AMBER
    no_forward: bool = False
    """No forward without the sender's consent (Europol H2)."""
    no_court_use: bool = False
    """Not to be used in judicial proceedings without the sender's consent (Europol H1)."""
    no_export: bool = False
    """No export out of redlane (STIX bundles, files)."""


class Urgency(StrEnum):
    """Deadlines of Directive (EU) 2023/977 Art. 5 for answering a request."""

    URGENT_DIRECT = "urgent_direct"
    """Urgent, on data the requested service can access directly: 8 hours."""
    URGENT = "urgent"
    """Urgent, other data: 3 days."""
    NORMAL = "normal"
    """Not urgent: 7 days."""


DEADLINES = {
    Urgency.URGENT_DIRECT: timedelta(hours=8),
    Urgency.URGENT: timedelta(days=3),
    Urgency.NORMAL: timedelta(days=7),
}


class Request(RedlaneModel):
    urgency: Urgency
    legal_basis: NonEmpty
    """The instrument the request is made under, e.g. 'Dir. (EU) 2023/977' or 'Reg. 515/97'."""

    def due(self, sent_at: datetime) -> datetime:
        return sent_at + DEADLINES[self.urgency]


class AlertCategory(StrEnum):
    """The CIS data categories (Reg. 515/97 Art. 24; CIS Decision Art. 3)."""

    COMMODITIES = "commodities"
    MEANS_OF_TRANSPORT = "means_of_transport"
    BUSINESSES = "businesses"
    PERSONS = "persons"
    FRAUD_TRENDS = "fraud_trends"
    EXPERTISE = "expertise"
    GOODS_SEIZED = "goods_seized"
    """Goods detained, seized or confiscated."""
    CASH_SEIZED = "cash_seized"
    """Cash detained, seized or confiscated."""


class SuggestedAction(StrEnum):
    """CIS suggested actions (Reg. 515/97 Art. 27(1); CIS Decision)."""

    SIGHTING_AND_REPORTING = "sighting_and_reporting"
    DISCREET_SURVEILLANCE = "discreet_surveillance"
    SPECIFIC_CHECK = "specific_check"
    OPERATIONAL_ANALYSIS = "operational_analysis"
    STRATEGIC_ANALYSIS = "strategic_analysis"


class Alert(RedlaneModel):
    category: AlertCategory
    suggested_action: SuggestedAction
    justification: NonEmpty
    """The factual indications that justify the alert (Reg. 515/97 Art. 27(2))."""
    valid_until: date


class NoticeMode(StrEnum):
    MAR = "MAR"
    YACHT = "YACHT"
    AIR = "AIR"
    CARGO = "CARGO"
    BALKAN = "BALKAN"


#: Entity kinds a notice of each mode must name (at least one of each set).
NOTICE_SUBJECTS: dict[NoticeMode, tuple[frozenset[EntityKind], ...]] = {
    NoticeMode.MAR: (frozenset({EntityKind.VESSEL}),),
    NoticeMode.YACHT: (frozenset({EntityKind.VESSEL}),),
    NoticeMode.AIR: (frozenset({EntityKind.AIRCRAFT, EntityKind.PERSON}),),
    NoticeMode.CARGO: (frozenset({EntityKind.CONTAINER}),),
    NoticeMode.BALKAN: (frozenset({EntityKind.VEHICLE}),),
}


class ModeNotice(RedlaneModel):
    """A notice on a conveyance (or its cargo, or a courier) to the services at its next port,
    airport or border crossing, asking for a result."""

    mode: NoticeMode
    next_place: LoCode
    """The port, airport or border crossing it is expected at: the notice goes to its services."""
    expected_at: AwareDatetime
    suggested_action: SuggestedAction
    result_required: bool = True
    valid_until: date
    voyage: str | None = None
    """Voyage or flight number, or the TIR carnet / CMR reference of a truck."""
    persons_on_board: int | None = Field(default=None, ge=0)


class Seizure(RedlaneModel):
    """A seizure with the fields of the WCO Customs Enforcement Network (CEN) seizure report."""

    seized_on: date
    place: LoCode
    drug: Literal[
        "cocaine", "heroin", "cannabis_resin", "cannabis_herb", "synthetic", "precursors", "other"
    ]
    quantity_kg: float = Field(ge=0)
    units: int | None = Field(default=None, ge=0)
    """Tablets, ampoules, plants: where counted rather than weighed."""
    concealment: NonEmpty
    detection: Literal["profiling", "random", "intelligence", "dog", "scanner", "other"]
    transport_mode: Literal["sea", "air", "road", "rail", "post", "pedestrian", "other"]
    origin_country: CountryCode | None = None
    destination_country: CountryCode | None = None
    routing_countries: list[CountryCode] = Field(default_factory=list)


class Outcome(StrEnum):
    """What came of an alert or notice where a service looked out for its subject: the result
    its sender asked for, typed as MISP types sightings (seen, false positive, expired) with
    what a customs control adds."""

    SEEN = "seen"
    """The subject was seen, or selected for control."""
    CONTROLLED_NOTHING_FOUND = "controlled_nothing_found"
    SEIZED = "seized"
    """Controlled, and something seized: the feedback names the seizure."""
    FALSE_MATCH = "false_match"
    """Not the subject the alert or notice meant (a namesake, a container number reused)."""
    NO_ACTION = "no_action"
    """The service could not act (the vessel did not call, no officer free): with the reason."""
    EXPIRED = "expired"
    """The alert or notice ran out before the subject was seen."""


class Feedback(RedlaneModel):
    """The typed result of a sighting, or of a reply to an alert or notice: what came of it,
    when and where, and the reference of the control or target it concerns."""

    outcome: Outcome
    at: date
    """The day it happened (seen, controlled, seized; for no_action and expired, the day the
    service gave up or the validity ended): selections and control results know the day."""
    place: LoCode
    """Where: the port, airport or border crossing (UN/LOCODE)."""
    control_ref: NonEmpty | None = None
    """The control result's or the target's reference (a bill of lading, a booking locator)."""
    seizure_report: NonEmpty | None = None
    """For seized: the id of the seizure report message sent on it."""
    seizure: Seizure | None = None
    """For seized: the seizure itself, when no seizure report was sent."""
    reason: NonEmpty | None = None
    """Why the service could not act (needed for no_action), or what made a match false."""

    @model_validator(mode="after")
    def _what_the_outcome_needs(self) -> Feedback:
        names_a_seizure = self.seizure_report is not None or self.seizure is not None
        if self.outcome == Outcome.SEIZED and not names_a_seizure:
            raise ValueError(
                "a seized outcome names its seizure: give seizure_report (the seizure report's "
                "message id) or seizure"
            )
        if self.outcome != Outcome.SEIZED and names_a_seizure:
            raise ValueError(
                f"a {self.outcome.value} outcome names no seizure: seizure_report and seizure "
                "are for seized"
            )
        if self.outcome == Outcome.NO_ACTION and self.reason is None:
            raise ValueError("a no_action outcome says why the service could not act: give reason")
        return self


#: Which part a message of each kind must carry (and no other kind may, but see _ALSO_ON).
_PARTS: dict[MessageKind, str] = {
    MessageKind.REQUEST: "request",
    MessageKind.CIS_ALERT: "alert",
    MessageKind.MODE_NOTICE: "notice",
    MessageKind.SEIZURE_REPORT: "seizure",
    MessageKind.SIGHTING: "feedback",
}
#: Kinds that may carry a part without needing it: a reply to an alert or notice may type its
#: result as a sighting does.
_ALSO_ON: dict[str, frozenset[MessageKind]] = {"feedback": frozenset({MessageKind.REPLY})}


class Message(RedlaneModel):
    """A message as its author composes it, before the mailbox sends it."""

    kind: MessageKind
    subject: NonEmpty
    facts: NonEmpty
    """What is known: observations, records, what was seen or seized."""
    assessment: str | None = None
    """What the author concludes from the facts; never mixed into them."""
    entities: list[Entity] = Field(default_factory=list)
    grading: Grading
    handling: Handling = Field(default_factory=Handling)
    request: Request | None = None
    alert: Alert | None = None
    notice: ModeNotice | None = None
    seizure: Seizure | None = None
    feedback: Feedback | None = None
    """What came of the alert or notice answered (sightings; replies may give it too)."""
    in_reply_to: str | None = None
    """The id of the message this one answers (replies and sightings)."""
    operation: str | None = None
    """The code of a joint operation or case the message belongs to."""

    @model_validator(mode="after")
    def _parts_fit_the_kind(self) -> Message:
        for kind, part in _PARTS.items():
            present = getattr(self, part) is not None
            allowed = self.kind == kind or self.kind in _ALSO_ON.get(part, ())
            if (self.kind == kind and not present) or (present and not allowed):
                raise ValueError(
                    f"a {self.kind.value} message {'needs' if not present else 'has no'} "
                    f"'{part}' part"
                )
        if self.kind in (MessageKind.REPLY, MessageKind.SIGHTING) and not self.in_reply_to:
            raise ValueError(f"a {self.kind.value} answers a message: give in_reply_to")
        if self.notice is not None:
            kinds = {e.kind for e in self.entities}
            for needed in NOTICE_SUBJECTS[self.notice.mode]:
                if not kinds & needed:
                    names = " or ".join(sorted(k.value for k in needed))
                    raise ValueError(f"a {self.notice.mode}-Info notice names a {names}")
        if self.kind == MessageKind.CIS_ALERT and not self.entities:
            raise ValueError("a CIS alert names what it is about: give its entities")
        return self
