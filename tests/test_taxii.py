"""The TAXII 2.1 server over the mailbox: discovery and API root, collections per role, the
objects of exportable messages the caller may see and nothing else, pagination, added_after,
match filters, media types, TAXII error messages and the audit log, with real users, tokens and
messages on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from conftest import add_staff
from fastapi.testclient import TestClient

from redlane import security
from redlane.api import create_app
from redlane.exchange import mailbox, retention, stix, taxii
from redlane.exchange.crypto import Kek
from redlane.exchange.model import Alert, Entity, Grading, Handling, Message, Tlp
from redlane.security import audit
from redlane.security.accounts import Service
from redlane.store.database import Database

NODE_TOKEN = "taxii-node-token-0123456789abcdef"
T1 = datetime(2026, 11, 3, 9, tzinfo=UTC)
COLLECTION = f"/taxii2/redlane/collections/{taxii.MAILBOX_ID}/"
OBJECTS = COLLECTION + "objects/"
MANIFEST = COLLECTION + "manifest/"
RED_FACTS = "The informant saw the load go aboard at berth 14"
FR_FACTS = "Only for the French service: a crew member is cooperating"


def at(hour: int) -> datetime:
    return T1 + timedelta(hours=hour - 1)


def _message(subject: str, facts: str, tlp: Tlp, **changes: Any) -> Message:
    fields: dict[str, Any] = {
        "kind": "intelligence_report",
        "subject": subject,
        "facts": facts,
        "assessment": "A rip-on/rip-off load is likely.",
        "entities": [
            Entity(kind="vessel", identifier="9876543", name="MSC Anna", country="PA"),
            Entity(kind="company", identifier="Fresh Import BV", country="NL"),
            Entity(kind="container", identifier="MSCU1234565"),
        ],
        "grading": Grading(source="2", intelligence="B", handling="P"),
        "handling": Handling(tlp=tlp),
    }
    return Message(**(fields | changes))


def _alert() -> Alert:
    return Alert(
        category="means_of_transport",
        suggested_action="discreet_surveillance",
        justification="Two loads on this service",
        valid_until=date(2027, 11, 3),
    )


def _amber(alert: Alert) -> Message:
    return _message(
        "Reefer walls", "Loads in reefer walls", Tlp.AMBER, kind="cis_alert", alert=alert
    )


@dataclass
class Exchange:
    """Colombian police's messages to Dutch and French customs, one Dutch message to the
    Colombians, a French forward to the Dutch, and who pulls them."""

    db: Database
    kek: Kek
    ids: dict[str, str]
    client: TestClient
    tokens: dict[str, str]

    def headers(self, name: str, **more: str) -> dict[str, str]:
        bearer = f"Bearer {self.tokens[name]}"
        return {"Authorization": bearer, "Accept": taxii.TAXII_MEDIA_TYPE, **more}

    def get(self, name: str, path: str, **params: Any) -> Any:
        return self.client.get(path, headers=self.headers(name), params=params)

    def pull(self, name: str, path: str = OBJECTS, **params: Any) -> list[dict[str, Any]]:
        """Every page, following next as a client does; the pages' bodies."""
        pages = [self.get(name, path, **params)]
        while pages[-1].json()["more"]:
            assert pages[-1].status_code == 200, pages[-1].text
            assert len(pages) < 200, "next goes round in circles"
            pages.append(self.get(name, path, **params, next=pages[-1].json()["next"]))
        assert pages[-1].status_code == 200, pages[-1].text
        return [p.json() for p in pages]

    def report(self, variant: str) -> str:
        return stix.report_id(self.ids[variant])


