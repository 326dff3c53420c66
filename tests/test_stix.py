"""STIX 2.1 bundles: round trips of every message kind, TLP 2.0 markings with the official
ids, export refused by the sender's handling, stix2's parser, foreign bundles, and messages of
the mailbox exported under its rules (API and command line, on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import stix2
from conftest import add_staff
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from redlane import security
from redlane.api import create_app
from redlane.cli import app
from redlane.exchange import mailbox
from redlane.exchange.crypto import Kek, generate_kek
from redlane.exchange.grading import equivalents, parse_grading
from redlane.exchange.model import (
    NOTICE_SUBJECTS,
    Alert,
    AlertCategory,
    DataSubject,
    Entity,
    EntityKind,
    Feedback,
    Grading,
    Handling,
    Message,
    MessageKind,
    ModeNotice,
    NoticeMode,
    Outcome,
    Request,
    Seizure,
    SuggestedAction,
    Tlp,
    Urgency,
)
from redlane.exchange.stix import (
    ExportRefused,
    StixError,
    export_bundle,
    import_bundle,
    validate,
)
from redlane.security import audit
from redlane.store.database import Database

# The FIRST TLP 2.0 marking definitions as OASIS publishes them (cti-stix-common-objects,
# extension-definition-specifications/tlp-2.0), written out again so a typo in the module shows.
OFFICIAL = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
AT = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def _vessel() -> Entity:
    return Entity(kind="vessel", identifier="9876543", name="MSC Anna", country="PA")


def _person() -> Entity:
    return Entity(
        kind="person", identifier="Jan Jansen", data_subject="suspect",
        date_of_birth=date(1980, 1, 2), country="NL", role="consignee",
    )  # fmt: skip


def example(kind: MessageKind, tlp: Tlp = Tlp.AMBER) -> Message:
    """One message of each kind, with subjects of every STIX mapping."""
    entities = [
        _vessel(),
        _person(),
        Entity(kind="company", identifier="Fresh Import BV", country="NL"),
        Entity(kind="address", identifier="Kade 1, Rotterdam", country="NL"),
        Entity(kind="address", identifier="Somewhere on the coast"),
        Entity(kind="container", identifier="MSCU1234565"),
        Entity(kind="phone", identifier="+31612345678"),
    ]
    parts: dict[str, Any] = {}
    if kind == MessageKind.REQUEST:
        parts["request"] = Request(urgency=Urgency.URGENT, legal_basis="Dir. (EU) 2023/977")
    if kind == MessageKind.CIS_ALERT:
        parts["alert"] = Alert(
            category=AlertCategory.MEANS_OF_TRANSPORT,
            suggested_action=SuggestedAction.DISCREET_SURVEILLANCE,
            justification="Two earlier loads with cocaine in reefer walls.",
            valid_until=date(2027, 11, 3),
        )
    if kind == MessageKind.MODE_NOTICE:
        parts["notice"] = ModeNotice(
            mode=NoticeMode.MAR, next_place="NLRTM",
            expected_at=datetime(2026, 11, 9, 6, tzinfo=timezone(timedelta(hours=1))),
            suggested_action=SuggestedAction.SPECIFIC_CHECK, valid_until=date(2026, 11, 30),
            voyage="0427W", persons_on_board=21,
        )  # fmt: skip
    if kind == MessageKind.SEIZURE_REPORT:
        parts["seizure"] = Seizure(
            seized_on=date(2026, 10, 30), place="BEANR", drug="cocaine", quantity_kg=412.5,
            concealment="bananas boxes", detection="scanner", transport_mode="sea",
            origin_country="EC", routing_countries=["PA"],
        )  # fmt: skip
    if kind == MessageKind.SIGHTING:
        parts["feedback"] = Feedback(
            outcome=Outcome.SEIZED, at=date(2026, 11, 2), place="NLRTM", control_ref="MEDU1",
            seizure=Seizure(
                seized_on=date(2026, 11, 2), place="NLRTM", drug="cocaine", quantity_kg=120.5,
                concealment="reefer unit", detection="intelligence", transport_mode="sea",
            ),
        )  # fmt: skip
    if kind == MessageKind.REPLY:
        parts["feedback"] = Feedback(outcome=Outcome.NO_ACTION, at=date(2026, 11, 9),
                                     place="BEANR", reason="the vessel did not call")  # fmt: skip
    if kind in (MessageKind.REPLY, MessageKind.SIGHTING):
        parts["in_reply_to"] = "msg-41"
    return Message(
        kind=kind,
        subject=f"{kind.value} on MSC Anna",
        facts="MSC Anna called at Guayaquil and Posorja; the consignee was set up last month.",
        assessment="A rip-on/rip-off load is likely.",
        entities=entities,
        grading=Grading(source="2", intelligence="B", handling="C", conditions="no court use"),
        handling=Handling(tlp=tlp, no_court_use=True),
        operation="JCO-2026-07",
        **parts,
    )


def _objects(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == kind]


@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_round_trips(kind: MessageKind) -> None:
    message = example(kind)
    found = import_bundle(json.dumps(export_bundle(message, sender="NL-DOUANE", at=AT)))
    assert [m.message for m in found.messages] == [message]
    assert found.unmapped == []
    assert found.messages[0].sender == "NL-DOUANE"
    assert found.messages[0].published == "2026-11-03T09:30:00.000Z"


def test_report_carries_facts_grading_and_subjects_the_stix_way() -> None:
    message = example(MessageKind.CIS_ALERT)
    bundle = export_bundle(message, sender="NL-DOUANE", at=AT)
    (report,) = _objects(bundle, "report")
    assert report["description"] == message.facts
    assert message.assessment and message.assessment not in json.dumps(report)
    assert report["confidence"] == equivalents(message.grading).stix_confidence == 50
    assert report["report_types"] == ["cis-alert"]
    (ext,) = (v for k, v in report["extensions"].items() if k != TLP_EXTENSION)
    assert (ext["grading"], ext["conditions"]) == ("2BC", "no court use")
    assert ext["alert"]["suggested_action"] == "discreet_surveillance"
    (note,) = _objects(bundle, "note")
    assert note["content"] == message.assessment and note["object_refs"] == [report["id"]]
    by_id = {o["id"]: o for o in bundle["objects"]}
    kinds = [
        (by_id[r]["type"], by_id[r].get("identity_class") or by_id[r].get("entity_kind"))
        for r in report["object_refs"]
    ]
    assert kinds == [
        ("x-redlane-entity", "vessel"),
        ("identity", "individual"),
        ("identity", "organization"),
        ("location", None),
        ("x-redlane-entity", "address"),
        ("x-redlane-entity", "container"),
        ("x-redlane-entity", "phone"),
    ]


@pytest.mark.parametrize("tlp", [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT])
def test_tlp_marking_with_the_official_id_on_every_object(tlp: Tlp) -> None:
    bundle = export_bundle(example(MessageKind.INTELLIGENCE_REPORT, tlp), sender="X", at=AT)
    (marking,) = _objects(bundle, "marking-definition")
    assert marking["id"] == OFFICIAL[tlp]
    assert marking["name"] == f"TLP:{tlp.value.upper()}"
    assert marking["extensions"][TLP_EXTENSION]["tlp_2_0"] == tlp.value
    assert isinstance(stix2.parse(marking), stix2.v21.MarkingDefinition)
    # Everything but the definitions and redlane's own identity is content and marked.
    definitions = ("marking-definition", "extension-definition")
    content = [
        o for o in bundle["objects"] if o["type"] not in definitions and o.get("name") != "redlane"
    ]
    assert content and all(o["object_marking_refs"] == [OFFICIAL[tlp]] for o in content)


def test_clear_and_amber_strict_have_their_own_ids() -> None:
    clear = export_bundle(example(MessageKind.REPLY, Tlp.CLEAR), sender="X", at=AT)
    strict = export_bundle(example(MessageKind.REPLY, Tlp.AMBER_STRICT), sender="X", at=AT)
    assert _objects(clear, "report")[0]["object_marking_refs"] == [
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
    ]
    assert _objects(strict, "report")[0]["object_marking_refs"] == [
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    ]
    assert import_bundle(strict).messages[0].message.handling.tlp == Tlp.AMBER_STRICT


@pytest.mark.parametrize(
    ("handling", "says"),
    [
        (Handling(no_export=True), "forbade export (no_export)"),
        (Handling(tlp=Tlp.RED), "TLP:RED"),
    ],
)
def test_export_refused_by_handling(handling: Handling, says: str) -> None:
    message = example(MessageKind.INTELLIGENCE_REPORT).model_copy(update={"handling": handling})
    with pytest.raises(ExportRefused, match=re.escape(says)) as refused:
        export_bundle(message, sender="X")
    assert "intelligence_report on MSC Anna" in str(refused.value)


def test_bundle_validates_with_stix2() -> None:
    bundle = export_bundle(example(MessageKind.SEIZURE_REPORT), sender="X", at=AT)
    parsed = stix2.parse(json.dumps(bundle), allow_custom=True)
    assert isinstance(parsed, stix2.v21.Bundle)
    types = {type(o).__name__ for o in parsed.objects}
    assert {"Report", "Note", "Identity", "Location", "MarkingDefinition"} <= types
    # The subjects' own object type is registered, so stix2 checks it like its own.
    entity = _objects(bundle, "x-redlane-entity")[0]
    with pytest.raises(stix2.exceptions.STIXError):
        stix2.parse({k: v for k, v in entity.items() if k != "identifier"})


def test_ids_are_stable() -> None:
    message = example(MessageKind.INTELLIGENCE_REPORT)
    assert export_bundle(message, sender="X", at=AT) == export_bundle(message, sender="X", at=AT)
    a = export_bundle(message, sender="X", at=AT, message_id="m-1")
    b = export_bundle(message.model_copy(update={"facts": "other"}), sender="X", message_id="m-1")
    assert _objects(a, "report")[0]["id"] == _objects(b, "report")[0]["id"]


def test_each_message_has_its_own_objects_with_one_created_time() -> None:
    """A STIX id names one object whose `created` never changes: the same vessel and sender
    in two messages (other times, other markings) are two objects, one per report."""
    message = example(MessageKind.INTELLIGENCE_REPORT)
    later = datetime(2026, 12, 1, tzinfo=UTC)
    objects = [
        o
        for bundle in (
            export_bundle(message, sender="NL-DOUANE", at=AT, message_id="m-1"),
            export_bundle(message.model_copy(update={"handling": Handling(tlp=Tlp.GREEN)}),
                          sender="NL-DOUANE", at=later, message_id="m-2"),
        )
        for o in bundle["objects"]
    ]  # fmt: skip
    created: dict[str, set[str]] = {}
    for obj in objects:
        created.setdefault(obj["id"], set()).add(obj.get("created", ""))
    assert all(len(times) == 1 for times in created.values())
    vessels = [o for o in objects if o.get("entity_kind") == "vessel"]
    assert len(vessels) == 2 and vessels[0]["id"] != vessels[1]["id"]
    assert vessels[0]["identifier"] == vessels[1]["identifier"]


def test_a_message_without_subjects_or_assessment_still_makes_a_valid_report() -> None:
    message = Message(
        kind="request", subject="Anything on MSCU1234565?", facts="Container due Friday.",
        grading=parse_grading("2DP"),
        request=Request(urgency=Urgency.URGENT_DIRECT, legal_basis="Dir. (EU) 2023/977"),
    )  # fmt: skip
    bundle = export_bundle(message, sender="BE-POL", at=AT)
    assert _objects(bundle, "note") == []
    assert import_bundle(bundle).messages[0].message == message


# --- hypothesis: export then import gives the message back -------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=20).filter(
    str.strip
)
_countries = st.none() | st.sampled_from(["NL", "BE", "EC", "PA", "XK"])
_days = st.dates(date(1950, 1, 1), date(2030, 12, 31))


@st.composite
def entities(draw: st.DrawFn, kind: EntityKind | None = None) -> Entity:
    kind = kind or draw(st.sampled_from(list(EntityKind)))
    person = kind == EntityKind.PERSON
    return Entity(
        kind=kind,
        identifier=draw(_text),
        name=draw(st.none() | _text),
        country=draw(_countries),
        date_of_birth=draw(st.none() | _days) if person else None,
        data_subject=draw(st.sampled_from(list(DataSubject))) if person else None,
        role=draw(st.none() | _text),
    )


@st.composite
def feedbacks(draw: st.DrawFn) -> Feedback:
    outcome = draw(st.sampled_from(list(Outcome)))
    seized = outcome == Outcome.SEIZED
    report = draw(st.none() | _text) if seized else None
    seizure = None
    if seized and (report is None or draw(st.booleans())):
        seizure = Seizure(
            seized_on=draw(_days), place="ESALG", drug="cannabis_resin",
            quantity_kg=draw(st.floats(0, 1e4, allow_nan=False)), concealment=draw(_text),
            detection="dog", transport_mode="road",
        )  # fmt: skip
    return Feedback(
        outcome=outcome, at=draw(_days), place=draw(st.sampled_from(["NLRTM", "BGKPV", "NLAMS"])),
        control_ref=draw(st.none() | _text), seizure_report=report, seizure=seizure,
        reason=draw(_text if outcome == Outcome.NO_ACTION else st.none() | _text),
    )  # fmt: skip


@st.composite
def messages(draw: st.DrawFn) -> Message:
    kind = draw(st.sampled_from(list(MessageKind)))
    subjects = draw(st.lists(entities(), max_size=4))
    handling_code = draw(st.sampled_from(["P", "C"]))
    grading = Grading(
        source=draw(st.sampled_from(["1", "2", "3"])),
        intelligence=draw(st.sampled_from(list("ABCDE"))),
        handling=handling_code,  # type: ignore[arg-type]
        conditions=draw(_text if handling_code == "C" else st.none() | _text),
    )
    parts: dict[str, Any] = {}
    actions = st.sampled_from(list(SuggestedAction))
    if kind == MessageKind.REQUEST:
        parts["request"] = Request(urgency=draw(st.sampled_from(list(Urgency))),
                                   legal_basis=draw(_text))  # fmt: skip
    if kind == MessageKind.CIS_ALERT:
        parts["alert"] = Alert(
            category=draw(st.sampled_from(list(AlertCategory))), suggested_action=draw(actions),
            justification=draw(_text), valid_until=draw(_days),
        )  # fmt: skip
        subjects = subjects or [draw(entities())]
    if kind == MessageKind.MODE_NOTICE:
        mode = draw(st.sampled_from(list(NoticeMode)))
        (needed,) = NOTICE_SUBJECTS[mode]
        subjects.append(draw(entities(draw(st.sampled_from(sorted(needed))))))
        parts["notice"] = ModeNotice(
            mode=mode, next_place=draw(st.sampled_from(["NLRTM", "BEANR", "ESALG"])),
            expected_at=draw(st.datetimes(timezones=st.sampled_from(
                [UTC, timezone(timedelta(hours=-5))]))),
            suggested_action=draw(actions), result_required=draw(st.booleans()),
            valid_until=draw(_days), voyage=draw(st.none() | _text),
            persons_on_board=draw(st.none() | st.integers(0, 5000)),
        )  # fmt: skip
    if kind == MessageKind.SEIZURE_REPORT:
        parts["seizure"] = Seizure(
            seized_on=draw(_days), place="NLRTM",
            drug=draw(st.sampled_from(["cocaine", "heroin", "synthetic", "other"])),
            quantity_kg=draw(st.floats(0, 1e5, allow_nan=False)),
            units=draw(st.none() | st.integers(0, 10**6)), concealment=draw(_text),
            detection=draw(st.sampled_from(["profiling", "dog", "scanner"])),
            transport_mode=draw(st.sampled_from(["sea", "air", "road"])),
            origin_country=draw(_countries), routing_countries=draw(st.lists(
                st.sampled_from(["PA", "ES", "MA"]), max_size=3)),
        )  # fmt: skip
    if kind == MessageKind.SIGHTING or (kind == MessageKind.REPLY and draw(st.booleans())):
        parts["feedback"] = draw(feedbacks())
    if kind in (MessageKind.REPLY, MessageKind.SIGHTING) or draw(st.booleans()):
        parts["in_reply_to"] = draw(_text)
    return Message(
        kind=kind,
        subject=draw(_text),
        facts=draw(_text),
        assessment=draw(st.none() | _text),
        entities=subjects,
        grading=grading,
        handling=Handling(
            tlp=draw(st.sampled_from([Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT])),
            no_forward=draw(st.booleans()),
            no_court_use=draw(st.booleans()),
        ),
        operation=draw(st.none() | _text),
        **parts,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_export_then_import_gives_the_message_back(message: Message) -> None:
    found = import_bundle(json.dumps(export_bundle(message, sender="NL-FIOD")))
    assert [m.message for m in found.messages] == [message]
    assert found.unmapped == []


# --- foreign bundles ----------------------------------------------------------------------


def _foreign() -> tuple[dict[str, Any], dict[str, str]]:
    """A bundle another tool might send: TLP 1.0 markings, a statement marking, STIX objects
    redlane has no counterpart for, and no redlane grading."""
    author = stix2.v21.Identity(name="BE Customs", identity_class="organization")
    other = stix2.v21.Identity(name="Some CERT", identity_class="organization")
    company = stix2.v21.Identity(name="Exotic Fruits SA", identity_class="organization",
                                 sectors=["retail"])  # fmt: skip
    person = stix2.v21.Identity(name="J. Doe", identity_class="individual")
    place = stix2.v21.Location(street_address="Rue du Port 3", country="BE")
    indicator = stix2.v21.Indicator(pattern="[domain-name:value = 'evil.example']",
                                    pattern_type="stix", valid_from=AT)  # fmt: skip
    statement = stix2.v21.MarkingDefinition(
        definition_type="statement", definition={"statement": "Copyright BE Customs"}
    )
    report = stix2.v21.Report(
        name="Banana route", description="Three loads via Antwerp.", published=AT,
        report_types=["threat-report"], confidence=80, created_by_ref=author.id,
        object_refs=[company.id, person.id, place.id, indicator.id, "malware--" + "0" * 8
                     + "-0000-4000-8000-000000000000"],
        object_marking_refs=[stix2.TLP_WHITE.id, statement.id], lang="en",
    )  # fmt: skip
    own_note = stix2.v21.Note(content="Probably the same network.", object_refs=[report.id],
                              created_by_ref=author.id)  # fmt: skip
    their_note = stix2.v21.Note(content="We disagree.", object_refs=[report.id],
                                created_by_ref=other.id)  # fmt: skip
    lonely = stix2.v21.Malware(name="nothing to do with us", is_family=False)
    objects = [author, other, company, person, place, indicator, statement, report, own_note,
               their_note, lonely, stix2.TLP_WHITE]  # fmt: skip
    bundle = json.loads(stix2.v21.Bundle(*objects, allow_custom=True).serialize())
    ids = {"report": report.id, "company": company.id, "person": person.id,
           "indicator": indicator.id, "statement": statement.id, "their_note": their_note.id,
           "lonely": lonely.id, "other": other.id}  # fmt: skip
    return bundle, ids


def test_foreign_bundle_maps_what_it_can_and_names_the_rest() -> None:
    bundle, ids = _foreign()
    found = import_bundle(bundle, default_grading=parse_grading("2DP"))
    (imported,) = found.messages
    m = imported.message
    assert (m.kind, m.subject, m.facts) == ("intelligence_report", "Banana route",
                                            "Three loads via Antwerp.")  # fmt: skip
    assert m.assessment == "Probably the same network."
    assert m.grading.code == "2DP" and m.handling.tlp == Tlp.CLEAR
    assert [(e.kind, e.identifier, e.country) for e in m.entities] == [
        ("company", "Exotic Fruits SA", None),
        ("address", "Rue du Port 3", "BE"),
    ]
    assert imported.sender == "BE Customs"
    named = {(u.stix_id, u.property) for u in found.unmapped}
    report = ids["report"]
    assert (report, "confidence") in named
    assert (report, "lang") in named
    assert (report, "report_types") in named
    assert (report, "object_marking_refs") in named  # the statement marking
    assert (ids["company"], "sectors") in named
    assert (ids["person"], "identity_class") in named  # no data subject category
    assert (ids["indicator"], None) in named
    assert (ids["statement"], None) in named
    assert (ids["their_note"], None) in named
    assert (ids["lonely"], None) in named
    assert (ids["other"], None) in named
    missing = next(u for u in found.unmapped if u.stix_id.startswith("malware--0000"))
    assert "not in bundle" in missing.reason
    text = [str(u) for u in found.unmapped]
    assert f"{report} confidence: 80 is not converted back; graded 2DP as given" in text


def test_foreign_report_without_grading_is_left_out_and_said_so() -> None:
    bundle, ids = _foreign()
    found = import_bundle(bundle)
    assert found.messages == []
    (why,) = [
        u for u in found.unmapped if u.stix_id == ids["report"] and u.property == "confidence"
    ]
    assert "not converted back" in why.reason and "default grading" in why.reason


@pytest.mark.parametrize(
    ("bundle", "says"),
    [
        ("{not json", "not JSON"),
        ('{"type": "report"}', "of type 'bundle'"),
        (
            {"type": "bundle", "id": "bundle--d6e3c0b4-f916-4d15-a01f-e3761c5f48ac",
             "objects": [{"type": "report", "spec_version": "2.1",
                          "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
                          "created": "2026-01-01T00:00:00.000Z",
                          "modified": "2026-01-01T00:00:00.000Z",
                          "published": "2026-01-01T00:00:00Z",
                          "object_refs": ["identity--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb4"]}]},
            "name",
        ),
    ],
)  # fmt: skip
def test_unreadable_bundles_are_refused(bundle: Any, says: str) -> None:
    with pytest.raises(StixError, match=says):
        import_bundle(bundle)


# --- a message of the mailbox, over the API --------------------------------------------------

NODE_TOKEN = "stix-node-token-0123456789abcdef"


@dataclass
class Stored:
    """Colombian police's reports to Dutch customs, one per handling, and who asks for them."""

    db: Database
    kek: Kek
    ids: dict[str, str]
    """Handling variant: message id."""
    messages: dict[str, Message]
    client: TestClient
    tokens: dict[str, dict[str, str]]


