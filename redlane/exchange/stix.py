"""STIX 2.1 bundles of redlane messages, out and back in, with TLP 2.0 markings.

Every message becomes one `report` (name: the subject; description: the facts, never the
assessment; `confidence` from the grading; the TLP 2.0 marking in `object_marking_refs`),
with the redlane property extension carrying what STIX has no words for: the 3x5x2 code
and its conditions, the handling flags and the kind's part (request, alert, notice,
seizure, a sighting's or reply's feedback). The author's assessment is a `note` on the
report. Subjects are referenced from `object_refs`: persons and companies as `identity`
(individual, organization), addresses as `location`, vessels, aircraft, vehicles, containers
and phones as `x-redlane-entity`, a new SDO of the same extension definition. See
docs/stix.md for the reasons.

Export refuses what the sender's handling keeps inside redlane (no export, TLP:RED);
`export_stored` exports a message of the mailbox through the mailbox's own export, so its
need-to-know, handling rules and audit apply. Import maps reports back onto messages and names,
by STIX id and property, what it could not map.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import stix2
from pydantic import ValidationError
from stix2.properties import StringProperty

from redlane.exchange import mailbox
from redlane.exchange.crypto import Kek
from redlane.exchange.grading import (
    GradingError,
    equivalents,
    grading_from,
)
from redlane.exchange.handling import Decision
from redlane.exchange.model import Entity, EntityKind, Grading, Message, Tlp
from redlane.model.base import RedlaneModel
from redlane.security import audit
from redlane.security.accounts import Actor
from redlane.store.database import Database


class StixError(ValueError):
    """A bundle that cannot be read or written; the message says which object and why."""


class ExportRefused(StixError):
    """The sender's handling keeps the message inside redlane."""


# --- TLP 2.0 (FIRST), as the OASIS cti-stix-common-objects publish it for STIX 2.1 --------

TLP_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
#: TLP 1.0 markings (as stix2 ships them) read on import: WHITE became CLEAR in TLP 2.0.
TLP1_MARKING_IDS: dict[str, Tlp] = {
    stix2.TLP_WHITE.id: Tlp.CLEAR,
    stix2.TLP_GREEN.id: Tlp.GREEN,
    stix2.TLP_AMBER.id: Tlp.AMBER,
    stix2.TLP_RED.id: Tlp.RED,
}
_TLP_BY_ID = {v: k for k, v in TLP_MARKING_IDS.items()} | TLP1_MARKING_IDS
#: From least to most restrictive: several TLP markings on one object yield the strictest.
_TLP_ORDER = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)