def _exchange(db: Database) -> Exchange:
    add_staff(
        db,
        [
            ("carlos", "CO-DIJIN", "intelligence officer"),
            ("anna", "NL-DOUANE", "intelligence officer"),
            ("piet", "NL-DOUANE", "officer"),
            ("root", "NL-DOUANE", "administrator"),
            ("sven", "NL-DOUANE", "supervisor"),
            ("marie", "FR-DNRED", "intelligence officer"),
        ],
    )
    kek = Kek(os.urandom(32))
    carlos, anna, marie = (security.get_user(db, n) for n in ("carlos", "anna", "marie"))
    alert = _alert()
    sent = [
        ("amber", carlos, ["NL-DOUANE"], 1, _amber(alert)),
        ("forwarded", carlos, ["FR-DNRED"], 2, _message("MSC Anna alert", "Watch MSC Anna",
                                                        Tlp.GREEN, kind="cis_alert",
                                                        alert=alert)),
        ("red", carlos, ["NL-DOUANE"], 3, _message("Informant's tip", RED_FACTS, Tlp.RED)),
        ("no_export", carlos, ["NL-DOUANE"], 4,
         _message("Kept at home", "Not to leave redlane", Tlp.GREEN,
                  handling=Handling(tlp=Tlp.GREEN, no_export=True))),
        ("own", anna, ["CO-DIJIN"], 5, _message("Dutch findings", "The consignee is a shell",
                                                Tlp.CLEAR)),
        ("french", carlos, ["FR-DNRED"], 6, _message("For the French", FR_FACTS, Tlp.AMBER)),
        ("seizure", carlos, ["NL-DOUANE"], 8, _message("412 kg seized", "Seized in Antwerp",
                                                       Tlp.AMBER)),
    ]  # fmt: skip
    ids = {
        variant: mailbox.send(db, who, message, to, now=at(hour), kek=kek).id
        for variant, who, to, hour, message in sent
    }
    # the French pass their green alert on to the Dutch at 15:00, long after it was sent
    mailbox.forward(db, marie, ids["forwarded"], ["NL-DOUANE"], "JCO-2026-07", now=at(7), kek=kek)
    names = ("anna", "piet", "root", "sven", "marie")
    tokens = {n: security.issue_token(db, n).token for n in names}
    return Exchange(db, kek, ids, TestClient(create_app(db, NODE_TOKEN, kek=kek)), tokens)


def _objects(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for page in pages for o in page.get("objects", [])]


def _reports(objects: list[dict[str, Any]]) -> list[str]:
    return [o["id"] for o in objects if o["type"] == "report"]


def _exports(db: Database, after: int) -> list[audit.Entry]:
    """The export entries written since sequence number `after`."""
    return [e for e in audit.entries(db, after=after, limit=1000) if e.action == "export"]


# --- discovery, API root, media types, credentials, errors -----------------------------------