def _stored(db: Database, kek: Kek | None = None) -> Stored:
    add_staff(
        db,
        [
            ("carlos", "CO-DIJIN", "intelligence officer"),
            ("anna", "NL-DOUANE", "intelligence officer"),
            ("piet", "NL-DOUANE", "officer"),
            ("marie", "FR-DNRED", "intelligence officer"),
        ],
    )
    chosen = kek or Kek(os.urandom(32))
    report = example(MessageKind.INTELLIGENCE_REPORT, Tlp.AMBER)
    messages = {
        "amber": report,
        "no_export": report.model_copy(update={"handling": Handling(tlp=Tlp.GREEN,
                                                                    no_export=True)}),
        "red": example(MessageKind.INTELLIGENCE_REPORT, Tlp.RED),
    }  # fmt: skip
    carlos = security.get_user(db, "carlos")
    ids = {
        variant: mailbox.send(db, carlos, message, ["NL-DOUANE"], now=AT, kek=chosen).id
        for variant, message in messages.items()
    }
    tokens = {
        name: {"Authorization": f"Bearer {security.issue_token(db, name).token}",
               "X-Redlane-Purpose": "joint operation JCO-2026-07"}
        for name in ("carlos", "anna", "piet", "marie")
    }  # fmt: skip
    client = TestClient(create_app(db, NODE_TOKEN, kek=chosen))
    return Stored(db, chosen, ids, messages, client, tokens)


