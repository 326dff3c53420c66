"""The operational store's tables (SQLAlchemy Core).

Secondary indexes are kept to the lookups officers make by identifier (document, movement,
vessel, travel document, party name); analysis and targeting read in bulk and need none.

Each record kind has one row per record: scalar, queryable columns, the nested parts as JSON text
(goods, equipment, itineraries, seizures) with flat search columns beside them (HS codes,
container numbers, first and last place). Parties are entities of their own, stored once per
distinct party (name, address, identifiers) and referenced from consignments by role, so that a
party's history is one join away. Every record carries its
provenance (file, message reference, sender, received at, ingest batch) and a content hash;
the hash is unique, so storing the same content twice is a no-op. Ids are sequential, so that
new rows append to the tables' B-trees instead of landing on random pages.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


#: Roles whose (first) party each consignment row names directly, for joins without JSON.
PARTY_ROLE_COLUMNS = (
    "consignor",
    "consignee",
    "notify_party",
    "freight_payer",
    "forwarder",
    "carrier",
    "declarant",
)

# SQLite makes only an INTEGER PRIMARY KEY the rowid (sequential, no separate index).
RowId = BigInteger().with_variant(Integer(), "sqlite")


def _provenance() -> list[Column[object]]:
    return [
        Column("content_hash", BigInteger, nullable=False, unique=True),
        Column("batch_id", Integer, ForeignKey("ingest_batches.id"), nullable=False),
        Column("source_file", Text),
        Column("message_ref", Text),
        Column("sender", Text),
        Column("received_at", DateTime(timezone=True)),
    ]


ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_file", Text, nullable=False),
    Column("format", String(32), nullable=False),
    Column("sender", Text),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("read", Integer, nullable=False, default=0),
    Column("stored", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("batch_id", Integer, ForeignKey("ingest_batches.id"), nullable=False),
    Column("source_file", Text, nullable=False),
    Column("locator", Text, nullable=False),
    Column("record_kind", String(32)),
    Column("field", Text),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("sender", Text),
    Column("status", String(16), nullable=False, default="open"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

consignments = Table(
    "consignments",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    *_provenance(),
    Column("mode", String(8), nullable=False),
    Column("document_kind", String(32), nullable=False),
    Column("document_number", Text, nullable=False),
    Column("document_number_valid", Boolean),
    Column("master_number", Text),
    Column("movement_ref", Text),
    Column("office", Text),
    Column("declared_at", DateTime(timezone=True), nullable=False),
    Column("arrival_date", Date, nullable=False),
    Column("place_of_loading", String(5), nullable=False),
    Column("place_of_discharge", String(5), nullable=False),
    Column("place_of_delivery", String(5)),
    Column("origin_country", String(2), nullable=False),
    Column("destination_country", String(2), nullable=False),
    Column("transshipment_places", Text, nullable=False),
    Column("transshipment_count", Integer, nullable=False),
    Column("routing_countries", Text, nullable=False),
    Column("freight", Text),
    Column("party_roles", Text, nullable=False),
    *[Column(f"{role}_key", BigInteger) for role in PARTY_ROLE_COLUMNS],
    Column("goods", Text, nullable=False),
    Column("hs_codes", Text, nullable=False),
    Column("goods_count", Integer, nullable=False),
    Column("total_packages", BigInteger, nullable=False),
    Column("total_gross_mass_kg", Float, nullable=False),
    Column("total_value", Float),
    Column("equipment", Text, nullable=False),
    Column("container_numbers", Text, nullable=False),
    Column("container_count", Integer, nullable=False),
    Column("containers_valid", Boolean),
    Column("reefer", Boolean, nullable=False),
    Index(None, "document_number"),
    Index(None, "movement_ref"),
)

parties = Table(
    "parties",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("street", Text),
    Column("city", Text),
    Column("postcode", Text),
    Column("country", String(2)),
    Column("eori", Text),
    Column("vat", Text),
    Column("phone", Text),
    Column("email", Text),
    Index(None, "name"),
    sqlite_with_rowid=False,
)

movements = Table(
    "movements",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    *_provenance(),
    Column("ref", Text, nullable=False),
    Column("conveyance_kind", String(16), nullable=False),
    Column("conveyance", Text, nullable=False),
    Column("name", Text),
    Column("flag", String(2)),
    Column("imo", Text),
    Column("imo_valid", Boolean),
    Column("mmsi", Text),
    Column("mmsi_valid", Boolean),
    Column("registration", Text),
    Column("flight_number", Text),
    Column("acquired_on", Date),
    Column("persons_on_board", Integer),
    Column("itinerary", Text, nullable=False),
    Column("call_count", Integer, nullable=False),
    Column("departure_place", String(5), nullable=False),
    Column("departed_at", DateTime(timezone=True)),
    Column("arrival_place", String(5), nullable=False),
    Column("arrives_at", DateTime(timezone=True)),
    Index(None, "ref"),
    Index(None, "imo"),
    Index(None, "arrival_place", "arrives_at"),
)

travellers = Table(
    "travellers",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    *_provenance(),
    Column("movement_ref", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("surname", Text, nullable=False),
    Column("given_names", Text, nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("sex", String(1)),
    Column("nationality", String(2), nullable=False),
    Column("document", Text, nullable=False),
    Column("document_number", Text, nullable=False),
    Column("document_country", String(2), nullable=False),
    Column("mrz_valid", Boolean),
    Column("itinerary", Text, nullable=False),
    Column("leg_count", Integer, nullable=False),
    Column("origin", String(5), nullable=False),
    Column("destination", String(5), nullable=False),
    Column("departs_at", DateTime(timezone=True), nullable=False),
    Column("booking", Text),
    Column("booking_locator", Text),
    Column("booked_at", DateTime(timezone=True)),
    Column("payment_form", String(16)),
    Column("one_way", Boolean),
    Column("checked_bags", Integer),
    Column("phone", Text),
    Column("email", Text),
    Index(None, "movement_ref"),
    Index(None, "document_number"),
    Index(None, "surname", "date_of_birth"),
)

control_results = Table(
    "control_results",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    *_provenance(),
    Column("target_kind", String(16), nullable=False),
    Column("target_ref", Text, nullable=False),
    Column("office", Text, nullable=False),
    Column("controlled_on", Date, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("seizures", Text, nullable=False),
    Column("total_seized_kg", Float, nullable=False),
    Column("notes", Text),
    Index(None, "target_kind", "target_ref"),
)

container_events = Table(
    "container_events",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    *_provenance(),
    Column("event", String(16), nullable=False),
    Column("container", Text, nullable=False),
    Column("container_valid", Boolean),
    Column("size_type", String(4)),
    Column("full", Boolean),
    Column("seals", Text, nullable=False),
    Column("vessel", Text),
    Column("voyage", Text),
    Column("place", String(5)),
    Column("port_of_loading", String(5)),
    Column("port_of_discharge", String(5)),
    Column("stowage", Text),
    Column("at", DateTime(timezone=True)),
    Column("gross_mass_kg", Float),
    Column("operator", Text),
    Index(None, "container"),
)

vessel_events = Table(
    "vessel_events",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    *_provenance(),
    Column("kind", String(16), nullable=False),
    Column("mmsi", String(9), nullable=False),
    Column("imo", String(7)),
    Column("name", Text),
    Column("start", DateTime(timezone=True), nullable=False),
    Column("end", DateTime(timezone=True), nullable=False),
    Column("hours", Float, nullable=False),
    Column("place", String(5)),
    Column("lat", Float),
    Column("lon", Float),
    Column("other_mmsi", String(9)),
    Index(None, "mmsi", "start"),
    Index(None, "imo"),
)

risk_profiles = Table(
    "risk_profiles",
    metadata,
    Column("profile_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("approved_by", Text),
    Column("content_hash", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

targeting_runs = Table(
    "targeting_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("window", Text, nullable=False),
    # JSON: [profile id, version] of every profile the run applied
    Column("profiles", Text, nullable=False),
    Column("settings", Text, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("targets", Integer, nullable=False),
    Column("selected", Integer, nullable=False),
)

selections = Table(
    "selections",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("targeting_runs.id"), nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("target_id", BigInteger, nullable=False),
    Column("target_ref", Text, nullable=False),
    Column("office", Text, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("day", Date, nullable=False),
    Column("lane", String(8), nullable=False),
    Column("method", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("score", Integer, nullable=False),
    Column("suggested_action", String(32)),
    # JSON: the hits (profile, version, weight, lane, rationale), strongest first
    Column("reasons", Text, nullable=False),
    Index(None, "target_kind", "target_ref"),
    Index(None, "day", "office"),
)

RECORD_TABLES: dict[str, Table] = {
    "consignment": consignments,
    "traveller": travellers,
    "movement": movements,
    "control_result": control_results,
    "container_event": container_events,
    "vessel_event": vessel_events,
}

# --- security: who, and the audit log ----------------------------------------------------

agencies = Table(
    "agencies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("country", String(2), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    # argon2id, in its PHC string form (parameters and salt included)
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
)

user_roles = Table(
    "user_roles",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("role", String(32), primary_key=True),
)

desks = Table(
    "desks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("place", String(5)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

desk_members = Table(
    "desk_members",
    metadata,
    Column("desk_id", Integer, ForeignKey("desks.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", Text, nullable=False),
    # SHA-256 of the token: the token itself is shown once and never stored
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("source", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("success", Boolean, nullable=False),
    Index(None, "username", "at"),
    Index(None, "source", "at"),
)

#: Append-only and hash-chained: `hash` is SHA-256 over the canonical serialisation of the
#: entry's fields and `prev_hash`; the sequence number is assigned under a write lock.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("username", Text, nullable=False),
    Column("agency", Text),
    Column("action", String(32), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("object_kind", String(32), nullable=False),
    Column("object_id", Text, nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index(None, "object_kind", "object_id"),
    Index(None, "username", "at"),
)

#: Chain heads signed with the node's Ed25519 key, kept beside the chain (and exported).
audit_heads = Table(
    "audit_heads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    Column("public_key", Text, nullable=False),
    Column("signature", Text, nullable=False),
)

# --- exchange into targeting: watchlist entries and sighting drafts ------------------------

#: One row per subject entity (and identifying key) of an active CIS alert or mode notice;
#: targeting compares stored targets against (entity_kind, scheme, key) on the target's day.
#: Ending an entry early moves `valid_until` back, so back-tests over earlier days still see it.
watchlist = Table(
    "watchlist",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Text, nullable=False),
    Column("sender_agency", Text, nullable=False),
    # CIS for an alert, else the notice's mode (MAR, YACHT, AIR, CARGO, BALKAN)
    Column("mode", String(8), nullable=False),
    Column("entity_kind", String(16), nullable=False),
    Column("scheme", String(16), nullable=False),
    Column("key", Text, nullable=False),
    Column("date_of_birth", Date),
    # JSON: the entity as the message gave it
    Column("entity", Text, nullable=False),
    Column("suggested_action", String(32), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    # JSON: the message's grading and handling, which a sighting reply carries over
    Column("grading", Text, nullable=False),
    Column("handling", Text, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("expired_at", DateTime(timezone=True)),
    Column("expired_reason", Text),
    UniqueConstraint("message_id", "entity_kind", "scheme", "key"),
    Index(None, "entity_kind", "key"),
    Index(None, "valid_until"),
)

#: Sighting replies drafted from targeting hits, waiting for an officer to send them.
sighting_drafts = Table(
    "sighting_drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Text, nullable=False),
    Column("addressee", Text, nullable=False),
    Column("run_id", Integer, ForeignKey("targeting_runs.id"), nullable=False),
    # JSON: the SIGHTING Message, in reply to message_id
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("sent_message_id", Text),
    Index(None, "status"),
)

#: Which targets each draft reports: a target is reported once per message, however many
#: runs select it again.
sighting_targets = Table(
    "sighting_targets",
    metadata,
    Column("message_id", Text, primary_key=True),
    Column("target_kind", String(16), primary_key=True),
    Column("target_id", BigInteger, primary_key=True, autoincrement=False),
    Column("draft_id", Integer, ForeignKey("sighting_drafts.id"), nullable=False),
    Column("selection_id", BigInteger, nullable=False),
)

# --- exchange: the secure mailbox ------------------------------------------------------------
#
# A message's searchable columns hold only what listing, search and need-to-know need; what it
# says (subject, facts, assessment, entities, parts) is sealed in `subject` and `body` with the
# message's own data key, itself sealed by the node's key encryption key in `message_keys`.
# Addresses are "a<agency id>" (every user of the agency) or "d<desk id>" (the desk's members).

messages = Table(
    "messages",
    metadata,
    # time-ordered (48-bit milliseconds) then 80 random bits: appends to the B-tree, not guessable
    Column("id", String(32), primary_key=True),
    Column("kind", String(24), nullable=False),
    Column("sender_agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("sender_desk_id", Integer, ForeignKey("desks.id")),
    Column("author", String(64), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("thread_id", String(32), nullable=False),
    Column("in_reply_to", String(32)),
    Column("operation", String(64)),
    Column("grading", String(3), nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("no_forward", Boolean, nullable=False),
    Column("no_court_use", Boolean, nullable=False),
    Column("no_export", Boolean, nullable=False),
    Column("urgency", String(16)),
    Column("due_at", DateTime(timezone=True)),
    Column("valid_until", Date),
    Column("notice_mode", String(8)),
    Column("next_place", String(5)),
    Column("subject", LargeBinary, nullable=False),
    Column("body", LargeBinary, nullable=False),
    # Ed25519 by the sending node over the envelope and the body's digest (exchange.signing)
    Column("signature", String(88)),
    Column("signed_by", String(64)),
    Index(None, "sender_agency_id", "sent_at"),
    Index(None, "thread_id", "sent_at"),
    Index(None, "in_reply_to"),
)

#: The wrapped data key of each message: deleting the row erases the message for good.
message_keys = Table(
    "message_keys",
    metadata,
    Column("message_id", String(32), ForeignKey("messages.id"), primary_key=True),
    Column("kek_id", String(16), nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: Subject entities for search: kind and normalised identifier, personal ones as keyed hashes.
message_entities = Table(
    "message_entities",
    metadata,
    Column("message_id", String(32), ForeignKey("messages.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("key", String(128), primary_key=True),
    Index(None, "kind", "key", "message_id"),
)

forwards = Table(
    "forwards",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(32), ForeignKey("messages.id"), nullable=False),
    Column("by_user", String(64), nullable=False),
    Column("by_agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("to_address", String(16), nullable=False),
    Column("to_agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("allowed", Boolean, nullable=False),
    # the rule that allowed or refused it (e.g. "tlp:green", "no_forward")
    Column("rule", String(32), nullable=False),
    Column("purpose", Text, nullable=False),
    Index(None, "message_id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("message_id", String(32), ForeignKey("messages.id"), primary_key=True),
    Column("address", String(16), primary_key=True),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("desk_id", Integer, ForeignKey("desks.id")),
    Column("delivered_at", DateTime(timezone=True), nullable=False),
    Column("forward_id", Integer, ForeignKey("forwards.id")),
    # the inbox: an address's deliveries newest first, without touching the table
    Index(None, "address", "delivered_at", "message_id"),
)

#: Per user: opened (first read), actioned (replied to or marked done). Delivery is per address.
receipts = Table(
    "receipts",
    metadata,
    Column("message_id", String(32), ForeignKey("messages.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("kind", String(12), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("signature", String(88)),
    Column("signed_by", String(64)),
)

#: The public keys that signed messages and receipts here, by SHA-256 of the raw key; each is
#: registered with an audit entry, so a key slipped in behind the log's back shows.
node_keys = Table(
    "node_keys",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("public_key", String(44), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

#: Which addresses serve a place: mode notices for a conveyance next at `place` go to them.
routes = Table(
    "routes",
    metadata,
    Column("place", String(5), primary_key=True),
    Column("address", String(16), primary_key=True),
)

#: Attachments: each sealed with its own data key (wrapped by the node's key encryption key,
#: like a message's), its file name sealed too; deleted with the message's key at erasure.
message_attachments = Table(
    "message_attachments",
    metadata,
    Column("message_id", String(32), ForeignKey("messages.id"), primary_key=True),
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("media_type", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("kek_id", String(16), nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("name", LargeBinary, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", String(64), nullable=False),
)

# --- exchange: retention -----------------------------------------------------------------------
#
# Every alert and every message naming a person has a review date (CIS: at least yearly). A
# month before it the owner (the sending agency, or its desk) gets a notice; without a decision
# by then the message is restricted (only supervisors see it) and a year later erased (its keys
# destroyed). The query layer of the mailbox hides restricted messages.

retention = Table(
    "retention",
    metadata,
    Column("message_id", String(32), ForeignKey("messages.id"), primary_key=True),
    Column("review_due", DateTime(timezone=True), nullable=False),
    Column("noticed_at", DateTime(timezone=True)),
    Column("restricted_at", DateTime(timezone=True)),
    Column("erased_at", DateTime(timezone=True)),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("reviewed_by", String(64)),
    Index(None, "review_due"),
    # Few messages are ever restricted; every listing asks "is this one?" of each row it
    # returns, which without this index is a scan of the whole table per listing.
    Index(
        "ix_retention_restricted",
        "message_id",
        postgresql_where=text("restricted_at IS NOT NULL"),
        sqlite_where=text("restricted_at IS NOT NULL"),
    ),
)

#: Review notices to a message's owner: the sending agency (and its desk, when a desk sent it).
retention_notices = Table(
    "retention_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(32), ForeignKey("messages.id"), nullable=False),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("desk_id", Integer, ForeignKey("desks.id")),
    Column("review_due", DateTime(timezone=True), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index(None, "agency_id", "at"),
)

# --- exchange: hit/no-hit queries (Prüm-style) ---------------------------------------------
#
# An agency asks whether anyone holds something on an entity; the answer is hit/no-hit and the
# holding agencies only. Each holder gets a hit to decide on: release (the matching messages
# are forwarded to the asker) or decline. The query keeps the entity's indexed key, never a
# person's clear name (see mailbox.entity_key).

hit_queries = Table(
    "hit_queries",
    metadata,
    # time-ordered then random, as message ids: not guessable
    Column("id", String(32), primary_key=True),
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Column("asked_by", String(64), nullable=False),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("entity_kind", String(16), nullable=False),
    Column("entity_key", String(128), nullable=False),
    Column("purpose", Text, nullable=False),
    Index(None, "agency_id", "asked_at"),
)

#: One per (query, holding agency): pending until the holder releases or declines it.
hits = Table(
    "hits",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("query_id", String(32), ForeignKey("hit_queries.id"), nullable=False),
    Column("holder_agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(64)),
    # the release's purpose or the decline's reason
    Column("note", Text),
    UniqueConstraint("query_id", "holder_agency_id"),
    Index(None, "holder_agency_id", "state"),
)

#: The holder's messages behind a hit, and what became of each at release.
hit_messages = Table(
    "hit_messages",
    metadata,
    Column("hit_id", String(32), ForeignKey("hits.id"), primary_key=True),
    Column("message_id", String(32), ForeignKey("messages.id"), primary_key=True),
    # "forwarded", or the rule that refused it (e.g. "restricted", "erased")
    Column("outcome", String(32)),
)