def test_discovery_api_root_media_type_and_credentials(db: Database) -> None:
    ex = _exchange(db)
    found = ex.get("anna", "/taxii2/")
    assert found.status_code == 200
    assert found.headers["content-type"] == "application/taxii+json;version=2.1"
    root = "http://testserver/taxii2/redlane/"
    assert found.json()["api_roots"] == [root] and found.json()["default"] == root
    api_root = ex.get("anna", "/taxii2/redlane/")
    assert api_root.headers["content-type"] == taxii.TAXII_MEDIA_TYPE
    assert api_root.json()["versions"] == ["application/taxii+json;version=2.1"]
    assert api_root.json()["max_content_length"] == 0

    # what a client may accept
    bearer = {"Authorization": f"Bearer {ex.tokens['anna']}"}
    for accept, code in [("application/taxii+json", 200), ("*/*", 200),
                         ("application/json, application/taxii+json;version=2.1", 200),
                         ("application/json", 406), ("application/taxii+json;version=2.0", 406),
                         ("application/stix+json;version=2.1", 406)]:  # fmt: skip
        answer = ex.client.get("/taxii2/", headers={**bearer, "Accept": accept})
        assert answer.status_code == code, accept
    refused = ex.client.get(OBJECTS, headers={**bearer, "Accept": "application/json"})
    assert refused.headers["content-type"] == taxii.TAXII_MEDIA_TYPE
    assert refused.json()["http_status"] == "406" and refused.json()["title"] == "Not Acceptable"

    # credentials: a bearer token, or HTTP Basic with the token as the password
    anonymous = ex.client.get("/taxii2/redlane/collections/")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == taxii.TAXII_MEDIA_TYPE
    assert "Basic" in anonymous.headers["www-authenticate"]
    assert anonymous.json()["http_status"] == "401"
    assert "HTTP Basic" in anonymous.json()["description"]

    def basic(password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"anna:{password}".encode()).decode()}

    assert ex.client.get(OBJECTS, headers=basic(ex.tokens["anna"])).status_code == 200
    assert ex.client.get(OBJECTS, headers=basic(ex.tokens["marie"] + "x")).status_code == 401
    # HTTP Basic stays a TAXII thing: the rest of the API keeps to bearer tokens
    assert ex.client.get("/messages", headers=basic(ex.tokens["anna"])).status_code == 401

    # errors under /taxii2/ are TAXII error messages; elsewhere FastAPI's as before
    unknown = ex.get("anna", "/taxii2/redlane/status/1/")
    assert unknown.status_code == 404 and unknown.json()["http_status"] == "404"
    elsewhere = ex.client.get(f"/messages/{'0' * 32}", headers={**bearer,
                              "X-Redlane-Purpose": "case 1"})  # fmt: skip
    assert elsewhere.json() == {"detail": "no such message"}
    assert ex.client.get("/nowhere", headers=bearer).json() == {"detail": "Not Found"}
    paths = ex.client.get("/openapi.json", headers=bearer).json()["paths"]
    assert "/taxii2/redlane/collections/{collection_id}/objects/" in paths


# --- collections per role ----------------------------------------------------------------


def test_collections_per_role(db: Database) -> None:
    ex = _exchange(db)
    mine = ex.get("anna", "/taxii2/redlane/collections/").json()
    assert mine == {"collections": [taxii.MAILBOX.to_dict()]}
    (mailbox_collection,) = mine["collections"]
    assert (mailbox_collection["can_read"], mailbox_collection["can_write"]) == (True, False)
    assert mailbox_collection["media_types"] == ["application/stix+json;version=2.1"]
    assert ex.get("anna", COLLECTION).json() == mailbox_collection

    # an officer reads messages but may not export them; an administrator reads none
    for name, missing in [("piet", "export_messages"), ("root", "read_messages")]:
        assert ex.get(name, "/taxii2/redlane/collections/").json() == {}, name
        for path in (COLLECTION, OBJECTS, MANIFEST, OBJECTS + ex.report("amber") + "/"):
            refused = ex.get(name, path)
            assert refused.status_code == 403, (name, path)
            assert missing in refused.json()["description"]
    assert not _exports(db, 0)

    assert ex.get("anna", "/taxii2/redlane/collections/" + "0" * 8 + "/objects/").status_code == (
        404
    )
    # read-only: nothing can be added or deleted
    assert ex.client.post(OBJECTS, headers=ex.headers("anna"), json={}).status_code == 405
    gone = ex.client.delete(OBJECTS + ex.report("amber") + "/", headers=ex.headers("anna"))
    assert gone.status_code == 405


# --- what a caller gets ----------------------------------------------------------------------