def test_a_stored_message_is_exported_as_a_bundle_under_the_mailboxs_rules(db: Database) -> None:
    stored = _stored(db)
    anna, carlos = stored.tokens["anna"], stored.tokens["carlos"]
    amber = stored.ids["amber"]

    answer = stored.client.get(f"/messages/{amber}/stix", headers=anna)
    assert answer.status_code == 200, answer.text
    bundle = answer.json()
    validate(bundle)
    # the bundle of the message as sent: same sender, sending time and report id each time
    assert bundle == export_bundle(stored.messages["amber"], sender="CO-DIJIN", at=AT,
                                   message_id=amber)  # fmt: skip
    (report,) = _objects(bundle, "report")
    assert report["object_marking_refs"] == [OFFICIAL[Tlp.AMBER]]
    assert report["published"] == "2026-11-03T09:30:00.000Z"
    assert import_bundle(bundle).messages[0].message == stored.messages["amber"]
    exported = audit.entries(db, object_kind="message", object_id=amber, username="anna")[-1]
    assert (exported.action, exported.purpose) == ("export", "joint operation JCO-2026-07")
    assert exported.details == {"rule": "tlp:amber", "allowed": True}

    # Refusals by the sender's handling name the rule (404: every refusal on a message's own
    # routes), for a recipient and, for a bundle, for the sending agency too.
    refusals = [
        (anna, "no_export", "no_export"),
        (anna, "red", "tlp:red"),
        (carlos, "no_export", "no_export"),
        (carlos, "red", "tlp:red"),
    ]
    for who, variant, rule in refusals:
        refused = stored.client.get(f"/messages/{stored.ids[variant]}/stix", headers=who)
        assert refused.status_code == 404 and f"({rule})" in refused.json()["detail"], variant
    own = audit.entries(db, object_kind="message", object_id=stored.ids["red"], username="carlos")
    assert own[-1].details == {"format": "stix", "rule": "tlp:red", "allowed": False}
    # the recipient's refusal is the mailbox's own, audited there
    theirs = audit.entries(db, object_kind="message", object_id=stored.ids["red"], username="anna")
    assert theirs[-1].details == {"rule": "tlp:red", "allowed": False}
    # a role that may not export (an officer reads, no more): the capability is named
    officer = stored.client.get(f"/messages/{amber}/stix", headers=stored.tokens["piet"])
    assert officer.status_code == 404 and "export_messages" in officer.json()["detail"]

    # A service that never received it: exactly the answer for an id of no message.
    hidden = stored.client.get(f"/messages/{amber}/stix", headers=stored.tokens["marie"])
    missing = stored.client.get(f"/messages/{'0' * 32}/stix", headers=stored.tokens["marie"])
    assert hidden.status_code == 404 and hidden.json() == {"detail": "no such message"}
    assert (missing.status_code, missing.content) == (hidden.status_code, hidden.content)
    assert not audit.entries(db, object_kind="message", object_id=amber, username="marie")

    no_purpose = {"Authorization": anna["Authorization"]}
    assert stored.client.get(f"/messages/{amber}/stix", headers=no_purpose).status_code == 422
    paths = stored.client.get("/openapi.json", headers=anna).json()["paths"]
    assert "/messages/{message_id}/stix" in paths