def tlp_marking(tlp: Tlp) -> dict[str, Any]:
    """The official TLP 2.0 marking-definition object."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKING_IDS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{tlp.value.upper()}",
        "extensions": {
            TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp.value}
        },
    }


# --- the redlane extension ---------------------------------------------------------------

REDLANE_IDENTITY_ID = "identity--03ad1899-6183-4070-9ab0-1ee68712d389"
REDLANE_EXTENSION_ID = "extension-definition--1a9bd3f2-e30e-4092-9eb8-c16df3f5569a"
ENTITY_TYPE = "x-redlane-entity"
#: stix2 ties an extension definition to one kind of extension, so the new SDO has its own.
ENTITY_EXTENSION_ID = "extension-definition--1fcd2536-e60d-426d-9b24-bf540f3c4dc9"
_NAMESPACE = uuid.UUID("fd00a597-2ea5-4731-b2ee-40831f6cdfee")
_DEFINED = "2026-11-01T00:00:00.000Z"

REDLANE_IDENTITY: dict[str, Any] = {
    "type": "identity",
    "spec_version": "2.1",
    "id": REDLANE_IDENTITY_ID,
    "created": _DEFINED,
    "modified": _DEFINED,
    "name": "redlane",
    "identity_class": "system",
}
REDLANE_EXTENSION: dict[str, Any] = {
    "type": "extension-definition",
    "spec_version": "2.1",
    "id": REDLANE_EXTENSION_ID,
    "created_by_ref": REDLANE_IDENTITY_ID,
    "created": _DEFINED,
    "modified": _DEFINED,
    "name": "redlane message",
    "description": (
        "What a redlane message carries beyond STIX: on a report, the 3x5x2 grading, the "
        "handling flags and the message kind's part; on a note, that it is the assessment; on "
        "an identity or location, the subject entity."
    ),
    "schema": "redlane docs/stix.md",
    "version": "1.0.0",
    "extension_types": ["property-extension"],
}
ENTITY_EXTENSION: dict[str, Any] = {
    **REDLANE_EXTENSION,
    "id": ENTITY_EXTENSION_ID,
    "name": "redlane entity",
    "description": (
        "x-redlane-entity: a subject of a redlane message that STIX has no object for (a "
        "vessel, aircraft, vehicle, container, phone, or an address without a country), with "
        "entity_kind, identifier, name, country and role."
    ),
    "extension_types": ["new-sdo"],
}


@stix2.v21.CustomObject(  # type: ignore[misc]
    ENTITY_TYPE,
    [
        ("entity_kind", StringProperty(required=True)),
        ("identifier", StringProperty(required=True)),
        ("name", StringProperty()),
        ("country", StringProperty()),
        ("role", StringProperty()),
    ],
    extension_name=ENTITY_EXTENSION_ID,
)
class _EntityObject:
    """Registered so stix2 validates x-redlane-entity objects like its own."""


_CONVEYANCE_KINDS = {
    EntityKind.VESSEL,
    EntityKind.AIRCRAFT,
    EntityKind.VEHICLE,
    EntityKind.CONTAINER,
    EntityKind.PHONE,
}
_PARTS = ("request", "alert", "notice", "seizure", "feedback")


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(_NAMESPACE, '|'.join(parts))}"


def report_id(message_id: str) -> str:
    """The STIX id of the report of the mailbox's message `message_id`: the same at every
    export, so a receiver (a TAXII client) can name a message's report without its content."""
    return _id("report", "message", message_id)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _entity_object(entity: Entity, common: dict[str, Any], scope: str) -> dict[str, Any]:
    data = entity.model_dump(mode="json", exclude_none=True)
    key = json.dumps(data, sort_keys=True) + "|" + scope
    carried = {REDLANE_EXTENSION_ID: {"extension_type": "property-extension", "entity": data}}
    if entity.kind in (EntityKind.PERSON, EntityKind.COMPANY):
        return {
            "type": "identity",
            "id": _id("identity", "entity", key),
            **common,
            "name": entity.identifier,
            "identity_class": "individual" if entity.kind == EntityKind.PERSON else "organization",
            "extensions": carried,
        }
    if entity.kind == EntityKind.ADDRESS and entity.country:
        return {
            "type": "location",
            "id": _id("location", "entity", key),
            **common,
            "street_address": entity.identifier,
            "country": entity.country,
            "extensions": carried,
        }
    # Phones, conveyances, containers, and addresses without a country (a STIX location
    # needs a region, country or coordinates).
    obj = {
        "type": ENTITY_TYPE,
        "id": _id(ENTITY_TYPE, "entity", key),
        **common,
        "entity_kind": entity.kind.value,
        "identifier": entity.identifier,
        "extensions": {ENTITY_EXTENSION_ID: {"extension_type": "new-sdo"}},
    }
    for field in ("name", "country", "role"):
        if data.get(field) is not None:
            obj[field] = data[field]
    return obj


def export_refusal(message: Message) -> str | None:
    """Why the sender's handling forbids exporting the message, or None when it allows it."""
    if message.handling.no_export:
        return "its sender forbade export (no_export)"
    if message.handling.tlp == Tlp.RED:
        return "it is TLP:RED: for the named recipients only, never in a file"
    return None