def test_objects_of_exportable_messages_the_caller_may_see_and_nothing_else(db: Database) -> None:
    ex = _exchange(db)
    (page,) = ex.pull("anna", limit=1000)
    objects = page["objects"]
    # their agency's messages that may leave redlane, in the order they reached them: the
    # French alert when it was forwarded (15:00), not when it was sent (10:00)
    assert _reports(objects) == [ex.report(v) for v in ("amber", "own", "forwarded", "seizure")]
    text = str(page)
    for left_out in ("red", "no_export", "french"):
        assert ex.report(left_out) not in text
    assert RED_FACTS not in text and FR_FACTS not in text and "Kept at home" not in text
    # a valid STIX 2.1 bundle once wrapped, each shared definition once, each object once
    stix.validate({"type": "bundle", "id": "bundle--" + taxii.MAILBOX_ID, "objects": objects})
    versions = Counter((o["id"], o.get("modified") or o["created"]) for o in objects)
    assert max(versions.values()) == 1
    # first the definitions the bundles carry, once: redlane's identity and extensions, the
    # markings of every level a message here can have
    definitions = [
        o for o in objects if o["type"].endswith("definition") or o.get("name") == "redlane"
    ]
    assert objects[: len(definitions)] == definitions
    markings = [o["id"] for o in definitions if o["type"] == "marking-definition"]
    levels = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT)
    assert markings == [stix.TLP_MARKING_IDS[t] for t in levels]
    assert [o["type"] for o in definitions].count("extension-definition") == 2
    # then everything else each message's own bundle holds, and nothing of another message
    amber = stix.export_bundle(_amber(_alert()), sender="CO-DIJIN", at=at(1),
                               message_id=ex.ids["amber"])  # fmt: skip
    own = [o for o in amber["objects"] if o not in definitions]
    assert objects[len(definitions) : len(definitions) + len(own)] == own

    manifest = ex.get("anna", MANIFEST, limit=1000).json()["objects"]
    added = {m["id"]: m["date_added"] for m in manifest}
    assert {added[o["id"]] for o in definitions} == {"1970-01-01T00:00:00.000000Z"}
    assert added[ex.report("forwarded")] == "2026-11-03T15:00:00.000000Z"
    assert added[ex.report("own")] == "2026-11-03T13:00:00.000000Z"
    assert [m["id"] for m in manifest] == [o["id"] for o in objects]
    assert {m["media_type"] for m in manifest} == {"application/stix+json;version=2.1"}

    # the French see their own two, never the Dutch message to the Colombians
    (theirs,) = ex.pull("marie", limit=1000)
    assert _reports(theirs["objects"]) == [ex.report("forwarded"), ex.report("french")]
    # left out before anything of them was read: not exported, so nothing audited
    for variant in ("red", "no_export"):
        assert not audit.entries(db, object_kind="message", object_id=ex.ids[variant],
                                 username="anna")  # fmt: skip


def test_pages_following_next_give_every_object_once(db: Database) -> None:
    ex = _exchange(db)
    (whole,) = ex.pull("anna", limit=1000)
    assert whole["more"] is False and "next" not in whole
    for limit in (1, 3, 7):
        pages = ex.pull("anna", limit=limit)
        assert len(pages) > 1
        assert _objects(pages) == whole["objects"], limit
        assert all(len(p.get("objects", [])) <= limit for p in pages)
        assert all(p["more"] and p["next"] for p in pages[:-1])
        assert "next" not in pages[-1]
    # the manifest pages the same way, and the date headers bound each page
    answers = [ex.get("anna", MANIFEST, limit=4)]
    while answers[-1].json()["more"]:
        answers.append(ex.get("anna", MANIFEST, limit=4, next=answers[-1].json()["next"]))
    listed = [m for a in answers for m in a.json().get("objects", [])]
    assert [m["id"] for m in listed] == [o["id"] for o in whole["objects"]]
    for answer in answers:
        if "objects" in answer.json():
            dates = [m["date_added"] for m in answer.json()["objects"]]
            assert answer.headers["x-taxii-date-added-first"] == dates[0]
            assert answer.headers["x-taxii-date-added-last"] == dates[-1]

    # a message arriving while a client pages is added at the end, not in what it has seen
    first = ex.get("anna", OBJECTS, limit=5).json()
    carlos = security.get_user(db, "carlos")
    late = mailbox.send(db, carlos, _message("Late", "Late news", Tlp.GREEN), ["NL-DOUANE"],
                        now=at(9), kek=ex.kek).id  # fmt: skip
    rest = ex.pull("anna", limit=5)  # from the start again, for comparison
    resumed = [first]
    while resumed[-1]["more"]:
        resumed.append(ex.get("anna", OBJECTS, limit=5, next=resumed[-1]["next"]).json())
    assert _objects(resumed) == _objects(rest)
    assert _reports(_objects(resumed))[-1] == stix.report_id(late)

    bad = ex.get("anna", OBJECTS, next="not-a-token")
    assert bad.status_code == 400 and "next" in bad.json()["description"]
    assert ex.get("anna", OBJECTS, limit=0).status_code == 400
    assert ex.get("anna", OBJECTS, limit="ten").status_code == 400