# --- the command line -----------------------------------------------------------------------


def test_cli_export_and_import(tmp_path: Path) -> None:
    message = example(MessageKind.MODE_NOTICE, Tlp.AMBER_STRICT)
    source = tmp_path / "message.json"
    source.write_text(message.model_dump_json())
    runner = CliRunner()
    out = tmp_path / "bundle.json"
    result = runner.invoke(app, ["stix", "export", str(source), "--out", str(out),
                                 "--sender", "NL-DOUANE"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert OFFICIAL[Tlp.AMBER_STRICT] in out.read_text()
    back = tmp_path / "messages.json"
    result = runner.invoke(app, ["stix", "import", str(out), "--out", str(back)])
    assert result.exit_code == 0, result.output
    assert "1 messages, 0 things not mapped" in result.output
    assert [Message.model_validate(m) for m in json.loads(back.read_text())] == [message]


def test_cli_refuses_a_red_export(tmp_path: Path) -> None:
    source = tmp_path / "message.json"
    source.write_text(example(MessageKind.CIS_ALERT, Tlp.RED).model_dump_json())
    result = CliRunner().invoke(app, ["stix", "export", str(source), "--out",
                                      str(tmp_path / "b.json")])  # fmt: skip
    assert result.exit_code == 2 and "TLP:RED" in result.output
    assert not (tmp_path / "b.json").exists()


def test_cli_import_names_the_unmapped(tmp_path: Path) -> None:
    bundle, ids = _foreign()
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps(bundle))
    result = CliRunner().invoke(app, ["stix", "import", str(path), "--grading", "2dp"])
    assert result.exit_code == 0, result.output
    assert f"not mapped: {ids['indicator']}" in result.output
    bad = CliRunner().invoke(app, ["stix", "import", str(path), "--grading", "9ZZ"])
    assert bad.exit_code == 2 and "source evaluation '9'" in bad.output


def test_cli_exports_a_stored_message(db: Database, tmp_path: Path) -> None:
    key = tmp_path / "node.kek"
    stored = _stored(db, generate_kek(key))
    common = ["--user", "anna", "--purpose", "case 2026/117", "--kek", str(key), "--database",
              db.url.render_as_string(hide_password=False)]  # fmt: skip
    out = tmp_path / "bundle.json"
    runner = CliRunner()
    done = runner.invoke(app, ["stix", "export-message", stored.ids["amber"], "--out", str(out),
                               *common])  # fmt: skip
    assert done.exit_code == 0, done.output
    bundle = json.loads(out.read_text())
    validate(bundle)
    assert import_bundle(bundle).messages[0].message == stored.messages["amber"]
    red = tmp_path / "red.json"
    refused = runner.invoke(app, ["stix", "export-message", stored.ids["red"], "--out", str(red),
                                  *common])  # fmt: skip
    assert refused.exit_code == 2 and "(tlp:red)" in refused.output and not red.exists()
    hidden = runner.invoke(app, ["stix", "export-message", stored.ids["amber"], "--out", str(red),
                                 *common[:1], "marie", *common[2:]])  # fmt: skip
    assert hidden.exit_code == 2 and "no such message" in hidden.output and not red.exists()