def export_bundle(
    message: Message,
    *,
    sender: str,
    at: datetime | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """The message as a STIX 2.1 bundle (a JSON-ready dict), validated by stix2's parser.
    `sender` names the sending agency (the report's `created_by_ref`), `at` is the report's
    time (default now), `message_id` the mailbox's id (it fixes the report's STIX id)."""
    refusal = export_refusal(message)
    if refusal:
        raise ExportRefused(f"message {message.subject!r} may not be exported: {refusal}")
    stamp = _timestamp(at or datetime.now(UTC))
    content = message.model_dump_json()
    stix_id = report_id(message_id) if message_id else _id("report", "content", content)
    # Every object of the message is the message's own (ids scoped to its report): a STIX id
    # names one object whose `created` never changes, and the same vessel or agency in two
    # messages comes with each message's time and marking. Receivers merge them by content.
    sender_id = _id("identity", "sender", sender, stix_id)
    tlp_id = TLP_MARKING_IDS[message.handling.tlp]
    common = {
        "spec_version": "2.1",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": sender_id,
        "object_marking_refs": [tlp_id],
    }
    entities: dict[str, dict[str, Any]] = {}
    refs = []
    for entity in message.entities:
        obj = _entity_object(entity, common, stix_id)
        entities.setdefault(obj["id"], obj)
        refs.append(obj["id"])
    views = equivalents(message.grading, message.handling)
    dumped = message.model_dump(mode="json", exclude_none=True)
    extension: dict[str, Any] = {
        "extension_type": "property-extension",
        "kind": message.kind.value,
        "grading": message.grading.code,
        # The TLP travels as the marking, not twice.
        "handling": {k: v for k, v in dumped["handling"].items() if k != "tlp"},
    }
    if message.grading.conditions is not None:
        extension["conditions"] = message.grading.conditions
    for part in (*_PARTS, "in_reply_to", "operation"):
        if part in dumped:
            extension[part] = dumped[part]
    report = {
        "type": "report",
        "id": stix_id,
        **common,
        "name": message.subject,
        "description": message.facts,
        "report_types": [message.kind.value.replace("_", "-")],
        "published": stamp,
        # object_refs may not be empty; a message without subjects refers to its sender.
        "object_refs": refs or [sender_id],
        "confidence": views.stix_confidence,
        # Derived, for tools that read MISP's admiralty-scale tags; never read back.
        "labels": [
            f'admiralty-scale:source-reliability="{views.admiralty.reliability.code.lower()}"',
            f'admiralty-scale:information-credibility="{views.admiralty.credibility.code}"',
        ],
        "extensions": {REDLANE_EXTENSION_ID: extension},
    }
    objects: list[dict[str, Any]] = [
        REDLANE_IDENTITY,
        REDLANE_EXTENSION,
        ENTITY_EXTENSION,
        tlp_marking(message.handling.tlp),
        {
            "type": "identity",
            "id": sender_id,
            **{k: v for k, v in common.items() if k != "created_by_ref"},
            "name": sender,
            "identity_class": "organization",
        },
        report,
    ]
    # An empty assessment is no assessment: a note needs content.
    if message.assessment:
        objects.append(
            {
                "type": "note",
                "id": _id("note", stix_id, "assessment"),
                **common,
                "abstract": "Assessment",
                "content": message.assessment,
                "object_refs": [stix_id],
                "extensions": {
                    REDLANE_EXTENSION_ID: {
                        "extension_type": "property-extension",
                        "part": "assessment",
                    }
                },
            }
        )
    objects.extend(entities.values())
    bundle = {"type": "bundle", "id": _id("bundle", stix_id, stamp), "objects": objects}
    validate(bundle)
    return bundle


def export_file(message_file: Path, out: Path, *, sender: str, at: datetime | None = None) -> str:
    """Export the message in a JSON file (a `Message` as `model_dump_json` writes it) to a
    bundle file; returns the report's STIX id."""
    try:
        message = Message.model_validate_json(message_file.read_bytes())
    except ValidationError as exc:
        raise StixError(f"{message_file}: not a redlane message: {exc}") from exc
    bundle = export_bundle(message, sender=sender, at=at)
    out.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return str(next(o["id"] for o in bundle["objects"] if o["type"] == "report"))


def export_stored(
    db: Database,
    actor: Actor,
    message_id: str,
    purpose: str,
    *,
    kek: Kek | None = None,
) -> dict[str, Any]:
    """A message of the mailbox as a STIX 2.1 bundle, for someone who may export it: opened
    through `mailbox.export`, so a message the actor may not see is NotFound, a refusal by
    their roles or the sender's handling is Forbidden or Refused, and the export is audited
    with the purpose. A bundle goes to sharing platforms that do not keep redlane's handling,
    so no_export and TLP:RED refuse it even to the sending agency (which may still export the
    JSON document); that refusal is audited too. The report's time is the sending time and
    its id follows from the message id, so the same message gives the same bundle."""
    document = mailbox.export(db, actor, message_id, purpose, kek=kek)
    message = Message.model_validate(document["message"])
    refusal = export_refusal(message)
    if refusal is not None:
        rule = "no_export" if message.handling.no_export else f"tlp:{message.handling.tlp.value}"
        audit.record(db, actor, audit.Action.EXPORT, purpose, mailbox.OBJECT_KIND, message_id,
                     {"format": "stix", "rule": rule, "allowed": False})  # fmt: skip
        raise mailbox.Refused(Decision(False, rule, f"no STIX bundle: {refusal}"))
    sent_at = datetime.fromisoformat(document["sent_at"])
    return export_bundle(message, sender=document["sender"], at=sent_at, message_id=message_id)


def validate(bundle: dict[str, Any]) -> None:
    """Raise StixError unless stix2's parser accepts the bundle as STIX 2.1."""
    try:
        stix2.parse(bundle, allow_custom=True, version="2.1")
    except (stix2.exceptions.STIXError, ValueError, TypeError, KeyError) as exc:
        raise StixError(f"not a valid STIX 2.1 bundle: {exc}") from exc


# --- import -------------------------------------------------------------------------------


class Unmapped(RedlaneModel):
    """Something of a bundle that did not become part of a message."""

    stix_id: str
    property: str | None = None
    reason: str

    def __str__(self) -> str:
        where = f"{self.stix_id} {self.property}" if self.property else self.stix_id
        return f"{where}: {self.reason}"


class ImportedMessage(RedlaneModel):
    message: Message
    report_id: str
    sender: str | None = None
    """The name of the report's `created_by_ref` identity, when the bundle has it."""
    published: str | None = None


class StixImport(RedlaneModel):
    messages: list[ImportedMessage]
    unmapped: list[Unmapped]


_COMMON = {"type", "spec_version", "id", "created", "modified", "created_by_ref"}
_KNOWN = {
    "report": _COMMON
    | {
        "name", "description", "report_types", "published", "object_refs", "confidence",
        "object_marking_refs", "extensions", "labels",
    },
    "identity": _COMMON | {"name", "identity_class", "object_marking_refs", "extensions"},
    "location": _COMMON
    | {"street_address", "country", "name", "object_marking_refs", "extensions"},
    ENTITY_TYPE: _COMMON
    | {"entity_kind", "identifier", "name", "country", "role", "object_marking_refs",
       "extensions"},
    "note": _COMMON | {"abstract", "content", "object_refs", "object_marking_refs", "extensions"},
}  # fmt: skip


def _extra_properties(obj: dict[str, Any], unmapped: list[Unmapped]) -> None:
    for prop in obj:
        if prop not in _KNOWN[obj["type"]]:
            unmapped.append(Unmapped(stix_id=obj["id"], property=prop, reason="no redlane field"))
    for key in obj.get("extensions", {}):
        if key not in (REDLANE_EXTENSION_ID, ENTITY_EXTENSION_ID):
            unmapped.append(
                Unmapped(
                    stix_id=obj["id"], property=f"extensions.{key}", reason="unknown extension"
                )
            )


def _ours(obj: dict[str, Any]) -> dict[str, Any] | None:
    found = obj.get("extensions", {}).get(REDLANE_EXTENSION_ID)
    return found if isinstance(found, dict) else None


def _entity(obj: dict[str, Any], unmapped: list[Unmapped]) -> Entity | None:
    kind, sid = obj["type"], obj["id"]
    ext = _ours(obj)
    try:
        if kind in ("identity", "location") and ext and "entity" in ext:
            entity = Entity.model_validate(ext["entity"])
        elif kind == ENTITY_TYPE:
            entity = Entity(
                kind=EntityKind(obj["entity_kind"]),
                identifier=obj["identifier"],
                name=obj.get("name"),
                country=obj.get("country"),
                role=obj.get("role"),
            )
        elif kind == "identity" and obj.get("identity_class") == "organization":
            entity = Entity(kind=EntityKind.COMPANY, identifier=obj["name"])
        elif kind == "identity" and obj.get("identity_class") == "individual":
            unmapped.append(
                Unmapped(
                    stix_id=sid,
                    property="identity_class",
                    reason="a person needs a data subject category (suspect, witness, ...) "
                    "that a foreign identity does not carry",
                )
            )
            return None
        elif kind == "location" and (obj.get("street_address") or obj.get("name")):
            entity = Entity(
                kind=EntityKind.ADDRESS,
                identifier=obj.get("street_address") or obj["name"],
                country=obj.get("country"),
            )
        else:
            what = f"identity_class {obj.get('identity_class')!r}" if kind == "identity" else kind
            unmapped.append(Unmapped(stix_id=sid, reason=f"{what} has no redlane counterpart"))
            return None
    except (ValidationError, ValueError, KeyError) as exc:
        unmapped.append(Unmapped(stix_id=sid, reason=f"not a redlane subject: {exc}"))
        return None
    _extra_properties(obj, unmapped)
    return entity


def _tlp(obj: dict[str, Any], unmapped: list[Unmapped]) -> Tlp:
    found = []
    for ref in obj.get("object_marking_refs", []):
        if ref in _TLP_BY_ID:
            found.append(_TLP_BY_ID[ref])
        else:
            unmapped.append(
                Unmapped(
                    stix_id=obj["id"],
                    property="object_marking_refs",
                    reason=f"{ref} is not a TLP marking; its terms are not carried",
                )
            )
    if not found:
        unmapped.append(
            Unmapped(
                stix_id=obj["id"],
                property="object_marking_refs",
                reason="no TLP marking: imported as TLP:AMBER",
            )
        )
        return Tlp.AMBER
    return max(found, key=_TLP_ORDER.index)


def _grading(
    report: dict[str, Any],
    ext: dict[str, Any] | None,
    default: Grading | None,
    unmapped: list[Unmapped],
) -> Grading | None:
    sid = report["id"]
    if ext is not None and "grading" in ext:
        try:
            return grading_from(str(ext["grading"]), ext.get("conditions"))
        except (GradingError, ValidationError) as exc:
            unmapped.append(Unmapped(stix_id=sid, property="extensions.grading", reason=str(exc)))
            return None
    confidence = report.get("confidence")
    if default is None:
        unmapped.append(
            Unmapped(
                stix_id=sid,
                property="confidence",
                reason=f"no 3x5x2 grading, and the confidence ({confidence}) is not converted "
                "back into one: give a default grading",
            )
        )
        return None
    if confidence is not None:
        unmapped.append(
            Unmapped(
                stix_id=sid,
                property="confidence",
                reason=f"{confidence} is not converted back; graded {default.code} as given",
            )
        )
    return default


def import_bundle(
    bundle: dict[str, Any] | str, *, default_grading: Grading | None = None
) -> StixImport:
    """The reports of a STIX 2.1 bundle as messages, and what could not be mapped. A report
    without redlane's grading takes `default_grading` (the importing officer's), or is left
    out: a STIX confidence is never turned back into a 3x5x2 grading."""
    if isinstance(bundle, str):
        try:
            bundle = json.loads(bundle)
        except json.JSONDecodeError as exc:
            raise StixError(f"bundle: not JSON: {exc}") from exc
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        raise StixError("bundle: a STIX 2.1 bundle is a JSON object of type 'bundle'")
    validate(bundle)
    objects: dict[str, dict[str, Any]] = {o["id"]: o for o in bundle.get("objects", [])}
    unmapped: list[Unmapped] = []
    used = {REDLANE_IDENTITY_ID, REDLANE_EXTENSION_ID, ENTITY_EXTENSION_ID}
    used |= {sid for sid in objects if sid in _TLP_BY_ID}
    notes = [o for o in objects.values() if o["type"] == "note"]
    messages = []
    for report in (o for o in objects.values() if o["type"] == "report"):
        sid = report["id"]
        used.add(sid)
        creator = report.get("created_by_ref")
        sender = None
        if creator in objects:
            used.add(creator)
            sender = objects[creator].get("name")
        ext = _ours(report)
        _extra_properties(
            {k: v for k, v in report.items() if not (k == "labels" and ext is not None)}, unmapped
        )
        if ext is None and report.get("report_types"):
            unmapped.append(
                Unmapped(stix_id=sid, property="report_types", reason="not a redlane message kind")
            )
        if not report.get("description"):
            unmapped.append(
                Unmapped(
                    stix_id=sid, property="description", reason="no facts: a message needs them"
                )
            )
            continue
        grading = _grading(report, ext, default_grading, unmapped)
        if grading is None:
            continue
        entities = []
        for ref in report["object_refs"]:
            if ref == creator:
                continue
            if ref not in objects:
                unmapped.append(Unmapped(stix_id=ref, reason=f"referenced by {sid}, not in bundle"))
                continue
            used.add(ref)
            entity = _entity(objects[ref], unmapped)
            if entity is not None:
                entities.append(entity)
        assessment = []
        for note in notes:
            if sid not in note.get("object_refs", []):
                continue
            if note.get("created_by_ref") != creator:
                continue  # another author's note is not the report's assessment
            used.add(note["id"])
            _extra_properties(note, unmapped)
            assessment.append(note.get("content", ""))
        data: dict[str, Any] = {
            "kind": (ext or {}).get("kind", "intelligence_report"),
            "subject": report["name"],
            "facts": report["description"],
            "assessment": "\n\n".join(assessment) or None,
            "entities": entities,
            "grading": grading,
            "handling": {**(ext or {}).get("handling", {}), "tlp": _tlp(report, unmapped)},
        }
        for part in (*_PARTS, "in_reply_to", "operation"):
            if ext is not None and part in ext:
                data[part] = ext[part]
        try:
            message = Message.model_validate(data)
        except ValidationError as exc:
            unmapped.append(Unmapped(stix_id=sid, reason=f"not a redlane message: {exc}"))
            continue
        messages.append(
            ImportedMessage(
                message=message, report_id=sid, sender=sender, published=report.get("published")
            )
        )
    for sid, obj in objects.items():
        if sid in used:
            continue
        if obj["type"] in ("report", "identity", "location", ENTITY_TYPE, "note"):
            reason = "not part of any report redlane could map"
        elif obj["type"] == "marking-definition":
            reason = "not a TLP marking"
        else:
            reason = f"type {obj['type']!r} has no redlane counterpart"
        unmapped.append(Unmapped(stix_id=sid, reason=reason))
    return StixImport(messages=messages, unmapped=unmapped)


def import_file(
    bundle_file: Path, out: Path | None = None, *, default_grading: Grading | None = None
) -> StixImport:
    """Import a bundle file; with `out`, write the messages there as a JSON list."""
    found = import_bundle(bundle_file.read_text("utf-8"), default_grading=default_grading)
    if out is not None:
        out.write_text(
            json.dumps([m.message.model_dump(mode="json") for m in found.messages], indent=2)
            + "\n",
            "utf-8",
        )
    return found