def test_added_after_is_when_a_message_reached_the_caller(db: Database) -> None:
    ex = _exchange(db)
    (after_own,) = ex.pull("anna", added_after="2026-11-03T13:00:00Z", limit=1000)
    assert _reports(after_own["objects"]) == [ex.report("forwarded"), ex.report("seizure")]
    # the definitions were there from the start: not added since
    assert all(not o["type"].endswith("definition") for o in after_own["objects"])
    assert all(
        m["date_added"] > "2026-11-03T13:00:00.000000Z"
        for m in ex.get("anna", MANIFEST, added_after="2026-11-03T13:00:00Z").json()["objects"]
    )
    # sent at 10:00 but forwarded at 15:00: a client that pulled at 14:00 gets it next time
    (after_two,) = ex.pull("anna", added_after="2026-11-03T14:00:00.000Z")
    assert _reports(after_two["objects"]) == [ex.report("forwarded"), ex.report("seizure")]
    assert ex.pull("anna", added_after="2026-11-03T16:00:00Z") == [{"more": False}]
    # an offset is a time too
    (same,) = ex.pull("anna", added_after="2026-11-03T14:00:00+01:00", limit=1000)
    assert same == after_own
    wrong = ex.get("anna", OBJECTS, added_after="yesterday")
    assert wrong.status_code == 400 and "added_after" in wrong.json()["description"]


def test_match_filters_and_one_object(db: Database) -> None:
    ex = _exchange(db)
    (reports,) = ex.pull("anna", **{"match[type]": "report"})
    assert [o["type"] for o in reports["objects"]] == ["report"] * 4
    (some,) = ex.pull("anna", **{"match[type]": "note,x-redlane-entity", "limit": 1000})
    assert Counter(o["type"] for o in some["objects"]) == {"note": 4, "x-redlane-entity": 8}

    # types no message holds: nothing is exported to look
    before = audit.chain_head(db)[0]
    assert ex.pull("anna", **{"match[type]": "indicator"}) == [{"more": False}]
    assert not _exports(db, before)

    # one report by id: only its message is exported
    before = audit.chain_head(db)[0]
    (one,) = ex.pull("anna", **{"match[id]": ex.report("seizure")})
    assert [o["id"] for o in one["objects"]] == [ex.report("seizure")]
    assert [e.object_id for e in _exports(db, before)] == [ex.ids["seizure"]]

    # TAXII's Get An Object and Get Object Versions
    got = ex.get("anna", OBJECTS + ex.report("amber") + "/")
    assert got.status_code == 200 and got.headers["content-type"] == taxii.TAXII_MEDIA_TYPE
    assert [o["id"] for o in got.json()["objects"]] == [ex.report("amber")]
    versions = ex.get("anna", OBJECTS + ex.report("amber") + "/versions/").json()
    assert versions == {"more": False, "versions": ["2026-11-03T09:00:00.000Z"]}
    # a subject several messages name is each message's own object, with one version
    vessel = next(o for o in some["objects"] if o.get("identifier") == "9876543")
    vessel_versions = ex.get("anna", OBJECTS + vessel["id"] + "/versions/").json()["versions"]
    assert vessel_versions == [vessel["modified"]]
    # a message the caller may not see has no object for them: as one that does not exist
    hidden = ex.get("anna", OBJECTS + ex.report("french") + "/")
    missing = ex.get("anna", OBJECTS + "report--" + taxii.MAILBOX_ID + "/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["description"].replace(ex.report("french"), "X") == missing.json()[
        "description"
    ].replace("report--" + taxii.MAILBOX_ID, "X")

    # versions: all (first and last are all: one version per object), or given timestamps
    (of_amber,) = ex.pull("anna", **{"match[version]": "2026-11-03T09:00:00.000Z"})
    assert _reports(of_amber["objects"]) == [ex.report("amber")]
    assert ex.pull("anna", **{"match[version]": "all", "limit": 1000}) == ex.pull(
        "anna", limit=1000
    )
    for one_version in ("first", "last"):
        assert ex.pull("anna", **{"match[version]": one_version, "limit": 1000}) == ex.pull(
            "anna", limit=1000
        )
    assert ex.pull("anna", **{"match[spec_version]": "2.0"}) == [{"more": False}]
    assert ex.get("anna", OBJECTS, **{"match[type]": "Report!"}).status_code == 400
    assert ex.get("anna", OBJECTS, **{"match[id]": "report-1"}).status_code == 400


def test_restricted_and_erased_messages_leave_the_collection(db: Database) -> None:
    ex = _exchange(db)
    # the Colombians erase their alert: it is gone from the Dutch collection
    carlos = security.get_user(db, "carlos")
    retention.review(db, carlos, ex.ids["forwarded"], "erase", "sent in error")
    (page,) = ex.pull("anna", limit=1000)
    assert _reports(page["objects"]) == [ex.report(v) for v in ("amber", "own", "seizure")]
    # a year on, the other alert is restricted, unreviewed: a supervisor still sees it in the
    # mailbox to check it, but it is passed on to no one, over TAXII neither
    retention.run(db, Service("retention"), now=at(1) + timedelta(days=400))
    sven = security.get_user(db, "sven")
    assert ex.ids["amber"] in {e.id for e in mailbox.inbox(db, sven, kek=ex.kek)}
    for name in ("anna", "sven"):
        (page,) = ex.pull(name, limit=1000)
        assert _reports(page["objects"]) == [ex.report(v) for v in ("own", "seizure")], name


# --- the audit log -----------------------------------------------------------------------------


def test_every_pull_is_audited_once_per_message_read(db: Database) -> None:
    ex = _exchange(db)
    before = audit.chain_head(db)[0]
    ex.client.get(OBJECTS, headers=ex.headers("anna", **{"X-Redlane-Purpose": "JCO-2026-07"}))
    entries = _exports(db, before)
    pulled = [ex.ids[v] for v in ("amber", "own", "forwarded", "seizure")]
    assert [e.object_id for e in entries] == pulled
    assert {(e.action, e.username, e.agency, e.purpose) for e in entries} == {
        ("export", "anna", "NL-DOUANE", "JCO-2026-07")
    }
    # a client that cannot send the header: the default purpose
    before = audit.chain_head(db)[0]
    ex.get("anna", MANIFEST)
    assert {e.purpose for e in _exports(db, before)} == {taxii.DEFAULT_PURPOSE}

    # page by page: a message is audited once per page that reads it, never twice in a page
    message_of = {stix.report_id(i): i for i in ex.ids.values()}
    token = None
    while True:
        before = audit.chain_head(db)[0]
        page = ex.get("anna", OBJECTS, limit=4, **({"next": token} if token else {})).json()
        read = [e.object_id for e in _exports(db, before)]
        assert len(read) == len(set(read)) <= 4
        served = {message_of[o["id"]] for o in page.get("objects", []) if o["id"] in message_of}
        assert served <= set(read)
        if not page["more"]:
            break
        token = page["next"]

    blank = ex.client.get(OBJECTS, headers=ex.headers("anna", **{"X-Redlane-Purpose": " "}))
    assert blank.status_code == 400 and "purpose" in blank.json()["description"]
